"""Composition root: builds the store, the bot and the web app, and hands them to each other."""

import asyncio
import gc
import logging
import os
import socket
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from aiohttp import web
from botbuilder.core import ConversationState
from botbuilder.integration.aiohttp import (
    CloudAdapter,
)
from botbuilder.schema import CallerIdConstants
from botframework.connector.auth import AuthenticationConstants
from jinja2 import TemplateError, TemplateSyntaxError

from bot.approvals import Approvals
from bot.case_file import CaseFile
from bot.connectors import ConnectorCache, ReusingAuthentication, tls_context
from bot.errors import make_turn_error_handler
from bot.escalation import EscalationPolicy, Escalations
from bot.http import MAX_BODY_BYTES, MessagesEndpoint, health_handler
from bot.manager_channel import ManagerChannel
from bot.one_contact import OneContact
from bot.pipeline import Pipeline
from bot.proactive import Messenger, Outreach
from bot.rate_limit import RateLimit
from bot.reminders import Reminders
from bot.replay_guard import ReplayGuard
from bot.safesession_bot import SafeSessionBot
from bot.self_care import SelfCare
from bot.session_events import SessionEvents
from bot.settings import Settings, SettingsError, load_environment
from bot.tenant_gate import TenantGate
from dialogs.journey_dialog import JourneyServices
from dialogs.registry import build_dialogs
from safeguarding.care_state import CareStates
from safeguarding.clock import Clock, SystemClock
from safeguarding.installations import Installations, PersonalChats
from safeguarding.ports import StoreUnavailable
from safeguarding.records import Records
from safeguarding.retention import Retention
from safeguarding.scheduler import Scheduler
from storage import Stores, open_embedded, postgres_stores
from storage.encryption import LOCAL_KEY_FILE, Keyring, sealed
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
        if settings.authenticates:
            # Naming the key server switches the SDK to its parameterised authentication, which
            # then needs every value: the public cloud's, with keys from our setting (tests serve
            # their own on loopback). Local mode keeps the SDK's built-in "authentication off".
            self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = settings.openid_metadata_url
            self.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = (
                AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
            )
            self.TO_CHANNEL_FROM_BOT_LOGIN_URL = (
                AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX
            )
            self.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = (
                AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
            )
            self.OAUTH_URL = AuthenticationConstants.OAUTH_URL
            self.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = (
                AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
            )
            self.CALLER_ID = CallerIdConstants.public_azure_channel


def create_app(
    settings: Settings,
    *,
    stores: Stores | None = None,
    templates: Templates | None = None,
    clock: Clock | None = None,
    run_scheduler: bool = True,
) -> web.Application:
    """Builds the whole service from settings; tests pass their own stores and clock."""
    stores = stores or _stores_for(settings)
    templates = templates or Templates(override_dir=settings.templates_dir)
    connectors = ConnectorCache(timeout=settings.delivery_timeout)
    authentication = ReusingAuthentication(_AuthConfig(settings), connectors=connectors)
    adapter = CloudAdapter(authentication)
    conversation_state = ConversationState(stores.bot_storage)
    clock = clock or SystemClock()
    records = Records(stores.documents, clock)
    messenger = Messenger(app_id=settings.app_id, timeout=settings.delivery_timeout)
    scheduler = Scheduler(stores.jobs, clock, worker_id=f"{socket.gethostname()}:{os.getpid()}")
    chats = PersonalChats(stores.documents)
    outreach = Outreach(
        records=records, templates=templates, messenger=messenger, scheduler=scheduler, chats=chats
    )
    care = CareStates(stores.documents)
    self_care = SelfCare(
        outreach=outreach,
        care=care,
        reminders=Reminders(outreach=outreach, care=care),
        policy=settings.self_care_policy(),
    )
    policy = EscalationPolicy(
        managers=dict(settings.managers),
        admins=settings.admins,
        renotify_minutes=settings.renotify_minutes,
        renotify_tries=settings.renotify_tries,
        on_call_number=settings.on_call_number,
    )
    escalations = Escalations(
        outreach=outreach, policy=policy, on_session_emergency=self_care.session_emergency
    )
    approvals = Approvals(outreach=outreach, policy=policy)
    services = JourneyServices(
        records=records,
        templates=templates,
        config=settings.journey_config(),
        on_emergency=escalations.raise_emergency,
        on_approval_needed=approvals.request,
    )
    session_events = SessionEvents(
        services=services,
        outreach=outreach,
        welfare_grace=timedelta(hours=settings.welfare_grace_hours),
        on_hard_ending=self_care.hard_ending,
        on_closed=self_care.session_closed,
    )
    bot = SafeSessionBot(
        conversation_state=conversation_state,
        dialogs=build_dialogs(
            conversation_state,
            services,
            (*session_events.dialogs(), *self_care.dialogs(services)),
        ),
        installations=Installations(stores.documents),
        services=services,
        chats=chats,
        escalations=escalations,
        manager_channel=ManagerChannel(
            records=records, templates=templates, admins=settings.admins
        ),
        approvals=approvals,
        session_events=session_events,
        self_care=self_care,
        one_contact=OneContact(services=services, session_events=session_events),
        case_file=CaseFile(records=records, templates=templates, policy=settings.retention),
    )
    # The nightly purge (one job a day, key purge:<date>); it plans the next night's as it runs.
    retention = Retention(
        documents=stores.documents, records=records, policy=settings.retention, scheduler=scheduler
    )
    pipeline = Pipeline(
        bot=bot,
        # The tenant gate first (a foreign tenant leaves nothing stored), then the flood limit
        # (a dropped activity is not remembered), then each activity id once.
        middleware=(
            TenantGate(allowed=settings.allowed_tenants, templates=templates),
            RateLimit(
                per_minute=settings.rate_limit_per_minute,
                burst=settings.rate_limit_burst,
                clock=clock,
                templates=templates,
            ),
            ReplayGuard(documents=stores.documents, clock=clock),
        ),
        on_turn_error=make_turn_error_handler(
            templates=templates, conversation_state=conversation_state
        ),
        messenger=messenger,
        scheduler=scheduler,
    )
    pipeline.attach(adapter)
    endpoint = MessagesEndpoint(
        adapter=adapter,
        authentication=authentication,
        bot=bot,
        require_token=settings.authenticates,
        connectors=connectors,
    )
    # One byte over the limit lets the handler tell "too large" from a body read error.
    app = web.Application(client_max_size=MAX_BODY_BYTES + 1)
    app[STORES] = stores
    app[ADAPTER] = adapter
    app[PIPELINE] = pipeline
    app.router.add_post("/api/messages", endpoint.handle)
    app.router.add_get("/healthz", health_handler(stores.documents))
    app.on_cleanup.append(_closing(endpoint, connectors))
    app.cleanup_ctx.append(_store_lifetime(stores))  # before the scheduler: open first, close last
    if run_scheduler:
        app.cleanup_ctx.append(_scheduler_loop(scheduler))
        app.on_startup.append(_first_purge(retention))
    return app


