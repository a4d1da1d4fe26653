"""Property-based fuzzing of activity payloads over real HTTP: never a 500, never lost state.

Arbitrary JSON, and real Teams activities (tests/fixtures) with fields removed or replaced, are
posted to the bot while a worker is half-way through setting up a service user. After each one,
whatever the bot answered, that worker's record is as it was and their next answer still works.
"""

import copy
import json
import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from templates import Templates
from tests.attack.conftest import Site
from tests.http_chat import HttpChat
from tests.transcript import FIXTURES

CASE = "CR-7001"
UNEXPECTED = Templates().text("unexpected_error")
FIXTURE_NAMES = sorted(path.stem for path in FIXTURES.glob("*.json"))
ACTIVITY_KEYS = (
    "type",
    "id",
    "text",
    "value",
    "name",
    "action",
    "conversation",
    "from",
    "recipient",
    "channelData",
    "channelId",
    "entities",
    "attachments",
    "membersAdded",
    "membersRemoved",
    "replyToId",
    "serviceUrl",
    "textFormat",
    "timestamp",
    "locale",
)
CARD_ACTIONS = (
    "answer",
    "help",
    "new_service_user",
    "start_session",
    "end_session",
    "connection_lost",
    "connection_outcome",
    "safe_word_used",
    "behaviour_end",
    "welfare_done",
    "emergency",
    "emergency_kind",
    "acknowledge",
    "show_location",
    "resolve",
    "approve_online_work",
    "decline_online_work",
)
WORDS = (
    "message",
    "invoke",
    "event",
    "conversationUpdate",
    "installationUpdate",
    "messageReaction",
    "add",
    "remove",
    "help",
    "emergency",
    "start session",
    "plan session",
    "new service user",
    "where was i",
    "back",
    "set manager channel",
    "",
)

json_leaf = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(WORDS)
)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=16,
)
card_value = st.fixed_dictionaries(
    {"action": st.sampled_from(CARD_ACTIONS)},
    optional={
        name: json_value
        for name in ("session", "escalation", "task", "question", "answer", "kind", "outcome")
    },
)


@st.composite
def mutated_activity(draw: st.DrawFn, service_url: str) -> dict[str, Any]:
    """A real Teams activity from a stranger, with a few fields dropped or replaced."""
    payload = json.loads((FIXTURES / f"{draw(st.sampled_from(FIXTURE_NAMES))}.json").read_text())
    payload.update(
        id=uuid.uuid4().hex,
        serviceUrl=service_url,
        **{"from": {"id": "29:fuzzer", "name": "Fuzz Example", "aadObjectId": "aad-fuzzer"}},
    )
    payload["conversation"]["id"] = payload["conversation"]["id"].replace("-1", "-fuzz")
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        key = draw(st.sampled_from(ACTIVITY_KEYS))
        change = draw(st.sampled_from(("drop", "replace", "nested", "card")))
        if change == "drop":
            payload.pop(key, None)
        elif change == "replace":
            payload[key] = draw(json_value)
        elif change == "card":
            payload["value"] = draw(card_value)
        elif isinstance(payload.get(key), dict) and payload[key]:
            inner = draw(st.sampled_from(sorted(payload[key])))
            payload[key] = {**payload[key], inner: draw(json_value)}
    return payload


async def answered(worker: HttpChat, text: str) -> list[dict[str, Any]]:
    assert await worker.says(text) == 201
    return worker.new_replies()


async def the_record(site: Site) -> dict[str, Any] | None:
    record = await site.stores.documents.get(collection="service_users", key=CASE)
    return copy.deepcopy(record)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_no_payload_is_a_500_or_loses_a_workers_place(
    site: Site, data: st.DataObject
) -> None:
    worker = site.person("worker-1")
    if await the_record(site) is None:  # the first example: half-way through the setup
        for typed in ("new service user", CASE, "Alex Example"):
            await answered(worker, typed)
    before = await the_record(site)
    posted_before = len(site.connector.posted)

    payload = data.draw(json_value | mutated_activity(site.connector.service_url), label="payload")
    async with site.served.session.post(
        site.served.url("/api/messages"),
        data=json.dumps(payload),
        headers={"Content-Type": "application/json"},
    ) as response:
        status = response.status
    invoke = isinstance(payload, dict) and payload.get("type") == "invoke"
    # 501 is the SDK's answer to an invoke it has no handler for: a reply, not a failure.
    assert status < 500 or (status == 501 and invoke), status
    replies = site.connector.posted[posted_before:]
    assert UNEXPECTED not in [reply.get("text") for reply in replies]

    assert await the_record(site) == before
    # The worker's next answer is taken where they left off; `back` puts it as it was.
    asked = await answered(worker, "12/03/2015")
    assert "parent or guardian" in asked[-1]["text"]
    await answered(worker, "back")
    assert await the_record(site) == before
