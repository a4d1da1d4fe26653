"""Looking after the worker (E1-E4, D2): settings, self-care, reminders and the after-care offer.

The recurring reminders (end-of-day sign-off, weekly check-in) are jobs with one key per
occurrence. When a worker first messages the bot, or saves their settings, their next
occurrences are scheduled; each job schedules the next when it runs. Every reminder goes through
`Reminders.send`, which keeps it inside the worker's working hours.
"""

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.dialogs import DialogContext
from botbuilder.schema import ActivityTypes

from bot.commands import build_table, match
from bot.errors import DeliveryFailed
from bot.proactive import Outreach
from bot.reminders import Reminder, Reminders
from bot.teams import conversation_scope
from dialogs.cards import card_message
from dialogs.interruptions import Interruption, interruption
from dialogs.journey_dialog import JourneyDialog, JourneyServices, worker_id
from safeguarding.care_state import CareStates, snoozed_until
from safeguarding.clock import WEEKDAYS, format_london
from safeguarding.journey import Facts, answer_of
from safeguarding.ports import Document, Job
from safeguarding.records import SESSIONS, WORKERS
from safeguarding.self_care import (
    AFTER_EMERGENCY,
    AFTERCARE,
    CHECK_IN_QUESTIONS,
    CHECK_IN_SNOOZE,
    DAY_CODES,
    OUT_OF_HOURS,
    REMINDER_TITLES,
    SCREEN_BREAK,
    SETTINGS,
    SETTINGS_QUESTIONS,
    SIGN_OFF,
    WEEKLY_CHECK_IN,
    SelfCarePolicy,
    aftercare_key,
    break_due,
    break_key,
    check_in_at,
    in_progress,
    out_of_hours_period,
    parse_days,
    reminders_on,
    session_spans,
    settings_view,
    sign_off_key,
    weekly_key,
    weekly_snooze_key,
    work_pattern,
)
from safeguarding.validation import InvalidAnswer, parse_time, readable_uk_phone
from safeguarding.working_hours import (
    describe,
    iso_week,
    local_day,
    next_sign_off,
    next_weekly,
    next_working_start,
    working_day_end,
)

log = logging.getLogger("safesession.self_care")

SIGN_OFF_JOB = "sign_off_reminder"
WEEKLY_JOB = "weekly_check_in"
BREAK_JOB = "screen_break_reminder"
AFTERCARE_JOB = "aftercare_offer"
# The recurring reminders, each planned one occurrence ahead.
RECURRING = (SIGN_OFF, WEEKLY_CHECK_IN)
CHECK_IN_OUTCOMES = frozenset({"done", "skipped"})
WEEK = re.compile(r"[0-9]{4}-W[0-9]{2}")

Handler = Callable[[TurnContext, DialogContext, dict[str, Any]], Awaitable[None]]


