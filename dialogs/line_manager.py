"""The worker's own profile as dialogs: their line manager, and their work mobile and name."""

from collections.abc import Callable

from botbuilder.core import TurnContext
from botbuilder.dialogs import DialogContext

from dialogs.journey_dialog import JourneyDialog, JourneyServices, worker_id
from safeguarding.journey import Facts, answer_of
from safeguarding.ports import Document
from safeguarding.records import WORKERS
from safeguarding.validation import readable_uk_phone
from safeguarding.worker_profile import (
    DETAILS,
    WORKER_DETAILS,
    line_manager_journey,
    manager_name,
)

LINE_MANAGER_ID = "line_manager.v1"


def line_manager_dialog(services: JourneyServices) -> JourneyDialog:
    """Builds the dialog; at the end it fills in a listed manager's name and confirms."""
    managers = services.config.get("managers") or ()

    async def on_complete(turn_context: TurnContext, record: Document, facts: Facts) -> None:
        chosen = answer_of(record, "line_manager")
        name = answer_of(record, "line_manager_name") or manager_name(managers, chosen or "")
        if name and answer_of(record, "line_manager_name") is None:
            record = await services.records.update(
                collection=WORKERS,
                record=record,
                changes={
                    "answers": {
                        **record["answers"],
                        "line_manager_name": {
                            "value": name,
                            "clause": "D1",
                            "at": services.records.now().isoformat(),
                            "by": worker_id(turn_context),
                            "complete": True,
                        },
                    }
                },
                actor=worker_id(turn_context),
            )
        await turn_context.send_activity(
            services.templates.text("line_manager_saved", line_manager_name=name)
        )

    return JourneyDialog(line_manager_journey(managers), services, on_complete=on_complete)


def worker_details_dialog(services: JourneyServices) -> JourneyDialog:
    """Builds the dialog that asks the work mobile and name again, and confirms them."""

    async def on_complete(turn_context: TurnContext, record: Document, _facts: Facts) -> None:
        await turn_context.send_activity(
            services.templates.text(
                "details_saved",
                work_mobile=readable_uk_phone(str(answer_of(record, "work_mobile"))),
                worker_name=str(answer_of(record, "worker_name")),
            )
        )

    return JourneyDialog(WORKER_DETAILS, services, on_complete=on_complete)


async def begin_line_manager(
    dialog_context: DialogContext, services: JourneyServices, worker: str
) -> None:
    """Starts (again) on the worker's profile, clearing the old answers so each is asked."""
    await _ask_again(
        dialog_context,
        services,
        worker,
        LINE_MANAGER_ID,
        lambda question: question.startswith("line_manager"),
    )


async def begin_worker_details(
    dialog_context: DialogContext, services: JourneyServices, worker: str
) -> None:
    """Asks the work mobile and name again (a new phone, a name change)."""
    asked = {question.id for question in DETAILS}
    await _ask_again(dialog_context, services, worker, WORKER_DETAILS.id, asked.__contains__)


async def _ask_again(
    dialog_context: DialogContext,
    services: JourneyServices,
    worker: str,
    journey: str,
    clears: Callable[[str], bool],
) -> None:
    profile = await services.records.worker(worker)
    kept = {
        question: entry
        for question, entry in profile.get("answers", {}).items()
        if not clears(question)
    }
    # Open on the profile, so `where was I` can pick it up (for the journeys it knows).
    opened = {
        "answers": kept,
        "open_journey": journey,
        "opened_at": services.records.now().isoformat(),
    }
    await services.records.update(collection=WORKERS, record=profile, changes=opened, actor=worker)
    await dialog_context.begin_dialog(journey, {"key": worker})
