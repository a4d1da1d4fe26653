"""Subject access, erasure and legal hold from the command line, on the bot's own sealed store.

A whole journey goes through the real app first (setup, planning, session start), so the store
is sealed exactly as the bot seals it: on TinyDB with local mode's key file beside the data, on
PostgreSQL with SAFESESSION_DATA_KEY.
"""

import asyncio
import io
import json
import os
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from app import create_app
from safeguarding.clock import FixedClock
from safeguarding.records import Records
from storage import open_embedded, postgres_stores
from storage.admin import keyring_for
from storage.encryption import Keyring, sealed
from storage.erase import erase
from storage.erase import main as erase_main
from storage.export import export
from storage.export import main as export_main
from storage.hold import main as hold_main
from storage.purge import main as purge_main
from tests.conftest import make_settings
from tests.stub_connector import StubConnector
from tests.test_data_at_rest import ENV, NOW, walk_the_journey

from .postgres_server import scratch_schema

ROOT = Path(__file__).resolve().parents[2]
CASE = "CR-B0001"
OTHER = "CR-OTHER"
# What the journey typed (tests/test_data_at_rest.py, bench/journey.py): all synthetic.
TYPED = ("Alex Example", "Sam Example", "Synthetic Street", "ZE9 9ZZ", "bluebird")
STORED = ("2015-03-12", "+447700900123")


async def walk_and_add_another_case(tmp_path: Path, connector: StubConnector) -> dict[str, str]:
    """The journey for CASE through the app, then OTHER's record and an escalation for CASE."""
    settings = make_settings(tmp_path, **ENV)
    await walk_the_journey(create_app(settings, clock=FixedClock(NOW)), connector)
    environ = {"SAFESESSION_LOCAL": "1", "SAFESESSION_DATA": str(settings.data_dir)}
    stores = sealed(open_embedded(settings.data_dir), keyring_for(environ))
    try:
        await add_records(stores)
    finally:
        await stores.aclose()
    return environ


async def add_records(stores: Any) -> None:
    """Another service user, and an escalation and a task about CASE's session."""
    records = Records(stores.documents, FixedClock(NOW + timedelta(minutes=30)))
    [session] = [
        s
        for s in await stores.documents.find(collection="sessions")
        if s["answers"]["case_reference"]["value"] == CASE
    ]
    other = {"key": OTHER, "owner": "aad-w", "answers": {"full_name": {"value": "Robin Other"}}}
    await stores.documents.put(collection="service_users", key=OTHER, document=other)
    await records.create(
        collection="escalations",
        key="E-ABCDEF",
        actor="aad-w",
        fields={"session_key": session["key"], "case_reference": "", "status": "raised"},
    )
    await records.create(
        collection="tasks",
        key="T-ABCDEF",
        actor="aad-w",
        fields={"session": session["key"], "case_reference": CASE, "status": "open"},
    )


async def read_back(environ: dict[str, str], **options: Any) -> Any:
    """Opens the store as the bot does, sealed; the caller closes it."""
    keyring = keyring_for(environ)
    url = environ.get("DATABASE_URL")
    raw = (
        postgres_stores(url, schema=options["schema"])
        if url
        else open_embedded(environ["SAFESESSION_DATA"])
    )
    await raw.open()
    return sealed(raw, keyring)


def files_text(folder: str) -> str:
    """Everything in a folder's files, as text."""
    return "".join(
        path.read_text(errors="replace") for path in Path(folder).rglob("*") if path.is_file()
    )


async def cli(main: Any, *arguments: str, environ: dict[str, str]) -> int:
    """Runs a command's main() as `python -m` would, off the test's event loop."""
    return int(await asyncio.to_thread(main, list(arguments), environ))


# -- TinyDB: real files in tmp_path ---------------------------------------------------------------


