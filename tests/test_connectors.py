"""Connector clients are built once per service URL; sends and replies go straight out over aiohttp.

Over real HTTP on loopback: the same request msrest would make (path, headers, body bytes), read
back the same way, with the bot's token fetched once, a bounded retry and a timeout, through the
proxy the environment names (looked up once per host).
"""

import asyncio
import base64
import copy
import gc
import logging
import os
import socket
import time
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import aiohttp.client
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from botbuilder.core import MessageFactory
from botbuilder.schema import Activity, ConversationAccount
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AppCredentials,
    AuthenticationConstants,
    ClaimsIdentity,
    MicrosoftAppCredentials,
)

import bot.connectors
from bot.connectors import (
    TOKEN_REUSE_SECONDS,
    BearerToken,
    ConnectorCache,
    DirectConversations,
    ReusingAuthentication,
    activities_url,
)
from bot.errors import DELIVERY_ERRORS
from storage import memory_stores
from tests.conftest import make_settings, serve
from tests.http_chat import HttpChat
from tests.stub_connector import StubConnector
from tests.test_activity_json import HAND_MADE

APP_ID = "11111111-2222-4333-8444-555555555555"
CHAT = "a:personal-worker"


class FakeCredentials(AppCredentials):
    """The bot's credentials: numbered tokens (or always one), a slow fetch, a count of fetches."""

    def __init__(
        self, app_id: str = APP_ID, *, fetch_seconds: float = 0.0, numbered: bool = True
    ) -> None:
        super().__init__(app_id=app_id)
        self.fetch_seconds = fetch_seconds
        self.numbered = numbered
        self.fetched = 0

    def get_access_token(self, force_refresh: bool = False) -> str:
        time.sleep(self.fetch_seconds)  # on a worker thread: the event loop never waits
        self.fetched += 1
        return f"token-{self.fetched if self.numbered else 'steady'}"


class Factory:
    """Stands in for the SDK's per-turn factory and counts the clients it builds."""

    def __init__(self, credentials: Any = None) -> None:
        self.credentials = credentials or MicrosoftAppCredentials.empty()
        self.built = 0

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        self.built += 1
        return ConnectorClient(self.credentials, base_url=service_url)


def message(text: str = "Type **help**", conversation: str = CHAT) -> Activity:
    """A reply as CloudAdapter hands it to the connector client."""
    activity = MessageFactory.text(text)
    activity.conversation = ConversationAccount(id=conversation)
    return activity


@pytest.fixture
async def cache() -> AsyncIterator[ConnectorCache]:
    connectors = ConnectorCache(timeout=2.0)
    yield connectors
    await connectors.close()


async def direct(cache: ConnectorCache, service_url: str, credentials: Any = None) -> Any:
    """The cached client's conversations, as the adapter sees them."""
    client = await cache.wrap(Factory(credentials)).create(service_url)
    return client.conversations


# -- The cache -----------------------------------------------------------------------------------


async def test_one_client_per_service_url_across_turns(cache: ConnectorCache) -> None:
    factory = Factory()
    first = await cache.wrap(factory).create("http://127.0.0.1:1/")
    again = await cache.wrap(Factory()).create("http://127.0.0.1:1/")
    other = await cache.wrap(factory).create("http://127.0.0.1:2/")
    assert first is again and other is not first
    assert factory.built == 2 and len(cache) == 2
    assert isinstance(first.config.retry_policy.policy.status_forcelist, frozenset)
    assert 503 in first.config.retry_policy.policy.status_forcelist
    assert 403 not in first.config.retry_policy.policy.status_forcelist


async def test_only_sends_and_replies_leave_msrest(cache: ConnectorCache) -> None:
    conversations = await direct(cache, "http://127.0.0.1:1/")
    assert isinstance(conversations, DirectConversations)
    for operation in ("update_activity", "delete_activity", "get_conversation_member"):
        assert type(getattr(conversations, operation).__self__).__name__ == (
            "ConversationsOperations"
        )
    assert copy.copy(conversations).update_activity == conversations.update_activity


