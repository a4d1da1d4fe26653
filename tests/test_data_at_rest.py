"""A whole pre-session journey over HTTP, then a look at the raw store: nothing readable left."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from psycopg import sql

from app import create_app
from bench.journey import pre_session_script
from safeguarding.clock import FixedClock
from storage import postgres_stores
from storage.encryption import Keyring, sealed
from tests.conftest import make_settings
from tests.storage.postgres_server import scratch_schema
from tests.stub_connector import StubConnector

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
SECRETS = (
    "Alex Example",
    "Sam Example",
    "2015-03-12",
    "12/03/2015",
    "Synthetic Street",
    "ZE9 9ZZ",
    "bluebird",
    "+447700900123",
    "07700 900123",
    "Weekly check-in",
    "I call back within 5 minutes",
)
ENV = {"SAFESESSION_ALLOW_FICTIONAL_NUMBERS": "1"}


async def walk_the_journey(app: Any, connector: StubConnector) -> None:
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with ClientSession() as session:
            for text in pre_session_script(1, NOW):
                body = {
                    "type": "message",
                    "channelId": "msteams",
                    "serviceUrl": connector.service_url,
                    "from": {"id": "29:w", "name": "Sam Worker", "aadObjectId": "aad-w"},
                    "recipient": {"id": "28:bot", "name": "SafeSession"},
                    "conversation": {"id": "a:w", "conversationType": "personal"},
                    "channelData": {"tenant": {"id": "t"}},
                    "text": text,
                }
                async with session.post(server.make_url("/api/messages"), json=body) as response:
                    assert response.status == 201
    finally:
        await server.close()
    assert any(card == "in_session" for card in connector.card_names()), "the journey finished"


async def test_the_embedded_store_holds_no_personal_details_in_the_clear(
    tmp_path: Path, connector: StubConnector
) -> None:
    settings = make_settings(tmp_path, **ENV)
    await walk_the_journey(create_app(settings, clock=FixedClock(NOW)), connector)
    files = [path for path in settings.data_dir.rglob("*") if path.is_file()]
    assert len(files) >= 2
    on_disk = "".join(path.read_text(errors="replace") for path in files)
    assert "CR-B0001" in on_disk  # ids stay in the clear, so records can be found
    for secret in SECRETS:
        assert secret not in on_disk, secret


async def test_postgresql_holds_no_personal_details_in_the_clear(
    tmp_path: Path, connector: StubConnector
) -> None:
    with scratch_schema() as (url, schema):
        keyring = Keyring.from_setting(Keyring.generate())
        stores = sealed(postgres_stores(url, schema=schema), keyring)
        app = create_app(make_settings(tmp_path, **ENV), stores=stores, clock=FixedClock(NOW))
        await walk_the_journey(app, connector)
        with psycopg.connect(url) as connection:
            rows = [
                json.dumps(row, default=str)
                for table in ("documents", "bot_state", "jobs")
                for row in connection.execute(
                    sql.SQL("SELECT * FROM {}.{}").format(
                        sql.Identifier(schema), sql.Identifier(table)
                    )
                ).fetchall()
            ]
        everything = "".join(rows)
        assert "CR-B0001" in everything
        for secret in SECRETS:
            assert secret not in everything, secret
