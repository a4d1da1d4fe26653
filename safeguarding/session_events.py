"""What can happen once a session is under way: its ending, the safe word, behaviour, a lost line.

Each ending is a short journey over the session record (D2, D3, D4, B3, C10); the welfare call
after a safe word is a task with a due time that the scheduler chases (D4).
"""

from datetime import datetime, timedelta

from safeguarding.clock import london_today
from safeguarding.journey import (
    Answer,
    Choice,
    Facts,
    Journey,
    Question,
    as_text,
    choice_reader,
    read_yes_no,
    text_reader,
)
from safeguarding.records import SESSIONS
from safeguarding.validation import (
    InvalidAnswer,
    parse_date,
    parse_text,
    session_start,
)

TASKS = "tasks"
DISCUSSIONS = "discussion_items"
MOODS = (
    Choice("settled", "Settled"),
    Choice("unsettled", "A bit unsettled"),
    Choice("distressed", "Distressed"),
)
CLOSINGS = (
    Choice("mindfulness", "A mindfulness activity"),
    Choice("relaxation", "Relaxation or breathing"),
    Choice("goal_setting", "Setting a small goal"),
    Choice("none", "None of these"),
)
CONNECTION_OUTCOMES = (
    Choice("phone", "Continued by phone"),
    Choice("reconnected", "Reconnected"),
    Choice("unreachable", "Could not reach them"),
)
CALL_BACK_MINUTES = 5
NONE_WORDS = frozenset({"none", "no", "nothing", "n/a", "na"})


def read_optional(answer: Answer, _facts: Facts) -> str:
    """Reads free text where 'none' is a fair answer (stored as '')."""
    text = as_text(answer)
    if text.strip().lower() in NONE_WORDS:
        return ""
    return parse_text(text, max_length=1000)


def read_call_date(answer: Answer, facts: Facts) -> str:
    """Reads the welfare call's day: today or later, day first."""
    day = parse_date(as_text(answer), today=london_today(facts.now))
    if day < london_today(facts.now):
        raise InvalidAnswer("session_in_past")
    return day.isoformat()


def read_call_time(answer: Answer, facts: Facts) -> str:
    """Reads the welfare call's time; with its day it must still be to come."""
    moment = session_start(
        date_text=str(facts.answer("welfare_call_date")), time_text=as_text(answer), now=facts.now
    )
    return moment.isoformat()


def unsettled(facts: Facts) -> bool:
    """The person did not seem settled at the end: offer closing activities (D2)."""
    return facts.answer("end_mood") in ("unsettled", "distressed")


def wants_follow_up(facts: Facts) -> bool:
    """A follow-up text or email is appropriate (C10)."""
    return bool(facts.answer("follow_up_wanted"))


def abuse_not_known(facts: Facts) -> bool:
    """The service user's record doesn't yet say whether domestic abuse is part of their life."""
    return facts.related_answer("service_user", "domestic_abuse") is None


SESSION_END = Journey(
    id="session_end.v1",
    collection=SESSIONS,
    questions=(
        Question(
            id="end_mood", clause="D2", kind="choice", read=choice_reader(MOODS), choices=MOODS
        ),
        Question(
            id="closing_activity",
            clause="D2",
            kind="choice",
            read=choice_reader(CLOSINGS),
            choices=CLOSINGS,
            ask_when=unsettled,
        ),
        Question(
            id="actions_agreed", clause="B3", kind="long_text", read=text_reader(max_length=1000)
        ),
        Question(id="follow_up_wanted", clause="C10", kind="yes_no", read=read_yes_no),
        Question(
            id="session_content",
            clause="C10",
            kind="long_text",
            read=text_reader(max_length=1000),
            ask_when=wants_follow_up,
        ),
        Question(
            id="family_tasks",
            clause="C10",
            kind="long_text",
            read=read_optional,
            ask_when=wants_follow_up,
        ),
    ),
)

WELFARE_CALL = Journey(
    id="welfare_call.v1",
    collection=SESSIONS,
    questions=(
        Question(
            id="other_arrangement",
            clause="D4",
            kind="long_text",
            read=text_reader(max_length=500),
            sensitive=True,
        ),
        Question(
            id="domestic_abuse",
            clause="D4",
            kind="yes_no",
            read=read_yes_no,
            ask_when=abuse_not_known,
            copy_to="service_user",
        ),
        Question(id="welfare_call_date", clause="D4", kind="date", read=read_call_date),
        Question(id="welfare_call_time", clause="D4", kind="time", read=read_call_time),
    ),
)

BEHAVIOUR_END = Journey(
    id="behaviour_end.v1",
    collection=SESSIONS,
    questions=(
        Question(
            id="behaviour_what_happened",
            clause="D3",
            kind="long_text",
            read=text_reader(max_length=2000),
            sensitive=True,
        ),
    ),
)


def call_back_due(lost_at: datetime) -> datetime:
    """When the worker must have called the service user back after a lost connection (C3)."""
    return lost_at + timedelta(minutes=CALL_BACK_MINUTES)


def domestic_abuse_flagged(service_user: dict[str, object]) -> bool:
    """Says whether the family has domestic abuse in its history (makes D4 chasing immediate)."""
    answers = service_user.get("answers")
    entry = answers.get("domestic_abuse") if isinstance(answers, dict) else None
    return bool(entry and entry.get("value"))
