"""The embedded store: TinyDB over a snapshot and an append-only journal, one process at a time.

The folder holds the files `storage.journal` describes, plus `safesession.lock`, flock'd while a
process has the store open (it holds that process's pid).

Every commit is a `Batch` for each table it changes (one journal line: all of them or none),
planned under one lock and appended to the journal by `JournalStorage` before it is
acknowledged. Commits normally run on a single worker thread, so a slow disk never holds up the
event loop. Commits that queue up while one is being written go together (a group commit): the
worker plans each in turn, each plan seeing the ones before it, writes them as one line each with
one fdatasync, and only then applies them in memory and answers every caller. If that write
fails, every commit of the group fails and memory is untouched.

A commit that finds the store idle (nothing queued, no compaction running) runs on the caller's
event loop instead, once the disk has shown itself fast: handing a commit to the worker and its
answer back costs two thread wake-ups (about 100 µs on these machines), more than the fdatasync
itself. The loop then waits for that one fdatasync (a fraction of a millisecond). A single
fdatasync slower than FAST_SYNC_SECONDS, anywhere, sends commits back to the worker until
FAST_SYNCS_NEEDED fast ones in a row have been seen again; a fresh store starts on the worker.
(A disk that hangs outright in that one fdatasync holds up the loop for as long as it hangs.)

Reads of a few keys come straight from the in-memory copy on the caller's thread (no thread hop;
memory only ever holds durable records); scans run on the worker, a slice at a time. When the
journal has grown enough, the group that noticed starts a compaction on a second thread, which
takes the lock only to rename the new snapshot into place, so callers never wait for the rewrite.
"""

import asyncio
import contextlib
import errno
import fcntl
import gc
import json
import logging
import os
import pickle
import queue
import threading
import time
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tinydb import Query, TinyDB
from tinydb.table import Table

from safeguarding.ports import StoreLocked, StoreStatus, StoreUnavailable
from storage.journal import (
    COMPACT_AFTER_BYTES,
    DATABASE_NAME,
    TEMP_PREFIX,
    TEMP_SUFFIX,
    Change,
    Compaction,
    JournalStorage,
    Tables,
    fsync_folder,
)
from storage.records import Batch, Plan, Record, check_key, json_record, json_text

log = logging.getLogger(__name__)

__all__ = [
    "DATABASE_NAME",
    "LOCK_NAME",
    "TEMP_PREFIX",
    "KeyedTinyDB",
    "TinyDBRecords",
]

LOCK_NAME = "safesession.lock"
# /healthz reports "busy" rather than hang when a write holds the store this long.
STATUS_WAIT_SECONDS = 2.0
# After a failed compaction the journal keeps everything; try again after this long.
COMPACTION_RETRY_SECONDS = 60.0
# A scan hands the GIL to the event loop after this many records, so it never waits long.
SCAN_SLICE = 256
# From this many records on, the store hides them from the cyclic garbage collector (see
# _freeze_long_lived): a full collection over 50,000 records' dicts stops every thread ~100 ms.
FREEZE_AFTER_RECORDS = 10_000
# get_many for up to this many keys reads memory on the caller's thread (microseconds).
DIRECT_READ_KEYS = 32
# At most this many queued commits share one fdatasync.
GROUP_LIMIT = 256
# A commit may run on the event loop only while every one of the last FAST_SYNCS_NEEDED
# fdatasyncs took less than FAST_SYNC_SECONDS (they take 0.05-0.3 ms on a healthy disk).
FAST_SYNC_SECONDS = 0.002
FAST_SYNCS_NEEDED = 16
# Commits on the loop less than HELD_GAP_SECONDS apart count as one run; after HELD_SECONDS of
# such a run the caller hands the loop round once (a purge deleting thousands, say).
HELD_GAP_SECONDS = 0.001
HELD_SECONDS = 0.005

T = TypeVar("T")
# Told "started", "written", "installed" and "dropped" as a compaction goes (tests kill at each).
Step = Callable[[str], None]


@dataclass
class _Job:
    """Work queued for the store's worker thread, and where its answer goes."""

    work: Callable[[], Any]
    loop: asyncio.AbstractEventLoop
    future: "asyncio.Future[Any]"
    # Transactions may share a group commit; anything else sees only durable records.
    commits: bool = False
    outcome: tuple[bool, Any] = (False, None)


@dataclass
class _Group:
    """Commits planned but not yet durable: their journal lines, and the records they change."""

    commits: list[list[Change]] = field(default_factory=list)
    staged: dict[str, dict[str, Record | None]] = field(default_factory=dict)
    jobs: list[_Job] = field(default_factory=list)


