"""The `Documents` port on a record engine: one table per collection, the key as the record id."""

from collections.abc import Mapping, Sequence
from typing import Any

from safeguarding.ports import Document, Put, StoreStatus
from storage.engine import TinyDBRecords
from storage.records import Batch, MemoryRecords, Records, json_record

# Table names starting with "_" belong to the store itself (bot state, TinyDB's default table).
RESERVED_PREFIX = "_"


class RecordDocuments:
    """Keeps documents in named collections on any record engine."""

    def __init__(self, records: Records) -> None:
        self._records = records

    async def get(self, *, collection: str, key: str) -> Document | None:
        """Returns a copy of the document stored under key, or None."""
        found = await self._records.get_many(table_for(collection), [key])
        return found.get(key)

    async def put(self, *, collection: str, key: str, document: Document) -> None:
        """Stores a copy of the document under key, replacing any earlier one."""
        record = json_record(document)
        await self._records.transact(
            table_for(collection), (), lambda _current: Batch(puts={key: record})
        )

    async def put_all(self, puts: Sequence[Put]) -> None:
        """Stores every document given as one write: all of them, or (if it fails) none."""
        tables: dict[str, dict[str, Document]] = {}
        for put in puts:
            tables.setdefault(table_for(put.collection), {})[put.key] = json_record(put.document)
        await self._records.write({table: Batch(puts=rows) for table, rows in tables.items()})

    async def delete(self, *, collection: str, key: str) -> bool:
        """Removes the document; says whether there was one."""
        seen = await self._records.transact(
            table_for(collection), [key], lambda current: Batch(deletes=tuple(current))
        )
        return key in seen

    async def find(
        self, *, collection: str, where: Mapping[str, Any] | None = None
    ) -> list[Document]:
        """Returns copies of the documents whose top-level fields equal every value in where."""
        return await self._records.find(table_for(collection), where)

    async def status(self) -> StoreStatus:
        """Says whether the store can be used right now."""
        return await self._records.status()


class TinyDBDocuments(RecordDocuments):
    """Keeps documents in the embedded TinyDB store."""

    def __init__(self, records: TinyDBRecords) -> None:
        super().__init__(records)


class MemoryDocuments(RecordDocuments):
    """Keeps documents in this process only, with the same behaviour as the stored ones."""

    def __init__(self, records: MemoryRecords | None = None) -> None:
        super().__init__(records or MemoryRecords())


def table_for(collection: str) -> str:
    """Names the table of a collection, refusing names the store keeps for itself."""
    if not isinstance(collection, str) or not collection:
        raise ValueError("a collection needs a non-empty name")
    if collection.startswith(RESERVED_PREFIX):
        raise ValueError(f"collection names starting with {RESERVED_PREFIX!r} are reserved")
    return collection
