"""The HTTP edge over real HTTP on loopback: a client's mistake is a 4xx, never a 500."""

import base64
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from templates import Templates
from tests.conftest import Served, make_settings, serve
from tests.stub_connector import StubConnector
from tests.transcript import FIXTURES, TENANT

CREDENTIALS = {
    "MicrosoftAppId": "11111111-2222-4333-8444-555555555555",
    "MicrosoftAppPassword": "synthetic-secret",
}


def activity(service_url: str = "http://127.0.0.1:9/", **overrides: Any) -> dict[str, Any]:
    """A personal-chat message from the worker, as Teams posts it."""
    payload: dict[str, Any] = json.loads((FIXTURES / "personal_message.json").read_text())
    payload["serviceUrl"] = service_url
    payload.update(overrides)
    return payload


@pytest.fixture
async def local(tmp_path: Path, stores: Any) -> AsyncIterator[Served]:
    """The app in local mode (no authentication)."""
    served = await serve(make_settings(tmp_path), stores)
    yield served
    await served.session.close()
    await served.server.close()


@pytest.fixture
async def secured(tmp_path: Path, stores: Any) -> AsyncIterator[Served]:
    """The app with Bot Framework credentials, so every request needs a valid token."""
    served = await serve(make_settings(tmp_path, **CREDENTIALS), stores)
    yield served
    await served.session.close()
    await served.server.close()


async def post(served: Served, body: bytes, **headers: str) -> tuple[int, dict[str, Any]]:
    async with served.session.post(
        served.url("/api/messages"), data=body, headers=headers
    ) as response:
        return response.status, await response.json(content_type=None)


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/jsonp"]
)
async def test_wrong_or_missing_content_type_is_415(
    local: Served, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    status, body = await post(local, json.dumps(activity()).encode(), **headers)
    assert status == 415
    assert "application/json" in body["error"]


@pytest.mark.parametrize("raw", [b"{", b"not json", b"\xff\xfe\x00", b""])
async def test_malformed_json_is_400(local: Served, raw: bytes) -> None:
    status, body = await post(local, raw, **JSON)
    assert status == 400
    assert body["error"] == "body is not valid JSON"


async def test_body_over_256_kib_is_413(local: Served) -> None:
    big = activity(text="x" * (256 * 1024))
    status, _ = await post(local, json.dumps(big).encode(), **JSON)
    assert status == 413


async def test_body_over_256_kib_without_content_length_is_413(local: Served) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(300):
            yield b" " * 1024

    async with local.session.post(
        local.url("/api/messages"), data=chunks(), headers=JSON
    ) as response:
        assert response.status == 413


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"type": None}, "activity has no type"),
        ({"type": ""}, "activity has no type"),
        ({"conversation": None}, "activity has no conversation id"),
        ({"conversation": {"name": "x"}}, "activity has no conversation id"),
        ({"conversation": {"id": ""}}, "activity has no conversation id"),
        ({"conversation": {"id": ".."}}, "activity has no conversation id"),
        ({"conversation": {"id": "a:1\x1f"}}, "activity has no conversation id"),
        ({"conversation": {"id": "a:1\r\nX-Injected: 1"}}, "activity has no conversation id"),
        ({"serviceUrl": None}, "activity has no serviceUrl"),
        ({"serviceUrl": "ftp://127.0.0.1/"}, "activity has no serviceUrl"),
    ],
)
async def test_activity_without_required_fields_is_400(
    local: Served, change: dict[str, Any], reason: str
) -> None:
    payload = {key: value for key, value in {**activity(), **change}.items() if value is not None}
    status, body = await post(local, json.dumps(payload).encode(), **JSON)
    assert (status, body["error"]) == (400, reason)


@pytest.mark.parametrize("payload", [[], "text", 7, None])
async def test_json_that_is_not_an_activity_is_400(local: Served, payload: Any) -> None:
    status, _ = await post(local, json.dumps(payload).encode(), **JSON)
    assert status == 400


