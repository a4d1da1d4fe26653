"""Someone from another organisation's tenant: a short refusal, and nothing stored or changed.

`tests/test_http_edge.py::test_foreign_tenant_is_refused_and_nothing_is_stored` covers a typed
message and an install; here the foreign activities are card submits naming a real worker's
running session and the emergency button, from someone using that worker's own ids.
"""

from typing import Any

from templates import Templates
from tests.attack.conftest import Site, SiteFactory
from tests.http_chat import TEAM_CHANNEL
from tests.test_session_start import SESSION, given_service_user, given_session
from tests.transcript import TENANT

FOREIGN = "99999999-0000-4000-8000-000000000000"


def from_abroad(site: Site, **fields: Any) -> dict[str, Any]:
    """An activity from the worker's ids, but in another organisation's tenant."""
    payload = site.person("worker-1").activity(**fields)
    payload["conversation"]["tenantId"] = FOREIGN
    payload["channelData"]["tenant"]["id"] = FOREIGN
    return payload


async def test_foreign_card_submits_are_refused_and_change_nothing(open_site: SiteFactory) -> None:
    site = await open_site(SAFESESSION_ALLOWED_TENANTS=TENANT)
    await given_service_user(site.stores)
    await given_session(site.stores, status="started")
    stored_before, files_before = await site.stored(), site.store_files()
    worker = site.person("worker-1")

    for value in (
        {"action": "end_session", "session": SESSION},
        {"action": "emergency", "session": SESSION},
        {"action": "start_session", "session": SESSION},
        {"action": "answer", "question": "case_reference", "answer": "CR-1042"},
    ):
        assert await worker.post(from_abroad(site, value=value)) == 201
    assert await worker.post(from_abroad(site, text="emergency")) == 201

    refusal = Templates().text("tenant_refused")
    assert [reply.get("text") for reply in worker.new_replies()] == [refusal] * 5
    assert site.connector.updated == []
    assert await site.stored() == stored_before
    assert site.store_files() == files_before


async def test_with_an_allow_list_the_bots_own_alerts_still_go_out(open_site: SiteFactory) -> None:
    site = await open_site(SAFESESSION_ALLOWED_TENANTS=TENANT)
    await site.person("admin", "Jo Admin", channel=True).says("set manager channel")
    worker = site.person("worker-1")
    assert await worker.says("emergency") == 201
    [card] = [a for a in site.connector.to(TEAM_CHANNEL) if a.get("attachments")]
    assert card["attachments"][0]["name"] == "escalation"
    assert "went to the manager channel" in worker.new_replies()[0]["text"]


async def test_a_continuation_event_from_outside_is_refused(open_site: SiteFactory) -> None:
    site = await open_site(SAFESESSION_ALLOWED_TENANTS=TENANT)
    files_before = site.store_files()
    worker = site.person("worker-1")
    spoof = from_abroad(site, type="event", name="ContinueConversation")
    assert await worker.post(spoof) == 400
    assert site.connector.posted == []
    assert site.store_files() == files_before
