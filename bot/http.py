"""The HTTP edge: checks each request before the SDK sees it, so a client's mistake is a 4xx."""

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
from aiohttp import web
from botbuilder.core import Bot
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityEventNames, ActivityTypes
from botbuilder.schema.teams import TeamsChannelData
from botframework.connector import Channels
from botframework.connector.auth import AuthenticateRequestResult, BotFrameworkAuthentication
from msrest.exceptions import DeserializationError
from requests import RequestException

from bot.activity_json import activity_from_json, model_from_json
from bot.connectors import ConnectorCache
from bot.errors import DeliveryFailed
from safeguarding.ports import Documents

log = logging.getLogger("safesession.http")

MAX_BODY_BYTES = 256 * 1024
# The most a token check may take (the first one of a day also fetches the signing keys).
VERIFY_SECONDS = 10.0
VERIFY_THREADS = 4
# The event that starts the bot's own proactive turns: never accepted from outside.
CONTINUATION = ActivityEventNames.continue_conversation
# Teams ids are short; an id is logged and names the message a reply answers.
MAX_ID_LENGTH = 256


def refuse(status: int, reason: str) -> web.Response:
    """Answers a bad request with its status and a one-line reason, never echoing the body."""
    return web.json_response({"error": reason}, status=status)


class MessagesEndpoint:
    """POST /api/messages: validate, authenticate, then run the turn through CloudAdapter."""

    def __init__(
        self,
        *,
        adapter: CloudAdapter,
        authentication: BotFrameworkAuthentication,
        bot: Bot,
        require_token: bool,
        connectors: ConnectorCache,
    ) -> None:
        self._connectors = connectors
        self._adapter = adapter
        self._authentication = authentication
        self._bot = bot
        self._require_token = require_token
        # The SDK fetches its signing keys with a blocking `requests.get` (on first use, then
        # daily): tokens are checked on these threads, so a slow key server stalls no other turn
        # and cannot tie up the threads the store uses.
        self._verifier = ThreadPoolExecutor(VERIFY_THREADS, thread_name_prefix="token-check")

    def close(self) -> None:
        """Lets the token-checking threads go (the app is shutting down)."""
        self._verifier.shutdown(wait=False, cancel_futures=True)

    async def handle(self, request: web.Request) -> web.Response:
        """Turns one inbound activity into a bot turn, or into a 4xx naming what was wrong."""
        if request.content_type != "application/json":
            return refuse(415, "Content-Type must be application/json")
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return refuse(413, f"body is larger than {MAX_BODY_BYTES} bytes")
        payload = await _read_json(request)
        if isinstance(payload, web.Response):
            return payload
        activity = _parse_activity(payload)
        if isinstance(activity, web.Response):
            return activity
        authenticated = await self._authenticate(request, activity)
        if isinstance(authenticated, web.Response):
            return authenticated
        authenticated.connector_factory = self._connectors.wrap(authenticated.connector_factory)
        try:
            invoke_response = await self._adapter.process_activity(
                authenticated, activity, self._bot.on_turn
            )
        except DeliveryFailed:
            return refuse(502, "the reply could not be delivered to the channel")
        if invoke_response:
            return web.json_response(data=invoke_response.body, status=invoke_response.status)
        return web.Response(status=201)

    async def _authenticate(
        self, request: web.Request, activity: Activity
    ) -> AuthenticateRequestResult | web.Response:
        # Local mode has authentication off; a stray header would still send the SDK to fetch keys.
        header = request.headers.get("Authorization", "") if self._require_token else ""
        if self._require_token and not _looks_like_bot_framework_token(header):
            return refuse(401, "a Bot Framework bearer token is required")
        if not self._require_token:
            return await self._authentication.authenticate_request(activity, header)
        try:
            return await asyncio.wait_for(self._verify(activity, header), VERIFY_SECONDS)
        except (RequestException, TimeoutError):
            log.error("could not fetch the Bot Framework signing keys; refusing the request")
            return refuse(503, "cannot verify tokens right now")
        # Besides PermissionError and PyJWT's errors the SDK raises bare Exception (key not
        # endorsed for the channel, algorithm), IndexError (unknown key id) and others: whatever
        # stops a token being verified makes it a 401, never a 500.
        except Exception as error:
            log.warning(
                "rejected a token for conversation %s: %s",
                activity.conversation.id,
                type(error).__name__,
            )
            return refuse(401, "the bearer token is not valid for this bot")

    async def _verify(self, activity: Activity, header: str) -> AuthenticateRequestResult:
        def check() -> AuthenticateRequestResult:
            return asyncio.run(self._authentication.authenticate_request(activity, header))

        return await asyncio.get_running_loop().run_in_executor(self._verifier, check)


