"""`python -m storage.migrate`: an embedded store copied into PostgreSQL, counts checked."""

import asyncio
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from botbuilder.core import StoreItem

from storage import migrate as migration
from storage import open_embedded, postgres_stores

from .helpers import ROOT, helper_environment
from .postgres_server import scratch_schema

NOON = "2026-11-26T12:00:00+00:00"


@pytest.fixture
def target() -> Iterator[tuple[str, str]]:
    """An empty PostgreSQL schema (URL and name), dropped afterwards."""
    with scratch_schema() as url_and_schema:
        yield url_and_schema


async def fill(folder: Path) -> dict[str, object]:
    """Writes documents, bot state and jobs to an embedded store; returns the bot state e_tag."""
    with open_embedded(folder) as stores:
        for n in range(120):
            await stores.documents.put(collection="cases", key=f"CR-{n}", document={"n": n})
        await stores.documents.put(
            collection="installations", key="a:personal-1", document={"scope": "personal"}
        )
        await stores.bot_storage.write({"conv": StoreItem(turn=3), "user": {"name": "Sam"}})
        await stores.jobs.enqueue(key="renotify:1", kind="renotify", due_at=NOON, payload={"n": 1})
        await stores.jobs.enqueue(key="remind:2", kind="reminder", due_at=NOON, payload={})
        await stores.jobs.claim_due(now=NOON, worker_id="w1", limit=1, lease_seconds=3600)
        return {"e_tag": (await stores.bot_storage.read(["conv"]))["conv"].e_tag}


def run(*args: str) -> tuple[int, str, str]:
    """Runs the command in this process; returns exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    real_stderr, sys.stderr = sys.stderr, err
    try:
        code = migration.main(list(args), stdout=out)
    finally:
        sys.stderr = real_stderr
    return code, out.getvalue(), err.getvalue()


def test_a_store_is_copied_whole_and_the_counts_checked(
    tmp_path: Path, target: tuple[str, str]
) -> None:
    url, schema = target
    before = asyncio.run(fill(tmp_path / "data"))

    code, out, err = run("--from", str(tmp_path / "data"), "--to", url, "--schema", schema)

    assert code == 0, err
    assert "copied 125 records; the counts match" in out
    assert "cases" in out and "bot state" in out and "jobs" in out
    assert "125/125 records" in err and "[" + "#" * 30 + "]" in err

    async def check() -> None:
        stores = postgres_stores(url, schema=schema)
        await stores.open()
        try:
            cases = await stores.documents.find(collection="cases")
            assert sorted(case["n"] for case in cases) == list(range(120))
            state = await stores.bot_storage.read(["conv", "user"])
            assert (state["conv"].turn, state["conv"].e_tag) == (3, before["e_tag"])
            assert state["user"]["name"] == "Sam"
            assert (
                await stores.jobs.enqueue(key="remind:2", kind="x", due_at=NOON, payload={})
                is False
            )
            claimed = await stores.jobs.claim_due(
                now=NOON, worker_id="w2", limit=5, lease_seconds=60
            )
            assert [job.id for job in claimed] == ["renotify:1"]  # remind:2 is still leased
        finally:
            await stores.aclose()

    asyncio.run(check())


def test_a_database_with_data_is_refused_unless_forced(
    tmp_path: Path, target: tuple[str, str]
) -> None:
    url, schema = target
    asyncio.run(fill(tmp_path / "data"))
    assert run("--from", str(tmp_path / "data"), "--to", url, "--schema", schema)[0] == 0

    code, _out, err = run("--from", str(tmp_path / "data"), "--to", url, "--schema", schema)
    assert code == 1
    assert "already holds 125 records; use --force" in err

    forced = run("--from", str(tmp_path / "data"), "--to", url, "--schema", schema, "--force")
    assert forced[0] == 0
    assert "copied 125 records" in forced[1]


def test_a_count_that_does_not_match_commits_nothing(
    tmp_path: Path, target: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, schema = target
    asyncio.run(fill(tmp_path / "data"))
    real_counts = migration._source_counts
    monkeypatch.setattr(
        migration, "_source_counts", lambda tables: {**real_counts(tables), "cases": 121}
    )

    code, _out, err = run("--from", str(tmp_path / "data"), "--to", url, "--schema", schema)

    assert code == 1
    assert "do not match" in err and "nothing was committed" in err
    monkeypatch.undo()
    assert run("--from", str(tmp_path / "data"), "--to", url, "--schema", schema)[0] == 0


def test_a_folder_without_a_store_is_refused_and_left_alone(
    tmp_path: Path, target: tuple[str, str]
) -> None:
    url, schema = target

    code, _out, err = run("--from", str(tmp_path / "missing"), "--to", url, "--schema", schema)

    assert code == 1
    assert "There is no SafeSession store" in err
    assert not (tmp_path / "missing").exists()


def test_a_row_postgresql_refuses_is_reported_and_commits_nothing(
    tmp_path: Path, target: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, schema = target
    asyncio.run(fill(tmp_path / "data"))
    real_row = migration._job_row
    monkeypatch.setattr(migration, "_job_row", lambda job: real_row({**job, "key": "same"}))

    code, _out, err = run("--from", str(tmp_path / "data"), "--to", url, "--schema", schema)

    assert code == 1
    assert "PostgreSQL refused the copy (duplicate key value" in err
    assert "nothing was committed" in err
    monkeypatch.undo()
    assert run("--from", str(tmp_path / "data"), "--to", url, "--schema", schema)[0] == 0


def test_a_store_the_bot_has_open_is_refused(tmp_path: Path, target: tuple[str, str]) -> None:
    url, schema = target
    asyncio.run(fill(tmp_path / "data"))

    with open_embedded(tmp_path / "data"):
        code, _out, err = run("--from", str(tmp_path / "data"), "--to", url, "--schema", schema)

    assert code == 1
    assert "in use by another SafeSession process" in err


def test_it_runs_as_a_module_from_the_command_line(tmp_path: Path, target: tuple[str, str]) -> None:
    url, schema = target
    asyncio.run(fill(tmp_path / "data"))

    command = ["-m", "storage.migrate", "--from", str(tmp_path / "data"), "--to", url]
    done = subprocess.run(
        [sys.executable, *command, "--schema", schema],
        cwd=ROOT,
        env={**helper_environment(), "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert "the counts match" in done.stdout
