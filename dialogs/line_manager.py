"""The line-manager journey as a dialog: stored on the worker's own profile."""

from botbuilder.core import TurnContext
from botbuilder.dialogs import DialogContext

from dialogs.journey_dialog import JourneyDialog, JourneyServices, worker_id
from safeguarding.journey import Facts, answer_of
from safeguarding.ports import Document
from safeguarding.records import WORKERS
from safeguarding.worker_profile import line_manager_journey, manager_name

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


async def begin_line_manager(
    dialog_context: DialogContext, services: JourneyServices, worker: str
) -> None:
    """Starts (again) on the worker's profile, clearing the old answers so each is asked."""
    profile = await services.records.worker(worker)
    kept = {
        question: entry
        for question, entry in profile.get("answers", {}).items()
        if not question.startswith("line_manager")
    }
    await services.records.update(
        collection=WORKERS, record=profile, changes={"answers": kept}, actor=worker
    )
    await dialog_context.begin_dialog(LINE_MANAGER_ID, {"key": worker})
