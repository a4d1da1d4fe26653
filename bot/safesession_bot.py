"""Decides which kind of activity arrived and hands it to the command, card or dialog it needs."""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import ConversationState, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.dialogs import DialogContext, DialogSet
from botbuilder.schema import ChannelAccount

from bot.approvals import Approvals
from bot.case_file import CaseFile
from bot.commands import COMMANDS, TEAM, Command, build_table, match
from bot.escalation import Escalations
from bot.manager_channel import ManagerChannel
from bot.one_contact import OneContact
from bot.self_care import SelfCare
from bot.session_events import SessionEvents
from bot.teams import card_action, conversation_scope, text_without_mentions
from dialogs.cards import card_message
from dialogs.journey_dialog import JourneyServices, worker_id
from dialogs.line_manager import begin_line_manager, begin_worker_details
from dialogs.registry import resume_open_journey
from dialogs.session_planning import begin_planning
from dialogs.session_start import start_session
from safeguarding.installations import Installations, PersonalChats
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
        chats: PersonalChats,
        escalations: Escalations,
        manager_channel: ManagerChannel,
        approvals: Approvals,
        session_events: SessionEvents,
        self_care: SelfCare,
        one_contact: OneContact,
        case_file: CaseFile,
    ) -> None:
        super().__init__()
        self._conversation_state = conversation_state
        self._dialogs = dialogs
        self._installations = installations
        self._services = services
        self._chats = chats
        self._escalations = escalations
        self._manager_channel = manager_channel
        self._approvals = approvals
        self._session_events = session_events
        self._self_care = self_care
        self._one_contact = one_contact
        self._templates: Templates = services.templates
        self._table = build_table()
        self._commands: dict[str, Handler] = {
            "help": self._send_help,
            "cancel": self._cancel,
            "new service user": self._new_service_user,
            "plan session": self._plan_session,
            "start session": self._start_session,
            "where was i": self._resume,
            "emergency": self._emergency,
            "my line manager": self._line_manager,
            "my details": self._worker_details,
            "my settings": self._self_care.show_settings,
            "self-care": self._self_care.show_self_care,
            "set manager channel": self._set_manager_channel,
            "manager channel": self._show_manager_channel,
            "notes copied": case_file.list_waiting,
        }
        self._card_actions: dict[str, Handler] = {
            "help": self._send_help,
            "new_service_user": self._new_service_user,
            "start_session": self._start_session,
            "end_session": self._session_events.end_session,
            "connection_lost": self._session_events.connection_lost,
            "connection_outcome": self._session_events.connection_outcome,
            "safe_word_used": self._session_events.safe_word_used,
            "behaviour_end": self._session_events.behaviour_end,
            "welfare_done": self._session_events.welfare_done,
            "emergency": self._emergency,
            "emergency_kind": self._emergency_kind,
            "acknowledge": self._acknowledge,
            "show_location": self._show_location,
            "resolve": self._resolve,
            "approve_online_work": self._approve,
            "decline_online_work": self._decline,
            "pause_session": self._pause_session,
            "my_line_manager": self._line_manager,
            "resume_session": self._one_contact.resume,
            "end_paused_session": self._one_contact.end_paused,
            "notes_copied": case_file.confirm,
            **self._self_care.card_actions(),
        }

    async def on_turn(self, turn_context: TurnContext) -> None:
        """Handles the turn, then saves the conversation's state once."""
        await super().on_turn(turn_context)
        await self._self_care.after_turn(turn_context)
        await self._conversation_state.save_changes(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """Routes a card submit by its action, typed text to the active journey or a command."""
        await self._remember_personal_chat(turn_context)
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
        if conversation_scope(turn_context.activity) != "personal" and TEAM not in command.scopes:
            await turn_context.send_activity(self._templates.text("personal_only_in_channel"))
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

    async def _plan_session(
        self, turn_context: TurnContext, dialog_context: DialogContext, _value: dict[str, Any]
    ) -> None:
        if await self._one_contact.busy(turn_context, then="plan_session"):
            return
        await begin_planning(dialog_context, self._services, worker_id(turn_context))

    async def _start_session(
        self, turn_context: TurnContext, dialog_context: DialogContext, value: dict[str, Any]
    ) -> None:
        # The journey shows the agreed safe word at follow-ups: never outside the personal chat.
        if conversation_scope(turn_context.activity) != "personal":
            await turn_context.send_activity(self._templates.text("personal_only_in_channel"))
            return
        if await self._one_contact.busy(turn_context, then="start_session"):
            return
        chosen = value.get("session")
        await start_session(
            turn_context,
            dialog_context,
            self._services,
            chosen=str(chosen) if "session" in value else None,
        )

    async def _pause_session(
        self, turn_context: TurnContext, dialog_context: DialogContext, value: dict[str, Any]
    ) -> None:
        # E4: once the running session is paused, carry on with what the worker asked for.
        then = await self._one_contact.pause(turn_context, value)
        if then == "plan_session":
            await self._plan_session(turn_context, dialog_context, {})
        elif then == "start_session":
            await self._start_session(turn_context, dialog_context, {})

    async def _remember_personal_chat(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if conversation_scope(activity) == "personal":
            await self._chats.remember(
                user_id=worker_id(turn_context),
                conversation_id=activity.conversation.id,
                reference=lambda: TurnContext.get_conversation_reference(activity).serialize(),
            )

    async def _emergency(
        self, turn_context: TurnContext, dialog_context: DialogContext, value: dict[str, Any]
    ) -> None:
        # The journey's answers are already stored; `where was I` picks it up afterwards.
        await dialog_context.cancel_all_dialogs()
        session = value.get("session")
        await self._escalations.raise_emergency(
            turn_context, session_key=session if isinstance(session, str) else ""
        )

    async def _line_manager(
        self, turn_context: TurnContext, dialog_context: DialogContext, _value: dict[str, Any]
    ) -> None:
        await begin_line_manager(dialog_context, self._services, worker_id(turn_context))

    async def _worker_details(
        self, turn_context: TurnContext, dialog_context: DialogContext, _value: dict[str, Any]
    ) -> None:
        await begin_worker_details(dialog_context, self._services, worker_id(turn_context))

    async def _emergency_kind(
        self, turn_context: TurnContext, _dialogs: DialogContext, value: dict[str, Any]
    ) -> None:
        await self._escalations.record_kind(turn_context, value)

    async def _acknowledge(
        self, turn_context: TurnContext, _dialogs: DialogContext, value: dict[str, Any]
    ) -> None:
        await self._escalations.acknowledge(turn_context, value)

    async def _show_location(
        self, turn_context: TurnContext, _dialogs: DialogContext, value: dict[str, Any]
    ) -> None:
        await self._escalations.show_location(turn_context, value)

    async def _resolve(
        self, turn_context: TurnContext, _dialogs: DialogContext, value: dict[str, Any]
    ) -> None:
        await self._escalations.resolve(turn_context, value)

    async def _approve(
        self, turn_context: TurnContext, _dialogs: DialogContext, value: dict[str, Any]
    ) -> None:
        await self._approvals.decide(turn_context, value, approved=True)

    async def _decline(
        self, turn_context: TurnContext, _dialogs: DialogContext, value: dict[str, Any]
    ) -> None:
        await self._approvals.decide(turn_context, value, approved=False)

    async def _set_manager_channel(
        self, turn_context: TurnContext, _dialogs: DialogContext, _value: dict[str, Any]
    ) -> None:
        await self._manager_channel.set_here(turn_context)

    async def _show_manager_channel(
        self, turn_context: TurnContext, _dialogs: DialogContext, _value: dict[str, Any]
    ) -> None:
        await self._manager_channel.show(turn_context)

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
        await turn_context.send_activity(card_message(self._templates.card(name, **context), name))


def _command_view(command: Command) -> dict[str, str]:
    return {"name": command.name, "description": command.description}
