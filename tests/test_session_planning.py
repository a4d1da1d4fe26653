"""Session planning on Teams: every answer stored as given, bad input re-asked, the A5 message."""

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from app import PIPELINE, create_app
from safeguarding.clock import FixedClock
from safeguarding.ports import StoreUnavailable
from storage import memory_stores
from templates import Templates
from tests.conftest import make_settings
from tests.journeys import JOURNEY_ENV, NOW, answers, journey_chat
from tests.transcript import Chat, as_read
from tests.wrapped_documents import WrappedDocuments

CASE = "CR-2040"
FAMILY_NUMBER = "07700 900123"  # Ofcom drama numbers: they reach no one
WORK_MOBILE = "07700 900456"
WORKER_NAME = "Jo Worker"
ENV = {
    **JOURNEY_ENV,
    "SAFESESSION_SERVICE_EMAIL": "hello@service.example",
    "SAFESESSION_OUT_OF_HOURS_HELP": "out of hours, ring the Example Helpline on 0808 157 0000",
}
SESSION_KEY = re.compile(r"S-[23456789A-HJ-NP-Z]{6}")
YES = "yes"
CONTACT_PLAN = "Call back on their number within 5 minutes; if no luck, rearrange by text."


def chat_for(tmp_path: Path, stores: Any, *, worker: str = "worker-1", **environ: str) -> Chat:
    """A worker's personal chat with a bot on the fixed clock, with the service's settings."""
    app = create_app(
        make_settings(tmp_path, **{**ENV, **environ}), stores=stores, clock=FixedClock(NOW)
    )
    return Chat(app[PIPELINE], worker=worker, conversation=f"a:personal-{worker}")


def answer(question: str, value: str) -> dict[str, str]:
    """What Teams sends when the worker uses the question card."""
    return {"action": "answer", "question": question, "answer": value}


async def put_service_user(
    stores: Any,
    case: str = CASE,
    *,
    owner: str = "aad-worker-1",
    risk_level: str = "low",
    contact_number: str | None = None,
) -> None:
    """Writes a set-up service user straight into the store, as the setup journey leaves it."""
    values: dict[str, Any] = {
        "full_name": "Alex Example",
        "date_of_birth": "1990-06-01",
        "people": [{"name": "Alex Example", "relationship": "self", "consent_digital": True}],
        "platforms": ["phone"],
        "platform_preference": "phone",
        "risk_assessed_on": "2026-11-20",
        "risk_level": risk_level,
        "risk_actions": "Weekly check-in.",
    }
    if contact_number:
        values["contact_number"] = contact_number
    at = NOW.isoformat()
    document = {
        "key": case,
        "owner": owner,
        "created_at": at,
        "journey": "service_user_setup.v1",
        "open_journey": None,
        "answers": {
            question: {"value": value, "clause": "", "at": at, "by": owner, "complete": True}
            for question, value in values.items()
        },
    }
    await stores.documents.put(collection="service_users", key=case, document=document)


async def set_up_adult(chat: Chat, *, risk_level: str = "low") -> None:
    """Answers the setup journey for an adult who consents, from the full-name question on."""
    chat.bot_says("full name")
    await chat.user("Alex Example")
    chat.bot_asks("date_of_birth")
    await chat.user("1 June 1990")
    chat.bot_asks("people")
    await chat.user("Alex Example, self, yes")
    chat.bot_asks("people", "1 person so far")
    await chat.user("done")
    for question, typed in [
        ("platforms", "phone, email"),
        ("platform_preference", "phone"),
        ("risk_assessed_on", "20/11/2026"),
        ("risk_level", risk_level),
    ]:
        chat.bot_asks(question)
        await chat.user(typed)
    chat.bot_says("What actions")
    await chat.user("Weekly check-in with the family.")


async def new_service_user(chat: Chat, case: str = CASE, *, risk_level: str = "low") -> None:
    """Sets a service user up through the setup journey."""
    await chat.user("new service user")
    chat.bot_says("Which case reference")
    await chat.user(case)
    await set_up_adult(chat, risk_level=risk_level)
    chat.bot_says(f"{case} is set up")


