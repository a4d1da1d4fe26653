"""The embedded store's files: a TinyDB snapshot and an append-only journal of committed batches.

The folder holds:

- `safesession.json`: the snapshot, a plain TinyDB JSON database (table → key → record) whose
  `_journal` table names the last journal generation it already includes;
- `safesession.journal.<generation>`: every batch committed since, one line each, written and
  fdatasync'd before the commit returns: `<crc32, 8 hex> <payload bytes> <payload JSON>\\n`;
- `safesession.json.*.tmp`: a snapshot being written; one left behind by a crash is removed at open.

A commit (or a group of commits queued together) costs one append and one fdatasync whatever
the size of the store. Once the journals outgrow a threshold (and half the snapshot, so each
rewrite is paid for by the appends before it), compaction starts the next journal generation,
writes the state as of that moment to a temp file (fsync), renames it over the snapshot, fsyncs
the folder and deletes the journals the snapshot now includes; commits carry on into the new
generation meanwhile.

Opening loads the snapshot and replays newer journals in order. A kill can leave the newest
journal ending in part of a line: that write was never acknowledged, so the part is cut off. A bad
line anywhere else, or a missing generation, is corruption, and the store refuses to open.
"""

import contextlib
import errno
import json
import logging
import os
import re
import tempfile
import threading
import time
import zlib
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from safeguarding.ports import StoreUnavailable
from storage.records import Record, dump_json

log = logging.getLogger(__name__)

DATABASE_NAME = "safesession.json"
JOURNAL_PREFIX = "safesession.journal."
TEMP_PREFIX = DATABASE_NAME + "."
TEMP_SUFFIX = ".tmp"
# The snapshot's own bookkeeping, kept as a table so plain TinyDB still reads the file.
META_TABLE = "_journal"
META_KEY = "snapshot"
# Compaction waits for at least this much journal, and for half the snapshot's size.
COMPACT_AFTER_BYTES = 8 * 1024 * 1024
# Records encoded per call while writing a snapshot, so no one call holds the GIL for long.
SNAPSHOT_CHUNK = 200
REFUSAL = (
    "refusing to start with an empty store over it. Restore it from a backup, "
    "or move it away to start afresh."
)
_JOURNAL_NAME = re.compile(re.escape(JOURNAL_PREFIX) + r"(\d+)")

Tables = dict[str, dict[str, Record]]
Identity = tuple[int, int]


@dataclass(frozen=True)
class Change:
    """One table's part of a commit: keys to remove, then records (as JSON text) to store."""

    table: str
    puts: Mapping[str, str] = field(default_factory=dict)
    deletes: Collection[str] = ()
    # The same records parsed back from their text, when the caller has them already.
    parsed: Mapping[str, Record] | None = None

    def records(self) -> Mapping[str, Record]:
        """The records to hold in memory: parsed from the very text the journal keeps."""
        if self.parsed is not None:
            return self.parsed
        return {key: json.loads(text) for key, text in self.puts.items()}


@dataclass(frozen=True)
class Snapshot:
    """A loaded or written snapshot: its tables, the generation it includes, its file."""

    tables: Tables
    generation: int
    size: int
    identity: Identity


@dataclass(frozen=True)
class Compaction:
    """The state as of one moment, to write as the next snapshot, and the journal it replaces."""

    tables: Tables
    generation: int
    journal_bytes: int


@dataclass(frozen=True)
class WrittenSnapshot:
    """A snapshot fsync'd to a temp file, ready to be renamed into place."""

    temp_name: str
    size: int
    identity: Identity


