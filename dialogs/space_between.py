"""Space between contacts (E2): at the end of planning, a word if sessions sit too close."""

from datetime import datetime
from typing import Any

from botbuilder.core import TurnContext

from dialogs.journey_dialog import JourneyServices, worker_id
from safeguarding.care_state import CARE, snoozed_until
from safeguarding.clock import format_london
from safeguarding.ports import Document
from safeguarding.records import SESSIONS
from safeguarding.self_care import (
    SPACE_BETWEEN,
    Neighbour,
    SelfCarePolicy,
    reminders_on,
    too_close,
)


async def too_close_to(
    turn_context: TurnContext, services: JourneyServices, session: Document
) -> list[Neighbour]:
    """The worker's other sessions that leave too little space around this one; none when
    the reminder is off or snoozed."""
    policy = services.config.get("self_care")
    start = session.get("starts_at")
    if not isinstance(policy, SelfCarePolicy) or not isinstance(start, str):
        return []
    worker = worker_id(turn_context)
    now = services.records.now()
    profile = await services.records.worker(worker)
    state = await services.records.load(collection=CARE, key=worker) or {}
    if SPACE_BETWEEN not in reminders_on(profile) or snoozed_until(state, SPACE_BETWEEN, now):
        return []
    others = await services.records.find(collection=SESSIONS, owner=worker)
    return too_close(datetime.fromisoformat(start), others, policy, exclude=str(session["key"]))


async def warn_if_too_close(
    turn_context: TurnContext, services: JourneyServices, close: list[Neighbour]
) -> None:
    """Says which of the worker's other sessions leave too little space, if any do."""
    policy = services.config.get("self_care")
    if not close or not isinstance(policy, SelfCarePolicy):
        return
    neighbours: list[dict[str, Any]] = [
        {"case_reference": item.case_reference, "when": format_london(item.starts_at)}
        for item in close
    ]
    await turn_context.send_activity(
        services.templates.text(
            "space_between_contacts",
            neighbours=neighbours,
            space_minutes=round(policy.space_between_minutes),
            session_minutes=round(policy.session_minutes),
        )
    )
