"""Conversation tests that read like transcripts, over botbuilder's TestAdapter on Teams."""

import itertools
import json
import re
from copy import copy
from pathlib import Path
from typing import Any

from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount

from bot.pipeline import Pipeline

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TENANT = "00000000-0000-4000-8000-00000000aaaa"
_arrivals = itertools.count(1)


def fixture(name: str, **overrides: Any) -> Activity:
    """Loads a realistic Teams activity from tests/fixtures/<name>.json."""
    payload = json.loads((FIXTURES / f"{name}.json").read_text())
    # Teams gives every activity its own id; the bot runs a repeated id only once.
    payload["id"] = f"{payload['id']}-{next(_arrivals)}"
    payload.update(overrides)
    return Activity().deserialize(payload)


class Chat:
    """One person's personal chat with the bot, on the msteams channel.

    Chats made with `beside=` share one adapter, so a proactive message to either person (an
    escalation, a reminder) lands in the right chat; each chat reads only its own replies.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        worker: str = "worker-1",
        conversation: str = "a:personal-1",
        beside: "Chat | None" = None,
    ):
        self.template = Activity(
            channel_id="msteams",
            service_url="https://smba.trafficmanager.net/uk/",
            from_property=ChannelAccount(
                id=f"29:{worker}", name="Sam Worker", aad_object_id=f"aad-{worker}"
            ),
            recipient=ChannelAccount(id="28:safesession-bot", name="SafeSession"),
            conversation=ConversationAccount(
                id=conversation, conversation_type="personal", tenant_id=TENANT
            ),
            channel_data={"tenant": {"id": TENANT}},
        )
        self.conversation = conversation
        # Conversations whose replies this chat reads: its own, and any it delivered into.
        self.reading = {conversation}
        if beside is None:
            self.adapter = TestAdapter(pipeline.bot.on_turn, self.template)
            pipeline.attach(self.adapter)
        else:
            self.adapter = beside.adapter

    def _from_me(self, **fields: Any) -> Activity:
        activity = copy(self.template)
        for name, value in fields.items():
            setattr(activity, name, value)
        activity.type = ActivityTypes.message
        # Unique across adapters too, so a restarted bot over the same store sees new ids.
        activity.id = f"t:{next(_arrivals)}"
        return activity

    async def user(self, text: str) -> None:
        """The worker types a message."""
        await self.adapter.receive_activity(self._from_me(text=text))

    async def submit(self, value: Any) -> None:
        """The worker presses a card button, which Teams sends as a message with a value."""
        await self.adapter.receive_activity(self._from_me(value=value))

    async def receive(self, activity: Activity) -> None:
        """Teams delivers a prepared activity (install, @mention, ...)."""
        if activity.conversation is not None:
            self.reading.add(activity.conversation.id)
        await self.adapter.receive_activity(activity)

    def _mine(self) -> list[Activity]:
        return [
            reply
            for reply in self.adapter.activity_buffer
            if reply.conversation is None or reply.conversation.id in self.reading
        ]

    def next_reply(self) -> Activity:
        """Takes the bot's next unread reply in this chat, failing if there is none."""
        mine = self._mine()
        assert mine, "expected a reply from the bot, got none"
        self.adapter.activity_buffer.remove(mine[0])
        return mine[0]

    def bot_says(self, *fragments: str) -> str:
        """The next reply is text containing every fragment (as the worker reads it)."""
        reply = self.next_reply()
        assert not reply.attachments, f"expected text, got a card: {_names(reply)}"
        shown = as_read(reply)
        for fragment in fragments:
            assert fragment in shown, f"{fragment!r} not in {shown!r}"
        return shown

    def bot_sends_card(self, name: str) -> dict[str, Any]:
        """The next reply is the named Adaptive Card; returns its content."""
        reply = self.next_reply()
        assert _names(reply) == [name], f"expected card {name!r}, got {_names(reply)}"
        content: dict[str, Any] = reply.attachments[0].content
        assert content["type"] == "AdaptiveCard"
        return content

    def bot_asks(self, question_id: str, *fragments: str) -> dict[str, Any]:
        """The next reply is the question card for question_id, its prompt holding each fragment."""
        card = self.bot_sends_card("question")
        asked = {action["data"].get("question") for action in card["actions"]}
        assert asked == {question_id}, f"expected question {question_id!r}, got {asked}"
        prompt = card["body"][0]["text"]
        for fragment in fragments:
            assert fragment in prompt, f"{fragment!r} not in {prompt!r}"
        return card

    def no_unread_replies(self) -> None:
        """Nothing more was said in this chat."""
        left = self._mine()
        assert not left, f"unread replies: {[r.text or _names(r) for r in left]}"


def as_read(reply: Activity) -> str:
    """The reply's text as Teams shows it: escaped markdown unescaped, paragraphs as lines."""
    text = str(reply.text or "")
    if reply.text_format != "markdown":
        return text
    return re.sub(r"\\(.)", r"\1", text).replace("\n\n", "\n")


def _names(reply: Activity) -> list[str]:
    return [attachment.name for attachment in reply.attachments or []]
