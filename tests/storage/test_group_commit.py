"""Group commit in the embedded store: commits that queue up share one fdatasync, each still
sees the ones before it, none is acknowledged or readable before it is durable, and a failed
write fails the whole group and leaves memory as it was."""

import asyncio
import os
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from safeguarding.ports import StoreUnavailable
from storage.engine import TinyDBRecords
from storage.journal import JournalStorage
from storage.records import Batch, Record


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Where the store lives; it does not exist yet."""
    return tmp_path / "store"


class HeldSync:
    """Stands in for os.fdatasync: counts calls, and can hold the next one until released."""

    def __init__(self, real: object) -> None:
        self.real = real
        self.calls = 0
        self.holding = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.failing: set[int] = set()  # which calls (1, 2, …) fail

    def hold(self) -> None:
        """Makes the next fdatasync wait for release.set()."""
        self.release.clear()

    def __call__(self, descriptor: int) -> None:
        self.calls += 1
        self.holding.set()
        self.release.wait(10)
        if self.calls in self.failing:
            raise OSError(5, "Input/output error")
        self.real(descriptor)  # type: ignore[operator]


@pytest.fixture
def sync(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldSync]:
    """os.fdatasync, counted and holdable."""
    held = HeldSync(os.fdatasync)
    monkeypatch.setattr(os, "fdatasync", held)
    yield held
    held.release.set()


async def put(records: TinyDBRecords, key: str, record: Record) -> None:
    """Stores one record, durably."""
    await records.transact("cases", (), lambda _current: Batch(puts={key: record}))


async def add_one(records: TinyDBRecords, key: str) -> None:
    """Reads a counter and stores it plus one, in one transaction."""

    def plan(current: dict[str, Record]) -> Batch:
        count = current.get(key, {"n": 0})["n"]
        return Batch(puts={key: {"n": count + 1}})

    await records.transact("cases", [key], plan)


async def until(event: threading.Event) -> None:
    """Waits, without blocking the event loop, until another thread sets event."""
    assert await asyncio.to_thread(event.wait, 10)


async def behind_a_held_write(
    sync: HeldSync, first: Coroutine[Any, Any, None], queued: list[Coroutine[Any, Any, None]]
) -> list[object]:
    """Runs first with its fdatasync held, queues the rest behind it, then lets them all go;
    returns first's outcome, then each queued one's (a result or the exception raised)."""
    sync.hold()
    sync.holding.clear()
    held = asyncio.create_task(first)
    await until(sync.holding)
    waiting = [asyncio.create_task(commit) for commit in queued]
    await asyncio.sleep(0.05)
    sync.release.set()
    return await asyncio.gather(held, *waiting, return_exceptions=True)


async def second_write_held(
    folder: Path, sync: HeldSync
) -> "tuple[TinyDBRecords, asyncio.Task[None]]":
    """A store holding CR-1 = 1, and the write of CR-1 = 2 held in its fdatasync."""
    records = TinyDBRecords(folder)
    await put(records, "CR-1", {"n": 1})
    sync.hold()
    sync.holding.clear()
    writing = asyncio.create_task(put(records, "CR-1", {"n": 2}))
    await until(sync.holding)
    return records, writing


async def test_commits_that_queue_up_share_one_fdatasync_and_all_survive(
    folder: Path, sync: HeldSync
) -> None:
    records = TinyDBRecords(folder)
    rest = [put(records, f"CR-{n}", {"n": n}) for n in range(1, 50)]
    outcomes = await behind_a_held_write(sync, put(records, "CR-0", {"n": 0}), rest)
    assert outcomes == [None] * 50
    assert sync.calls == 2
    records.close()

    again = TinyDBRecords(folder)
    try:
        found = await again.find("cases")
        assert sorted(record["n"] for record in found) == list(range(50))
    finally:
        again.close()


async def test_each_commit_in_a_group_sees_the_ones_planned_before_it(
    folder: Path, sync: HeldSync
) -> None:
    records = TinyDBRecords(folder)
    counting = [add_one(records, "counter") for _ in range(20)]
    await behind_a_held_write(sync, put(records, "other", {"n": 0}), counting)
    assert await records.get_many("cases", ["counter"]) == {"counter": {"n": 20}}
    records.close()


async def test_nothing_is_readable_or_acknowledged_before_it_is_durable(
    folder: Path, sync: HeldSync
) -> None:
    records, writing = await second_write_held(folder, sync)
    await asyncio.sleep(0.02)
    assert not writing.done()
    assert await records.get_many("cases", ["CR-1"]) == {"CR-1": {"n": 1}}
    sync.release.set()
    await writing
    assert await records.get_many("cases", ["CR-1"]) == {"CR-1": {"n": 2}}
    records.close()


async def test_a_failed_group_fails_every_commit_in_it_and_keeps_memory_as_it_was(
    folder: Path, sync: HeldSync
) -> None:
    records = TinyDBRecords(folder)
    await put(records, "counter", {"n": 5})
    sync.failing = {sync.calls + 2}  # the write after the held one
    queued = [add_one(records, "counter") for _ in range(5)]
    first, *outcomes = await behind_a_held_write(sync, add_one(records, "counter"), queued)
    assert first is None
    assert all(isinstance(outcome, StoreUnavailable) for outcome in outcomes)
    assert await records.get_many("cases", ["counter"]) == {"counter": {"n": 6}}

    await add_one(records, "counter")
    assert await records.get_many("cases", ["counter"]) == {"counter": {"n": 7}}
    records.close()
    again = TinyDBRecords(folder)
    try:
        assert await again.get_many("cases", ["counter"]) == {"counter": {"n": 7}}
    finally:
        again.close()


async def test_a_cancelled_writer_returns_only_once_its_queued_commit_has_landed(
    folder: Path, sync: HeldSync
) -> None:
    records, writing = await second_write_held(folder, sync)
    writing.cancel()  # a shutdown, or a timeout around the turn
    threading.Timer(0.05, sync.release.set).start()
    with pytest.raises(asyncio.CancelledError):
        await writing
    # The next reader (straight from memory) sees the commit, so it cannot write over it.
    assert await records.get_many("cases", ["CR-1"]) == {"CR-1": {"n": 2}}
    records.close()


async def test_an_unexpected_failure_on_the_worker_answers_every_caller_and_keeps_serving(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = TinyDBRecords(folder)
    real = JournalStorage.commit_lines

    def fail_once(storage: JournalStorage, commits: object) -> None:
        monkeypatch.setattr(JournalStorage, "commit_lines", real)
        raise MemoryError

    monkeypatch.setattr(JournalStorage, "commit_lines", fail_once)
    with pytest.raises(StoreUnavailable, match="restart the bot"):
        await asyncio.wait_for(put(records, "CR-1", {"n": 1}), 10)
    assert (await records.status()).detail == "the store's worker failed; restart the bot"
    await asyncio.wait_for(put(records, "CR-2", {"n": 2}), 10)
    assert await records.get_many("cases", ["CR-2"]) == {"CR-2": {"n": 2}}
    records.close()