async def begin(chat: Chat, case: str = CASE) -> None:
    """Starts planning and names the service user."""
    await chat.user("plan session")
    chat.bot_says("Let's plan the session", "Which case reference")
    await chat.user(case)
    chat.bot_asks("session_kind")


async def plan_to_format(chat: Chat, case: str = CASE) -> None:
    """Answers up to and including the format: an introductory video call on 3 December."""
    await begin(chat, case)
    await chat.submit(answer("session_kind", "introductory"))
    chat.bot_asks("session_date")
    await chat.user("03/12/2026")
    chat.bot_asks("session_time", "Thursday 3 December 2026")
    await chat.user("14:30")
    chat.bot_asks("format")
    await chat.submit(answer("format", "video"))
    chat.bot_asks("format_consent", "specific consent", "by video call")


async def plan_to_contact_number(chat: Chat, case: str = CASE) -> None:
    """Answers up to the service user's contact number."""
    await plan_to_format(chat, case)
    await chat.submit(answer("format_consent", YES))
    chat.bot_asks("who_calls")
    await chat.user("I'll call them")
    chat.bot_says("can't get through", "within 5 minutes")
    await chat.user(CONTACT_PLAN)


async def finish_first_plan(chat: Chat, *, amendment: str = "none") -> None:
    """From the contact number on, for a worker the bot has not met before."""
    chat.bot_says("best number to reach them")
    await chat.user(FAMILY_NUMBER)
    chat.bot_says("work mobile", "never a personal number")
    await chat.user(WORK_MOBILE)
    chat.bot_says("What name do you give the families")
    await chat.user(WORKER_NAME)
    chat.bot_asks("reminder_text", "reminder text on the morning")
    await chat.submit(answer("reminder_text", YES))
    chat.bot_says("short note to the pre-session message", "up to 500 characters")
    await chat.user(amendment)


def the_message(chat: Chat) -> str:
    """The lead line, then the pre-session message on its own, as text to copy."""
    chat.bot_says("pre-session message", "ready to copy")
    reply = chat.next_reply()
    assert not reply.attachments and reply.text_format == "markdown"
    return as_read(reply)


async def the_session(stores: Any) -> dict[str, Any]:
    """The one session record in the store."""
    [session] = await stores.documents.find(collection="sessions")
    return dict(session)


# -- end to end -------------------------------------------------------------------------------


async def test_planning_after_setup_stores_every_answer_and_ends_with_the_message(
    tmp_path: Path, stores: Any
) -> None:
    chat = chat_for(tmp_path, stores)
    await new_service_user(chat)
    await plan_to_contact_number(chat)
    await finish_first_plan(chat, amendment="Parking is at the back of the building.")
    chat.bot_says(f"The session for {CASE} on Thursday 3 December 2026, 14:30", "ready to go ahead")
    message = the_message(chat)
    chat.no_unread_replies()

    session = await the_session(stores)
    assert SESSION_KEY.fullmatch(session["key"])
    assert session["owner"] == "aad-worker-1" and session["open_journey"] is None
    assert session["status"] == "planned" and session["ready"] is True
    assert session["blockers"] == []
    assert session["starts_at"] == "2026-12-03T14:30:00+00:00"
    # Stored as rendered; shown with every line kept (blank lines only separate paragraphs).
    stored_lines = [line for line in session["pre_session_message"].split("\n") if line.strip()]
    assert stored_lines == message.split("\n")
    stored = await answers(stores, "sessions", session["key"])
    assert stored == {
        "case_reference": CASE,
        "session_kind": "introductory",
        "session_date": "2026-12-03",
        "session_time": "14:30",
        "format": "video",
        "format_consent": True,
        "who_calls": "worker_calls",
        "contact_plan": CONTACT_PLAN,
        "contact_number": "+447700900123",
        "reminder_text": True,
        "amendment": "Parking is at the back of the building.",
    }
    clauses = {q: e["clause"] for q, e in session["answers"].items()}
    assert clauses["format_consent"] == "B4" and clauses["who_calls"] == "C9"
    assert clauses["contact_number"] == "C3" and clauses["reminder_text"] == "A5"
    worker = await answers(stores, "workers", "aad-worker-1")
    assert worker == {"work_mobile": "+447700900456", "worker_name": WORKER_NAME}
    service_user = await answers(stores, "service_users", CASE)
    assert service_user["contact_number"] == "+447700900123"
    audit = await stores.documents.find(collection="audit")
    assert "900123" not in str(audit) and "900456" not in str(audit)


