"""PostgreSQL: documents, bot state and jobs as JSONB rows that several bot instances share.

`postgres_stores(url)` prepares the stores without connecting; `await stores.open()` connects,
then creates or migrates the schema (default `safesession`) under an advisory lock, so instances
starting together migrate once. `schema_version` records each migration applied.

Several instances on one database behave as one:

- bot state carries an e_tag; a write with an e_tag is `UPDATE … WHERE key = %s AND e_tag = %s`,
  so of two writers holding the same e_tag exactly one updates a row and the other gets
  `StorageConflict`; a multi-key write runs in one transaction, all or nothing, keys in sorted
  order so two writers never deadlock;
- jobs are claimed with `FOR UPDATE SKIP LOCKED`, so each due job goes to exactly one claimer;
  a lease that runs out (its worker died) makes the job claimable again;
- documents (conversation references included) are plain upserts, visible to every instance.

A connection that fails or a server that cannot be reached raises `StoreUnavailable`; messages
name the server, never the password or any stored value.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Collection, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from botbuilder.core import Storage
from psycopg import AsyncConnection, sql
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool

from safeguarding.ports import Document, Job, Put, StoreStatus, StoreUnavailable
from storage.bot_state import ANY_E_TAG, StorageConflict, decode, encode, new_e_tag
from storage.documents import table_for
from storage.jobs import moment
from storage.records import check_key, dump_json, json_text, normalised_where
from storage.stores import Stores

log = logging.getLogger(__name__)

DEFAULT_SCHEMA = "safesession"
DEFAULT_MAX_CONNECTIONS = 10
CONNECT_SECONDS = 10.0
# How long a call waits for a free connection, and how long one statement may run.
POOL_WAIT_SECONDS = 10.0
STATEMENT_TIMEOUT_MS = 15_000
STATUS_WAIT_SECONDS = 2.0

# Each entry is one schema version's statements; {s} is the schema. Append, never edit.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE {s}.documents (
            collection text NOT NULL,
            key text NOT NULL,
            doc jsonb NOT NULL,
            e_tag text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (collection, key))""",
        "CREATE INDEX documents_doc ON {s}.documents USING gin (doc jsonb_path_ops)",
        """CREATE TABLE {s}.bot_state (
            key text PRIMARY KEY,
            state jsonb NOT NULL,
            e_tag text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now())""",
        """CREATE TABLE {s}.jobs (
            key text PRIMARY KEY,
            kind text NOT NULL,
            due_at timestamptz NOT NULL,
            payload jsonb NOT NULL,
            status text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'claimed', 'done')),
            attempts integer NOT NULL DEFAULT 0,
            claimed_by text,
            lease_until timestamptz,
            cancelled boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now(),
            done_at timestamptz)""",
        "CREATE INDEX jobs_waiting ON {s}.jobs (due_at) WHERE status <> 'done'",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


