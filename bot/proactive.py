"""Proactive messages to stored conversation references: one bounded attempt, typed failure."""

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import Activity, ConversationReference

from bot.errors import DELIVERY_ERRORS, DeliveryFailed
from safeguarding.installations import PersonalChats
from safeguarding.records import Records
from safeguarding.scheduler import Scheduler
from templates import Templates

log = logging.getLogger("safesession.proactive")

ATTEMPT_SECONDS = 10.0


class Messenger:
    """Posts and updates messages in conversations the bot was not just spoken to in."""

    def __init__(self, *, app_id: str, timeout: float = ATTEMPT_SECONDS) -> None:
        self._adapter: BotAdapter | None = None
        self._app_id = app_id
        self._timeout = timeout

    def use(self, adapter: BotAdapter) -> None:
        """Sends through this adapter from now on (the app's CloudAdapter, or a test adapter)."""
        self._adapter = adapter

    async def send(self, reference: dict[str, Any], activity: Activity) -> str:
        """Posts the activity; returns its id, or raises DeliveryFailed (never hangs)."""
        sent: list[str] = []

        async def post(turn_context: TurnContext) -> None:
            response = await turn_context.send_activity(activity)
            sent.append(str(getattr(response, "id", "") or ""))

        await self._continue(reference, post)
        return sent[0] if sent else ""

    async def update(self, reference: dict[str, Any], activity_id: str, activity: Activity) -> None:
        """Replaces an earlier message (a card everyone in a channel sees)."""
        activity.id = activity_id

        async def put(turn_context: TurnContext) -> None:
            await turn_context.update_activity(activity)

        await self._continue(reference, put)

    async def _continue(self, reference: dict[str, Any], logic: Any) -> None:
        if self._adapter is None:
            raise RuntimeError("Messenger.use(adapter) was never called")
        conversation = ConversationReference().deserialize(reference)
        try:
            await asyncio.wait_for(
                self._adapter.continue_conversation(conversation, logic, self._app_id),
                timeout=self._timeout,
            )
        except DELIVERY_ERRORS as error:
            log.warning(
                "proactive delivery to conversation %s failed: %s",
                conversation.conversation.id if conversation.conversation else "?",
                type(error).__name__,
            )
            raise DeliveryFailed() from None


@dataclass(frozen=True)
class Outreach:
    """What every part that reaches people outside the current turn shares, built once."""

    records: Records
    templates: Templates
    messenger: Messenger
    scheduler: Scheduler
    chats: PersonalChats