class KeyedTable(Table):
    """A TinyDB table whose document ids are our string keys."""

    document_id_class = str


class KeyedTinyDB(TinyDB):
    """A TinyDB database made of keyed tables."""

    table_class = KeyedTable


class TinyDBRecords:
    """Keeps records in the embedded store in folder; a second opener gets StoreLocked."""

    backend = "tinydb"

    def __init__(
        self,
        folder: str | os.PathLike[str],
        *,
        compact_after_bytes: int = COMPACT_AFTER_BYTES,
        on_compaction_step: Step | None = None,
    ) -> None:
        self.folder = Path(folder)
        self._path = self.folder / DATABASE_NAME
        self._lock = threading.Lock()
        self._closed = False
        self._write_error = ""
        self._compaction_error = ""
        self._compaction: Future[None] | None = None
        self._retry_compaction_at = 0.0
        self._step = on_compaction_step or _no_step
        make_folder(self.folder)
        self._lock_descriptor = acquire_folder_lock(self.folder)
        try:
            remove_orphans(self.folder)
            self._db = KeyedTinyDB(
                str(self._path), storage=JournalStorage, compact_after_bytes=compact_after_bytes
            )
        except OSError as error:
            release_folder_lock(self._lock_descriptor)
            raise StoreUnavailable(
                f"Could not open the store in {self.folder}: {error.strerror or error}"
            ) from error
        except BaseException:
            release_folder_lock(self._lock_descriptor)
            raise
        self._storage: JournalStorage = self._db.storage
        _freeze_long_lived(self._storage.read())
        self._group: _Group | None = None
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._accepting = threading.Lock()  # keeps close(), a job's arrival and _queued together
        self._queued = 0  # jobs handed to the worker and not yet answered
        self._fast_syncs = 0  # fast fdatasyncs in a row (see FAST_SYNC_SECONDS)
        self._held_from = self._last_here = 0.0  # commits on the loop, back to back
        self._worker = threading.Thread(target=self._serve, name="safesession-store", daemon=True)
        self._worker.start()
        self._compactor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="safesession-compact"
        )
        log.info(
            "opened the store in %s (%d tables, %d journal bytes to fold in)",
            self.folder,
            len(self._storage.read()),
            self._storage.journal_bytes,
        )

    async def open(self) -> None:
        """Nothing to do: the store opened when it was made, so a locked folder fails fast."""

    @property
    def journal_bytes(self) -> int:
        """How much journal a restart would replay now."""
        return self._storage.journal_bytes

    async def get_many(self, table: str, keys: Collection[str]) -> dict[str, Record]:
        """Returns copies of the records stored under keys, leaving out missing ones."""
        wanted = list(keys)
        if len(wanted) > DIRECT_READ_KEYS:
            return await self._run(lambda: self._get_many(table, wanted))
        if self._closed:
            raise StoreUnavailable("The store is closed.")
        with self._storage.applying:  # never half of a commit; held for microseconds
            found = self._durable(table, wanted)
        return {key: clone(doc) for key, doc in found.items()}

    async def find(self, table: str, where: Mapping[str, Any] | None = None) -> list[Record]:
        """Returns copies of the records whose top-level fields equal every value in where."""
        wanted = json_record(where) if where else None
        return await self._run(lambda: self._find(table, wanted))

    async def transact(self, table: str, keys: Collection[str], plan: Plan) -> dict[str, Record]:
        """Shows plan the records under keys, commits the batch it returns, returns what it saw."""
        wanted = list(keys)
        return await self._commit(lambda: self._transact(table, wanted, plan))

    async def write(self, batches: Mapping[str, Batch]) -> None:
        """Commits a batch to each of several tables as one all-or-nothing write."""
        changing = {table: batch for table, batch in batches.items() if batch}
        await self._commit(lambda: self._stage(changing))

    async def tables(self) -> dict[str, int]:
        """Names every table with how many records it holds."""
        return await self._run(lambda: {n: len(r) for n, r in self._storage.read().items()})

    async def rows(self, table: str) -> dict[str, Record]:
        """Returns a copy of every record in table, by key (for exports and migrations)."""
        return await self._run(
            lambda: {key: clone(row) for key, row in self._storage.read().get(table, {}).items()}
        )

    async def compact(self) -> None:
        """Folds everything committed so far into a new snapshot, and waits until it is durable."""
        while True:
            running, fresh = await self._run(self._compact_now)
            if running is not None:
                await asyncio.wrap_future(running)
            if fresh:  # one already running may have frozen the state before the last commits
                return

    async def status(self) -> StoreStatus:
        """Says whether the store can be used right now, without waiting behind queued writes."""
        return await asyncio.to_thread(self._status_now)

    def _status_now(self) -> StoreStatus:
        # A few cheap system calls; the lock keeps a compaction's rename and identity together.
        if not self._lock.acquire(timeout=STATUS_WAIT_SECONDS):
            return self._status(False, "store is busy: a write is taking too long")
        try:
            return self._status(*self._health())
        finally:
            self._lock.release()

    def close(self) -> None:
        """Finishes queued work and any compaction, then releases the files and the folder lock."""
        with self._accepting:
            if self._closed:
                return
            self._closed = True
            self._queue.put(None)
        self._worker.join()
        self._compactor.shutdown(wait=True)
        with self._lock:  # a commit on an event loop may be finishing
            self._db.close()
        release_folder_lock(self._lock_descriptor)
        log.info("closed the store in %s", self.folder)

    async def aclose(self) -> None:
        """Closes the store without holding up the event loop while work drains."""
        await asyncio.to_thread(self.close)

    async def _run(self, work: Callable[[], T], *, commits: bool = False) -> T:
        # One worker thread keeps fsync off the event loop and runs work in arrival order;
        # its lock also keeps status() and compaction's rename out of a group.
        loop = asyncio.get_running_loop()
        job = _Job(work=work, loop=loop, future=loop.create_future(), commits=commits)
        self._enqueue(job)
        job.future.add_done_callback(_retrieved)
        try:
            result: T = await asyncio.shield(job.future)
        except asyncio.CancelledError:
            if commits:
                # The queued commit still lands: wait for it, so that no read after this (from
                # memory, not through the queue) can miss it and write over it.
                await asyncio.wait([job.future])
            raise
        return result

    async def _commit(self, work: Callable[[], T]) -> T:
        # Right here when the store is idle and the disk fast, else on the worker.
        if not self._claim_for_caller():
            return await self._run(work, commits=True)
        try:
            result = self._commit_here(work)
        finally:
            self._lock.release()
        if self._loop_held_since(time.monotonic()) > HELD_SECONDS:
            await asyncio.sleep(0)  # commits back to back: let everything else on the loop run
        return result

    def _enqueue(self, job: _Job) -> None:
        with self._accepting:
            if self._closed:
                raise StoreUnavailable("The store is closed.")
            self._queued += 1
            self._queue.put(job)

    def _claim_for_caller(self) -> bool:
        # True, holding the lock, when a commit may run right here: nothing is queued ahead of
        # it (so order is kept), no compaction is writing (they start only under the lock, so
        # asked again once it is held), and the disk has been fast lately.
        if self._fast_syncs < FAST_SYNCS_NEEDED:
            return False
        with self._accepting:
            if self._closed or self._queued or not self._lock.acquire(blocking=False):
                return False
        if self._compacting():
            self._lock.release()
            return False
        return True

    def _commit_here(self, work: Callable[[], T]) -> T:
        # A group of one, on the caller's thread; the caller holds the lock.
        self._group = _Group()
        try:
            result = work()
            self._append(self._group.commits)
        except StoreUnavailable:
            raise
        except BaseException as error:
            if self._group.commits:  # not the plan's own failure: the store's state is unknown
                self._write_error = "the store failed; restart the bot"
                log.error("a commit failed unexpectedly: %s", type(error).__name__)
            raise
        finally:
            self._group = None
        if self._compaction_due():
            # Rotating the journal copies every table: the worker does that, not the loop.
            loop = asyncio.get_running_loop()
            nudge = _Job(work=_nothing, loop=loop, future=loop.create_future())
            nudge.future.add_done_callback(_retrieved)
            with contextlib.suppress(StoreUnavailable):  # closing: no compaction is needed
                self._enqueue(nudge)
        return result

    def _loop_held_since(self, now: float) -> float:
        # How long commits on the loop have followed each other with no gap to speak of.
        if now - self._last_here > HELD_GAP_SECONDS:
            self._held_from = now
        self._last_here = now
        return now - self._held_from

    def _serve(self) -> None:
        # The worker: takes every job waiting (up to GROUP_LIMIT) and runs them as one group.
        stopping = False
        while not stopping:
            jobs: list[_Job] = []
            while len(jobs) < GROUP_LIMIT:
                try:
                    job = self._queue.get(block=not jobs)
                except queue.Empty:
                    break
                if job is None:
                    stopping = True
                    break
                jobs.append(job)
            if jobs:
                self._run_group(jobs)

    def _run_group(self, jobs: list[_Job]) -> None:
        try:
            with self._lock:
                self._group = _Group()
                try:
                    for job in jobs:
                        if not job.commits:
                            self._flush()  # scans and the like see durable records only
                        self._attempt(job)
                    self._flush()
                finally:
                    self._group = None
                self._start_compaction()
        except BaseException as error:  # not the store's own failures: nobody may wait forever
            self._write_error = "the store's worker failed; restart the bot"
            log.error("the store's worker failed: %s", type(error).__name__)
            for job in jobs:
                job.outcome = (False, StoreUnavailable("The store failed; restart the bot."))
        finally:
            with self._accepting:  # before the answers: a caller's next commit may come at once
                self._queued -= len(jobs)
            _answer(jobs)

    def _attempt(self, job: _Job) -> None:
        assert self._group is not None
        self._group.jobs.append(job)
        try:
            job.outcome = (True, job.work())
        except BaseException as error:  # handed to the caller, as run_in_executor would
            job.outcome = (False, error)

    def _flush(self) -> None:
        # Makes the group's commits durable with one write and one fdatasync, then starts a new
        # group. If that fails, every job that ran since the first commit was planned fails with
        # it: some of them saw records that now will never be.
        group = self._group
        assert group is not None
        try:
            self._append(group.commits)
        except StoreUnavailable as error:
            failed = False
            for job in group.jobs:
                failed = failed or job.commits
                if failed:
                    job.outcome = (False, error)
        self._group = _Group()

    def _append(self, commits: list[list[Change]]) -> None:
        # Appends commits with one fdatasync, and notes whether the disk was fast.
        if not commits:
            return
        try:
            seconds = self._storage.commit_lines(commits)
        except StoreUnavailable as error:
            self._fast_syncs = 0
            self._write_error = "the last write failed"
            log.error("could not commit %d change(s): %s", len(commits), error)
            raise
        self._write_error = ""
        self._fast_syncs = self._fast_syncs + 1 if seconds < FAST_SYNC_SECONDS else 0

    def _durable(self, table: str, keys: list[str]) -> dict[str, Record]:
        # TinyDB's own lookup by id, on the in-memory database (records as committed).
        rows = self._table(table)
        found = {key: rows.get(doc_id=key) for key in keys}
        return {key: doc for key, doc in found.items() if doc is not None}

    def _table(self, name: str) -> Any:
        return self._db.table(name, cache_size=0)

    def _get_many(self, table: str, keys: list[str]) -> dict[str, Record]:
        # On the worker: records as committed, or as a commit planned earlier in this group.
        staged = self._group.staged.get(table, {}) if self._group else {}
        durable = self._durable(table, [key for key in keys if key not in staged])
        found = {key: staged[key] if key in staged else durable.get(key) for key in keys}
        return {key: clone(doc) for key, doc in found.items() if doc is not None}

    def _find(self, table: str, where: Record | None) -> list[Record]:
        # TinyDB's own query, applied to the table in slices: Table.search would copy every
        # match into a Document first and hold the GIL for the whole scan between switches.
        wanted = Query().fragment(where) if where else None
        found = []
        for number, doc in enumerate(list(self._storage.read().get(table, {}).values())):
            if wanted is None or wanted(doc):
                found.append(clone(doc))
            if number % SCAN_SLICE == SCAN_SLICE - 1:
                time.sleep(0)  # lets a waiting event loop have the GIL now, not in 5 ms
        return found

    def _transact(self, table: str, keys: list[str], plan: Plan) -> dict[str, Record]:
        current = self._get_many(table, keys)
        batch = plan(current)
        if batch:
            self._stage({table: batch})
        return current

    def _stage(self, batches: Mapping[str, Batch]) -> None:
        # One commit (one journal line) for every table's batch. Each record is encoded once:
        # the same text goes into the journal line and, parsed back, into memory once the line
        # is durable (and meanwhile into this group's view).
        commit = []
        for table, batch in batches.items():
            puts = {check_key(key): json_text(record) for key, record in batch.puts.items()}
            parsed = {key: json.loads(text) for key, text in puts.items()}
            deletes = [check_key(key) for key in batch.deletes]
            commit.append(Change(table=table, puts=puts, deletes=deletes, parsed=parsed))
        if not commit:
            return
        assert self._group is not None
        self._group.commits.append(commit)
        for change in commit:
            view = self._group.staged.setdefault(change.table, {})
            view.update(dict.fromkeys(change.deletes))
            view.update(change.records())

    def _compact_now(self) -> "tuple[Future[None] | None, bool]":
        if self._compacting():
            return self._compaction, False
        return self._start_compaction(force=True), True

    def _start_compaction(self, *, force: bool = False) -> "Future[None] | None":
        # Runs on the worker with the lock held: rotating the journal and freezing the
        # state (a shallow copy of each table) take a few milliseconds at 50,000 records.
        if self._compacting():
            return self._compaction
        if not force and not self._compaction_due():
            return None
        try:
            job = self._storage.begin_compaction()
        except OSError as error:
            self._compaction_failed(error)
            return None
        self._compaction = self._compactor.submit(self._compact, job)
        return self._compaction

    def _compacting(self) -> bool:
        return self._compaction is not None and not self._compaction.done()

    def _compaction_due(self) -> bool:
        return (
            not self._compacting()
            and self._storage.wants_compaction()
            and time.monotonic() >= self._retry_compaction_at
        )

    def _compact(self, job: Compaction) -> None:
        started = time.monotonic()
        try:
            self._step("started")
            written = self._storage.write_snapshot(job)
            self._step("written")
            with self._lock:
                redundant = self._storage.install(job, written)
            self._step("installed")
            self._storage.drop_journals(redundant)
            _freeze_long_lived(job.tables)
        except OSError as error:
            self._compaction_failed(error)
            return
        self._compaction_error = ""
        self._step("dropped")
        log.info(
            "compacted the store in %s: %d records in %.0f ms",
            self.folder,
            sum(len(rows) for rows in job.tables.values()),
            (time.monotonic() - started) * 1000,
        )

    def _compaction_failed(self, error: OSError) -> None:
        # Nothing is lost: the journals still hold every commit until a compaction succeeds.
        self._compaction_error = "could not compact the journal"
        self._retry_compaction_at = time.monotonic() + COMPACTION_RETRY_SECONDS
        log.error("could not compact the store in %s: %s", self.folder, error.strerror or error)

    def _health(self) -> tuple[bool, str]:
        if self._closed:
            return False, "store is closed"
        if self._write_error:
            return False, self._write_error
        problem = self._storage.problem()
        if problem:
            return False, problem
        if self._compaction_error:
            return False, self._compaction_error
        if not os.access(self.folder, os.W_OK):
            return False, "store folder is not writable"
        return True, ""

    def _status(self, ok: bool, detail: str) -> StoreStatus:
        return StoreStatus(ok=ok, backend=self.backend, detail=detail)


