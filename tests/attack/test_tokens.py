"""Tokens over real HTTP: only one the Bot Framework signed for this bot runs a turn.

The signing keys come from a key server on loopback (SAFESESSION_OPENID_METADATA_URL), so the
SDK's own verification runs exactly as it does against login.botframework.com.
"""

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from botframework.connector.auth import MicrosoftAppCredentials

from tests.attack.conftest import Site, SiteFactory
from tests.attack.keys import (
    CREDENTIALS,
    STRANGER_KEY,
    KeyServer,
    claims,
    sign,
)
from tests.transcript import FIXTURES

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def keys() -> Iterator[KeyServer]:
    server = KeyServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def secured(open_site: SiteFactory, keys: KeyServer, monkeypatch: pytest.MonkeyPatch) -> Site:
    """The bot with credentials, trusting the loopback key server."""
    # Replies need the bot's own token from Entra ID; outbound network is off in tests.
    monkeypatch.setattr(
        MicrosoftAppCredentials, "get_access_token", lambda self, force_refresh=False: "outbound"
    )
    return await open_site(**CREDENTIALS, SAFESESSION_OPENID_METADATA_URL=keys.metadata_url)


def message(site: Site) -> dict[str, Any]:
    """The worker types `help` in their personal chat."""
    payload: dict[str, Any] = json.loads((FIXTURES / "personal_message.json").read_text())
    payload.update(serviceUrl=site.connector.service_url, id=f"m-{uuid.uuid4().hex}")
    return payload


async def post(site: Site, payload: dict[str, Any], token: str | None) -> int:
    headers = {**JSON, **({"Authorization": f"Bearer {token}"} if token else {})}
    async with site.served.session.post(
        site.served.url("/api/messages"), data=json.dumps(payload), headers=headers
    ) as response:
        return response.status


async def assert_nothing_processed(site: Site, files_before: dict[str, str]) -> None:
    assert site.connector.posted == []
    assert site.connector.updated == []
    assert site.store_files() == files_before
    assert all(records == [] for records in (await site.stored()).values())


async def test_a_token_the_bot_framework_signed_runs_the_turn(
    secured: Site, keys: KeyServer
) -> None:
    payload = message(secured)
    token = sign(claims(payload["serviceUrl"]), keys.kid)
    files_before = secured.store_files()
    assert await post(secured, payload, token) == 201
    assert secured.connector.card_names() == ["help"]
    assert secured.store_files() != files_before
    assert await secured.documents("personal_chats") != []
    assert keys.fetches == 1


def unsigned(payload: dict[str, Any], **header: str) -> str:
    """A JWT with `alg: none` and no signature, as an attacker without the key would send."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT', **header})}.{part(payload)}."


def forged(keys: KeyServer, service_url: str, case: str) -> str:
    """A token with exactly one thing wrong."""
    good = claims(service_url)
    if case == "bad signature":
        return sign(good, keys.kid, key=STRANGER_KEY)
    if case == "wrong issuer":
        return sign(claims(service_url, iss="https://login.example.org"), keys.kid)
    if case == "wrong audience":
        return sign(claims(service_url, aud="99999999-2222-4333-8444-555555555555"), keys.kid)
    if case == "expired":
        an_hour_ago = int(time.time()) - 3600
        return sign(claims(service_url, exp=an_hour_ago, nbf=an_hour_ago - 60), keys.kid)
    if case == "alg none":
        return unsigned(good)
    if case == "alg none naming a real key":
        return unsigned(good, kid=keys.kid)
    if case == "HS256 keyed with the public key":
        public = json.dumps(jwt.algorithms.RSAAlgorithm.to_jwk(STRANGER_KEY.public_key()))
        return jwt.encode(good, public, algorithm="HS256", headers={"kid": keys.kid})
    if case == "another serviceUrl":
        return sign(claims("https://smba.example.org/elsewhere/"), keys.kid)
    if case == "key not endorsed for Teams":
        return sign(good, keys.unendorsed_kid)
    if case == "unknown key id":
        return sign(good, "kid-nobody-knows")
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    [
        "bad signature",
        "wrong issuer",
        "wrong audience",
        "expired",
        "alg none",
        "alg none naming a real key",
        "HS256 keyed with the public key",
        "another serviceUrl",
        "key not endorsed for Teams",
        "unknown key id",
    ],
)
async def test_a_forged_token_is_401_and_nothing_is_processed(
    secured: Site, keys: KeyServer, case: str
) -> None:
    payload = message(secured)
    files_before = secured.store_files()
    assert await post(secured, payload, forged(keys, payload["serviceUrl"], case)) == 401
    await assert_nothing_processed(secured, files_before)


async def test_a_slow_key_server_does_not_hold_up_anyone_else(
    secured: Site, keys: KeyServer
) -> None:
    keys.delay = 1.0
    payload = message(secured)
    token = sign(claims(payload["serviceUrl"]), keys.kid)
    started = time.monotonic()
    turn = asyncio.create_task(post(secured, payload, token))
    await asyncio.sleep(0.2)  # the key fetch has begun, and takes a second
    async with secured.served.session.get(secured.served.url("/healthz")) as response:
        assert response.status == 200
    assert time.monotonic() - started < 0.7
    assert await turn == 201
    assert keys.fetches == 1
