"""A connector that answers with something other than JSON (a proxy's error page) is a 502.

The reply could not be delivered: that is the channel's failure, not the bot's, so the worker's
place in their journey is kept and the request is never a 500.
"""

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.attack.conftest import Site


@pytest.fixture
async def error_page() -> AsyncIterator[str]:
    """A server that answers every request with an HTML error page."""

    async def page(_request: web.Request) -> web.Response:
        return web.Response(text="<html>Bad gateway</html>", status=502, content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", page)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/"))
    await server.close()


async def test_an_error_page_from_the_connector_is_a_502_and_keeps_the_journey(
    site: Site, error_page: str
) -> None:
    worker = site.person("worker-1")
    for typed in ("new service user", "CR-8080"):
        assert await worker.says(typed) == 201
    worker.new_replies()
    state_key = "msteams/conversations/a:personal-worker-1"
    state = (await site.stores.bot_storage.read([state_key]))[state_key]["e_tag"]

    assert await worker.post({**worker.activity(text="help"), "serviceUrl": error_page}) == 502
    assert (await site.stores.bot_storage.read([state_key]))[state_key]["e_tag"] == state
    assert await worker.says("Alex Example") == 201
    [service_user] = await site.documents("service_users")
    assert service_user["answers"]["full_name"]["value"] == "Alex Example"
