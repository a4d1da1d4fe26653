"""Looking after the worker (E1-E4, D2): which reminders there are, when one may be sent, when a
break is due, when planned sessions sit too close together, and the settings journey.

Pure rules: they take the moment, the worker's profile and their sessions as values.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Literal

from safeguarding.clock import WEEKDAYS, to_london
from safeguarding.journey import (
    Answer,
    Choice,
    Facts,
    Journey,
    Question,
    answer_of,
    as_text,
    choice_reader,
    choose,
)
from safeguarding.records import WORKERS
from safeguarding.validation import InvalidAnswer, parse_time
from safeguarding.words import normalise
from safeguarding.working_hours import (
    DAY_CODES,
    DEFAULT_PATTERN,
    WorkPattern,
    day_codes,
    iso_week,
    local_day,
    next_working_start,
)

# The reminders a worker can snooze or switch off, in the order the cards show them.
SIGN_OFF = "sign_off"
WEEKLY_CHECK_IN = "weekly_check_in"
SCREEN_BREAK = "screen_break"
SPACE_BETWEEN = "space_between"
OUT_OF_HOURS = "out_of_hours"
# Not a reminder the worker switches off: the offer of a debrief after a hard session (D2).
AFTERCARE = "aftercare"

REMINDERS = (
    Choice(SIGN_OFF, "End-of-day sign-off"),
    Choice(WEEKLY_CHECK_IN, "Weekly check-in"),
    Choice(SCREEN_BREAK, "Screen breaks"),
    Choice(SPACE_BETWEEN, "Space between contacts"),
    Choice(OUT_OF_HOURS, "Out-of-hours reminder"),
)
REMINDER_TITLES = {choice.value: choice.title for choice in REMINDERS}
NO_REMINDERS = Choice("none", "None, thanks")
DAYS = tuple(Choice(code, name) for code, name in zip(DAY_CODES, WEEKDAYS, strict=True))

# How long after it fell due a held reminder is still worth sending. A sign-off is about the
# end of that day; a break about right now; a weekly check-in still helps early the next week;
# a debrief offer after an emergency still helps the next working morning.
STALE_AFTER: Mapping[str, timedelta] = {
    SIGN_OFF: timedelta(hours=1),
    WEEKLY_CHECK_IN: timedelta(hours=72),
    SCREEN_BREAK: timedelta(minutes=30),
    AFTERCARE: timedelta(hours=24),
}
DEFAULT_STALE_AFTER = timedelta(hours=24)

DEFAULT_CHECK_IN_DAY = 4  # Friday
DEFAULT_CHECK_IN_TIME = time(14, 0)
# A snoozed weekly check-in comes back this much later (or at the next working time).
CHECK_IN_SNOOZE = timedelta(hours=1)
# How long after an emergency raised from a session the debrief offer comes.
AFTER_EMERGENCY = timedelta(hours=1)


@dataclass(frozen=True)
class SelfCarePolicy:
    """The service's thresholds: when a break is due, how much space contacts need."""

    break_after_sessions: int = 3
    break_after_minutes: float = 120.0
    # A gap this long between contacts counts as a break; planned sessions need at least this.
    space_between_minutes: float = 15.0
    # Plans have a start but no end: each planned session is taken to last this long.
    session_minutes: float = 60.0
    # The end-of-day sign-off comes this long before the working day ends.
    sign_off_minutes: float = 15.0


# ---------------------------------------------------------------------------------------------
# The worker's preferences, read from their profile (defaults when nothing is saved)


def work_pattern(profile: Mapping[str, Any]) -> WorkPattern:
    """The worker's working days and hours; the default (Mon-Fri 09:00-17:00) if unset or odd."""
    days = answer_of(profile, "working_days")
    start = answer_of(profile, "working_start")
    end = answer_of(profile, "working_end")
    try:
        return WorkPattern(
            days=day_codes(days) if isinstance(days, list) else DEFAULT_PATTERN.days,
            start=time.fromisoformat(start) if isinstance(start, str) else DEFAULT_PATTERN.start,
            end=time.fromisoformat(end) if isinstance(end, str) else DEFAULT_PATTERN.end,
        )
    except ValueError:
        return DEFAULT_PATTERN


def reminders_on(profile: Mapping[str, Any]) -> frozenset[str]:
    """The reminders the worker wants (all of them until they say otherwise)."""
    chosen = answer_of(profile, "reminders")
    if not isinstance(chosen, list):
        return frozenset(REMINDER_TITLES)
    return frozenset(kind for kind in chosen if kind in REMINDER_TITLES)