class SelfCare:
    """The worker's settings and self-care commands, their reminders and the after-care offer."""

    def __init__(
        self,
        *,
        outreach: Outreach,
        care: CareStates,
        reminders: Reminders,
        policy: SelfCarePolicy,
    ) -> None:
        self._records = outreach.records
        self._messenger = outreach.messenger
        self._scheduler = outreach.scheduler
        self._chats = outreach.chats
        self._templates = outreach.templates
        self._care = care
        self._reminders = reminders
        self._policy = policy
        self._table = build_table()
        self._scheduler.handle(SIGN_OFF_JOB, self._sign_off_job)
        self._scheduler.handle(WEEKLY_JOB, self._weekly_job)
        self._scheduler.handle(BREAK_JOB, self._break_job)
        self._scheduler.handle(AFTERCARE_JOB, self._aftercare_job)

    def dialogs(self, services: JourneyServices) -> tuple[JourneyDialog, ...]:
        """The step-by-step settings journey (the typed path through `my settings`)."""
        return (JourneyDialog(SETTINGS, services, on_complete=self._settings_done),)

    def card_actions(self) -> dict[str, Handler]:
        """The card buttons this service answers, by their action."""
        return {
            "my_settings": self.show_settings,
            "self_care": self.show_self_care,
            "save_settings": self._save_settings,
            "settings_step_by_step": self._settings_step_by_step,
            "reminder_snooze": self._snooze,
            "reminder_off": self._switch_off,
            "reminder_on": self._switch_on,
            "check_in_done": self._check_in_done,
            "check_in_snooze": self._check_in_snooze,
            "check_in_skip": self._check_in_skip,
            "aftercare_debrief": self._aftercare_debrief,
            "aftercare_break": self._aftercare_break,
            "aftercare_talk": self._aftercare_talk,
        }

    # -- every turn ---------------------------------------------------------------------

    async def after_turn(self, turn_context: TurnContext) -> None:
        """Plans the worker's reminders, and reminds them gently once if it is out of hours."""
        activity = turn_context.activity
        if activity.type != ActivityTypes.message or conversation_scope(activity) != "personal":
            return
        worker = worker_id(turn_context)
        await self.plan(worker)
        # Card presses answer something the bot showed; an emergency always just works.
        if activity.value is not None or self._is_emergency(activity.text or ""):
            return
        await self._boundary_reminder(turn_context, worker)

    async def plan(self, worker: str) -> None:
        """Schedules the next sign-off and weekly check-in if they are not scheduled already."""
        now = self._records.now()
        state = await self._care.get(worker)
        planned = state.get("planned", {})
        if all(_still_planned(planned.get(kind), now) for kind in RECURRING):
            return
        profile = await self._records.worker(worker)
        on = reminders_on(profile)
        fresh: dict[str, Any] = {}
        wanted = [kind for kind in RECURRING if not _still_planned(planned.get(kind), now)]
        fresh.update({kind: {"off": True} for kind in wanted if kind not in on})
        due_kinds = [kind for kind in wanted if kind in on]
        # The reminders are independent jobs: schedule them side by side (one store commit).
        scheduled = await asyncio.gather(
            *(self._schedule_next(worker, kind, profile, now) for kind in due_kinds)
        )
        for kind, (key, due) in zip(due_kinds, scheduled, strict=True):
            fresh[kind] = {"key": key, "due": due.isoformat()}
        await self._care.change(worker, lambda s: s.setdefault("planned", {}).update(fresh))

    async def replan(self, worker: str) -> None:
        """Plans again after a settings change, cancelling planned jobs the change moved."""
        before = _planned_keys(await self._care.get(worker))
        await self._care.change(worker, lambda s: s.update(planned={}))
        await self.plan(worker)
        # An unchanged occurrence keeps its key (and its pending job): only moved ones go.
        for key in before - _planned_keys(await self._care.get(worker)):
            await self._scheduler.cancel(key)

    # -- hooks from the session events and the escalations ------------------------------

    async def hard_ending(self, turn_context: TurnContext, session: Document, reason: str) -> None:
        """Offers a debrief, a break and a word with someone after a hard ending (D2, E2, E3)."""
        worker = worker_id(turn_context)
        if not await self._care.claim(worker, AFTERCARE, str(session["key"])):
            return
        card = self._templates.card(
            "after_a_hard_session", **await self._aftercare_context(worker, session, reason)
        )
        await turn_context.send_activity(card_message(card, "after_a_hard_session"))

    async def session_closed(self, session: Document) -> None:
        """Schedules a screen-break reminder when the sessions so far call for one (E2)."""
        worker = str(session["owner"])
        ended = await self._records.find(collection=SESSIONS, owner=worker, status="ended")
        due = break_due(session_spans(ended), self._policy)
        if due is None:
            return
        now = self._records.now()
        await self._scheduler.schedule(
            key=break_key(worker, due),
            kind=BREAK_JOB,
            due_at=now,
            payload={
                "worker": worker,
                "first": due.first,
                "sessions": due.sessions,
                "minutes": due.minutes,
                "due": now.isoformat(),
            },
        )

    async def session_emergency(self, escalation: Document) -> None:
        """An hour after an emergency raised from a session, offers the after-care card."""
        worker, session = str(escalation["worker"]), str(escalation["session_key"])
        due = datetime.fromisoformat(str(escalation["raised_at"])) + AFTER_EMERGENCY
        await self._scheduler.schedule(
            key=aftercare_key(worker, session),
            kind=AFTERCARE_JOB,
            due_at=due,
            payload={"worker": worker, "session": session, "due": due.isoformat()},
        )

    # -- commands -----------------------------------------------------------------------

    async def show_settings(
        self, turn_context: TurnContext, _dialogs: DialogContext, _value: dict[str, Any]
    ) -> None:
        """Shows the worker's settings on a card they can edit and save (E1, E3)."""
        profile = await self._records.worker(worker_id(turn_context))
        phone = answer_of(profile, "line_manager_phone")
        mobile = answer_of(profile, "work_mobile")
        await self._send_card(
            turn_context,
            "my_settings",
            **settings_view(profile),
            line_manager_name=answer_of(profile, "line_manager_name") or "",
            line_manager_phone=readable_uk_phone(phone) if phone else "",
            work_mobile=readable_uk_phone(mobile) if mobile else "",
        )

    async def show_self_care(
        self, turn_context: TurnContext, _dialogs: DialogContext, _value: dict[str, Any]
    ) -> None:
        """Shows the guidance's self-care tips and each reminder, to snooze or switch off."""
        worker = worker_id(turn_context)
        profile = await self._records.worker(worker)
        state = await self._care.get(worker)
        now = self._records.now()
        on = reminders_on(profile)
        rows = []
        for kind, title in REMINDER_TITLES.items():
            until = snoozed_until(state, kind, now)
            rows.append(
                {
                    "kind": kind,
                    "title": title,
                    "on": kind in on,
                    "snoozed_until": format_london(until) if until and kind in on else "",
                }
            )
        await self._send_card(
            turn_context, "self_care", reminders=rows, hours=describe(work_pattern(profile))
        )

    # -- settings -----------------------------------------------------------------------

    async def _save_settings(
        self, turn_context: TurnContext, _dialogs: DialogContext, value: dict[str, Any]
    ) -> None:
        worker = worker_id(turn_context)
        try:
            answers = _settings_from_card(value)
        except InvalidAnswer as refused:
            problem = self._templates.text(f"invalid/{refused.reason}", **refused.details)
            await turn_context.send_activity(
                self._templates.text("settings_not_saved", problem=problem)
            )
            return
        profile = await self._records.worker(worker)
        for question_id, answer in answers.items():
            profile = await self._records.store_answer(
                collection=WORKERS,
                record=profile,
                question=SETTINGS.question(question_id),
                value=answer,
                actor=worker,
            )
        await self._settings_saved(turn_context, worker, profile)

    async def _settings_step_by_step(
        self, turn_context: TurnContext, dialog_context: DialogContext, _value: dict[str, Any]
    ) -> None:
        worker = worker_id(turn_context)
        profile = await self._records.worker(worker)
        asked = set(SETTINGS_QUESTIONS) | set(CHECK_IN_QUESTIONS)
        kept = {
            question: entry
            for question, entry in profile.get("answers", {}).items()
            if question not in asked
        }
        await self._records.update(
            collection=WORKERS, record=profile, changes={"answers": kept}, actor=worker
        )
        await dialog_context.cancel_all_dialogs()
        await dialog_context.begin_dialog(SETTINGS.id, {"key": worker, "lead": "settings_start"})

    async def _settings_done(
        self, turn_context: TurnContext, record: Document, _facts: Facts
    ) -> None:
        await self._settings_saved(turn_context, worker_id(turn_context), record)

    async def _settings_saved(
        self, turn_context: TurnContext, worker: str, profile: Document
    ) -> None:
        await self.replan(worker)
        weekday, at = check_in_at(profile)
        on = reminders_on(profile)
        await turn_context.send_activity(
            self._templates.text(
                "settings_saved",
                hours=describe(work_pattern(profile)),
                check_in=f"{WEEKDAYS[weekday]} at {at:%H:%M}",
                reminders=[title for kind, title in REMINDER_TITLES.items() if kind in on],
            )
        )

    # -- snooze and switch off (from the self-care card) --------------------------------

    async def _snooze(
        self, turn_context: TurnContext, _dialogs: DialogContext, value: dict[str, Any]
    ) -> None:
        kind = _kind(value)
        if kind is None:
            await turn_context.send_activity(self._templates.text("card_not_understood"))
            return
        worker = worker_id(turn_context)
        pattern = work_pattern(await self._records.worker(worker))
        # For the rest of this working day (or of the next one, if it is out of hours now).
        start = next_working_start(pattern, self._records.now())
        until = working_day_end(pattern, start) or start
        await self._care.change(
            worker, lambda s: s.setdefault("snoozed", {}).update({kind: until.isoformat()})
        )
        await self._records.audit(
            actor=worker, action=f"snooze_{kind}", record=f"{WORKERS}/{worker}", clause="E1"
        )
        await turn_context.send_activity(
            self._templates.text(
                "reminder_snoozed", title=REMINDER_TITLES[kind], until=format_london(until)
            )
        )

    async def _switch_off(
        self, turn_context: TurnContext, _dialogs: DialogContext, value: dict[str, Any]
    ) -> None:
        await self._switch(turn_context, value, on=False)

    async def _switch_on(
        self, turn_context: TurnContext, _dialogs: DialogContext, value: dict[str, Any]
    ) -> None:
        await self._switch(turn_context, value, on=True)

    async def _switch(self, turn_context: TurnContext, value: dict[str, Any], *, on: bool) -> None:
        kind = _kind(value)
        if kind is None:
            await turn_context.send_activity(self._templates.text("card_not_understood"))
            return
        worker = worker_id(turn_context)
        profile = await self._records.worker(worker)
        wanted = (reminders_on(profile) | {kind}) if on else (reminders_on(profile) - {kind})
        await self._records.store_answer(
            collection=WORKERS,
            record=profile,
            question=SETTINGS.question("reminders"),
            value=[choice for choice in REMINDER_TITLES if choice in wanted],
            actor=worker,
        )
        if on:
            await self._care.change(worker, lambda s: s.setdefault("snoozed", {}).pop(kind, None))
        await self.replan(worker)
        await turn_context.send_activity(
            self._templates.text("reminder_switched", title=REMINDER_TITLES[kind], on=on)
        )

    # -- the weekly check-in (E3) -------------------------------------------------------

    async def _check_in_done(
        self, turn_context: TurnContext, _dialogs: DialogContext, value: dict[str, Any]
    ) -> None:
        await self._check_in_outcome(turn_context, value, "done")

    async def _check_in_skip(
        self, turn_context: TurnContext, _dialogs: DialogContext, value: dict[str, Any]
    ) -> None:
        await self._check_in_outcome(turn_context, value, "skipped")

    async def _check_in_outcome(
        self, turn_context: TurnContext, value: dict[str, Any], outcome: str
    ) -> None:
        week = _week(value)
        if week is None:
            await turn_context.send_activity(self._templates.text("card_not_understood"))
            return
        worker = worker_id(turn_context)
        await self._care.change(
            worker, lambda s: s.setdefault("check_ins", {}).update({week: outcome})
        )
        await self._records.audit(
            actor=worker, action=f"check_in_{outcome}", record=f"{WORKERS}/{worker}", clause="E3"
        )
        profile = await self._records.worker(worker)
        weekday, at = check_in_at(profile)
        following = next_weekly(weekday, at, self._records.now())
        if iso_week(following) == week:
            following = next_weekly(weekday, at, following)
        await turn_context.send_activity(
            self._templates.text(
                "check_in_recorded", outcome=outcome, next_time=format_london(following)
            )
        )

    async def _check_in_snooze(
        self, turn_context: TurnContext, _dialogs: DialogContext, value: dict[str, Any]
    ) -> None:
        week = _week(value)
        if week is None:
            await turn_context.send_activity(self._templates.text("card_not_understood"))
            return
        worker = worker_id(turn_context)
        pattern = work_pattern(await self._records.worker(worker))
        due = next_working_start(pattern, self._records.now() + CHECK_IN_SNOOZE)
        await self._scheduler.schedule(
            key=weekly_snooze_key(worker, week, due),
            kind=WEEKLY_JOB,
            due_at=due,
            payload={"worker": worker, "week": week, "due": due.isoformat(), "snoozed": True},
        )
        await turn_context.send_activity(
            self._templates.text("check_in_snoozed", when=format_london(due))
        )

    # -- after a hard session (D2, E2, E3) ----------------------------------------------

    async def _aftercare_debrief(
        self, turn_context: TurnContext, _dialogs: DialogContext, value: dict[str, Any]
    ) -> None:
        await self._aftercare_choice(turn_context, value, "debrief")
        await turn_context.send_activity(self._templates.text("aftercare_debrief"))

    async def _aftercare_break(
        self, turn_context: TurnContext, _dialogs: DialogContext, value: dict[str, Any]
    ) -> None:
        await self._aftercare_choice(turn_context, value, "break")
        await turn_context.send_activity(self._templates.text("aftercare_break"))

    async def _aftercare_talk(
        self, turn_context: TurnContext, _dialogs: DialogContext, value: dict[str, Any]
    ) -> None:
        worker = worker_id(turn_context)
        await self._aftercare_choice(turn_context, value, "talk")
        profile = await self._records.worker(worker)
        manager = answer_of(profile, "line_manager")
        told = False
        reference = await self._chats.reference(str(manager)) if manager else None
        if reference is not None:
            text = self._templates.text(
                "aftercare_line_manager",
                worker_name=turn_context.activity.from_property.name or "A worker",
            )
            try:
                await self._messenger.send(reference, MessageFactory.text(text))
                told = True
            except DeliveryFailed:
                log.warning("could not reach the line manager of worker %s", worker)
        phone = answer_of(profile, "line_manager_phone")
        await turn_context.send_activity(
            self._templates.text(
                "aftercare_talk",
                manager_told=told,
                line_manager_name=answer_of(profile, "line_manager_name") or "",
                line_manager_phone=readable_uk_phone(phone) if phone else "",
            )
        )

    async def _aftercare_choice(
        self, turn_context: TurnContext, value: dict[str, Any], choice: str
    ) -> None:
        session = value.get("session")
        record = f"{SESSIONS}/{session}" if isinstance(session, str) else ""
        await self._records.audit(
            actor=worker_id(turn_context), action=f"aftercare_{choice}", record=record, clause="D2"
        )

    # -- jobs ---------------------------------------------------------------------------

    async def _sign_off_job(self, job: Job) -> None:
        worker = str(job.payload["worker"])
        profile = await self._records.worker(worker)
        pattern = work_pattern(profile)
        due = datetime.fromisoformat(str(job.payload["due"]))
        back = next_working_start(pattern, working_day_end(pattern, due) or due)
        await self.plan(worker)
        await self._reminders.send(
            Reminder(
                worker=worker,
                kind=SIGN_OFF,
                origin=job.id,
                occurrence=local_day(due),
                due=due,
                template="sign_off_reminder",
                context={
                    "end_time": f"{pattern.end:%H:%M}",
                    "back": format_london(back),
                    "line_manager_name": answer_of(profile, "line_manager_name") or "",
                },
            )
        )

    async def _weekly_job(self, job: Job) -> None:
        worker = str(job.payload["worker"])
        due = datetime.fromisoformat(str(job.payload["due"]))
        week = str(job.payload.get("week") or iso_week(due))
        snoozed = bool(job.payload.get("snoozed"))
        await self.plan(worker)
        state = await self._care.get(worker)
        if state.get("check_ins", {}).get(week) in CHECK_IN_OUTCOMES:
            return
        profile = await self._records.worker(worker)
        await self._reminders.send(
            Reminder(
                worker=worker,
                kind=WEEKLY_CHECK_IN,
                origin=job.id,
                occurrence=job.id if snoozed else week,
                due=due,
                template="weekly_check_in",
                card=True,
                context={
                    "week": week,
                    "line_manager_name": answer_of(profile, "line_manager_name") or "",
                },
            )
        )

    async def _break_job(self, job: Job) -> None:
        await self._reminders.send(
            Reminder(
                worker=str(job.payload["worker"]),
                kind=SCREEN_BREAK,
                origin=job.id,
                occurrence=str(job.payload["first"]),
                due=datetime.fromisoformat(str(job.payload["due"])),
                template="screen_break",
                context={
                    "sessions": int(job.payload["sessions"]),
                    "minutes": int(job.payload["minutes"]),
                    "space_minutes": round(self._policy.space_between_minutes),
                },
            )
        )

    async def _aftercare_job(self, job: Job) -> None:
        worker, session_key = str(job.payload["worker"]), str(job.payload["session"])
        session = await self._records.load(collection=SESSIONS, key=session_key)
        if session is None:
            return
        await self._reminders.send(
            Reminder(
                worker=worker,
                kind=AFTERCARE,
                origin=job.id,
                occurrence=session_key,
                due=datetime.fromisoformat(str(job.payload["due"])),
                template="after_a_hard_session",
                card=True,
                context=await self._aftercare_context(worker, session, "emergency"),
            )
        )

    # -- helpers ------------------------------------------------------------------------

    async def _schedule_next(
        self, worker: str, kind: str, profile: Document, now: datetime
    ) -> tuple[str, datetime]:
        if kind == SIGN_OFF:
            due = next_sign_off(
                work_pattern(profile), now, minutes_before=self._policy.sign_off_minutes
            )
            key, job, payload = sign_off_key(worker, due), SIGN_OFF_JOB, {}
        else:
            weekday, at = check_in_at(profile)
            due = next_weekly(weekday, at, now)
            key, job, payload = weekly_key(worker, due), WEEKLY_JOB, {"week": iso_week(due)}
        await self._scheduler.schedule(
            key=key,
            kind=job,
            due_at=due,
            payload={"worker": worker, "due": due.isoformat(), **payload},
        )
        return key, due

    async def _boundary_reminder(self, turn_context: TurnContext, worker: str) -> None:
        profile = await self._records.worker(worker)
        now = self._records.now()
        pattern = work_pattern(profile)
        period = out_of_hours_period(pattern, now)
        if period is None or OUT_OF_HOURS not in reminders_on(profile):
            return
        state = await self._care.get(worker)
        if state.get("boundary") == period or snoozed_until(state, OUT_OF_HOURS, now):
            return
        running = await self._records.find(collection=SESSIONS, owner=worker, status="started")
        if in_progress(running):
            return  # they are with someone: not the moment for it
        await self._care.change(worker, lambda s: s.update(boundary=period))
        await turn_context.send_activity(
            self._templates.text(
                "out_of_hours_boundary",
                now_text=format_london(now),
                hours=describe(pattern),
                back=format_london(datetime.fromisoformat(period)),
            )
        )

    def _is_emergency(self, text: str) -> bool:
        command = match(text, self._table)
        return interruption(text) is Interruption.EMERGENCY or (
            command is not None and command.name == "emergency"
        )

    async def _aftercare_context(
        self, worker: str, session: Document, reason: str
    ) -> dict[str, Any]:
        profile = await self._records.worker(worker)
        return {
            "session": str(session["key"]),
            "case_reference": str(answer_of(session, "case_reference") or ""),
            "reason": reason,
            "line_manager_name": answer_of(profile, "line_manager_name") or "",
        }

    async def _send_card(self, turn_context: TurnContext, name: str, **context: Any) -> None:
        await turn_context.send_activity(card_message(self._templates.card(name, **context), name))


