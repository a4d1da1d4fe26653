"""The journal under the embedded store: torn last lines, corruption, compaction, failed writes."""

import asyncio
import json
import os
import threading
from pathlib import Path

import pytest

from safeguarding.ports import StoreUnavailable
from storage.engine import DATABASE_NAME, TinyDBRecords
from storage.journal import (
    META_KEY,
    META_TABLE,
    Change,
    JournalStorage,
    encode_line,
    journal_generations,
)
from storage.records import Batch, Record


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Where the store lives; it does not exist yet."""
    return tmp_path / "store"


def journals(folder: Path) -> list[Path]:
    """The journal files in folder, oldest first."""
    return [folder / f"safesession.journal.{g:08d}" for g in journal_generations(folder)]


def snapshot(folder: Path) -> dict[str, dict[str, Record]]:
    """The snapshot file as plain JSON."""
    data: dict[str, dict[str, Record]] = json.loads((folder / DATABASE_NAME).read_text())
    return data


async def put(records: TinyDBRecords, key: str, record: Record, table: str = "cases") -> None:
    """Stores one record, durably."""
    await records.transact(table, (), lambda _current: Batch(puts={key: record}))


async def write_some(folder: Path, count: int = 3, **options: int) -> None:
    """Opens the store, puts CR-0 … CR-<count-1>, and closes it."""
    records = TinyDBRecords(folder, **options)
    try:
        for n in range(count):
            await put(records, f"CR-{n}", {"n": n})
    finally:
        records.close()


async def read_all(folder: Path, table: str = "cases") -> dict[str, Record]:
    """Opens the store and returns every record in table, keyed."""
    records = TinyDBRecords(folder)
    try:
        return {record["key"]: record for record in await records.find(table)}
    finally:
        records.close()


async def keyed(folder: Path) -> list[int]:
    """The n of every record in the cases table, sorted."""
    records = TinyDBRecords(folder)
    try:
        return sorted(record["n"] for record in await records.find("cases"))
    finally:
        records.close()


async def test_commits_replay_from_the_journal_after_a_restart(folder: Path) -> None:
    await write_some(folder, 5)

    assert await keyed(folder) == [0, 1, 2, 3, 4]
    assert META_TABLE in snapshot(folder) and "cases" not in snapshot(folder)


async def test_a_torn_last_line_is_dropped_and_cut_off(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await write_some(folder, 3)
    [journal] = journals(folder)
    whole = journal.read_bytes()
    torn = encode_line([Change("cases", {"CR-9": '{"n":9}'})])[:-10]
    journal.write_bytes(whole + torn)

    assert await keyed(folder) == [0, 1, 2]
    assert journal.read_bytes() == whole
    assert "cut an unfinished write" in caplog.text
    await write_some(folder, 4)  # later lines follow whole ones, so the next open is clean
    assert await keyed(folder) == [0, 1, 2, 3]


async def test_a_kill_that_left_zeros_at_the_end_loses_nothing_acknowledged(folder: Path) -> None:
    await write_some(folder, 2)
    [journal] = journals(folder)
    with journal.open("ab") as file:
        file.write(b"\0" * 4096)

    assert await keyed(folder) == [0, 1]


@pytest.mark.parametrize(
    "damage",
    [
        lambda line: line.replace(b'"n":1', b'"n":7'),  # checksum no longer matches
        lambda line: line[:9] + b"9" + line[10:],  # length no longer matches
        lambda line: b"garbage\n",
    ],
    ids=["checksum", "length", "garbage"],
)
async def test_a_bad_line_before_good_ones_is_corruption_and_refused(
    folder: Path, damage: object
) -> None:
    await write_some(folder, 3)
    [journal] = journals(folder)
    lines = journal.read_bytes().splitlines(keepends=True)
    assert callable(damage)
    lines[1] = damage(lines[1])
    journal.write_bytes(b"".join(lines))
    before = journal.read_bytes()

    with pytest.raises(StoreUnavailable, match="is corrupt at byte") as refused:
        TinyDBRecords(folder)

    assert str(journal) in str(refused.value)
    assert "refusing to start with an empty store" in str(refused.value)
    assert journal.read_bytes() == before


async def test_a_bad_last_line_with_its_newline_is_corruption_too(folder: Path) -> None:
    await write_some(folder, 2)
    [journal] = journals(folder)
    journal.write_bytes(journal.read_bytes().replace(b'"n":1', b'"n":5'))

    with pytest.raises(StoreUnavailable, match="is corrupt"):
        TinyDBRecords(folder)


async def test_a_missing_journal_generation_is_refused(folder: Path) -> None:
    await write_some(folder, 40, compact_after_bytes=1)  # compacts (and rotates) as it goes
    records = TinyDBRecords(folder)
    records._storage.begin_compaction()  # a second generation, as a stuck compaction leaves
    await put(records, "CR-late", {"n": 99})
    records.close()
    first, *_later = journals(folder)
    first.unlink()

    with pytest.raises(StoreUnavailable, match=f"{first.name} is missing"):
        TinyDBRecords(folder)


async def test_journals_without_a_snapshot_are_refused(folder: Path) -> None:
    await write_some(folder, 2)
    (folder / DATABASE_NAME).unlink()

    with pytest.raises(StoreUnavailable, match="has journals but no"):
        TinyDBRecords(folder)


def plant_store_file(folder: Path, content: str) -> None:
    """Puts a store file in place as the foundation's whole-file store left it."""
    folder.mkdir(parents=True)
    (folder / DATABASE_NAME).write_text(content)


