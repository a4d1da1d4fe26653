"""The Jobs contract, run against every adapter: each job fires once, and a dead claim lapses."""

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest

from safeguarding.ports import Jobs
from storage import Stores

NOON = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
LEASE = 60.0


def at(minutes: float) -> str:
    """A moment minutes after noon, as the port takes it."""
    return (NOON + timedelta(minutes=minutes)).isoformat()


async def claim(jobs: Jobs, minutes: float, worker: str = "w1", limit: int = 10) -> list[str]:
    """Claims what is due at noon + minutes; returns the claimed keys."""
    claimed = await jobs.claim_due(
        now=at(minutes), worker_id=worker, limit=limit, lease_seconds=LEASE
    )
    return [job.id for job in claimed]


async def test_a_job_is_claimed_once_it_is_due_and_not_before(jobs: Jobs) -> None:
    assert await jobs.enqueue(key="remind:1", kind="reminder", due_at=at(5), payload={"n": 1})

    assert await claim(jobs, 4) == []
    [job] = await jobs.claim_due(now=at(5), worker_id="w1", limit=10, lease_seconds=LEASE)

    assert (job.id, job.kind, job.payload, job.attempts) == ("remind:1", "reminder", {"n": 1}, 0)
    assert datetime.fromisoformat(job.due_at) == NOON + timedelta(minutes=5)
    assert datetime.fromisoformat(job.due_at).utcoffset() == timedelta(0)


async def test_enqueueing_the_same_key_twice_keeps_the_first(jobs: Jobs) -> None:
    assert await jobs.enqueue(key="k", kind="first", due_at=at(0), payload={"n": 1}) is True
    assert await jobs.enqueue(key="k", kind="second", due_at=at(-5), payload={"n": 2}) is False

    [job] = await jobs.claim_due(now=at(0), worker_id="w1", limit=10, lease_seconds=LEASE)
    assert (job.kind, job.payload) == ("first", {"n": 1})


async def test_a_completed_job_never_fires_again_even_if_enqueued_again(jobs: Jobs) -> None:
    await jobs.enqueue(key="k", kind="reminder", due_at=at(0), payload={})
    assert await claim(jobs, 0) == ["k"]
    await jobs.complete(job_id="k")

    assert await jobs.enqueue(key="k", kind="reminder", due_at=at(0), payload={}) is False
    assert await claim(jobs, 24 * 60) == []


async def test_a_claimed_job_is_hidden_until_its_lease_runs_out(jobs: Jobs) -> None:
    await jobs.enqueue(key="k", kind="reminder", due_at=at(0), payload={})
    assert await claim(jobs, 0, "crashed-worker") == ["k"]

    assert await claim(jobs, 0.5, "other") == []
    assert await claim(jobs, 1, "other") == ["k"]  # the lease (60 s) ended: crash recovery
    assert await claim(jobs, 1.5, "third") == []


async def test_of_two_concurrent_claimers_exactly_one_gets_each_job(stores: Stores) -> None:
    for n in range(30):
        await stores.jobs.enqueue(key=f"k{n}", kind="reminder", due_at=at(n % 3), payload={})

    first, second = await asyncio.gather(
        *(
            stores.jobs.claim_due(now=at(5), worker_id=worker, limit=30, lease_seconds=LEASE)
            for worker in ("instance-a", "instance-b")
        )
    )

    keys = [job.id for job in first + second]
    assert sorted(keys) == sorted(f"k{n}" for n in range(30))
    assert len(set(keys)) == 30


async def test_many_claimers_in_a_loop_fire_every_job_exactly_once(jobs: Jobs) -> None:
    for n in range(40):
        await jobs.enqueue(key=f"k{n}", kind="reminder", due_at=at(0), payload={})
    fired: list[str] = []

    async def worker(name: str) -> None:
        while claimed := await jobs.claim_due(
            now=at(1), worker_id=name, limit=3, lease_seconds=LEASE
        ):
            for job in claimed:
                fired.append(job.id)
                await jobs.complete(job_id=job.id)

    await asyncio.gather(*(worker(f"w{n}") for n in range(4)))

    assert sorted(fired) == sorted(f"k{n}" for n in range(40))