class JournalStorage(Storage):
    """TinyDB storage that keeps the database in memory and appends each commit to a journal."""

    def __init__(self, path: str, compact_after_bytes: int = COMPACT_AFTER_BYTES) -> None:
        super().__init__()
        self.path = Path(path)
        self.folder = self.path.parent
        self._compact_after = compact_after_bytes
        self._journal_fd = -1
        self._broken = ""
        # Held while committed changes are applied in memory, so a reader on another thread
        # never sees half of a batch (applying takes microseconds; the fdatasync comes before).
        self.applying = threading.Lock()
        on_disk = journal_generations(self.folder)
        snapshot = load_snapshot(self.path)
        if snapshot is None:
            if on_disk:
                raise StoreUnavailable(
                    f"The store folder {self.folder} has journals but no {DATABASE_NAME}; "
                    + REFUSAL
                )
            snapshot = self._first_snapshot()
        self._data: Tables = snapshot.tables
        self.identity: Identity = snapshot.identity
        self._snapshot_generation = snapshot.generation
        self._snapshot_bytes = snapshot.size
        stale = [g for g in on_disk if g <= snapshot.generation]
        if stale:  # a crash came between a compaction's rename and its clean-up
            self.drop_journals(stale)
            log.warning("removed %d journal(s) a snapshot already included", len(stale))
        self._generations = [g for g in on_disk if g > snapshot.generation]
        self._check_contiguous(snapshot.generation)
        self._pending_bytes = 0
        for generation in self._generations:
            newest = generation == self._generations[-1]
            self._pending_bytes += self._replay(generation, newest=newest)
        if self._generations:
            self._journal_fd = open_journal(self._journal_path(self._generations[-1]))
        else:
            self._generations = [snapshot.generation + 1]
            self._journal_fd = create_journal(self._journal_path(self._generations[0]))

    # TinyDB's Storage interface

    def read(self) -> Tables:
        """Returns the in-memory database; callers must not change it in place."""
        return self._data

    def write(self, data: Tables) -> None:
        """Makes data the whole database by writing a new snapshot, as stock TinyDB would."""
        tables = {name: dict(rows) for name, rows in data.items()}
        job = self._rotate(tables)
        self.drop_journals(self.install(job, self.write_snapshot(job)))
        self._data = tables

    def close(self) -> None:
        """Lets go of the journal file."""
        if self._journal_fd >= 0:
            os.close(self._journal_fd)
            self._journal_fd = -1

    # Commits

    def commit_lines(self, commits: Sequence[Sequence[Change]]) -> float:
        """Appends several commits, a line each, with one write and one fdatasync (a group
        commit), then applies them in memory in order, holding `applying` meanwhile; returns
        how many seconds the write and fdatasync took."""
        lines = b"".join(encode_line(changes) for changes in commits)
        path = self._journal_path(self._generations[-1])
        problem = self._broken or self.problem()
        if problem:
            raise StoreUnavailable(f"Could not write the store file {path}: {problem}")
        good = os.lseek(self._journal_fd, 0, os.SEEK_END)
        started = time.perf_counter()
        try:
            write_all(self._journal_fd, lines)
            os.fdatasync(self._journal_fd)
            seconds = time.perf_counter() - started
        except OSError as error:
            self._cut_back(good)
            raise StoreUnavailable(
                f"Could not write the store file {path}: {error.strerror or error}"
            ) from error
        self._pending_bytes += len(lines)
        parsed = [(change, change.records()) for changes in commits for change in changes]
        with self.applying:
            for change, puts in parsed:
                apply(self._data, change.table, change.deletes, puts)
        return seconds

    def problem(self) -> str:
        """Says what is wrong with the files under the store, or "" when nothing is."""
        try:
            stat = os.stat(self.path)
        except OSError:
            return "store file is missing"
        if (stat.st_dev, stat.st_ino) != self.identity:
            return "store file was replaced by something else"
        try:
            if os.fstat(self._journal_fd).st_nlink == 0:
                return "store journal is missing"
        except OSError:
            return "store journal is closed"
        return ""

    # Compaction: begin and install under the store's lock; the slow parts run without it

    def wants_compaction(self) -> bool:
        """Says whether the journals have grown enough to be folded into a new snapshot."""
        return self._pending_bytes >= max(self._compact_after, self._snapshot_bytes // 2)

    def begin_compaction(self) -> Compaction:
        """Starts the next journal and freezes the state as of now (records are never mutated)."""
        if self._broken:  # its journal may end in part of a line, which must stay the newest
            raise OSError(errno.EIO, self._broken)
        return self._rotate({name: dict(rows) for name, rows in self._data.items()})

    def write_snapshot(self, job: Compaction) -> WrittenSnapshot:
        """Writes and fsyncs the frozen state to a temp file beside the snapshot."""
        return write_temp(self.folder, snapshot_chunks(job.tables, job.generation))

    def install(self, job: Compaction, written: WrittenSnapshot) -> list[int]:
        """Renames the new snapshot into place; returns the journals it made redundant."""
        if job.generation <= self._snapshot_generation:  # a newer snapshot got there first
            with contextlib.suppress(OSError):
                os.unlink(written.temp_name)
            return []
        install_file(written, self.path)
        self.identity = written.identity
        self._snapshot_generation = job.generation
        self._snapshot_bytes = written.size
        self._pending_bytes = max(0, self._pending_bytes - job.journal_bytes)
        redundant = [g for g in self._generations if g <= job.generation]
        self._generations = [g for g in self._generations if g > job.generation]
        return redundant

    def drop_journals(self, generations: Sequence[int]) -> None:
        """Deletes journals that a durable snapshot already includes."""
        if not generations:
            return
        for generation in generations:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._journal_path(generation))
        fsync_folder(self.folder)

    @property
    def journal_bytes(self) -> int:
        """How much journal a restart would replay now."""
        return self._pending_bytes

    # Internals

    def _first_snapshot(self) -> Snapshot:
        written = write_temp(self.folder, snapshot_chunks({}, 0))
        install_file(written, self.path)
        return Snapshot(tables={}, generation=0, size=written.size, identity=written.identity)

    def _check_contiguous(self, included: int) -> None:
        expected = list(range(included + 1, included + 1 + len(self._generations)))
        if self._generations != expected:
            missing = min(set(expected) - set(self._generations))
            raise StoreUnavailable(
                f"The store journal {self._journal_path(missing)} is missing; {REFUSAL}"
            )

    def _rotate(self, tables: Tables) -> Compaction:
        generation = self._generations[-1] + 1
        descriptor = create_journal(self._journal_path(generation))
        os.close(self._journal_fd)
        self._journal_fd = descriptor
        self._generations.append(generation)
        return Compaction(
            tables=tables, generation=generation - 1, journal_bytes=self._pending_bytes
        )

    def _journal_path(self, generation: int) -> Path:
        return self.folder / f"{JOURNAL_PREFIX}{generation:08d}"

    def _replay(self, generation: int, *, newest: bool) -> int:
        path = self._journal_path(generation)
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise StoreUnavailable(
                f"Could not read the store journal {path}: {error.strerror or error}"
            ) from error
        good = replay(raw, self._data, path)
        if good < len(raw):
            if not newest:
                raise StoreUnavailable(
                    f"The store journal {path} ends in a partial line; {REFUSAL}"
                )
            cut_file(path, good)
            log.warning(
                "cut an unfinished write (%d bytes) a crash left at the end of the journal",
                len(raw) - good,
            )
        return good

    def _cut_back(self, good: int) -> None:
        # A failed append may have left part of a line, and later lines must not follow it.
        try:
            os.ftruncate(self._journal_fd, good)
            os.fsync(self._journal_fd)
        except OSError as error:
            self._broken = "a failed write could not be undone; restart the bot"
            log.error("could not cut a failed write from the journal: %s", error.strerror)


