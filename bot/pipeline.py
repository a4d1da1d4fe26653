"""The bot with its middleware and error handler, ready to attach to any adapter."""

from dataclasses import dataclass

from botbuilder.core import BotAdapter, Middleware

from bot.errors import TurnErrorHandler
from bot.proactive import Messenger
from bot.safesession_bot import SafeSessionBot
from safeguarding.scheduler import Scheduler


@dataclass(frozen=True)
class Pipeline:
    """Everything a turn passes through, built once by the composition root."""

    bot: SafeSessionBot
    middleware: tuple[Middleware, ...]
    on_turn_error: TurnErrorHandler
    messenger: Messenger
    scheduler: Scheduler

    def attach(self, adapter: BotAdapter) -> None:
        """Runs this pipeline's turns, and its proactive messages, through the adapter."""
        for middleware in self.middleware:
            adapter.use(middleware)
        adapter.on_turn_error = self.on_turn_error
        self.messenger.use(adapter)
