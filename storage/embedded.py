"""Opens the stores for one process: documents, bot state and jobs on disk (TinyDB) or in memory."""

import os

from storage.bot_state import MemoryBotStorage, TinyDBBotStorage
from storage.documents import MemoryDocuments, TinyDBDocuments
from storage.engine import COMPACT_AFTER_BYTES, TinyDBRecords
from storage.jobs import RecordJobs
from storage.records import MemoryRecords
from storage.stores import Stores


def open_embedded(
    folder: str | os.PathLike[str], *, compact_after_bytes: int = COMPACT_AFTER_BYTES
) -> Stores:
    """Opens the TinyDB store in folder, creating it if needed; StoreLocked if it is in use."""
    records = TinyDBRecords(folder, compact_after_bytes=compact_after_bytes)
    return Stores(
        documents=TinyDBDocuments(records),
        bot_storage=TinyDBBotStorage(records),
        jobs=RecordJobs(records),
        backend=records,
    )


def memory_stores() -> Stores:
    """Makes empty in-memory stores that behave like the embedded ones, for tests."""
    records = MemoryRecords()
    return Stores(
        documents=MemoryDocuments(records),
        bot_storage=MemoryBotStorage(records),
        jobs=RecordJobs(records),
        backend=records,
    )
