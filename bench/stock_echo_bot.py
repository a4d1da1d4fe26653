"""The baseline: botbuilder 4.17.1's own echo bot on CloudAdapter, as the samples write it."""

import sys

from aiohttp import web
from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication


class _Config:
    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


class EchoBot(ActivityHandler):
    """Says back what it was sent."""

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """Echoes the text."""
        await turn_context.send_activity(f"Echo: {turn_context.activity.text}")


def main(port: int) -> None:
    """Serves the echo bot on 127.0.0.1:port."""
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_Config()))
    bot = EchoBot()

    async def messages(request: web.Request) -> web.Response:
        response = await adapter.process(request, bot)
        return response or web.Response(status=201)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main(int(sys.argv[1]))
