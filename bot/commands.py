"""The command table: what a worker can type, matched exactly after normalising."""

from dataclasses import dataclass

from safeguarding.words import normalise

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
        name="new service user",
        description="Set up a service user: identity, consent, platforms and risk assessment",
        scopes=frozenset({PERSONAL}),
    ),
    Command(
        name="where was i",
        description="Pick up where you left off",
        scopes=frozenset({PERSONAL}),
        aliases=("where were we", "resume", "continue"),
    ),
    Command(
        name="cancel",
        description="Stop what you are doing; nothing you have already given is lost",
        scopes=frozenset({PERSONAL}),
        aliases=("stop", "quit"),
    ),
)


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
