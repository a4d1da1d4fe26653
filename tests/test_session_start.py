"""Session start on Teams: the checks in order, follow-ups reuse, and the session's end."""

import json
import logging
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import PIPELINE, create_app
from safeguarding.clock import FixedClock
from safeguarding.ports import Put, StoreUnavailable
from storage import memory_stores
from templates import Templates
from tests.conftest import make_settings
from tests.journeys import JOURNEY_ENV, NOW, answers, journey_chat
from tests.test_journey_fuzz import UNEXPECTED, drain, garbage, send
from tests.test_templates import HOSTILE
from tests.transcript import Chat, fixture
from tests.wrapped_documents import WrappedDocuments

CASE = "CR-1042"
SESSION = "S-AB3CD9"
WORKER = "aad-worker-1"
# Synthetic, and unlike any word the bot says itself, so a leak cannot hide.
SAFE_WORD = "Periwinkle"
ON_FILE = "+447700900123"
WORK_MOBILE = "+447700900456"
ADDRESS = "Flat 2, 10 Example Street, Leeds, LS1 4AP"

# ---------------------------------------------------------------------------------------------
# Records the planning and setup journeys would have written. One place, so these tests can
# switch to the real planning journey once it lands.


async def given_service_user(
    stores: Any,
    case: str = CASE,
    *,
    owner: str = WORKER,
    risk: str = "low",
    approval: str | None = None,
    identity_verified: bool = False,
    safe_word: str | None = None,
) -> None:
    """A service user set up with a name, date of birth, risk assessment and number on file."""
    answered = {
        "case_reference": case,
        "full_name": "Zoë O'Neil",
        "date_of_birth": "2015-03-12",
        "risk_level": risk,
        "contact_number": ON_FILE,
        **({"safe_word": safe_word} if safe_word else {}),
    }
    document: dict[str, Any] = {
        "key": case,
        "owner": owner,
        "created_at": (NOW - timedelta(days=30)).isoformat(),
        "open_journey": None,
        "answers": {
            question: {"value": value, "clause": "", "at": "", "by": owner, "complete": True}
            for question, value in answered.items()
        },
    }
    if approval:
        document["approval"] = {"status": approval}
    if identity_verified:
        document["identity_verified_at"] = (NOW - timedelta(days=7)).isoformat()
        document["identity_verified_by"] = owner
    await stores.documents.put(collection="service_users", key=case, document=document)


async def given_session(
    stores: Any,
    key: str = SESSION,
    *,
    case: str = CASE,
    kind: str = "introductory",
    starts_in: timedelta = timedelta(hours=4),
    owner: str = WORKER,
    status: str = "planned",
    ready: bool = True,
    blockers: tuple[str, ...] = (),
) -> None:
    """A session as the planning journey leaves it, with the worker's profile beside it."""
    answered = {
        "case_reference": case,
        "session_kind": kind,
        "format": "video",
        "format_consent": True,
        "contact_number": ON_FILE,
    }
    await stores.documents.put(
        collection="sessions",
        key=key,
        document={
            "key": key,
            "owner": owner,
            "created_at": (NOW - timedelta(days=2)).isoformat(),
            "open_journey": None,
            "status": status,
            "ready": ready,
            "blockers": list(blockers),
            "starts_at": (NOW + starts_in).isoformat(),
            "answers": {
                question: {"value": value, "clause": "", "at": "", "by": owner, "complete": True}
                for question, value in answered.items()
            },
        },
    )
    profile = {"work_mobile": WORK_MOBILE, "worker_name": "Sam Worker"}
    await stores.documents.put(
        collection="workers",
        key=owner,
        document={
            "key": owner,
            "owner": owner,
            "answers": {
                question: {"value": value, "clause": "", "at": "", "by": owner, "complete": True}
                for question, value in profile.items()
            },
        },
    )


# ---------------------------------------------------------------------------------------------
# Walking the journey


def overhear(chat: Chat) -> list[str]:
    """Keeps every reply the worker reads (text and card JSON), in order, as the test takes it."""
    heard: list[str] = []
    take = chat.next_reply

    def next_reply() -> Any:
        reply = take()
        cards = [attachment.content for attachment in reply.attachments or []]
        heard.append((reply.text or "") + json.dumps(cards, ensure_ascii=False))
        return reply

    chat.next_reply = next_reply  # type: ignore[method-assign]
    return heard


