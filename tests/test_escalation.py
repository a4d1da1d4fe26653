"""Emergency escalation over real HTTP, against a stub Bot Connector on loopback (D1)."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from app import PIPELINE, create_app
from safeguarding.clock import FixedClock
from safeguarding.scheduler import Scheduler
from storage import open_embedded
from tests.conftest import Served, make_settings
from tests.http_chat import TEAM_CHANNEL, HttpChat
from tests.journeys import NOW
from tests.stub_connector import StubConnector

ENV = {
    "SAFESESSION_ADMINS": "aad-admin",
    "SAFESESSION_MANAGERS": "aad-manager:Alex Manager",
    "SAFESESSION_ON_CALL_NUMBER": "01632 960 000",
    "SAFESESSION_DELIVERY_TIMEOUT_SECONDS": "1",
}
ADDRESS = {"lines": ["Flat 9", "1 Synthetic Street", "Exampleton"], "postcode": "ZZ9 9ZZ"}
SAFE_WORD = "periwinkle"
DATE_OF_BIRTH = "2015-03-12"


@dataclass
class World:
    """The bot served on loopback, the stub connector, the people, and the clock."""

    served: Served
    connector: StubConnector
    clock: FixedClock
    stores: Any
    tmp_path: Path
    worker: HttpChat
    manager: HttpChat
    manager_in_channel: HttpChat
    admin_in_channel: HttpChat

    @property
    def scheduler(self) -> Scheduler:
        return self.served.server.app[PIPELINE].scheduler

    def later(self, minutes: float) -> None:
        self.clock.moment = self.clock.moment + timedelta(minutes=minutes)

    async def restart(self) -> None:
        """Stops the app and starts a new one over the same stores (as a crash and restart)."""
        await self.served.server.close()  # closes the store, as the process exit would
        self.stores = open_embedded(self.tmp_path / "store")
        self.served.stores = self.stores
        app = create_app(
            make_settings(self.tmp_path, **ENV),
            stores=self.stores,
            clock=self.clock,
            run_scheduler=False,
        )
        self.served.server = TestServer(app, host="127.0.0.1")
        await self.served.server.start_server()


async def put(stores: Any, collection: str, key: str, document: dict[str, Any]) -> None:
    await stores.documents.put(collection=collection, key=key, document={"key": key, **document})


def answer(value: Any, clause: str = "") -> dict[str, Any]:
    return {
        "value": value,
        "clause": clause,
        "at": NOW.isoformat(),
        "by": "aad-worker",
        "complete": True,
    }


@pytest.fixture
async def world(tmp_path: Path, connector: StubConnector) -> AsyncIterator[World]:
    stores = open_embedded(tmp_path / "store")
    clock = FixedClock(NOW)
    app = create_app(
        make_settings(tmp_path, **ENV), stores=stores, clock=clock, run_scheduler=False
    )
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    served = Served(server, ClientSession(), stores)
    await put(
        stores,
        "service_users",
        "CR-1042",
        {
            "owner": "aad-worker",
            "answers": {
                "full_name": answer("Alex Example"),
                "date_of_birth": answer(DATE_OF_BIRTH),
                "safe_word": answer(SAFE_WORD),
            },
        },
    )
    await put(
        stores,
        "sessions",
        "S-ABCDEF",
        {
            "owner": "aad-worker",
            "status": "started",
            "started_at": NOW.isoformat(),
            "answers": {
                "case_reference": answer("CR-1042"),
                "address_today": answer(ADDRESS, "C2"),
            },
        },
    )
    await put(
        stores,
        "workers",
        "aad-worker",
        {
            "owner": "aad-worker",
            "answers": {
                "work_mobile": answer("+447700900123"),
                "line_manager": answer("aad-manager"),
                "line_manager_name": answer("Alex Manager"),
                "line_manager_phone": answer("+447700900456"),
            },
        },
    )
    yield World(
        served=served,
        connector=connector,
        clock=clock,
        stores=stores,
        tmp_path=tmp_path,
        worker=HttpChat(served, connector, user="worker", name="Sam Worker"),
        manager=HttpChat(served, connector, user="manager", name="Alex Manager"),
        manager_in_channel=HttpChat(
            served, connector, user="manager", name="Alex Manager", channel=True
        ),
        admin_in_channel=HttpChat(served, connector, user="admin", name="Jo Admin", channel=True),
    )
    await served.session.close()
    await served.server.close()
    served.stores.close()


async def set_channel(world: World) -> None:
    assert await world.admin_in_channel.says("set manager channel") == 201
    [reply] = world.admin_in_channel.new_replies()
    assert "Managers in Family Support" in reply["text"]


def escalation_cards(world: World) -> list[dict[str, Any]]:
    return [
        a
        for a in world.connector.to(TEAM_CHANNEL)
        if a.get("attachments") and a["attachments"][0]["name"] == "escalation"
    ]


async def test_only_an_admin_sets_the_manager_channel_and_it_survives_a_restart(
    world: World,
) -> None:
    stranger = HttpChat(
        world.served, world.connector, user="stranger", name="Pat Person", channel=True
    )
    await stranger.says("set manager channel")
    assert "only SafeSession admins" in stranger.new_replies()[0]["text"]
    await stranger.says("manager channel")
    assert "No manager channel is set" in stranger.new_replies()[0]["text"]
    await set_channel(world)
    await world.restart()
    await world.worker.says("manager channel")
    assert "Managers in Family Support" in world.worker.new_replies()[0]["text"]


async def test_emergency_posts_the_card_and_tells_the_worker_in_one_turn(world: World) -> None:
    await set_channel(world)
    assert await world.worker.says("emergency") == 201

    [card] = escalation_cards(world)
    assert card["_conversation"] == TEAM_CHANNEL  # a new thread, not a reply to the admin
    content = card["attachments"][0]["content"]
    facts = {fact["title"]: fact["value"] for fact in content["body"][2]["facts"]}
    assert facts["Session"] == "S-ABCDEF" and facts["Case reference"] == "CR-1042"
    assert facts["Call the worker on"] == "07700 900123"
    assert content["msteams"]["entities"][0]["mentioned"]["id"] == "29:worker"
    assert [action["data"]["action"] for action in content["actions"]] == [
        "acknowledge",
        "show_location",
        "resolve",
    ]

    told = world.worker.new_replies()
    assert "went to the manager channel" in told[0]["text"] and "call 999" in told[0]["text"]
    assert "+447700900456" in told[0]["text"]
    assert told[1]["attachments"][0]["name"] == "emergency_kind"


async def test_the_channel_card_never_carries_address_dob_or_safe_word(world: World) -> None:
    await set_channel(world)
    await world.worker.says("emergency")
    [kind_card] = world.worker.new_replies()[1:]
    key = kind_card["attachments"][0]["content"]["actions"][0]["data"]["escalation"]
    await world.worker.presses(
        {"action": "emergency_kind", "escalation": key, "kind": "child_in_danger"}
    )
    await world.manager_in_channel.presses({"action": "acknowledge", "escalation": key})
    everything_in_channel = json.dumps(world.connector.to(TEAM_CHANNEL) + world.connector.updated)
    for secret in [
        *ADDRESS["lines"],
        ADDRESS["postcode"],
        DATE_OF_BIRTH,
        "12/03/2015",
        SAFE_WORD,
        "Alex Example",
    ]:
        assert secret not in everything_in_channel


async def test_acknowledge_updates_the_card_for_everyone_and_tells_the_worker(world: World) -> None:
    await set_channel(world)
    await world.worker.says("emergency")
    key = world.worker.new_replies()[1]["attachments"][0]["content"]["actions"][0]["data"][
        "escalation"
    ]
    world.later(2)
    await world.manager_in_channel.presses({"action": "acknowledge", "escalation": key})
    [update] = world.connector.updated
    status = next(
        item for item in update["attachments"][0]["content"]["body"] if item.get("id") == "status"
    )
    assert status["text"] == "Acknowledged by Alex Manager at 10:02 on Thursday 26 November 2026"
    assert "Alex Manager has your emergency alert" in world.worker.new_replies()[0]["text"]

    world.later(10)
    assert await world.scheduler.run_due() == 0  # no re-notification once acknowledged
    assert world.worker.new_replies() == []


async def test_show_location_goes_privately_to_a_manager_and_is_recorded(world: World) -> None:
    await set_channel(world)
    await world.manager.says("hi")  # the manager has opened their personal chat
    world.manager.new_replies()
    await world.worker.says("emergency")
    key = world.worker.new_replies()[1]["attachments"][0]["content"]["actions"][0]["data"][
        "escalation"
    ]

    await world.admin_in_channel.presses({"action": "show_location", "escalation": key})
    outsider = HttpChat(world.served, world.connector, user="stranger", name="Pat", channel=True)
    await outsider.presses({"action": "show_location", "escalation": key})
    assert "Only managers" in outsider.new_replies()[-1]["text"]

    await world.manager_in_channel.presses({"action": "show_location", "escalation": key})
    [private] = world.manager.new_replies()
    assert "1 Synthetic Street" in private["text"] and "ZZ9 9ZZ" in private["text"]
    assert (
        "sent the location privately to Alex Manager"
        in world.manager_in_channel.new_replies()[-1]["text"]
    )
    audit = await world.stores.documents.find(collection="audit", where={"action": "view_location"})
    assert [(event["actor"], event["record"]) for event in audit][-1] == (
        "aad-manager",
        f"escalations/{key}",
    )


async def test_unacknowledged_escalation_is_chased_once_per_interval_then_on_call(
    world: World,
) -> None:
    await set_channel(world)
    await world.manager.says("hi")
    world.manager.new_replies()
    await world.worker.says("emergency")
    world.worker.new_replies()

    world.later(4.9)
    assert await world.scheduler.run_due() == 0
    for attempt in (1, 2, 3):
        world.later(5)
        assert await world.scheduler.run_due() == 1
        assert await world.scheduler.run_due() == 0  # exactly once per interval
        assert len(escalation_cards(world)) == 1 + attempt
        assert "has not been acknowledged" in world.manager.new_replies()[0]["text"]
        [worker_told] = world.worker.new_replies()
        expected = "01632 960 000" if attempt == 3 else "chased again"
        assert expected in worker_told["text"]
    world.later(30)
    assert await world.scheduler.run_due() == 0


async def test_a_failing_channel_is_retried_the_worker_told_and_a_restart_loses_nothing(
    world: World,
) -> None:
    await set_channel(world)
    world.connector.fail(TEAM_CHANNEL, 403)
    await world.worker.says("emergency")
    assert escalation_cards(world) == []
    told = world.worker.new_replies()
    assert "has NOT been seen yet" in told[0]["text"] and "+447700900456" in told[0]["text"]

    world.connector.fail(TEAM_CHANNEL, 500, 500, 500, 500, "hang")
    world.later(1)
    await world.scheduler.run_due()
    assert escalation_cards(world) == []

    await world.restart()
    world.connector.recover()
    world.later(5)
    await world.scheduler.run_due()
    cards = escalation_cards(world)
    assert len(cards) >= 1
    assert any(
        "has now reached the manager channel" in reply.get("text", "")
        for reply in world.worker.new_replies()
    )
    world.later(60)
    while await world.scheduler.run_due():
        pass
    # One delivered card and three re-notifications: nothing duplicated by the restart.
    assert len(escalation_cards(world)) == 1 + 3


async def test_emergency_without_a_manager_channel_says_phone_now(world: World) -> None:
    await world.worker.says("emergency")
    told = world.worker.new_replies()
    assert "has NOT been seen yet" in told[0]["text"] and "01632 960 000" in told[0]["text"]


async def test_a_hanging_channel_does_not_hold_up_the_worker(world: World) -> None:
    await set_channel(world)
    world.connector.fail(TEAM_CHANNEL, "hang")
    assert await world.worker.says("emergency") == 201
    assert "has NOT been seen yet" in world.worker.new_replies()[0]["text"]
    world.connector.recover()
    world.later(1)
    await world.scheduler.run_due()  # the delivery was kept as a job, and now gets through
    assert len(escalation_cards(world)) == 1


SETUP_ANSWERS = (
    "new service user",
    "CR-2002",
    "Alex Example",
    "01/06/1990",
    "Alex Example, self, yes",
    "done",
    "phone",
    "phone",
    "20/11/2026",
    "medium",
    "Manager to review before any session.",
)


async def test_medium_risk_asks_the_manager_channel_and_only_a_manager_decides(
    world: World,
) -> None:
    await set_channel(world)
    for typed in SETUP_ANSWERS:
        assert await world.worker.says(typed) == 201
    assert "needs a manager's approval" in world.worker.new_replies()[-1]["text"]
    [request] = [
        a
        for a in world.connector.to(TEAM_CHANNEL)
        if a.get("attachments") and a["attachments"][0]["name"] == "approval_request"
    ]
    content = request["attachments"][0]["content"]
    assert "Alex Example" not in json.dumps(content)
    approve = content["actions"][0]["data"]
    assert approve == {"action": "approve_online_work", "case_reference": "CR-2002"}

    stranger = HttpChat(world.served, world.connector, user="stranger", name="Pat", channel=True)
    await stranger.presses(approve)
    assert "Only managers" in stranger.new_replies()[-1]["text"]
    record = await world.stores.documents.get(collection="service_users", key="CR-2002")
    assert record["approval"]["status"] == "requested"

    await world.manager_in_channel.presses(approve)
    record = await world.stores.documents.get(collection="service_users", key="CR-2002")
    assert record["approval"]["status"] == "approved"
    assert record["approval"]["decided_by"] == "aad-manager"
    [update] = world.connector.updated
    assert update["attachments"][0]["content"]["actions"] == []
    assert (
        "Alex Manager has approved online work for CR-2002"
        in world.worker.new_replies()[-1]["text"]
    )


async def test_resolve_needs_a_manager_and_a_note_then_closes_the_alert(world: World) -> None:
    await set_channel(world)
    await world.worker.says("emergency")
    key = world.worker.new_replies()[1]["attachments"][0]["content"]["actions"][0]["data"][
        "escalation"
    ]
    stranger = HttpChat(world.served, world.connector, user="stranger", name="Pat", channel=True)
    await stranger.presses({"action": "resolve", "escalation": key, "outcome": "Sorted."})
    assert "Only managers" in stranger.new_replies()[-1]["text"]
    await world.manager_in_channel.presses(
        {"action": "resolve", "escalation": key, "outcome": "  "}
    )
    assert "outcome note" in world.manager_in_channel.new_replies()[-1]["text"]

    note = "Spoke to the worker; police attended; family safe."
    await world.manager_in_channel.presses(
        {"action": "resolve", "escalation": key, "outcome": note}
    )
    record = await world.stores.documents.get(collection="escalations", key=key)
    assert record["status"] == "resolved" and record["outcome_note"] == note
    [update] = world.connector.updated
    assert note not in json.dumps(update)
    assert "Resolve" not in [a["title"] for a in update["attachments"][0]["content"]["actions"]]
    assert "marked your emergency alert" in world.worker.new_replies()[-1]["text"]
    world.later(30)
    assert await world.scheduler.run_due() == 0


async def started_session_card(world: World) -> None:
    """The worker has the in-session card of S-ABCDEF in their chat (they said hi first)."""
    await world.worker.says("hi")
    world.worker.new_replies()


async def test_a_lost_connection_prompt_reaches_the_worker_through_the_connector(
    world: World,
) -> None:
    await started_session_card(world)
    await world.worker.presses({"action": "connection_lost", "session": "S-ABCDEF"})
    [card] = world.worker.new_replies()
    assert card["attachments"][0]["name"] == "connection_lost"
    world.later(5)
    assert await world.scheduler.run_due() == 1
    [prompt] = world.worker.new_replies()
    assert "Call them now on your work mobile" in prompt["text"]


async def test_behaviour_reaches_the_line_manager_privately_through_the_connector(
    world: World,
) -> None:
    await set_channel(world)
    await world.manager.says("hi")
    world.manager.new_replies()
    await started_session_card(world)
    await world.worker.presses({"action": "behaviour_end", "session": "S-ABCDEF"})
    world.worker.new_replies()
    await world.worker.says("Threw things at the screen and shouted at me.")
    [told] = world.manager.new_replies()
    assert "because of behaviour" in told["text"] and "Threw things" not in told["text"]
    assert "Threw things" not in json.dumps(world.connector.to(TEAM_CHANNEL))