class PostgresDatabase:
    """One connection pool to one schema, opened before the first turn."""

    backend = "postgresql"

    def __init__(
        self,
        url: str,
        *,
        schema: str = DEFAULT_SCHEMA,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        self.url = url
        self.schema = schema
        self.where = describe_server(url)
        self._max_connections = max_connections
        self._pool: AsyncConnectionPool[AsyncConnection[Any]] | None = None
        self._opening = asyncio.Lock()
        self._closed = False

    def query(self, text: str) -> sql.Composed:
        """Fills this store's schema into a statement written with {s}."""
        return sql.SQL(text).format(s=sql.Identifier(self.schema))

    async def open(self) -> None:
        """Connects, creates or migrates the schema, then opens the pool; twice is fine."""
        async with self._opening:
            if self._closed:
                raise StoreUnavailable("The store is closed.")
            if self._pool is not None:
                return
            try:
                connection = await AsyncConnection.connect(
                    self.url, autocommit=True, connect_timeout=int(CONNECT_SECONDS)
                )
            except psycopg.Error as error:
                raise StoreUnavailable(
                    f"Could not connect to PostgreSQL at {self.where}: {first_line(error)}"
                ) from None
            async with connection:
                await migrate(connection, self)
            pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
                self.url,
                min_size=1,
                max_size=self._max_connections,
                open=False,
                kwargs={"autocommit": True},
                configure=_configure,
                timeout=POOL_WAIT_SECONDS,
                name=f"safesession-{self.schema}",
            )
            try:
                await pool.open(wait=True, timeout=CONNECT_SECONDS)
            except psycopg.Error as error:
                await pool.close()
                raise StoreUnavailable(
                    f"Could not connect to PostgreSQL at {self.where}: {first_line(error)}"
                ) from None
            self._pool = pool
            log.info("opened the store on PostgreSQL at %s, schema %s", self.where, self.schema)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        """Lends a pooled connection (autocommit); a lost server becomes StoreUnavailable."""
        if self._closed:
            raise StoreUnavailable("The store is closed.")
        if self._pool is None:
            raise StoreUnavailable("The store is not open yet.")
        try:
            async with self._pool.connection() as connection:
                yield connection
        except psycopg.OperationalError as error:
            raise StoreUnavailable(
                f"PostgreSQL at {self.where} is unavailable ({type(error).__name__})"
            ) from None

    async def status(self) -> StoreStatus:
        """Says whether the database answers right now."""
        if self._closed:
            return StoreStatus(ok=False, backend=self.backend, detail="store is closed")
        if self._pool is None:
            return StoreStatus(ok=False, backend=self.backend, detail="store is not open yet")
        try:
            async with asyncio.timeout(STATUS_WAIT_SECONDS), self.connection() as connection:
                await connection.execute("SELECT 1")
        except (StoreUnavailable, TimeoutError):
            return StoreStatus(ok=False, backend=self.backend, detail="database is unreachable")
        return StoreStatus(ok=True, backend=self.backend)

    def close(self) -> None:
        """Refuses further use; aclose() also closes the connections."""
        self._closed = True

    async def aclose(self) -> None:
        """Refuses further use and closes every connection."""
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
            log.info("closed the store on PostgreSQL at %s", self.where)


async def _configure(connection: AsyncConnection[Any]) -> None:
    # A stuck statement fails the turn with StoreUnavailable instead of hanging it.
    await connection.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")


