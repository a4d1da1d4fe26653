"""The record engine the adapters share: keyed JSON records in named tables, changed in batches.

`Records` is the seam between the adapters (documents, bot state, jobs) and an engine in this
process (in memory, or TinyDB over a journal on disk). A transaction reads some keys, lets a plan
decide one `Batch` from what it saw, and commits that batch as one all-or-nothing write; `write`
commits batches to several tables the same way (a record and its audit event).
PostgreSQL, shared by several processes, has adapters of its own (`storage.postgres`).

`Backend` is what the composition root opens, checks and closes, whichever the adapters are.
"""

import json
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from safeguarding.ports import StoreStatus, StoreUnavailable

Record = dict[str, Any]


@dataclass(frozen=True)
class Batch:
    """One all-or-nothing change to one table: keys to remove, then records to store."""

    puts: Mapping[str, Record] = field(default_factory=dict)
    deletes: Collection[str] = ()

    def __bool__(self) -> bool:
        """Says whether the batch changes anything."""
        return bool(self.puts) or bool(self.deletes)


Plan = Callable[[Mapping[str, Record]], Batch]


class Backend(Protocol):
    """Whatever holds the records: opened before the first turn, closed at shutdown."""

    backend: str

    async def open(self) -> None:
        """Gets ready for use (connects, migrates); a second call does nothing."""
        ...

    async def status(self) -> StoreStatus:
        """Says whether the store can be used right now."""
        ...

    def close(self) -> None:
        """Refuses further use and releases what can be released without waiting."""
        ...

    async def aclose(self) -> None:
        """Refuses further use and releases everything (files, locks, connections)."""
        ...


class Records(Protocol):
    """Keeps JSON records by key in named tables; every committed batch is durable."""

    async def get_many(self, table: str, keys: Collection[str]) -> dict[str, Record]:
        """Returns copies of the records stored under keys, leaving out missing ones."""
        ...

    async def find(self, table: str, where: Mapping[str, Any] | None = None) -> list[Record]:
        """Returns copies of the records whose top-level fields equal every value in where."""
        ...

    async def transact(self, table: str, keys: Collection[str], plan: Plan) -> dict[str, Record]:
        """Shows plan the records under keys, commits the batch it returns, returns what it saw."""
        ...

    async def write(self, batches: Mapping[str, Batch]) -> None:
        """Commits a batch to each of several tables as one all-or-nothing write."""
        ...

    async def status(self) -> StoreStatus:
        """Says whether the store can be used right now."""
        ...

    def close(self) -> None:
        """Releases the store; later calls raise StoreUnavailable."""
        ...


def json_record(record: Mapping[str, Any]) -> Record:
    """Returns a deep copy of record exactly as it will read back from a JSON file."""
    if not isinstance(record, Mapping):
        raise TypeError(f"a record must be a mapping, not {type(record).__name__}")
    return dict(json.loads(dump_json(dict(record))))


def json_text(record: Mapping[str, Any]) -> str:
    """Encodes a record as the JSON text it is stored as, refusing anything JSON cannot hold."""
    if not isinstance(record, Mapping):
        raise TypeError(f"a record must be a mapping, not {type(record).__name__}")
    return dump_json(dict(record))


def dump_json(value: Any) -> str:
    """Serialises strictly: non-JSON values and NaN/Infinity are refused, not guessed at."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def check_key(key: object) -> str:
    """Refuses keys that would not survive a JSON round trip unchanged."""
    if not isinstance(key, str):
        raise TypeError(f"keys must be strings, not {type(key).__name__}")
    return key


def matches(record: Mapping[str, Any], where: Mapping[str, Any] | None) -> bool:
    """Says whether every field in where is present in record with an equal value."""
    return not where or all(
        name in record and record[name] == value for name, value in where.items()
    )


def normalised_where(where: Mapping[str, Any] | None) -> Record | None:
    """Makes a filter compare like stored data does (tuples as lists and so on)."""
    return json_record(where) if where else None


class MemoryRecords:
    """Keeps records in this process only, as JSON text, so they behave exactly like stored ones."""

    backend = "memory"

    def __init__(self) -> None:
        self._tables: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()
        self._closed = False

    async def get_many(self, table: str, keys: Collection[str]) -> dict[str, Record]:
        """Returns copies of the records stored under keys, leaving out missing ones."""
        with self._lock:
            return self._get_many(table, keys)

    async def find(self, table: str, where: Mapping[str, Any] | None = None) -> list[Record]:
        """Returns copies of the records whose top-level fields equal every value in where."""
        wanted = normalised_where(where)
        with self._lock:
            self._check_open()
            rows = self._tables.get(table, {})
            found = (json.loads(text) for text in rows.values())
            return [record for record in found if matches(record, wanted)]

    async def transact(self, table: str, keys: Collection[str], plan: Plan) -> dict[str, Record]:
        """Shows plan the records under keys, commits the batch it returns, returns what it saw."""
        with self._lock:
            current = self._get_many(table, keys)
            self._apply({table: plan(current)})
            return current

    async def write(self, batches: Mapping[str, Batch]) -> None:
        """Commits a batch to each of several tables as one all-or-nothing write."""
        with self._lock:
            self._check_open()
            self._apply(batches)

    async def status(self) -> StoreStatus:
        """Says the store is usable until it is closed."""
        if self._closed:
            return StoreStatus(ok=False, backend=self.backend, detail="store is closed")
        return StoreStatus(ok=True, backend=self.backend)

    async def open(self) -> None:
        """Nothing to do: memory is ready at once."""

    def close(self) -> None:
        """Forgets nothing, but refuses further use, like a closed file store."""
        self._closed = True

    async def aclose(self) -> None:
        """Refuses further use, like close()."""
        self.close()

    def _apply(self, batches: Mapping[str, Batch]) -> None:
        # Every record is encoded before anything changes: a bad one changes nothing.
        texts = {
            table: {check_key(key): json_text(record) for key, record in batch.puts.items()}
            for table, batch in batches.items()
        }
        for table, batch in batches.items():
            if batch:
                rows = self._tables.setdefault(table, {})
                for key in batch.deletes:
                    rows.pop(key, None)
                rows.update(texts[table])

    def _get_many(self, table: str, keys: Collection[str]) -> dict[str, Record]:
        self._check_open()
        rows = self._tables.get(table, {})
        return {key: json.loads(rows[key]) for key in keys if key in rows}

    def _check_open(self) -> None:
        if self._closed:
            raise StoreUnavailable("The store is closed.")