class NoDisclosures(WrappedDocuments):
    """The Documents port, failing every write of a disclosure to the audit log."""

    async def put(self, *, collection: str, key: str, document: dict[str, Any]) -> None:
        if collection == "audit" and document.get("action") == "disclose":
            raise StoreUnavailable("the disk is full")
        await self._inner.put(collection=collection, key=key, document=document)


async def test_the_message_is_not_shown_when_its_disclosure_cannot_be_recorded(
    tmp_path: Path,
) -> None:
    inner = memory_stores()
    chat = chat_for(tmp_path, replace(inner, documents=NoDisclosures(inner.documents)))
    await new_service_user(chat)
    await plan_to_contact_number(chat)
    await finish_first_plan(chat)

    chat.bot_says(f"The session for {CASE}", "ready to go ahead")
    chat.bot_says("pre-session message", "ready to copy")
    chat.bot_says("can't save anything right now")
    chat.no_unread_replies()
    assert not any(
        event["action"] == "disclose" for event in await inner.documents.find(collection="audit")
    )


class NoSessionScans(WrappedDocuments):
    """The Documents port, failing the search of all a worker's sessions (the space-between
    lookup; the other searches ask for one status)."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.searched = False

    async def find(self, *, collection: str, where: Any = None) -> Any:
        if collection == "sessions" and set(where or {}) == {"owner"}:
            self.searched = True
            raise StoreUnavailable("the disk is slow")
        return await self._inner.find(collection=collection, where=where)


async def test_the_message_is_still_given_when_other_sessions_cannot_be_looked_up(
    tmp_path: Path,
) -> None:
    inner = memory_stores()
    scans = NoSessionScans(inner.documents)
    chat = chat_for(tmp_path, replace(inner, documents=scans))
    await new_service_user(chat)
    await plan_to_contact_number(chat)
    await finish_first_plan(chat)

    chat.bot_says(f"The session for {CASE}", "ready to go ahead")
    the_message(chat)
    chat.no_unread_replies()
    assert scans.searched


async def test_the_pre_session_message_carries_every_a5_element_with_the_workers_values(
    tmp_path: Path, stores: Any
) -> None:
    await put_service_user(stores)
    chat = chat_for(tmp_path, stores)
    await plan_to_contact_number(chat)
    await finish_first_plan(chat, amendment="Our rooms have step-free access.")
    chat.bot_says("ready to go ahead")
    message = the_message(chat)

    for element in [
        "I'm Jo Worker, your worker",  # the worker's name
        "physically well enough to take part by video call",
        "confidential space",
        "I'll be in a private room",
        "the quietest place available to you",
        "secure and confidential, with no interruptions",
        "a responsible adult you can contact",
        "remaining sessions",
        "email our service at hello@service.example",  # how to cancel
        "call or text me on my work mobile, 07700 900456",
        "I'll send you a reminder text on the morning",  # the reminder they asked for
        "duty of care",
        "at risk of harm",
        "something I consider to be a crime",
        "I would talk to you about it first",
        "pass the information on to another professional",
        "check where you are that day",
        "Address where you'll be for the session:",
        "Alternative phone number:",
        "if the connection fails",
        "If you need help out of hours, ring the Example Helpline on 0808 157 0000.",
        "Our rooms have step-free access.",
        "Thursday 3 December 2026 at 14:30",
    ]:
        assert element in message, element
    assert "Barnardo" not in message and "{{" not in message


async def test_without_a_reminder_or_amendment_the_message_offers_one_and_adds_nothing(
    tmp_path: Path, stores: Any
) -> None:
    await put_service_user(stores)
    chat = chat_for(tmp_path, stores)
    await plan_to_contact_number(chat)
    chat.bot_says("best number")
    await chat.user(FAMILY_NUMBER)
    chat.bot_says("work mobile")
    await chat.user(WORK_MOBILE)
    chat.bot_says("What name")
    await chat.user(WORKER_NAME)
    chat.bot_asks("reminder_text")
    await chat.user("no")
    chat.bot_says("short note")
    await chat.user("None")
    chat.bot_says("ready to go ahead")
    message = the_message(chat)
    assert "If you'd like a reminder text on the morning" in message
    assert "As you asked" not in message
    session = await the_session(stores)
    assert (await answers(stores, "sessions", session["key"]))["amendment"] is None


async def test_a_services_own_message_template_is_used(tmp_path: Path, stores: Any) -> None:
    local = tmp_path / "local-templates"
    (local / "text").mkdir(parents=True)
    (local / "text" / "pre_session_message.txt").write_text(
        "Hello from {{ worker_name }}. Cancel on {{ work_mobile }} or {{ service_email }}."
    )
    await put_service_user(stores)
    chat = chat_for(tmp_path, stores, SAFESESSION_TEMPLATES=str(local))
    await plan_to_contact_number(chat)
    await finish_first_plan(chat)
    chat.bot_says("ready to go ahead")
    message = the_message(chat)
    assert message == "Hello from Jo Worker. Cancel on 07700 900456 or hello@service.example."
    assert (await the_session(stores))["pre_session_message"] == message


# -- bad input --------------------------------------------------------------------------------


async def test_bad_dates_and_times_are_re_asked_and_earlier_answers_kept(
    tmp_path: Path, stores: Any
) -> None:
    await put_service_user(stores)
    chat = chat_for(tmp_path, stores)
    await begin(chat)
    await chat.user("follow-up")
    chat.bot_asks("session_date")
    for typed, says in [
        ("25/11/2026", "already gone"),
        ("31/02/2027", "doesn't exist on the calendar"),
        ("a week on Tuesday", "couldn't read that as a date"),
    ]:
        await chat.user(typed)
        chat.bot_asks("session_date", says)
    await chat.submit({"action": "answer", "question": "session_date", "answer": 20270312})
    chat.bot_asks("session_date", "earlier question")
    key = (await the_session(stores))["key"]
    assert await answers(stores, "sessions", key) == {
        "case_reference": CASE,
        "session_kind": "follow_up",
    }

    await chat.user("12/03/2027")
    chat.bot_asks("session_time", "Friday 12 March 2027")  # 12 March, not 3 December
    assert (await answers(stores, "sessions", key))["session_date"] == "2027-03-12"
    await chat.user("back")
    chat.bot_asks("session_date", "change that one")
    await chat.user("28/03/2027")
    chat.bot_asks("session_time", "Sunday 28 March 2027")
    await chat.user("01:30")
    chat.bot_asks("session_time", "clocks go forward")
    await chat.user("2:30")
    chat.bot_asks("session_time", "morning or afternoon")
    await chat.user("back")
    chat.bot_asks("session_date", "change that one")
    await chat.user("today")
    chat.bot_asks("session_time", "Thursday 26 November 2026")
    await chat.user("09:30")
    chat.bot_asks("session_time", "already passed")
    await chat.submit(answer("session_time", "16:00"))
    chat.bot_asks("format")
    stored = await answers(stores, "sessions", key)
    assert stored["session_date"] == "2026-11-26" and stored["session_time"] == "16:00"
    assert stored["session_kind"] == "follow_up"


async def test_bad_numbers_and_an_over_long_amendment_are_re_asked(
    tmp_path: Path, stores: Any
) -> None:
    await put_service_user(stores)
    chat = chat_for(tmp_path, stores)
    await plan_to_contact_number(chat)
    chat.bot_says("best number")
    for typed, says in [
        ("0770 09", "doesn't look like a complete UK phone number"),
        ("+33 6 12 34 56 78", "not a UK number"),
    ]:
        await chat.user(typed)
        chat.bot_says(says, "best number")
    await chat.user(FAMILY_NUMBER)
    chat.bot_says("work mobile")
    for typed, says in [
        ("0113 496 0123", "looks like a landline"),
        ("+1 202 555 0143", "not a UK number"),
        ("07700 9004", "complete UK phone number"),
    ]:
        await chat.user(typed)
        chat.bot_says(says, "work mobile")
    await chat.user(WORK_MOBILE)
    chat.bot_says("What name")
    await chat.user(WORKER_NAME)
    chat.bot_asks("reminder_text")
    await chat.user("maybe")
    chat.bot_asks("reminder_text", "yes or a no")
    await chat.user("yes")
    chat.bot_says("short note")
    await chat.user("Please bring headphones. " * 25)
    chat.bot_says("up to 500 characters", "short note")
    key = (await the_session(stores))["key"]
    stored = await answers(stores, "sessions", key)
    assert stored["contact_number"] == "+447700900123" and stored["reminder_text"] is True
    assert "amendment" not in stored
    await chat.user("Please bring headphones.")
    chat.bot_says("ready to go ahead")
    assert "Please bring headphones." in the_message(chat)


async def test_a_stale_or_garbled_card_changes_nothing(tmp_path: Path, stores: Any) -> None:
    await put_service_user(stores)
    chat = chat_for(tmp_path, stores)
    await plan_to_format(chat)
    key = (await the_session(stores))["key"]
    before = await answers(stores, "sessions", key)
    for value in [
        answer("format", "audio"),
        {"action": "answer", "question": "format_consent", "answer": True},
        {"action": "answer", "question": "format_consent"},
        {"action": "answer"},
    ]:
        await chat.submit(value)
        chat.bot_asks("format_consent", "earlier question")
    assert await answers(stores, "sessions", key) == before


# -- linking to the service user --------------------------------------------------------------


async def test_an_unknown_case_reference_offers_setup_then_planning_carries_on_with_it(
    tmp_path: Path, stores: Any
) -> None:
    chat = chat_for(tmp_path, stores)
    await chat.user("plan session")
    chat.bot_says("Which case reference")
    await chat.user("CR-3001")
    offer = chat.bot_sends_card("offer_setup")
    assert offer["actions"][0]["data"] == {
        "action": "new_service_user",
        "case_reference": "CR-3001",
    }
    await chat.submit(offer["actions"][0]["data"])
    await set_up_adult(chat)
    chat.bot_says("CR-3001 is set up")
    chat.bot_asks("session_kind", "I've put in CR-3001", "no need to type it again")
    session = await the_session(stores)
    assert (await answers(stores, "sessions", session["key"])) == {"case_reference": "CR-3001"}
    assert session["answers"]["case_reference"]["by"] == "aad-worker-1"
    setup = await stores.documents.get(collection="service_users", key="CR-3001")
    assert setup["owner"] == "aad-worker-1" and setup["open_journey"] is None


async def test_setup_cancelled_from_the_offer_leaves_no_case_reference_behind(
    tmp_path: Path, stores: Any
) -> None:
    chat = chat_for(tmp_path, stores)
    await chat.user("plan session")
    chat.bot_says("Which case reference")
    await chat.user("CR-3001")
    chat.bot_sends_card("offer_setup")
    await chat.submit({"action": "new_service_user", "case_reference": "CR-3001"})
    chat.bot_says("full name")
    await chat.user("cancel")
    chat.bot_says("Everything you'd answered is saved")
    chat.no_unread_replies()
    assert (await answers(stores, "sessions", (await the_session(stores))["key"])) == {}


async def test_another_workers_service_user_cannot_be_planned(tmp_path: Path, stores: Any) -> None:
    await put_service_user(stores, owner="aad-worker-2")
    chat = chat_for(tmp_path, stores)
    await chat.user("plan session")
    chat.bot_says("Which case reference")
    await chat.user(CASE)
    chat.bot_says("belongs to another worker")
    chat.no_unread_replies()
    assert (await answers(stores, "sessions", (await the_session(stores))["key"])) == {}


# -- asked once; the number on file -----------------------------------------------------------


async def planned_once(tmp_path: Path, stores: Any) -> tuple[Chat, str]:
    """A worker's first plan for CASE, to its pre-session message; the chat and the message."""
    await put_service_user(stores)
    chat = chat_for(tmp_path, stores)
    await plan_to_contact_number(chat)
    await finish_first_plan(chat)
    chat.bot_says("ready to go ahead")
    return chat, the_message(chat)


