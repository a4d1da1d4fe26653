"""Service-user setup on Teams: every answer stored as given, bad input re-asked kindly."""

from pathlib import Path
from typing import Any

from app import PIPELINE, create_app
from safeguarding.clock import FixedClock
from tests.conftest import make_settings
from tests.journeys import JOURNEY_ENV, NOW, answers, journey_chat
from tests.transcript import Chat

CASE = "CR-1042"


async def start_setup(chat: Chat) -> None:
    await chat.user("new service user")
    chat.bot_says("Which case reference")
    await chat.user(CASE)
    chat.bot_says("full name")


async def walk_to_risk(chat: Chat) -> None:
    """Answers everything up to the risk level, for a child with one consenting parent."""
    await start_setup(chat)
    await chat.user("Alex Example")
    chat.bot_asks("date_of_birth")
    await chat.user("12/03/2015")
    chat.bot_says("parent or guardian")
    await chat.user("Sam Example, mother")
    chat.bot_asks("people", "explicit consent")
    await chat.user("Sam Example, mother, yes")
    chat.bot_asks("people", "1 person so far")
    await chat.submit(
        {
            "action": "answer",
            "question": "people",
            "name": "Alex Example",
            "relationship": "self",
            "consent": "true",
        }
    )
    chat.bot_asks("people", "2 people so far")
    await chat.user("done")
    chat.bot_asks("platforms")
    await chat.submit({"action": "answer", "question": "platforms", "answer": "whatsapp,phone"})
    chat.bot_asks("platform_preference")
    await chat.user("phone")
    chat.bot_asks("risk_assessed_on")
    await chat.submit({"action": "answer", "question": "risk_assessed_on", "answer": "2026-11-20"})
    chat.bot_asks("risk_level")


async def test_setup_end_to_end_stores_every_answer_with_its_clause(
    tmp_path: Path, stores: Any
) -> None:
    chat = journey_chat(tmp_path, stores)
    await walk_to_risk(chat)
    await chat.user("low")
    chat.bot_says("What actions were agreed")
    await chat.user("Weekly check-in call with the school; session ends if anyone else joins.")
    chat.bot_says(f"{CASE} is set up", "plan session")
    chat.no_unread_replies()

    stored = await answers(stores, "service_users", CASE)
    assert stored["date_of_birth"] == "2015-03-12"  # 12 March, the UK way
    assert stored["platforms"] == ["whatsapp", "phone"]
    assert stored["platform_preference"] == "phone"
    assert stored["risk_level"] == "low"
    assert [(p["name"], p["consent_digital"]) for p in stored["people"]] == [
        ("Sam Example", True),
        ("Alex Example", True),
    ]
    assert all(p["recorded_by"] == "aad-worker-1" and p["recorded_at"] for p in stored["people"])
    record = await stores.documents.get(collection="service_users", key=CASE)
    assert record["owner"] == "aad-worker-1" and record["open_journey"] is None
    clauses = {question: entry["clause"] for question, entry in record["answers"].items()}
    assert clauses["people"] == "A1" and clauses["platforms"] == "A2"
    assert clauses["risk_assessed_on"] == "A4" and clauses["full_name"] == "B2"
    audit = await stores.documents.find(collection="audit")
    assert {event["field"] for event in audit if event["action"] == "answer"} >= set(clauses)
    assert "Alex Example" not in str(audit)


async def test_an_adult_is_not_asked_for_a_guardian(tmp_path: Path, stores: Any) -> None:
    chat = journey_chat(tmp_path, stores)
    await start_setup(chat)
    await chat.user("Alex Example")
    chat.bot_asks("date_of_birth")
    await chat.user("1 June 1990")
    chat.bot_asks("people")


async def test_bad_dates_are_re_asked_kindly_and_nothing_is_lost(
    tmp_path: Path, stores: Any
) -> None:
    chat = journey_chat(tmp_path, stores)
    await start_setup(chat)
    await chat.user("Alex Example")
    chat.bot_asks("date_of_birth")
    for typed, says in [
        ("12/03/2030", "can't be in the future"),
        ("31/02/2015", "doesn't exist on the calendar"),
        ("next tuesday-ish", "couldn't read that as a date"),
        ("", "didn't catch an answer"),
    ]:
        await chat.user(typed)
        chat.bot_asks("date_of_birth", says)
    assert (await answers(stores, "service_users", CASE)) == {"full_name": "Alex Example"}
    await chat.submit({"action": "answer", "question": "date_of_birth", "answer": "2015-03-12"})
    chat.bot_says("parent or guardian")


async def test_risk_assessment_dated_in_the_future_is_refused(tmp_path: Path, stores: Any) -> None:
    chat = journey_chat(tmp_path, stores)
    await walk_to_risk(chat)
    await chat.user("back")
    chat.bot_asks("risk_assessed_on", "change that one")
    await chat.user("01/12/2026")
    chat.bot_asks("risk_assessed_on", "still to come")


async def test_list_answers_need_a_whole_entry_and_at_least_one_person(
    tmp_path: Path, stores: Any
) -> None:
    chat = journey_chat(tmp_path, stores)
    await start_setup(chat)
    await chat.user("Alex Example")
    chat.bot_asks("date_of_birth")
    await chat.user("1 June 1990")
    chat.bot_asks("people")
    await chat.user("done")
    chat.bot_asks("people", "at least one person")
    await chat.user("Alex Example")
    chat.bot_asks("people", "one person at a time")
    await chat.user("Alex Example, self, perhaps")
    chat.bot_asks("people", "yes or a no")
    await chat.user("Alex Example, self, no")
    chat.bot_asks("people", "1 person so far")
    await chat.user("done")
    chat.bot_asks("platforms")