async def test_export_writes_everything_about_the_case_readably_and_audits_it(
    tmp_path: Path, connector: StubConnector
) -> None:
    environ = await walk_and_add_another_case(tmp_path, connector)
    out = tmp_path / "sar"
    said = io.StringIO()

    paths = await export(environ, CASE, out, ask=lambda _prompt: CASE, stdout=said, by="aad-dpo")

    assert [path.suffix for path in paths] == [".json", ".md"]
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in paths)
    held = json.loads(paths[0].read_text())
    document = paths[1].read_text()
    for value in (*TYPED, *STORED):
        assert value in paths[0].read_text(), value
    for value in TYPED:
        assert value in document, value
    assert "Robin Other" not in paths[0].read_text() + document
    records = held["records"]
    assert [record["key"] for record in records["service_users"]] == [CASE]
    assert len(records["sessions"]) == 1 and records["sessions"][0]["status"] == "started"
    assert [r["key"] for r in records["escalations"]] == ["E-ABCDEF"]
    assert [r["key"] for r in records["tasks"]] == ["T-ABCDEF"]
    assert records["sessions"][0]["answers"]["address_today"]["value"]["postcode"] == "ZE9 9ZZ"
    assert {event["action"] for event in held["audit"]} >= {"create", "answer", "disclose"}
    assert "Held about CR-B0001: service_users: 1, sessions: 1, tasks: 1, escalations: 1" in (
        said.getvalue()
    )
    assert "redact" in document and "| when | who |" in document

    stores = await read_back(environ)
    try:
        exports = await stores.documents.find(
            collection="audit", where={"actor": "aad-dpo", "action": "disclose"}
        )
    finally:
        await stores.aclose()
    assert [(e["record"], e["field"], e["reason"]) for e in exports] == [
        (f"service_users/{CASE}", "everything", "subject_access")
    ]
    on_disk = files_text(environ["SAFESESSION_DATA"])
    assert not any(value in on_disk for value in TYPED), "the store itself stays sealed"


