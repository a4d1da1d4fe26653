"""Shared fixtures: real stores on disk, settings from plain mappings, a stub connector."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from app import create_app
from bot.settings import Settings
from storage import memory_stores, open_embedded
from tests.stub_connector import StubConnector

LOCAL_ENV = {"SAFESESSION_LOCAL": "1"}


def make_settings(tmp_path: Path, **environ: str) -> Settings:
    """Settings for a test: local mode unless credentials are given, data in tmp_path."""
    base = {} if "MicrosoftAppId" in environ else dict(LOCAL_ENV)
    return Settings.from_env({**base, "SAFESESSION_DATA": str(tmp_path / "data"), **environ})


@pytest.fixture(params=["memory", "tinydb"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Each storage adapter in turn, the TinyDB one in a real folder on disk."""
    opened = memory_stores() if request.param == "memory" else open_embedded(tmp_path / "store")
    yield opened
    opened.close()


@pytest.fixture
async def connector() -> AsyncIterator[StubConnector]:
    """A stub Bot Connector listening on 127.0.0.1."""
    stub = StubConnector()
    await stub.server.start_server()
    yield stub
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
