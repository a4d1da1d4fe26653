"""Refuses activities from tenants outside the allowed list before anything is read or stored."""

import logging
from collections.abc import Awaitable, Callable

from botbuilder.core import Middleware, TurnContext
from botbuilder.schema import ActivityTypes

from bot.teams import is_proactive, tenant_id
from templates import Templates

log = logging.getLogger("safesession.tenant")


class TenantGate(Middleware):
    """Lets through only the organisation's own Entra tenants, when a list is configured."""

    def __init__(self, *, allowed: frozenset[str], templates: Templates) -> None:
        self._allowed = allowed
        self._templates = templates

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        """Stops the turn with a short refusal when the tenant is not allowed."""
        # The bot's own messages (alerts, reminders) go to conversations it stored from
        # allowed tenants; their continuation activity names no tenant.
        allowed = not self._allowed or tenant_id(context.activity) in self._allowed
        if allowed or is_proactive(context.activity):
            await logic()
            return
        log.warning(
            "refused %s activity from a tenant outside the allowed list in conversation %s",
            context.activity.type,
            context.activity.conversation.id,
        )
        if context.activity.type == ActivityTypes.message:
            await context.send_activity(self._templates.text("tenant_refused"))
