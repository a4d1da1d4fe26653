"""Opens the stores the app needs: documents and bot state over one store, on disk or in memory."""

import os
from dataclasses import dataclass
from types import TracebackType

from safeguarding.ports import Documents, StoreStatus
from storage.bot_state import MemoryBotStorage, RecordBotStorage, TinyDBBotStorage
from storage.documents import MemoryDocuments, TinyDBDocuments
from storage.engine import TinyDBRecords
from storage.records import MemoryRecords, Records


@dataclass(frozen=True)
class Stores:
    """The two storage ports, sharing one store (one file and one lock on disk)."""

    documents: Documents
    bot_storage: RecordBotStorage
    records: Records

    async def status(self) -> StoreStatus:
        """Says whether the store can be used right now."""
        return await self.records.status()

    def close(self) -> None:
        """Releases the store (its lock and files); safe to call twice."""
        self.records.close()

    def __enter__(self) -> "Stores":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def open_embedded(folder: str | os.PathLike[str]) -> Stores:
    """Opens the TinyDB store in folder, creating it if needed; StoreLocked if it is in use."""
    records = TinyDBRecords(folder)
    return Stores(
        documents=TinyDBDocuments(records),
        bot_storage=TinyDBBotStorage(records),
        records=records,
    )


def memory_stores() -> Stores:
    """Makes empty in-memory stores that behave like the embedded ones, for tests."""
    records = MemoryRecords()
    return Stores(
        documents=MemoryDocuments(records),
        bot_storage=MemoryBotStorage(records),
        records=records,
    )
