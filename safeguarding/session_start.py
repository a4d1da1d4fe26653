"""Session start, on the day: the worker's checks, identity, who is there, where, and the safe word.

The questions run in the order the guidance gives them (B1, C4–C7, B2, B3, C1, C2, C3, B5) over
the session record the planning journey wrote. Follow-up sessions reuse what is already known:
the identity check is not repeated once verified, the agreed safe word is recalled rather than
agreed again, and the number on file is confirmed rather than typed again. The environment, the
people present and today's address are asked at every session.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from safeguarding.clock import london_today, to_london
from safeguarding.journey import (
    Answer,
    Disclosure,
    Facts,
    Journey,
    Question,
    allows_fictional_numbers,
    answer_of,
    as_text,
    read_yes_no,
    text_reader,
)
from safeguarding.records import SESSIONS
from safeguarding.service_user_setup import approval_outstanding
from safeguarding.validation import (
    InvalidAnswer,
    identity_matches,
    parse_address,
    parse_date_of_birth,
    parse_text,
    parse_uk_phone,
    parse_yes_no,
    readable_uk_phone,
)

# The worker's own checks before the session (C4–C7): a "no" is allowed but needs a reason.
ENVIRONMENT_CHECKS = (
    ("phone_silent", "C4"),
    ("private_room", "C4"),
    ("own_children", "C4"),
    ("nothing_identifying", "C5"),
    ("comfortable_ready", "C6"),
    ("equipment_ready", "C7"),
)
WAIVER_MAX_LENGTH = 300
SAFE_WORD_MAX_LENGTH = 60
IDENTITY_MISMATCH = "identity_mismatch"
# A session that has been through session start cannot be started again.
FINISHED_REFUSALS = {
    "started": "already_started",
    "ended": "already_ended",
    "stopped": "stopped",
    # Paused for another contact (E4): resumed from its own card, not started again.
    "paused": "paused",
}
# The clause each way of stopping the journey answers to, for the audit trail.
STOP_CLAUSES = {IDENTITY_MISMATCH: "B2"}


# ---------------------------------------------------------------------------------------------
# Which session can be started today


@dataclass(frozen=True)
class TodaysSession:
    """One of the worker's sessions today, and why it cannot be started (None if it can)."""

    key: str
    case_reference: str
    starts_at: datetime
    refusal: str | None
    # What planning recorded as still missing (readiness codes), shown when it is not ready.
    blockers: tuple[str, ...] = ()

    @property
    def time(self) -> str:
        """The start time as the worker reads it: "14:30", UK time."""
        return to_london(self.starts_at).strftime("%H:%M")


def start_refusal(session: Mapping[str, Any], service_user: Mapping[str, Any] | None) -> str | None:
    """Says why a session cannot be started now, or None when it can."""
    status = session.get("status")
    if status in FINISHED_REFUSALS:
        return FINISHED_REFUSALS[status]
    if service_user is None:
        return "service_user_missing"
    # Asked again here, not trusted from planning: the risk may have been raised since (D5).
    if approval_outstanding(dict(service_user)):
        return "manager_approval_needed"
    if status != "planned" or session.get("ready") is not True:
        return "not_ready"
    return None


def sessions_today(
    sessions: Sequence[Mapping[str, Any]],
    service_users: Mapping[str, Mapping[str, Any] | None],
    *,
    now: datetime,
) -> list[TodaysSession]:
    """The worker's sessions that fall today in the UK, earliest first, each with its refusal."""
    today = london_today(now)
    found = []
    for session in sessions:
        starts = _starts_at(session)
        if starts is None or london_today(starts) != today:
            continue
        reference = str(answer_of(session, "case_reference") or "")
        found.append(
            TodaysSession(
                key=str(session["key"]),
                case_reference=reference,
                starts_at=starts,
                refusal=start_refusal(session, service_users.get(reference)),
                blockers=tuple(
                    code for code in session.get("blockers") or () if isinstance(code, str)
                ),
            )
        )
    return sorted(found, key=lambda item: item.starts_at)


def _starts_at(session: Mapping[str, Any]) -> datetime | None:
    raw = session.get("starts_at")
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


