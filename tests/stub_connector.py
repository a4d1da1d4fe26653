"""A stub Bot Connector on loopback: records what the bot posts, answers like the real service.

Faults can be queued per conversation: an HTTP status to answer with (403 bot removed, 429,
500) or "hang" (hold the request open until the client gives up).
"""

import asyncio
import itertools
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

HANG_SECONDS = 30.0


class StubConnector:
    """Accepts posts and updates at /v3/conversations/..., keeping each activity it was sent."""

    def __init__(self) -> None:
        self.posted: list[dict[str, Any]] = []
        # The Authorization header of each post (None when there was none), in order.
        self.authorizations: list[str | None] = []
        self.updated: list[dict[str, Any]] = []
        # How far each conversation's posts have been read by the test's HttpChat helpers.
        self.cursors: dict[str, int] = {}
        self._faults: dict[str, list[int | str]] = {}
        self._released = asyncio.Event()
        self._ids = itertools.count(1)
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities", self._post)
        app.router.add_post("/v3/conversations/{conversation}/activities/{reply_to}", self._post)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._put)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        self.server = TestServer(app, host="127.0.0.1")

    @property
    def service_url(self) -> str:
        """The serviceUrl activities must carry for the bot to answer here."""
        return str(self.server.make_url("/"))

    def fail(self, conversation: str, *faults: int | str) -> None:
        """Answers the next requests for a conversation with these statuses (or 'hang')."""
        self._faults.setdefault(conversation, []).extend(faults)

    def recover(self) -> None:
        """Drops every queued fault."""
        self._faults.clear()

    def release(self) -> None:
        """Lets every hanging request finish, so the server can close."""
        self._released.set()

    async def _fault(self, conversation: str) -> web.Response | None:
        queued = self._faults.get(conversation)
        if not queued:
            return None
        fault = queued.pop(0)
        if fault == "hang":
            try:
                await asyncio.wait_for(self._released.wait(), HANG_SECONDS)
            except TimeoutError:
                pass
            return web.json_response({}, status=504)
        return web.json_response(
            {"error": {"code": "Stubbed", "message": "stub fault"}}, status=int(fault)
        )

    async def _post(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"]
        failed = await self._fault(conversation)
        if failed is not None:
            return failed
        activity = await request.json()
        activity["_conversation"] = conversation
        activity["_id"] = f"stub-{next(self._ids)}"
        self.authorizations.append(request.headers.get("Authorization"))
        self.posted.append(activity)
        return web.json_response({"id": activity["_id"]})

    async def _put(self, request: web.Request) -> web.Response:
        conversation = request.match_info["conversation"]
        failed = await self._fault(conversation)
        if failed is not None:
            return failed
        activity = await request.json()
        activity["_conversation"] = conversation
        activity["_id"] = request.match_info["activity"]
        self.updated.append(activity)
        return web.json_response({"id": activity["_id"]})

    async def _member(self, request: web.Request) -> web.Response:
        """Teams looks up a member the bot was told joined; anyone named is a member here."""
        member = request.match_info["member"]
        return web.json_response({"id": member, "name": "A Member", "aadObjectId": f"aad-{member}"})

    def to(self, conversation: str) -> list[dict[str, Any]]:
        """Everything posted to one conversation, oldest first."""
        return [activity for activity in self.posted if activity["_conversation"] == conversation]

    def texts(self, conversation: str | None = None) -> list[str]:
        """The text of every plain message posted (to one conversation, if named)."""
        posted = self.posted if conversation is None else self.to(conversation)
        return [
            activity.get("text") or "" for activity in posted if not activity.get("attachments")
        ]

    def card_names(self, conversation: str | None = None) -> list[str]:
        """The names of every card posted (to one conversation, if named)."""
        posted = self.posted if conversation is None else self.to(conversation)
        return [
            attachment.get("name", "")
            for activity in posted
            for attachment in activity.get("attachments") or []
        ]
