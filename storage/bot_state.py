"""botbuilder's `Storage` on a record engine, with the e_tag rules of the SDK's persistent stores.

Like CosmosDB and Blob storage: items (dicts with an "e_tag" key, or objects with an `e_tag`
attribute) are serialised with jsonpickle, so dialog state reads back as DialogState objects;
a read sets the stored e_tag on each item; a write with a stale e_tag raises StorageConflict; "*"
or no e_tag overwrites; each successful write gives each item a fresh e_tag (the caller's items
are left as they were: read again to get it). A multi-key write checks every e_tag, then
commits all items in one durable write, or none.
"""

import json
import uuid
from collections.abc import Collection, Mapping
from typing import Any

import jsonpickle
from botbuilder.core import Storage
from jsonpickle.unpickler import Unpickler

from storage.engine import TinyDBRecords
from storage.records import Batch, MemoryRecords, Record, Records, check_key

TABLE = "_bot_state"
ANY_E_TAG = "*"


class StorageConflict(Exception):
    """Someone saved this state after it was read: its e_tag is stale, so nothing was written."""

    def __init__(self, key: str) -> None:
        super().__init__(
            f"state {key!r} was saved by another turn since it was read (stale e_tag); "
            "nothing was written"
        )
        self.key = key


class RecordBotStorage(Storage):
    """Keeps bot state (dialog stacks and the like) on any record engine."""

    def __init__(self, records: Records) -> None:
        super().__init__()
        self._records = records

    async def read(self, keys: Collection[str]) -> dict[str, Any]:
        """Returns the stored items for keys, each with its e_tag; missing keys are left out."""
        if not keys:
            return {}
        found = await self._records.get_many(TABLE, [check_key(key) for key in keys])
        return {key: decode(record) for key, record in found.items()}

    async def write(self, changes: Mapping[str, Any]) -> None:
        """Saves every item, or none if any item's e_tag is stale."""
        if changes is None:
            raise TypeError("changes are required when writing")
        pending = {check_key(key): encode(item) for key, item in changes.items()}
        if not pending:
            return

        def plan(current: Mapping[str, Record]) -> Batch:
            for key, (expected, _state) in pending.items():
                check_e_tag(key, expected, current.get(key))
            return Batch(
                puts={
                    key: {"e_tag": new_e_tag(), "state": state}
                    for key, (_expected, state) in pending.items()
                }
            )

        await self._records.transact(TABLE, list(pending), plan)

    async def delete(self, keys: Collection[str]) -> None:
        """Removes the items under keys; keys with nothing stored are fine."""
        if not keys:
            return
        wanted = [check_key(key) for key in keys]
        await self._records.transact(TABLE, wanted, lambda current: Batch(deletes=tuple(current)))


class TinyDBBotStorage(RecordBotStorage):
    """Keeps bot state in the embedded TinyDB store."""

    def __init__(self, records: TinyDBRecords) -> None:
        super().__init__(records)


class MemoryBotStorage(RecordBotStorage):
    """Keeps bot state in this process only, with the same behaviour as the stored one."""

    def __init__(self, records: MemoryRecords | None = None) -> None:
        super().__init__(records or MemoryRecords())


def encode(item: object) -> tuple[Any, Any]:
    """Splits an item into the e_tag it was read with and its jsonpickle state without it."""
    if isinstance(item, dict):
        expected = item.get("e_tag")
    else:
        expected = getattr(item, "e_tag", None)
    state = json.loads(jsonpickle.encode(item))
    if isinstance(state, dict):
        state.pop("e_tag", None)
    return expected, state


def decode(record: Record) -> object:
    """Rebuilds a stored item as objects, carrying its current e_tag."""
    state = record["state"]
    if isinstance(state, dict):
        state["e_tag"] = record["e_tag"]
    return Unpickler().restore(state, reset=True)


def check_e_tag(key: str, expected: Any, stored: Record | None) -> None:
    """Lets "*" or no e_tag through; otherwise the stored item must carry exactly that e_tag."""
    if expected is None or expected == ANY_E_TAG:
        return
    if expected == "":
        raise ValueError(f"state {key!r} has an empty e_tag: use None or '*' to overwrite")
    if stored is None or stored["e_tag"] != expected:
        raise StorageConflict(key)


def new_e_tag() -> str:
    """Makes an e_tag no earlier write can have had."""
    return uuid.uuid4().hex