async def confirm(chat: Chat, question: str) -> None:
    """Presses the card's Done (or Yes) button for the question."""
    await chat.submit({"action": "answer", "question": question, "answer": "yes"})


async def walk_environment(chat: Chat) -> None:
    """The worker's checks (C4–C7), every one a yes but the earphones."""
    for question in (
        "phone_silent",
        "private_room",
        "own_children",
        "nothing_identifying",
        "comfortable_ready",
        "equipment_ready",
    ):
        chat.bot_asks(question)
        await confirm(chat, question)
    chat.bot_asks("earphones", "advised")
    await chat.user("no")


async def walk_from_notes(chat: Chat) -> None:
    """Note-taking explained, nobody else present, today's address, the number kept."""
    chat.bot_asks("notes_explained", "taking notes")
    await confirm(chat, "notes_explained")
    chat.bot_asks("people_present", "anyone else in the room")
    await chat.user("nobody")
    chat.bot_says("full address")
    await chat.user(ADDRESS)
    chat.bot_asks("contact_confirmed", "07700 900123", "within 5 minutes")
    await chat.user("yes")
    chat.bot_asks("worker_number_given", "07700 900456", "Work mobile only")
    await confirm(chat, "worker_number_given")


async def walk_introductory(chat: Chat, *, given_name: str = "ZOË  o’neil") -> None:
    """An introductory session from `start session` to the safe word, with one waiver."""
    await chat.user("start session")
    chat.bot_asks("introduced", "started safely", CASE, "ID badge")
    await confirm(chat, "introduced")
    chat.bot_asks("phone_silent")
    await confirm(chat, "phone_silent")
    chat.bot_asks("private_room", "overhear")
    await chat.user("no")
    chat.bot_says("note it on the session")
    await chat.user("Shared flat; my flatmate is out until 6pm and the door is shut.")
    for question in ("own_children", "nothing_identifying", "comfortable_ready", "equipment_ready"):
        chat.bot_asks(question)
        await chat.user("yes")
    chat.bot_asks("earphones")
    await chat.user("yes")
    chat.bot_says("identity check", "full name")
    await chat.user(given_name)
    chat.bot_asks("given_dob", "date of birth")
    await chat.user("12/03/2015")


# ---------------------------------------------------------------------------------------------
# The introductory session


async def test_an_introductory_session_starts_with_every_check_recorded_against_its_clause(
    tmp_path: Path, stores: Any
) -> None:
    await given_service_user(stores)
    await given_session(stores)
    chat = journey_chat(tmp_path, stores)
    await walk_introductory(chat)
    chat.bot_asks("notes_explained", "into their file")
    await confirm(chat, "notes_explained")
    chat.bot_asks("people_present")
    await chat.user("Sam Example, mother")
    chat.bot_asks("people_present", "1 person so far")
    await chat.submit(
        {
            "action": "answer",
            "question": "people_present",
            "name": "Jo Example",
            "relationship": "aunt",
        }
    )
    chat.bot_asks("people_present", "2 people so far")
    await chat.user("done")
    chat.bot_says("full address", "emergency")
    await chat.user(ADDRESS)
    chat.bot_asks("contact_confirmed", "07700 900123")
    await confirm(chat, "contact_confirmed")
    chat.bot_asks("worker_number_given", "07700 900456")
    await confirm(chat, "worker_number_given")
    chat.bot_says("safe word or gesture", "keep it private")
    await chat.user(SAFE_WORD)
    said = chat.bot_says("Session started at 10:00", "saved privately")
    assert SAFE_WORD not in said
    card = chat.bot_sends_card("in_session")
    assert card["version"] == "1.5"
    assert [action["data"] for action in card["actions"]] == [
        {"action": action, "session": SESSION} for action in IN_SESSION_ACTIONS
    ]
    chat.no_unread_replies()

    session = await stores.documents.get(collection="sessions", key=SESSION)
    assert session["status"] == "started" and session["started_at"] == NOW.isoformat()
    assert session["open_journey"] is None
    clauses = {question: entry["clause"] for question, entry in session["answers"].items()}
    assert {
        question: clauses.get(question)
        for question in (
            "introduced",
            "phone_silent",
            "private_room",
            "private_room_waiver",
            "own_children",
            "nothing_identifying",
            "comfortable_ready",
            "equipment_ready",
            "earphones",
            "given_name",
            "given_dob",
            "notes_explained",
            "people_present",
            "address_today",
            "contact_confirmed",
            "worker_number_given",
            "safe_word",
        )
    } == {
        "introduced": "B1",
        "phone_silent": "C4",
        "private_room": "C4",
        "private_room_waiver": "C4",
        "own_children": "C4",
        "nothing_identifying": "C5",
        "comfortable_ready": "C6",
        "equipment_ready": "C7",
        "earphones": "C7",
        "given_name": "B2",
        "given_dob": "B2",
        "notes_explained": "B3",
        "people_present": "C1",
        "address_today": "C2",
        "contact_confirmed": "C3",
        "worker_number_given": "C3",
        "safe_word": "B5",
    }
    stored = await answers(stores, "sessions", SESSION)
    assert stored["private_room"] is False
    assert stored["private_room_waiver"].startswith("Shared flat")
    assert "phone_silent_waiver" not in stored and "earphones_waiver" not in stored
    assert [(p["name"], p["relationship"]) for p in stored["people_present"]] == [
        ("Sam Example", "mother"),
        ("Jo Example", "aunt"),
    ]
    assert stored["address_today"] == {
        "lines": ["Flat 2", "10 Example Street", "Leeds"],
        "postcode": "LS1 4AP",
    }
    assert stored["contact_confirmed"] == ON_FILE

    service_user = await stores.documents.get(collection="service_users", key=CASE)
    assert service_user["identity_verified_at"] == NOW.isoformat()
    assert service_user["identity_verified_by"] == WORKER
    assert service_user["answers"]["safe_word"]["value"] == SAFE_WORD
    assert service_user["answers"]["safe_word"]["clause"] == "B5"
    audit = await stores.documents.find(collection="audit")
    assert SAFE_WORD not in str(audit) and "LS1 4AP" not in str(audit)