async def finish_next_plan(chat: Chat) -> str:
    """A later plan, from the reminder question on (work mobile and name known): its message."""
    chat.bot_asks("reminder_text")
    await chat.user("yes")
    chat.bot_says("short note")
    await chat.user("none")
    chat.bot_says("ready to go ahead")
    return the_message(chat)


async def test_a_second_plan_asks_neither_work_mobile_nor_name_and_confirms_the_number(
    tmp_path: Path, stores: Any
) -> None:
    chat, first = await planned_once(tmp_path, stores)

    await plan_to_contact_number(chat)
    chat.bot_says("The number I have for them is 07700 900123", "**yes** to keep it")
    await chat.user("no")
    chat.bot_says("send their new number", "07700 900123")
    await chat.user("07700 900999")
    second = await finish_next_plan(chat)  # work mobile and name are not asked again
    chat.bot_says("space between contacts", CASE)  # the same time as the first plan (E2)
    assert "Jo Worker" in second and "07700 900456" in second and "Jo Worker" in first
    service_user = await answers(stores, "service_users", CASE)
    assert service_user["contact_number"] == "+447700900999"

    await plan_to_contact_number(chat)
    chat.bot_says("The number I have for them is 07700 900999")
    await chat.user("yes")
    chat.bot_asks("reminder_text")
    sessions = await stores.documents.find(collection="sessions")
    assert len({session["key"] for session in sessions}) == 3
    [third] = [session for session in sessions if session["status"] == "planning"]
    assert third["answers"]["contact_number"]["value"] == "+447700900999"