def check_in_at(profile: Mapping[str, Any]) -> tuple[int, time]:
    """The weekday (0 = Monday) and UK time of the worker's weekly check-in nudge."""
    day = answer_of(profile, "check_in_day")
    at = answer_of(profile, "check_in_time")
    weekday = DAY_CODES.index(day) if day in DAY_CODES else DEFAULT_CHECK_IN_DAY
    try:
        return weekday, time.fromisoformat(at) if isinstance(at, str) else DEFAULT_CHECK_IN_TIME
    except ValueError:
        return weekday, DEFAULT_CHECK_IN_TIME


def wanted(kind: str, profile: Mapping[str, Any]) -> bool:
    """Says whether the worker still wants this kind of reminder (aftercare always)."""
    return kind not in REMINDER_TITLES or kind in reminders_on(profile)


# ---------------------------------------------------------------------------------------------
# Working boundaries (E1): send now, hold until the next working start, or drop


@dataclass(frozen=True)
class Delivery:
    """What to do with a non-urgent reminder now: send it, hold it until `at`, or drop it."""

    action: Literal["send", "hold", "drop"]
    at: datetime | None = None


def stale_at(kind: str, due: datetime) -> datetime:
    """The moment a reminder due at `due` stops being worth sending."""
    return due + STALE_AFTER.get(kind, DEFAULT_STALE_AFTER)


def deliver_when(
    kind: str,
    *,
    due: datetime,
    now: datetime,
    pattern: WorkPattern,
    snoozed_until: datetime | None = None,
) -> Delivery:
    """Sends in working time (and not snoozed); otherwise holds until then, unless stale by then."""
    last = stale_at(kind, due)
    if now > last:
        return Delivery("drop")
    earliest = max(now, snoozed_until) if snoozed_until is not None else now
    release = next_working_start(pattern, earliest)
    if release == now:
        return Delivery("send")
    if release > last:
        return Delivery("drop")
    return Delivery("hold", release)


def out_of_hours_period(pattern: WorkPattern, now: datetime) -> str | None:
    """Names the out-of-hours stretch the moment is in (by when it ends); None in working time."""
    start = next_working_start(pattern, now)
    return None if start == now else start.isoformat()


# ---------------------------------------------------------------------------------------------
# Breaks (E2): sessions back to back, and time on screen without a break


@dataclass(frozen=True)
class SessionSpan:
    """When one finished session ran, less any time it was paused."""

    key: str
    started: datetime
    ended: datetime
    paused_minutes: float = 0.0

    @property
    def minutes(self) -> float:
        """How long the contact took, paused time excluded."""
        return max(0.0, (self.ended - self.started).total_seconds() / 60 - self.paused_minutes)


@dataclass(frozen=True)
class BreakDue:
    """A run of sessions without a break long enough to need one."""

    first: str
    last: str
    sessions: int
    minutes: int


def session_spans(sessions: Iterable[Mapping[str, Any]]) -> list[SessionSpan]:
    """The ended sessions that say when they started and ended, earliest first."""
    spans = []
    for session in sessions:
        if session.get("status") != "ended":
            continue
        started, ended = _moment(session.get("started_at")), _moment(session.get("ended_at"))
        if started is None or ended is None or ended < started:
            continue
        paused = session.get("paused_minutes")
        spans.append(
            SessionSpan(
                key=str(session.get("key", "")),
                started=started,
                ended=ended,
                paused_minutes=float(paused) if isinstance(paused, int | float) else 0.0,
            )
        )
    return sorted(spans, key=lambda span: span.started)


def current_run(spans: Sequence[SessionSpan], *, gap_minutes: float) -> list[SessionSpan]:
    """The latest sessions with no gap of gap_minutes or more between them (a break ends a run)."""
    if not spans:
        return []
    ordered = sorted(spans, key=lambda span: span.started)
    run = [ordered[-1]]
    for earlier in reversed(ordered[:-1]):
        if run[0].started - earlier.ended >= timedelta(minutes=gap_minutes):
            break
        run.insert(0, earlier)
    return run


