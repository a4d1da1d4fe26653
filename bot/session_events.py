"""During and after a session: lost connection, safe word, behaviour, the ending and follow-up."""

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.dialogs import DialogContext

from bot.errors import DeliveryFailed
from bot.proactive import Outreach
from dialogs.cards import card_message, copyable_message
from dialogs.journey_dialog import JourneyDialog, JourneyServices, worker_id
from safeguarding.clock import format_london, to_london
from safeguarding.escalations import new_reference
from safeguarding.journey import Facts, answer_of
from safeguarding.ports import Document, Job
from safeguarding.records import SESSIONS
from safeguarding.session_events import (
    BEHAVIOUR_END,
    CONNECTION_OUTCOMES,
    DISCUSSIONS,
    SESSION_END,
    TASKS,
    WELFARE_CALL,
    call_back_due,
    domestic_abuse_flagged,
)
from safeguarding.validation import readable_uk_phone

log = logging.getLogger("safesession.session_events")

CALL_BACK_CHECK = "call_back_check"
WELFARE_DUE = "welfare_call_due"
WELFARE_OVERDUE = "welfare_call_overdue"
SESSION_ID_MAX = 64
NOT_ON_FILE = "not on file"
# After a hard ending: the worker's after-care offer (bot/self_care.py), by the ending's reason.
HardEnding = Callable[[TurnContext, Document, str], Awaitable[None]]
SessionClosed = Callable[[Document], Awaitable[None]]


