"""Session start as a dialog: which session today, the journey, the in-session card, the end."""

import logging
from datetime import datetime
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import DialogContext

from dialogs.cards import card_message
from dialogs.journey_dialog import JourneyDialog, JourneyServices, worker_id
from safeguarding.clock import to_london
from safeguarding.journey import Facts, answer_of
from safeguarding.ports import Document
from safeguarding.records import SERVICE_USERS, SESSIONS
from safeguarding.session_start import (
    CONTACT_NUMBER_ON_FILE,
    START,
    STOP_CLAUSES,
    TodaysSession,
    changed_contact_number,
    identity_verification,
    sessions_today,
)

log = logging.getLogger("safesession.session_start")
# Far longer than any session key; a longer "key" from a card is not looked up at all.
KEY_MAX_LENGTH = 64


def session_start_dialog(services: JourneyServices) -> JourneyDialog:
    """Builds the session-start dialog: it starts the session at the end, or records a stop."""

    async def finish(turn_context: TurnContext, record: Document, _facts: Facts) -> dict[str, Any]:
        # The service user's record first: if that fails, the session is not started yet.
        await _tell_the_service_user_record(services, record, worker_id(turn_context))
        return {"status": "started", "started_at": services.records.now().isoformat()}

    async def on_complete(turn_context: TurnContext, started: Document, _facts: Facts) -> None:
        started_time = _clock(datetime.fromisoformat(started["started_at"]))
        await turn_context.send_activity(
            services.templates.text(
                "session_started",
                started_time=started_time,
                safe_word_agreed=answer_of(started, "safe_word") is not None,
            )
        )
        await _send_card(
            turn_context,
            services,
            "in_session",
            session=started["key"],
            case_reference=str(answer_of(started, "case_reference") or ""),
            started_time=started_time,
        )

    async def on_stop(turn_context: TurnContext, record: Document, _facts: Facts) -> None:
        actor = worker_id(turn_context)
        stop = str(record.get("stopped"))
        await services.records.update(
            collection=SESSIONS,
            record=record,
            changes={"status": "stopped", "stopped_at": services.records.now().isoformat()},
            actor=actor,
        )
        await services.records.audit(
            actor=actor,
            action=stop,
            record=f"{SESSIONS}/{record['key']}",
            clause=STOP_CLAUSES.get(stop, ""),
        )
        log.info(
            "session start stopped (%s) in conversation %s",
            stop,
            turn_context.activity.conversation.id,
        )

    return JourneyDialog(START, services, on_complete=on_complete, on_stop=on_stop, finish=finish)


async def start_session(
    turn_context: TurnContext,
    dialog_context: DialogContext,
    services: JourneyServices,
    *,
    chosen: str | None = None,
) -> None:
    """Starts today's ready session (or the one picked), offers a choice, or says why not."""
    today = await _todays_sessions(services, worker_id(turn_context))
    if chosen is not None:
        picked = [item for item in today if item.key == chosen and item.refusal is None]
        if not picked:
            await _audit_if_not_theirs(turn_context, services, chosen)
            await turn_context.send_activity(services.templates.text("session_choice_stale"))
            return
        await _begin(dialog_context, services, picked[0].key)
        return
    startable = [item for item in today if item.refusal is None]
    if len(startable) == 1:
        await _begin(dialog_context, services, startable[0].key)
    elif startable:
        choices = [_view(item) for item in startable]
        await _send_card(turn_context, services, "choose_session", sessions=choices)
    elif today:
        views = [_view(item) for item in today]
        await turn_context.send_activity(
            services.templates.text("no_session_ready", todays_sessions=views)
        )
    else:
        await turn_context.send_activity(services.templates.text("no_session_today"))


async def _audit_if_not_theirs(
    turn_context: TurnContext, services: JourneyServices, chosen: str
) -> None:
    """Records a start pressed for a session that is someone else's, or no session at all."""
    actor = worker_id(turn_context)
    session = (
        await services.records.load(collection=SESSIONS, key=chosen)
        if len(chosen) <= KEY_MAX_LENGTH
        else None
    )
    if session is not None and session.get("owner") == actor:
        return
    await services.records.audit(
        actor=actor,
        action="refused",
        record=f"{SESSIONS}/{session['key'] if session else 'unknown'}",
        field="start_session",
    )


async def _tell_the_service_user_record(
    services: JourneyServices, session: Document, actor: str
) -> None:
    """Keeps what this session established on the service user's record, for follow-ups."""
    reference = answer_of(session, "case_reference")
    service_user = await services.records.load(collection=SERVICE_USERS, key=str(reference))
    if service_user is None:
        return
    verified = identity_verification(session)
    if verified is not None and not service_user.get("identity_verified_at"):
        service_user = await services.records.update(
            collection=SERVICE_USERS, record=service_user, changes=verified, actor=actor
        )
    number = changed_contact_number(session, service_user)
    if number is not None:
        await services.records.store_answer(
            collection=SERVICE_USERS,
            record=service_user,
            question=CONTACT_NUMBER_ON_FILE,
            value=number,
            actor=actor,
        )


async def _todays_sessions(services: JourneyServices, worker: str) -> list[TodaysSession]:
    sessions = await services.records.find(collection=SESSIONS, owner=worker)
    references = {str(answer_of(session, "case_reference") or "") for session in sessions}
    service_users = {
        reference: await services.records.load(collection=SERVICE_USERS, key=reference)
        for reference in references
        if reference
    }
    return sessions_today(sessions, service_users, now=services.records.now())


async def _begin(dialog_context: DialogContext, services: JourneyServices, key: str) -> None:
    """Opens the journey on the session; a second start of the same session carries on the first."""
    record = await services.records.load(collection=SESSIONS, key=key)
    if record is None:
        raise RuntimeError("a session found a moment ago has gone")
    resuming = record.get("open_journey") == START.id
    if not resuming:
        await services.records.update(
            collection=SESSIONS,
            record=record,
            changes={"open_journey": START.id, "opened_at": services.records.now().isoformat()},
            actor=worker_id(dialog_context.context),
        )
    await dialog_context.cancel_all_dialogs()
    lead = "resuming_record" if resuming else "session_start_begins"
    await dialog_context.begin_dialog(START.id, {"key": key, "lead": lead})


def _view(item: TodaysSession) -> dict[str, Any]:
    return {
        "key": item.key,
        "case_reference": item.case_reference,
        "time": item.time,
        "reason": item.refusal or "",
        "blockers": list(item.blockers),
    }


def _clock(moment: datetime) -> str:
    """A moment as the worker's clock shows it: "10:05", UK time."""
    return to_london(moment).strftime("%H:%M")


async def _send_card(
    turn_context: TurnContext, services: JourneyServices, name: str, **context: Any
) -> None:
    await turn_context.send_activity(card_message(services.templates.card(name, **context), name))