def unsigned_token() -> str:
    """A well-formed JWT with alg none, as an attacker without the key would send."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = {"iss": "https://api.botframework.com", "aud": CREDENTIALS["MicrosoftAppId"]}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer abc", "Basic dXNlcjpwYXNz", "Bearer a.b.c", "bearer x"],
)
async def test_missing_or_bogus_token_is_401_when_credentials_are_set(
    secured: Served, connector: StubConnector, authorization: str | None
) -> None:
    headers = dict(JSON)
    if authorization is not None:
        headers["Authorization"] = authorization
    status, _ = await post(secured, json.dumps(activity(connector.service_url)).encode(), **headers)
    assert status == 401
    assert connector.posted == []


async def test_unsigned_token_is_401_and_nothing_is_processed(
    secured: Served, connector: StubConnector
) -> None:
    headers = {**JSON, "Authorization": f"Bearer {unsigned_token()}"}
    status, _ = await post(secured, json.dumps(activity(connector.service_url)).encode(), **headers)
    assert status == 401
    assert connector.posted == []


async def test_a_good_request_runs_a_turn_and_the_reply_reaches_the_connector(
    local: Served, connector: StubConnector
) -> None:
    status, _ = await post(local, json.dumps(activity(connector.service_url)).encode(), **JSON)
    assert status == 201
    assert connector.card_names() == ["help"]


async def test_foreign_tenant_is_refused_and_nothing_is_stored(
    tmp_path: Path, stores: Any, connector: StubConnector
) -> None:
    served = await serve(
        make_settings(tmp_path, SAFESESSION_ALLOWED_TENANTS=f"{TENANT}, other-tenant"), stores
    )
    try:
        foreign = {
            "tenantId": "99999999-0000-4000-8000-000000000000",
            "conversationType": "personal",
            "id": "a:foreign-1",
        }
        message = activity(
            connector.service_url,
            conversation=foreign,
            channelData={"tenant": {"id": foreign["tenantId"]}},
        )
        install = json.loads((FIXTURES / "install_personal.json").read_text())
        install.update(
            serviceUrl=connector.service_url,
            conversation=foreign,
            channelData={"tenant": {"id": foreign["tenantId"]}},
        )
        for payload in (message, install):
            status, _ = await post(served, json.dumps(payload).encode(), **JSON)
            assert status == 201
        assert connector.texts() == [Templates().text("tenant_refused")]
        assert await stores.documents.find(collection="installations") == []
        assert await stores.bot_storage.read(["msteams/conversations/a:foreign-1"]) == {}

        allowed = activity(connector.service_url)
        status, _ = await post(served, json.dumps(allowed).encode(), **JSON)
        assert status == 201
        assert connector.card_names() == ["help"]
    finally:
        await served.session.close()
        await served.server.close()


async def test_healthz_reports_the_store(local: Served) -> None:
    async with local.session.get(local.url("/healthz")) as response:
        assert response.status == 200
        body = await response.json()
    assert body["status"] == "ok"
    assert body["store"]["ok"] is True


async def test_an_unreachable_connector_is_502_not_500(local: Served) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    status, body = await post(local, json.dumps(activity(closed)).encode(), **JSON)
    assert status == 502
    assert body["error"] == "the reply could not be delivered to the channel"


@pytest.mark.parametrize("members", [[None], ["28:bot"], [{"name": "no id"}], {"id": "x"}])
async def test_members_that_are_not_accounts_are_400(local: Served, members: Any) -> None:
    update = json.loads((FIXTURES / "bot_added_personal.json").read_text())
    update["membersAdded"] = members
    status, body = await post(local, json.dumps(update).encode(), **JSON)
    assert (status, body["error"]) == (400, "membersAdded must be a list of accounts with ids")


@pytest.mark.parametrize(
    "change",
    [
        {"timestamp": "yesterday"},
        {"localTimestamp": "2016-12-31T23:59:60Z"},
        {"entities": {"type": "mention"}},
        {"textHighlights": [{"occurrence": "many"}]},
        {"channelData": {"tenant": TENANT}},
    ],
)
async def test_fields_msrest_cannot_read_are_400(
    local: Served, connector: StubConnector, change: dict[str, Any]
) -> None:
    status, body = await post(
        local, json.dumps(activity(connector.service_url, **change)).encode(), **JSON
    )
    assert (status, body["error"]) == (400, "activity fields have the wrong shape")
    assert connector.posted == []


@pytest.mark.parametrize(
    "change",
    [
        {"localTimestamp": "2026-11-26T09:05:00+0000"},
        {"historyDisclosed": "false"},
        {"channelData": {"tenant": {"id": TENANT}, "deep": json.loads("[" * 40 + "]" * 40)}},
    ],
)
async def test_fields_only_msrest_reads_still_run_a_turn(
    local: Served, connector: StubConnector, change: dict[str, Any]
) -> None:
    """The fast reader leaves these shapes to msrest, which reads them as it always did."""
    status, _ = await post(
        local, json.dumps(activity(connector.service_url, **change)).encode(), **JSON
    )
    assert status == 201
    assert connector.card_names() == ["help"]
