"""UK time: the Europe/London zone, injectable clocks and how a moment reads to a worker."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

# zoneinfo falls back to the pinned `tzdata` package where the machine has no system tz data.
LONDON = ZoneInfo("Europe/London")

# Spelt out here so the wording never depends on the machine's locale.
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class Clock(Protocol):
    """Tells the current moment; the rules take it as a parameter instead of reading it."""

    def now(self) -> datetime:
        """Returns the current moment, timezone-aware."""
        ...


class SystemClock:
    """Reads the machine's clock, in UTC."""

    def now(self) -> datetime:
        """Returns the current moment in UTC."""
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """Stands still at one moment until moved: for tests and replays."""

    moment: datetime

    def __post_init__(self) -> None:
        _require_aware(self.moment)

    def now(self) -> datetime:
        """Returns the moment the clock was set to."""
        return self.moment


def to_london(moment: datetime) -> datetime:
    """Shows an aware moment as UK wall-clock time (GMT or BST, whichever was in force)."""
    _require_aware(moment)
    return moment.astimezone(LONDON)


def london_today(now: datetime) -> date:
    """Says which calendar day it is in the UK at that moment."""
    return to_london(now).date()


def format_london(moment: datetime) -> str:
    """Writes a moment as a worker reads it: "Thursday 26 November 2026, 14:30" (UK time)."""
    local = to_london(moment)
    weekday = WEEKDAYS[local.weekday()]
    month = MONTHS[local.month - 1]
    return f"{weekday} {local.day} {month} {local.year}, {local.hour:02d}:{local.minute:02d}"


def _require_aware(moment: datetime) -> None:
    # A naive datetime could be UTC or UK time; guessing would move a session by an hour in summer.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("expected a timezone-aware datetime")
