"""Every dialog the bot can run, and how a worker picks up a half-finished journey."""

from botbuilder.core import ConversationState
from botbuilder.dialogs import DialogContext, DialogSet

from dialogs.journey_dialog import JourneyDialog, JourneyServices
from dialogs.service_user_setup import service_user_setup_dialog
from safeguarding.journey import Journey
from safeguarding.service_user_setup import SETUP

JOURNEYS: tuple[Journey, ...] = (SETUP,)


def build_dialogs(conversation_state: ConversationState, services: JourneyServices) -> DialogSet:
    """Registers every journey dialog under its versioned id."""
    dialogs = DialogSet(conversation_state.create_property("dialog_state"))
    built: tuple[JourneyDialog, ...] = (service_user_setup_dialog(services),)
    for dialog in built:
        dialogs.add(dialog)
    return dialogs


async def resume_open_journey(
    dialog_context: DialogContext, services: JourneyServices, worker: str
) -> bool:
    """Starts the worker's most recent unfinished journey again where it stopped; False if none."""
    open_records = [
        (record.get("created_at", ""), journey, record["key"])
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
