"""Opens a store folder and holds it until its stdin closes: the other process in the lock tests."""

import sys

from storage import open_embedded


def main(folder: str) -> None:
    """Says "held" once the store is open, then waits for stdin to close."""
    with open_embedded(folder):
        print("held", flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main(sys.argv[1])
