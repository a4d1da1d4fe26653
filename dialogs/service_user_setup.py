"""Service-user setup as a dialog: the journey in safeguarding/, plus what happens at its end."""

from botbuilder.core import TurnContext

from dialogs.journey_dialog import JourneyDialog, JourneyServices, worker_id
from safeguarding.journey import Facts
from safeguarding.ports import Document
from safeguarding.records import SERVICE_USERS
from safeguarding.service_user_setup import SETUP, needs_manager_approval, refused_consent


def service_user_setup_dialog(services: JourneyServices) -> JourneyDialog:
    """Builds the setup dialog; at the end it records any approval request and says what's next."""

    async def on_complete(turn_context: TurnContext, record: Document, facts: Facts) -> None:
        send = turn_context.send_activity
        level = facts.answer("risk_level")
        if needs_manager_approval(record):
            if not record.get("approval"):
                record = await services.records.update(
                    collection=SERVICE_USERS,
                    record=record,
                    changes={
                        "approval": {
                            "status": "requested",
                            "requested_at": services.records.now().isoformat(),
                            "requested_by": worker_id(turn_context),
                        }
                    },
                    actor=worker_id(turn_context),
                )
            await send(
                services.templates.text(
                    "setup_done_needs_approval", case_reference=record["key"], risk_level=level
                )
            )
            if services.on_approval_needed is not None:
                await services.on_approval_needed(turn_context, record)
        else:
            await send(services.templates.text("setup_done", case_reference=record["key"]))
        refused = refused_consent(record)
        if refused:
            await send(services.templates.text("consent_refused", names=refused))

    return JourneyDialog(SETUP, services, on_complete=on_complete)
