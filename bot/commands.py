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
    # Teams shows at most 12 commands a scope; words that work anyway (cancel) stay off the menu.
    in_menu: bool = True


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
        name="plan session",
        description="Plan a session: when and how, consent, contacts and the pre-session message",
        scopes=frozenset({PERSONAL}),
    ),
    Command(
        name="start session",
        description="Start today's session: your checks, identity, who's there and the safe word",
        scopes=frozenset({PERSONAL}),
    ),
    Command(
        name="where was i",
        description="Pick up where you left off",
        scopes=frozenset({PERSONAL}),
        aliases=("where were we", "resume", "continue"),
    ),
    Command(
        name="my line manager",
        description="Tell me who your line manager is and their number, for emergencies",
        scopes=frozenset({PERSONAL}),
    ),
    Command(
        name="my details",
        description="Change the work mobile and name I give families in pre-session messages",
        scopes=frozenset({PERSONAL}),
    ),
    Command(
        name="my settings",
        description="Your working days and hours, weekly check-in and reminders",
        scopes=frozenset({PERSONAL}),
        aliases=("settings",),
    ),
    Command(
        name="self-care",
        description="Tips for looking after yourself, and snoozing or switching off reminders",
        scopes=frozenset({PERSONAL}),
        aliases=("self care", "selfcare"),
    ),
    Command(
        name="notes copied",
        description="Confirm an ended session's notes are in the case file, so it can be deleted",
        scopes=frozenset({PERSONAL}),
    ),
    Command(
        name="emergency",
        description="Alert the manager channel at once; call 999 first if anyone is in danger",
        scopes=frozenset({PERSONAL}),
        aliases=("sos",),
    ),
    Command(
        name="set manager channel",
        description="Admins: send emergency alerts to this team channel",
        scopes=frozenset({TEAM}),
    ),
    Command(
        name="manager channel",
        description="Show which channel gets emergency alerts",
        scopes=frozenset({PERSONAL, TEAM}),
    ),
    Command(
        name="cancel",
        description="Stop what you are doing; nothing you have already given is lost",
        scopes=frozenset({PERSONAL}),
        in_menu=False,
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