def _answer(jobs: list[_Job]) -> None:
    """Hands each job's outcome to its caller: one wake-up per event loop for the whole group."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
    for job in jobs:
        by_loop.setdefault(job.loop, []).append(job)
    for loop, waiting in by_loop.items():
        with contextlib.suppress(RuntimeError):  # that loop has closed; nobody is waiting
            loop.call_soon_threadsafe(_settle, waiting)


def _retrieved(future: "asyncio.Future[Any]") -> None:
    # A caller that was cancelled no longer reads its outcome: read it here, so asyncio does not
    # report an exception nobody retrieved.
    if not future.cancelled():
        future.exception()


def _settle(jobs: list[_Job]) -> None:
    for job in jobs:
        if job.future.done():  # never, as callers wait through shield(); one must not stop the rest
            continue
        ok, value = job.outcome
        if ok:
            job.future.set_result(value)
        else:
            job.future.set_exception(value)


def clone(record: Record) -> Record:
    """Copies a stored record deeply; pickle is exact for JSON data and the fastest copy."""
    # Only our own in-memory records are ever pickled and unpickled, never outside data.
    copied: Record = pickle.loads(pickle.dumps(record, pickle.HIGHEST_PROTOCOL))
    return copied


def _freeze_long_lived(tables: Tables) -> None:
    """Moves a large store's records out of the cyclic garbage collector's sight.

    Records are acyclic JSON that live until replaced, so scanning them finds nothing, yet a
    full collection over 50,000 of them stops every thread (the event loop too) for ~100 ms.
    gc.freeze() moves every object alive now into a permanent generation that collections
    skip; reference counting still frees replaced records. Young garbage is collected first,
    so little else gets frozen with them.
    """
    if sum(len(rows) for rows in tables.values()) >= FREEZE_AFTER_RECORDS:
        gc.collect(1)
        gc.freeze()


def _no_step(_step: str) -> None:
    pass


def _nothing() -> None:
    pass


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