# ---------------------------------------------------------------------------------------------
# What the journey reads


def is_follow_up(facts: Facts) -> bool:
    """A follow-up session: anything else is treated as introductory, the fuller set of checks."""
    return facts.answer("session_kind") == "follow_up"


def needs_identity_check(facts: Facts) -> bool:
    """The introductory session checks identity (B2), unless it has already been verified."""
    service_user = facts.related.get("service_user") or {}
    return not is_follow_up(facts) and not service_user.get("identity_verified_at")


def agreed_safe_word(facts: Facts) -> str | None:
    """The safe word agreed at an earlier session, from the service user's record."""
    word = facts.related_answer("service_user", "safe_word")
    return str(word) if word else None


def recalls_safe_word(facts: Facts) -> bool:
    """At a follow-up the agreed safe word is recalled; it is agreed only if there is none yet."""
    return (
        is_follow_up(facts) and facts.answer("safe_word") is None and bool(agreed_safe_word(facts))
    )


def agrees_safe_word(facts: Facts) -> bool:
    """The introductory session agrees the safe word, as does a follow-up that has none (B5)."""
    return not recalls_safe_word(facts)


def number_on_file(facts: Facts) -> str | None:
    """The service user's number as last recorded (E.164), from their record or this session."""
    number = facts.related_answer("service_user", "contact_number") or facts.answer(
        "contact_number"
    )
    return str(number) if number else None


def read_confirmation(answer: Answer, _facts: Facts) -> bool:
    """Reads a "done": the session cannot go ahead until it is, so "no" is asked again."""
    if not parse_yes_no(as_text(answer)):
        raise InvalidAnswer("needs_confirming")
    return True


def read_given_dob(answer: Answer, facts: Facts) -> date:
    """Reads the date of birth the service user gave, the UK way round."""
    return parse_date_of_birth(as_text(answer), today=london_today(facts.now))


def check_identity(given_dob: Any, facts: Facts) -> str | None:
    """Stops the journey unless the name and date of birth given match the case file (B2)."""
    recorded_name = facts.related_answer("service_user", "full_name")
    recorded_dob = facts.related_answer("service_user", "date_of_birth")
    given_name = facts.answer("given_name")
    # A record with nothing to compare against is not a pass.
    if not (recorded_name and recorded_dob and given_name and given_dob):
        return IDENTITY_MISMATCH
    matched = identity_matches(
        recorded_name=str(recorded_name),
        recorded_dob=date.fromisoformat(str(recorded_dob)),
        given_name=str(given_name),
        given_dob=date.fromisoformat(str(given_dob)),
    )
    return None if matched else IDENTITY_MISMATCH


def read_person_present(answer: Answer, _facts: Facts) -> dict[str, str]:
    """Reads one person in the room: 'name, relationship', or the card's two fields (C1)."""
    if isinstance(answer, str):
        parts = [part.strip() for part in answer.rsplit(",", 1)]
        if len(parts) != 2:
            raise InvalidAnswer("person_present_unreadable")
        name, relationship = parts
    else:
        name, relationship = answer.get("name", ""), answer.get("relationship", "")
    return {
        "name": parse_text(name, max_length=100),
        "relationship": parse_text(relationship, max_length=60),
    }


def read_address_today(answer: Answer, _facts: Facts) -> Any:
    """Reads the full UK address where the service user is today, postcode and all (C2)."""
    return parse_address(as_text(answer))


def read_contact_confirmed(answer: Answer, facts: Facts) -> str:
    """Reads "yes" (keep the number on file) or a new UK number, into E.164 (C3)."""
    text = as_text(answer)
    try:
        keep: bool | None = parse_yes_no(text)
    except InvalidAnswer:
        keep = None
    on_file = number_on_file(facts)
    if keep is True and on_file:
        return on_file
    if keep is not None:
        raise InvalidAnswer("phone_new_number_needed")
    return parse_uk_phone(text, allow_fictional=allows_fictional_numbers(facts))


