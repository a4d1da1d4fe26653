"""Every journey, walked over HTTP with the values a test chooses: setup, planning, session start,
the in-session buttons, the ending, the welfare call, an emergency and the manager's side of it.

Each step is what the worker sends: typed text, or a card's values. The values come from a
`People` so one test can walk with ordinary synthetic details and another with hostile ones.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tests.attack.conftest import Site
from tests.http_chat import HttpChat

Step = str | dict[str, Any]


@dataclass(frozen=True)
class People:
    """The synthetic details a walk types in."""

    case_reference: str = "CR-5150"
    child_name: str = "Zoë Example"
    date_of_birth: str = "12/03/2015"
    guardian: str = "Sam Example, mother"
    person_present: str = "Sam Example, mother"
    address: str = "Flat 2, 10 Example Street, Leeds, LS1 4AP"
    contact_number: str = "07700 900123"
    work_mobile: str = "07700 900456"
    worker_name: str = "Jo Worker"
    line_manager_phone: str = "07700 900789"
    safe_word: str = "Periwinkle"
    risk_actions: str = "Weekly check-in with the family."
    contact_plan: str = "Call back within 5 minutes; if no luck, text to rearrange."
    amendment: str = "Parking is at the back."
    actions_agreed: str = "Practise the breathing exercise."
    session_content: str = "We talked about sleep."
    family_tasks: str = "Try the breathing exercise before bed."
    other_arrangement: str = "Text her sister after 6pm."
    what_happened: str = "Shouted and would not stop when asked."


def answer(question: str, value: str) -> dict[str, str]:
    """What Teams sends when the worker uses a question card."""
    return {"action": "answer", "question": question, "answer": value}


def setup(people: People) -> list[Step]:
    """`new service user` for a child, with a guardian, through to the risk assessment."""
    return [
        "new service user",
        people.case_reference,
        people.child_name,
        people.date_of_birth,
        people.guardian,
        f"{people.guardian}, yes",
        "done",
        "email, phone",
        "phone",
        "20/11/2026",
        "low",
        people.risk_actions,
    ]


def planning(people: People) -> list[Step]:
    """`plan session` for an introductory video call today at 14:30 (the clock says 10:00)."""
    return [
        "plan session",
        people.case_reference,
        answer("session_kind", "introductory"),
        "26/11/2026",
        "14:30",
        answer("format", "video"),
        answer("format_consent", "yes"),
        "I'll call them",
        people.contact_plan,
        people.contact_number,
        people.work_mobile,
        people.worker_name,
        answer("reminder_text", "yes"),
        people.amendment,
    ]


ENVIRONMENT = (
    "phone_silent",
    "private_room",
    "own_children",
    "nothing_identifying",
    "comfortable_ready",
    "equipment_ready",
)


def session_start(people: People) -> list[Step]:
    """`start session`: every check a yes, the identity check, who's there, address, safe word."""
    return [
        "start session",
        answer("introduced", "yes"),
        *[answer(check, "yes") for check in ENVIRONMENT],
        "yes",  # earphones
        people.child_name,
        people.date_of_birth,
        answer("notes_explained", "yes"),
        people.person_present,
        "done",
        people.address,
        "yes",  # the number on file
        answer("worker_number_given", "yes"),
        people.safe_word,
    ]


def normal_ending(people: People, session: str) -> list[Step]:
    """`End session` on the in-session card, with a follow-up message."""
    return [
        {"action": "end_session", "session": session},
        "settled",
        people.actions_agreed,
        answer("follow_up_wanted", "yes"),
        people.session_content,
        people.family_tasks,
    ]


def safe_word_ending(people: People, session: str) -> list[Step]:
    """`Safe word used`, then the welfare call booked for tomorrow morning."""
    return [
        {"action": "safe_word_used", "session": session},
        people.other_arrangement,
        "no",  # no domestic abuse flag
        "27/11/2026",
        "09:30",
    ]


def line_manager(people: People) -> list[Step]:
    """`my line manager`: the configured manager, and their number."""
    return ["my line manager", "Alex Manager", people.line_manager_phone]


async def walk(person: HttpChat, steps: Sequence[Step]) -> list[dict[str, Any]]:
    """Sends each step and returns everything the bot said back to this person."""
    said: list[dict[str, Any]] = []
    for step in steps:
        status = await (person.says(step) if isinstance(step, str) else person.presses(step))
        assert status == 201, f"{step!r} answered {status}"
        said += person.new_replies()
    return said


async def the_session(site: Site, worker: str = "aad-worker-1") -> str:
    """The key of the worker's latest session."""
    sessions = [s for s in await site.documents("sessions") if s["owner"] == worker]
    return str(max(sessions, key=lambda s: s["created_at"])["key"])
