"""The storage ports the domain talks to; adapters live in `storage/`."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

Document = dict[str, Any]


class StoreUnavailable(RuntimeError):
    """The store cannot be read or written (disk, lock or corruption)."""


class StoreLocked(StoreUnavailable):
    """Another process already has this store open."""


@dataclass(frozen=True)
class StoreStatus:
    """What /healthz reports about the store."""

    ok: bool
    backend: str
    detail: str = ""


@dataclass(frozen=True)
class Put:
    """One document to store under a key in a collection, as part of `Documents.put_all`."""

    collection: str
    key: str
    document: Document


class Documents(Protocol):
    """Keeps JSON documents in named collections; every acknowledged write is durable."""

    async def get(self, *, collection: str, key: str) -> Document | None:
        """Returns the document stored under key, or None."""
        ...

    async def put(self, *, collection: str, key: str, document: Document) -> None:
        """Stores the document under key, replacing any earlier one."""
        ...

    async def put_all(self, puts: Sequence[Put]) -> None:
        """Stores every document given as one write: all of them, or (if it fails) none."""
        ...

    async def delete(self, *, collection: str, key: str) -> bool:
        """Removes the document; says whether there was one."""
        ...

    async def find(
        self, *, collection: str, where: Mapping[str, Any] | None = None
    ) -> list[Document]:
        """Returns the documents whose top-level fields equal every value in where."""
        ...

    async def status(self) -> StoreStatus:
        """Says whether the store can be used right now."""
        ...


@dataclass(frozen=True)
class Job:
    """A persisted piece of timed work: a re-notification, a reminder, a pending delivery."""

    id: str
    kind: str
    due_at: str  # aware ISO 8601, UTC
    payload: dict[str, Any]
    attempts: int = 0


class Jobs(Protocol):
    """Keeps timed jobs so they survive restarts and each one runs once, across instances."""

    async def enqueue(self, *, key: str, kind: str, due_at: str, payload: dict[str, Any]) -> bool:
        """Stores a job under a unique key; says False (and changes nothing) if it exists."""
        ...

    async def claim_due(
        self, *, now: str, worker_id: str, limit: int, lease_seconds: float
    ) -> list[Job]:
        """Claims up to limit due jobs for this worker; an expired lease makes a job claimable."""
        ...

    async def complete(self, *, job_id: str) -> None:
        """Marks a claimed job done, so it never runs again."""
        ...

    async def retry(self, *, job_id: str, due_at: str) -> None:
        """Releases a claimed job to run again at due_at, counting the attempt."""
        ...

    async def cancel(self, *, key: str) -> bool:
        """Drops a job that has not run yet (an acknowledged escalation's re-notify)."""
        ...

    async def forget_done(self, *, before: str, dry_run: bool = False) -> int:
        """Removes the jobs that are done (or cancelled) and were due before the moment, so the
        table holds recent history only; says how many (a dry run only counts them). A key
        removed may be used again."""
        ...
