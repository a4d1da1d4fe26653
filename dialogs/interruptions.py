"""The words that work at every step of every journey, matched exactly after normalising."""

from enum import Enum

from safeguarding.words import normalise


class Interruption(Enum):
    """A global word: what the worker wants instead of answering."""

    CANCEL = "cancel"
    HELP = "help"
    BACK = "back"
    RESUME = "where was i"
    EMERGENCY = "emergency"


WORDS: dict[str, Interruption] = {
    "cancel": Interruption.CANCEL,
    "quit": Interruption.CANCEL,
    "help": Interruption.HELP,
    "?": Interruption.HELP,
    "back": Interruption.BACK,
    "go back": Interruption.BACK,
    "where was i": Interruption.RESUME,
    "where were we": Interruption.RESUME,
    "emergency": Interruption.EMERGENCY,
}


def interruption(text: str | None) -> Interruption | None:
    """Says which global word the whole message is, if any; never matches part of an answer."""
    return None if text is None else WORDS.get(normalise(text))
