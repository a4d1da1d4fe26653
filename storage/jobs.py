"""The `Jobs` port on a record engine (in memory or the embedded store): one process per store.

Jobs live in the reserved table `_jobs`, keyed by their key, and stay there once done so a key
never runs twice. Every change is one `transact`, so two claimers in the process never take the
same job: the plan re-checks each job under the engine's lock before claiming it.
"""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from safeguarding.ports import Job
from storage.records import Batch, Record, Records, json_record

TABLE = "_jobs"
PENDING, CLAIMED, DONE = "pending", "claimed", "done"


class RecordJobs:
    """Keeps scheduled jobs on any record engine in this process."""

    def __init__(self, records: Records) -> None:
        self._records = records

    async def enqueue(self, *, key: str, kind: str, due_at: str, payload: dict[str, Any]) -> bool:
        """Stores a job under a unique key; says False (and changes nothing) if it exists."""
        record = json_record(
            {
                "key": key,
                "kind": kind,
                "due_at": utc_iso(due_at),
                "due_us": micros(due_at),
                "payload": payload,
                "status": PENDING,
                "attempts": 0,
                "claimed_by": "",
                "lease_us": 0,
            }
        )
        seen = await self._records.transact(
            TABLE, [key], lambda current: Batch() if current else Batch(puts={key: record})
        )
        return not seen

    async def claim_due(
        self, *, now: str, worker_id: str, limit: int, lease_seconds: float
    ) -> list[Job]:
        """Claims up to limit due jobs, earliest first; an expired lease makes a job claimable."""
        moment = micros(now)
        lease_us = moment + round(lease_seconds * 1_000_000)
        waiting = await self._records.find(TABLE, {"status": PENDING})
        waiting += await self._records.find(TABLE, {"status": CLAIMED})
        due = sorted(
            (job for job in waiting if claimable(job, moment)),
            key=lambda job: (job["due_us"], job["key"]),
        )[: max(limit, 0)]
        claimed: list[Job] = []

        def plan(current: Mapping[str, Record]) -> Batch:
            puts = {}
            for key, job in current.items():
                if claimable(job, moment):  # another claimer may have taken it meanwhile
                    puts[key] = {
                        **job,
                        "status": CLAIMED,
                        "claimed_by": worker_id,
                        "lease_us": lease_us,
                    }
                    claimed.append(as_job(job))
            return Batch(puts=puts)

        await self._records.transact(TABLE, [job["key"] for job in due], plan)
        return sorted(claimed, key=lambda job: (micros(job.due_at), job.id))

    async def complete(self, *, job_id: str) -> None:
        """Marks a claimed job done, so it never runs again."""
        await self._change(job_id, lambda job: {**job, "status": DONE, "claimed_by": ""})

    async def retry(self, *, job_id: str, due_at: str) -> None:
        """Releases a claimed job to run again at due_at, counting the attempt."""
        again = {"due_at": utc_iso(due_at), "due_us": micros(due_at)}
        await self._change(
            job_id,
            lambda job: {
                **job,
                **again,
                "status": PENDING,
                "attempts": job["attempts"] + 1,
                "claimed_by": "",
                "lease_us": 0,
            },
        )

    async def cancel(self, *, key: str) -> bool:
        """Drops a job that has not run yet; says whether there was one."""
        return await self._change(
            key, lambda job: {**job, "status": DONE, "cancelled": True, "claimed_by": ""}
        )

    async def forget_done(self, *, before: str, dry_run: bool = False) -> int:
        """Removes the jobs that are done (or cancelled) and were due before the moment; says
        how many (a dry run only counts them)."""
        cutoff = micros(before)
        old = [
            str(job["key"])
            for job in await self._records.find(TABLE, {"status": DONE})
            if job["due_us"] < cutoff
        ]
        if dry_run or not old:
            return len(old)

        def plan(current: Mapping[str, Record]) -> Batch:
            # Checked again under the engine's lock: only jobs still done and old go.
            return Batch(
                deletes=[
                    key
                    for key, job in current.items()
                    if job["status"] == DONE and job["due_us"] < cutoff
                ]
            )

        seen = await self._records.transact(TABLE, old, plan)
        return len(plan(seen).deletes)

    async def _change(self, key: str, change: Any) -> bool:
        changed = False

        def plan(current: Mapping[str, Record]) -> Batch:
            nonlocal changed
            job = current.get(key)
            if job is None or job["status"] == DONE:
                return Batch()
            changed = True
            return Batch(puts={key: change(job)})

        await self._records.transact(TABLE, [key], plan)
        return changed


def claimable(job: Record, moment: int) -> bool:
    """Says whether a job may be claimed at moment (microseconds since the epoch)."""
    if job["status"] == PENDING:
        return bool(job["due_us"] <= moment)
    if job["status"] == CLAIMED:
        return bool(job["lease_us"] <= moment)
    return False


def as_job(record: Record) -> Job:
    """The port's view of a stored job."""
    return Job(
        id=record["key"],
        kind=record["kind"],
        due_at=record["due_at"],
        payload=record["payload"],
        attempts=record["attempts"],
    )


def moment(text: str) -> datetime:
    """Parses an aware ISO 8601 moment; a moment without a UTC offset is refused."""
    if not isinstance(text, str):
        raise TypeError(f"a moment must be an ISO 8601 string, not {type(text).__name__}")
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"{text!r} has no UTC offset; jobs need aware moments")
    return parsed


def utc_iso(text: str) -> str:
    """Writes a moment in UTC, as every adapter returns it."""
    return moment(text).astimezone(UTC).isoformat()


def micros(text: str) -> int:
    """Counts microseconds since the epoch, so moments compare exactly whatever their offset."""
    return (moment(text) - EPOCH) // timedelta(microseconds=1)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
