"""Arbitrary text and card payloads at every step of every journey: no crash, no lost answer."""

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogs.interruptions import WORDS
from safeguarding.words import normalise
from storage import memory_stores
from templates import Templates
from tests.journeys import journey_chat
from tests.transcript import Chat

UNEXPECTED = Templates().text("unexpected_error")

# A valid way through each journey: what to send at each step, from the start command on.
SETUP_SCRIPT: tuple[Any, ...] = (
    "new service user",
    "CR-2001",
    "Alex Example",
    "12/03/2015",
    "Sam Example, mother",
    "Sam Example, mother, yes",
    "done",
    "email, phone",
    "phone",
    "20/11/2026",
    "low",
    "Weekly check-in.",
)
PLANNING_SCRIPT: tuple[Any, ...] = (
    "plan session",
    "CR-2001",
    "introductory",
    "03/12/2026",
    "14:30",
    "video",
    "yes",
    "1",
    "Call back within 5 minutes.",
    "07700 900123",
    "07700 900456",
    "Jo Worker",
    "yes",
    "none",
)
# Each journey's script, and the step from which garbage is thrown (planning needs a set-up
# service user first).
SCRIPTS: dict[str, tuple[tuple[Any, ...], int]] = {
    "service_user_setup.v1": (SETUP_SCRIPT, 1),
    "session_planning.v1": (SETUP_SCRIPT + PLANNING_SCRIPT, len(SETUP_SCRIPT) + 1),
}
COLLECTIONS = ("service_users", "sessions", "workers")

not_a_global_word = st.text(max_size=300).filter(lambda text: normalise(text) not in WORDS)
json_leaf = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
)
card_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=8,
)
answer_card = st.fixed_dictionaries(
    {"action": st.just("answer")},
    optional={"question": st.text(max_size=20), "answer": card_value, "name": card_value},
)
garbage = st.lists(
    st.one_of(
        not_a_global_word.map(lambda text: ("text", text)),
        (card_value | answer_card).map(lambda value: ("card", value)),
    ),
    min_size=1,
    max_size=4,
)


async def send(chat: Chat, item: Any) -> None:
    if isinstance(item, tuple) and item[0] == "card":
        await chat.submit(item[1])
    else:
        await chat.user(item[1] if isinstance(item, tuple) else item)


async def snapshot(stores: Any) -> dict[tuple[str, str], Any]:
    """Every record the journeys write, by collection and key."""
    return {
        (collection, record["key"]): record
        for collection in COLLECTIONS
        for record in await stores.documents.find(collection=collection)
    }


def drain(chat: Chat) -> list[Any]:
    replies = list(chat.adapter.activity_buffer)
    chat.adapter.activity_buffer.clear()
    return replies


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
async def test_garbage_at_any_step_is_answered_and_loses_nothing(
    tmp_path: Path, data: st.DataObject
) -> None:
    journey_id = data.draw(st.sampled_from(sorted(SCRIPTS)))
    script, first = SCRIPTS[journey_id]
    step = data.draw(st.integers(min_value=first, max_value=len(script) - 1))
    stores = memory_stores()
    chat = journey_chat(tmp_path, stores)
    for item in script[:step]:
        await send(chat, item)
    drain(chat)
    before = await snapshot(stores)

    for item in data.draw(garbage):
        await send(chat, item)
        replies = drain(chat)
        assert replies, "every message gets an answer"
        assert all(reply.text != UNEXPECTED for reply in replies)

    after = await snapshot(stores)
    for (collection, key), record in before.items():
        for question, entry in record.get("answers", {}).items():
            if entry.get("complete", True):
                kept = after[(collection, key)]["answers"][question]
                assert kept["value"] == entry["value"], (collection, question)
    # The journey still finishes normally from wherever it is.
    for item in script[step:]:
        await send(chat, item)
    replies = drain(chat)
    assert all(reply.text != UNEXPECTED for reply in replies)
