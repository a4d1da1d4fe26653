"""How typed words are compared: whole messages, lower-cased, spaces folded, end punctuation off."""

import re

_PUNCTUATION = re.compile(r"[\s.!?,;:]+$")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower-cases, folds white space and drops trailing punctuation, so 'Help!' reads as 'help'."""
    folded = _SPACES.sub(" ", text.strip().lower()).replace("’", "'")
    return folded if folded == "?" else _PUNCTUATION.sub("", folded)
