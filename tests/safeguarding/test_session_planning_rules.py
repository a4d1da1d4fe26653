"""The planning journey's rules on their own: keys, start times, readers, readiness, the message."""

import re
from datetime import UTC, datetime
from itertools import cycle
from typing import Any

import pytest

from safeguarding.journey import Facts
from safeguarding.readiness import BLOCKERS, blockers
from safeguarding.session_planning import (
    AMENDMENT_MAX_LENGTH,
    KEY_ALPHABET,
    PLANNING,
    message_context,
    read_amendment,
    read_contact_number,
    read_session_date,
    read_session_time,
    session_key,
    starts_at,
)
from safeguarding.validation import InvalidAnswer, readable_uk_phone
from templates import Templates

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
CONFIG = {
    "allow_fictional_numbers": True,
    "service_email": "hello@service.example",
    "out_of_hours_help": "out of hours, ring the example helpline",
}


def entry(value: Any, *, complete: bool = True) -> dict[str, Any]:
    return {"value": value, "clause": "", "at": NOW.isoformat(), "by": "w", "complete": complete}


def record(**answers: Any) -> dict[str, Any]:
    return {"key": "K", "answers": {question: entry(value) for question, value in answers.items()}}


def ready_service_user(**overrides: Any) -> dict[str, Any]:
    answers = {
        "people": [{"name": "Alex Example", "relationship": "self", "consent_digital": True}],
        "risk_assessed_on": "2026-11-20",
        "risk_level": "low",
        "risk_actions": "Weekly check-in.",
        **overrides,
    }
    return record(**answers)


def facts(session: dict[str, Any] | None = None, **related: Any) -> Facts:
    return Facts(now=NOW, record=session or {}, related=related, config=CONFIG)


def reason(call: Any) -> str:
    with pytest.raises(InvalidAnswer) as refused:
        call()
    return refused.value.reason


# -- keys and ids -----------------------------------------------------------------------------


def test_a_session_key_has_six_unambiguous_characters() -> None:
    keys = {session_key() for _ in range(200)}
    assert len(keys) == 200
    assert all(re.fullmatch(r"S-[23456789A-HJ-NP-Z]{6}", key) for key in keys)
    assert not set("01OI") & set(KEY_ALPHABET)


def test_a_session_key_takes_its_characters_from_the_picker() -> None:
    letters = cycle("AB")
    assert session_key(lambda _alphabet: next(letters)) == "S-ABABAB"


def test_the_question_ids_are_the_contract_the_start_journey_reads() -> None:
    assert [question.id for question in PLANNING.questions] == [
        "case_reference",
        "session_kind",
        "session_date",
        "session_time",
        "format",
        "format_consent",
        "who_calls",
        "contact_plan",
        "contact_number",
        "work_mobile",
        "worker_name",
        "reminder_text",
        "amendment",
    ]
    assert PLANNING.id == "session_planning.v1" and PLANNING.collection == "sessions"
    assert {q.id for q in PLANNING.questions if q.target == "worker"} == {
        "work_mobile",
        "worker_name",
    }


# -- dates and times --------------------------------------------------------------------------


def test_a_session_day_is_read_day_first_and_cannot_be_past() -> None:
    assert read_session_date("12/03/2027", facts()).isoformat() == "2027-03-12"
    assert read_session_date("today", facts()).isoformat() == "2026-11-26"
    assert reason(lambda: read_session_date("25/11/2026", facts())) == "session_date_in_past"
    assert reason(lambda: read_session_date("31/02/2027", facts())) == "date_impossible"


def test_a_start_time_must_exist_and_be_still_to_come() -> None:
    spring = facts(record(session_date="2027-03-28"))
    assert reason(lambda: read_session_time("01:30", spring)) == "time_does_not_exist"
    assert read_session_time("02:30", spring).strftime("%H:%M") == "02:30"
    today = facts(record(session_date="2026-11-26"))
    assert reason(lambda: read_session_time("09:59", today)) == "session_in_past"
    assert read_session_time("2:30pm", today).strftime("%H:%M") == "14:30"


def test_starts_at_is_the_uk_wall_clock_time_in_utc() -> None:
    winter = starts_at(record(session_date="2026-12-03", session_time="14:30"))
    summer = starts_at(record(session_date="2027-06-01", session_time="14:30"))
    assert winter == datetime(2026, 12, 3, 14, 30, tzinfo=UTC)
    assert summer == datetime(2027, 6, 1, 13, 30, tzinfo=UTC)
    assert starts_at(record(session_date="2026-12-03")) is None


# -- numbers and the amendment ----------------------------------------------------------------


