"""The audit log: every disclosure of sensitive data is in it, and nothing the bot does edits it."""

import ast
import inspect
from dataclasses import replace
from pathlib import Path
from typing import Any

from app import PIPELINE, create_app
from safeguarding.clock import FixedClock
from safeguarding.ports import Put
from storage import memory_stores
from tests.conftest import make_settings
from tests.journeys import JOURNEY_ENV, NOW, journey_chat
from tests.test_session_events import in_session
from tests.test_session_planning import (
    chat_for,
    finish_first_plan,
    plan_to_contact_number,
    put_service_user,
    the_message,
)
from tests.test_session_start import (
    SAFE_WORD,
    SESSION,
    WORKER,
    confirm,
    given_service_user,
    given_session,
    walk_environment,
    walk_from_notes,
)
from tests.transcript import Chat
from tests.wrapped_documents import WrappedDocuments

ROOT = Path(__file__).resolve().parent.parent
EVENT_FIELDS = {"key", "day", "at", "actor", "action", "record", "field", "clause", "reason"}
VALUES = (SAFE_WORD, "900123", "07700", "Example Street", "LS1 4AP", "Jo Worker")


async def disclosures(stores: Any) -> list[tuple[str, str, str, str, str]]:
    """(actor, record, field, clause, reason) of every disclose event, by time, then sorted."""
    events = await stores.documents.find(collection="audit", where={"action": "disclose"})
    for event in events:
        assert set(event) == EVENT_FIELDS
        assert not any(value in str(event) for value in VALUES), event
    # The clock stands still in these tests: events of one moment come in no particular order.
    return [
        (event["actor"], event["record"], event["field"], event["clause"], event["reason"])
        for event in sorted(events, key=lambda e: (e["at"], e["record"], e["field"], e["reason"]))
    ]


# -- disclosures --------------------------------------------------------------------------------


async def test_the_recalled_safe_word_and_the_number_are_audited_each_time_shown(
    tmp_path: Path, stores: Any
) -> None:
    await given_service_user(stores, identity_verified=True, safe_word=SAFE_WORD)
    await given_session(stores, kind="follow_up")
    chat = journey_chat(tmp_path, stores)
    await chat.user("start session")
    chat.bot_asks("introduced")
    await confirm(chat, "introduced")
    await walk_environment(chat)
    await walk_from_notes(chat)
    chat.bot_asks("safe_word_recalled", SAFE_WORD)
    await chat.user("help")  # the prompt, and the safe word, shown a second time
    chat.bot_asks("safe_word_recalled", SAFE_WORD)
    await confirm(chat, "safe_word_recalled")
    chat.bot_says("Session started")

    record = f"sessions/{SESSION}"
    assert await disclosures(stores) == [
        (WORKER, record, "contact_number", "C3", "prompt:contact_confirmed"),
        (WORKER, record, "safe_word", "B5", "prompt:safe_word_recalled"),
        (WORKER, record, "safe_word", "B5", "prompt:safe_word_recalled"),
    ]


async def test_an_agreed_safe_word_is_typed_not_shown_so_nothing_is_disclosed(
    tmp_path: Path, stores: Any
) -> None:
    await given_service_user(stores, identity_verified=True)
    await given_session(stores, kind="follow_up")
    chat = journey_chat(tmp_path, stores)
    await chat.user("start session")
    await confirm(chat, "introduced")
    for question in (
        "phone_silent",
        "private_room",
        "own_children",
        "nothing_identifying",
        "comfortable_ready",
        "equipment_ready",
        "earphones",
        "notes_explained",
    ):
        await confirm(chat, question)
    await chat.user("nobody")
    await chat.user("Flat 2, 10 Example Street, Leeds, LS1 4AP")
    await chat.user("07700 900999")  # a new number, after the one on file was shown
    await confirm(chat, "worker_number_given")
    await chat.user(SAFE_WORD)
    fields = [field for _actor, _record, field, _clause, _reason in await disclosures(stores)]
    assert fields == ["contact_number"]  # the number on file was shown once, to be checked


async def test_the_number_on_file_and_the_pre_session_message_are_audited_at_planning(
    tmp_path: Path, stores: Any
) -> None:
    await put_service_user(stores)
    chat = chat_for(tmp_path, stores)
    await plan_to_contact_number(chat)
    await finish_first_plan(chat)
    chat.bot_says("ready to go ahead")
    the_message(chat)
    [(_, first, *rest)] = await disclosures(stores)
    assert rest == ["pre_session_message", "A5", "to_copy_to_the_family"]

    await plan_to_contact_number(chat)
    chat.bot_says("The number I have for them is 07700 900123")
    [number] = [event for event in await disclosures(stores) if event[2] == "contact_number"]
    assert number[2:] == ("contact_number", "C3", "prompt:contact_number")
    assert number[1] != first  # the new session's record


async def test_the_number_shown_when_the_connection_drops_is_audited(
    tmp_path: Path, stores: Any
) -> None:
    s = await in_session(tmp_path, stores)
    await s.worker.submit({"action": "connection_lost", "session": SESSION})
    s.worker.bot_sends_card("connection_lost")
    s.later(5)
    assert await s.scheduler.run_due() == 1
    s.worker.bot_says("Call them now", "07700 900123")
    record = f"sessions/{SESSION}"
    assert await disclosures(stores) == [
        (WORKER, record, "contact_number", "C3", "connection_lost"),
        (WORKER, record, "contact_number", "C3", "call_back_now"),
    ]