def encode_line(changes: Sequence[Change]) -> bytes:
    """Encodes one commit as a journal line, its records' JSON text used as it is."""
    parts = []
    for change in changes:
        puts = ",".join(f"{dump_json(key)}:{text}" for key, text in change.puts.items())
        parts.append(
            f'{{"table":{dump_json(change.table)},"deletes":{dump_json(list(change.deletes))},'
            f'"puts":{{{puts}}}}}'
        )
    payload = ("[" + ",".join(parts) + "]").encode("utf-8")
    return b"%08x %d " % (zlib.crc32(payload), len(payload)) + payload + b"\n"


def decode_line(line: bytes) -> list[tuple[str, list[str], dict[str, Record]]]:
    """Checks one journal line's checksum, length and shape; ValueError if any is wrong."""
    checksum, length, payload = line.split(b" ", 2)
    if len(checksum) != 8 or int(length) != len(payload):
        raise ValueError("length does not match")
    if int(checksum, 16) != zlib.crc32(payload):
        raise ValueError("checksum does not match")
    changes = json.loads(payload.decode("utf-8"))
    if not isinstance(changes, list):
        raise ValueError("not a list of changes")
    decoded = []
    for change in changes:
        table, deletes, puts = change["table"], change["deletes"], change["puts"]
        if not (
            isinstance(table, str)
            and isinstance(deletes, list)
            and all(isinstance(key, str) for key in deletes)
            and isinstance(puts, dict)
            and all(isinstance(record, dict) for record in puts.values())
        ):
            raise ValueError("not a change")
        decoded.append((table, deletes, puts))
    return decoded