def break_due(spans: Sequence[SessionSpan], policy: SelfCarePolicy) -> BreakDue | None:
    """A break is due after N sessions back to back or M minutes of contact without a break."""
    run = current_run(spans, gap_minutes=policy.space_between_minutes)
    if not run:
        return None
    minutes = sum(span.minutes for span in run)
    if len(run) < policy.break_after_sessions and minutes < policy.break_after_minutes:
        return None
    return BreakDue(first=run[0].key, last=run[-1].key, sessions=len(run), minutes=round(minutes))


# ---------------------------------------------------------------------------------------------
# Space between contacts (E2), and one contact at a time (E4)

# Sessions that still hold a place in the worker's diary.
DIARY_STATUSES = frozenset({"planned", "blocked", "started", "paused"})


@dataclass(frozen=True)
class Neighbour:
    """Another of the worker's sessions planned too close to a new one."""

    key: str
    case_reference: str
    starts_at: datetime


def too_close(
    new_start: datetime,
    others: Iterable[Mapping[str, Any]],
    policy: SelfCarePolicy,
    *,
    exclude: str = "",
) -> list[Neighbour]:
    """The other sessions that leave less than the space between contacts around this one."""
    length = timedelta(minutes=policy.session_minutes)
    space = timedelta(minutes=policy.space_between_minutes)
    close = []
    for other in others:
        start = _moment(other.get("starts_at"))
        if other.get("key") == exclude or start is None:
            continue
        if other.get("status") not in DIARY_STATUSES:
            continue
        if new_start < start + length + space and start < new_start + length + space:
            reference = answer_of(other, "case_reference")
            close.append(Neighbour(str(other.get("key")), str(reference or ""), start))
    return sorted(close, key=lambda neighbour: neighbour.starts_at)


