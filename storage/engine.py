"""The embedded store: TinyDB tables in one JSON file in a folder, for one process at a time.

The folder holds:

- `safesession.json`: the TinyDB database (table → key → record), keys as TinyDB document ids;
- `safesession.lock`: flock'd while a process has the store open (it holds that process's pid);
- `safesession.json.*.tmp`: a write in progress; one left behind by a crash is removed at open.

Every commit is one `Batch` for one table, planned and applied under one lock on a single worker
thread (so fsync never blocks the event loop), then written by `DurableJSONStorage`: temp file,
fsync, rename over the database, fsync the folder. Reads come from the in-memory copy.

Later, the whole-file rewrite can become an append-only journal with periodic compaction by
replacing `TinyDBRecords._commit` and the storage class; the `Records` port the adapters use,
and so every caller, stays the same.
"""

import asyncio
import contextlib
import copy
import errno
import fcntl
import functools
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from safeguarding.ports import StoreLocked, StoreStatus, StoreUnavailable
from storage.records import Batch, Plan, Record, check_key, dump_json, json_record, matches

log = logging.getLogger(__name__)

DATABASE_NAME = "safesession.json"
LOCK_NAME = "safesession.lock"
TEMP_PREFIX = DATABASE_NAME + "."
TEMP_SUFFIX = ".tmp"
# /healthz reports "busy" rather than hang when a write holds the store this long.
STATUS_WAIT_SECONDS = 2.0

T = TypeVar("T")
Tables = dict[str, dict[str, Record]]


class KeyedTable(Table):
    """A TinyDB table whose document ids are our string keys."""

    document_id_class = str


class KeyedTinyDB(TinyDB):
    """A TinyDB database made of keyed tables."""

    table_class = KeyedTable


class DurableJSONStorage(Storage):
    """Keeps the database in memory and replaces the file atomically and durably on each write."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self._path = Path(path)
        self._folder = self._path.parent
        self.identity: tuple[int, int] | None = None
        loaded = load_tables(self._path)
        if loaded is None:
            self._data: Tables = {}
            self.write({})
        else:
            self._data = loaded
            stat = os.stat(self._path)
            self.identity = (stat.st_dev, stat.st_ino)

    def read(self) -> Tables:
        """Returns the in-memory database; callers must not change it in place."""
        return self._data

    def write(self, data: Tables) -> None:
        """Replaces the file with data, durably, then keeps data as the in-memory copy."""
        try:
            encoded = dump_json(data).encode("utf-8")
        except (TypeError, ValueError) as error:
            raise TypeError(f"the store only keeps JSON data: {error}") from None
        try:
            self._replace_file(encoded)
            self._data = data
            fsync_folder(self._folder)
        except OSError as error:
            raise StoreUnavailable(
                f"Could not write the store file {self._path}: {error.strerror or error}"
            ) from error

    def _replace_file(self, encoded: bytes) -> None:
        descriptor, temp_name = tempfile.mkstemp(
            prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=self._folder
        )
        try:
            with os.fdopen(descriptor, "wb") as temp:
                temp.write(encoded)
                temp.flush()
                os.fsync(temp.fileno())
                stat = os.fstat(temp.fileno())
            os.replace(temp_name, self._path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise
        self.identity = (stat.st_dev, stat.st_ino)


class TinyDBRecords:
    """Keeps records in the embedded store in folder; a second opener gets StoreLocked."""

    backend = "tinydb"

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self._path = self.folder / DATABASE_NAME
        self._lock = threading.Lock()
        self._closed = False
        self._write_error = ""
        make_folder(self.folder)
        self._lock_descriptor = acquire_folder_lock(self.folder)
        try:
            remove_orphans(self.folder)
            self._db = KeyedTinyDB(str(self._path), storage=DurableJSONStorage)
        except OSError as error:
            release_folder_lock(self._lock_descriptor)
            raise StoreUnavailable(
                f"Could not open the store in {self.folder}: {error.strerror or error}"
            ) from error
        except BaseException:
            release_folder_lock(self._lock_descriptor)
            raise
        self._storage: DurableJSONStorage = self._db.storage
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="safesession-store")
        log.info("opened the store in %s (%d tables)", self.folder, len(self._storage.read()))

    async def get_many(self, table: str, keys: Collection[str]) -> dict[str, Record]:
        """Returns copies of the records stored under keys, leaving out missing ones."""
        wanted = list(keys)
        return await self._run(lambda: self._get_many(table, wanted))

    async def find(self, table: str, where: Mapping[str, Any] | None = None) -> list[Record]:
        """Returns copies of the records whose top-level fields equal every value in where."""
        wanted = json_record(where) if where else None
        return await self._run(lambda: self._find(table, wanted))

    async def transact(self, table: str, keys: Collection[str], plan: Plan) -> dict[str, Record]:
        """Shows plan the records under keys, commits the batch it returns, returns what it saw."""
        wanted = list(keys)
        return await self._run(lambda: self._transact(table, wanted, plan))

    async def status(self) -> StoreStatus:
        """Says whether the store can be used right now, without waiting behind queued writes."""
        return await asyncio.to_thread(self._status_now)

    def _status_now(self) -> StoreStatus:
        # A few cheap system calls; the lock keeps a commit's rename and identity update together.
        if not self._lock.acquire(timeout=STATUS_WAIT_SECONDS):
            return self._status(False, "store is busy: a write is taking too long")
        try:
            return self._status(*self._health())
        finally:
            self._lock.release()

    def close(self) -> None:
        """Finishes queued work, then releases the file and the folder lock."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._worker.shutdown(wait=True)
        self._db.close()
        release_folder_lock(self._lock_descriptor)
        log.info("closed the store in %s", self.folder)

    async def _run(self, work: Callable[[], T]) -> T:
        # One worker thread keeps fsync off the event loop and runs work in arrival order;
        # the lock also keeps status() and close() from other threads out of a commit.
        if self._closed:
            raise StoreUnavailable("The store is closed.")
        try:
            pending = asyncio.get_running_loop().run_in_executor(
                self._worker, functools.partial(self._locked, work)
            )
        except RuntimeError:  # the worker was shut down by a concurrent close()
            raise StoreUnavailable("The store is closed.") from None
        return await pending

    def _locked(self, work: Callable[[], T]) -> T:
        with self._lock:
            return work()

    def _table(self, name: str) -> Any:
        return self._db.table(name, cache_size=0)

    def _get_many(self, table: str, keys: list[str]) -> dict[str, Record]:
        rows = self._table(table)
        found = {key: rows.get(doc_id=key) for key in keys}
        return {key: copy.deepcopy(dict(doc)) for key, doc in found.items() if doc is not None}

    def _find(self, table: str, where: Record | None) -> list[Record]:
        return [copy.deepcopy(dict(doc)) for doc in self._table(table).all() if matches(doc, where)]

    def _transact(self, table: str, keys: list[str], plan: Plan) -> dict[str, Record]:
        current = self._get_many(table, keys)
        batch = plan(current)
        if batch:
            self._commit(table, batch)
        return current

    def _commit(self, table: str, batch: Batch) -> None:
        # TinyDB's public API cannot insert, replace and remove in one write, so the batch is
        # applied to a new top-level copy and handed to the storage once. The in-memory copy
        # changes only once the new file has replaced the old one.
        puts = {check_key(key): json_record(record) for key, record in batch.puts.items()}
        tables = dict(self._storage.read())
        rows = dict(tables.get(table, {}))
        for key in batch.deletes:
            rows.pop(key, None)
        rows.update(puts)
        tables[table] = rows
        try:
            self._storage.write(tables)
        except StoreUnavailable as error:
            self._write_error = "the last write failed"
            log.error("could not commit to table %s: %s", table, error)
            raise
        self._write_error = ""

    def _health(self) -> tuple[bool, str]:
        if self._closed:
            return False, "store is closed"
        if self._write_error:
            return False, self._write_error
        try:
            stat = os.stat(self._path)
        except OSError:
            return False, "store file is missing"
        if (stat.st_dev, stat.st_ino) != self._storage.identity:
            return False, "store file was replaced by something else"
        if not os.access(self.folder, os.W_OK):
            return False, "store folder is not writable"
        return True, ""

    def _status(self, ok: bool, detail: str) -> StoreStatus:
        return StoreStatus(ok=ok, backend=self.backend, detail=detail)


