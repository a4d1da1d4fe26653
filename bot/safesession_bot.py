"""Decides which kind of activity arrived and hands it to the command, card or dialog it needs."""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import CardFactory, ConversationState, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.dialogs import DialogSet, DialogTurnStatus
from botbuilder.schema import Activity, ChannelAccount

from bot.commands import COMMANDS, Command, build_table, match
from bot.teams import card_action, conversation_scope, text_without_mentions
from safeguarding.installations import Installations
from templates import Templates

log = logging.getLogger("safesession.bot")

Handler = Callable[[TurnContext], Awaitable[None]]


class SafeSessionBot(TeamsActivityHandler):
    """The bot: welcome on install, exact commands, card submits and dialogs."""

    def __init__(
        self,
        *,
        conversation_state: ConversationState,
        dialogs: DialogSet,
        installations: Installations,
        templates: Templates,
        data_protection_url: str,
    ) -> None:
        super().__init__()
        self._conversation_state = conversation_state
        self._dialogs = dialogs
        self._installations = installations
        self._templates = templates
        self._data_protection_url = data_protection_url
        self._table = build_table()
        self._commands: dict[str, Handler] = {"help": self._send_help, "cancel": self._cancel}
        self._card_actions: dict[str, Handler] = {"help": self._send_help}

    async def on_turn(self, turn_context: TurnContext) -> None:
        """Handles the turn, then saves the conversation's state once."""
        await super().on_turn(turn_context)
        await self._conversation_state.save_changes(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """Routes a card submit by its action, typed text by the command table or active dialog."""
        submitted = card_action(turn_context.activity)
        if submitted is not None:
            await self._route_card(turn_context, submitted[0])
            return
        text = text_without_mentions(turn_context.activity)
        command = match(text, self._table)
        dialog_context = await self._dialogs.create_context(turn_context)
        if dialog_context.active_dialog is not None and command is None:
            result = await dialog_context.continue_dialog()
            if result.status != DialogTurnStatus.Empty:
                return
        if command is not None:
            await self._commands[command.name](turn_context)
            return
        await turn_context.send_activity(self._templates.text("not_understood"))

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        """Welcomes the worker when the app is installed in their personal chat."""
        await self._welcome_once(turn_context)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        """Forgets the install, so a later reinstall is welcomed again."""
        await self._installations.forget(conversation_id=turn_context.activity.conversation.id)

    async def on_teams_members_added(
        self, teams_members_added: list[ChannelAccount], team_info: Any, turn_context: TurnContext
    ) -> None:
        """Welcomes the worker when Teams reports the bot itself joining their personal chat."""
        bot_id = turn_context.activity.recipient.id
        if any(member.id == bot_id for member in teams_members_added):
            await self._welcome_once(turn_context)

    async def _welcome_once(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        scope = conversation_scope(activity)
        reference = TurnContext.get_conversation_reference(activity).serialize()
        is_new = await self._installations.record(
            conversation_id=activity.conversation.id, scope=scope, reference=reference
        )
        if is_new and scope == "personal":
            await self._send_card(turn_context, "welcome", **self._help_context())

    async def _route_card(self, turn_context: TurnContext, action: str) -> None:
        handler = self._card_actions.get(action)
        if handler is None:
            log.info(
                "unreadable card submit in conversation %s",
                turn_context.activity.conversation.id,
            )
            await turn_context.send_activity(self._templates.text("card_not_understood"))
            return
        await handler(turn_context)

    async def _send_help(self, turn_context: TurnContext) -> None:
        await self._send_card(turn_context, "help", **self._help_context())

    async def _cancel(self, turn_context: TurnContext) -> None:
        dialog_context = await self._dialogs.create_context(turn_context)
        if dialog_context.active_dialog is None:
            await turn_context.send_activity(self._templates.text("nothing_to_cancel"))
            return
        await dialog_context.cancel_all_dialogs()
        await turn_context.send_activity(self._templates.text("cancelled"))

    def _help_context(self) -> dict[str, Any]:
        return {
            "commands": [_command_view(command) for command in COMMANDS],
            "data_protection_url": self._data_protection_url,
        }

    async def _send_card(self, turn_context: TurnContext, name: str, **context: Any) -> None:
        attachment = CardFactory.adaptive_card(self._templates.card(name, **context))
        attachment.name = name
        reply: Activity = MessageFactory.attachment(attachment)
        await turn_context.send_activity(reply)


def _command_view(command: Command) -> dict[str, str]:
    return {"name": command.name, "description": command.description}