def in_progress(sessions: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The worker's sessions running right now (status "started"), most recent first."""
    running = [session for session in sessions if session.get("status") == "started"]
    return sorted(running, key=lambda session: str(session.get("started_at", "")), reverse=True)


def paused_minutes(session: Mapping[str, Any], now: datetime) -> float:
    """The session's paused time so far, with the pause now ending."""
    before = session.get("paused_minutes")
    total = float(before) if isinstance(before, int | float) else 0.0
    since = _moment(session.get("paused_at"))
    if since is not None and now > since:
        total += (now - since).total_seconds() / 60
    return round(total, 1)


# ---------------------------------------------------------------------------------------------
# Job keys: one per occurrence, so nothing is scheduled (or sent) twice


def sign_off_key(worker: str, due: datetime) -> str:
    """ "signoff:<worker>:2026-11-26:1645" (a changed end time makes a new key)."""
    return f"signoff:{worker}:{local_day(due)}:{to_london(due):%H%M}"


def weekly_key(worker: str, due: datetime) -> str:
    """ "weekly:<worker>:2026-W48:fri1400"."""
    local = to_london(due)
    return f"weekly:{worker}:{iso_week(due)}:{DAY_CODES[local.weekday()]}{local:%H%M}"


def weekly_snooze_key(worker: str, week: str, due: datetime) -> str:
    """ "weekly:<worker>:2026-W48:snooze:<due>"."""
    return f"weekly:{worker}:{week}:snooze:{due.isoformat()}"


def break_key(worker: str, due: BreakDue) -> str:
    """ "break:<worker>:<first session of the run>": one reminder per run of sessions."""
    return f"break:{worker}:{due.first}"


def aftercare_key(worker: str, session: str) -> str:
    """ "aftercare:<worker>:<session>": one offer per hard session."""
    return f"aftercare:{worker}:{session}"


def held_key(origin: str, release: datetime) -> str:
    """ "held:<original key>@<release>": the held copy of a reminder sent out of hours."""
    return f"held:{origin}@{release.isoformat()}"


# ---------------------------------------------------------------------------------------------
# The settings journey: the typed path through `my settings`

_DAY_ALIASES = {"tues": "tue", "weds": "wed", "thur": "thu", "thurs": "thu"}
_ALL_DAYS = frozenset({"every day", "everyday", "daily", "all week", "all days", "all"})
_WEEKDAY_WORDS = frozenset({"weekdays", "week days", "monday to friday", "mon to fri"})


def parse_days(text: str) -> list[str]:
    """Reads working days: "Mon-Fri", "weekdays", "Monday, Wednesday and Friday", "mon,tue"."""
    cleaned = normalise(text).replace("&", ",").replace("/", ",").replace(" and ", ",")
    if not cleaned:
        raise InvalidAnswer("empty")
    if cleaned in _ALL_DAYS:
        return list(DAY_CODES)
    if cleaned in _WEEKDAY_WORDS:
        return list(DAY_CODES[:5])
    picked: set[int] = set()
    for part in (part.strip() for part in cleaned.split(",")):
        if not part:
            continue
        if part == "weekend":
            picked |= {5, 6}
            continue
        ends = [end.strip() for end in part.replace(" to ", "-").split("-")]
        if len(ends) == 2:
            first, last = _day(ends[0]), _day(ends[1])
            picked |= {(first + step) % 7 for step in range((last - first) % 7 + 1)}
        elif len(ends) == 1:
            picked.add(_day(ends[0]))
        else:
            raise InvalidAnswer("days_unreadable")
    if not picked:
        raise InvalidAnswer("empty")
    return [DAY_CODES[day] for day in sorted(picked)]


def _day(word: str) -> int:
    word = _DAY_ALIASES.get(word, word)
    for number, name in enumerate(WEEKDAYS):
        if len(word) >= 3 and name.lower().startswith(word):
            return number
    raise InvalidAnswer("days_unreadable")


def read_working_days(answer: Answer, _facts: Facts) -> list[str]:
    """Reads the working days, typed or ticked on the card."""
    return parse_days(as_text(answer))


def read_clock_time(answer: Answer, _facts: Facts) -> time:
    """Reads a UK time of day."""
    return parse_time(as_text(answer))


def read_working_end(answer: Answer, facts: Facts) -> time:
    """Reads when the working day ends; it must be after it starts, the same day."""
    end = parse_time(as_text(answer))
    start = facts.answer("working_start")
    if isinstance(start, str) and end <= time.fromisoformat(start):
        raise InvalidAnswer("working_end_before_start")
    return end


def parse_reminders(text: str) -> list[str]:
    """Reads which reminders are wanted: "all", "none", or some of them by name or number."""
    word = normalise(text)
    if word in ("all", "all of them", "yes"):
        return [choice.value for choice in REMINDERS]
    options = (*REMINDERS, NO_REMINDERS)
    parts = [part for part in word.replace(" and ", ",").split(",") if part.strip()]
    if not parts:
        raise InvalidAnswer("empty")
    picked = {choose(options, part) for part in parts} - {NO_REMINDERS.value}
    return [choice.value for choice in REMINDERS if choice.value in picked]


def read_reminders(answer: Answer, _facts: Facts) -> list[str]:
    """Reads the reminders the worker wants, typed or ticked on the card."""
    return parse_reminders(as_text(answer))


SETTINGS_QUESTIONS = ("working_days", "working_start", "working_end", "reminders")
CHECK_IN_QUESTIONS = ("check_in_day", "check_in_time")

SETTINGS = Journey(
    id="my_settings.v1",
    collection=WORKERS,
    questions=(
        Question(
            id="working_days",
            clause="E1",
            kind="multi_choice",
            read=read_working_days,
            choices=DAYS,
        ),
        Question(id="working_start", clause="E1", kind="time", read=read_clock_time),
        Question(id="working_end", clause="E1", kind="time", read=read_working_end),
        Question(
            id="reminders",
            clause="E1",
            kind="multi_choice",
            read=read_reminders,
            choices=(*REMINDERS, NO_REMINDERS),
        ),
        Question(
            id="check_in_day",
            clause="E3",
            kind="choice",
            read=choice_reader(DAYS),
            choices=DAYS,
        ),
        Question(id="check_in_time", clause="E3", kind="time", read=read_clock_time),
    ),
)


def settings_view(profile: Mapping[str, Any]) -> dict[str, Any]:
    """What the settings card shows: the pattern, the check-in, each reminder and the contacts."""
    pattern = work_pattern(profile)
    weekday, at = check_in_at(profile)
    on = reminders_on(profile)
    return {
        "working_days": [DAY_CODES[day] for day in sorted(pattern.days)],
        "working_start": f"{pattern.start:%H:%M}",
        "working_end": f"{pattern.end:%H:%M}",
        "check_in_day": DAY_CODES[weekday],
        "check_in_time": f"{at:%H:%M}",
        "days": [{"value": choice.value, "title": choice.title} for choice in DAYS],
        "reminders": [
            {"kind": choice.value, "title": choice.title, "on": choice.value in on}
            for choice in REMINDERS
        ],
    }


def _moment(raw: Any) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