def start_prompt_context(facts: Facts) -> dict[str, Any]:
    """What the prompts may show: the case, the numbers to confirm, and at a follow-up only,
    the agreed safe word (the journey runs in the worker's personal chat only)."""
    on_file = number_on_file(facts)
    work_mobile = facts.related_answer("worker", "work_mobile")
    return {
        "case_reference": facts.answer("case_reference") or "",
        "number_on_file": readable_uk_phone(on_file) if on_file else "",
        "work_mobile": readable_uk_phone(str(work_mobile)) if work_mobile else "",
        "safe_word": agreed_safe_word(facts) if recalls_safe_word(facts) else "",
    }


def _environment(check_id: str, clause: str) -> tuple[Question, ...]:
    """One environment check (a yes or a no) and the reason asked for when it is a no."""

    def said_no(facts: Facts) -> bool:
        return facts.answer(check_id) is False

    return (
        Question(id=check_id, clause=clause, kind="yes_no", read=read_yes_no),
        Question(
            id=f"{check_id}_waiver",
            clause=clause,
            kind="text",
            read=text_reader(max_length=WAIVER_MAX_LENGTH),
            ask_when=said_no,
        ),
    )


START = Journey(
    id="session_start.v1",
    collection=SESSIONS,
    questions=(
        Question(id="introduced", clause="B1", kind="confirm", read=read_confirmation),
        *(question for check in ENVIRONMENT_CHECKS for question in _environment(*check)),
        Question(id="earphones", clause="C7", kind="yes_no", read=read_yes_no),
        Question(
            id="given_name",
            clause="B2",
            kind="text",
            read=text_reader(max_length=100),
            ask_when=needs_identity_check,
            sensitive=True,
        ),
        Question(
            id="given_dob",
            clause="B2",
            kind="date",
            read=read_given_dob,
            ask_when=needs_identity_check,
            check=check_identity,
            sensitive=True,
        ),
        Question(id="notes_explained", clause="B3", kind="confirm", read=read_confirmation),
        Question(
            id="people_present",
            clause="C1",
            kind="list",
            read=read_person_present,
            sensitive=True,
            allow_nobody=True,
            entry_fields=("name", "relationship"),
        ),
        Question(
            id="address_today",
            clause="C2",
            kind="long_text",
            read=read_address_today,
            sensitive=True,
        ),
        Question(
            id="contact_confirmed",
            clause="C3",
            kind="yes_no",
            read=read_contact_confirmed,
            sensitive=True,
            discloses=Disclosure(shown="number_on_file", field="contact_number"),
        ),
        Question(id="worker_number_given", clause="C3", kind="confirm", read=read_confirmation),
        Question(
            id="safe_word_recalled",
            clause="B5",
            kind="confirm",
            read=read_confirmation,
            ask_when=recalls_safe_word,
            discloses=Disclosure(shown="safe_word", field="safe_word"),
        ),
        Question(
            id="safe_word",
            clause="B5",
            kind="text",
            read=text_reader(max_length=SAFE_WORD_MAX_LENGTH),
            ask_when=agrees_safe_word,
            sensitive=True,
            copy_to="service_user",
        ),
    ),
    prompt_context=start_prompt_context,
)


# ---------------------------------------------------------------------------------------------
# What the service user's record learns once the session has started


def identity_verification(session: Mapping[str, Any]) -> dict[str, Any] | None:
    """The identity_verified_* fields this session earns the service user, if it checked them."""
    entry = session.get("answers", {}).get("given_dob")
    if entry is None or session.get("stopped"):
        return None
    return {
        "identity_verified_at": entry["at"],
        "identity_verified_by": entry["by"],
        "identity_verified_in": session["key"],
    }


def changed_contact_number(
    session: Mapping[str, Any], service_user: Mapping[str, Any]
) -> str | None:
    """The number confirmed today when it differs from the one on the service user's record."""
    confirmed = answer_of(session, "contact_confirmed")
    if confirmed and confirmed != answer_of(service_user, "contact_number"):
        return str(confirmed)
    return None


# Where a changed number is kept on the service user's record: the planning journey's question.
CONTACT_NUMBER_ON_FILE = Question(
    id="contact_number", clause="C3", kind="text", read=read_contact_confirmed, sensitive=True
)