async def migrate(connection: AsyncConnection[Any], database: PostgresDatabase) -> None:
    """Creates the schema or brings it up to SCHEMA_VERSION, one instance at a time."""
    async with connection.transaction():
        await connection.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))", (f"safesession:{database.schema}",)
        )
        await connection.execute(database.query("CREATE SCHEMA IF NOT EXISTS {s}"))
        await connection.execute(
            database.query(
                "CREATE TABLE IF NOT EXISTS {s}.schema_version ("
                "version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
        )
        cursor = await connection.execute(
            database.query("SELECT coalesce(max(version), 0) FROM {s}.schema_version")
        )
        row = await cursor.fetchone()
        current = int(row[0]) if row else 0
        if current > SCHEMA_VERSION:
            raise StoreUnavailable(
                f"The database schema {database.schema} is at version {current}, newer than "
                f"this SafeSession ({SCHEMA_VERSION}); refusing to use it. Upgrade SafeSession."
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[version - 1]:
                await connection.execute(database.query(statement))
            await connection.execute(
                database.query("INSERT INTO {s}.schema_version (version) VALUES (%s)"), (version,)
            )
            log.info("migrated schema %s to version %d", database.schema, version)


class PostgresDocuments:
    """Keeps documents as JSONB rows, one per collection and key."""

    def __init__(self, database: PostgresDatabase) -> None:
        self._db = database
        self._get = database.query(
            "SELECT doc FROM {s}.documents WHERE collection = %s AND key = %s"
        )
        self._put = database.query(
            "INSERT INTO {s}.documents (collection, key, doc, e_tag) VALUES (%s, %s, %s::jsonb, %s)"
            " ON CONFLICT (collection, key) DO UPDATE"
            " SET doc = excluded.doc, e_tag = excluded.e_tag, updated_at = now()"
        )
        self._delete = database.query(
            "DELETE FROM {s}.documents WHERE collection = %s AND key = %s"
        )

    async def get(self, *, collection: str, key: str) -> Document | None:
        """Returns the document stored under key, or None."""
        async with self._db.connection() as connection:
            cursor = await connection.execute(self._get, (table_for(collection), check_key(key)))
            row = await cursor.fetchone()
        return None if row is None else dict(row[0])

    async def put(self, *, collection: str, key: str, document: Document) -> None:
        """Stores the document under key, replacing any earlier one."""
        values = (table_for(collection), check_key(key), json_text(document), new_e_tag())
        async with self._db.connection() as connection:
            with refusing_nul():
                await connection.execute(self._put, values)

    async def put_all(self, puts: Sequence[Put]) -> None:
        """Stores every document given in one transaction: all of them, or none."""
        latest = {(table_for(put.collection), check_key(put.key)): put.document for put in puts}
        # In key order, as the bot state's multi-key writes: two writers never wait on each other.
        rows = [
            (collection, key, json_text(document), new_e_tag())
            for (collection, key), document in sorted(latest.items())
        ]
        async with self._db.connection() as connection:
            with refusing_nul():
                async with connection.transaction(), connection.cursor() as cursor:
                    await cursor.executemany(self._put, rows)

    async def delete(self, *, collection: str, key: str) -> bool:
        """Removes the document; says whether there was one."""
        async with self._db.connection() as connection:
            cursor = await connection.execute(self._delete, (table_for(collection), check_key(key)))
        return cursor.rowcount == 1

    async def find(
        self, *, collection: str, where: Mapping[str, Any] | None = None
    ) -> list[Document]:
        """Returns the documents whose top-level fields equal every value in where."""
        wanted = normalised_where(where)
        conditions = [sql.SQL("collection = %s")]
        values: list[Any] = [table_for(collection)]
        if wanted:
            # Containment narrows the rows through the GIN index; equality per field makes
            # the match exact (containment alone would let ["x", "y"] match ["x", "y", "z"]).
            conditions.append(sql.SQL("doc @> %s::jsonb"))
            values.append(dump_json(wanted))
            for name, value in wanted.items():
                conditions.append(sql.SQL("doc -> %s = %s::jsonb"))
                values += [name, dump_json(value)]
        query = sql.SQL("SELECT doc FROM {table} WHERE {conditions} ORDER BY key").format(
            table=sql.Identifier(self._db.schema, "documents"),
            conditions=sql.SQL(" AND ").join(conditions),
        )
        async with self._db.connection() as connection:
            cursor = await connection.execute(query, values)
            rows = await cursor.fetchall()
        return [dict(row[0]) for row in rows]

    async def status(self) -> StoreStatus:
        """Says whether the store can be used right now."""
        return await self._db.status()


class PostgresBotStorage(Storage):
    """botbuilder's Storage as JSONB rows with e_tags checked by conditional updates."""

    def __init__(self, database: PostgresDatabase) -> None:
        super().__init__()
        self._db = database
        self._read = database.query(
            "SELECT key, state, e_tag FROM {s}.bot_state WHERE key = ANY(%s)"
        )
        self._upsert = database.query(
            "INSERT INTO {s}.bot_state (key, state, e_tag) VALUES (%s, %s::jsonb, %s)"
            " ON CONFLICT (key) DO UPDATE"
            " SET state = excluded.state, e_tag = excluded.e_tag, updated_at = now()"
        )
        self._update = database.query(
            "UPDATE {s}.bot_state SET state = %s::jsonb, e_tag = %s, updated_at = now()"
            " WHERE key = %s AND e_tag = %s"
        )
        self._delete = database.query("DELETE FROM {s}.bot_state WHERE key = ANY(%s)")

    async def read(self, keys: Collection[str]) -> dict[str, Any]:
        """Returns the stored items for keys, each with its e_tag; missing keys are left out."""
        if not keys:
            return {}
        wanted = [check_key(key) for key in keys]
        async with self._db.connection() as connection:
            cursor = await connection.execute(self._read, (wanted,))
            rows = await cursor.fetchall()
        return {key: decode({"state": state, "e_tag": e_tag}) for key, state, e_tag in rows}

    async def write(self, changes: Mapping[str, Any]) -> None:
        """Saves every item, or none if any item's e_tag is stale."""
        if changes is None:
            raise TypeError("changes are required when writing")
        pending = {check_key(key): encode(item) for key, item in changes.items()}
        for key, (expected, _state) in pending.items():
            if expected == "":
                raise ValueError(f"state {key!r} has an empty e_tag: use None or '*' to overwrite")
        if not pending:
            return
        rows = [(key, *pending[key]) for key in sorted(pending)]
        async with self._db.connection() as connection:
            if len(rows) == 1:  # one statement is atomic on its own: one round trip
                await self._write_one(connection, *rows[0])
                return
            async with connection.transaction():
                for row in rows:
                    await self._write_one(connection, *row)

    async def delete(self, keys: Collection[str]) -> None:
        """Removes the items under keys; keys with nothing stored are fine."""
        if not keys:
            return
        wanted = [check_key(key) for key in keys]
        async with self._db.connection() as connection:
            await connection.execute(self._delete, (wanted,))

    async def _write_one(
        self, connection: AsyncConnection[Any], key: str, expected: Any, state: Any
    ) -> None:
        text = dump_json(state)
        with refusing_nul():
            if expected is None or expected == ANY_E_TAG:
                await connection.execute(self._upsert, (key, text, new_e_tag()))
                return
            cursor = await connection.execute(self._update, (text, new_e_tag(), key, expected))
        if cursor.rowcount != 1:
            raise StorageConflict(key)


class PostgresJobs:
    """Scheduled jobs as rows, claimed with FOR UPDATE SKIP LOCKED so each fires once."""

    def __init__(self, database: PostgresDatabase) -> None:
        self._db = database
        self._enqueue = database.query(
            "INSERT INTO {s}.jobs (key, kind, due_at, payload) VALUES (%s, %s, %s, %s::jsonb)"
            " ON CONFLICT (key) DO NOTHING"
        )
        self._claim = database.query(
            "WITH due AS ("
            " SELECT key FROM {s}.jobs"
            " WHERE status <> 'done' AND due_at <= %(now)s"
            " AND (status = 'pending' OR lease_until <= %(now)s)"
            " ORDER BY due_at, key LIMIT %(limit)s"
            " FOR UPDATE SKIP LOCKED)"
            " UPDATE {s}.jobs AS job"
            " SET status = 'claimed', claimed_by = %(worker)s, lease_until = %(until)s"
            " FROM due WHERE job.key = due.key"
            " RETURNING job.key, job.kind, job.due_at, job.payload, job.attempts"
        )
        self._complete = database.query(
            "UPDATE {s}.jobs SET status = 'done', claimed_by = NULL, lease_until = NULL,"
            " done_at = now() WHERE key = %s AND status <> 'done'"
        )
        self._retry = database.query(
            "UPDATE {s}.jobs SET status = 'pending', due_at = %s, attempts = attempts + 1,"
            " claimed_by = NULL, lease_until = NULL WHERE key = %s AND status <> 'done'"
        )
        self._cancel = database.query(
            "UPDATE {s}.jobs SET status = 'done', cancelled = true, claimed_by = NULL,"
            " lease_until = NULL, done_at = now() WHERE key = %s AND status <> 'done'"
        )
        self._forget = database.query("DELETE FROM {s}.jobs WHERE status = 'done' AND due_at < %s")
        self._count_old = database.query(
            "SELECT count(*) FROM {s}.jobs WHERE status = 'done' AND due_at < %s"
        )

    async def enqueue(self, *, key: str, kind: str, due_at: str, payload: dict[str, Any]) -> bool:
        """Stores a job under a unique key; says False (and changes nothing) if it exists."""
        values = (check_key(key), kind, moment(due_at), json_text(payload))
        async with self._db.connection() as connection:
            with refusing_nul():
                cursor = await connection.execute(self._enqueue, values)
        return cursor.rowcount == 1

    async def claim_due(
        self, *, now: str, worker_id: str, limit: int, lease_seconds: float
    ) -> list[Job]:
        """Claims up to limit due jobs, earliest first; an expired lease makes a job claimable."""
        at = moment(now)
        values = {
            "now": at,
            "limit": max(limit, 0),
            "worker": worker_id,
            "until": at + timedelta(seconds=lease_seconds),
        }
        async with self._db.connection() as connection:
            cursor = await connection.execute(self._claim, values)
            rows = await cursor.fetchall()
        rows.sort(key=lambda row: (row[2], row[0]))
        return [
            Job(id=key, kind=kind, due_at=utc(due_at), payload=payload, attempts=attempts)
            for key, kind, due_at, payload, attempts in rows
        ]

    async def complete(self, *, job_id: str) -> None:
        """Marks a claimed job done, so it never runs again."""
        async with self._db.connection() as connection:
            await connection.execute(self._complete, (job_id,))

    async def retry(self, *, job_id: str, due_at: str) -> None:
        """Releases a claimed job to run again at due_at, counting the attempt."""
        async with self._db.connection() as connection:
            await connection.execute(self._retry, (moment(due_at), job_id))

    async def cancel(self, *, key: str) -> bool:
        """Drops a job that has not run yet; says whether there was one."""
        async with self._db.connection() as connection:
            cursor = await connection.execute(self._cancel, (key,))
        return cursor.rowcount == 1

    async def forget_done(self, *, before: str, dry_run: bool = False) -> int:
        """Removes the jobs that are done (or cancelled) and were due before the moment; says
        how many (a dry run only counts them)."""
        async with self._db.connection() as connection:
            if dry_run:
                cursor = await connection.execute(self._count_old, (moment(before),))
                row = await cursor.fetchone()
                return int(row[0]) if row else 0
            cursor = await connection.execute(self._forget, (moment(before),))
        return cursor.rowcount


def postgres_stores(
    url: str, *, schema: str = DEFAULT_SCHEMA, max_connections: int = DEFAULT_MAX_CONNECTIONS
) -> Stores:
    """Prepares the stores on PostgreSQL; nothing connects until `await stores.open()`."""
    database = PostgresDatabase(url, schema=schema, max_connections=max_connections)
    return Stores(
        documents=PostgresDocuments(database),
        bot_storage=PostgresBotStorage(database),
        jobs=PostgresJobs(database),
        backend=database,
    )


@contextmanager
def refusing_nul() -> Iterator[None]:
    """Turns PostgreSQL's refusal of \\u0000 inside JSONB into the ValueError JSON errors raise."""
    try:
        yield
    except psycopg.errors.UntranslatableCharacter:
        raise ValueError("PostgreSQL cannot store the character \\u0000 in JSON") from None


def utc(value: datetime) -> str:
    """Writes a moment from the database in UTC, as every adapter returns it."""
    return value.astimezone(UTC).isoformat()


def describe_server(url: str) -> str:
    """Names host, port and database of a connection string, leaving out any password."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(an unreadable DATABASE_URL)"
    host = parts.get("host") or "localhost"
    port = parts.get("port") or "5432"
    return f"{host}:{port}/{parts.get('dbname') or parts.get('user') or ''}"


def first_line(error: BaseException) -> str:
    """The first line of a driver error: what failed, without the details that follow."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
