"""Shared fixtures: real stores on disk, settings from plain mappings, a stub connector; and every
payload a test posts to the bot is read both ways, fast and by msrest, and must come out the same.
"""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

import bot.http
from app import create_app
from bot.settings import Settings
from tests.msrest_reads import ReadTwice
from tests.storage.factories import STORE_FACTORIES
from tests.stub_connector import StubConnector

LOCAL_ENV = {"SAFESESSION_LOCAL": "1"}
# Tests type far faster than people and their clocks stand still: no flood limit unless a test
# sets one (tests/attack/test_flood.py).
UNLIMITED = {
    "SAFESESSION_RATE_LIMIT_PER_MINUTE": "1000000",
    "SAFESESSION_RATE_LIMIT_BURST": "1000000",
}


@pytest.fixture(autouse=True)
def inbound_read_as_msrest_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[ReadTwice]:
    """Every payload any test posts to the bot is read by the fast reader as msrest reads it."""
    both = ReadTwice()
    monkeypatch.setattr(bot.http, "activity_from_json", both.activity_from_json)
    monkeypatch.setattr(bot.http, "model_from_json", both.model_from_json)
    yield both
    assert not both.problems, both.problems[:10]


# A fixed synthetic data key, for settings with credentials (outside local mode a key is required).
TEST_KEY = {"SAFESESSION_DATA_KEY": "c2FmZXNlc3Npb24tdGVzdC1rZXktMzItYnl0ZXMhISE="}


def make_settings(tmp_path: Path, **environ: str) -> Settings:
    """Settings for a test: local mode unless credentials are given, data in tmp_path."""
    base = {**UNLIMITED, **(TEST_KEY if "MicrosoftAppId" in environ else LOCAL_ENV)}
    return Settings.from_env({**base, "SAFESESSION_DATA": str(tmp_path / "data"), **environ})


@pytest.fixture(params=sorted(STORE_FACTORIES))
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    """Each storage adapter in turn: memory, PostgreSQL (its own schema), TinyDB on disk."""
    async with STORE_FACTORIES[request.param](tmp_path) as opened:
        yield opened


@pytest.fixture
async def connector() -> AsyncIterator[StubConnector]:
    """A stub Bot Connector listening on 127.0.0.1."""
    stub = StubConnector()
    await stub.server.start_server()
    yield stub
    stub.release()
    await stub.server.close()


class Served:
    """The whole app served over real HTTP on loopback, with a client session."""

    def __init__(self, server: TestServer, session: ClientSession, app_stores: Any) -> None:
        self.server = server
        self.session = session
        self.stores = app_stores

    def url(self, path: str) -> str:
        """The loopback URL of a path on the served app."""
        return str(self.server.make_url(path))


async def serve(settings: Settings, app_stores: Any) -> Served:
    """Starts create_app(settings) on a free loopback port."""
    server = TestServer(create_app(settings, stores=app_stores), host="127.0.0.1")
    await server.start_server()
    return Served(server, ClientSession(), app_stores)
