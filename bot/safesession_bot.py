"""Decides which kind of activity arrived and hands it to the command, card or dialog it needs."""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import CardFactory, ConversationState, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.dialogs import DialogContext, DialogSet
from botbuilder.schema import Activity, ChannelAccount

from bot.commands import COMMANDS, Command, build_table, match
from bot.teams import card_action, conversation_scope, text_without_mentions
from dialogs.journey_dialog import JourneyServices, worker_id
from dialogs.registry import resume_open_journey
from safeguarding.installations import Installations
from safeguarding.service_user_setup import SETUP
from templates import Templates

log = logging.getLogger("safesession.bot")

Handler = Callable[[TurnContext, DialogContext, dict[str, Any]], Awaitable[None]]


class SafeSessionBot(TeamsActivityHandler):
    """The bot: welcome on install, exact commands, card submits and journeys."""

    def __init__(
        self,
        *,
        conversation_state: ConversationState,
        dialogs: DialogSet,
        installations: Installations,
        services: JourneyServices,
    ) -> None:
        super().__init__()
        self._conversation_state = conversation_state
        self._dialogs = dialogs
        self._installations = installations
        self._services = services
        self._templates: Templates = services.templates
        self._table = build_table()
        self._commands: dict[str, Handler] = {
            "help": self._send_help,
            "cancel": self._cancel,
            "new service user": self._new_service_user,
            "where was i": self._resume,
        }
        self._card_actions: dict[str, Handler] = {
            "help": self._send_help,
            "new_service_user": self._new_service_user,
        }

    async def on_turn(self, turn_context: TurnContext) -> None:
        """Handles the turn, then saves the conversation's state once."""
        await super().on_turn(turn_context)
        await self._conversation_state.save_changes(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """Routes a card submit by its action, typed text to the active journey or a command."""
        dialog_context = await self._dialogs.create_context(turn_context)
        submitted = card_action(turn_context.activity)
        if submitted is not None:
            await self._route_card(turn_context, dialog_context, *submitted)
            return
        text = text_without_mentions(turn_context.activity)
        turn_context.activity.text = text
        if dialog_context.active_dialog is not None:
            await dialog_context.continue_dialog()
            return
        command = match(text, self._table)
        if command is None:
            await turn_context.send_activity(self._templates.text("not_understood"))
            return
        await self._commands[command.name](turn_context, dialog_context, {})

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

    async def _route_card(
        self,
        turn_context: TurnContext,
        dialog_context: DialogContext,
        action: str,
        value: dict[str, Any],
    ) -> None:
        if action == "answer":
            if dialog_context.active_dialog is None:
                await turn_context.send_activity(self._templates.text("no_active_question"))
            else:
                await dialog_context.continue_dialog()
            return
        handler = self._card_actions.get(action)
        if handler is None:
            log.info(
                "unreadable card submit in conversation %s",
                turn_context.activity.conversation.id,
            )
            await turn_context.send_activity(self._templates.text("card_not_understood"))
            return
        await handler(turn_context, dialog_context, value)

    async def _send_help(
        self, turn_context: TurnContext, _dialogs: DialogContext, _value: dict[str, Any]
    ) -> None:
        await self._send_card(turn_context, "help", **self._help_context())

    async def _cancel(
        self, turn_context: TurnContext, _dialogs: DialogContext, _value: dict[str, Any]
    ) -> None:
        await turn_context.send_activity(self._templates.text("nothing_to_cancel"))

    async def _new_service_user(
        self, _turn_context: TurnContext, dialog_context: DialogContext, value: dict[str, Any]
    ) -> None:
        prefill = value.get("case_reference")
        options = {"prefill": prefill} if isinstance(prefill, str) else {}
        await dialog_context.begin_dialog(SETUP.id, options)

    async def _resume(
        self, turn_context: TurnContext, dialog_context: DialogContext, _value: dict[str, Any]
    ) -> None:
        resumed = await resume_open_journey(dialog_context, self._services, worker_id(turn_context))
        if not resumed:
            await turn_context.send_activity(self._templates.text("nothing_to_resume"))

    def _help_context(self) -> dict[str, Any]:
        return {
            "commands": [_command_view(command) for command in COMMANDS],
            "data_protection_url": self._services.config["data_protection_url"],
        }

    async def _send_card(self, turn_context: TurnContext, name: str, **context: Any) -> None:
        attachment = CardFactory.adaptive_card(self._templates.card(name, **context))
        attachment.name = name
        reply: Activity = MessageFactory.attachment(attachment)
        await turn_context.send_activity(reply)


def _command_view(command: Command) -> dict[str, str]:
    return {"name": command.name, "description": command.description}