class SessionEvents:
    """The in-session card's buttons, the ending journeys, and the timed follow-ups."""

    def __init__(
        self,
        *,
        services: JourneyServices,
        outreach: Outreach,
        welfare_grace: timedelta,
        on_hard_ending: HardEnding | None = None,
        on_closed: SessionClosed | None = None,
    ) -> None:
        self._services = services
        self._records = outreach.records
        self._messenger = outreach.messenger
        self._scheduler = outreach.scheduler
        self._chats = outreach.chats
        self._templates = outreach.templates
        self._grace = welfare_grace
        self._on_hard_ending = on_hard_ending
        self._on_closed = on_closed
        self._scheduler.handle(CALL_BACK_CHECK, self._call_back_check)
        self._scheduler.handle(WELFARE_DUE, self._welfare_due)
        self._scheduler.handle(WELFARE_OVERDUE, self._welfare_overdue)

    def dialogs(self) -> tuple[JourneyDialog, ...]:
        """The ending journeys, to register with the other dialogs."""
        return (
            JourneyDialog(SESSION_END, self._services, on_complete=self._ending_done),
            JourneyDialog(WELFARE_CALL, self._services, on_complete=self._welfare_planned),
            JourneyDialog(BEHAVIOUR_END, self._services, on_complete=self._behaviour_recorded),
        )

    # -- the in-session card ----------------------------------------------------------

    async def end_session(
        self, turn_context: TurnContext, dialog_context: DialogContext, value: dict[str, Any]
    ) -> None:
        """Ends the session now and asks how it ended (D2, B3, C10)."""
        session = await self._started(turn_context, value)
        if session is not None:
            await self._close(turn_context, session, ending="normal")
            await self._begin(dialog_context, session, SESSION_END.id, "ending_start")

    async def safe_word_used(
        self, turn_context: TurnContext, dialog_context: DialogContext, value: dict[str, Any]
    ) -> None:
        """Shows how to steer calmly to an end, closes the session and plans the welfare call."""
        session = await self._started(turn_context, value)
        if session is None:
            return
        await self._send_card(turn_context, "safe_word_guidance")
        await self._close(turn_context, session, ending="safe_word")
        await self._begin(dialog_context, session, WELFARE_CALL.id, "welfare_start")

    async def behaviour_end(
        self, turn_context: TurnContext, dialog_context: DialogContext, value: dict[str, Any]
    ) -> None:
        """Ends the session for behaviour and asks what happened (D3)."""
        session = await self._started(turn_context, value)
        if session is not None:
            await self._close(turn_context, session, ending="behaviour")
            await self._begin(dialog_context, session, BEHAVIOUR_END.id, "behaviour_start")

    async def connection_lost(
        self, turn_context: TurnContext, _dialogs: DialogContext, value: dict[str, Any]
    ) -> None:
        """Shows the agreed plan and the number at once, and starts the 5-minute clock (C3)."""
        session = await self._started(turn_context, value)
        if session is None:
            return
        now = self._records.now()
        session = await self._records.update(
            collection=SESSIONS,
            record=session,
            changes={"connection_lost_at": now.isoformat(), "connection_outcome": None},
            actor=worker_id(turn_context),
        )
        await self._scheduler.schedule(
            key=f"callback:{session['key']}:{now.isoformat()}",
            kind=CALL_BACK_CHECK,
            due_at=call_back_due(now),
            payload={"session": session["key"], "lost_at": now.isoformat()},
        )
        plan = self._plan_view(session, now)
        await self._audit_number_shown(worker_id(turn_context), session, plan, "connection_lost")
        await self._send_card(turn_context, "connection_lost", **plan)

    async def connection_outcome(
        self, turn_context: TurnContext, _dialogs: DialogContext, value: dict[str, Any]
    ) -> None:
        """Records how the lost connection was resolved; an unreachable person means rearranging."""
        session = await self._started(turn_context, value)
        outcome = value.get("outcome")
        if session is None:
            return
        if outcome not in {choice.value for choice in CONNECTION_OUTCOMES}:
            await turn_context.send_activity(self._templates.text("card_not_understood"))
            return
        actor = worker_id(turn_context)
        session = await self._records.update(
            collection=SESSIONS,
            record=session,
            changes={"connection_outcome": outcome},
            actor=actor,
        )
        if outcome != "unreachable":
            await turn_context.send_activity(self._templates.text(f"connection_{outcome}"))
            return
        await self._close(turn_context, session, ending="connection_lost", announce=False)
        await self._task(session, kind="rearrange_session", actor=actor, due_at=None)
        await self._send_card(turn_context, "connection_unreachable", session=session["key"])

    async def welfare_done(
        self, turn_context: TurnContext, _dialogs: DialogContext, value: dict[str, Any]
    ) -> None:
        """Marks the welfare call as made, so nobody is chased about it."""
        key = value.get("task")
        task = await self._records.load(collection=TASKS, key=key) if isinstance(key, str) else None
        if task is None or task["owner"] != worker_id(turn_context):
            await self._records.audit(
                actor=worker_id(turn_context),
                action="refused",
                record=f"{TASKS}/{task['key'] if task else 'unknown'}",
                field="welfare_done",
            )
            await turn_context.send_activity(self._templates.text("card_not_understood"))
            return
        await self._records.update(
            collection=TASKS,
            record=task,
            changes={"status": "done", "done_at": self._records.now().isoformat()},
            actor=worker_id(turn_context),
        )
        await turn_context.send_activity(self._templates.text("welfare_done"))

    # -- journey endings --------------------------------------------------------------

    async def _ending_done(self, turn_context: TurnContext, record: Document, facts: Facts) -> None:
        send = turn_context.send_activity
        await send(self._templates.text("ending_notes_reminder"))
        if answer_of(record, "follow_up_wanted"):
            profile = facts.related.get("worker", {})
            message = self._templates.text(
                "follow_up_message",
                session_content=answer_of(record, "session_content"),
                family_tasks=answer_of(record, "family_tasks") or "",
                worker_name=answer_of(profile, "worker_name") or "your worker",
                work_mobile=readable_uk_phone(answer_of(profile, "work_mobile") or "") or "",
                service_email=self._services.config["service_email"],
                out_of_hours_help=self._services.config["out_of_hours_help"],
            )
            await send(self._templates.text("follow_up_lead"))
            await self._records.disclose(
                actor=worker_id(turn_context),
                record=f"{SESSIONS}/{record['key']}",
                field="follow_up_message",
                clause="C10",
                reason="to_copy_to_the_family",
            )
            await send(copyable_message(message))
        if (
            record.get("ending") in ("safe_word", "behaviour")
            or answer_of(record, "end_mood") == "distressed"
        ):
            reason = "distressed" if record.get("ending") == "normal" else str(record["ending"])
            await self._hard_ending(turn_context, record, reason)

    async def _welfare_planned(
        self, turn_context: TurnContext, record: Document, facts: Facts
    ) -> None:
        actor = worker_id(turn_context)
        due = datetime.fromisoformat(str(answer_of(record, "welfare_call_time")))
        task = await self._task(record, kind="welfare_call", actor=actor, due_at=due)
        service_user = facts.related.get("service_user", {})
        urgent = domestic_abuse_flagged(dict(service_user)) or bool(
            answer_of(record, "domestic_abuse")
        )
        await self._scheduler.schedule(
            key=f"welfare_due:{task['key']}",
            kind=WELFARE_DUE,
            due_at=due,
            payload={"task": task["key"]},
        )
        await self._scheduler.schedule(
            key=f"welfare_overdue:{task['key']}",
            kind=WELFARE_OVERDUE,
            due_at=self._records.now() if urgent else due + self._grace,
            payload={"task": task["key"], "immediate": urgent},
        )
        await turn_context.send_activity(
            self._templates.text("welfare_planned", when=format_london(due), urgent=urgent)
        )
        await self._hard_ending(turn_context, record, "safe_word")

    async def _behaviour_recorded(
        self, turn_context: TurnContext, record: Document, facts: Facts
    ) -> None:
        actor = worker_id(turn_context)
        item = await self._records.create(
            collection=DISCUSSIONS,
            key=new_reference("D"),
            actor=actor,
            fields={
                "kind": "behaviour",
                "session": record["key"],
                "case_reference": answer_of(record, "case_reference"),
                "status": "open",
                "clause": "D3",
            },
        )
        reached = await self._tell_line_manager(
            actor,
            "behaviour_line_manager",
            session=record["key"],
            item=item["key"],
            worker_name=turn_context.activity.from_property.name or "A worker",
        )
        await turn_context.send_activity(
            self._templates.text("behaviour_recorded", manager_reached=reached)
        )
        await self._hard_ending(turn_context, record, "behaviour")

    # -- timed follow-ups ---------------------------------------------------------------

    async def _call_back_check(self, job: Job) -> None:
        session = await self._records.load(collection=SESSIONS, key=job.payload["session"])
        if session is None or session.get("connection_lost_at") != job.payload["lost_at"]:
            return
        if session.get("connection_outcome"):
            return
        plan = self._plan_view(session, datetime.fromisoformat(job.payload["lost_at"]))
        if await self._tell(session["owner"], "call_back_now", plain=True, **plan):
            await self._audit_number_shown(session["owner"], session, plan, "call_back_now")

    async def _welfare_due(self, job: Job) -> None:
        task = await self._records.load(collection=TASKS, key=job.payload["task"])
        if task is None or task["status"] != "open":
            return
        reference = await self._chats.reference(task["owner"])
        if reference is None:
            return
        card = self._templates.card(
            "welfare_due", task=task["key"], case_reference=task["case_reference"] or ""
        )
        try:
            await self._messenger.send(reference, card_message(card, "welfare_due"))
        except DeliveryFailed:
            log.error("welfare task %s: could not remind the worker", task["key"])

    async def _welfare_overdue(self, job: Job) -> None:
        task = await self._records.load(collection=TASKS, key=job.payload["task"])
        if task is None or task["status"] != "open":
            return
        template = (
            "welfare_line_manager_now"
            if job.payload.get("immediate")
            else "welfare_line_manager_overdue"
        )
        await self._tell_line_manager(
            task["owner"],
            template,
            session=task["session"],
            item=task["key"],
            worker_name=task.get("worker_name") or "A worker",
        )

    # -- helpers ------------------------------------------------------------------------

    async def _started(self, turn_context: TurnContext, value: dict[str, Any]) -> Document | None:
        key = value.get("session")
        session = None
        if isinstance(key, str) and 0 < len(key) <= SESSION_ID_MAX:
            session = await self._records.load(collection=SESSIONS, key=key)
        mine = session is not None and session.get("owner") == worker_id(turn_context)
        if mine and session is not None and session.get("status") == "started":
            return session
        log.info(
            "refused an in-session action in conversation %s",
            turn_context.activity.conversation.id,
        )
        if not mine:
            await self._records.audit(
                actor=worker_id(turn_context),
                action="refused",
                record=f"{SESSIONS}/{session['key'] if session else 'unknown'}",
                field=str(value.get("action") or ""),
            )
        if mine and session is not None and session.get("status") == "paused":
            since = session.get("paused_at")
            paused = f"{to_london(datetime.fromisoformat(since)):%H:%M}" if since else ""
            await turn_context.send_activity(
                self._templates.text("session_is_paused", paused_time=paused)
            )
        elif mine and session is not None and session.get("ended_at"):
            ended = f"{to_london(datetime.fromisoformat(session['ended_at'])):%H:%M}"
            await turn_context.send_activity(
                self._templates.text("session_already_ended", ended_time=ended)
            )
        else:
            await turn_context.send_activity(self._templates.text("end_session_refused"))
        return None
        return session

    async def _close(
        self, turn_context: TurnContext, session: Document, *, ending: str, announce: bool = True
    ) -> None:
        now = self._records.now()
        closed = await self._records.update(
            collection=SESSIONS,
            record=session,
            changes={"status": "ended", "ended_at": now.isoformat(), "ending": ending},
            actor=worker_id(turn_context),
        )
        if self._on_closed is not None:
            await self._on_closed(closed)
        if announce:
            await turn_context.send_activity(
                self._templates.text(
                    "session_closed", ended_time=f"{to_london(now):%H:%M}", ending=ending
                )
            )

    async def _begin(
        self, dialog_context: DialogContext, session: Document, journey: str, lead: str
    ) -> None:
        fresh = await self._records.load(collection=SESSIONS, key=session["key"]) or session
        await self._records.update(
            collection=SESSIONS,
            record=fresh,
            changes={"open_journey": journey},
            actor=fresh["owner"],
        )
        await dialog_context.cancel_all_dialogs()
        await dialog_context.begin_dialog(journey, {"key": session["key"], "lead": lead})

    async def _task(
        self, session: Document, *, kind: str, actor: str, due_at: datetime | None
    ) -> Document:
        return await self._records.create(
            collection=TASKS,
            key=new_reference("T"),
            actor=actor,
            fields={
                "kind": kind,
                "session": session["key"],
                "case_reference": answer_of(session, "case_reference"),
                "due_at": due_at.isoformat() if due_at else None,
                "status": "open",
            },
        )

    def _plan_view(self, session: Document, lost_at: datetime) -> dict[str, Any]:
        number = (
            answer_of(session, "contact_confirmed") or answer_of(session, "contact_number") or ""
        )
        return {
            "session": session["key"],
            "contact_plan": answer_of(session, "contact_plan")
            or "No plan was recorded: call them back.",
            "number": readable_uk_phone(number)
            if isinstance(number, str) and number.startswith("+")
            else NOT_ON_FILE,
            "call_by": f"{to_london(call_back_due(lost_at)):%H:%M}",
            "outcomes": CONNECTION_OUTCOMES,
        }

    async def _audit_number_shown(
        self, actor: str, session: Document, plan: dict[str, Any], reason: str
    ) -> None:
        """Records that the service user's number was shown with the plan (C3)."""
        if plan["number"] != NOT_ON_FILE:
            await self._records.disclose(
                actor=actor,
                record=f"{SESSIONS}/{session['key']}",
                field="contact_number",
                clause="C3",
                reason=reason,
            )

    async def _tell(
        self, user_id: str, template: str, *, plain: bool = False, **context: Any
    ) -> bool:
        reference = await self._chats.reference(user_id)
        if reference is None:
            return False
        message = MessageFactory.text(self._templates.text(template, **context))
        if plain:  # it quotes what the worker typed: shown as typed, never read as markdown
            message.text_format = "plain"
        try:
            await self._messenger.send(reference, message)
        except DeliveryFailed:
            return False
        return True

    async def _tell_line_manager(self, worker: str, template: str, **context: Any) -> bool:
        profile = await self._records.worker(worker)
        manager = answer_of(profile, "line_manager")
        return bool(manager) and await self._tell(str(manager), template, **context)

    async def _hard_ending(self, turn_context: TurnContext, record: Document, reason: str) -> None:
        if self._on_hard_ending is None:
            await turn_context.send_activity(self._templates.text("after_a_hard_session"))
        else:
            await self._on_hard_ending(turn_context, record, reason)

    async def _send_card(self, turn_context: TurnContext, name: str, **context: Any) -> None:
        await turn_context.send_activity(card_message(self._templates.card(name, **context), name))
