"""Connector clients, one per service URL and reused; replies go out over one aiohttp session.

The SDK builds a botframework ConnectorClient on every turn, at about 5 ms of CPU (msrest's retry
policy rebuilds a 999-item list each time); `ConnectorCache` builds one per service URL and
audience and keeps it, and one user-token client per app id (`ReusingAuthentication`).

Every reply and proactive message is a `send_to_conversation` or `reply_to_activity` on the
client's `conversations`. Through msrest those cost more CPU than the rest of a turn: its generic
Serializer, then `requests` on a worker thread. So each cached client's `conversations` is a
`DirectConversations`, which does those two itself: the JSON `bot.activity_json` makes (the same
msrest would send; msrest's own serializer for anything it does not know exactly), POSTed over the
one `ConnectorSession` every client shares, which keeps connections alive between turns and goes
through the proxy the environment names (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), looked up once per
host rather than on every request, as aiohttp's trust_env would. The bearer token is fetched off
the event loop and kept for a few minutes; a busy or unreachable connector is tried twice more
after a short pause; no attempt outlasts the delivery timeout, and any failure is one of
`bot.errors.DELIVERY_ERRORS`. Everything else (updating, deleting, members,
new conversations) is the SDK's own, through msrest, unchanged.
"""

import asyncio
import functools
import json
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin

import aiohttp
import certifi
from aiohttp.helpers import get_env_proxy_for_url
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AppCredentials,
    AuthenticationConstants,
    ClaimsIdentity,
    ConnectorFactory,
    JwtTokenValidation,
    UserTokenClient,
)
from msrest.pipeline.universal import RawDeserializer
from multidict import CIMultiDictProxy
from yarl import URL

from bot.activity_json import activity_json

log = logging.getLogger("safesession.connectors")

# No attempt at a post lasts longer (the app passes Settings.delivery_timeout).
DELIVERY_SECONDS = 10.0
# The answers msrest accepts from these operations; anything else is a failed delivery.
DELIVERED = frozenset({200, 201, 202})
# Busy or briefly failing: worth another try. Any other 4xx means the request itself is refused.
RETRIED = frozenset({408, 429, 500, 502, 503, 504})
# The pause before each retry: two retries at most, so a reply is late by a second, not lost.
RETRY_PAUSES = (0.25, 1.0)
# A connector asking for a longer wait than this gets none: the delivery fails now (proactive
# ones are retried by the scheduler), rather than hold up the turn.
MAX_RETRY_AFTER = 3.0
# MSAL hands out a token only while it has at least 5 minutes left (it fetches a new one
# otherwise), so one kept for 4 minutes still has a minute to run when it is sent.
TOKEN_REUSE_SECONDS = 4 * 60
CONNECTIONS = 200
CONNECTIONS_PER_HOST = 100
JSON_TYPE = "application/json; charset=utf-8"
ACTIVITIES = "v3/conversations/{conversation}/activities"


class ConnectorCache:
    """Keeps the connector clients the bot has made, by service URL and audience."""

    def __init__(self, *, timeout: float = DELIVERY_SECONDS) -> None:
        self._clients: dict[tuple[str, str | None], ConnectorClient] = {}
        self._session = ConnectorSession(timeout=timeout)

    def wrap(self, factory: ConnectorFactory) -> ConnectorFactory:
        """Gives a factory that hands out the cached client, making it once through factory."""
        return _CachedFactory(factory, self)

    async def client(
        self, factory: ConnectorFactory, service_url: str, audience: str | None
    ) -> ConnectorClient:
        """Gives the client for a service URL, built by factory the first time it is asked for."""
        key = (service_url, audience)
        client = self._clients.get(key)
        if client is None:
            client = await factory.create(service_url, audience)
            retry = client.config.retry_policy.policy
            # urllib3 checks `status in status_forcelist` on every response: a set, not a list.
            retry.status_forcelist = frozenset(retry.status_forcelist)
            client.conversations = DirectConversations(
                client.conversations, config=client.config, session=self._session
            )
            self._clients[key] = client
        return client

    async def close(self) -> None:
        """Closes the shared HTTP session (the app is stopping)."""
        await self._session.close()

    def __len__(self) -> int:
        return len(self._clients)


class _CachedFactory(ConnectorFactory):
    def __init__(self, inner: ConnectorFactory, cache: ConnectorCache) -> None:
        self._inner = inner
        self._cache = cache

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        return await self._cache.client(self._inner, service_url, audience)


