"""Transcripts over real HTTP: Teams-shaped activities POSTed to the app, replies read at a stub."""

import itertools
from typing import Any

from tests.conftest import Served
from tests.stub_connector import StubConnector
from tests.transcript import TENANT

TEAM_CHANNEL = "19:managers@thread.tacv2"
_ids = itertools.count(1)


class HttpChat:
    """One person in one Teams conversation (their personal chat, or the managers' channel)."""

    def __init__(
        self,
        served: Served,
        connector: StubConnector,
        *,
        user: str,
        name: str,
        channel: bool = False,
    ) -> None:
        self.served = served
        self.connector = connector
        self.user_id = f"aad-{user}"
        self.teams_id = f"29:{user}"
        self.name = name
        self.channel = channel
        self.conversation = (
            f"{TEAM_CHANNEL};messageid=17326{next(_ids):08d}" if channel else f"a:personal-{user}"
        )

    def activity(self, **fields: Any) -> dict[str, Any]:
        """A message activity from this person, shaped as Teams sends it."""
        conversation: dict[str, Any] = {"id": self.conversation, "tenantId": TENANT}
        channel_data: dict[str, Any] = {"tenant": {"id": TENANT}}
        if self.channel:
            conversation.update(conversationType="channel", isGroup=True)
            channel_data.update(
                channel={"id": TEAM_CHANNEL, "name": "Managers"},
                team={"id": TEAM_CHANNEL, "name": "Family Support"},
            )
        else:
            conversation["conversationType"] = "personal"
        return {
            "type": "message",
            "id": f"f:{next(_ids)}",
            "channelId": "msteams",
            "serviceUrl": self.connector.service_url,
            "from": {"id": self.teams_id, "name": self.name, "aadObjectId": self.user_id},
            "recipient": {"id": "28:safesession-bot", "name": "SafeSession"},
            "conversation": conversation,
            "channelData": channel_data,
            **fields,
        }

    async def post(self, payload: dict[str, Any]) -> int:
        async with self.served.session.post(
            self.served.url("/api/messages"), json=payload
        ) as response:
            return response.status

    async def says(self, text: str) -> int:
        """The person types a message (in a channel, with the @mention Teams adds)."""
        if not self.channel:
            return await self.post(self.activity(text=text))
        mention = {
            "type": "mention",
            "text": "<at>SafeSession</at>",
            "mentioned": {"id": "28:safesession-bot", "name": "SafeSession"},
        }
        return await self.post(
            self.activity(text=f"<at>SafeSession</at> {text}", entities=[mention])
        )

    async def presses(self, value: dict[str, Any]) -> int:
        """The person presses a card button."""
        return await self.post(self.activity(value=value))

    def new_replies(self) -> list[dict[str, Any]]:
        """What the bot posted into this person's conversation since last asked."""
        conversation = TEAM_CHANNEL if self.channel else self.conversation
        everything = [
            activity
            for activity in self.connector.posted
            if activity["_conversation"].split(";")[0] == conversation
        ]
        read = self.connector.cursors.get(conversation, 0)
        self.connector.cursors[conversation] = len(everything)
        return everything[read:]