async def test_my_details_changes_the_work_mobile_and_name_the_next_message_gives(
    tmp_path: Path, stores: Any
) -> None:
    chat, first = await planned_once(tmp_path, stores)

    await chat.user("my details")
    chat.bot_says("work mobile", "never a personal number")
    await chat.user("0770 090")  # not a number: asked again, nothing lost
    chat.bot_says("work mobile")
    await chat.user("07700 900789")
    chat.bot_says("What name do you give the families")
    await chat.user("Jo Worker-Example")
    said = chat.bot_says("Saved", "07700 900789", "Jo Worker-Example", "already sent keeps")
    assert "07700 900456" not in said
    chat.no_unread_replies()
    profile = await stores.documents.get(collection="workers", key="aad-worker-1")
    assert profile is not None and profile["open_journey"] is None
    assert {q: e["value"] for q, e in profile["answers"].items() if q.startswith("work")} == {
        "work_mobile": "+447700900789",
        "worker_name": "Jo Worker-Example",
    }
    assert {q: e["clause"] for q, e in profile["answers"].items() if q.startswith("work")} == {
        "work_mobile": "C3",
        "worker_name": "A5",
    }

    await plan_to_contact_number(chat)
    chat.bot_says("The number I have for them is 07700 900123")
    await chat.user("yes")
    second = await finish_next_plan(chat)  # the new details are not asked for again
    assert "07700 900456" in first and "Jo Worker" in first
    assert "07700 900789" in second and "Jo Worker-Example" in second
    assert "07700 900456" not in second


