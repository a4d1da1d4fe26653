"""Re-seals every stored record under a new data key; safe to stop and run again.

    python -m storage.rotate_key --new-key      prints a fresh key for SAFESESSION_DATA_KEY
    python -m storage.rotate_key [--yes]        re-seals under SAFESESSION_DATA_KEY, opening
                                                older data with SAFESESSION_PREVIOUS_DATA_KEY

Run it with the bot stopped (the embedded store allows one process). Each record is rewritten
on its own, so an interrupted rotation resumes where it stopped; until it has finished, keep
both keys set so the bot can read records under either.
"""

import argparse
import asyncio
import os
import sys
from collections.abc import Mapping
from typing import TextIO

from bot.settings import load_environment
from storage.admin import AdminError, open_store
from storage.encryption import (
    SEALED_COLLECTIONS,
    Keyring,
    has_clear_values,
    open_document,
    seal_document,
)


async def rotate(environ: Mapping[str, str], *, out: TextIO = sys.stdout) -> dict[str, int]:
    """Re-seals what is not yet under the current key; returns how many records per collection."""
    opened = await open_store(environ)
    keyring, documents = opened.keyring, opened.raw
    rewritten: dict[str, int] = {}
    try:
        for collection in SEALED_COLLECTIONS:
            found = await documents.find(collection=collection)
            count = 0
            for document in found:
                current = keyring.sealed_with(document) <= {keyring.current_id}
                if current and not has_clear_values(document):
                    continue
                resealed = seal_document(open_document(document, keyring), keyring)
                await documents.put(collection=collection, key=document["key"], document=resealed)
                count += 1
            rewritten[collection] = count
            print(f"{collection}: {count} of {len(found)} re-sealed", file=out)
    finally:
        await opened.stores.aclose()
    return rewritten


def main(argv: list[str], environ: Mapping[str, str]) -> int:
    """Runs the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m storage.rotate_key", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--new-key", action="store_true", help="print a fresh key and stop")
    parser.add_argument("--yes", action="store_true", help="don't ask for confirmation")
    arguments = parser.parse_args(argv)
    if arguments.new_key:
        print(Keyring.generate())
        return 0
    if not arguments.yes:
        answer = input("Re-seal every record under the new key? Stop the bot first. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing changed.")
            return 1
    try:
        asyncio.run(rotate(environ))
    except AdminError as error:
        print(f"rotate_key: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], load_environment(dict(os.environ))))