async def test_claims_take_the_earliest_due_first_up_to_the_limit(jobs: Jobs) -> None:
    for key, minutes in (("late", 9), ("early", 1), ("middle", 5), ("future", 60)):
        await jobs.enqueue(key=key, kind="reminder", due_at=at(minutes), payload={})

    assert await claim(jobs, 10, limit=2) == ["early", "middle"]
    assert await claim(jobs, 10, limit=2) == ["late"]


async def test_moments_compare_as_instants_whatever_their_offset(jobs: Jobs) -> None:
    london_summer = timezone(timedelta(hours=1))
    due = (NOON + timedelta(minutes=30)).astimezone(london_summer).isoformat()
    await jobs.enqueue(key="k", kind="reminder", due_at=due, payload={})

    assert await claim(jobs, 29) == []
    assert await claim(jobs, 30) == ["k"]


async def test_retry_releases_a_job_for_later_and_counts_the_attempt(jobs: Jobs) -> None:
    await jobs.enqueue(key="k", kind="delivery", due_at=at(0), payload={})
    assert await claim(jobs, 0) == ["k"]

    await jobs.retry(job_id="k", due_at=at(10))

    assert await claim(jobs, 9) == []
    [job] = await jobs.claim_due(now=at(10), worker_id="w2", limit=5, lease_seconds=LEASE)
    assert job.attempts == 1


async def test_cancel_drops_a_job_that_has_not_run(jobs: Jobs) -> None:
    await jobs.enqueue(key="k", kind="renotify", due_at=at(5), payload={})

    assert await jobs.cancel(key="k") is True
    assert await jobs.cancel(key="k") is False
    assert await jobs.cancel(key="never") is False
    assert await claim(jobs, 60) == []
    assert await jobs.enqueue(key="k", kind="renotify", due_at=at(5), payload={}) is False


async def test_finished_jobs_due_long_ago_are_forgotten_and_nothing_else(jobs: Jobs) -> None:
    for key, due in [("old-done", 0), ("old-cancelled", 1), ("old-pending", 2), ("new-done", 90)]:
        await jobs.enqueue(key=key, kind="reminder", due_at=at(due), payload={})
    assert await claim(jobs, 0) == ["old-done"]
    await jobs.complete(job_id="old-done")
    assert await jobs.cancel(key="old-cancelled")
    assert await claim(jobs, 90) == ["old-pending", "new-done"]
    await jobs.complete(job_id="new-done")

    assert await jobs.forget_done(before=at(60), dry_run=True) == 2
    assert await jobs.forget_done(before=at(60)) == 2
    assert await jobs.forget_done(before=at(60)) == 0

    # A forgotten key may be used again; the others still hold theirs.
    assert await jobs.enqueue(key="old-done", kind="reminder", due_at=at(100), payload={})
    assert not await jobs.enqueue(key="new-done", kind="reminder", due_at=at(100), payload={})
    assert not await jobs.enqueue(key="old-pending", kind="reminder", due_at=at(100), payload={})
    assert await claim(jobs, 100 + LEASE) == ["old-pending", "old-done"]


async def test_completing_or_retrying_an_unknown_job_changes_nothing(jobs: Jobs) -> None:
    await jobs.complete(job_id="never")
    await jobs.retry(job_id="never", due_at=at(0))

    assert await claim(jobs, 60) == []


async def test_a_moment_without_an_offset_is_refused(jobs: Jobs) -> None:
    with pytest.raises(ValueError):
        await jobs.enqueue(key="k", kind="reminder", due_at="2026-11-26T12:00:00", payload={})
    with pytest.raises(ValueError):
        await jobs.claim_due(
            now="2026-11-26T12:00:00", worker_id="w1", limit=1, lease_seconds=LEASE
        )


async def test_a_payload_that_is_not_json_is_refused_and_nothing_stored(jobs: Jobs) -> None:
    with pytest.raises(TypeError):
        await jobs.enqueue(key="k", kind="reminder", due_at=at(0), payload={"when": NOON})

    assert await claim(jobs, 0) == []


async def test_jobs_and_documents_do_not_see_each_other(stores: Stores) -> None:
    await stores.jobs.enqueue(key="k", kind="reminder", due_at=at(0), payload={})

    assert await stores.documents.find(collection="jobs") == []
    assert await stores.documents.get(collection="jobs", key="k") is None