def temp_files(folder: Path) -> list[str]:
    """Snapshots being written, or left half-written."""
    return [name for name in os.listdir(folder) if name.endswith(".tmp")]


async def test_a_store_written_before_the_journal_opens_as_it_was(folder: Path) -> None:
    plant_store_file(folder, '{"cases": {"CR-1": {"n": 1}}, "_bot_state": {}}')

    assert await keyed(folder) == [1]
    await write_some(folder, 1)
    assert await keyed(folder) == [0, 1]


async def test_compaction_folds_the_journal_into_the_snapshot_and_deletes_it(
    folder: Path,
) -> None:
    records = TinyDBRecords(folder, compact_after_bytes=2000)
    for n in range(100):
        await put(records, f"CR-{n}", {"n": n, "pad": "x" * 50})
    await records.compact()
    records.close()

    assert len(snapshot(folder)["cases"]) == 100
    assert snapshot(folder)[META_TABLE][META_KEY]["generation"] > 1
    [journal] = journals(folder)
    assert journal.stat().st_size == 0
    assert await keyed(folder) == list(range(100))


async def test_writes_carry_on_while_a_compaction_is_stuck_and_none_are_lost(
    folder: Path,
) -> None:
    reached, release = threading.Event(), threading.Event()

    def step(name: str) -> None:
        if name == "written":
            reached.set()
            release.wait(timeout=30)

    records = TinyDBRecords(folder, on_compaction_step=step)
    await put(records, "CR-0", {"n": 0})
    compaction = asyncio.ensure_future(records.compact())
    assert await asyncio.to_thread(reached.wait, 30)
    for n in range(1, 20):  # would deadlock if a commit waited for the compaction
        await asyncio.wait_for(put(records, f"CR-{n}", {"n": n}), timeout=5)
    release.set()
    await compaction
    records.close()

    assert list(snapshot(folder)["cases"]) == ["CR-0"]
    assert await keyed(folder) == list(range(20))