def replay(raw: bytes, tables: Tables, path: Path) -> int:
    """Applies every whole line of a journal in order; returns where the whole lines end."""
    offset = 0
    while (end := raw.find(b"\n", offset)) >= 0:
        try:
            changes = decode_line(raw[offset:end])
        except (ValueError, KeyError, TypeError):
            raise StoreUnavailable(
                f"The store journal {path} is corrupt at byte {offset}; {REFUSAL}"
            ) from None
        for table, deletes, puts in changes:
            apply(tables, table, deletes, puts)
        offset = end + 1
    return offset


def apply(tables: Tables, table: str, deletes: Collection[str], puts: Mapping[str, Record]) -> None:
    """Applies one table's change in memory: removals first, then the records stored."""
    rows = tables.setdefault(table, {})
    for key in deletes:
        rows.pop(key, None)
    rows.update(puts)


def snapshot_chunks(tables: Tables, generation: int) -> Iterator[bytes]:
    """Encodes tables as a TinyDB JSON file a few hundred records at a time."""
    everything = {**tables, META_TABLE: {META_KEY: {"generation": generation}}}
    yield b"{"
    for number, (name, rows) in enumerate(everything.items()):
        yield (b"," if number else b"") + dump_json(name).encode("utf-8") + b":{"
        keys = list(rows)
        for start in range(0, len(keys), SNAPSHOT_CHUNK):
            part = {key: rows[key] for key in keys[start : start + SNAPSHOT_CHUNK]}
            yield (b"," if start else b"") + dump_json(part)[1:-1].encode("utf-8")
        yield b"}"
    yield b"}"


def load_snapshot(path: Path) -> Snapshot | None:
    """Reads the snapshot; None if there is none yet, StoreUnavailable if it is unusable."""
    try:
        with open(path, "rb") as file:
            raw = file.read()
            stat = os.fstat(file.fileno())
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StoreUnavailable(
            f"Could not read the store file {path}: {error.strerror or error}"
        ) from error
    try:
        text = raw.decode("utf-8")
        del raw  # the parsed records need the memory more than the file's bytes do
        data = json.loads(text)
    except ValueError:
        raise StoreUnavailable(f"The store file {path} is empty or corrupt; {REFUSAL}") from None
    if not _is_tables(data):
        raise StoreUnavailable(f"The store file {path} is not a SafeSession store; {REFUSAL}")
    meta = data.pop(META_TABLE, {}).get(META_KEY, {})
    generation = meta.get("generation", 0)
    if not isinstance(generation, int) or generation < 0:
        raise StoreUnavailable(f"The store file {path} is not a SafeSession store; {REFUSAL}")
    return Snapshot(
        tables=data, generation=generation, size=stat.st_size, identity=(stat.st_dev, stat.st_ino)
    )


def _is_tables(data: Any) -> bool:
    return isinstance(data, dict) and all(
        isinstance(rows, dict) and all(isinstance(record, dict) for record in rows.values())
        for rows in data.values()
    )


def journal_generations(folder: Path) -> list[int]:
    """Lists the journal generations in folder, oldest first."""
    found = (_JOURNAL_NAME.fullmatch(entry.name) for entry in os.scandir(folder))
    return sorted(int(match.group(1)) for match in found if match)


def write_temp(folder: Path, chunks: Iterator[bytes]) -> WrittenSnapshot:
    """Writes chunks to a new owner-only temp file in folder and fsyncs it."""
    descriptor, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as temp:
            for chunk in chunks:
                temp.write(chunk)
            temp.flush()
            os.fsync(temp.fileno())
            stat = os.fstat(temp.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    return WrittenSnapshot(temp_name, stat.st_size, (stat.st_dev, stat.st_ino))


def install_file(written: WrittenSnapshot, path: Path) -> None:
    """Renames a written temp file over path and makes the rename durable."""
    try:
        os.replace(written.temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(written.temp_name)
        raise
    fsync_folder(path.parent)


def create_journal(path: Path) -> int:
    """Creates an empty journal (owner-only) durably and opens it for appending."""
    descriptor = os.open(
        path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600
    )
    try:
        fsync_folder(path.parent)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def open_journal(path: Path) -> int:
    """Opens an existing journal for appending."""
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)


def cut_file(path: Path, length: int) -> None:
    """Shortens a file to length, durably."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.ftruncate(descriptor, length)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_all(descriptor: int, data: bytes) -> None:
    """Writes every byte, however many calls that takes."""
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def fsync_folder(folder: Path) -> None:
    """Makes a rename, create or unlink in folder survive a power cut."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
