"""Service-user setup, once per service user: identity, consent, platforms and risk."""

from datetime import date
from typing import Any

from safeguarding.clock import london_today
from safeguarding.journey import (
    Answer,
    Choice,
    Facts,
    Journey,
    Question,
    as_text,
    choice_reader,
    multi_choice_reader,
    text_reader,
)
from safeguarding.records import SERVICE_USERS
from safeguarding.validation import (
    InvalidAnswer,
    parse_case_reference,
    parse_date,
    parse_date_of_birth,
    parse_text,
    parse_yes_no,
)

ADULT_AGE = 18
PLATFORMS = (
    Choice("email", "Email"),
    Choice("whatsapp", "WhatsApp"),
    Choice("google", "Google (Meet or Duo)"),
    Choice("skype", "Skype"),
    Choice("facetime", "FaceTime"),
    Choice("teams", "Microsoft Teams"),
    Choice("phone", "Phone calls and texts"),
    Choice("other", "Something else"),
)
RISK_LEVELS = (Choice("low", "Low"), Choice("medium", "Medium"), Choice("high", "High"))
APPROVAL_LEVELS = frozenset({"medium", "high"})


def read_case_reference(answer: Answer, facts: Facts) -> str:
    """Reads a case reference in the service's configured format."""
    return parse_case_reference(as_text(answer), pattern=facts.config.get("case_reference_pattern"))


def read_date_of_birth(answer: Answer, facts: Facts) -> date:
    """Reads a date of birth the UK way; never in the future."""
    return parse_date_of_birth(as_text(answer), today=london_today(facts.now))


def read_assessment_date(answer: Answer, facts: Facts) -> date:
    """Reads the day the risk assessment was completed; it cannot be ahead of today."""
    completed = parse_date(as_text(answer), today=london_today(facts.now))
    if completed > london_today(facts.now):
        raise InvalidAnswer("date_in_future")
    return completed


def read_person(answer: Answer, _facts: Facts) -> dict[str, Any]:
    """Reads one person and their consent: 'name, relationship, yes/no', or the card's fields."""
    if isinstance(answer, str):
        parts = [part.strip() for part in answer.rsplit(",", 2)]
        if len(parts) != 3:
            raise InvalidAnswer("list_entry_unreadable")
        name, relationship, consent = parts
    else:
        name = answer.get("name", "")
        relationship = answer.get("relationship", "")
        consent = {"true": "yes", "false": "no"}.get(answer.get("consent", ""), "")
    return {
        "name": parse_text(name, max_length=100),
        "relationship": parse_text(relationship, max_length=60),
        "consent_digital": parse_yes_no(consent),
    }


def is_child(facts: Facts) -> bool:
    """Says whether the service user is under 18 today, from the recorded date of birth."""
    born = facts.answer("date_of_birth")
    if born is None:
        return False
    today = london_today(facts.now)
    birthday = date.fromisoformat(born)
    age = today.year - birthday.year - ((today.month, today.day) < (birthday.month, birthday.day))
    return age < ADULT_AGE


def needs_manager_approval(service_user: dict[str, Any]) -> bool:
    """Medium or high risk: online work waits for a manager's approval (D5)."""
    level = service_user.get("answers", {}).get("risk_level", {}).get("value")
    return level in APPROVAL_LEVELS


def approval_outstanding(service_user: dict[str, Any]) -> bool:
    """Says whether a needed approval has not been given yet."""
    approval = service_user.get("approval") or {}
    return needs_manager_approval(service_user) and approval.get("status") != "approved"


def refused_consent(service_user: dict[str, Any]) -> list[str]:
    """Names the people who have not consented to digital platforms (A1)."""
    people = service_user.get("answers", {}).get("people", {}).get("value") or []
    return [person["name"] for person in people if not person["consent_digital"]]


SETUP = Journey(
    id="service_user_setup.v1",
    collection=SERVICE_USERS,
    key_question=Question(id="case_reference", clause="", kind="text", read=read_case_reference),
    questions=(
        Question(
            id="full_name",
            clause="B2",
            kind="text",
            read=text_reader(max_length=100),
            sensitive=True,
        ),
        Question(
            id="date_of_birth", clause="B2", kind="date", read=read_date_of_birth, sensitive=True
        ),
        Question(
            id="guardian",
            clause="B4",
            kind="text",
            read=text_reader(max_length=120),
            ask_when=is_child,
            sensitive=True,
        ),
        Question(
            id="people",
            clause="A1",
            kind="list",
            read=read_person,
            sensitive=True,
            entry_fields=("name", "relationship", "consent"),
        ),
        Question(
            id="platforms",
            clause="A2",
            kind="multi_choice",
            read=multi_choice_reader(PLATFORMS),
            choices=PLATFORMS,
        ),
        Question(
            id="platform_preference",
            clause="A2",
            kind="choice",
            read=choice_reader(PLATFORMS),
            choices=PLATFORMS,
        ),
        Question(id="risk_assessed_on", clause="A4", kind="date", read=read_assessment_date),
        Question(
            id="risk_level",
            clause="D5",
            kind="choice",
            read=choice_reader(RISK_LEVELS),
            choices=RISK_LEVELS,
        ),
        Question(
            id="risk_actions", clause="D5", kind="long_text", read=text_reader(max_length=1000)
        ),
    ),
)