def load_tables(path: Path) -> Tables | None:
    """Reads the database file; None if there is none yet, StoreUnavailable if it is unusable."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StoreUnavailable(
            f"Could not read the store file {path}: {error.strerror or error}"
        ) from error
    refusal = (
        "refusing to start with an empty store over it. Restore it from a backup, "
        "or move it away to start afresh."
    )
    try:
        data = json.loads(raw.decode("utf-8"))
    except ValueError:
        raise StoreUnavailable(f"The store file {path} is empty or corrupt; {refusal}") from None
    if not _is_tables(data):
        raise StoreUnavailable(f"The store file {path} is not a SafeSession store; {refusal}")
    return data


def _is_tables(data: Any) -> bool:
    return isinstance(data, dict) and all(
        isinstance(rows, dict) and all(isinstance(record, dict) for record in rows.values())
        for rows in data.values()
    )


def make_folder(folder: Path) -> None:
    """Creates the store folder (owner-only) if it is missing, durably."""
    try:
        if folder.is_dir():
            return
        folder.mkdir(mode=0o700, parents=True)
        fsync_folder(folder.parent)
    except OSError as error:
        raise StoreUnavailable(
            f"Could not create the store folder {folder}: {error.strerror or error}"
        ) from error


def acquire_folder_lock(folder: Path) -> int:
    """Takes the folder's exclusive lock without waiting, or says who holds it."""
    path = folder / LOCK_NAME
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as error:
        raise StoreUnavailable(
            f"Could not open the lock file {path}: {error.strerror or error}"
        ) from error
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        holder = _holder(descriptor)
        os.close(descriptor)
        if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise StoreUnavailable(f"Could not lock {path}: {error.strerror}") from error
        raise StoreLocked(
            f"The store folder {folder} is in use by another SafeSession process{holder}. "
            "Only one process may open a store folder: stop the other one, "
            "or give this one a different folder."
        ) from None
    with contextlib.suppress(OSError):  # the pid only makes the refusal message clearer
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
    return descriptor


def _holder(descriptor: int) -> str:
    try:
        pid = int(os.pread(descriptor, 32, 0).decode().strip())
    except (OSError, ValueError):
        return ""
    if pid == os.getpid():
        return f" (in fact this one, pid {pid}, which has it open already)"
    return f" (pid {pid})"


def release_folder_lock(descriptor: int) -> None:
    """Lets another process open the folder; the lock file itself stays."""
    with contextlib.suppress(OSError):
        fcntl.flock(descriptor, fcntl.LOCK_UN)
    os.close(descriptor)


def remove_orphans(folder: Path) -> None:
    """Deletes temp files left by a write that a crash interrupted (we hold the lock)."""
    removed = 0
    for entry in os.scandir(folder):
        if entry.name.startswith(TEMP_PREFIX) and entry.name.endswith(TEMP_SUFFIX):
            os.unlink(entry.path)
            removed += 1
    if removed:
        fsync_folder(folder)
        log.warning("removed %d unfinished write(s) left in %s by a crash", removed, folder)


def fsync_folder(folder: Path) -> None:
    """Makes a rename or unlink in folder survive a power cut."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
