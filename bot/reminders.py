"""Non-urgent reminders to a worker's own chat, kept inside their working hours (E1).

Every self-care reminder goes through `Reminders.send`: switched off or already sent means
nothing is sent; outside working hours (or while snoozed) it is held as a job until the next
working start, or dropped if it would be stale by then (`safeguarding.self_care.STALE_AFTER`).
Urgent messages never come here: escalations (bot/escalation.py), the welfare-call reminder and
the 5-minute call-back prompt (bot/session_events.py) go straight to the Messenger at any hour.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from botbuilder.core import MessageFactory
from botbuilder.schema import Activity

from bot.errors import DeliveryFailed
from bot.proactive import Outreach
from dialogs.cards import card_message
from safeguarding.care_state import CareStates, snoozed_until
from safeguarding.ports import Job
from safeguarding.scheduler import RetryLater
from safeguarding.self_care import deliver_when, held_key, wanted, work_pattern

log = logging.getLogger("safesession.reminders")

RELEASE = "release_reminder"
Outcome = Literal["sent", "held", "dropped", "off", "already_sent", "no_chat"]


@dataclass(frozen=True)
class Reminder:
    """One reminder occurrence for one worker, rendered from a template when it is sent."""

    worker: str
    kind: str
    # The job it came from, and what "sent once" means for it (a day, a week, a session).
    origin: str
    occurrence: str
    due: datetime
    template: str
    card: bool = False
    context: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, object]:
        """The reminder as a job payload, so a held one survives a restart."""
        return {
            "worker": self.worker,
            "kind": self.kind,
            "origin": self.origin,
            "occurrence": self.occurrence,
            "due": self.due.isoformat(),
            "template": self.template,
            "card": self.card,
            "context": self.context,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> "Reminder":
        """Reads a held reminder back from its job."""
        return cls(
            worker=str(payload["worker"]),
            kind=str(payload["kind"]),
            origin=str(payload["origin"]),
            occurrence=str(payload["occurrence"]),
            due=datetime.fromisoformat(str(payload["due"])),
            template=str(payload["template"]),
            card=bool(payload.get("card")),
            context=dict(payload.get("context") or {}),
        )


class Reminders:
    """Sends a worker's non-urgent reminders in their working time, once each."""

    def __init__(
        self,
        *,
        outreach: Outreach,
        care: CareStates,
    ) -> None:
        self._records = outreach.records
        self._messenger = outreach.messenger
        self._scheduler = outreach.scheduler
        self._chats = outreach.chats
        self._templates = outreach.templates
        self._care = care
        self._scheduler.handle(RELEASE, self._release)

    async def send(self, reminder: Reminder) -> Outcome:
        """Sends now, holds until working time, or drops; raises RetryLater if Teams is down."""
        profile = await self._records.worker(reminder.worker)
        if not wanted(reminder.kind, profile):
            return "off"
        state = await self._care.get(reminder.worker)
        if reminder.occurrence in state.get("sent", {}).get(reminder.kind, []):
            return "already_sent"
        now = self._records.now()
        decision = deliver_when(
            reminder.kind,
            due=reminder.due,
            now=now,
            pattern=work_pattern(profile),
            snoozed_until=snoozed_until(state, reminder.kind, now),
        )
        if decision.action == "drop":
            log.info("dropped a stale %s reminder (job %s)", reminder.kind, reminder.origin)
            return "dropped"
        if decision.action == "hold" and decision.at is not None:
            await self._scheduler.schedule(
                key=held_key(reminder.origin, decision.at),
                kind=RELEASE,
                due_at=decision.at,
                payload=reminder.payload(),
            )
            return "held"
        return await self._deliver(reminder)

    async def _deliver(self, reminder: Reminder) -> Outcome:
        reference = await self._chats.reference(reminder.worker)
        if reference is None:
            log.info("no personal chat to remind in (job %s)", reminder.origin)
            return "no_chat"
        # Claimed before sending: a crash after this point loses one reminder, never repeats it.
        if not await self._care.claim(reminder.worker, reminder.kind, reminder.occurrence):
            return "already_sent"
        try:
            await self._messenger.send(reference, self._activity(reminder))
        except DeliveryFailed:
            await self._care.release(reminder.worker, reminder.kind, reminder.occurrence)
            raise RetryLater() from None
        return "sent"

    def _activity(self, reminder: Reminder) -> Activity:
        if reminder.card:
            card = self._templates.card(reminder.template, **reminder.context)
            return card_message(card, reminder.template)
        message: Activity = MessageFactory.text(
            self._templates.text(reminder.template, **reminder.context)
        )
        return message

    async def _release(self, job: Job) -> None:
        await self.send(Reminder.from_payload(job.payload))