class DirectConversations:
    """The SDK's conversation operations, but sends and replies go straight out over aiohttp."""

    def __init__(self, operations: Any, *, config: Any, session: "ConnectorSession") -> None:
        self._operations = operations
        self._config = config
        self._session = session
        credentials = config.credentials
        # Other kinds of credentials sign msrest's session in their own way: leave them to it.
        self._token = BearerToken(credentials) if isinstance(credentials, AppCredentials) else None

    def __getattr__(self, name: str) -> Any:
        """Everything but sends and replies is the SDK's operation, unchanged."""
        # Read through vars(): copy.copy asks before __init__ has run.
        operations = vars(self).get("_operations")
        if operations is None:
            raise AttributeError(name)
        return getattr(operations, name)

    async def send_to_conversation(
        self, conversation_id: Any, activity: Any, **options: Any
    ) -> Any:
        """Posts an activity at the end of a conversation; gives the connector's answer."""
        token = self._token
        if options or token is None or type(conversation_id) is not str:
            return await self._operations.send_to_conversation(conversation_id, activity, **options)
        return await self._post(token, conversation_id, None, activity)

    async def reply_to_activity(
        self, conversation_id: Any, activity_id: Any, activity: Any, **options: Any
    ) -> Any:
        """Posts an activity as a reply to another one; gives the connector's answer."""
        token = self._token
        plain = type(conversation_id) is str and type(activity_id) is str
        if options or token is None or not plain:
            return await self._operations.reply_to_activity(
                conversation_id, activity_id, activity, **options
            )
        return await self._post(token, conversation_id, activity_id, activity)

    async def _post(
        self, token: "BearerToken", conversation_id: str, activity_id: str | None, activity: Any
    ) -> Any:
        body = json.dumps(self._body(activity)).encode()
        headers = {
            "Accept": "application/json",
            "Content-Type": JSON_TYPE,
            "User-Agent": self._config.user_agent,
        }
        if activity_id is not None:
            headers["x-ms-conversation-id"] = conversation_id
        authorization = await token.authorization()
        if authorization is not None:
            headers["Authorization"] = authorization
        url = activities_url(self._config.base_url, conversation_id, activity_id)
        answer = await self._session.post(url, body, headers, conversation=conversation_id)
        # Read exactly as msrest reads it: an empty body is None, which the SDK makes an id of "".
        data = RawDeserializer.deserialize_from_http_generics(answer.text(), answer.headers)
        return self._operations._deserialize("ResourceResponse", data)

    def _body(self, activity: Any) -> Any:
        body = activity_json(activity)
        if body is None:
            log.debug(
                "a %s activity goes through msrest's serializer", getattr(activity, "type", "")
            )
            body = self._operations._serialize.body(activity, "Activity")
        return body


def activities_url(base_url: str, conversation_id: str, activity_id: str | None = None) -> str:
    """The URL msrest posts an activity (or a reply to one) to, built as msrest builds it."""
    path = ACTIVITIES.format(conversation=quote(conversation_id, safe=""))
    if activity_id is not None:
        path = f"{path}/{quote(activity_id, safe='')}"
    return urljoin(base_url.rstrip("/") + "/", path)


