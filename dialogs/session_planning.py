"""Session planning as a dialog: the journey in safeguarding/, how it starts and how it ends.

See session_planning.mmd beside this file for the branches.
"""

from botbuilder.core import TurnContext
from botbuilder.dialogs import DialogContext

from dialogs.cards import copyable_message
from dialogs.journey_dialog import JourneyDialog, JourneyServices, worker_id
from dialogs.space_between import warn_if_too_close
from safeguarding.clock import format_london
from safeguarding.journey import Facts, answer_of
from safeguarding.ports import Document
from safeguarding.readiness import blockers
from safeguarding.records import SESSIONS
from safeguarding.session_planning import PLANNING, message_context, session_key, starts_at

# Keys are random; a clash is all but impossible, but a record is never overwritten.
KEY_ATTEMPTS = 20


async def begin_planning(
    dialog_context: DialogContext, services: JourneyServices, worker: str
) -> None:
    """Creates the session record under a new key and asks the first planning question."""
    for _ in range(KEY_ATTEMPTS):
        key = session_key()
        if await services.records.load(collection=SESSIONS, key=key) is None:
            break
    else:
        raise RuntimeError("could not find a free session key")
    await services.records.create(
        collection=SESSIONS,
        key=key,
        actor=worker,
        fields={"journey": PLANNING.id, "open_journey": PLANNING.id, "status": "planning"},
    )
    await dialog_context.begin_dialog(PLANNING.id, {"key": key, "lead": "planning_start"})


def session_planning_dialog(services: JourneyServices) -> JourneyDialog:
    """Builds the planning dialog; its end says if the session is ready and gives the message."""
    templates = services.templates

    async def on_complete(turn_context: TurnContext, record: Document, facts: Facts) -> None:
        service_user = facts.related.get("service_user") or {}
        found = blockers(record, service_user)
        start = starts_at(record)
        if start is None:
            raise RuntimeError("a completed plan has no start time")
        worker = facts.related.get("worker") or {}
        message = templates.text(
            "pre_session_message", **message_context(record, worker, services.config)
        )
        await services.records.update(
            collection=SESSIONS,
            record=record,
            changes={
                "status": "planned",
                "starts_at": start.isoformat(),
                "ready": not found,
                "blockers": found,
                "pre_session_message": message,
            },
            actor=worker_id(turn_context),
        )
        risk_level = answer_of(service_user, "risk_level")
        await turn_context.send_activity(
            templates.text(
                "session_planned",
                case_reference=facts.answer("case_reference"),
                when=format_london(start),
                reasons=[
                    templates.text(f"blocker/{code}", risk_level=risk_level) for code in found
                ],
            )
        )
        await turn_context.send_activity(templates.text("pre_session_message_lead"))
        await services.records.disclose(
            actor=worker_id(turn_context),
            record=f"{SESSIONS}/{record['key']}",
            field="pre_session_message",
            clause="A5",
            reason="to_copy_to_the_family",
        )
        await turn_context.send_activity(copyable_message(message))
        await warn_if_too_close(turn_context, services, {**record, "starts_at": start.isoformat()})

    async def on_stop(turn_context: TurnContext, record: Document, facts: Facts) -> None:
        found = blockers(record, facts.related.get("service_user") or {})
        await services.records.update(
            collection=SESSIONS,
            record=record,
            changes={"status": "blocked", "ready": False, "blockers": found},
            actor=worker_id(turn_context),
        )

    return JourneyDialog(PLANNING, services, on_complete=on_complete, on_stop=on_stop)
