"""Self-care reminders over real HTTP: proactive messages reach the worker through a stub Bot
Connector on loopback (their stored conversation reference), and survive restarts exactly once."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from app import PIPELINE, create_app
from safeguarding.clock import FixedClock
from safeguarding.scheduler import Scheduler
from storage import open_embedded
from tests.conftest import Served, make_settings
from tests.http_chat import TEAM_CHANNEL, HttpChat
from tests.journeys import NOW
from tests.stub_connector import StubConnector

ENV = {"SAFESESSION_ADMINS": "aad-admin", "SAFESESSION_DELIVERY_TIMEOUT_SECONDS": "1"}
WORKER = "aad-worker"


@dataclass
class World:
    """The bot on loopback over a TinyDB store, the stub connector, the worker and the clock."""

    served: Served
    connector: StubConnector
    clock: FixedClock
    tmp_path: Path
    worker: HttpChat

    @property
    def scheduler(self) -> Scheduler:
        return self.served.server.app[PIPELINE].scheduler

    async def run(self, moment: datetime) -> None:
        self.clock.moment = moment
        while await self.scheduler.run_due():
            pass

    async def restart(self) -> None:
        """Stops the app and starts a new one over the same store (a crash and restart)."""
        await self.served.server.close()
        self.served.stores = open_embedded(self.tmp_path / "store")
        app = create_app(
            make_settings(self.tmp_path, **ENV),
            stores=self.served.stores,
            clock=self.clock,
            run_scheduler=False,
        )
        self.served.server = TestServer(app, host="127.0.0.1")
        await self.served.server.start_server()

    async def profile(self, **answers: Any) -> None:
        await self.served.stores.documents.put(
            collection="workers",
            key=WORKER,
            document={
                "key": WORKER,
                "owner": WORKER,
                "answers": {
                    key: {"value": value, "clause": "E1", "at": "", "by": WORKER}
                    for key, value in answers.items()
                },
            },
        )

    def texts(self) -> list[str]:
        return [reply.get("text") or "" for reply in self.worker.new_replies()]


@pytest.fixture
async def world(tmp_path: Path, connector: StubConnector) -> AsyncIterator[World]:
    stores = open_embedded(tmp_path / "store")
    clock = FixedClock(NOW)
    app = create_app(
        make_settings(tmp_path, **ENV), stores=stores, clock=clock, run_scheduler=False
    )
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    served = Served(server, ClientSession(), stores)
    yield World(
        served=served,
        connector=connector,
        clock=clock,
        tmp_path=tmp_path,
        worker=HttpChat(served, connector, user="worker", name="Sam Worker"),
    )
    await served.session.close()
    await served.server.close()
    served.stores.close()


async def test_the_sign_off_reaches_the_worker_through_the_connector(world: World) -> None:
    assert await world.worker.says("hi") == 201
    [help_card] = world.worker.new_replies()
    assert help_card["attachments"][0]["name"] == "help"
    await world.run(datetime(2026, 11, 26, 16, 45, tzinfo=UTC))
    [sign_off] = world.worker.new_replies()
    assert sign_off["_conversation"] == "a:personal-worker"
    assert "Your working day ends at 17:00" in sign_off["text"]


async def test_a_restart_neither_duplicates_nor_loses_a_reminder(world: World) -> None:
    await world.profile(check_in_day="fri", check_in_time="18:00")
    await world.worker.says("hi")
    world.worker.new_replies()
    await world.restart()
    await world.worker.says("hi")  # planning again after the restart changes nothing
    world.worker.new_replies()

    await world.run(datetime(2026, 11, 26, 16, 45, tzinfo=UTC))
    assert [text[:26] for text in world.texts()] == ["Your working day ends at 1"]
    await world.restart()
    await world.run(datetime(2026, 11, 26, 16, 50, tzinfo=UTC))
    assert world.texts() == []

    await world.run(datetime(2026, 11, 27, 16, 45, tzinfo=UTC))
    assert len(world.texts()) == 1
    await world.run(datetime(2026, 11, 27, 18, 0, tzinfo=UTC))  # out of hours: held
    assert world.worker.new_replies() == []
    await world.restart()
    await world.run(datetime(2026, 11, 30, 8, 59, tzinfo=UTC))
    assert world.worker.new_replies() == []
    await world.run(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    [released] = world.worker.new_replies()
    assert released["attachments"][0]["name"] == "weekly_check_in"
    await world.restart()
    await world.run(datetime(2026, 11, 30, 9, 30, tzinfo=UTC))
    assert world.worker.new_replies() == []


async def test_a_failed_delivery_is_retried_and_sent_once(world: World) -> None:
    await world.worker.says("hi")
    world.worker.new_replies()
    # More 503s than the connector client's own two retries absorb.
    world.connector.fail("a:personal-worker", 503, 503, 503)
    await world.run(datetime(2026, 11, 26, 16, 45, tzinfo=UTC))
    assert world.worker.new_replies() == []
    await world.run(datetime(2026, 11, 26, 16, 46, tzinfo=UTC))
    assert len(world.texts()) == 1
    await world.run(datetime(2026, 11, 26, 16, 55, tzinfo=UTC))
    assert world.worker.new_replies() == []


async def test_an_emergency_out_of_hours_goes_straight_through(world: World) -> None:
    channel = HttpChat(world.served, world.connector, user="admin", name="Jo Admin", channel=True)
    await channel.says("set manager channel")
    world.clock.moment = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)  # Saturday night
    assert await world.worker.says("emergency") == 201
    told = world.worker.new_replies()
    assert "went to the manager channel" in told[0]["text"]
    assert len(told) == 2  # the alert and the kind card: no boundary reminder
    posted = [
        activity
        for activity in world.connector.to(TEAM_CHANNEL)
        if activity.get("attachments") and activity["attachments"][0]["name"] == "escalation"
    ]
    assert len(posted) == 1