class BearerToken:
    """The bot's token for one set of credentials: fetched on a thread, one fetch at a time."""

    def __init__(self, credentials: Any, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._credentials = credentials
        self._clock = clock
        self._lock = asyncio.Lock()
        self._token = ""
        self._fetched_at = 0.0

    async def authorization(self) -> str | None:
        """Gives the Authorization header, or None when the app has no id (local mode)."""
        app_id = self._credentials.microsoft_app_id
        if not app_id or app_id == AuthenticationConstants.ANONYMOUS_SKILL_APP_ID:
            return None
        if not self._fresh():
            async with self._lock:
                if not self._fresh():
                    await self._fetch()
        return f"Bearer {self._token}"

    def _fresh(self) -> bool:
        return bool(self._token) and self._clock() - self._fetched_at < TOKEN_REUSE_SECONDS

    async def _fetch(self) -> None:
        # The clock starts before the fetch: the token's minutes were already running.
        started = self._clock()
        # MSAL's cache lookup is quick, but a miss goes to Entra ID with `requests`.
        self._token = await asyncio.to_thread(self._credentials.get_access_token)
        self._fetched_at = started


@dataclass(frozen=True)
class Answer:
    """What the connector said to a post."""

    status: int
    reason: str
    headers: CIMultiDictProxy[str]
    body: bytes
    request_info: aiohttp.RequestInfo
    history: tuple[aiohttp.ClientResponse, ...]

    def text(self) -> str:
        """The body as text (the connector speaks UTF-8 JSON)."""
        return self.body.decode("utf-8", errors="replace")

    def failure(self) -> aiohttp.ClientResponseError:
        """The error that says this post was not delivered (one of DELIVERY_ERRORS)."""
        return aiohttp.ClientResponseError(
            self.request_info,
            self.history,
            status=self.status,
            message=self.reason,
            headers=self.headers,
        )


@dataclass(frozen=True)
class Route:
    """How posts reach one connector host: straight there, or through a proxy."""

    proxy: URL | None = None
    # The proxy's credentials: on the CONNECT that opens a tunnel (an https connector) ...
    proxy_headers: dict[str, str] | None = None
    # ... or on each request, which a plain-HTTP proxy reads as it forwards it.
    headers: dict[str, str] | None = None


DIRECT = Route()


def environment_route(url: URL) -> Route:
    """The proxy the environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) names for a URL, if any."""
    try:
        proxy, auth = get_env_proxy_for_url(url)
    except LookupError:
        return DIRECT
    if auth is None:
        return Route(proxy)
    # Where aiohttp would put its (deprecated) proxy_auth: the same header, the same place.
    credentials = {"Proxy-Authorization": auth.encode()}
    if url.scheme in ("https", "wss"):
        return Route(proxy, proxy_headers=credentials)
    return Route(proxy, headers=credentials)


class ConnectorSession:
    """One aiohttp session for every connector: opened on first use, closed with the app."""

    def __init__(self, *, timeout: float) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self._routes: dict[tuple[str, str | None, int | None], Route] = {}

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], *, conversation: str
    ) -> Answer:
        """Posts JSON, trying again while the connector is busy or unreachable; logs ids only."""
        pauses = iter(RETRY_PAUSES)
        while True:
            try:
                answer = await self._attempt(url, body, headers)
            except aiohttp.ClientConnectionError as error:
                # A request that timed out may have arrived, and has used up its time anyway.
                pause = None if isinstance(error, TimeoutError) else next(pauses, None)
                if pause is None:
                    raise
                reason = type(error).__name__
            else:
                if answer.status in DELIVERED:
                    return answer
                pause = _retry_pause(answer, next(pauses, None))
                if pause is None:
                    raise answer.failure()
                reason = f"HTTP {answer.status}"
            log.warning(
                "connector for conversation %s: %s; trying again in %.2f s",
                conversation,
                reason,
                pause,
            )
            await asyncio.sleep(pause)

    async def close(self) -> None:
        """Closes the connections; a post after this fails as a delivery error."""
        self._closed = True
        if self._session is not None:
            await self._session.close()

    async def _attempt(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        # The path is already quoted exactly as msrest quotes it: send it as it is.
        target = URL(url, encoded=True)
        route = await self._route(target)
        if route.headers:
            headers = {**headers, **route.headers}
        async with self._open().post(
            target,
            data=body,
            headers=headers,
            allow_redirects=False,
            proxy=route.proxy,
            proxy_headers=route.proxy_headers,
        ) as response:
            return Answer(
                status=response.status,
                reason=response.reason or "",
                headers=response.headers,
                body=await response.read(),
                request_info=response.request_info,
                history=response.history,
            )

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:
            raise aiohttp.ClientConnectionError("the connector session is closed")
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=CONNECTIONS,
                    limit_per_host=CONNECTIONS_PER_HOST,
                    # The certificates `requests` (so msrest) trusts, whatever the system has.
                    ssl=tls_context(),
                ),
                timeout=self._timeout,
                # Not aiohttp's trust_env: it reads the proxy settings and ~/.netrc again, on a
                # worker thread, for every request. Each host's route is looked up once instead.
                trust_env=False,
            )
        return self._session

    async def _route(self, url: URL) -> Route:
        key = (url.scheme, url.host, url.port)
        route = self._routes.get(key)
        if route is None:
            # The lookup may read files (the proxy's netrc entry, a platform's proxy settings).
            route = await asyncio.to_thread(environment_route, url)
            self._routes[key] = route
        return route


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The certificates `requests` (so msrest) trusts, whatever the system has: loaded once per
    process (it takes ~40 ms; `app.main` loads it before the first turn)."""
    return ssl.create_default_context(cafile=certifi.where())


def _retry_pause(answer: Answer, planned: float | None) -> float | None:
    """How long to wait before trying again, or None to give up now."""
    if planned is None or answer.status not in RETRIED:
        return None
    asked = answer.headers.get("Retry-After", "")
    try:
        wanted = float(asked) if asked else 0.0
    except ValueError:  # an HTTP date: keep to the planned pause
        wanted = 0.0
    if wanted > MAX_RETRY_AFTER:
        return None
    return max(planned, wanted)


class ReusingAuthentication(ConfigurationBotFrameworkAuthentication):
    """The SDK's authentication, but reusing per-app clients it would rebuild on every turn.

    CloudAdapter asks for a user-token client on every turn (for OAuth prompts this bot never
    uses); building one costs as much CPU as a connector client. Proactive turns get their
    connector clients from the same cache as inbound ones.
    """

    def __init__(self, configuration: Any, *, connectors: ConnectorCache) -> None:
        super().__init__(configuration)
        self._connectors = connectors
        self._token_clients: dict[str, UserTokenClient] = {}

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        """Hands out cached connector clients for proactive messages too."""
        return self._connectors.wrap(super().create_connector_factory(claims_identity))

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        """Builds the user-token client once per app id."""
        app_id = JwtTokenValidation.get_app_id_from_claims(claims_identity.claims) or ""
        client = self._token_clients.get(app_id)
        if client is None:
            client = await super().create_user_token_client(claims_identity)
            self._token_clients[app_id] = client
        return client
