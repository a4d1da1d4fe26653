"""A worker's working days and hours in UK time, and the moments that follow from them (E1).

Every rule works on aware instants and turns them into Europe/London wall-clock time only to
compare with the pattern, so 09:00 is 09:00 on the worker's clock on both sides of a clock
change. A working day is one window [start, end) on one UK calendar day; windows never cross
midnight. A start or end that falls in the hour lost in spring is read as the same wall-clock
reading an hour on (zoneinfo's `fold=0`), and a day whose window vanishes in that gap has no
working time at all.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from safeguarding.clock import LONDON, WEEKDAYS, to_london

# The stored form of a weekday: what the settings card and the profile use.
DAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAYS_ONLY = frozenset(range(5))
# Far enough to find the next working window of any pattern with at least one working day.
SEARCH_DAYS = 9


@dataclass(frozen=True)
class WorkPattern:
    """Which weekdays (0 = Monday) a worker works, and from when until when, UK time."""

    days: frozenset[int] = field(default=WEEKDAYS_ONLY)
    start: time = time(9, 0)
    end: time = time(17, 0)

    def __post_init__(self) -> None:
        if not self.days or not self.days <= frozenset(range(7)):
            raise ValueError("a work pattern needs at least one weekday, 0 (Monday) to 6")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("working hours are UK wall-clock times, without a timezone")
        if not self.start < self.end:
            raise ValueError("the working day must end after it starts, on the same day")


DEFAULT_PATTERN = WorkPattern()


def window(pattern: WorkPattern, day: date) -> tuple[datetime, datetime] | None:
    """The working window on one UK calendar day, as UTC instants; None on a day off."""
    if day.weekday() not in pattern.days:
        return None
    start = datetime.combine(day, pattern.start, tzinfo=LONDON).astimezone(UTC)
    end = datetime.combine(day, pattern.end, tzinfo=LONDON).astimezone(UTC)
    return (start, end) if start < end else None


def is_working_time(pattern: WorkPattern, moment: datetime) -> bool:
    """Says whether the moment falls inside one of the worker's working windows."""
    found = window(pattern, to_london(moment).date())
    return found is not None and found[0] <= moment < found[1]


def next_working_start(pattern: WorkPattern, moment: datetime) -> datetime:
    """The moment itself when it is working time, else the start of the next working window."""
    if is_working_time(pattern, moment):
        return moment
    for start, _end in _windows_from(pattern, to_london(moment).date()):
        if start > moment:
            return start
    raise ValueError("the pattern has no working time")  # unreachable: days is never empty


def working_day_end(pattern: WorkPattern, moment: datetime) -> datetime | None:
    """When the working window the moment is in ends; None outside working time."""
    found = window(pattern, to_london(moment).date())
    if found is None or not found[0] <= moment < found[1]:
        return None
    return found[1]


def next_sign_off(pattern: WorkPattern, after: datetime, *, minutes_before: float) -> datetime:
    """The first end-of-day reminder after the moment: minutes_before the end of a working day.

    It is never earlier than that day's start, so a very short day gets it at its start.
    """
    for start, end in _windows_from(pattern, to_london(after).date()):
        due = max(start, end - timedelta(minutes=minutes_before))
        if due > after:
            return due
    raise ValueError("the pattern has no working time")  # unreachable


def next_weekly(weekday: int, at: time, after: datetime) -> datetime:
    """The first moment after `after` that reads `at` on that weekday on a UK clock."""
    today = to_london(after).date()
    for offset in range(SEARCH_DAYS):
        day = today + timedelta(days=offset)
        if day.weekday() != weekday:
            continue
        moment = datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)
        if moment > after:
            return moment
    raise ValueError("weekday must be 0 (Monday) to 6")


def iso_week(moment: datetime) -> str:
    """The UK week a moment falls in, as "2026-W48"."""
    year, week, _ = to_london(moment).isocalendar()
    return f"{year}-W{week:02d}"


def local_day(moment: datetime) -> str:
    """The UK calendar day a moment falls in, as "2026-11-26"."""
    return to_london(moment).date().isoformat()


def day_codes(days: Sequence[str]) -> frozenset[int]:
    """Turns stored day codes ("mon", "tue", ...) into weekday numbers, ignoring unknown ones."""
    return frozenset(DAY_CODES.index(code) for code in days if code in DAY_CODES)


def describe(pattern: WorkPattern) -> str:
    """Says the pattern as a worker reads it: "Monday to Friday, 09:00 to 17:00"."""
    return f"{describe_days(pattern.days)}, {pattern.start:%H:%M} to {pattern.end:%H:%M}"


def describe_days(days: frozenset[int]) -> str:
    """Names the days: "Monday to Friday", "every day", "Monday, Wednesday and Friday"."""
    ordered = sorted(days)
    if len(ordered) == 7:
        return "every day"
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{WEEKDAYS[ordered[0]]} to {WEEKDAYS[ordered[-1]]}"
    names = [WEEKDAYS[day] for day in ordered]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _windows_from(pattern: WorkPattern, first: date) -> Iterator[tuple[datetime, datetime]]:
    for offset in range(SEARCH_DAYS):
        found = window(pattern, first + timedelta(days=offset))
        if found is not None:
            yield found
