"""Connector clients are built once per service URL and reused, turn after turn."""

from typing import Any

from bot.connectors import ConnectorCache


class CountingFactory:
    """Stands in for the SDK's per-turn factory and counts the clients it builds."""

    def __init__(self) -> None:
        self.built = 0

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        from botframework.connector.aio import ConnectorClient
        from botframework.connector.auth import MicrosoftAppCredentials

        self.built += 1
        return ConnectorClient(MicrosoftAppCredentials.empty(), base_url=service_url)


async def test_one_client_per_service_url_across_turns() -> None:
    cache = ConnectorCache()
    factory = CountingFactory()
    first = await cache.wrap(factory).create("http://127.0.0.1:1/")
    again = await cache.wrap(CountingFactory()).create("http://127.0.0.1:1/")
    other = await cache.wrap(factory).create("http://127.0.0.1:2/")
    assert first is again and other is not first
    assert factory.built == 2 and len(cache) == 2
    assert isinstance(first.config.retry_policy.policy.status_forcelist, frozenset)
    assert 503 in first.config.retry_policy.policy.status_forcelist
    assert 403 not in first.config.retry_policy.policy.status_forcelist
