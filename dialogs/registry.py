"""Every dialog the bot can run, and how a worker picks up a half-finished journey."""

from botbuilder.core import ConversationState
from botbuilder.dialogs import DialogContext, DialogSet

from dialogs.journey_dialog import JourneyDialog, JourneyServices
from dialogs.line_manager import line_manager_dialog, worker_details_dialog
from dialogs.service_user_setup import service_user_setup_dialog
from dialogs.session_planning import session_planning_dialog
from dialogs.session_start import session_start_dialog
from safeguarding.journey import Journey
from safeguarding.service_user_setup import SETUP
from safeguarding.session_events import BEHAVIOUR_END, SESSION_END, WELFARE_CALL
from safeguarding.session_planning import PLANNING
from safeguarding.session_start import START
from safeguarding.worker_profile import WORKER_DETAILS, line_manager_journey

JOURNEYS: tuple[Journey, ...] = (
    SETUP,
    PLANNING,
    START,
    SESSION_END,
    WELFARE_CALL,
    BEHAVIOUR_END,
    WORKER_DETAILS,
    # Built from the configured managers when the dialogs are; here only its id and collection
    # count, to find a half-finished one.
    line_manager_journey(()),
)


def build_dialogs(
    conversation_state: ConversationState,
    services: JourneyServices,
    extra: tuple[JourneyDialog, ...] = (),
) -> DialogSet:
    """Registers every journey dialog (and the bot's own, in extra) under its versioned id."""
    dialogs = DialogSet(conversation_state.create_property("dialog_state"))
    built: tuple[JourneyDialog, ...] = (
        service_user_setup_dialog(services),
        line_manager_dialog(services),
        worker_details_dialog(services),
        session_planning_dialog(services),
        session_start_dialog(services),
        *extra,
    )
    for dialog in built:
        dialogs.add(dialog)
    return dialogs


async def resume_open_journey(
    dialog_context: DialogContext, services: JourneyServices, worker: str
) -> bool:
    """Starts the worker's most recent unfinished journey again where it stopped; False if none."""
    open_records = [
        # A journey opened on an older record (session start on a planned session) counts from
        # when it was opened, so the one the worker touched last is the one picked up.
        (record.get("opened_at") or record.get("created_at", ""), journey, record["key"])
        for journey in JOURNEYS
        for record in await services.records.find(
            collection=journey.collection, owner=worker, open_journey=journey.id
        )
    ]
    if not open_records:
        return False
    _, journey, key = max(open_records, key=lambda found: found[0])
    await dialog_context.begin_dialog(journey.id, {"key": key, "lead": "you_were_here"})
    return True
