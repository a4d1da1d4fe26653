"""Copies an embedded store into PostgreSQL: `python -m storage.migrate --from DATA --to URL`.

Stop the bot first: the store folder is locked while a bot has it open, and the copy refuses a
folder in use. Every collection, the bot state and the jobs are copied in one transaction; the
number of records per collection in PostgreSQL is checked against the folder before it commits,
so a failed or interrupted copy leaves the database as it was. A database that already holds
SafeSession data is refused unless `--force`, which replaces it. Progress goes to stderr.
"""

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import psycopg
from psycopg import AsyncConnection, sql

from safeguarding.ports import StoreUnavailable
from storage import bot_state, jobs
from storage.engine import TinyDBRecords
from storage.journal import DATABASE_NAME
from storage.postgres import DEFAULT_SCHEMA, PostgresDatabase, first_line
from storage.records import Record, json_text

BOT_STATE = "bot state"
JOBS = "jobs"


class MigrationRefused(Exception):
    """The copy would lose or mix up data, so nothing was written."""


@dataclass
class Copied:
    """How many records each collection holds, in the folder and in the database."""

    source: dict[str, int] = field(default_factory=dict)
    target: dict[str, int] = field(default_factory=dict)


class Progress:
    """A one-line progress bar on a stream: `[#####.....]  12,345/50,000 records`."""

    def __init__(self, total: int, stream: TextIO, width: int = 30) -> None:
        self._total = total
        self._stream = stream
        self._width = width
        self._done = 0
        self._drawn_at = 0.0

    def advance(self, count: int = 1) -> None:
        """Counts records copied, redrawing at most ten times a second."""
        self._done += count
        if time.monotonic() - self._drawn_at >= 0.1:
            self._draw()

    def finish(self) -> None:
        """Draws the final state and ends the line."""
        self._draw()
        self._stream.write("\n")
        self._stream.flush()

    def _draw(self) -> None:
        filled = self._width * self._done // self._total if self._total else self._width
        bar = "#" * filled + "." * (self._width - filled)
        self._stream.write(f"\r[{bar}] {self._done:,}/{self._total:,} records")
        self._stream.flush()
        self._drawn_at = time.monotonic()


async def migrate(
    folder: Path, url: str, *, schema: str = DEFAULT_SCHEMA, force: bool = False, progress: TextIO
) -> Copied:
    """Copies the store in folder into the schema at url, checking counts before committing."""
    if not (folder / DATABASE_NAME).is_file():
        raise MigrationRefused(f"There is no SafeSession store in {folder}.")
    records = TinyDBRecords(folder)
    try:
        tables = {name: await records.rows(name) for name in await records.tables()}
    finally:
        records.close()
    copied = Copied(source=_source_counts(tables))
    database = PostgresDatabase(url, schema=schema, max_connections=1)
    await database.open()
    try:
        async with database.connection() as connection, connection.transaction():
            await connection.execute("SET LOCAL statement_timeout = 0")
            await _make_room(connection, database, force=force)
            bar = Progress(sum(copied.source.values()), progress)
            await _copy(connection, database, tables, bar)
            bar.finish()
            copied.target = await _target_counts(connection, database)
            if copied.target != copied.source:
                raise MigrationRefused(
                    "The counts in PostgreSQL do not match the store "
                    f"(store {copied.source}, database {copied.target}); nothing was committed."
                )
    finally:
        await database.aclose()
    return copied


def _source_counts(tables: dict[str, dict[str, Record]]) -> dict[str, int]:
    counts = {}
    for name, rows in tables.items():
        if name == bot_state.TABLE:
            counts[BOT_STATE] = len(rows)
        elif name == jobs.TABLE:
            counts[JOBS] = len(rows)
        elif not name.startswith("_"):
            counts[name] = len(rows)
        elif rows:
            raise MigrationRefused(f"The store has a table {name!r} this version does not know.")
    return {name: count for name, count in counts.items() if count}