def _closing(endpoint: MessagesEndpoint, connectors: ConnectorCache) -> Any:
    """Lets the token-checking threads and the connectors' HTTP session go when the app stops.

    After the scheduler has stopped (cleanup contexts close first), so no delivery is cut off.
    """

    async def close(_app: web.Application) -> None:
        endpoint.close()
        await connectors.close()

    return close


def _first_purge(retention: Retention) -> Any:
    """Plans today's purge once the store is open (after the store's and scheduler's start)."""

    async def plan(_app: web.Application) -> None:
        await retention.plan_first()

    return plan


def _stores_for(settings: Settings) -> Stores:
    """PostgreSQL when DATABASE_URL is set (it connects at start-up), else the embedded store;
    either way every answer and note is sealed with the data key before it is stored."""
    stores = (
        postgres_stores(settings.database_url)
        if settings.database_url
        else open_embedded(settings.data_dir)
    )
    keyring = Keyring.from_setting(
        settings.data_key or _local_data_key(settings), previous=settings.previous_data_key
    )
    return sealed(stores, keyring)


def _local_data_key(settings: Settings) -> str:
    """Local mode only: a key kept beside the data, made on first run (synthetic data only)."""
    path = settings.data_dir / LOCAL_KEY_FILE
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(Keyring.generate())
        path.chmod(0o600)
        log.warning("LOCAL MODE: made a data key in %s; never use it for real data", path)
    return path.read_text().strip()


def _scheduler_loop(scheduler: Scheduler) -> Any:
    """Runs due jobs in the background for as long as the app serves (late ones first)."""

    async def run(_app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(scheduler.run_forever(stop))
        yield
        stop.set()
        await task

    return run


def _store_lifetime(stores: Stores) -> Any:
    """Opens the stores before the first request (PostgreSQL connects here) and closes them last."""

    async def lifetime(_app: web.Application) -> AsyncIterator[None]:
        await stores.open()
        yield
        await stores.aclose()

    return lifetime


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
    templates = Templates(override_dir=settings.templates_dir)
    try:
        templates.warm()
    except TemplateError as error:  # an override that does not compile: say which, now
        where = (
            f"{error.name} line {error.lineno}" if isinstance(error, TemplateSyntaxError) else ""
        )
        print(f"safesession: a template is broken {where}: {error.message}", file=sys.stderr)
        return 2
    try:
        app = create_app(settings, templates=templates)
    except StoreUnavailable as error:
        print(f"safesession: {error}", file=sys.stderr)
        return 3
    tls_context()  # loaded now rather than during the first replies
    # Everything made so far (modules, templates, the app) lives as long as the process: keep it
    # out of the cyclic collector's full passes, which would otherwise stop every turn to walk it.
    gc.collect()
    gc.freeze()
    try:
        web.run_app(app, host=settings.host, port=settings.port, print=None)
    except StoreUnavailable as error:  # PostgreSQL is opened as the app starts
        print(f"safesession: {error}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(dict(os.environ)))
