"""Session planning as a dialog: the journey in safeguarding/, how it starts and how it ends.

See session_planning.mmd beside this file for the branches.
"""

import asyncio
import logging
from datetime import datetime
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import DialogContext

from dialogs.cards import copyable_message
from dialogs.journey_dialog import JourneyDialog, JourneyServices, worker_id
from dialogs.space_between import too_close_to, warn_if_too_close
from safeguarding.clock import format_london
from safeguarding.journey import Facts, answer_of
from safeguarding.ports import Document
from safeguarding.readiness import blockers
from safeguarding.records import SESSIONS
from safeguarding.session_planning import PLANNING, message_context, session_key, starts_at

log = logging.getLogger("safesession.planning")
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

    async def finish(_context: TurnContext, record: Document, facts: Facts) -> dict[str, Any]:
        found = blockers(record, facts.related.get("service_user") or {})
        start = starts_at(record)
        if start is None:
            raise RuntimeError("a completed plan has no start time")
        worker = facts.related.get("worker") or {}
        message = templates.text(
            "pre_session_message", **message_context(record, worker, services.config)
        )
        return {
            "status": "planned",
            "starts_at": start.isoformat(),
            "ready": not found,
            "blockers": found,
            "pre_session_message": message,
        }

    async def on_complete(turn_context: TurnContext, record: Document, facts: Facts) -> None:
        risk_level = answer_of(facts.related.get("service_user") or {}, "risk_level")

        async def first_messages() -> None:
            await turn_context.send_activity(
                templates.text(
                    "session_planned",
                    case_reference=facts.answer("case_reference"),
                    when=format_london(datetime.fromisoformat(record["starts_at"])),
                    reasons=[
                        templates.text(f"blocker/{code}", risk_level=risk_level)
                        for code in record["blockers"]
                    ],
                )
            )
            await turn_context.send_activity(templates.text("pre_session_message_lead"))

        # While the first messages go out, the disclosure is recorded (the message itself waits
        # for it, A5) and the worker's other sessions are looked up (if that fails, no warning).
        sent, close, disclosed = await asyncio.gather(
            first_messages(),
            too_close_to(turn_context, services, record),
            services.records.disclose(
                actor=worker_id(turn_context),
                record=f"{SESSIONS}/{record['key']}",
                field="pre_session_message",
                clause="A5",
                reason="to_copy_to_the_family",
            ),
            return_exceptions=True,
        )
        for outcome in (sent, disclosed):
            if isinstance(outcome, BaseException):
                raise outcome
        if isinstance(close, BaseException):
            log.warning(
                "could not look for sessions too close in conversation %s: %s",
                turn_context.activity.conversation.id,
                type(close).__name__,
            )
            close = []
        await turn_context.send_activity(copyable_message(record["pre_session_message"]))
        await warn_if_too_close(turn_context, services, close)

    async def on_stop(turn_context: TurnContext, record: Document, facts: Facts) -> None:
        found = blockers(record, facts.related.get("service_user") or {})
        await services.records.update(
            collection=SESSIONS,
            record=record,
            changes={"status": "blocked", "ready": False, "blockers": found},
            actor=worker_id(turn_context),
        )

    return JourneyDialog(
        PLANNING, services, on_complete=on_complete, on_stop=on_stop, finish=finish
    )