async def test_a_refused_consent_is_flagged_at_the_end(tmp_path: Path, stores: Any) -> None:
    chat = journey_chat(tmp_path, stores)
    await start_setup(chat)
    await chat.user("Alex Example")
    chat.bot_asks("date_of_birth")
    await chat.user("1 June 1990")
    chat.bot_asks("people")
    await chat.user("Jo Example, partner, no")
    chat.bot_asks("people")
    await chat.user("done")
    for question, answer in [
        ("platforms", "email"),
        ("platform_preference", "1"),
        ("risk_assessed_on", "today"),
        ("risk_level", "low"),
    ]:
        chat.bot_asks(question)
        await chat.user(answer)
    chat.bot_says("What actions")
    await chat.user("None beyond the standard plan.")
    chat.bot_says("is set up")
    chat.bot_says("Jo Example has not consented")
    chat.no_unread_replies()


async def test_medium_risk_records_an_approval_request(tmp_path: Path, stores: Any) -> None:
    chat = journey_chat(tmp_path, stores)
    await walk_to_risk(chat)
    await chat.user("Medium")
    chat.bot_says("What actions")
    await chat.user("Manager to review before any video session.")
    chat.bot_says("needs a manager's approval", "no session can be marked ready")
    record = await stores.documents.get(collection="service_users", key=CASE)
    assert record["approval"]["status"] == "requested"
    assert record["approval"]["requested_by"] == "aad-worker-1"


async def test_cancel_back_help_and_where_was_i_work_mid_journey(
    tmp_path: Path, stores: Any
) -> None:
    chat = journey_chat(tmp_path, stores)
    await start_setup(chat)
    await chat.user("help")
    chat.bot_says("**back**", "**cancel**", "full name")
    await chat.user("back")
    chat.bot_says("nothing before this", "full name")
    await chat.user("Alex Exampel")
    chat.bot_asks("date_of_birth")
    await chat.user("back")
    chat.bot_says("change that one", "full name")
    await chat.user("Alex Example")
    chat.bot_asks("date_of_birth")
    await chat.user("Where was I?")
    chat.bot_asks("date_of_birth", "where you were")
    await chat.user("cancel")
    chat.bot_says("Everything you'd answered is saved")
    await chat.user("12/03/2015")
    chat.bot_says("Type **help**")
    await chat.user("where was i")
    chat.bot_asks("date_of_birth", "where you were")
    await chat.user("12/03/2015")
    chat.bot_says("parent or guardian")
    assert (await answers(stores, "service_users", CASE))["full_name"] == "Alex Example"


async def test_emergency_interrupts_raises_the_alert_and_keeps_the_answers(
    tmp_path: Path, stores: Any
) -> None:
    chat = journey_chat(tmp_path, stores)
    await start_setup(chat)
    await chat.user("Alex Example")
    chat.bot_asks("date_of_birth")
    await chat.user("EMERGENCY")
    chat.bot_says("has NOT been seen yet", "call 999")  # no manager channel is set here
    chat.bot_sends_card("emergency_kind")
    chat.no_unread_replies()
    assert len(await stores.documents.find(collection="escalations")) == 1
    await chat.user("where was i")
    chat.bot_asks("date_of_birth", "where you were")
    assert (await answers(stores, "service_users", CASE)) == {"full_name": "Alex Example"}


async def test_a_restart_mid_journey_continues_at_the_same_question(
    tmp_path: Path, stores: Any
) -> None:
    chat = journey_chat(tmp_path, stores)
    await start_setup(chat)
    await chat.user("Alex Example")
    chat.bot_asks("date_of_birth")

    restarted = Chat(
        create_app(make_settings(tmp_path, **JOURNEY_ENV), stores=stores, clock=FixedClock(NOW))[
            PIPELINE
        ],
        conversation="a:personal-worker-1",
    )
    await restarted.user("12/03/2015")
    restarted.bot_says("parent or guardian")


async def test_a_stale_or_garbled_card_changes_nothing(tmp_path: Path, stores: Any) -> None:
    chat = journey_chat(tmp_path, stores)
    await start_setup(chat)
    await chat.user("Alex Example")
    chat.bot_asks("date_of_birth")
    for value in [
        {"action": "answer", "question": "full_name", "answer": "Someone Else"},
        {"action": "answer", "question": "date_of_birth", "answer": 20150312},
        {"action": "answer", "question": "date_of_birth"},
        {"action": "answer"},
    ]:
        await chat.submit(value)
        chat.bot_asks("date_of_birth", "earlier question")
    assert (await answers(stores, "service_users", CASE)) == {"full_name": "Alex Example"}


async def test_another_workers_case_reference_is_refused(tmp_path: Path, stores: Any) -> None:
    first = journey_chat(tmp_path, stores, worker="worker-1")
    await start_setup(first)
    second = journey_chat(tmp_path, stores, worker="worker-2")
    await second.user("new service user")
    second.bot_says("Which case reference")
    await second.user(CASE)
    second.bot_says("belongs to another worker")
    second.no_unread_replies()
    await second.user("help")
    second.bot_sends_card("help")


async def test_an_answer_card_with_nothing_in_progress_says_so(tmp_path: Path, stores: Any) -> None:
    chat = journey_chat(tmp_path, stores)
    await chat.submit({"action": "answer", "question": "full_name", "answer": "x"})
    chat.bot_says("finished or was cancelled")
    await chat.user("where was i")
    chat.bot_says("nothing half-finished")