def _planned_keys(state: Document) -> set[str]:
    return {
        str(entry["key"])
        for entry in state.get("planned", {}).values()
        if isinstance(entry, dict) and entry.get("key")
    }


def _still_planned(entry: Any, now: datetime) -> bool:
    if not isinstance(entry, dict):
        return False
    if entry.get("off"):
        return True
    due = entry.get("due")
    return isinstance(due, str) and datetime.fromisoformat(due) > now


def _settings_from_card(value: dict[str, Any]) -> dict[str, Any]:
    """Reads the settings card's inputs into profile answers; InvalidAnswer names the problem."""
    fields = {
        name: value.get(name)
        for name in (
            "working_days",
            "working_start",
            "working_end",
            "check_in_day",
            "check_in_time",
        )
    }
    if not all(isinstance(field, str) for field in fields.values()):
        raise InvalidAnswer("card_unreadable")
    start, end = parse_time(str(fields["working_start"])), parse_time(str(fields["working_end"]))
    if end <= start:
        raise InvalidAnswer("working_end_before_start")
    if fields["check_in_day"] not in DAY_CODES:
        raise InvalidAnswer("card_unreadable")
    return {
        "working_days": parse_days(str(fields["working_days"])),
        "working_start": f"{start:%H:%M}",
        "working_end": f"{end:%H:%M}",
        "reminders": [kind for kind in REMINDER_TITLES if value.get(f"reminder_{kind}") == "on"],
        "check_in_day": fields["check_in_day"],
        "check_in_time": f"{parse_time(str(fields['check_in_time'])):%H:%M}",
    }


def _kind(value: dict[str, Any]) -> str | None:
    kind = value.get("kind")
    return kind if isinstance(kind, str) and kind in REMINDER_TITLES else None


def _week(value: dict[str, Any]) -> str | None:
    week = value.get("week")
    return week if isinstance(week, str) and WEEK.fullmatch(week) else None
