"""Manager approval for medium- or high-risk online work (D5), asked in the manager channel."""

import logging
from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import Activity

from bot.errors import DeliveryFailed
from bot.escalation import EscalationPolicy
from bot.proactive import Outreach
from dialogs.cards import card_message
from dialogs.journey_dialog import worker_id
from safeguarding.escalations import CONFIG, MANAGER_CHANNEL_KEY
from safeguarding.journey import answer_of
from safeguarding.ports import Document, Job
from safeguarding.records import SERVICE_USERS
from safeguarding.scheduler import RetryLater

log = logging.getLogger("safesession.approvals")

DELIVER = "deliver_approval_request"


class Approvals:
    """Posts approval requests to the manager channel and records a manager's decision."""

    def __init__(
        self,
        *,
        outreach: Outreach,
        policy: EscalationPolicy,
    ) -> None:
        self._records = outreach.records
        self._messenger = outreach.messenger
        self._scheduler = outreach.scheduler
        self._chats = outreach.chats
        self._templates = outreach.templates
        self._policy = policy
        self._scheduler.handle(DELIVER, self._deliver_job)

    async def request(self, turn_context: TurnContext, service_user: Document) -> None:
        """Asks the manager channel to approve online work for this service user."""
        if await self._post(service_user, requester_name=turn_context.activity.from_property.name):
            return
        await self._scheduler.schedule(
            key=f"approval:{service_user['key']}",
            kind=DELIVER,
            due_at=self._records.now(),
            payload={
                "case_reference": service_user["key"],
                "requester_name": turn_context.activity.from_property.name or "",
            },
        )
        await turn_context.send_activity(self._templates.text("approval_not_delivered"))

    async def decide(
        self, turn_context: TurnContext, value: dict[str, Any], *, approved: bool
    ) -> None:
        """Records a manager's decision, updates the card and tells the worker."""
        key = value.get("case_reference")
        actor = worker_id(turn_context)
        service_user = (
            await self._records.load(collection=SERVICE_USERS, key=key)
            if isinstance(key, str)
            else None
        )
        if service_user is None or not service_user.get("approval"):
            await turn_context.send_activity(self._templates.text("card_not_understood"))
            return
        if not self._policy.is_manager(actor):
            await turn_context.send_activity(self._templates.text("approval_managers_only"))
            return
        name = turn_context.activity.from_property.name or "a manager"
        now = self._records.now()
        approval = {
            **service_user["approval"],
            "status": "approved" if approved else "declined",
            "decided_by": actor,
            "decided_by_name": name,
            "decided_at": now.isoformat(),
        }
        service_user = await self._records.update(
            collection=SERVICE_USERS,
            record=service_user,
            changes={"approval": approval},
            actor=actor,
        )
        activity_id = approval.get("channel_activity_id")
        channel = await self._records.load(collection=CONFIG, key=MANAGER_CHANNEL_KEY)
        if activity_id and channel:
            try:
                await self._messenger.update(
                    channel["reference"], activity_id, self._card(service_user)
                )
            except DeliveryFailed:
                log.error("approval for %s: could not update the channel card", service_user["key"])
        worker_chat = await self._chats.reference(service_user["owner"])
        if worker_chat is not None:
            template = "approval_granted" if approved else "approval_declined"
            text = self._templates.text(template, case_reference=service_user["key"], name=name)
            try:
                await self._messenger.send(worker_chat, MessageFactory.text(text))
            except DeliveryFailed:
                log.error("approval for %s: could not tell the worker", service_user["key"])

    async def _deliver_job(self, job: Job) -> None:
        service_user = await self._records.load(
            collection=SERVICE_USERS, key=job.payload["case_reference"]
        )
        if service_user is None or (service_user.get("approval") or {}).get("channel_activity_id"):
            return
        if not await self._post(service_user, requester_name=job.payload.get("requester_name")):
            raise RetryLater()

    async def _post(self, service_user: Document, *, requester_name: str | None) -> bool:
        channel = await self._records.load(collection=CONFIG, key=MANAGER_CHANNEL_KEY)
        if channel is None:
            return False
        approval = {
            **(service_user.get("approval") or {}),
            "requester_name": requester_name or "A worker",
        }
        service_user = {**service_user, "approval": approval}
        try:
            activity_id = await self._messenger.send(channel["reference"], self._card(service_user))
        except DeliveryFailed:
            return False
        fresh = (
            await self._records.load(collection=SERVICE_USERS, key=service_user["key"])
            or service_user
        )
        await self._records.update(
            collection=SERVICE_USERS,
            record=fresh,
            changes={"approval": {**approval, "channel_activity_id": activity_id}},
            actor="scheduler",
        )
        return True

    def _card(self, service_user: Document) -> Activity:
        approval = service_user.get("approval") or {}
        card = self._templates.card(
            "approval_request",
            case_reference=service_user["key"],
            risk_level=answer_of(service_user, "risk_level") or "unknown",
            requester_name=approval.get("requester_name", "A worker"),
            status=approval.get("status", "requested"),
            decided_by=approval.get("decided_by_name", ""),
        )
        return card_message(card, "approval_request")