async def test_my_details_left_half_way_is_picked_up_by_where_was_i(
    tmp_path: Path, stores: Any
) -> None:
    chat = chat_for(tmp_path, stores)
    await chat.user("my details")
    chat.bot_says("work mobile")
    await chat.user("07700 900789")
    chat.bot_says("What name do you give the families")
    await chat.user("cancel")
    chat.bot_says("Stopped", "where was I")
    await chat.user("where was i")
    chat.bot_says("What name do you give the families")
    await chat.user("Jo Worker")
    chat.bot_says("Saved", "07700 900789", "Jo Worker")
    chat.no_unread_replies()


# -- readiness ----------------------------------------------------------------------------------


async def test_a_medium_risk_plan_is_not_ready_until_a_manager_approves(
    tmp_path: Path, stores: Any
) -> None:
    chat = chat_for(tmp_path, stores)
    await new_service_user(chat, risk_level="medium")
    # What setup says about sending the approval request is the manager channel's to test.
    chat.adapter.activity_buffer.clear()
    record = await stores.documents.get(collection="service_users", key=CASE)
    assert record["approval"]["status"] != "approved"
    await plan_to_contact_number(chat)
    await finish_first_plan(chat)
    told = chat.bot_says("is planned, but it is **not ready**", "A manager needs to approve")
    assert "medium risk" in told and "don't confirm the session" in told
    the_message(chat)
    chat.no_unread_replies()
    blocked = await the_session(stores)
    assert blocked["status"] == "planned" and blocked["ready"] is False
    assert blocked["blockers"] == ["manager_approval_needed"]

    record = await stores.documents.get(collection="service_users", key=CASE)
    record["approval"] = {**record["approval"], "status": "approved", "by": "aad-manager-1"}
    await stores.documents.put(collection="service_users", key=CASE, document=record)

    await plan_to_contact_number(chat)
    chat.bot_says("The number I have for them")
    await chat.user("yes")
    chat.bot_asks("reminder_text")
    await chat.user("no")
    chat.bot_says("short note")
    await chat.user("none")
    chat.bot_says("planned and ready to go ahead")
    the_message(chat)
    sessions = await stores.documents.find(collection="sessions")
    approved = next(s for s in sessions if s["key"] != blocked["key"])
    assert approved["ready"] is True and approved["blockers"] == []


