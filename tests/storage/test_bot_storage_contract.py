"""The botbuilder Storage contract (e_tags, jsonpickle, all or nothing) for every adapter."""

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from botbuilder.core import ConversationState, MessageFactory, Storage, StoreItem, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.dialogs import (
    DialogInstance,
    DialogSet,
    DialogState,
    DialogTurnResult,
    DialogTurnStatus,
    PromptOptions,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)

from storage import Stores
from storage.bot_state import StorageConflict

Logic = Callable[[TurnContext], Awaitable[None]]


async def ask_name_step(step: WaterfallStepContext) -> DialogTurnResult:
    return await step.prompt(
        "name.v1", PromptOptions(prompt=MessageFactory.text("What is your name?"))
    )


async def greet_step(step: WaterfallStepContext) -> DialogTurnResult:
    await step.context.send_activity(f"Hello {step.result}")
    return await step.end_dialog()


def greeting_bot(bot_storage: Storage, state_keys: list[str]) -> Logic:
    """A two-step dialog whose state lives only in bot_storage: nothing is cached between turns."""

    async def logic(turn_context: TurnContext) -> None:
        conversation_state = ConversationState(bot_storage)
        dialogs = DialogSet(conversation_state.create_property("dialog_state"))
        dialogs.add(TextPrompt("name.v1"))
        dialogs.add(WaterfallDialog("greeting.v1", [ask_name_step, greet_step]))
        dialog_context = await dialogs.create_context(turn_context)
        result = await dialog_context.continue_dialog()
        if result.status == DialogTurnStatus.Empty:
            await dialog_context.begin_dialog("greeting.v1")
        await conversation_state.save_changes(turn_context)
        state_keys.append(conversation_state.get_storage_key(turn_context))

    return logic


async def test_a_dialog_resumes_from_stored_state_as_objects(
    bot_storage: Storage,
) -> None:
    state_keys: list[str] = []
    adapter = TestAdapter(greeting_bot(bot_storage, state_keys))

    await adapter.test("hi", "What is your name?")
    stored = (await bot_storage.read(state_keys[-1:]))[state_keys[-1]]
    assert isinstance(stored, dict)
    dialog_state = stored["dialog_state"]
    assert isinstance(dialog_state, DialogState)
    assert isinstance(dialog_state.dialog_stack[0], DialogInstance)
    assert [frame.id for frame in dialog_state.dialog_stack] == ["name.v1", "greeting.v1"]
    assert stored["e_tag"]

    await adapter.test("Ann", "Hello Ann")
    stored = (await bot_storage.read(state_keys[-1:]))[state_keys[-1]]
    assert stored["dialog_state"].dialog_stack == []


async def test_reading_missing_keys_leaves_them_out(bot_storage: Storage) -> None:
    await bot_storage.write({"a": {"n": 1}})

    assert await bot_storage.read(["missing"]) == {}
    assert set(await bot_storage.read(["a", "missing"])) == {"a"}
    assert await bot_storage.read([]) == {}


async def test_a_dict_reads_back_with_an_e_tag(bot_storage: Storage) -> None:
    await bot_storage.write({"a": {"n": 1, "nested": {"list": [1, "two"]}}})

    item = (await bot_storage.read(["a"]))["a"]
    assert item == {"n": 1, "nested": {"list": [1, "two"]}, "e_tag": item["e_tag"]}
    assert isinstance(item["e_tag"], str) and item["e_tag"] not in ("", "*")


async def test_a_store_item_reads_back_as_an_object_with_an_e_tag(
    bot_storage: Storage,
) -> None:
    await bot_storage.write({"a": StoreItem(count=3, names=["x"])})

    item = (await bot_storage.read(["a"]))["a"]
    assert isinstance(item, StoreItem)
    assert (item.count, item.names) == (3, ["x"])
    assert item.e_tag


async def test_every_write_gives_a_fresh_e_tag(bot_storage: Storage) -> None:
    seen = set()
    for n in range(3):
        await bot_storage.write({"a": {"n": n}})
        seen.add((await bot_storage.read(["a"]))["a"]["e_tag"])

    assert len(seen) == 3


async def test_writing_with_the_current_e_tag_saves(bot_storage: Storage) -> None:
    await bot_storage.write({"a": {"n": 1}})
    item = (await bot_storage.read(["a"]))["a"]

    item["n"] = 2
    await bot_storage.write({"a": item})

    again = (await bot_storage.read(["a"]))["a"]
    assert again["n"] == 2 and again["e_tag"] != item["e_tag"]


async def test_a_stale_e_tag_conflicts_and_keeps_the_newer_state(
    bot_storage: Storage,
) -> None:
    await bot_storage.write({"a": {"n": 1}})
    first_reader = (await bot_storage.read(["a"]))["a"]
    second_reader = (await bot_storage.read(["a"]))["a"]
    second_reader["n"] = 2
    await bot_storage.write({"a": second_reader})

    first_reader["n"] = 3
    with pytest.raises(StorageConflict) as raised:
        await bot_storage.write({"a": first_reader})

    assert raised.value.key == "a"
    assert (await bot_storage.read(["a"]))["a"]["n"] == 2


