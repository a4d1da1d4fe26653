"""Session planning, once per session: when and how, consent for the format, contacts, reminder.

The record is created before the first question under a generated key ("S-7KQ2MX"), so a
service user can have any number of sessions. Question ids are a contract: the session-start
journey reads `case_reference`, `session_kind`, `format`, `who_calls`, `contact_plan` and
`contact_number` from this record, and `starts_at` (UTC) to find the day's sessions.
"""

import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from safeguarding.clock import LONDON, MONTHS, WEEKDAYS, london_today, to_london
from safeguarding.journey import (
    Answer,
    Choice,
    Disclosure,
    Facts,
    Journey,
    Question,
    allows_fictional_numbers,
    answer_of,
    as_text,
    choice_reader,
    read_yes_no,
    text_reader,
)
from safeguarding.records import SERVICE_USERS, SESSIONS
from safeguarding.service_user_setup import read_case_reference
from safeguarding.validation import (
    InvalidAnswer,
    parse_date,
    parse_text,
    parse_uk_phone,
    parse_work_mobile,
    parse_yes_no,
    readable_uk_phone,
    session_start,
)
from safeguarding.words import normalise

# No 0/O or 1/I: a key read out over the phone or copied by hand cannot be misread.
KEY_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
KEY_LENGTH = 6
AMENDMENT_MAX_LENGTH = 500
NO_AMENDMENT_WORDS = frozenset({"none", "no", "nothing", "no thanks", "n/a", "na", "nope", "skip"})

SESSION_KINDS = (Choice("introductory", "Introductory"), Choice("follow_up", "Follow-up"))
FORMATS = (
    Choice("video", "Video call"),
    Choice("audio", "Audio call"),
    Choice("chat", "Online chat"),
    Choice("phone", "Phone call"),
)
# How the pre-session message names the format: "... well enough to take part by video call".
BY_FORMAT = {
    "video": "by video call",
    "audio": "by audio call",
    "chat": "by online chat",
    "phone": "by phone",
}
WHO_CALLS = (
    Choice("worker_calls", "I'll call them"),
    Choice("service_user_calls", "They'll call me"),
)


def session_key(pick: Callable[[str], str] = secrets.choice) -> str:
    """Makes a new session key, like "S-7KQ2MX"."""
    return "S-" + "".join(pick(KEY_ALPHABET) for _ in range(KEY_LENGTH))


def read_session_date(answer: Answer, facts: Facts) -> date:
    """Reads the session's day the UK way; today or later."""
    today = london_today(facts.now)
    day = parse_date(as_text(answer), today=today)
    if day < today:
        raise InvalidAnswer("session_date_in_past")
    return day


def read_session_time(answer: Answer, facts: Facts) -> time:
    """Reads the start time; with the day already given it must be a UK time still to come."""
    start = session_start(
        date_text=str(facts.answer("session_date")), time_text=as_text(answer), now=facts.now
    )
    return to_london(start).time()


def read_contact_number(answer: Answer, facts: Facts) -> str:
    """Reads the service user's number; "yes" keeps the one on file, "no" asks for the new one."""
    text = as_text(answer)
    on_file = facts.related_answer("service_user", "contact_number")
    if on_file:
        try:
            keep = parse_yes_no(text)
        except InvalidAnswer:
            keep = None
        if keep is True:
            return str(on_file)
        if keep is False:
            raise InvalidAnswer("phone_new_number_needed")
    return parse_uk_phone(text, allow_fictional=allows_fictional_numbers(facts))


def read_work_mobile(answer: Answer, facts: Facts) -> str:
    """Reads the worker's work mobile (C3: work mobile only, never a landline)."""
    return parse_work_mobile(as_text(answer), allow_fictional=allows_fictional_numbers(facts))


def read_amendment(answer: Answer, _facts: Facts) -> str | None:
    """Reads the worker's local note for the message; "none" means there is none."""
    text = as_text(answer)
    if normalise(text) in NO_AMENDMENT_WORDS:
        return None
    return parse_text(text, min_length=1, max_length=AMENDMENT_MAX_LENGTH)


def stop_without_format_consent(value: Any, _facts: Facts) -> str | None:
    """No specific consent for the work in this format (B4): the session cannot be planned."""
    return None if value else "format_consent_missing"