async def test_proactive_turns_get_the_direct_path(
    cache: ConnectorCache, connector: StubConnector
) -> None:
    config = SimpleNamespace(APP_ID="", APP_PASSWORD="", APP_TYPE="MultiTenant", APP_TENANTID="")
    authentication = ReusingAuthentication(config, connectors=cache)
    factory = authentication.create_connector_factory(ClaimsIdentity({}, True))
    client = await factory.create(connector.service_url)
    assert isinstance(client.conversations, DirectConversations)
    response = await client.conversations.send_to_conversation(CHAT, message())
    assert response.id == connector.posted[0]["_id"]


# -- The request is msrest's, byte for byte ------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """One request as it arrived."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Recorder:
    """A connector on loopback that keeps each request as it arrived and answers as told."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.answers: list[tuple[int, bytes, dict[str, str]]] = []
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.server = TestServer(app, host="127.0.0.1")

    def url(self, path: str = "/") -> str:
        return str(self.server.make_url(path))

    async def _handle(self, request: web.Request) -> web.Response:
        seen = Seen(request.method, request.raw_path, dict(request.headers), await request.read())
        self.seen.append(seen)
        status, body, headers = (
            self.answers.pop(0)
            if self.answers
            else (200, b'{"id": "r-1"}', {"Content-Type": "application/json; charset=utf-8"})
        )
        return web.Response(status=status, body=body, headers=headers)


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    server = Recorder()
    await server.server.start_server()
    yield server
    await server.server.close()


# What identifies a request to the connector; requests and aiohttp differ only in transport
# headers (Accept-Encoding, Connection, Host's form).
COMPARED = ("Accept", "Content-Type", "User-Agent", "Authorization", "x-ms-conversation-id")
IDS = [
    ("a:personal-worker", "f:1732610000000"),
    ("19:managers@thread.tacv2;messageid=1732600000001", "1732600000001"),
    ("29:1Ab-CD_ef/gh+ij=~", "x/y?z#w"),
    ("with space & more", "a%2Fb"),
]


def compared(seen: Seen) -> tuple[str, str, bytes, dict[str, str | None]]:
    return seen.method, seen.path, seen.body, {name: seen.headers.get(name) for name in COMPARED}


@pytest.mark.parametrize("base", ["/", "", "/amer/", "/amer"])
@pytest.mark.parametrize(("conversation", "reply_to"), IDS)
async def test_a_post_is_the_request_msrest_makes(
    recorder: Recorder, cache: ConnectorCache, base: str, conversation: str, reply_to: str
) -> None:
    credentials = FakeCredentials(numbered=False)  # msrest asks for it on every request
    service_url = recorder.url(base) if base else recorder.url("/").rstrip("/")
    ours = await direct(cache, service_url, credentials)
    sdk = ConnectorClient(credentials, base_url=service_url).conversations
    for name in sorted(HAND_MADE):
        activity = HAND_MADE[name]()
        await sdk.send_to_conversation(conversation, copy.deepcopy(activity))
        await ours.send_to_conversation(conversation, copy.deepcopy(activity))
        await sdk.reply_to_activity(conversation, reply_to, copy.deepcopy(activity))
        await ours.reply_to_activity(conversation, reply_to, copy.deepcopy(activity))
    pairs = list(zip(recorder.seen[::2], recorder.seen[1::2], strict=True))
    assert len(pairs) == 2 * len(HAND_MADE)
    for msrest_request, our_request in pairs:
        assert compared(our_request) == compared(msrest_request)


@pytest.mark.parametrize(
    "base",
    ["https://smba.trafficmanager.net/uk/", "https://smba.trafficmanager.net/uk", "http://h"],
)
@pytest.mark.parametrize("conversation", ["a:1", ".", "..", "x/../y", "%41", "?q#f", "é"])
def test_the_url_is_built_as_msrest_builds_it(base: str, conversation: str) -> None:
    operations = ConnectorClient(MicrosoftAppCredentials.empty(), base_url=base).conversations
    quoted = operations._serialize.url("conversation_id", conversation, "str")
    template = operations.reply_to_activity.metadata["url"]
    expected = operations._client.format_url(template, conversationId=quoted, activityId=quoted)
    assert activities_url(base, conversation, conversation) == expected
    template = operations.send_to_conversation.metadata["url"]
    expected = operations._client.format_url(template, conversationId=quoted)
    assert activities_url(base, conversation) == expected


JSON = {"Content-Type": "application/json"}
ANSWERS = {
    "an id": (200, b'{"id": "a-1"}', JSON),
    "created": (201, b'{"id": "a-2", "extra": 1}', JSON),
    "accepted, no body": (202, b"", {}),
    "no id": (200, b"{}", JSON),
    "an empty body": (200, b"", JSON),
    "another case": (200, b'{"ID": "a-3"}', JSON),
    "a byte order mark": (200, '\ufeff{"id": "a-4"}'.encode(), JSON),
    "a number for an id": (200, b'{"id": 7}', JSON),
    "text": (200, b"a-5", {"Content-Type": "text/plain"}),
    "not JSON": (200, b"<html>", JSON),
    "a list": (200, b"[1]", JSON),
    "no content": (204, b"", {}),
    "a redirect": (302, b"", {"Location": "/elsewhere"}),
    "refused": (403, b'{"error": {"code": "BotNotInConversationRoster"}}', JSON),
    "not found": (404, b"not here", {"Content-Type": "text/plain"}),
    "too large": (413, b"", {}),
}


async def outcome(call: Any) -> tuple[str, Any]:
    """What a send gave: its id (or None), or that it failed as a delivery error."""
    try:
        response = await call
    except DELIVERY_ERRORS:
        return "not delivered", None
    return "delivered", None if response is None else (type(response).__name__, response.id)


@pytest.mark.parametrize("answer", sorted(ANSWERS))
async def test_the_answer_is_read_as_msrest_reads_it(
    recorder: Recorder, cache: ConnectorCache, answer: str
) -> None:
    ours = await direct(cache, recorder.url())
    sdk = ConnectorClient(MicrosoftAppCredentials.empty(), base_url=recorder.url()).conversations
    recorder.answers = [ANSWERS[answer], ANSWERS[answer]]
    expected = await outcome(sdk.send_to_conversation(CHAT, message()))
    assert await outcome(ours.send_to_conversation(CHAT, message())) == expected
    assert len(recorder.seen) == 2


async def test_an_activity_it_cannot_write_exactly_goes_as_msrest_writes_it(
    recorder: Recorder, cache: ConnectorCache
) -> None:
    ours = await direct(cache, recorder.url())
    sdk = ConnectorClient(MicrosoftAppCredentials.empty(), base_url=recorder.url()).conversations
    for activity in (message(), message()):
        activity.entities = [{"type": "clientInfo", "locale": "en-GB"}]  # a dict, not an Entity
        activity.value = {"when": (2026, 11, 26)}
        await sdk.send_to_conversation(CHAT, copy.deepcopy(activity))
        await ours.send_to_conversation(CHAT, activity)
    msrest_request, our_request = recorder.seen[:2]
    assert our_request.body == msrest_request.body
    assert b'"entities": [{"type": "clientInfo"}]' in our_request.body


# -- The bot's token -----------------------------------------------------------------------------


async def test_the_token_is_fetched_once_for_many_replies(
    cache: ConnectorCache, connector: StubConnector
) -> None:
    credentials = FakeCredentials(fetch_seconds=0.05)
    conversations = await direct(cache, connector.service_url, credentials)
    await asyncio.gather(
        *(conversations.send_to_conversation(CHAT, message(f"reply {n}")) for n in range(20)),
        *(conversations.reply_to_activity(CHAT, f"f:{n}", message()) for n in range(20)),
    )
    assert len(connector.posted) == 40
    assert connector.authorizations == ["Bearer token-1"] * 40
    assert credentials.fetched == 1


async def test_the_token_is_fetched_again_after_four_minutes() -> None:
    now = [1000.0]
    credentials = FakeCredentials()
    token = BearerToken(credentials, clock=lambda: now[0])
    assert await token.authorization() == "Bearer token-1"
    now[0] += TOKEN_REUSE_SECONDS - 1
    assert await token.authorization() == "Bearer token-1"
    now[0] += 1
    assert await token.authorization() == "Bearer token-2"
    assert credentials.fetched == 2


@pytest.mark.parametrize("app_id", ["", AuthenticationConstants.ANONYMOUS_SKILL_APP_ID])
async def test_no_app_id_means_no_token(app_id: str) -> None:
    credentials = FakeCredentials(app_id)
    assert await BearerToken(credentials).authorization() is None
    assert credentials.fetched == 0


async def test_local_mode_replies_carry_no_authorization(
    tmp_path: Path, connector: StubConnector
) -> None:
    served = await serve(make_settings(tmp_path), memory_stores())
    try:
        worker = HttpChat(served, connector, user="worker", name="Sam Worker")
        assert await worker.says("help") == 201
        await worker.says("what?")
    finally:
        await served.session.close()
        await served.server.close()
    assert connector.card_names() == ["help"] and len(connector.posted) == 2
    assert connector.authorizations == [None, None]


# -- Failures ------------------------------------------------------------------------------------


async def test_a_busy_connector_is_tried_twice_more(
    cache: ConnectorCache, connector: StubConnector
) -> None:
    conversations = await direct(cache, connector.service_url)
    connector.fail(CHAT, 503, 502)
    started = time.monotonic()
    response = await conversations.reply_to_activity(CHAT, "f:1", message())
    assert time.monotonic() - started >= 1.25
    assert [activity["_id"] for activity in connector.posted] == [response.id]

    connector.fail(CHAT, 500, 504, 429)
    with pytest.raises(aiohttp.ClientResponseError) as raised:
        await conversations.send_to_conversation(CHAT, message())
    assert raised.value.status == 429 and isinstance(raised.value, DELIVERY_ERRORS)
    assert len(connector.posted) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413])
async def test_a_refusal_is_not_retried(
    cache: ConnectorCache, connector: StubConnector, status: int
) -> None:
    conversations = await direct(cache, connector.service_url)
    connector.fail(CHAT, status)
    with pytest.raises(DELIVERY_ERRORS):
        await conversations.send_to_conversation(CHAT, message())
    await conversations.send_to_conversation(CHAT, message())  # the fault was used up once
    assert len(connector.posted) == 1


async def test_retry_after_is_honoured_when_short_and_ends_it_when_long(
    recorder: Recorder, cache: ConnectorCache
) -> None:
    conversations = await direct(cache, recorder.url())
    recorder.answers = [(429, b"", {"Retry-After": "1"})]
    started = time.monotonic()
    await conversations.send_to_conversation(CHAT, message())
    assert time.monotonic() - started >= 1.0 and len(recorder.seen) == 2

    recorder.answers = [(503, b"", {"Retry-After": "120"})]
    with pytest.raises(aiohttp.ClientResponseError):
        await conversations.send_to_conversation(CHAT, message())
    assert len(recorder.seen) == 3


async def test_an_unreachable_connector_is_a_delivery_error(cache: ConnectorCache) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    conversations = await direct(cache, f"http://127.0.0.1:{port}/")
    started = time.monotonic()
    with pytest.raises(aiohttp.ClientConnectionError) as raised:
        await conversations.send_to_conversation(CHAT, message())
    assert isinstance(raised.value, DELIVERY_ERRORS)
    assert time.monotonic() - started >= 1.25  # tried three times


async def test_a_hanging_connector_times_out_once(connector: StubConnector) -> None:
    cache = ConnectorCache(timeout=0.3)
    try:
        conversations = await direct(cache, connector.service_url)
        connector.fail(CHAT, "hang")
        started = time.monotonic()
        with pytest.raises(DELIVERY_ERRORS) as raised:
            await conversations.send_to_conversation(CHAT, message())
        assert isinstance(raised.value, TimeoutError)
        assert time.monotonic() - started < 1.0  # not tried again: it may have arrived
        assert connector.posted == []
    finally:
        await cache.close()


# -- A proxy from the environment ---------------------------------------------------------------


class ForwardProxy:
    """A forward proxy on loopback that answers posts itself, keeping each request's first line and
    headers: a plain-HTTP post arrives whole (its target an absolute URL); an https one would come
    through a CONNECT tunnel, which this proxy refuses."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    def url(self, credentials: str = "") -> str:
        return f"http://{credentials}127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")[:-2]
        method, target, _ = head[0].split(" ")
        headers = {name.lower(): value for name, value in (f.split(": ", 1) for f in head[1:])}
        self.seen.append((method, target, headers))
        if method == "CONNECT":
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        else:
            await reader.readexactly(int(headers.get("content-length", "0")))
            body = b'{"id": "via-proxy"}'
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
            )
        await writer.drain()
        writer.close()