async def test_a_stale_store_item_conflicts(bot_storage: Storage) -> None:
    await bot_storage.write({"a": StoreItem(n=1)})
    stale = (await bot_storage.read(["a"]))["a"]
    await bot_storage.write({"a": StoreItem(n=2)})

    with pytest.raises(StorageConflict):
        await bot_storage.write({"a": stale})


async def test_an_e_tag_for_state_deleted_since_it_was_read_conflicts(
    bot_storage: Storage,
) -> None:
    await bot_storage.write({"a": {"n": 1}})
    item = (await bot_storage.read(["a"]))["a"]
    await bot_storage.delete(["a"])

    with pytest.raises(StorageConflict):
        await bot_storage.write({"a": item})
    assert await bot_storage.read(["a"]) == {}


@pytest.mark.parametrize("e_tag", ["*", None], ids=["star", "none"])
async def test_star_or_no_e_tag_overwrites(bot_storage: Storage, e_tag: str | None) -> None:
    await bot_storage.write({"a": {"n": 1}})
    await bot_storage.write({"a": {"n": 2}})

    await bot_storage.write({"a": {"n": 3, "e_tag": e_tag}})
    await bot_storage.write({"b": StoreItem(n=3, e_tag=e_tag)})

    assert (await bot_storage.read(["a"]))["a"]["n"] == 3
    assert (await bot_storage.read(["b"]))["b"].n == 3


async def test_an_empty_e_tag_is_refused(bot_storage: Storage) -> None:
    with pytest.raises(ValueError):
        await bot_storage.write({"a": {"n": 1, "e_tag": ""}})
    assert await bot_storage.read(["a"]) == {}


async def test_a_multi_key_write_with_one_stale_e_tag_writes_nothing(
    bot_storage: Storage,
) -> None:
    await bot_storage.write({"a": {"n": 1}, "b": {"n": 1}})
    items = await bot_storage.read(["a", "b"])
    await bot_storage.write({"b": {"n": 2}})

    with pytest.raises(StorageConflict) as raised:
        await bot_storage.write(
            {
                "a": {**items["a"], "n": 9},
                "new": {"n": 9},
                "b": {**items["b"], "n": 9},
            }
        )

    assert raised.value.key == "b"
    after = await bot_storage.read(["a", "b", "new"])
    assert (after["a"]["n"], after["b"]["n"]) == (1, 2)
    assert after["a"]["e_tag"] == items["a"]["e_tag"]
    assert "new" not in after


async def test_a_multi_key_write_saves_every_item(bot_storage: Storage) -> None:
    await bot_storage.write({"a": {"n": 1}})
    current = await bot_storage.read(["a"])

    await bot_storage.write({"a": {**current["a"], "n": 2}, "b": StoreItem(n=2)})

    after = await bot_storage.read(["a", "b"])
    assert (after["a"]["n"], after["b"].n) == (2, 2)


async def test_a_write_leaves_the_callers_items_unchanged(bot_storage: Storage) -> None:
    item = {"n": 1, "e_tag": "*"}
    await bot_storage.write({"a": item})

    assert item == {"n": 1, "e_tag": "*"}


async def test_an_item_read_twice_gives_two_independent_objects(
    bot_storage: Storage,
) -> None:
    await bot_storage.write({"a": {"list": [1]}})
    first = (await bot_storage.read(["a"]))["a"]
    first["list"].append(2)

    assert (await bot_storage.read(["a"]))["a"]["list"] == [1]


async def test_delete_removes_and_ignores_missing_keys(bot_storage: Storage) -> None:
    await bot_storage.write({"a": {"n": 1}, "b": {"n": 2}})

    await bot_storage.delete(["a", "missing"])
    await bot_storage.delete({"missing-too"})
    await bot_storage.delete([])

    assert set(await bot_storage.read(["a", "b"])) == {"b"}


async def test_writing_nothing_is_fine_and_none_is_refused(bot_storage: Storage) -> None:
    await bot_storage.write({})
    with pytest.raises(TypeError):
        await bot_storage.write(None)  # type: ignore[arg-type]


async def test_bot_state_and_documents_do_not_see_each_other(stores: Stores) -> None:
    await stores.bot_storage.write({"k": {"from": "bot"}})
    await stores.documents.put(collection="cases", key="k", document={"from": "documents"})

    assert (await stores.bot_storage.read(["k"]))["k"]["from"] == "bot"
    assert await stores.documents.get(collection="cases", key="k") == {"from": "documents"}


async def test_of_concurrent_writers_with_the_same_e_tag_exactly_one_wins(
    bot_storage: Storage,
) -> None:
    await bot_storage.write({"a": {"winner": None}})
    item = (await bot_storage.read(["a"]))["a"]

    results = await asyncio.gather(
        *(bot_storage.write({"a": {**item, "winner": n}}) for n in range(20)),
        return_exceptions=True,
    )

    assert sum(result is None for result in results) == 1
    assert all(isinstance(r, StorageConflict) for r in results if r is not None)
    winner = results.index(None)
    assert (await bot_storage.read(["a"]))["a"]["winner"] == winner


async def test_many_concurrent_writers_to_different_keys_all_land(
    bot_storage: Storage,
) -> None:
    await asyncio.gather(*(bot_storage.write({f"k{n}": {"n": n}}) for n in range(100)))

    found = await bot_storage.read([f"k{n}" for n in range(100)])
    assert sorted(item["n"] for item in found.values()) == list(range(100))
