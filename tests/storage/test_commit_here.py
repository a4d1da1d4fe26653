"""Commits on the caller's event loop: only when the store is idle and the disk has been fast,
never ahead of queued work or beside a compaction, and back on the worker after a slow fdatasync
(so a slow disk holds up the event loop once at most)."""

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from safeguarding.ports import StoreUnavailable
from storage import engine
from storage.engine import FAST_SYNCS_NEEDED, TinyDBRecords
from storage.records import Batch, Record


class WatchedSync:
    """Stands in for os.fdatasync: notes the thread of each call; can be slow or fail."""

    def __init__(self, real: object) -> None:
        self.real = real
        self.threads: list[int] = []
        self.delay = 0.0
        self.fail_next = False

    def __call__(self, descriptor: int) -> None:
        self.threads.append(threading.get_ident())
        time.sleep(self.delay)
        if self.fail_next:
            self.fail_next = False
            raise OSError(5, "Input/output error")
        self.real(descriptor)  # type: ignore[operator]

    def last_on(self, thread: int) -> bool:
        """Says whether the last fdatasync ran on the given thread."""
        return self.threads[-1] == thread


@pytest.fixture
def sync(monkeypatch: pytest.MonkeyPatch) -> Iterator[WatchedSync]:
    """os.fdatasync, watched; "slow" means over 0.1 s here, so a busy test machine's disk
    still counts as fast and only the delays set below count as slow."""
    monkeypatch.setattr(engine, "FAST_SYNC_SECONDS", 0.1)
    watched = WatchedSync(os.fdatasync)
    monkeypatch.setattr(os, "fdatasync", watched)
    yield watched


async def put(records: TinyDBRecords, key: str, record: Record) -> None:
    """Stores one record, durably."""
    await records.transact("cases", (), lambda _current: Batch(puts={key: record}))


async def proven_fast(folder: Path) -> TinyDBRecords:
    """A store that has seen enough fast fdatasyncs to commit on the caller's loop."""
    records = TinyDBRecords(folder)
    for n in range(FAST_SYNCS_NEEDED):
        await put(records, f"warm-{n}", {"n": n})
    return records


async def ticks_during(work: "asyncio.Future[None] | asyncio.Task[None]") -> int:
    """Counts how often a 1 ms ticker ran on the event loop while work was going on."""
    ticks = 0
    while not work.done():
        await asyncio.sleep(0.001)
        ticks += 1
    await work
    return ticks


async def test_a_new_store_commits_on_its_worker_until_the_disk_has_shown_it_is_fast(
    tmp_path: Path, sync: WatchedSync
) -> None:
    here = threading.get_ident()
    records = TinyDBRecords(tmp_path / "store")
    await put(records, "CR-1", {"n": 1})
    assert not sync.last_on(here)

    for n in range(FAST_SYNCS_NEEDED):
        await put(records, f"CR-{n}", {"n": n})
    await put(records, "CR-2", {"n": 2})
    assert sync.last_on(here)
    records.close()

    again = TinyDBRecords(tmp_path / "store")
    try:
        assert await again.get_many("cases", ["CR-2"]) == {"CR-2": {"n": 2}}
    finally:
        again.close()


async def test_after_one_slow_fdatasync_the_event_loop_keeps_running_through_slow_writes(
    tmp_path: Path, sync: WatchedSync
) -> None:
    records = await proven_fast(tmp_path / "store")
    sync.delay = 0.2  # the disk turns slow
    await put(records, "CR-1", {"n": 1})  # this one still held up the loop, once

    writing = asyncio.create_task(put(records, "CR-2", {"n": 2}))
    assert await ticks_during(writing) >= 20
    assert not sync.last_on(threading.get_ident())
    assert await records.get_many("cases", ["CR-1", "CR-2"]) == {
        "CR-1": {"n": 1},
        "CR-2": {"n": 2},
    }
    records.close()


async def test_a_failed_commit_on_the_loop_fails_its_caller_and_changes_nothing(
    tmp_path: Path, sync: WatchedSync
) -> None:
    records = await proven_fast(tmp_path / "store")
    await put(records, "CR-1", {"n": 1})
    sync.fail_next = True

    with pytest.raises(StoreUnavailable, match="Could not write the store file"):
        await records.write(
            {"cases": Batch(puts={"CR-1": {"n": 2}}), "audit": Batch(puts={"e-1": {}})}
        )
    assert sync.last_on(threading.get_ident())
    assert (await records.status()).detail == "the last write failed"
    assert await records.get_many("cases", ["CR-1"]) == {"CR-1": {"n": 1}}
    assert await records.get_many("audit", ["e-1"]) == {}

    await put(records, "CR-1", {"n": 3})
    assert not sync.last_on(threading.get_ident())  # not trusted on the loop again yet
    assert (await records.status()).ok
    records.close()


async def test_a_commit_never_overtakes_work_queued_before_it(
    tmp_path: Path, sync: WatchedSync, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = await proven_fast(tmp_path / "store")
    taken, release = threading.Event(), threading.Event()
    real_run_group = TinyDBRecords._run_group

    def held(self: TinyDBRecords, jobs: list[object]) -> None:
        taken.set()  # the worker has the scan, and has not started it yet
        release.wait(10)
        real_run_group(self, jobs)  # type: ignore[arg-type]

    monkeypatch.setattr(TinyDBRecords, "_run_group", held)
    scanning = asyncio.create_task(records.find("cases"))
    assert await asyncio.to_thread(taken.wait, 10)
    writing = asyncio.create_task(put(records, "CR-late", {"late": True}))
    await asyncio.sleep(0.05)
    assert not writing.done()  # it waits its turn behind the scan

    release.set()
    found = await scanning
    await writing
    assert {"late": True} not in found  # the scan ran first, as it was asked first
    assert not sync.last_on(threading.get_ident())
    records.close()


async def test_no_commit_runs_on_the_loop_while_a_compaction_is_running(
    tmp_path: Path, sync: WatchedSync
) -> None:
    started, release = threading.Event(), threading.Event()

    def step(name: str) -> None:
        if name == "started":
            started.set()
            release.wait(10)

    records = TinyDBRecords(tmp_path / "store", on_compaction_step=step)
    for n in range(FAST_SYNCS_NEEDED):
        await put(records, f"warm-{n}", {"n": n})
    compacting = asyncio.create_task(records.compact())
    assert await asyncio.to_thread(started.wait, 10)

    await put(records, "CR-1", {"n": 1})
    assert not sync.last_on(threading.get_ident())

    release.set()
    await compacting
    await put(records, "CR-2", {"n": 2})
    assert sync.last_on(threading.get_ident())
    records.close()


async def test_commits_on_the_loop_back_to_back_still_let_other_work_run(
    tmp_path: Path, sync: WatchedSync
) -> None:
    records = await proven_fast(tmp_path / "store")

    async def many() -> None:
        for n in range(400):  # a purge deleting one record after another, say
            await put(records, f"CR-{n}", {"n": n})

    writing = asyncio.ensure_future(many())
    ticks = 0
    while not writing.done():
        await asyncio.sleep(0)
        ticks += 1
    await writing
    assert sync.last_on(threading.get_ident())
    assert ticks >= 5  # not one loop turn for all 400 (each commit here takes 0.1-0.5 ms)
    records.close()
