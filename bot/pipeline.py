"""The bot with its middleware and error handler, ready to attach to any adapter."""

from dataclasses import dataclass

from botbuilder.core import BotAdapter, Middleware

from bot.errors import TurnErrorHandler
from bot.safesession_bot import SafeSessionBot


@dataclass(frozen=True)
class Pipeline:
    """Everything a turn passes through, built once by the composition root."""

    bot: SafeSessionBot
    middleware: tuple[Middleware, ...]
    on_turn_error: TurnErrorHandler

    def attach(self, adapter: BotAdapter) -> None:
        """Runs this pipeline's middleware and error handler on the adapter's turns."""
        for middleware in self.middleware:
            adapter.use(middleware)
        adapter.on_turn_error = self.on_turn_error
