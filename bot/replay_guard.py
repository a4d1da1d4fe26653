"""Runs each inbound activity once: a retried or replayed activity id is acknowledged, dropped."""

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from botbuilder.core import Middleware, TurnContext
from botbuilder.schema import Activity, ActivityTypes, InvokeResponse

from bot.teams import is_proactive
from safeguarding.clock import Clock
from safeguarding.ports import Documents

log = logging.getLogger("safesession.replay")

SEEN = "seen_activities"
WINDOW = timedelta(hours=24)
# The most ids kept for one conversation; the oldest go first.
PER_CONVERSATION = 1000
# Turns in one conversation take turns at the record; unrelated conversations rarely share a lock.
LOCK_STRIPES = 64


def _digest(text: str, length: int) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:length]


class ReplayGuard(Middleware):
    """Remembers each conversation's activity ids for a day, in the store, across restarts."""

    def __init__(self, *, documents: Documents, clock: Clock) -> None:
        self._documents = documents
        self._clock = clock
        self._locks = [asyncio.Lock() for _ in range(LOCK_STRIPES)]

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        """Runs the turn the first time its id is seen in this conversation, and never again."""
        activity = context.activity
        if is_proactive(activity) or not activity.id:
            await logic()
            return
        if await self._seen_before(str(activity.conversation.id), str(activity.id)):
            log.info(
                "dropped a repeated %s activity in conversation %s",
                activity.type,
                activity.conversation.id,
            )
            if activity.type == ActivityTypes.invoke:
                response = InvokeResponse(status=200)
                await context.send_activity(
                    Activity(type=ActivityTypes.invoke_response, value=response)
                )
            return
        await logic()

    async def _seen_before(self, conversation: str, activity_id: str) -> bool:
        """Records the id and says whether it was already there; prunes the record as it goes."""
        key = _digest(conversation, 40)
        fingerprint = _digest(activity_id, 24)
        now = int(self._clock.now().timestamp())
        oldest = now - int(WINDOW.total_seconds())
        async with self._locks[int(key[:8], 16) % LOCK_STRIPES]:
            record = await self._documents.get(collection=SEEN, key=key) or {}
            seen = {
                item: at
                for item, at in dict(record.get("seen") or {}).items()
                if isinstance(at, int) and at >= oldest
            }
            if fingerprint in seen:
                return True
            seen[fingerprint] = now
            kept = dict(sorted(seen.items(), key=lambda entry: entry[1])[-PER_CONVERSATION:])
            await self._documents.put(collection=SEEN, key=key, document={"key": key, "seen": kept})
        return False
