"""One connector client per service URL, reused across turns (the SDK builds one per turn).

Also one user-token client per app id, for the same reason.

Building a botframework ConnectorClient costs about 5 ms of CPU (msrest's retry policy rebuilds a
999-item list each time) and each new client opens a new HTTP connection. Reusing the client
keeps its connection pool and its credentials' token cache.
"""

from typing import Any

from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    ClaimsIdentity,
    ConnectorFactory,
    JwtTokenValidation,
    UserTokenClient,
)


class ConnectorCache:
    """Keeps the connector clients the bot has made, by service URL and audience."""

    def __init__(self) -> None:
        self._clients: dict[tuple[str, str | None], ConnectorClient] = {}

    def wrap(self, factory: ConnectorFactory) -> ConnectorFactory:
        """Gives a factory that hands out the cached client, making it once through factory."""
        return _CachedFactory(factory, self._clients)

    def __len__(self) -> int:
        return len(self._clients)


class _CachedFactory(ConnectorFactory):
    def __init__(
        self, inner: ConnectorFactory, clients: dict[tuple[str, str | None], ConnectorClient]
    ) -> None:
        self._inner = inner
        self._clients = clients

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        key = (service_url, audience)
        client = self._clients.get(key)
        if client is None:
            client = await self._inner.create(service_url, audience)
            retry = client.config.retry_policy.policy
            # urllib3 checks `status in status_forcelist` on every response: a set, not a list.
            retry.status_forcelist = frozenset(retry.status_forcelist)
            self._clients[key] = client
        return client


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
