"""Card submits and answers naming another worker's session, task, alert or service user.

Each is refused without changing the other worker's records, and audited: who tried, which
record, which button or question; never anything they typed.
"""

from typing import Any

import pytest

from templates import Templates
from tests.attack.conftest import Site
from tests.http_chat import HttpChat
from tests.test_session_start import CASE, SESSION, WORKER, given_service_user, given_session

INTRUDER = "aad-intruder"
TEXTS = Templates()


async def owned_by_the_worker(site: Site) -> dict[str, Any]:
    """The worker's service user, running session, open welfare task and raised alert."""
    await given_service_user(site.stores)
    await given_session(site.stores, status="started")
    await site.stores.documents.put(
        collection="tasks",
        key="T-WELF01",
        document={
            "key": "T-WELF01",
            "owner": WORKER,
            "kind": "welfare_call",
            "session": SESSION,
            "case_reference": CASE,
            "status": "open",
            "answers": {},
        },
    )
    worker = site.person("worker-1")
    assert await worker.says("emergency") == 201
    worker.new_replies()
    [alert] = await site.documents("escalations")
    return {"escalation": alert["key"]}


def replies(person: HttpChat) -> list[str]:
    return [reply.get("text") or reply["attachments"][0]["name"] for reply in person.new_replies()]


@pytest.mark.parametrize(
    "action", ["end_session", "connection_lost", "safe_word_used", "behaviour_end"]
)
async def test_in_session_buttons_for_anothers_session_are_refused_and_audited(
    site: Site, action: str
) -> None:
    await owned_by_the_worker(site)
    before = await site.stored()
    intruder = site.person("intruder")
    assert await intruder.presses({"action": action, "session": SESSION}) == 201
    assert replies(intruder) == [TEXTS.text("end_session_refused")]
    assert (await site.stored())["sessions"] == before["sessions"]
    assert await site.audit("refused") == [(INTRUDER, f"sessions/{SESSION}", action)]


async def test_another_workers_alert_cannot_be_changed_nor_its_location_seen(site: Site) -> None:
    alert = (await owned_by_the_worker(site))["escalation"]
    before = await site.stored()
    intruder = site.person("intruder")
    await intruder.presses({"action": "emergency_kind", "escalation": alert, "kind": "other"})
    await intruder.presses({"action": "show_location", "escalation": alert})
    assert replies(intruder) == [
        TEXTS.text("card_not_understood"),
        TEXTS.text("location_managers_only"),
    ]
    assert (await site.stored())["escalations"] == before["escalations"]
    assert await site.audit("refused") == [
        (INTRUDER, f"escalations/{alert}", "address_today"),
        (INTRUDER, f"escalations/{alert}", "emergency_kind"),
    ]


async def test_an_emergency_naming_anothers_session_still_goes_out_without_it(
    site: Site,
) -> None:
    await owned_by_the_worker(site)
    intruder = site.person("intruder")
    assert await intruder.presses({"action": "emergency", "session": SESSION}) == 201
    theirs = [a for a in await site.documents("escalations") if a["worker"] == INTRUDER]
    assert [(a["session_key"], a["case_reference"]) for a in theirs] == [("", "")]
    assert await site.audit("refused") == [(INTRUDER, f"sessions/{SESSION}", "emergency")]


async def test_another_workers_welfare_task_cannot_be_marked_done(site: Site) -> None:
    await owned_by_the_worker(site)
    intruder = site.person("intruder")
    await intruder.presses({"action": "welfare_done", "task": "T-WELF01"})
    assert replies(intruder) == [TEXTS.text("card_not_understood")]
    [task] = await site.documents("tasks")
    assert task["status"] == "open"
    assert await site.audit("refused") == [(INTRUDER, "tasks/T-WELF01", "welfare_done")]


async def test_another_workers_session_cannot_be_started(site: Site) -> None:
    await owned_by_the_worker(site)
    await given_session(site.stores, key="S-PLANNED", status="planned")
    before = await site.stored()
    intruder = site.person("intruder")
    await intruder.presses({"action": "start_session", "session": "S-PLANNED"})
    assert replies(intruder) == [TEXTS.text("session_choice_stale")]
    assert (await site.stored())["sessions"] == before["sessions"]
    assert await site.audit("refused") == [(INTRUDER, "sessions/S-PLANNED", "start_session")]


@pytest.mark.parametrize(
    ("command", "question"),
    [("new service user", "case_reference"), ("plan session", "case_reference")],
)
async def test_another_workers_case_reference_is_refused_in_a_journey(
    site: Site, command: str, question: str
) -> None:
    await owned_by_the_worker(site)
    service_user_before = (await site.stored())["service_users"]
    intruder = site.person("intruder")
    await intruder.says(command)
    intruder.new_replies()
    await intruder.says(CASE)
    assert TEXTS.text("not_your_record") in replies(intruder)
    assert (await site.stored())["service_users"] == service_user_before
    assert await site.audit("refused") == [(INTRUDER, f"service_users/{CASE}", question)]


async def test_refusals_name_records_never_what_was_typed(site: Site) -> None:
    await owned_by_the_worker(site)
    intruder = site.person("intruder")
    typed = "Periwinkle Example, 10 Example Street"
    await intruder.presses({"action": "end_session", "session": typed})
    await intruder.presses({"action": "welfare_done", "task": typed})
    await intruder.presses({"action": "start_session", "session": typed})
    assert await site.audit("refused") == [
        (INTRUDER, "sessions/unknown", "end_session"),
        (INTRUDER, "sessions/unknown", "start_session"),
        (INTRUDER, "tasks/unknown", "welfare_done"),
    ]
    assert "Periwinkle" not in str(await site.documents("audit"))
