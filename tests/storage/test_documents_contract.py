"""The Documents contract, run against every adapter."""

import asyncio
import math
from datetime import date
from pathlib import Path

import pytest

from safeguarding.ports import Documents, Put, StoreUnavailable
from storage import Stores

from .factories import postgres

CASE = {
    "reference": "CR-1042",
    "worker": "w-7",
    "open": True,
    "risk": 2,
    "score": 0.5,
    "notes": None,
    "people": [{"role": "carer", "present": False}],
    "summary": "Ünïcödé ✓",
}


async def test_an_unknown_key_reads_as_none(documents: Documents) -> None:
    assert await documents.get(collection="cases", key="CR-0000") is None


async def test_a_document_reads_back_as_it_was_put(documents: Documents) -> None:
    await documents.put(collection="cases", key="CR-1042", document=CASE)

    assert await documents.get(collection="cases", key="CR-1042") == CASE


async def test_put_replaces_the_whole_document(documents: Documents) -> None:
    await documents.put(collection="cases", key="CR-1042", document=CASE)
    await documents.put(collection="cases", key="CR-1042", document={"reference": "CR-1042"})

    assert await documents.get(collection="cases", key="CR-1042") == {"reference": "CR-1042"}
    assert len(await documents.find(collection="cases")) == 1


async def test_delete_removes_and_says_whether_there_was_one(documents: Documents) -> None:
    await documents.put(collection="cases", key="CR-1042", document=CASE)

    assert await documents.delete(collection="cases", key="CR-1042") is True
    assert await documents.get(collection="cases", key="CR-1042") is None
    assert await documents.delete(collection="cases", key="CR-1042") is False
    assert await documents.delete(collection="never-used", key="x") is False


async def test_collections_keep_their_own_keys(documents: Documents) -> None:
    await documents.put(collection="cases", key="k", document={"in": "cases"})
    await documents.put(collection="sessions", key="k", document={"in": "sessions"})

    assert await documents.get(collection="cases", key="k") == {"in": "cases"}
    assert await documents.get(collection="sessions", key="k") == {"in": "sessions"}


async def test_find_returns_documents_matching_every_where_field(documents: Documents) -> None:
    await documents.put(collection="cases", key="a", document={"worker": "w-7", "open": True})
    await documents.put(collection="cases", key="b", document={"worker": "w-7", "open": False})
    await documents.put(collection="cases", key="c", document={"worker": "w-9", "open": True})
    await documents.put(collection="cases", key="d", document={"open": True})

    found = await documents.find(collection="cases", where={"worker": "w-7", "open": True})
    assert found == [{"worker": "w-7", "open": True}]
    assert await documents.find(collection="cases", where={"worker": "w-0"}) == []
    assert await documents.find(collection="cases", where={"missing": None}) == []


async def test_find_compares_whole_values_and_stored_null(documents: Documents) -> None:
    await documents.put(collection="cases", key="a", document={"tags": ["x", "y"], "note": None})
    await documents.put(collection="cases", key="b", document={"tags": ["x"]})

    assert await documents.find(collection="cases", where={"tags": ("x", "y")}) == [
        {"tags": ["x", "y"], "note": None}
    ]
    assert len(await documents.find(collection="cases", where={"note": None})) == 1


async def test_find_without_where_returns_everything(documents: Documents) -> None:
    for key in ("a", "b", "c"):
        await documents.put(collection="cases", key=key, document={"key": key})

    everything = await documents.find(collection="cases")
    assert sorted(doc["key"] for doc in everything) == ["a", "b", "c"]
    assert len(await documents.find(collection="cases", where={})) == 3
    assert await documents.find(collection="never-used") == []


async def test_a_returned_document_cannot_change_the_store(documents: Documents) -> None:
    await documents.put(collection="cases", key="CR-1042", document=CASE)

    got = await documents.get(collection="cases", key="CR-1042")
    assert got is not None
    got["people"].append({"role": "intruder"})
    got["reference"] = "changed"
    [found] = await documents.find(collection="cases")
    found["people"][0]["present"] = True

    assert await documents.get(collection="cases", key="CR-1042") == CASE


async def test_changing_a_put_document_afterwards_does_not_change_the_store(
    documents: Documents,
) -> None:
    document = {"people": [{"role": "carer"}]}
    await documents.put(collection="cases", key="k", document=document)
    document["people"].append({"role": "intruder"})

    assert await documents.get(collection="cases", key="k") == {"people": [{"role": "carer"}]}


