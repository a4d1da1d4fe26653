"""What the bot remembers about looking after each worker: what it planned, sent and was told."""

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

from safeguarding.ports import Document, Documents

CARE = "self_care"
# How many sent occurrences of each kind are remembered (far more than could still be pending).
SENT_MEMORY = 50
# One worker's changes take turns; different workers' rarely share a lock (one lock for every
# worker made each first turn of a busy morning wait for all the others' writes).
LOCK_STRIPES = 64


class CareStates:
    """One small document per worker: planned jobs, sent reminders, snoozes, check-ins."""

    def __init__(self, documents: Documents) -> None:
        self._documents = documents
        self._locks = [asyncio.Lock() for _ in range(LOCK_STRIPES)]

    async def get(self, worker: str) -> Document:
        """Returns the worker's care state, empty if there is none yet."""
        found = await self._documents.get(collection=CARE, key=worker)
        return found or _empty(worker)

    async def change(self, worker: str, edit: Callable[[Document], Any]) -> Document:
        """Reads, edits and writes the worker's state in one step (within this process)."""
        async with self._locks[hash(worker) % LOCK_STRIPES]:
            state = await self.get(worker)
            edit(state)
            await self._documents.put(collection=CARE, key=worker, document=state)
            return state

    async def claim(self, worker: str, kind: str, occurrence: str) -> bool:
        """Marks an occurrence as sent; False (and nothing changes) if it was already."""
        claimed = []

        def mark(state: Document) -> None:
            sent = state.setdefault("sent", {}).setdefault(kind, [])
            if occurrence not in sent:
                sent.append(occurrence)
                del sent[:-SENT_MEMORY]
                claimed.append(True)

        await self.change(worker, mark)
        return bool(claimed)

    async def release(self, worker: str, kind: str, occurrence: str) -> None:
        """Forgets a claim whose message could not be delivered, so a retry may send it."""

        def unmark(state: Document) -> None:
            sent = state.setdefault("sent", {}).setdefault(kind, [])
            if occurrence in sent:
                sent.remove(occurrence)

        await self.change(worker, unmark)


def snoozed_until(state: Document, kind: str, now: datetime) -> datetime | None:
    """When the worker's snooze of this kind ends, or None if it is not snoozed now."""
    raw = state.get("snoozed", {}).get(kind)
    if not isinstance(raw, str):
        return None
    until = datetime.fromisoformat(raw)
    return until if until > now else None


def _empty(worker: str) -> Document:
    return {
        "key": worker,
        "planned": {},
        "sent": {},
        "snoozed": {},
        "check_ins": {},
        "boundary": "",
    }
