"""The bot served over real HTTP on loopback, on the embedded store and a fixed clock."""

import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from app import PIPELINE, create_app
from safeguarding.clock import FixedClock
from safeguarding.scheduler import Scheduler
from storage import Stores, open_embedded
from tests.conftest import Served, make_settings
from tests.http_chat import HttpChat
from tests.journeys import JOURNEY_ENV, NOW
from tests.stub_connector import StubConnector

ENV = {
    **JOURNEY_ENV,
    "SAFESESSION_ADMINS": "aad-admin",
    "SAFESESSION_MANAGERS": "aad-manager:Alex Manager",
    "SAFESESSION_DELIVERY_TIMEOUT_SECONDS": "2",
}
# The collections the attack tests compare before and after (a byte-level check of the store's
# files, `Site.store_files`, catches writes anywhere else).
COLLECTIONS = (
    "audit",
    "config",
    "discussion_items",
    "escalations",
    "installations",
    "jobs",
    "personal_chats",
    "seen_activities",
    "service_users",
    "sessions",
    "tasks",
    "workers",
)


@dataclass
class Site:
    """One running bot, the stub connector it replies through, its store and its clock."""

    served: Served
    connector: StubConnector
    clock: FixedClock
    tmp_path: Path
    env: dict[str, str]

    @property
    def stores(self) -> Stores:
        return self.served.stores

    @property
    def scheduler(self) -> Scheduler:
        return self.served.server.app[PIPELINE].scheduler

    def person(self, user: str, name: str = "Sam Worker", *, channel: bool = False) -> HttpChat:
        """Someone in their personal chat (or in the managers' channel) with this bot."""
        return HttpChat(self.served, self.connector, user=user, name=name, channel=channel)

    def later(self, minutes: float) -> None:
        self.clock.moment = self.clock.moment + timedelta(minutes=minutes)

    async def restart(self) -> None:
        """Stops the bot and starts a new one over the same store folder, as after a crash."""
        await self.served.server.close()
        self.served.stores = open_embedded(self.tmp_path / "store")
        self.served.server = await _serve(self.tmp_path, self.env, self.served.stores, self.clock)

    async def documents(self, collection: str) -> list[dict[str, Any]]:
        return await self.stores.documents.find(collection=collection)

    async def audit(self, action: str) -> list[tuple[str, str, str]]:
        """(actor, record, field) of each audit event with this action, sorted."""
        events = await self.documents("audit")
        return sorted(
            (e["actor"], e["record"], e["field"]) for e in events if e["action"] == action
        )

    def store_files(self) -> dict[str, str]:
        """A digest of every file in the store's folder (any write at all changes one)."""
        folder = self.tmp_path / "store"
        return {
            path.name: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.iterdir())
            if path.is_file() and not path.name.endswith(".lock")
        }

    async def stored(self) -> dict[str, Any]:
        """Everything in the store, as JSON-ready data, to compare before and after."""
        everything = {name: await self.documents(name) for name in COLLECTIONS}
        return dict(json.loads(json.dumps(everything, sort_keys=True)))


async def _serve(tmp_path: Path, env: dict[str, str], stores: Stores, clock: FixedClock) -> Any:
    app = create_app(
        make_settings(tmp_path, **env), stores=stores, clock=clock, run_scheduler=False
    )
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


SiteFactory = Callable[..., Awaitable[Site]]


@pytest.fixture
async def open_site(tmp_path: Path, connector: StubConnector) -> AsyncIterator[SiteFactory]:
    """Starts the bot with extra settings; closes whatever was started."""
    opened: list[Site] = []

    async def start(**env: str) -> Site:
        stores = open_embedded(tmp_path / "store")
        clock = FixedClock(NOW)
        settings = {**ENV, **env}
        server = await _serve(tmp_path, settings, stores, clock)
        site = Site(Served(server, ClientSession(), stores), connector, clock, tmp_path, settings)
        opened.append(site)
        return site

    yield start
    for site in opened:
        await site.served.session.close()
        await site.served.server.close()


@pytest.fixture
async def site(open_site: SiteFactory) -> Site:
    """The bot with the managers and admins of ENV, in local mode."""
    return await open_site()
