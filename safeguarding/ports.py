"""The storage ports the domain talks to; adapters live in `storage/`."""

from collections.abc import Mapping
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


class Documents(Protocol):
    """Keeps JSON documents in named collections; every acknowledged write is durable."""

    async def get(self, *, collection: str, key: str) -> Document | None:
        """Returns the document stored under key, or None."""
        ...

    async def put(self, *, collection: str, key: str, document: Document) -> None:
        """Stores the document under key, replacing any earlier one."""
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
