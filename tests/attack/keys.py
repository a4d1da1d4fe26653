"""A Bot Framework key server on loopback, and tokens signed the way the Bot Framework signs them.

The SDK checks a channel token against the OpenID metadata at SAFESESSION_OPENID_METADATA_URL:
RS256 with a key from its JWKS that is endorsed for the activity's channel, `iss`
https://api.botframework.com, `aud` the bot's app id, `serviceurl` the activity's serviceUrl,
and not expired (5 minutes' leeway).
"""

import asyncio
import threading
import time
import uuid
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

APP_ID = "11111111-2222-4333-8444-555555555555"
CREDENTIALS = {"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "synthetic-secret"}
ISSUER = "https://api.botframework.com"


def new_key() -> rsa.RSAPrivateKey:
    """A fresh 2048-bit RSA key (made here, never stored)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# Made once: key generation is the slow part.
SIGNING_KEY = new_key()
STRANGER_KEY = new_key()


class KeyServer:
    """Serves OpenID configuration and a JWKS from its own thread, as a remote server would.

    The SDK caches keys by metadata URL for a day, process-wide: a fresh path per server keeps one
    test's keys from answering for another's.
    """

    def __init__(self) -> None:
        self.kid = f"kid-{uuid.uuid4().hex[:8]}"
        self.unendorsed_kid = f"kid-{uuid.uuid4().hex[:8]}"
        self.fetches = 0
        self.delay = 0.0
        self._path = f"/{uuid.uuid4().hex}"
        self._base = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> None:
        """Listens on a free loopback port, on a thread and event loop of its own."""
        app = web.Application()
        app.router.add_get(f"{self._path}/.well-known/openidconfiguration", self._metadata)
        app.router.add_get(f"{self._path}/keys", self._keys)
        self._runner = web.AppRunner(app, access_log=None)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=10)

    async def _listen(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self._base = f"http://127.0.0.1:{port}{self._path}"

    def stop(self) -> None:
        """Closes the server and its thread."""
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    @property
    def metadata_url(self) -> str:
        """What SAFESESSION_OPENID_METADATA_URL points at."""
        return f"{self._base}/.well-known/openidconfiguration"

    async def _metadata(self, _request: web.Request) -> web.Response:
        self.fetches += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.json_response(
            {
                "issuer": ISSUER,
                "jwks_uri": f"{self._base}/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def _keys(self, _request: web.Request) -> web.Response:
        public = SIGNING_KEY.public_key()
        endorsed = {**_jwk(public), "kid": self.kid, "endorsements": ["msteams"]}
        # Real Bot Framework keys list the channels they may sign for; this one is not Teams.
        other = {**_jwk(public), "kid": self.unendorsed_kid, "endorsements": ["webchat"]}
        return web.json_response({"keys": [endorsed, other]})


def _jwk(public_key: rsa.RSAPublicKey) -> dict[str, Any]:
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(public_key, as_dict=True)
    return {**jwk, "use": "sig", "kty": "RSA"}


def claims(service_url: str, **changes: Any) -> dict[str, Any]:
    """The claims of a channel token for this bot, valid for an hour from now."""
    now = int(time.time())
    return {
        "iss": ISSUER,
        "aud": APP_ID,
        "serviceurl": service_url,
        "nbf": now - 60,
        "iat": now - 60,
        "exp": now + 3600,
        **changes,
    }


def sign(
    payload: dict[str, Any], kid: str, key: rsa.RSAPrivateKey = SIGNING_KEY, **headers: Any
) -> str:
    """An RS256 token over the payload, naming the key id."""
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid, **headers})
