"""The stores the app is built from: one object per backend, whatever the adapters are."""

from dataclasses import dataclass
from types import TracebackType

from botbuilder.core import Storage

from safeguarding.ports import Documents, Jobs, StoreStatus
from storage.records import Backend


@dataclass(frozen=True)
class Stores:
    """The storage ports, sharing one store (one folder and lock on disk, or one database)."""

    documents: Documents
    bot_storage: Storage
    jobs: Jobs
    backend: Backend

    async def open(self) -> None:
        """Gets the store ready before the first turn (PostgreSQL connects and migrates here)."""
        await self.backend.open()

    async def status(self) -> StoreStatus:
        """Says whether the store can be used right now."""
        return await self.backend.status()

    def close(self) -> None:
        """Refuses further use and releases the store's lock and files; safe to call twice."""
        self.backend.close()

    async def aclose(self) -> None:
        """Closes everything, connections included, without blocking the event loop."""
        await self.backend.aclose()

    def __enter__(self) -> "Stores":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
