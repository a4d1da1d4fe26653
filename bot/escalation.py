"""Emergency escalation to the manager channel (D1): post at once, chase until acknowledged."""

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import Activity

from bot.errors import DeliveryFailed
from bot.proactive import Outreach
from dialogs.cards import card_message
from dialogs.journey_dialog import worker_id
from safeguarding.clock import format_london, to_london
from safeguarding.escalations import (
    CONFIG,
    ESCALATIONS,
    KIND_TITLES,
    KINDS,
    MANAGER_CHANNEL_KEY,
    channel_view,
    delivery_key,
    is_open,
    new_reference,
    renotify_at,
    renotify_key,
)
from safeguarding.journey import answer_of
from safeguarding.ports import Document, Job
from safeguarding.records import SESSIONS
from safeguarding.scheduler import RetryLater

log = logging.getLogger("safesession.escalation")

DELIVER = "deliver_escalation"
RENOTIFY = "renotify_escalation"
FIRST_RETRY_SECONDS = 30.0


@dataclass(frozen=True)
class EscalationPolicy:
    """Who counts as a manager, and how hard to chase."""

    managers: Mapping[str, str]
    admins: frozenset[str]
    renotify_minutes: float
    renotify_tries: int
    on_call_number: str

    def is_manager(self, user_id: str) -> bool:
        """Managers (and admins) may see locations and resolve escalations."""
        return user_id in self.managers or user_id in self.admins