async def _make_room(
    connection: AsyncConnection[Any], database: PostgresDatabase, *, force: bool
) -> None:
    counts = await _target_counts(connection, database)
    if counts and not force:
        raise MigrationRefused(
            f"PostgreSQL schema {database.schema} at {database.where} already holds "
            f"{sum(counts.values()):,} records; use --force to replace them."
        )
    await connection.execute(database.query("TRUNCATE {s}.documents, {s}.bot_state, {s}.jobs"))


async def _copy(
    connection: AsyncConnection[Any],
    database: PostgresDatabase,
    tables: dict[str, dict[str, Record]],
    bar: Progress,
) -> None:
    cursor = connection.cursor()
    for name, rows in tables.items():
        values: list[tuple[Any, ...]]
        if name == bot_state.TABLE:
            statement = "COPY {s}.bot_state (key, state, e_tag) FROM STDIN"
            values = [(key, json_text(row["state"]), row["e_tag"]) for key, row in rows.items()]
        elif name == jobs.TABLE:
            statement = (
                "COPY {s}.jobs (key, kind, due_at, payload, status, attempts, claimed_by,"
                " lease_until, cancelled) FROM STDIN"
            )
            values = [_job_row(row) for row in rows.values()]
        elif not name.startswith("_"):
            statement = "COPY {s}.documents (collection, key, doc, e_tag) FROM STDIN"
            values = [
                (name, key, json_text(row), bot_state.new_e_tag()) for key, row in rows.items()
            ]
        else:
            continue
        async with cursor.copy(database.query(statement)) as copy:
            for value in values:
                await copy.write_row(value)
                bar.advance()


def _job_row(job: Record) -> tuple[Any, ...]:
    lease = jobs.EPOCH + timedelta(microseconds=job["lease_us"]) if job["lease_us"] else None
    return (
        job["key"],
        job["kind"],
        datetime.fromisoformat(job["due_at"]).astimezone(UTC),
        json_text(job["payload"]),
        job["status"],
        job["attempts"],
        job["claimed_by"] or None,
        lease,
        bool(job.get("cancelled", False)),
    )


async def _target_counts(
    connection: AsyncConnection[Any], database: PostgresDatabase
) -> dict[str, int]:
    query = sql.SQL(
        "SELECT collection, count(*) FROM {documents} GROUP BY collection"
        " UNION ALL SELECT %s, count(*) FROM {bot_state}"
        " UNION ALL SELECT %s, count(*) FROM {jobs}"
    ).format(
        documents=sql.Identifier(database.schema, "documents"),
        bot_state=sql.Identifier(database.schema, "bot_state"),
        jobs=sql.Identifier(database.schema, "jobs"),
    )
    cursor = await connection.execute(query, (BOT_STATE, JOBS))
    return {name: int(count) for name, count in await cursor.fetchall() if count}


def main(argv: Sequence[str] | None = None, *, stdout: TextIO = sys.stdout) -> int:
    """Runs the copy from the command line; says what was copied, or why nothing was."""
    parser = argparse.ArgumentParser(
        prog="python -m storage.migrate",
        description="Copy an embedded SafeSession store into PostgreSQL (stop the bot first).",
    )
    parser.add_argument("--from", dest="source", required=True, type=Path, help="the data folder")
    parser.add_argument("--to", dest="url", required=True, help="postgresql://user@host/dbname")
    parser.add_argument("--schema", default=DEFAULT_SCHEMA, help="default: %(default)s")
    parser.add_argument("--force", action="store_true", help="replace data already there")
    options = parser.parse_args(argv)
    try:
        copied = asyncio.run(
            migrate(
                options.source,
                options.url,
                schema=options.schema,
                force=options.force,
                progress=sys.stderr,
            )
        )
    except (MigrationRefused, StoreUnavailable) as error:
        print(f"safesession migrate: {error}", file=sys.stderr)
        return 1
    except psycopg.Error as error:  # the first line names the problem, not the row's values
        print(
            f"safesession migrate: PostgreSQL refused the copy ({first_line(error)}); "
            "nothing was committed.",
            file=sys.stderr,
        )
        return 1
    width = max((len(name) for name in copied.target), default=0)
    stdout.write(f"copied {sum(copied.target.values()):,} records; the counts match:\n")
    for name, count in sorted(copied.target.items()):
        stdout.write(f"  {name:<{width}}  {count:>9,}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
