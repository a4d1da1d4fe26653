"""The manager channel: set by an admin with an @mention in a team channel, kept across restarts."""

import logging

from botbuilder.core import TurnContext

from dialogs.journey_dialog import worker_id
from safeguarding.escalations import CONFIG, MANAGER_CHANNEL_KEY
from safeguarding.records import Records
from templates import Templates

log = logging.getLogger("safesession.manager_channel")


class ManagerChannel:
    """Remembers which team channel gets emergency escalations and approval requests."""

    def __init__(self, *, records: Records, templates: Templates, admins: frozenset[str]) -> None:
        self._records = records
        self._templates = templates
        self._admins = admins

    async def set_here(self, turn_context: TurnContext) -> None:
        """Makes this channel the manager channel, if an admin asks from a team channel."""
        activity = turn_context.activity
        actor = worker_id(turn_context)
        if getattr(activity.conversation, "conversation_type", None) != "channel":
            await turn_context.send_activity(self._templates.text("manager_channel_in_a_channel"))
            return
        if actor not in self._admins:
            log.info("refused set manager channel from a non-admin in %s", activity.conversation.id)
            await turn_context.send_activity(self._templates.text("manager_channel_admins_only"))
            return
        reference = TurnContext.get_conversation_reference(activity).serialize()
        channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
        channel = channel_data.get("channel") or {}
        team = channel_data.get("team") or {}
        # Post new threads to the channel itself, not as replies under the @mention.
        reference["conversation"]["id"] = (
            channel.get("id") or activity.conversation.id.split(";")[0]
        )
        name = channel.get("name") or "this channel"
        team_name = team.get("name") or "this team"
        existing = await self._records.load(collection=CONFIG, key=MANAGER_CHANNEL_KEY)
        fields = {
            "reference": reference,
            "channel_name": name,
            "team_name": team_name,
            "set_by": actor,
            "set_at": self._records.now().isoformat(),
        }
        if existing is None:
            await self._records.create(
                collection=CONFIG, key=MANAGER_CHANNEL_KEY, actor=actor, fields=fields
            )
        else:
            await self._records.update(
                collection=CONFIG, record=existing, changes=fields, actor=actor
            )
        await turn_context.send_activity(
            self._templates.text("manager_channel_set", channel_name=name, team_name=team_name)
        )

    async def show(self, turn_context: TurnContext) -> None:
        """Says which channel is the manager channel, or that none is set."""
        channel = await self._records.load(collection=CONFIG, key=MANAGER_CHANNEL_KEY)
        if channel is None:
            await turn_context.send_activity(self._templates.text("manager_channel_none"))
            return
        await turn_context.send_activity(
            self._templates.text(
                "manager_channel_shown",
                channel_name=channel["channel_name"],
                team_name=channel["team_name"],
            )
        )