async def test_a_failed_compaction_keeps_everything_and_says_so(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = TinyDBRecords(folder)
    await put(records, "CR-0", {"n": 0})

    def fail(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(JournalStorage, "write_snapshot", fail)
    await records.compact()
    status = await records.status()
    await put(records, "CR-1", {"n": 1})
    records.close()

    assert (status.ok, status.detail) == (False, "could not compact the journal")
    assert temp_files(folder) == []
    assert await keyed(folder) == [0, 1]


async def test_a_failed_append_is_cut_back_so_the_journal_stays_whole(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = TinyDBRecords(folder)
    await put(records, "CR-0", {"n": 0})
    [journal] = journals(folder)
    size = journal.stat().st_size
    real_fdatasync = os.fdatasync

    def fail_once(descriptor: int) -> None:
        monkeypatch.setattr(os, "fdatasync", real_fdatasync)
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", fail_once)
    with pytest.raises(StoreUnavailable, match="Could not write the store file"):
        await put(records, "CR-1", {"n": 1})
    assert journal.stat().st_size == size
    assert (await records.status()).detail == "the last write failed"
    assert await records.get_many("cases", ["CR-1"]) == {}

    await put(records, "CR-2", {"n": 2})
    assert (await records.status()).ok
    records.close()
    assert await keyed(folder) == [0, 2]


async def test_a_write_to_several_tables_that_fails_leaves_every_table_as_it_was(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = TinyDBRecords(folder)
    await put(records, "CR-0", {"n": 0})
    real_fdatasync = os.fdatasync

    def fail_once(descriptor: int) -> None:
        monkeypatch.setattr(os, "fdatasync", real_fdatasync)
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", fail_once)
    with pytest.raises(StoreUnavailable):
        await records.write(
            {"cases": Batch(puts={"CR-0": {"n": 1}}), "audit": Batch(puts={"e-1": {"n": 1}})}
        )
    assert await records.get_many("cases", ["CR-0"]) == {"CR-0": {"n": 0}}
    assert await records.get_many("audit", ["e-1"]) == {}

    await records.write(
        {"cases": Batch(puts={"CR-0": {"n": 2}}), "audit": Batch(puts={"e-2": {"n": 2}})}
    )
    records.close()
    again = TinyDBRecords(folder)
    try:
        assert await again.get_many("cases", ["CR-0"]) == {"CR-0": {"n": 2}}
        assert await again.find("audit") == [{"n": 2}]
    finally:
        again.close()


async def test_a_failed_append_that_cannot_be_cut_stops_writes_and_compaction(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = TinyDBRecords(folder)
    await put(records, "CR-0", {"n": 0})

    def fail(*_args: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", fail)
    monkeypatch.setattr(os, "ftruncate", fail)
    with pytest.raises(StoreUnavailable):
        await put(records, "CR-1", {"n": 1})
    monkeypatch.undo()

    with pytest.raises(StoreUnavailable, match="could not be undone"):
        await put(records, "CR-2", {"n": 2})
    await records.compact()
    assert len(journals(folder)) == 1  # no newer journal, so the next open can cut the line
    records.close()
    assert await keyed(folder) in ([0], [0, 1])


async def test_writing_through_tinydbs_own_api_rewrites_the_snapshot(folder: Path) -> None:
    records = TinyDBRecords(folder)
    await put(records, "CR-0", {"n": 0})
    records._storage.write({"cases": {"CR-5": {"n": 5}}})
    records.close()

    assert snapshot(folder)["cases"] == {"CR-5": {"n": 5}}
    assert await keyed(folder) == [5]


async def test_records_keep_non_ascii_text_and_awkward_keys(folder: Path) -> None:
    records = TinyDBRecords(folder)
    record = {"summary": "Ünïcödé ✓ \u2028 line\nbreak", "quote": '"{}"'}
    await put(records, 'key with "quotes"\nand a newline', record)
    records.close()

    reopened = TinyDBRecords(folder)
    try:
        found = await reopened.get_many("cases", ['key with "quotes"\nand a newline'])
    finally:
        reopened.close()
    assert list(found.values()) == [record]
