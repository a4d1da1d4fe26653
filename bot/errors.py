"""Typed errors and the turn error handler: ids in the log, an apology from a template."""

import logging
import traceback
from collections.abc import Awaitable, Callable

import aiohttp
from botbuilder.core import ConversationState, TurnContext
from msrest.exceptions import ClientRequestError, DeserializationError, HttpOperationError

from safeguarding.ports import StoreUnavailable
from storage.bot_state import StorageConflict
from templates import Templates

log = logging.getLogger("safesession.errors")

TurnErrorHandler = Callable[[TurnContext, Exception], Awaitable[None]]


class DeliveryFailed(Exception):
    """The bot's reply could not reach the channel (connector down, refused or timed out)."""


# What the connector client raises when a reply cannot be delivered.
DELIVERY_ERRORS: tuple[type[BaseException], ...] = (
    ClientRequestError,
    HttpOperationError,
    aiohttp.ClientError,
    TimeoutError,
    # The connector answered with something other than JSON (a proxy's error page, say).
    DeserializationError,
)


class UserFacingError(Exception):
    """An expected problem the worker should hear about, named by its template."""

    def __init__(self, template: str) -> None:
        super().__init__(template)
        self.template = template


def where_it_failed(error: BaseException) -> str:
    """Names the exception type and the code lines it passed through, never its message."""
    frames = traceback.extract_tb(error.__traceback__)
    path = " < ".join(
        f"{frame.name}@{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}"
        for frame in reversed(frames[-6:])
    )
    return f"{type(error).__name__} at {path or 'unknown'}"


def make_turn_error_handler(
    *, templates: Templates, conversation_state: ConversationState
) -> TurnErrorHandler:
    """Builds the adapter's on_turn_error: resets dialog state only for unexpected errors."""

    async def on_turn_error(context: TurnContext, error: Exception) -> None:
        activity = context.activity
        if isinstance(error, DELIVERY_ERRORS):
            # Nothing can be said to the worker, and the dialog is not at fault: keep its state.
            log.error(
                "could not deliver a reply for %s activity in conversation %s: %s",
                activity.type,
                activity.conversation.id,
                type(error).__name__,
            )
            raise DeliveryFailed() from None
        if isinstance(error, UserFacingError):
            template = error.template
        elif isinstance(error, StorageConflict):
            # Another turn saved this conversation first; its state is newer, so keep it.
            log.warning(
                "state conflict during %s activity in conversation %s",
                activity.type,
                activity.conversation.id,
            )
            template = "conflict"
        elif isinstance(error, StoreUnavailable):
            log.error(
                "store unavailable during %s activity in conversation %s",
                activity.type,
                activity.conversation.id,
            )
            template = "store_unavailable"
        else:
            log.error(
                "unexpected error during %s activity %s in conversation %s: %s",
                activity.type,
                activity.id,
                activity.conversation.id,
                where_it_failed(error),
            )
            template = "unexpected_error"
            # BotState.delete pops the cached state and fails when this turn never loaded it.
            await conversation_state.load(context)
            await conversation_state.delete(context)
        await context.send_activity(templates.text(template))

    return on_turn_error