def starts_at(session: Mapping[str, Any]) -> datetime | None:
    """When the session starts, in UTC, from its day and UK start time; None until both are in."""
    day, at = answer_of(session, "session_date"), answer_of(session, "session_time")
    if not day or not at:
        return None
    # fold=0, as when the time was read: in the repeated autumn hour, the first (BST) pass.
    local = datetime.combine(date.fromisoformat(day), time.fromisoformat(at), tzinfo=LONDON)
    return local.astimezone(UTC)


def readable_day(day: date) -> str:
    """Writes a day as a worker or family reads it: "Thursday 3 December 2026"."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


def planning_prompt_context(facts: Facts) -> dict[str, Any]:
    """What the planning prompts show back: the day chosen, the format, the number on file."""
    day = facts.answer("session_date")
    on_file = facts.related_answer("service_user", "contact_number")
    return {
        "session_day": readable_day(date.fromisoformat(day)) if day else None,
        "by_format": BY_FORMAT.get(facts.answer("format") or ""),
        "number_on_file": readable_uk_phone(on_file) if on_file else None,
    }


def message_context(
    session: Mapping[str, Any], worker: Mapping[str, Any], config: Mapping[str, Any]
) -> dict[str, Any]:
    """Everything the pre-session message (A5) is filled in with, from the records and settings."""
    start = starts_at(session)
    if start is None:
        raise ValueError("the session has no day and time yet")
    local = to_london(start)
    return {
        "worker_name": answer_of(worker, "worker_name"),
        "work_mobile": readable_uk_phone(answer_of(worker, "work_mobile")),
        "service_email": config["service_email"],
        "out_of_hours_help": config["out_of_hours_help"],
        "session_kind": answer_of(session, "session_kind"),
        "session_day": readable_day(local.date()),
        "session_time": f"{local.hour:02d}:{local.minute:02d}",
        "by_format": BY_FORMAT[answer_of(session, "format")],
        "who_calls": answer_of(session, "who_calls"),
        "reminder_text": bool(answer_of(session, "reminder_text")),
        "amendment": answer_of(session, "amendment"),
    }


# Kept on the worker's own profile, asked the first time they plan (and by `my details`).
WORK_MOBILE = Question(
    id="work_mobile", clause="C3", kind="text", read=read_work_mobile, target="worker"
)
WORKER_NAME = Question(
    id="worker_name", clause="A5", kind="text", read=text_reader(max_length=60), target="worker"
)


PLANNING = Journey(
    id="session_planning.v1",
    collection=SESSIONS,
    questions=(
        Question(
            id="case_reference",
            clause="",
            kind="text",
            read=read_case_reference,
            links=SERVICE_USERS,
        ),
        Question(
            id="session_kind",
            clause="",
            kind="choice",
            read=choice_reader(SESSION_KINDS),
            choices=SESSION_KINDS,
        ),
        Question(id="session_date", clause="C9", kind="date", read=read_session_date),
        Question(id="session_time", clause="C9", kind="time", read=read_session_time),
        Question(
            id="format", clause="B4", kind="choice", read=choice_reader(FORMATS), choices=FORMATS
        ),
        Question(
            id="format_consent",
            clause="B4",
            kind="yes_no",
            read=read_yes_no,
            check=stop_without_format_consent,
        ),
        Question(
            id="who_calls",
            clause="C9",
            kind="choice",
            read=choice_reader(WHO_CALLS),
            choices=WHO_CALLS,
        ),
        Question(
            id="contact_plan", clause="C9", kind="long_text", read=text_reader(max_length=1000)
        ),
        Question(
            id="contact_number",
            clause="C3",
            kind="text",
            read=read_contact_number,
            sensitive=True,
            copy_to="service_user",
            discloses=Disclosure(shown="number_on_file", field="contact_number"),
        ),
        WORK_MOBILE,
        WORKER_NAME,
        Question(id="reminder_text", clause="A5", kind="yes_no", read=read_yes_no),
        Question(id="amendment", clause="A5", kind="long_text", read=read_amendment),
    ),
    prompt_context=planning_prompt_context,
)