class Escalations:
    """Raises, delivers, chases, acknowledges and resolves emergencies."""

    def __init__(
        self,
        *,
        outreach: Outreach,
        policy: EscalationPolicy,
        on_session_emergency: Callable[[Document], Awaitable[None]] | None = None,
    ) -> None:
        self._records = outreach.records
        self._messenger = outreach.messenger
        self._scheduler = outreach.scheduler
        self._chats = outreach.chats
        self._templates = outreach.templates
        self._policy = policy
        # Told about an emergency raised from a session, for the worker's after-care (D2).
        self._on_session_emergency = on_session_emergency
        self._scheduler.handle(DELIVER, self._deliver_job)
        self._scheduler.handle(RENOTIFY, self._renotify_job)

    # -- the worker's side ------------------------------------------------------------

    async def raise_emergency(self, turn_context: TurnContext, *, session_key: str = "") -> None:
        """Posts to the manager channel now, tells the worker, and schedules the chasing."""
        escalation = await self._create(turn_context, session_key)
        await self._scheduler.schedule(
            key=delivery_key(escalation["key"]),
            kind=DELIVER,
            due_at=self._records.now() + _seconds(FIRST_RETRY_SECONDS),
            payload={"escalation": escalation["key"]},
        )
        await self._schedule_renotify(escalation, attempt=1)
        delivered = await self._post_to_channel(escalation)
        if delivered:
            await self._scheduler.cancel(delivery_key(escalation["key"]))
        profile = await self._records.worker(escalation["worker"])
        template = "emergency_sent" if delivered else "emergency_not_delivered"
        await turn_context.send_activity(
            self._templates.text(template, **self._worker_context(escalation, profile))
        )
        await self._send_card(
            turn_context, "emergency_kind", escalation=escalation["key"], kinds=KINDS
        )
        if escalation["session_key"] and self._on_session_emergency is not None:
            await self._on_session_emergency(escalation)

    async def record_kind(self, turn_context: TurnContext, value: dict[str, Any]) -> None:
        """Stores what kind of emergency it is and updates the channel card."""
        escalation = await self._own_escalation(turn_context, value)
        kind = value.get("kind")
        if escalation is None or kind not in KIND_TITLES:
            await turn_context.send_activity(self._templates.text("card_not_understood"))
            return
        escalation = await self._update(escalation, {"kind": kind}, actor=worker_id(turn_context))
        await self._refresh_card(escalation)
        await turn_context.send_activity(
            self._templates.text("emergency_kind_recorded", kind=KIND_TITLES[kind])
        )

    # -- the managers' side -----------------------------------------------------------

    async def acknowledge(self, turn_context: TurnContext, value: dict[str, Any]) -> None:
        """Marks the escalation as in hand, for everyone in the channel and for the worker."""
        escalation = await self._escalation(value)
        if escalation is None:
            await turn_context.send_activity(self._templates.text("card_not_understood"))
            return
        if not is_open(escalation):
            await turn_context.send_activity(
                self._templates.text("already_acknowledged", **channel_view(escalation))
            )
            return
        sender = turn_context.activity.from_property
        now = self._records.now()
        escalation = await self._update(
            escalation,
            {
                "status": "acknowledged",
                "acknowledged_by": worker_id(turn_context),
                "acknowledged_by_name": sender.name or "a manager",
                "acknowledged_at": now.isoformat(),
                "acknowledged_at_text": _clock_time(now),
            },
            actor=worker_id(turn_context),
        )
        await self._cancel_renotify(escalation)
        await self._refresh_card(escalation, turn_context=turn_context)
        await self._tell_worker(escalation, "emergency_acknowledged")

    async def show_location(self, turn_context: TurnContext, value: dict[str, Any]) -> None:
        """Sends the address given at session start to this manager privately, and records it."""
        escalation = await self._escalation(value)
        viewer = worker_id(turn_context)
        if escalation is None:
            await turn_context.send_activity(self._templates.text("card_not_understood"))
            return
        if not self._policy.is_manager(viewer):
            await self._records.audit(
                actor=viewer,
                action="refused",
                record=f"{ESCALATIONS}/{escalation['key']}",
                field="address_today",
            )
            await turn_context.send_activity(self._templates.text("location_managers_only"))
            return
        address = await self._address(escalation)
        private = await self._chats.reference(viewer)
        if private is None:
            await turn_context.send_activity(self._templates.text("location_need_personal_chat"))
            return
        text = self._templates.text(
            "location_private",
            key=escalation["key"],
            address=address,
            case_reference=escalation.get("case_reference") or "none recorded",
        )
        message = MessageFactory.text(text)
        message.text_format = "plain"  # the address exactly as typed, never read as markdown
        await self._messenger.send(private, message)
        await self._records.audit(
            actor=viewer,
            action="view_location",
            record=f"{ESCALATIONS}/{escalation['key']}",
            field="address_today",
            clause="C2",
        )
        name = turn_context.activity.from_property.name or "the manager"
        await turn_context.send_activity(self._templates.text("location_sent", name=name))

    async def resolve(self, turn_context: TurnContext, value: dict[str, Any]) -> None:
        """Closes the escalation with the manager's outcome note."""
        escalation = await self._escalation(value)
        actor = worker_id(turn_context)
        if escalation is None:
            await turn_context.send_activity(self._templates.text("card_not_understood"))
            return
        if not self._policy.is_manager(actor):
            await turn_context.send_activity(self._templates.text("resolve_managers_only"))
            return
        note = value.get("outcome")
        if not isinstance(note, str) or not note.strip():
            await turn_context.send_activity(self._templates.text("resolve_needs_note"))
            return
        now = self._records.now()
        escalation = await self._update(
            escalation,
            {
                "status": "resolved",
                "resolved_by": actor,
                "resolved_by_name": turn_context.activity.from_property.name or "a manager",
                "resolved_at": now.isoformat(),
                "outcome_note": note.strip()[:2000],
            },
            actor=actor,
        )
        await self._cancel_renotify(escalation)
        await self._refresh_card(escalation, turn_context=turn_context)
        await self._tell_worker(escalation, "emergency_resolved")

    # -- jobs ---------------------------------------------------------------------------

    async def _deliver_job(self, job: Job) -> None:
        escalation = await self._records.load(collection=ESCALATIONS, key=job.payload["escalation"])
        if escalation is None or escalation.get("channel_activity_id"):
            return
        if not await self._post_to_channel(escalation):
            raise RetryLater()
        await self._tell_worker(escalation, "emergency_delivered_late")

    async def _renotify_job(self, job: Job) -> None:
        escalation = await self._records.load(collection=ESCALATIONS, key=job.payload["escalation"])
        if escalation is None or not is_open(escalation):
            return
        attempt = int(job.payload["attempt"])
        escalation = await self._update(escalation, {"renotified": attempt}, actor="scheduler")
        channel_reached = await self._post_reminder(escalation)
        manager_reached = await self._tell_line_manager(escalation)
        last = attempt >= self._policy.renotify_tries
        template = "emergency_phone_on_call" if last else "emergency_chased"
        await self._tell_worker(
            escalation,
            template,
            channel_reached=channel_reached,
            manager_reached=manager_reached,
        )
        if not last:
            await self._schedule_renotify(escalation, attempt=attempt + 1)

    # -- helpers ------------------------------------------------------------------------

    async def _create(self, turn_context: TurnContext, session_key: str) -> Document:
        actor = worker_id(turn_context)
        session = await self._current_session(actor, session_key)
        profile = await self._records.worker(actor)
        now = self._records.now()
        reference = TurnContext.get_conversation_reference(turn_context.activity).serialize()
        return await self._records.create(
            collection=ESCALATIONS,
            key=new_reference("E"),
            actor=actor,
            fields={
                "worker": actor,
                "worker_name": turn_context.activity.from_property.name or "A worker",
                "worker_teams_id": turn_context.activity.from_property.id,
                "worker_reference": reference,
                "raised_at": now.isoformat(),
                "raised_at_text": _clock_time(now),
                "session_key": session["key"] if session else "",
                "case_reference": answer_of(session, "case_reference") if session else "",
                "kind": None,
                "callback_number": answer_of(profile, "work_mobile") or "",
                "status": "raised",
            },
        )

    async def _current_session(self, actor: str, session_key: str) -> Document | None:
        if session_key:
            session = await self._records.load(collection=SESSIONS, key=session_key)
            if session and session.get("owner") == actor:
                return session
            # The alert still goes out, without the session someone else's card named.
            await self._records.audit(
                actor=actor,
                action="refused",
                record=f"{SESSIONS}/{session['key'] if session else 'unknown'}",
                field="emergency",
            )
            return None
        started = await self._records.find(collection=SESSIONS, owner=actor, status="started")
        return max(started, key=lambda s: s.get("started_at", "")) if started else None

    async def _post_to_channel(self, escalation: Document) -> bool:
        channel = await self._records.load(collection=CONFIG, key=MANAGER_CHANNEL_KEY)
        if channel is None:
            log.error("escalation %s: no manager channel is set", escalation["key"])
            return False
        try:
            activity_id = await self._messenger.send(channel["reference"], self._card(escalation))
        except DeliveryFailed:
            log.error("escalation %s: the manager channel could not be reached", escalation["key"])
            return False
        await self._update(
            escalation,
            {
                "status": "posted" if escalation["status"] == "raised" else escalation["status"],
                "channel_activity_id": activity_id,
                "posted_at": self._records.now().isoformat(),
            },
            actor="scheduler",
        )
        return True

    async def _post_reminder(self, escalation: Document) -> bool:
        channel = await self._records.load(collection=CONFIG, key=MANAGER_CHANNEL_KEY)
        if channel is None:
            return False
        try:
            await self._messenger.send(channel["reference"], self._card(escalation))
        except DeliveryFailed:
            return False
        return True

    async def _tell_line_manager(self, escalation: Document) -> bool:
        profile = await self._records.worker(escalation["worker"])
        manager = answer_of(profile, "line_manager")
        reference = await self._chats.reference(manager) if manager else None
        if reference is None:
            return False
        text = self._templates.text("renotify_line_manager", **channel_view(escalation))
        try:
            await self._messenger.send(reference, MessageFactory.text(text))
        except DeliveryFailed:
            return False
        return True

    async def _tell_worker(self, escalation: Document, template: str, **extra: Any) -> None:
        profile = await self._records.worker(escalation["worker"])
        text = self._templates.text(template, **self._worker_context(escalation, profile), **extra)
        try:
            await self._messenger.send(escalation["worker_reference"], MessageFactory.text(text))
        except DeliveryFailed:
            log.error("escalation %s: could not reach the worker", escalation["key"])

    async def _refresh_card(
        self, escalation: Document, *, turn_context: TurnContext | None = None
    ) -> None:
        activity_id = escalation.get("channel_activity_id")
        channel = await self._records.load(collection=CONFIG, key=MANAGER_CHANNEL_KEY)
        if not activity_id or channel is None:
            return
        try:
            await self._messenger.update(channel["reference"], activity_id, self._card(escalation))
        except DeliveryFailed:
            log.error("escalation %s: could not update the channel card", escalation["key"])

    def _card(self, escalation: Document) -> Activity:
        view = channel_view(escalation)
        card = self._templates.card("escalation", **view)
        return card_message(card, "escalation")

    async def _address(self, escalation: Document) -> str:
        session_key = escalation.get("session_key")
        session = (
            await self._records.load(collection=SESSIONS, key=session_key) if session_key else None
        )
        address = answer_of(session, "address_today") if session else None
        if not address:
            return self._templates.text("location_not_recorded")
        return ", ".join([*address["lines"], address["postcode"]])

    async def _escalation(self, value: dict[str, Any]) -> Document | None:
        key = value.get("escalation")
        if not isinstance(key, str):
            return None
        return await self._records.load(collection=ESCALATIONS, key=key)

    async def _own_escalation(
        self, turn_context: TurnContext, value: dict[str, Any]
    ) -> Document | None:
        escalation = await self._escalation(value)
        if escalation is None or escalation["worker"] != worker_id(turn_context):
            await self._records.audit(
                actor=worker_id(turn_context),
                action="refused",
                record=f"{ESCALATIONS}/{escalation['key'] if escalation else 'unknown'}",
                field=str(value.get("action") or ""),
            )
            return None
        return escalation

    async def _update(
        self, escalation: Document, changes: dict[str, Any], *, actor: str
    ) -> Document:
        fresh = (
            await self._records.load(collection=ESCALATIONS, key=escalation["key"]) or escalation
        )
        return await self._records.update(
            collection=ESCALATIONS, record=fresh, changes=changes, actor=actor
        )

    async def _schedule_renotify(self, escalation: Document, *, attempt: int) -> None:
        raised = datetime.fromisoformat(escalation["raised_at"])
        await self._scheduler.schedule(
            key=renotify_key(escalation["key"], attempt),
            kind=RENOTIFY,
            due_at=renotify_at(raised, minutes=self._policy.renotify_minutes, attempt=attempt),
            payload={"escalation": escalation["key"], "attempt": attempt},
        )

    async def _cancel_renotify(self, escalation: Document) -> None:
        for attempt in range(1, self._policy.renotify_tries + 1):
            await self._scheduler.cancel(renotify_key(escalation["key"], attempt))
        await self._scheduler.cancel(delivery_key(escalation["key"]))

    def _worker_context(self, escalation: Document, profile: Document) -> dict[str, Any]:
        return {
            **channel_view(escalation),
            "line_manager_name": answer_of(profile, "line_manager_name") or "your line manager",
            "line_manager_phone": answer_of(profile, "line_manager_phone") or "",
            "on_call_number": self._policy.on_call_number,
        }

    async def _send_card(self, turn_context: TurnContext, name: str, **context: Any) -> None:
        await turn_context.send_activity(card_message(self._templates.card(name, **context), name))


def _clock_time(moment: datetime) -> str:
    return f"{to_london(moment):%H:%M} on {format_london(moment).split(',')[0]}"


def _seconds(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)