def test_a_number_on_file_is_kept_with_yes_or_replaced() -> None:
    on_file = facts(service_user=record(contact_number="+447700900123"))
    assert read_contact_number("yes", on_file) == "+447700900123"
    assert read_contact_number("07700 900999", on_file) == "+447700900999"
    assert reason(lambda: read_contact_number("no", on_file)) == "phone_new_number_needed"
    assert reason(lambda: read_contact_number("yes", facts())) == "phone_invalid"
    assert read_contact_number("07700 900123", facts()) == "+447700900123"


def test_drama_numbers_are_refused_unless_the_service_allows_them() -> None:
    strict = Facts(now=NOW, record={}, config={})
    assert reason(lambda: read_contact_number("07700 900123", strict)) == "phone_fictional"


def test_no_amendment_is_none_and_a_long_one_is_refused() -> None:
    assert read_amendment("none", facts()) is None
    assert read_amendment("No.", facts()) is None
    assert read_amendment("  Parking is at the back.  ", facts()) == "Parking is at the back."
    with pytest.raises(InvalidAnswer) as refused:
        read_amendment("x" * (AMENDMENT_MAX_LENGTH + 1), facts())
    assert refused.value.reason == "too_long"
    assert refused.value.details["max_length"] == AMENDMENT_MAX_LENGTH


def test_numbers_read_back_the_uk_way() -> None:
    assert readable_uk_phone("+447700900456") == "07700 900456"
    assert readable_uk_phone("+441134960123") == "0113 496 0123"


# -- readiness --------------------------------------------------------------------------------


def test_a_low_risk_fully_consented_session_is_ready() -> None:
    assert blockers(record(format_consent=True), ready_service_user()) == []


@pytest.mark.parametrize(
    ("service_user", "session", "expected"),
    [
        (
            ready_service_user(risk_level="medium"),
            {"format_consent": True},
            "manager_approval_needed",
        ),
        (
            ready_service_user(risk_level="high"),
            {"format_consent": True},
            "manager_approval_needed",
        ),
        (ready_service_user(), {"format_consent": False}, "format_consent_missing"),
        (ready_service_user(), {}, "format_consent_missing"),
        (
            ready_service_user(risk_actions=None),
            {"format_consent": True},
            "risk_assessment_missing",
        ),
        (ready_service_user(people=[]), {"format_consent": True}, "consent_missing"),
        (
            ready_service_user(
                people=[
                    {"name": "Sam Example", "relationship": "mother", "consent_digital": True},
                    {"name": "Jo Example", "relationship": "partner", "consent_digital": False},
                ]
            ),
            {"format_consent": True},
            "consent_missing",
        ),
    ],
)
def test_each_gap_blocks_the_session(
    service_user: dict[str, Any], session: dict[str, Any], expected: str
) -> None:
    for question, value in list(service_user["answers"].items()):
        if value["value"] is None:
            del service_user["answers"][question]
    assert blockers(record(**session), service_user) == [expected]


def test_approval_unblocks_a_medium_risk_service_user() -> None:
    service_user = ready_service_user(risk_level="medium")
    service_user["approval"] = {"status": "requested"}
    assert blockers(record(format_consent=True), service_user) == ["manager_approval_needed"]
    service_user["approval"] = {"status": "approved", "by": "aad-manager-1"}
    assert blockers(record(format_consent=True), service_user) == []


def test_a_people_list_still_being_filled_in_is_not_consent() -> None:
    service_user = ready_service_user()
    service_user["answers"]["people"]["complete"] = False
    assert blockers(record(format_consent=True), service_user) == ["consent_missing"]


def test_an_unknown_service_user_is_blocked_on_everything_it_lacks() -> None:
    assert blockers(record(format_consent=True), {}) == [
        "risk_assessment_missing",
        "consent_missing",
    ]


def test_every_blocker_has_wording_for_the_worker() -> None:
    names = set(Templates().names("text"))
    assert {f"blocker/{code}" for code in BLOCKERS} <= names


# -- the pre-session message context ----------------------------------------------------------


def test_the_message_is_filled_in_from_the_session_the_worker_and_the_settings() -> None:
    session = record(
        session_kind="introductory",
        session_date="2027-06-01",
        session_time="14:30",
        format="audio",
        who_calls="worker_calls",
        reminder_text=True,
        amendment=None,
    )
    worker = record(worker_name="Jo Worker", work_mobile="+447700900456")
    context = message_context(session, worker, CONFIG)
    assert context == {
        "worker_name": "Jo Worker",
        "work_mobile": "07700 900456",
        "service_email": "hello@service.example",
        "out_of_hours_help": "out of hours, ring the example helpline",
        "session_kind": "introductory",
        "session_day": "Tuesday 1 June 2027",
        "session_time": "14:30",
        "by_format": "by audio call",
        "who_calls": "worker_calls",
        "reminder_text": True,
        "amendment": None,
    }


def test_a_message_needs_a_day_and_time() -> None:
    with pytest.raises(ValueError):
        message_context(record(session_kind="follow_up"), record(), CONFIG)
