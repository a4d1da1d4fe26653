"""Replayed and duplicated activities (same id, same conversation) are processed once.

The ids are kept in the store (`seen_activities`, a day per id), so this holds across a restart
and across instances sharing one database.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ConversationAccount

from app import create_app
from bot.replay_guard import ReplayGuard
from safeguarding.clock import FixedClock
from storage import postgres_stores
from storage.documents import MemoryDocuments
from tests.attack.conftest import Site
from tests.conftest import Served, make_settings
from tests.http_chat import HttpChat
from tests.journeys import JOURNEY_ENV, NOW
from tests.storage.postgres_server import scratch_schema
from tests.stub_connector import StubConnector

CASE = "CR-3001"


async def at_the_name_question(worker: HttpChat) -> None:
    """The worker has started setting up a service user and is asked their full name."""
    for typed in ("new service user", CASE):
        assert await worker.says(typed) == 201
    assert "full name" in worker.new_replies()[-1]["text"]


async def bot_state(site: Site) -> str:
    """The e_tag of the conversation's dialog state: any write changes it."""
    key = "msteams/conversations/a:personal-worker-1"
    return str((await site.stores.bot_storage.read([key]))[key]["e_tag"])


async def test_a_journey_answer_sent_twice_is_taken_once(site: Site) -> None:
    worker = site.person("worker-1")
    await at_the_name_question(worker)
    answer = worker.activity(text="Alex Example")

    assert await worker.post(answer) == 201
    [asked] = worker.new_replies()
    assert asked["attachments"][0]["content"]["actions"][0]["data"]["question"] == "date_of_birth"
    stored, state = await site.stored(), await bot_state(site)

    assert await worker.post(answer) == 201  # Teams retrying, or someone replaying it
    assert worker.new_replies() == []
    assert await site.stored() == stored
    assert await bot_state(site) == state

    # The journey carries on from where it was: the next answer is the date of birth.
    assert await worker.says("12/03/2015") == 201
    [service_user] = await site.documents("service_users")
    assert service_user["answers"]["full_name"]["value"] == "Alex Example"
    assert service_user["answers"]["date_of_birth"]["value"] == "2015-03-12"


async def test_the_same_answer_arriving_twice_at_once_is_taken_once(site: Site) -> None:
    worker = site.person("worker-1")
    await at_the_name_question(worker)
    answer = worker.activity(text="Alex Example")

    # Teams retrying while the first delivery is still being handled.
    statuses = await asyncio.gather(worker.post(answer), worker.post(answer))
    assert statuses == [201, 201]
    [asked] = worker.new_replies()
    assert asked["attachments"][0]["content"]["actions"][0]["data"]["question"] == "date_of_birth"
    assert [field for _actor, _record, field in await site.audit("answer")] == ["full_name"]


async def test_a_duplicate_arriving_while_the_first_still_runs_is_dropped() -> None:
    guard = ReplayGuard(documents=MemoryDocuments(), clock=FixedClock(NOW))
    activity = Activity(
        type="message",
        id="f:retried",
        channel_id="msteams",
        conversation=ConversationAccount(id="a:personal-worker-1"),
    )
    ran: list[str] = []

    async def second() -> None:
        ran.append("second")

    async def first() -> None:
        ran.append("first")
        # Its id is not stored yet: the turn is still running when Teams retries it.
        await guard.on_turn(TurnContext(TestAdapter(), activity), second)

    await guard.on_turn(TurnContext(TestAdapter(), activity), first)
    assert ran == ["first"]
    await guard.on_turn(TurnContext(TestAdapter(), activity), second)
    assert ran == ["first"]


async def test_a_replay_after_a_restart_is_still_dropped(site: Site) -> None:
    worker = site.person("worker-1")
    await at_the_name_question(worker)
    answer = worker.activity(text="Alex Example")
    assert await worker.post(answer) == 201
    worker.new_replies()
    stored = await site.stored()

    await site.restart()
    assert await worker.post(answer) == 201
    assert worker.new_replies() == []
    assert await site.stored() == stored


async def test_the_same_id_in_another_conversation_is_not_a_replay(site: Site) -> None:
    first, second = site.person("worker-1"), site.person("worker-2")
    assert await first.post(first.activity(id="same-id", text="help")) == 201
    assert await second.post(second.activity(id="same-id", text="help")) == 201
    assert [len(first.new_replies()), len(second.new_replies())] == [1, 1]


async def test_ids_are_forgotten_after_a_day_and_hold_nothing_personal(site: Site) -> None:
    worker = site.person("worker-1")
    help_me = worker.activity(text="help")
    assert await worker.post(help_me) == 201
    site.later(minutes=23 * 60)
    assert await worker.post(help_me) == 201
    assert len(worker.new_replies()) == 1
    site.later(minutes=2 * 60)
    assert await worker.post(help_me) == 201
    assert len(worker.new_replies()) == 1  # past the day: a new turn, and the old id pruned
    [record] = await site.documents("seen_activities")
    assert len(record["seen"]) == 1
    assert worker.conversation not in str(record) and help_me["id"] not in str(record)


@asynccontextmanager
async def instance(tmp_path: Path, stores: Any) -> AsyncIterator[Served]:
    """One bot process of several, over the shared PostgreSQL database."""
    app = create_app(
        make_settings(tmp_path, **JOURNEY_ENV),
        stores=stores,
        clock=FixedClock(NOW),
        run_scheduler=False,
    )
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    served = Served(server, ClientSession(), stores)
    try:
        yield served
    finally:
        await served.session.close()
        await server.close()


async def test_a_duplicate_reaching_another_instance_is_dropped_there(
    tmp_path: Path, connector: StubConnector
) -> None:
    with scratch_schema() as (url, schema):
        async with (
            instance(tmp_path, postgres_stores(url, schema=schema, max_connections=2)) as one,
            instance(tmp_path, postgres_stores(url, schema=schema, max_connections=2)) as two,
        ):
            on_one = HttpChat(one, connector, user="worker-1", name="Sam Worker")
            on_two = HttpChat(two, connector, user="worker-1", name="Sam Worker")
            await at_the_name_question(on_one)
            answer = on_one.activity(text="Alex Example")
            assert await on_one.post(answer) == 201
            on_one.new_replies()
            assert await on_two.post(answer) == 201
            assert on_two.new_replies() == []
            record = await one.stores.documents.get(collection="service_users", key=CASE)
            assert "date_of_birth" not in record["answers"]