async def test_the_follow_up_message_given_to_copy_is_audited(tmp_path: Path, stores: Any) -> None:
    s = await in_session(tmp_path, stores)
    await s.worker.submit({"action": "end_session", "session": SESSION})
    for typed in ("settled", "Practise breathing.", "yes", "We talked about sleep.", "none"):
        await s.worker.user(typed)
    assert await disclosures(stores) == [
        (WORKER, f"sessions/{SESSION}", "follow_up_message", "C10", "to_copy_to_the_family")
    ]


# -- nothing the bot does edits the log -----------------------------------------------------------


def _mentions_the_audit_collection(tree: ast.AST) -> list[int]:
    """Lines naming the audit collection: the string "audit" or the AUDIT constant."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if (isinstance(node, ast.Constant) and node.value == "audit")
        or (isinstance(node, ast.Name) and node.id == "AUDIT")
        or (isinstance(node, ast.alias) and node.name == "AUDIT")
    ]


def test_only_the_records_module_and_the_retention_purge_name_the_audit_collection() -> None:
    allowed = {
        "safeguarding/records.py",  # Records: appends, nothing else
        "safeguarding/retention.py",  # the nightly purge, after the audit period
        "safeguarding/case_records.py",  # subject access reads it
    }
    found = {}
    for folder in ("bot", "dialogs", "safeguarding", "templates"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            lines = _mentions_the_audit_collection(ast.parse(path.read_text()))
            if lines and name not in allowed:
                found[name] = lines
    assert found == {}, "only Records.audit may write the audit log"


class WatchedDocuments(WrappedDocuments):
    """The Documents port, failing any audit write that is not a Records append."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.appended = 0

    async def put(self, *, collection: str, key: str, document: dict[str, Any]) -> None:
        await self._watch(collection, key, document)
        await self._inner.put(collection=collection, key=key, document=document)

    async def put_all(self, puts: list[Put]) -> None:
        events = [put.key for put in puts if put.collection == "audit"]
        assert len(events) == len(set(events)), "one event written twice in one write"
        for put in puts:
            await self._watch(put.collection, put.key, put.document)
        await self._inner.put_all(puts)

    async def _watch(self, collection: str, key: str, document: dict[str, Any]) -> None:
        if collection != "audit":
            return
        callers = {(Path(f.filename).as_posix(), f.function) for f in inspect.stack()}
        assert any(
            file.endswith("safeguarding/records.py")
            and function in {"audit", "_put_audited", "store_answer"}
            for file, function in callers
        ), "an audit event written other than by Records"
        assert await self._inner.get(collection=collection, key=key) is None, "overwritten"
        assert set(document) == EVENT_FIELDS
        self.appended += 1

    async def delete(self, *, collection: str, key: str) -> bool:
        assert collection != "audit", "an audit event deleted through the bot"
        return bool(await self._inner.delete(collection=collection, key=key))


async def test_no_command_or_card_action_edits_or_deletes_an_audit_event(tmp_path: Path) -> None:
    inner = memory_stores()
    watched = WatchedDocuments(inner.documents)
    stores = replace(inner, documents=watched)
    await given_service_user(stores, safe_word=SAFE_WORD, identity_verified=True)
    await given_session(stores, status="started")
    await stores.documents.put(
        collection="escalations",
        key="E-ABCDEF",
        document={"key": "E-ABCDEF", "worker": WORKER, "status": "posted", "session_key": SESSION},
    )
    await stores.documents.put(
        collection="tasks",
        key="T-ABCDEF",
        document={"key": "T-ABCDEF", "owner": WORKER, "status": "open", "session": SESSION},
    )
    env = {
        **JOURNEY_ENV,
        "SAFESESSION_ADMINS": WORKER,
        "SAFESESSION_MANAGERS": f"{WORKER}:Sam Worker",
    }
    app = create_app(
        make_settings(tmp_path, **env), stores=stores, clock=FixedClock(NOW), run_scheduler=False
    )
    bot = app[PIPELINE].bot
    owner = Chat(app[PIPELINE], worker="worker-1", conversation="a:personal-worker-1")
    stranger = Chat(app[PIPELINE], worker="worker-2", conversation="a:personal-2", beside=owner)
    value = {
        "session": SESSION,
        "escalation": "E-ABCDEF",
        "task": "T-ABCDEF",
        "case_reference": "CR-1042",
        "kind": "other",
        "outcome": "phone",
    }
    await owner.user("hi")
    before = {e["key"]: e for e in await inner.documents.find(collection="audit")}
    for chat in (owner, stranger):
        for command in bot._commands:
            await chat.user(command)
            await chat.user("cancel")
        for action in bot._card_actions:
            await chat.submit({**value, "action": action})
            await chat.user("cancel")
        chat.adapter.activity_buffer.clear()
    after = {e["key"]: e for e in await inner.documents.find(collection="audit")}
    assert all(after[key] == event for key, event in before.items()), "an audit event changed"
    assert watched.appended == len(after) - len(before) > 0
    assert len(bot._commands) >= 13 and len(bot._card_actions) >= 20