def _looks_like_bot_framework_token(header: str) -> bool:
    """Says whether the header carries an RS256 JWT naming its key; anything else is refused."""
    scheme, _, token = header.partition(" ")
    if scheme != "Bearer" or not token:
        return False
    try:
        token_header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return False
    return token_header.get("alg") == "RS256" and isinstance(token_header.get("kid"), str)


async def _read_json(request: web.Request) -> Any:
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return refuse(413, f"body is larger than {MAX_BODY_BYTES} bytes")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return refuse(400, "body is not valid JSON")


def _names_a_conversation(value: Any) -> bool:
    """Says whether value can be a conversation id a reply is sent to: it goes into the reply's
    URL path and its x-ms-conversation-id header, so not empty, not "." or "..", and no control
    characters (Teams ids are printable)."""
    return (
        isinstance(value, str)
        and value not in ("", ".", "..")
        and not any(ord(character) < 0x20 or character == "\x7f" for character in value)
    )


def _parse_activity(payload: Any) -> Activity | web.Response:
    if not isinstance(payload, dict):
        return refuse(400, "body must be a JSON object (an activity)")
    conversation = payload.get("conversation")
    service_url = payload.get("serviceUrl")
    if not isinstance(payload.get("type"), str) or not payload["type"]:
        return refuse(400, "activity has no type")
    if not isinstance(conversation, dict) or not _names_a_conversation(conversation.get("id")):
        return refuse(400, "activity has no conversation id")
    if not isinstance(service_url, str) or not service_url.startswith(("https://", "http://")):
        return refuse(400, "activity has no serviceUrl")
    if not isinstance(payload.get("channelId"), str) or not payload["channelId"]:
        return refuse(400, "activity has no channelId")
    if payload["type"] == ActivityTypes.event and payload.get("name") == CONTINUATION:
        return refuse(400, "only the bot itself continues a conversation")
    teams = payload["channelId"] == Channels.ms_teams
    if teams and not isinstance(payload.get("channelData"), dict):
        return refuse(400, "a Teams activity needs its channelData")
    for field in ("from", "recipient"):
        account = payload.get(field)
        if not isinstance(account, dict) or not isinstance(account.get("id"), str):
            return refuse(400, f"activity has no {field} id")
    for field in ("membersAdded", "membersRemoved"):
        members = payload.get(field)
        if members is not None and not (
            isinstance(members, list)
            and all(isinstance(m, dict) and isinstance(m.get("id"), str) for m in members)
        ):
            return refuse(400, f"{field} must be a list of accounts with ids")
    activity_id = payload.get("id")
    if activity_id is not None and (
        not isinstance(activity_id, str) or len(activity_id) > MAX_ID_LENGTH
    ):
        return refuse(400, "activity id must be a string")
    # The fast readers make exactly what msrest makes, or give None for a shape msrest would
    # coerce or refuse: msrest reads those itself, so a bad shape is still a 400 here.
    try:
        # Channel data is read as the SDK's Teams handler will read it.
        if teams and model_from_json(TeamsChannelData, payload["channelData"]) is None:
            TeamsChannelData().deserialize(payload["channelData"])
        activity = activity_from_json(payload)
        return Activity().deserialize(payload) if activity is None else activity
    except (DeserializationError, TypeError, ValueError, AttributeError):
        return refuse(400, "activity fields have the wrong shape")


def health_handler(documents: Documents) -> Any:
    """GET /healthz: 200 with the store's status, 503 when the store cannot be used."""

    async def healthz(_request: web.Request) -> web.Response:
        status = await documents.status()
        body = {
            "status": "ok" if status.ok else "unavailable",
            "store": {"backend": status.backend, "ok": status.ok, "detail": status.detail},
        }
        return web.json_response(body, status=200 if status.ok else 503)

    return healthz