@pytest.mark.parametrize(
    ("document", "error"),
    [({"when": date(2024, 1, 1)}, TypeError), ({"score": math.nan}, ValueError)],
    ids=["date", "nan"],
)
async def test_a_document_that_is_not_json_is_refused_and_nothing_stored(
    documents: Documents, document: dict[str, object], error: type[Exception]
) -> None:
    await documents.put(collection="cases", key="k", document={"before": 1})

    with pytest.raises(error):
        await documents.put(collection="cases", key="k", document=document)

    assert await documents.get(collection="cases", key="k") == {"before": 1}


async def test_put_all_stores_every_document_across_collections(documents: Documents) -> None:
    await documents.put(collection="cases", key="CR-7", document={"before": 1})

    await documents.put_all(
        [
            Put("cases", "CR-1042", CASE),
            Put("events", "e-1", {"action": "answer", "record": "cases/CR-1042"}),
            Put("cases", "CR-7", {"reference": "CR-7"}),
        ]
    )

    assert await documents.get(collection="cases", key="CR-1042") == CASE
    assert await documents.get(collection="cases", key="CR-7") == {"reference": "CR-7"}
    assert await documents.find(collection="events") == [
        {"action": "answer", "record": "cases/CR-1042"}
    ]


@pytest.mark.parametrize(
    "bad",
    [Put("events", "e-1", {"when": date(2024, 1, 1)}), Put("_bot_state", "e-1", {})],
    ids=["not-json", "reserved-collection"],
)
async def test_put_all_with_one_bad_document_stores_none_of_them(
    documents: Documents, bad: Put
) -> None:
    await documents.put(collection="cases", key="CR-7", document={"before": 1})

    with pytest.raises((TypeError, ValueError)):
        await documents.put_all([Put("cases", "CR-7", {"after": 2}), bad])

    assert await documents.get(collection="cases", key="CR-7") == {"before": 1}
    assert await documents.find(collection="events") == []


async def test_on_postgresql_a_put_all_refused_part_way_stores_nothing(tmp_path: Path) -> None:
    async with postgres(tmp_path) as stores:
        documents = stores.documents
        await documents.put(collection="cases", key="CR-7", document={"before": 1})

        with pytest.raises(ValueError, match="u0000"):  # JSONB cannot hold it: the 2nd row fails
            await documents.put_all(
                [Put("cases", "CR-7", {"after": 2}), Put("events", "e-1", {"note": "a\u0000b"})]
            )

        assert await documents.get(collection="cases", key="CR-7") == {"before": 1}
        assert await documents.find(collection="events") == []


@pytest.mark.parametrize("collection", ["", "_bot_state", "_default"])
async def test_collection_names_the_store_keeps_for_itself_are_refused(
    documents: Documents, collection: str
) -> None:
    with pytest.raises(ValueError):
        await documents.put(collection=collection, key="k", document={})


async def test_the_store_reports_ok(documents: Documents) -> None:
    status = await documents.status()

    assert status.ok is True
    assert status.backend


async def test_a_closed_store_is_unavailable_and_says_so(stores: Stores) -> None:
    stores.close()
    stores.close()

    assert (await stores.status()).ok is False
    with pytest.raises(StoreUnavailable):
        await stores.documents.get(collection="cases", key="k")


async def test_many_concurrent_writers_all_land(documents: Documents) -> None:
    await asyncio.gather(
        *(documents.put(collection="cases", key=f"CR-{n}", document={"n": n}) for n in range(200))
    )

    found = await documents.find(collection="cases")
    assert sorted(doc["n"] for doc in found) == list(range(200))


async def test_concurrent_puts_and_deletes_leave_exactly_the_survivors(
    documents: Documents,
) -> None:
    for n in range(100):
        await documents.put(collection="cases", key=f"CR-{n}", document={"n": n})

    await asyncio.gather(
        *(documents.delete(collection="cases", key=f"CR-{n}") for n in range(0, 100, 2)),
        *(
            documents.put(collection="cases", key=f"CR-{n}", document={"n": n})
            for n in range(100, 150)
        ),
    )

    found = await documents.find(collection="cases")
    assert sorted(doc["n"] for doc in found) == list(range(1, 100, 2)) + list(range(100, 150))
