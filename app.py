"""Composition root: builds the store, the bot and the web app, and hands them to each other."""

import logging
import os
import sys
from typing import Any

from aiohttp import web
from botbuilder.core import ConversationState
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)

from bot.errors import make_turn_error_handler
from bot.http import MAX_BODY_BYTES, MessagesEndpoint, health_handler
from bot.pipeline import Pipeline
from bot.safesession_bot import SafeSessionBot
from bot.settings import Settings, SettingsError, load_environment
from bot.tenant_gate import TenantGate
from dialogs.journey_dialog import JourneyServices
from dialogs.registry import build_dialogs
from safeguarding.clock import Clock, SystemClock
from safeguarding.installations import Installations
from safeguarding.ports import StoreUnavailable
from safeguarding.records import Records
from storage import Stores, open_embedded
from templates import Templates

log = logging.getLogger("safesession")

STORES = web.AppKey("stores", Stores)
ADAPTER = web.AppKey("adapter", CloudAdapter)
PIPELINE = web.AppKey("pipeline", Pipeline)


class _AuthConfig:
    """The attribute names botbuilder's configuration objects expect."""

    def __init__(self, settings: Settings) -> None:
        self.APP_ID = settings.app_id
        self.APP_PASSWORD = settings.app_password
        self.APP_TYPE = settings.app_type
        self.APP_TENANTID = settings.app_tenant_id


def create_app(
    settings: Settings,
    *,
    stores: Stores | None = None,
    templates: Templates | None = None,
    clock: Clock | None = None,
) -> web.Application:
    """Builds the whole service from settings; tests pass their own stores and clock."""
    stores = stores or open_embedded(settings.data_dir)
    templates = templates or Templates(override_dir=settings.templates_dir)
    authentication = ConfigurationBotFrameworkAuthentication(_AuthConfig(settings))
    adapter = CloudAdapter(authentication)
    conversation_state = ConversationState(stores.bot_storage)
    services = JourneyServices(
        records=Records(stores.documents, clock or SystemClock()),
        templates=templates,
        config=settings.journey_config(),
    )
    bot = SafeSessionBot(
        conversation_state=conversation_state,
        dialogs=build_dialogs(conversation_state, services),
        installations=Installations(stores.documents),
        services=services,
    )
    pipeline = Pipeline(
        bot=bot,
        middleware=(TenantGate(allowed=settings.allowed_tenants, templates=templates),),
        on_turn_error=make_turn_error_handler(
            templates=templates, conversation_state=conversation_state
        ),
    )
    pipeline.attach(adapter)
    endpoint = MessagesEndpoint(
        adapter=adapter,
        authentication=authentication,
        bot=bot,
        require_token=settings.authenticates,
    )
    # One byte over the limit lets the handler tell "too large" from a body read error.
    app = web.Application(client_max_size=MAX_BODY_BYTES + 1)
    app[STORES] = stores
    app[ADAPTER] = adapter
    app[PIPELINE] = pipeline
    app.router.add_post("/api/messages", endpoint.handle)
    app.router.add_get("/healthz", health_handler(stores.documents))
    app.on_cleanup.append(_closer(stores))
    return app


def _closer(stores: Stores) -> Any:
    async def close(_app: web.Application) -> None:
        stores.close()

    return close


def main(environ: dict[str, str]) -> int:
    """Starts the bot, or explains exactly which settings are missing."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = Settings.from_env(load_environment(environ))
    except SettingsError as error:
        print(f"safesession: {error}", file=sys.stderr)
        return 2
    if settings.local:
        log.warning(
            "LOCAL MODE: SAFESESSION_LOCAL=1 — Bot Framework authentication is OFF; "
            "listening on %s only. Never use this with real data.",
            settings.host,
        )
    try:
        app = create_app(settings)
    except StoreUnavailable as error:
        print(f"safesession: {error}", file=sys.stderr)
        return 3
    web.run_app(app, host=settings.host, port=settings.port, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main(dict(os.environ)))