async def test_no_consent_for_the_format_stops_kindly_and_blocks_the_session(
    tmp_path: Path, stores: Any
) -> None:
    await put_service_user(stores)
    chat = chat_for(tmp_path, stores)
    await plan_to_format(chat)
    await chat.submit(answer("format_consent", "no"))
    chat.bot_says("can't go ahead until", "by video call", "noted on the case file", "plan session")
    chat.no_unread_replies()
    session = await the_session(stores)
    assert session["status"] == "blocked" and session["open_journey"] is None
    assert session["stopped"] == "format_consent_missing"
    assert session["ready"] is False and session["blockers"] == ["format_consent_missing"]
    assert session["answers"]["format_consent"]["value"] is False
    await chat.user("where was i")
    chat.bot_says("nothing half-finished")


# -- cancel, back, restart ----------------------------------------------------------------------


async def test_cancel_back_and_where_was_i_mid_planning(tmp_path: Path, stores: Any) -> None:
    await put_service_user(stores)
    chat = chat_for(tmp_path, stores)
    await begin(chat)
    await chat.user("back")
    chat.bot_says("change that one", "Which case reference")
    chat_key = (await the_session(stores))["key"]
    assert await answers(stores, "sessions", chat_key) == {}
    await chat.user(CASE)
    chat.bot_asks("session_kind")
    await chat.user("introductory")
    chat.bot_asks("session_date")
    await chat.user("03/12/2026")
    chat.bot_asks("session_time")
    await chat.user("back")
    chat.bot_asks("session_date", "change that one")
    await chat.user("10/12/2026")
    chat.bot_asks("session_time", "Thursday 10 December 2026")
    await chat.user("cancel")
    chat.bot_says("Everything you'd answered is saved")
    await chat.user("14:30")
    chat.bot_says("Type **help**")
    await chat.user("where was i")
    chat.bot_asks("session_time", "where you were")
    await chat.user("14:30")
    chat.bot_asks("format")
    stored = await answers(stores, "sessions", chat_key)
    assert stored["session_date"] == "2026-12-10" and stored["session_time"] == "14:30"


