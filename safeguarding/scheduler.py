"""Runs persisted jobs when they fall due: each once, across restarts and instances."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from safeguarding.clock import Clock
from safeguarding.ports import Job, Jobs

log = logging.getLogger("safesession.scheduler")

JobHandler = Callable[[Job], Awaitable[None]]
# Waits between attempts of a job that asked to be retried; the last one repeats.
BACKOFF_SECONDS = (5.0, 15.0, 30.0, 60.0, 120.0)


class RetryLater(Exception):
    """The job could not finish now (a connector is down); run it again after a pause."""

    def __init__(self, seconds: float | None = None) -> None:
        super().__init__("retry later")
        self.seconds = seconds


class Scheduler:
    """Claims due jobs, runs each one's handler, and completes or reschedules it."""

    def __init__(
        self,
        jobs: Jobs,
        clock: Clock,
        *,
        worker_id: str,
        handlers: Mapping[str, JobHandler] | None = None,
        lease_seconds: float = 120.0,
    ) -> None:
        self._jobs = jobs
        self._clock = clock
        self._worker_id = worker_id
        self._handlers: dict[str, JobHandler] = dict(handlers or {})
        self._lease_seconds = lease_seconds

    def handle(self, kind: str, handler: JobHandler) -> None:
        """Registers what to do when a job of this kind falls due."""
        self._handlers[kind] = handler

    async def schedule(
        self, *, key: str, kind: str, due_at: datetime, payload: dict[str, object]
    ) -> bool:
        """Stores a job to run at due_at (once per key); says whether it was new."""
        return await self._jobs.enqueue(
            key=key, kind=kind, due_at=due_at.isoformat(), payload=dict(payload)
        )

    async def cancel(self, key: str) -> bool:
        """Drops a job that has not run yet."""
        return await self._jobs.cancel(key=key)

    async def forget_finished(self, *, older_than: timedelta, dry_run: bool = False) -> int:
        """Removes the jobs that finished and were due more than older_than ago; says how many."""
        before = (self._clock.now() - older_than).isoformat()
        return await self._jobs.forget_done(before=before, dry_run=dry_run)

    async def run_due(self, *, limit: int = 20) -> int:
        """Runs every job due now (late ones included); returns how many ran."""
        due = await self._jobs.claim_due(
            now=self._clock.now().isoformat(),
            worker_id=self._worker_id,
            limit=limit,
            lease_seconds=self._lease_seconds,
        )
        for job in due:
            await self._run(job)
        return len(due)

    async def run_forever(self, stop: asyncio.Event, *, poll_seconds: float = 1.0) -> None:
        """Polls for due jobs until stop is set; a failing poll is logged and tried again."""
        while not stop.is_set():
            try:
                await self.run_due()
            except Exception as error:  # the loop must outlive a store hiccup
                log.error("scheduler poll failed: %s", type(error).__name__)
            try:
                await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
            except TimeoutError:
                pass

    async def _run(self, job: Job) -> None:
        handler = self._handlers.get(job.kind)
        if handler is None:
            log.error("no handler for job %s of kind %s", job.id, job.kind)
            await self._jobs.retry(job_id=job.id, due_at=self._later(60.0))
            return
        try:
            await handler(job)
        except RetryLater as wait:
            seconds = wait.seconds or _backoff(job.attempts)
            log.warning("job %s (%s) will be retried in %.0f s", job.id, job.kind, seconds)
            await self._jobs.retry(job_id=job.id, due_at=self._later(seconds))
            return
        except Exception as error:  # one failing job must not stop the others
            log.error("job %s (%s) failed: %s", job.id, job.kind, type(error).__name__)
            await self._jobs.retry(job_id=job.id, due_at=self._later(_backoff(job.attempts)))
            return
        await self._jobs.complete(job_id=job.id)

    def _later(self, seconds: float) -> str:
        return (self._clock.now() + timedelta(seconds=seconds)).isoformat()


def _backoff(attempts: int) -> float:
    return BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS) - 1)]