class IdentityUpdateFailsOnce(WrappedDocuments):
    """The Documents port, failing the first update of a service user's record (not answers)."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.failed = False

    async def put_all(self, puts: list[Put]) -> None:
        updates = {put.document.get("action") for put in puts if put.collection == "audit"}
        touches = {put.collection for put in puts}
        if not self.failed and "service_users" in touches and "update" in updates:
            self.failed = True
            raise StoreUnavailable("the disk is full")
        await self._inner.put_all(puts)


async def test_a_session_whose_service_user_cannot_be_updated_is_not_started_until_it_is(
    tmp_path: Path,
) -> None:
    inner = memory_stores()
    await given_service_user(inner)
    await given_session(inner)
    flaky = IdentityUpdateFailsOnce(inner.documents)
    chat = journey_chat(tmp_path, replace(inner, documents=flaky))
    await walk_introductory(chat)
    await walk_from_notes(chat)
    chat.bot_says("safe word or gesture", "keep it private")
    await chat.user(SAFE_WORD)
    chat.bot_says("can't save anything right now")
    chat.no_unread_replies()
    session = await inner.documents.get(collection="sessions", key=SESSION)
    assert flaky.failed and session is not None
    assert session["status"] == "planned" and session["open_journey"] is not None

    await chat.user(SAFE_WORD)  # trying again, as the apology asks
    chat.bot_says("Session started at 10:00", "saved privately")
    chat.bot_sends_card("in_session")
    chat.no_unread_replies()
    session = await inner.documents.get(collection="sessions", key=SESSION)
    service_user = await inner.documents.get(collection="service_users", key=CASE)
    assert session is not None and session["status"] == "started"
    assert service_user is not None and service_user["identity_verified_in"] == SESSION


async def test_the_identity_check_ignores_case_spacing_and_accents(
    tmp_path: Path, stores: Any
) -> None:
    await given_service_user(stores)
    await given_session(stores)
    chat = journey_chat(tmp_path, stores)
    await walk_introductory(chat, given_name="  zoe   O’NEIL ")
    chat.bot_asks("notes_explained")
    assert (await answers(stores, "sessions", SESSION))["given_name"] == "zoe O’NEIL"


async def test_an_identity_mismatch_stops_the_session_and_is_recorded(
    tmp_path: Path, stores: Any
) -> None:
    await given_service_user(stores)
    await given_session(stores)
    chat = journey_chat(tmp_path, stores)
    heard = overhear(chat)
    await walk_introductory(chat, given_name="Zoe O'Neill")
    chat.bot_says("doesn't match the case file", "don't go ahead", "line manager")
    chat.no_unread_replies()
    assert not any("O'Neill" in reply for reply in heard)

    session = await stores.documents.get(collection="sessions", key=SESSION)
    assert session["status"] == "stopped" and session["stopped"] == "identity_mismatch"
    assert session["stopped_at"] == NOW.isoformat() and "started_at" not in session
    audit = await stores.documents.find(collection="audit")
    assert [(e["action"], e["clause"]) for e in audit if e["action"] == "identity_mismatch"] == [
        ("identity_mismatch", "B2")
    ]
    service_user = await stores.documents.get(collection="service_users", key=CASE)
    assert "identity_verified_at" not in service_user

    await chat.user("where was i")
    chat.bot_says("nothing half-finished")
    await chat.user("start session")
    chat.bot_says("identity check didn't match", "line manager")


async def test_a_wrong_date_of_birth_is_a_mismatch_too(tmp_path: Path, stores: Any) -> None:
    await given_service_user(stores)
    await given_session(stores)
    chat = journey_chat(tmp_path, stores)
    await chat.user("start session")
    chat.bot_asks("introduced")
    await confirm(chat, "introduced")
    await walk_environment(chat)
    chat.bot_says("full name")
    await chat.user("Zoë O'Neil")
    chat.bot_asks("given_dob")
    await chat.submit({"action": "answer", "question": "given_dob", "answer": "2015-12-03"})
    chat.bot_says("doesn't match the case file")


# ---------------------------------------------------------------------------------------------
# Follow-up sessions


async def test_a_follow_up_reuses_identity_safe_word_and_number(
    tmp_path: Path, stores: Any
) -> None:
    await given_service_user(stores, identity_verified=True, safe_word=SAFE_WORD)
    await given_session(stores, kind="follow_up")
    chat = journey_chat(tmp_path, stores)
    heard = overhear(chat)
    await chat.user("start session")
    chat.bot_asks("introduced")
    await confirm(chat, "introduced")
    await walk_environment(chat)
    await walk_from_notes(chat)
    card = chat.bot_asks("safe_word_recalled", SAFE_WORD, "Only you can see this")
    await confirm(chat, "safe_word_recalled")
    chat.bot_says("Session started at 10:00")
    chat.bot_sends_card("in_session")
    chat.no_unread_replies()

    assert [reply for reply in heard if SAFE_WORD in reply] == [heard[-3]], (
        "the safe word is shown in the recall prompt only"
    )
    assert SAFE_WORD in card["body"][0]["text"]
    stored = await answers(stores, "sessions", SESSION)
    assert "given_name" not in stored and "given_dob" not in stored and "safe_word" not in stored
    assert stored["safe_word_recalled"] is True and stored["contact_confirmed"] == ON_FILE
    assert stored["phone_silent"] is True and stored["address_today"]["postcode"] == "LS1 4AP"


async def test_a_follow_up_with_no_safe_word_yet_agrees_one(tmp_path: Path, stores: Any) -> None:
    await given_service_user(stores, identity_verified=True)
    await given_session(stores, kind="follow_up")
    chat = journey_chat(tmp_path, stores)
    await chat.user("start session")
    chat.bot_asks("introduced")
    await confirm(chat, "introduced")
    await walk_environment(chat)
    await walk_from_notes(chat)
    chat.bot_says("agree a safe word")
    await chat.user(SAFE_WORD)
    chat.bot_says("Session started at 10:00")
    service_user = await stores.documents.get(collection="service_users", key=CASE)
    assert service_user["answers"]["safe_word"]["value"] == SAFE_WORD


async def test_a_follow_up_before_any_verified_identity_does_not_ask_for_it(
    tmp_path: Path, stores: Any
) -> None:
    await given_service_user(stores, safe_word=SAFE_WORD)
    await given_session(stores, kind="follow_up")
    chat = journey_chat(tmp_path, stores)
    await chat.user("start session")
    chat.bot_asks("introduced")
    await confirm(chat, "introduced")
    await walk_environment(chat)
    chat.bot_asks("notes_explained")


# ---------------------------------------------------------------------------------------------
# Bad input


async def test_bad_answers_are_re_asked_kindly_and_nothing_is_lost(
    tmp_path: Path, stores: Any
) -> None:
    await given_service_user(stores, identity_verified=True, safe_word=SAFE_WORD)
    await given_session(stores, kind="follow_up")
    chat = journey_chat(tmp_path, stores)
    await chat.user("start session")
    chat.bot_asks("introduced")
    await chat.user("no")
    chat.bot_asks("introduced", "needs to be done before the session")
    await chat.submit({"action": "answer", "question": "introduced", "answer": "yes"})
    chat.bot_asks("phone_silent")
    for garbled in (
        {"action": "answer", "question": "introduced", "answer": "yes"},
        {"action": "answer", "question": "phone_silent", "answer": 1},
        {"action": "answer", "question": "phone_silent"},
    ):
        await chat.submit(garbled)
        chat.bot_asks("phone_silent", "earlier question")
    await chat.user("maybe")
    chat.bot_asks("phone_silent", "yes or a no")
    await chat.user("yes")
    for question in (
        "private_room",
        "own_children",
        "nothing_identifying",
        "comfortable_ready",
        "equipment_ready",
        "earphones",
    ):
        chat.bot_asks(question)
        await chat.user("yes")
    chat.bot_asks("notes_explained")
    await chat.user("yes")
    chat.bot_asks("people_present")
    await chat.user("Sam Example")
    chat.bot_asks("people_present", "one person at a time")
    await chat.user("nobody")
    chat.bot_says("full address")
    await chat.user("10 Example Street, Leeds")
    chat.bot_says("including the postcode", "full address")
    await chat.user("10 Example Street, Leeds, LS1")
    chat.bot_says("including the postcode")
    await chat.user(ADDRESS)
    chat.bot_asks("contact_confirmed")
    await chat.user("+33 6 12 34 56 78")
    chat.bot_asks("contact_confirmed", "not a UK number", "07700 900123")
    await chat.user("no")
    chat.bot_asks("contact_confirmed", "send their new number")
    await chat.user("07700 900999")
    chat.bot_asks("worker_number_given")

    stored = await answers(stores, "sessions", SESSION)
    assert stored["introduced"] is True and stored["phone_silent"] is True
    assert stored["people_present"] == []
    assert stored["address_today"]["postcode"] == "LS1 4AP"
    assert stored["contact_confirmed"] == "+447700900999"

    await confirm(chat, "worker_number_given")
    chat.bot_asks("safe_word_recalled")
    await confirm(chat, "safe_word_recalled")
    chat.bot_says("Session started")
    service_user = await stores.documents.get(collection="service_users", key=CASE)
    assert service_user["answers"]["contact_number"]["value"] == "+447700900999"
    assert service_user["answers"]["contact_number"]["clause"] == "C3"


# ---------------------------------------------------------------------------------------------
# The safe word stays private


async def test_the_safe_word_is_never_logged_nor_echoed(
    tmp_path: Path, stores: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await given_service_user(stores)
    await given_session(stores)
    await given_session(stores, "S-FOLLOW", kind="follow_up", starts_in=timedelta(hours=6))
    chat = journey_chat(tmp_path, stores)
    heard = overhear(chat)

    await chat.user("start session")
    chat.bot_sends_card("choose_session")
    await chat.submit({"action": "start_session", "session": SESSION})
    chat.bot_asks("introduced")
    await confirm(chat, "introduced")
    await walk_environment(chat)
    chat.bot_says("full name")
    await chat.user("Zoë O'Neil")
    chat.bot_asks("given_dob")
    await chat.user("12/03/2015")
    await walk_from_notes(chat)
    chat.bot_says("safe word")
    await chat.user("")
    chat.bot_says("didn't catch an answer", "safe word")
    await chat.user("back")
    chat.bot_asks("worker_number_given", "change that one")
    await confirm(chat, "worker_number_given")
    chat.bot_says("safe word")
    await chat.user(SAFE_WORD)
    chat.bot_says("Session started")
    chat.bot_sends_card("in_session")
    await chat.submit({"action": "end_session", "session": SESSION})
    chat.bot_says("Session ended")
    chat.bot_asks("end_mood")
    await chat.submit({"action": "end_session", "session": SESSION})
    chat.bot_says("already ended")
    await chat.submit({"action": "end_session", "session": "S-NOSUCH"})
    chat.bot_says("Nothing has changed")
    await chat.user("cancel")
    chat.bot_says("Everything you'd answered is saved")
    assert not any(SAFE_WORD in reply for reply in heard), "echoed before any follow-up"

    await chat.user("start session")
    chat.bot_asks("introduced")
    await confirm(chat, "introduced")
    await walk_environment(chat)
    await walk_from_notes(chat)
    chat.bot_asks("safe_word_recalled", SAFE_WORD)
    await confirm(chat, "safe_word_recalled")
    chat.bot_says("Session started")
    chat.bot_sends_card("in_session")
    chat.no_unread_replies()

    assert sum(SAFE_WORD in reply for reply in heard) == 1
    logged = [
        f"{record.name} {record.getMessage()} {record.exc_text or ''}" for record in caplog.records
    ]
    assert any("refused an in-session action" in line for line in logged), "capture is off"
    assert not [line for line in logged if SAFE_WORD.lower() in line.lower()]


async def test_session_start_refuses_to_run_in_a_channel(tmp_path: Path, stores: Any) -> None:
    await given_service_user(stores, safe_word=SAFE_WORD, identity_verified=True)
    await given_session(stores, kind="follow_up")
    chat = journey_chat(tmp_path, stores)
    await chat.receive(fixture("channel_mention", text="<at>SafeSession</at> start session"))
    chat.bot_says("personal chat")
    channel_press = fixture("channel_mention", text=None)
    channel_press.value = {"action": "start_session", "session": SESSION}
    channel_press.from_property.aad_object_id = WORKER
    await chat.receive(channel_press)
    chat.bot_says("personal chat")
    chat.no_unread_replies()
    session = await stores.documents.get(collection="sessions", key=SESSION)
    assert session["open_journey"] is None and "introduced" not in session["answers"]


# ---------------------------------------------------------------------------------------------
# Which session


async def test_a_session_waiting_for_manager_approval_cannot_start(
    tmp_path: Path, stores: Any
) -> None:
    await given_service_user(stores, risk="medium", approval="requested")
    await given_session(stores)  # marked ready, but the approval is still outstanding
    chat = journey_chat(tmp_path, stores)
    await chat.user("start session")
    chat.bot_says("None of your sessions today can start", CASE, "14:00", "manager's approval")
    chat.no_unread_replies()
    session = await stores.documents.get(collection="sessions", key=SESSION)
    assert session["open_journey"] is None and session["status"] == "planned"

    await given_service_user(stores, risk="medium", approval="approved")
    await chat.user("start session")
    chat.bot_asks("introduced", CASE)


async def test_a_session_not_ready_says_why(tmp_path: Path, stores: Any) -> None:
    await given_service_user(stores)
    await given_session(stores, status="blocked", ready=False, blockers=("format_consent_missing",))
    chat = journey_chat(tmp_path, stores)
    await chat.user("start session")
    chat.bot_says("not ready yet", "specific consent", "plan session")
    chat.no_unread_replies()


async def test_with_nothing_today_the_worker_is_told_so(tmp_path: Path, stores: Any) -> None:
    await given_service_user(stores)
    await given_session(stores, starts_in=timedelta(days=1))
    await given_session(stores, "S-OTHERS", owner="aad-worker-2")
    chat = journey_chat(tmp_path, stores)
    await chat.user("start session")
    chat.bot_says("no sessions planned for today")
    chat.no_unread_replies()


async def test_several_sessions_today_offer_a_choice_without_names(
    tmp_path: Path, stores: Any
) -> None:
    await given_service_user(stores)
    await given_service_user(stores, "CR-2077")
    await given_session(stores, "S-LATER1", case="CR-2077", starts_in=timedelta(hours=6))
    await given_session(stores, starts_in=timedelta(hours=1))
    await given_session(stores, "S-NOTRDY", ready=False, status="blocked")
    chat = journey_chat(tmp_path, stores)
    await chat.user("start session")
    card = chat.bot_sends_card("choose_session")
    assert [(a["title"], a["data"]) for a in card["actions"]] == [
        ("CR-1042 at 11:00", {"action": "start_session", "session": SESSION}),
        ("CR-2077 at 16:00", {"action": "start_session", "session": "S-LATER1"}),
    ]
    assert "Zoë" not in json.dumps(card, ensure_ascii=False)
    for stale in ("S-NOTRDY", "S-NOSUCH", 42):
        await chat.submit({"action": "start_session", "session": stale})
        chat.bot_says("can't be started from this card")
    await chat.submit({"action": "start_session", "session": "S-LATER1"})
    chat.bot_asks("introduced", "CR-2077")


async def test_a_session_cannot_be_started_twice(tmp_path: Path, stores: Any) -> None:
    await given_service_user(stores, identity_verified=True, safe_word=SAFE_WORD)
    await given_session(stores, kind="follow_up")
    chat = journey_chat(tmp_path, stores)
    await chat.user("start session")
    chat.bot_asks("introduced")
    await confirm(chat, "introduced")
    chat.bot_asks("phone_silent")
    await chat.user("cancel")
    chat.bot_says("Everything you'd answered is saved")
    await chat.user("start session")
    chat.bot_asks("phone_silent", "already started this one")
    await confirm(chat, "phone_silent")
    for question in (
        "private_room",
        "own_children",
        "nothing_identifying",
        "comfortable_ready",
        "equipment_ready",
    ):
        chat.bot_asks(question)
        await confirm(chat, question)
    chat.bot_asks("earphones")
    await chat.user("yes")
    await walk_from_notes(chat)
    chat.bot_asks("safe_word_recalled")
    await confirm(chat, "safe_word_recalled")
    chat.bot_says("Session started at 10:00")
    chat.bot_sends_card("in_session")
    await chat.user("start session")
    # One contact at a time (E4): it offers to pause or end the running one, not a second start.
    warning = chat.bot_sends_card("one_contact")
    assert warning["actions"][0]["data"]["session"] == SESSION
    chat.no_unread_replies()
    session = await stores.documents.get(collection="sessions", key=SESSION)
    assert session["started_at"] == NOW.isoformat()


# ---------------------------------------------------------------------------------------------
# Interruptions and restarts


async def test_cancel_and_where_was_i_resume_the_session_start(tmp_path: Path, stores: Any) -> None:
    await given_service_user(stores)
    await given_session(stores)
    chat = journey_chat(tmp_path, stores)
    await chat.user("start session")
    chat.bot_asks("introduced")
    await confirm(chat, "introduced")
    chat.bot_asks("phone_silent")
    await chat.user("no")
    chat.bot_says("reason your phone can't be on silent")
    await chat.user("cancel")
    chat.bot_says("Everything you'd answered is saved")
    await chat.user("where was i")
    chat.bot_says("where you were", "reason your phone can't be on silent")
    await chat.user("back")
    chat.bot_asks("phone_silent", "change that one")
    await chat.user("yes")
    chat.bot_asks("private_room")
    stored = await answers(stores, "sessions", SESSION)
    assert stored["introduced"] is True and stored["phone_silent"] is True


async def test_a_restart_mid_start_continues_at_the_same_question(
    tmp_path: Path, stores: Any
) -> None:
    await given_service_user(stores)
    await given_session(stores)
    chat = journey_chat(tmp_path, stores)
    await chat.user("start session")
    chat.bot_asks("introduced")
    await confirm(chat, "introduced")
    await walk_environment(chat)
    chat.bot_says("full name")

    app = create_app(make_settings(tmp_path, **JOURNEY_ENV), stores=stores, clock=FixedClock(NOW))
    restarted = Chat(app[PIPELINE], conversation="a:personal-worker-1")
    await restarted.user("Zoë O'Neil")
    restarted.bot_asks("given_dob")


async def test_where_was_i_picks_the_session_start_over_an_older_open_journey(
    tmp_path: Path, stores: Any
) -> None:
    await given_service_user(stores)
    await given_session(stores)
    clock = FixedClock(NOW - timedelta(minutes=5))
    chat = journey_chat(tmp_path, stores, clock=clock)
    await chat.user("new service user")
    chat.bot_says("Which case reference")
    await chat.user("CR-3001")
    chat.bot_says("full name")
    await chat.user("cancel")
    chat.bot_says("saved")
    clock.moment = NOW
    await chat.user("start session")
    chat.bot_asks("introduced")
    await chat.user("cancel")
    chat.bot_says("saved")
    await chat.user("where was i")
    chat.bot_asks("introduced", "where you were")


# ---------------------------------------------------------------------------------------------
# Ending the session


async def test_end_session_records_the_end_and_asks_how_it_ended(
    tmp_path: Path, stores: Any
) -> None:
    await given_service_user(stores)
    await given_session(stores, status="started")
    clock = FixedClock(NOW)
    chat = journey_chat(tmp_path, stores, clock=clock)
    clock.moment = NOW + timedelta(minutes=50)
    await chat.submit({"action": "end_session", "session": SESSION})
    chat.bot_says("Session ended at 10:50")
    chat.bot_asks("end_mood", "close the session properly")
    session = await stores.documents.get(collection="sessions", key=SESSION)
    assert session["status"] == "ended" and session["ending"] == "normal"
    assert session["ended_at"] == (NOW + timedelta(minutes=50)).isoformat()

    clock.moment = NOW + timedelta(minutes=55)
    await chat.submit({"action": "end_session", "session": SESSION})
    chat.bot_says("already ended at 10:50")
    session = await stores.documents.get(collection="sessions", key=SESSION)
    assert session["ended_at"] == (NOW + timedelta(minutes=50)).isoformat()


@pytest.mark.parametrize(
    "value",
    [
        {"action": "end_session", "session": "S-NOSUCH"},
        {"action": "end_session", "session": "S-THEIRS"},
        {"action": "end_session", "session": "S-PLANND"},
        {"action": "end_session", "session": 5},
        {"action": "end_session", "session": "S" * 500},
        {"action": "end_session"},
    ],
)
async def test_a_stale_or_foreign_end_session_is_refused_kindly(
    tmp_path: Path, stores: Any, value: dict[str, Any]
) -> None:
    await given_service_user(stores)
    await given_session(stores, "S-THEIRS", owner="aad-worker-2", status="started")
    await given_session(stores, "S-PLANND")
    chat = journey_chat(tmp_path, stores)
    await chat.submit(value)
    chat.bot_says("Nothing has changed")
    chat.no_unread_replies()
    for key in ("S-THEIRS", "S-PLANND"):
        session = await stores.documents.get(collection="sessions", key=key)
        assert "ended_at" not in session and session["status"] in ("started", "planned")


# ---------------------------------------------------------------------------------------------
# The cards

IN_SESSION_ACTIONS = (
    "connection_lost",
    "safe_word_used",
    "emergency",
    "behaviour_end",
    "end_session",
)


def test_the_in_session_card_reminds_to_check_in_and_ends_only_its_own_session() -> None:
    card = Templates().card(
        "in_session", session='S-"1"', case_reference=HOSTILE, started_time="10:00"
    )
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    text = " ".join(block["text"] for block in card["body"])
    assert HOSTILE in text
    assert all(cue in text for cue in ("how they're feeling", "tone", "silences", "pace"))
    assert [action["data"] for action in card["actions"]] == [
        {"action": action, "session": 'S-"1"'} for action in IN_SESSION_ACTIONS
    ]
    assert card["actions"][-1]["title"] == "End session"


def test_the_choice_card_offers_one_button_per_session() -> None:
    sessions = [
        {"key": "S-1", "case_reference": HOSTILE, "time": "11:00"},
        {"key": "S-2", "case_reference": "CR-2077", "time": "16:00"},
    ]
    card = Templates().card("choose_session", sessions=sessions)
    assert card["version"] == "1.5" and "2 sessions" in card["body"][0]["text"]
    assert [action["data"] for action in card["actions"]] == [
        {"action": "start_session", "session": "S-1"},
        {"action": "start_session", "session": "S-2"},
    ]
    assert card["actions"][0]["title"] == f"{HOSTILE} at 11:00"


# ---------------------------------------------------------------------------------------------
# Anything at any step


START_SCRIPT: tuple[str, ...] = (
    "start session",
    "yes",
    *("yes",) * 7,
    "Zoë O'Neil",
    "12/03/2015",
    "yes",
    "nobody",
    ADDRESS,
    "yes",
    "yes",
    SAFE_WORD,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
async def test_garbage_at_any_step_of_session_start_loses_nothing(
    tmp_path: Path, data: st.DataObject
) -> None:
    stores = memory_stores()
    await given_service_user(stores)
    await given_session(stores)
    chat = journey_chat(tmp_path, stores)
    step = data.draw(st.integers(min_value=1, max_value=len(START_SCRIPT) - 1))
    for typed in START_SCRIPT[:step]:
        await chat.user(typed)
    drain(chat)
    before = await stores.documents.get(collection="sessions", key=SESSION)

    for item in data.draw(garbage):
        await send(chat, item)
        replies = drain(chat)
        assert replies, "every message gets an answer"
        assert all(reply.text != UNEXPECTED for reply in replies)

    after = await stores.documents.get(collection="sessions", key=SESSION)
    for question, entry in before["answers"].items():
        if entry.get("complete", True):
            assert after["answers"][question]["value"] == entry["value"]
    for typed in START_SCRIPT[step:]:
        await chat.user(typed)
    replies = drain(chat)
    assert all(reply.text != UNEXPECTED for reply in replies)
    assert not any(SAFE_WORD in (reply.text or "") for reply in replies)