async def test_back_from_the_case_reference_question_has_nothing_before(
    tmp_path: Path, stores: Any
) -> None:
    chat = chat_for(tmp_path, stores)
    await chat.user("plan session")
    chat.bot_says("Which case reference")
    await chat.user("back")
    chat.bot_says("nothing before this", "Which case reference")


async def test_a_restart_mid_planning_continues_at_the_same_question(
    tmp_path: Path, stores: Any
) -> None:
    await put_service_user(stores)
    chat = chat_for(tmp_path, stores)
    await plan_to_format(chat)

    restarted = chat_for(tmp_path, stores)
    await restarted.submit(answer("format_consent", YES))
    restarted.bot_asks("who_calls")
    session = await the_session(stores)
    assert (await answers(stores, "sessions", session["key"]))["format"] == "video"


@pytest.mark.parametrize("typed", ["plan session", "Plan session!", "  PLAN SESSION  "])
async def test_plan_session_creates_a_record_under_a_new_key(
    tmp_path: Path, stores: Any, typed: str
) -> None:
    chat = journey_chat(tmp_path, stores)
    await chat.user(typed)
    chat.bot_says("Let's plan the session", "Which case reference")
    session = await the_session(stores)
    assert SESSION_KEY.fullmatch(session["key"])
    assert session["journey"] == session["open_journey"] == "session_planning.v1"
    assert session["status"] == "planning" and session["owner"] == "aad-worker-1"


# -- the planning templates on their own --------------------------------------------------------

MESSAGE = {
    "worker_name": WORKER_NAME,
    "work_mobile": WORK_MOBILE,
    "service_email": "hello@service.example",
    "out_of_hours_help": "out of hours, ring the example helpline",
    "session_kind": "follow_up",
    "session_day": "Thursday 3 December 2026",
    "session_time": "14:30",
    "by_format": "by phone",
    "who_calls": "service_user_calls",
    "reminder_text": False,
    "amendment": None,
}


def test_the_message_says_who_calls_and_which_kind_of_session() -> None:
    templates = Templates()
    follow_up = templates.text("pre_session_message", **MESSAGE)
    assert "our next session on Thursday 3 December 2026 at 14:30" in follow_up
    assert "Please call me then, on 07700 900456." in follow_up
    assert "take part by phone" in follow_up
    first = templates.text("pre_session_message", **{**MESSAGE, "session_kind": "introductory"})
    assert "It's great that you've come to us for support" in first
    assert "our first session" in first and "our next session" not in first
    worker_calls = templates.text("pre_session_message", **{**MESSAGE, "who_calls": "worker_calls"})
    assert "I'll call you then." in worker_calls and "Please call me" not in worker_calls


def test_the_contact_number_prompt_shows_the_number_on_file_only_when_there_is_one() -> None:
    templates = Templates()
    assert "07700 900123" in templates.text("ask/contact_number", number_on_file="07700 900123")
    fresh = templates.text("ask/contact_number", number_on_file=None)
    assert "best number" in fresh and "I have for them" not in fresh


def test_the_plan_summary_lists_each_reason_or_says_ready() -> None:
    templates = Templates()
    blocked = templates.text(
        "session_planned",
        case_reference=CASE,
        when="Thursday 3 December 2026, 14:30",
        reasons=["First reason.", "Second reason."],
    )
    assert "**not ready**" in blocked and "- First reason." in blocked
    assert "- Second reason." in blocked
    ready = templates.text(
        "session_planned", case_reference=CASE, when="Thursday 3 December 2026, 14:30", reasons=[]
    )
    assert "ready to go ahead" in ready and "not ready" not in ready
