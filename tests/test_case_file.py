"""`notes copied`: the worker confirms a session's notes are in the case file, so it can go."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from safeguarding.clock import FixedClock
from safeguarding.records import Records
from safeguarding.retention import Retention, RetentionPolicy
from templates import Templates
from tests.journeys import NOW, journey_chat
from tests.test_session_start import SESSION, WORKER, given_service_user, given_session


async def end(stores: Any, key: str = SESSION, *, days_ago: float = 0, **fields: Any) -> None:
    """Marks a session as ended, days_ago."""
    record = await stores.documents.get(collection="sessions", key=key)
    moment = (NOW - timedelta(days=days_ago)).isoformat()
    record.update(status="ended", started_at=moment, ended_at=moment, ending="normal", **fields)
    await stores.documents.put(collection="sessions", key=key, document=record)


async def test_notes_copied_lists_ended_sessions_and_records_the_confirmation(
    tmp_path: Path, stores: Any
) -> None:
    await given_service_user(stores)
    await given_session(stores, status="started")
    await given_session(stores, "S-OLDER2", status="started")
    await given_session(stores, "S-PLANND", status="planned")
    await end(stores)
    await end(stores, "S-OLDER2", days_ago=20)
    chat = journey_chat(tmp_path, stores)

    await chat.user("notes copied")
    card = chat.bot_sends_card("notes_copied")
    listed = [item for item in card["body"] if item["type"] == "Container"]
    assert [item["id"] for item in listed] == ["session-S-OLDER2", f"session-{SESSION}"]
    assert (
        "overdue" in listed[0]["items"][1]["text"]
        and "overdue" not in listed[1]["items"][1]["text"]
    )
    button = listed[1]["items"][2]["actions"][0]
    assert button["data"] == {"action": "notes_copied", "session": SESSION}

    await chat.submit(button["data"])
    chat.bot_says(f"session {SESSION} is marked as copied", "on Thursday 25 February 2027")
    record = await stores.documents.get(collection="sessions", key=SESSION)
    assert record["copied_to_case_file_at"] == NOW.isoformat()
    [event] = await stores.documents.find(
        collection="audit", where={"record": f"sessions/{SESSION}", "action": "update"}
    )
    assert event["field"] == "copied_to_case_file_at" and event["actor"] == WORKER

    await chat.submit(button["data"])
    chat.bot_says("was already marked as copied", "Thursday 25 February 2027")
    await chat.user("notes copied")
    card = chat.bot_sends_card("notes_copied")
    assert [item["id"] for item in card["body"] if item["type"] == "Container"] == [
        "session-S-OLDER2"
    ]
    chat.no_unread_replies()


async def test_a_confirmed_session_goes_at_the_next_purge_after_the_period(
    tmp_path: Path, stores: Any
) -> None:
    await given_service_user(stores)
    await given_session(stores, status="started")
    await end(stores)
    chat = journey_chat(tmp_path, stores)
    await chat.submit({"action": "notes_copied", "session": SESSION})
    chat.bot_says("on Thursday 25 February 2027")
    clock = FixedClock(NOW + timedelta(days=90, minutes=-1))
    retention = Retention(
        documents=stores.documents,
        records=Records(stores.documents, clock),
        policy=RetentionPolicy(),
    )
    await retention.purge()
    assert await stores.documents.get(collection="sessions", key=SESSION) is not None
    clock.moment = datetime(2027, 2, 25, 3, 0, tzinfo=UTC)  # the night's purge, as promised
    await retention.purge()
    assert await stores.documents.get(collection="sessions", key=SESSION) is None


async def test_only_the_workers_own_ended_sessions_can_be_confirmed(
    tmp_path: Path, stores: Any
) -> None:
    await given_service_user(stores)
    await given_session(stores, status="started")
    chat = journey_chat(tmp_path, stores)
    await chat.submit({"action": "notes_copied", "session": SESSION})
    chat.bot_says(f"Session {SESSION} hasn't ended yet")
    await end(stores)

    other = journey_chat(tmp_path, stores, worker="worker-2")
    await other.user("notes copied")
    other.bot_says("no ended sessions waiting")
    await other.submit({"action": "notes_copied", "session": SESSION})
    other.bot_says("couldn't read that card")
    await other.submit({"action": "notes_copied", "session": "x" * 500})
    other.bot_says("couldn't read that card")
    record = await stores.documents.get(collection="sessions", key=SESSION)
    assert "copied_to_case_file_at" not in record
    refused = await stores.documents.find(collection="audit", where={"action": "refused"})
    assert sorted((event["actor"], event["record"]) for event in refused) == [
        ("aad-worker-2", f"sessions/{SESSION}"),
        ("aad-worker-2", "sessions/unknown"),
    ]


def test_the_ending_says_how_to_confirm_the_notes_are_copied() -> None:
    assert "notes copied" in Templates().text("ending_notes_reminder")
