"""A stub Bot Connector on loopback: records what the bot posts, answers like the real service."""

import itertools
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


class StubConnector:
    """Accepts replies and new messages at /v3/conversations/..., keeping each posted activity."""

    def __init__(self) -> None:
        self.posted: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities", self._post)
        app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", self._post)
        self.server = TestServer(app, host="127.0.0.1")

    @property
    def service_url(self) -> str:
        """The serviceUrl activities must carry for the bot to answer here."""
        return str(self.server.make_url("/"))

    async def _post(self, request: web.Request) -> web.Response:
        activity = await request.json()
        activity["_conversation"] = request.match_info["conversation"]
        self.posted.append(activity)
        return web.json_response({"id": f"stub-{next(self._ids)}"})

    def texts(self) -> list[str]:
        """The text of every plain message posted so far."""
        return [activity.get("text") or "" for activity in self.posted]

    def card_names(self) -> list[str]:
        """The names of every card posted so far."""
        return [
            attachment.get("name", "")
            for activity in self.posted
            for attachment in activity.get("attachments") or []
        ]