@pytest.fixture
async def proxy(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ForwardProxy]:
    """A proxy on loopback, and an environment that names no proxy until a test says so."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    server = ForwardProxy()
    await server.start()
    yield server
    await server.close()


class Lookups:
    """Counts calls to a proxy lookup, passing them on."""

    def __init__(self, lookup: Any) -> None:
        self.lookup = lookup
        self.hosts: list[str | None] = []

    def __call__(self, url: Any) -> Any:
        self.hosts.append(url.host)
        return self.lookup(url)


SECRET = "Basic " + base64.b64encode(b"proxy-user:proxy-secret").decode()


async def test_a_proxy_from_the_environment_carries_the_posts_and_is_looked_up_once(
    recorder: Recorder,
    cache: ConnectorCache,
    proxy: ForwardProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url("proxy-user:proxy-secret@"))
    ours = Lookups(bot.connectors.get_env_proxy_for_url)
    aiohttps = Lookups(aiohttp.client.get_env_proxy_for_url)
    monkeypatch.setattr(bot.connectors, "get_env_proxy_for_url", ours)
    monkeypatch.setattr(aiohttp.client, "get_env_proxy_for_url", aiohttps)
    conversations = await direct(cache, recorder.url())
    for _ in range(3):
        response = await conversations.send_to_conversation(CHAT, message())
        assert response.id == "via-proxy"
    await conversations.reply_to_activity(CHAT, "f:1", message())

    assert recorder.seen == []
    # The target is the whole URL, quoted as msrest quotes it.
    target = f"{recorder.url()}v3/conversations/a%3Apersonal-worker/activities"
    assert [(method, url) for method, url, _ in proxy.seen] == [("POST", target)] * 3 + [
        ("POST", f"{target}/f%3A1")
    ]
    assert {headers["proxy-authorization"] for _, _, headers in proxy.seen} == {SECRET}
    # Looked up once for the host, on a worker thread; never again by aiohttp for each request.
    assert ours.hosts == ["127.0.0.1"] and aiohttps.hosts == []


async def test_no_proxy_sends_the_posts_straight_to_the_connector(
    recorder: Recorder, cache: ConnectorCache, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url())
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    conversations = await direct(cache, recorder.url())
    response = await conversations.send_to_conversation(CHAT, message())
    assert response.id == "r-1" and len(recorder.seen) == 1
    assert proxy.seen == []


async def test_an_https_connector_is_reached_through_the_proxys_tunnel(
    cache: ConnectorCache, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url("proxy-user:proxy-secret@"))
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # not for https
    conversations = await direct(cache, "https://127.0.0.1:9443/uk/")
    with pytest.raises(DELIVERY_ERRORS):  # the proxy refuses to open the tunnel
        await conversations.send_to_conversation(CHAT, message())
    [(method, target, headers)] = proxy.seen
    assert (method, target) == ("CONNECT", "127.0.0.1:9443")
    assert headers["proxy-authorization"] == SECRET


# -- The session's lifetime ----------------------------------------------------------------------


async def test_after_close_a_send_is_a_delivery_error(connector: StubConnector) -> None:
    cache = ConnectorCache()
    conversations = await direct(cache, connector.service_url)
    await conversations.send_to_conversation(CHAT, message())
    await cache.close()
    await cache.close()
    with pytest.raises(DELIVERY_ERRORS):
        await conversations.send_to_conversation(CHAT, message())


async def test_an_app_that_stops_leaves_no_session_open(
    tmp_path: Path, connector: StubConnector, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="asyncio")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            served = await serve(make_settings(tmp_path), memory_stores())
            worker = HttpChat(served, connector, user="worker", name="Sam Worker")
            assert await worker.says("help") == 201
            await served.session.close()
            await served.server.close()
            del served, worker
        gc.collect()
    assert len(connector.posted) == 3
    assert not [w for w in caught if "Unclosed" in str(w.message)]
    assert "Unclosed" not in caplog.text
