"""The command table: what a worker can type, matched exactly after normalising."""

import re
from dataclasses import dataclass

PERSONAL = "personal"
TEAM = "team"


@dataclass(frozen=True)
class Command:
    """One typed command, as the manifest lists it."""

    name: str
    description: str
    scopes: frozenset[str]
    aliases: tuple[str, ...] = ()


COMMANDS: tuple[Command, ...] = (
    Command(
        name="help",
        description="What SafeSession does and the commands you can use",
        scopes=frozenset({PERSONAL, TEAM}),
        aliases=("hi", "hello", "menu", "?"),
    ),
    Command(
        name="cancel",
        description="Stop what you are doing; nothing you have already given is lost",
        scopes=frozenset({PERSONAL}),
        aliases=("stop", "quit"),
    ),
)

_PUNCTUATION = re.compile(r"[\s.!?,;:]+$")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower-cases, folds white space and drops trailing punctuation, so 'Help!' reads as 'help'."""
    folded = _SPACES.sub(" ", text.strip().lower())
    return folded if folded == "?" else _PUNCTUATION.sub("", folded)


def build_table(commands: tuple[Command, ...] = COMMANDS) -> dict[str, Command]:
    """Maps every name and alias to its command, refusing a word claimed twice."""
    table: dict[str, Command] = {}
    for command in commands:
        for word in (command.name, *command.aliases):
            if word in table:
                raise ValueError(f"command word {word!r} is claimed twice")
            table[word] = command
    return table


def match(text: str, table: dict[str, Command]) -> Command | None:
    """Finds the command the whole text names, or None; never matches on part of a sentence."""
    return table.get(normalise(text))