async def test_erase_asks_for_the_case_reference_then_leaves_only_a_tombstone(
    tmp_path: Path, connector: StubConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    environ = await walk_and_add_another_case(tmp_path, connector)
    stores = await read_back(environ)
    audit_before = await stores.documents.find(collection="audit")
    await stores.aclose()

    monkeypatch.setattr("sys.stdin", io.StringIO("CR-B0002\n"))
    assert (
        await cli(erase_main, "--case", CASE, environ=environ) == 1
    )  # a different reference typed: nothing
    stores = await read_back(environ)
    assert await stores.documents.get(collection="service_users", key=CASE) is not None
    await stores.aclose()

    monkeypatch.setattr("sys.stdin", io.StringIO(f"{CASE}\n"))
    assert await cli(erase_main, "--case", CASE, "--by", "aad-dpo", environ=environ) == 0

    stores = await read_back(environ)
    try:
        assert await stores.documents.get(collection="service_users", key=CASE) is None
        for collection in ("sessions", "tasks", "escalations", "discussion_items"):
            left = await stores.documents.find(collection=collection)
            assert left == [], collection
        assert await stores.documents.get(collection="service_users", key=OTHER) is not None
        audit_after = await stores.documents.find(collection="audit")
    finally:
        await stores.aclose()
    before = {event["key"]: event for event in audit_before}
    after = {event["key"]: event for event in audit_after}
    assert all(after[key] == event for key, event in before.items()), "the audit events stay"
    [tombstone] = [event for key, event in after.items() if key not in before]
    assert tombstone["action"] == "erase" and tombstone["actor"] == "aad-dpo"
    assert tombstone["record"].startswith("case:") and CASE not in json.dumps(tombstone)
    assert tombstone["field"] == "escalations=1,service_users=1,sessions=1,tasks=1"
    assert not any(value in json.dumps(tombstone) for value in (*TYPED, *STORED))

    assert (
        await cli(erase_main, "--case", CASE, "--yes", environ=environ) == 2
    )  # nothing left to erase


async def test_a_case_on_legal_hold_cannot_be_erased_until_the_hold_is_lifted(
    tmp_path: Path, connector: StubConnector, capsys: pytest.CaptureFixture[str]
) -> None:
    environ = await walk_and_add_another_case(tmp_path, connector)
    assert await cli(hold_main, "--case", CASE, "--on", "--by", "aad-dpo", environ=environ) == 0
    assert "is on legal hold" in capsys.readouterr().out
    assert await cli(erase_main, "--case", CASE, "--yes", environ=environ) == 2
    assert "legal hold" in capsys.readouterr().err
    assert (
        await cli(
            export_main, "--case", CASE, "--out", str(tmp_path / "sar"), "--yes", environ=environ
        )
        == 0
    )
    assert await cli(purge_main, "--dry-run", environ=environ) == 0
    assert "kept on legal hold: 4" in capsys.readouterr().out

    assert await cli(hold_main, "--case", CASE, "--off", "--by", "aad-dpo", environ=environ) == 0
    assert "is not on legal hold" in capsys.readouterr().out
    assert await cli(erase_main, "--case", CASE, "--yes", environ=environ) == 0
    stores = await read_back(environ)
    try:
        holds = await stores.documents.find(
            collection="audit", where={"record": f"service_users/{CASE}"}
        )
    finally:
        await stores.aclose()
    assert {"legal_hold_on", "legal_hold_off"} <= {event["action"] for event in holds}


def _run(module: str, *arguments: str, env: dict[str, str], stdin: str = "") -> Any:
    return subprocess.run(
        [sys.executable, "-m", module, *arguments],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "SAFESESSION_DOTENV": "/nonexistent/.env", **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_the_commands_refuse_a_store_the_bot_has_open_and_prompt_on_stdin(
    tmp_path: Path, connector: StubConnector
) -> None:
    environ = await walk_and_add_another_case(tmp_path, connector)
    held = open_embedded(environ["SAFESESSION_DATA"])  # as the running bot holds it
    try:
        refused = _run("storage.erase", "--case", CASE, "--yes", env=environ)
    finally:
        held.close()
    assert refused.returncode == 2, refused.stderr
    assert "SafeSession is running on" in refused.stderr and "Stop the bot" in refused.stderr

    out = tmp_path / "sar"
    done = _run("storage.export", "--case", CASE, "--out", str(out), env=environ, stdin=f"{CASE}\n")
    assert done.returncode == 0, done.stderr
    assert f"Type the case reference ({CASE})" in done.stdout
    assert len(list(out.glob("*.md"))) == 1

    stopped = _run("storage.erase", "--case", CASE, env=environ, stdin="\n")
    assert stopped.returncode == 1 and "nothing was changed" in stopped.stderr


def test_without_a_data_key_outside_local_mode_nothing_is_opened(tmp_path: Path) -> None:
    environ = {"SAFESESSION_DATA": str(tmp_path)}
    assert export_main(["--case", CASE, "--out", str(tmp_path / "o"), "--yes"], environ) == 2
    assert erase_main(["--case", CASE, "--yes"], {**environ, "SAFESESSION_LOCAL": "1"}) == 2
    assert not (tmp_path / "safesession.json").exists()


# -- PostgreSQL -----------------------------------------------------------------------------------


async def test_export_and_erase_on_postgresql(tmp_path: Path, connector: StubConnector) -> None:
    with scratch_schema() as (url, schema):
        key = Keyring.generate()
        stores = sealed(postgres_stores(url, schema=schema), Keyring.from_setting(key))
        app = create_app(make_settings(tmp_path, **ENV), stores=stores, clock=FixedClock(NOW))
        await walk_the_journey(app, connector)
        environ = {"DATABASE_URL": url, "SAFESESSION_DATA_KEY": key}
        stores = await read_back(environ, schema=schema)
        try:
            await add_records(stores)
        finally:
            await stores.aclose()

        paths = await export(
            environ,
            CASE,
            tmp_path / "sar",
            schema=schema,
            ask=lambda _prompt: CASE,
            stdout=io.StringIO(),
        )
        assert all(value in paths[1].read_text() for value in TYPED)

        erased = await erase(environ, CASE, schema=schema, yes=True, stdout=io.StringIO())
        assert erased == {"escalations": 1, "service_users": 1, "sessions": 1, "tasks": 1}
        with psycopg.connect(url) as connection:
            rows = connection.execute(
                sql.SQL("SELECT collection, key, doc::text FROM {}.documents").format(
                    sql.Identifier(schema)
                )
            ).fetchall()
        collections = {collection for collection, _key, _doc in rows}
        assert collections <= {
            "audit",
            "service_users",
            "installations",
            "personal_chats",
            "workers",
            "self_care",
            "seen_activities",
            "config",
        }
        assert [key for collection, key, _ in rows if collection == "service_users"] == [OTHER]
        tombstones = [doc for collection, _key, doc in rows if '"erase"' in doc]
        assert len(tombstones) == 1 and CASE not in tombstones[0]
