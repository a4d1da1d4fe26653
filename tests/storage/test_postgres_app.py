"""The app on PostgreSQL: DATABASE_URL selects it, and two instances on one database act as one."""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app import STORES, create_app
from storage import Stores, postgres_stores
from storage.bot_state import StorageConflict
from tests.conftest import Served, make_settings, serve
from tests.stub_connector import StubConnector
from tests.transcript import FIXTURES

from .postgres_server import scratch_schema

ROOT = Path(__file__).resolve().parents[2]
# Far in the future: the two apps' own schedulers (on the real clock) must never find these jobs
# due and claim one before the test does; the test claims as of this moment itself.
NOON = "2099-11-26T12:00:00+00:00"


async def test_database_url_selects_postgresql_and_nothing_connects_until_start(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, DATABASE_URL="postgresql://nobody:secret@127.0.0.1:1/x")

    app = create_app(settings)

    status = await app[STORES].status()
    assert (status.ok, status.backend, status.detail) == (
        False,
        "postgresql",
        "store is not open yet",
    )
    # No embedded store was opened: at most local mode's data key lies in the folder.
    assert {path.name for path in (tmp_path / "data").glob("*")} <= {".local-data-key"}
    await app[STORES].aclose()


def test_the_bot_will_not_start_when_postgresql_cannot_be_reached(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "SAFESESSION_DOTENV": str(tmp_path / "no.env"),
            "SAFESESSION_LOCAL": "1",
            "PORT": "0",
            "DATABASE_URL": "postgresql://worker:synthetic-secret@127.0.0.1:1/safesession",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 3, done.stderr
    assert "Could not connect to PostgreSQL at 127.0.0.1:1/safesession" in done.stderr
    assert "synthetic-secret" not in done.stderr + done.stdout


@pytest.fixture
async def two_instances(
    tmp_path: Path, connector: StubConnector
) -> AsyncIterator[tuple[Served, Served]]:
    """Two whole apps, each with its own pool, over one PostgreSQL schema, started together."""
    with scratch_schema() as (url, schema):
        a, b = (postgres_stores(url, schema=schema, max_connections=4) for _ in range(2))
        served = await asyncio.gather(
            serve(make_settings(tmp_path / "a"), a), serve(make_settings(tmp_path / "b"), b)
        )
        try:
            yield served[0], served[1]
        finally:
            for one in served:
                await one.session.close()
                await one.server.close()


def stores_of(served: Served) -> Stores:
    """The stores an instance was built with."""
    stores: Stores = served.server.app[STORES]
    return stores


async def post(served: Served, payload: dict[str, Any]) -> int:
    """Posts an activity to an instance as Teams would; returns the status."""
    async with served.session.post(served.url("/api/messages"), json=payload) as response:
        return response.status


async def test_two_instances_share_installs_so_the_welcome_is_sent_once(
    two_instances: tuple[Served, Served], connector: StubConnector
) -> None:
    a, b = two_instances
    install = json.loads((FIXTURES / "install_personal.json").read_text())
    install["serviceUrl"] = connector.service_url

    assert await post(a, install) in (200, 201)
    assert await post(b, {**install, "id": "f:install-0002"}) in (200, 201)

    assert connector.card_names() == ["welcome"]
    [seen_by_b] = await stores_of(b).documents.find(collection="installations")
    assert seen_by_b["reference"]["serviceUrl"] == connector.service_url


async def test_two_instances_see_each_others_writes(two_instances: tuple[Served, Served]) -> None:
    a, b = (stores_of(served) for served in two_instances)

    await a.documents.put(collection="cases", key="CR-1042", document={"from": "a"})
    await b.bot_storage.write({"conv": {"from": "b"}})

    assert await b.documents.get(collection="cases", key="CR-1042") == {"from": "a"}
    assert (await a.bot_storage.read(["conv"]))["conv"]["from"] == "b"
    assert (await a.status()).ok and (await b.status()).ok


async def test_conflicting_writes_from_two_instances_exactly_one_wins(
    two_instances: tuple[Served, Served],
) -> None:
    a, b = (stores_of(served) for served in two_instances)
    await a.bot_storage.write({"conv": {"turn": 0}})
    for turn in range(1, 11):
        seen_by_a = (await a.bot_storage.read(["conv"]))["conv"]
        seen_by_b = (await b.bot_storage.read(["conv"]))["conv"]
        assert seen_by_a["e_tag"] == seen_by_b["e_tag"]

        results = await asyncio.gather(
            a.bot_storage.write({"conv": {**seen_by_a, "turn": turn, "by": "a"}}),
            b.bot_storage.write({"conv": {**seen_by_b, "turn": turn, "by": "b"}}),
            return_exceptions=True,
        )

        assert sorted(type(result).__name__ for result in results) == [
            "NoneType",
            "StorageConflict",
        ]
        winner = "a" if results[0] is None else "b"
        assert isinstance(results[1 if winner == "a" else 0], StorageConflict)
        stored = (await b.bot_storage.read(["conv"]))["conv"]
        assert (stored["turn"], stored["by"]) == (turn, winner)


async def test_a_job_enqueued_by_both_instances_is_claimed_by_exactly_one(
    two_instances: tuple[Served, Served],
) -> None:
    a, b = (stores_of(served) for served in two_instances)

    enqueued = await asyncio.gather(
        *(
            stores.jobs.enqueue(key=f"renotify:{n}", kind="renotify", due_at=NOON, payload={})
            for n in range(25)
            for stores in (a, b)
        )
    )
    claims = await asyncio.gather(
        *(
            stores.jobs.claim_due(now=NOON, worker_id=name, limit=5, lease_seconds=60)
            for _round in range(5)
            for name, stores in (("a", a), ("b", b))
        )
    )

    assert sum(enqueued) == 25
    claimed = [job.id for batch in claims for job in batch]
    assert len(claimed) == len(set(claimed)), "a job was claimed twice"
    # The app's own jobs (the daily purge) may be due too; these 25 must each come out once.
    renotified = [key for key in claimed if key.startswith("renotify:")]
    assert sorted(renotified) == sorted(f"renotify:{n}" for n in range(25))
