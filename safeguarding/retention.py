"""How long each kind of record is kept, and the daily purge that removes what has had its time.

The bot is not the case file. A closed session is kept until the worker confirms its notes are
copied to the case file (`notes copied`), then for `sessions_days`; one never confirmed is listed
as overdue after `overdue_days` and kept for `unconfirmed_days` at most. A legal hold on a case
reference keeps everything about that case, its audit events included, until it is lifted.
docs/data-protection.md gives every period, its setting and the reasons for it.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from safeguarding.case_records import (
    LEGAL_HOLDS,
    case_of,
    is_held,
    session_cases,
)
from safeguarding.clock import LONDON, london_today
from safeguarding.escalations import CONFIG, ESCALATIONS
from safeguarding.ports import Document, Documents, Job
from safeguarding.records import AUDIT, SERVICE_USERS, SESSIONS, Records
from safeguarding.scheduler import Scheduler
from safeguarding.session_events import DISCUSSIONS, TASKS

log = logging.getLogger("safesession.retention")

CLOSED = frozenset({"ended", "stopped"})
RUNNING = frozenset({"started", "paused"})
PURGE_JOB = "retention_purge"
# UK time: the quietest hour, and one that exists on both clock-change days.
PURGE_AT = time(3, 0)
ACTOR = "retention"
# Where the purge remembers the last day of audit events it has dealt with.
WATERMARK_KEY = "retention"
# How the purge's result names the scheduled jobs it removed.
FINISHED_JOBS = "finished jobs"
# The collections the purge looks at besides the audit log; the others hold no case data.
PURGED = (SESSIONS, TASKS, ESCALATIONS, DISCUSSIONS)


@dataclass(frozen=True)
class RetentionPolicy:
    """How many days each kind of record is kept, and from when (docs/data-protection.md)."""

    # A closed session, from the worker's `notes copied`; a session that never started, from
    # its planned start (or from when planning began, if it never got a time).
    sessions_days: int = 90
    # The backstop for what is never closed: a session never confirmed as copied (from its end),
    # a session left running, an open task (from when it was made).
    unconfirmed_days: int = 365
    # An ended session not yet confirmed as copied is listed as overdue after this.
    overdue_days: int = 14
    # A service user, from their record's last change or their last session, whichever is later;
    # never while any session, task, escalation or discussion item about them is held.
    service_users_days: int = 365
    # An escalation, from its resolution (or from when it was raised, if never resolved).
    escalations_days: int = 730
    # A discussion item (behaviour, D3), from when it was raised.
    discussion_items_days: int = 730
    # A task, from when it was done.
    tasks_days: int = 90
    # An audit event, from when it was written.
    audit_days: int = 2190
    # A scheduled job that has run or was cancelled (ids and keys only), from when it was due.
    finished_jobs_days: int = 30


# The setting that changes each period; docs/data-protection.md lists them with their defaults.
RETENTION_SETTINGS: Mapping[str, str] = {
    "SAFESESSION_RETENTION_DAYS_SESSIONS": "sessions_days",
    "SAFESESSION_RETENTION_DAYS_UNCONFIRMED": "unconfirmed_days",
    "SAFESESSION_CASE_FILE_OVERDUE_DAYS": "overdue_days",
    "SAFESESSION_RETENTION_DAYS_SERVICE_USERS": "service_users_days",
    "SAFESESSION_RETENTION_DAYS_ESCALATIONS": "escalations_days",
    "SAFESESSION_RETENTION_DAYS_DISCUSSION_ITEMS": "discussion_items_days",
    "SAFESESSION_RETENTION_DAYS_TASKS": "tasks_days",
    "SAFESESSION_RETENTION_DAYS_AUDIT": "audit_days",
    "SAFESESSION_RETENTION_DAYS_FINISHED_JOBS": "finished_jobs_days",
}


def _days(count: int) -> timedelta:
    return timedelta(days=count)


def moment(raw: Any) -> datetime | None:
    """Reads a stored aware ISO 8601 time; None for anything else."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def closed_at(session: Mapping[str, Any]) -> datetime | None:
    """When the session ended or was stopped, if it has."""
    return moment(session.get("ended_at")) or moment(session.get("stopped_at"))


def awaiting_case_file(session: Mapping[str, Any]) -> bool:
    """A closed session whose notes the worker has not yet confirmed as copied to the case file."""
    return session.get("status") in CLOSED and not session.get("copied_to_case_file_at")


def is_overdue(session: Mapping[str, Any], policy: RetentionPolicy, now: datetime) -> bool:
    """Closed, not confirmed as copied, and for longer than the policy allows."""
    ended = closed_at(session) or moment(session.get("created_at"))
    return (
        awaiting_case_file(session)
        and ended is not None
        and ended + _days(policy.overdue_days) <= now
    )


def session_expiry(session: Mapping[str, Any], policy: RetentionPolicy) -> datetime | None:
    """When the session's time is up; None if it holds no time to count from."""
    status = session.get("status")
    created = moment(session.get("created_at"))
    if status in CLOSED:
        copied = moment(session.get("copied_to_case_file_at"))
        if copied is not None:
            return copied + _days(policy.sessions_days)
        ended = closed_at(session) or created
        return ended + _days(policy.unconfirmed_days) if ended else None
    if status in RUNNING:
        since = moment(session.get("paused_at")) or moment(session.get("started_at")) or created
        return since + _days(policy.unconfirmed_days) if since else None
    planned = moment(session.get("starts_at")) or created
    return planned + _days(policy.sessions_days) if planned else None


def expiry(collection: str, record: Mapping[str, Any], policy: RetentionPolicy) -> datetime | None:
    """When a record's time is up, by its kind; None for what is not purged by age."""
    created = moment(record.get("created_at"))
    if collection == SESSIONS:
        return session_expiry(record, policy)
    if collection == TASKS:
        done = moment(record.get("done_at"))
        if record.get("status") == "done" and done is not None:
            return done + _days(policy.tasks_days)
        return created + _days(policy.unconfirmed_days) if created else None
    if collection == ESCALATIONS:
        since = moment(record.get("resolved_at")) or moment(record.get("raised_at")) or created
        return since + _days(policy.escalations_days) if since else None
    if collection == DISCUSSIONS:
        since = moment(record.get("closed_at")) or created
        return since + _days(policy.discussion_items_days) if since else None
    if collection == AUDIT:
        at = moment(record.get("at"))
        return at + _days(policy.audit_days) if at else None
    return None


def session_activity(session: Mapping[str, Any]) -> datetime | None:
    """The last moment anything happened in a session."""
    times = [
        moment(session.get(name))
        for name in (
            "created_at",
            "starts_at",
            "started_at",
            "ended_at",
            "stopped_at",
            "copied_to_case_file_at",
        )
    ]
    known = [at for at in times if at is not None]
    return max(known) if known else None


def service_user_activity(service_user: Mapping[str, Any]) -> datetime | None:
    """The last change to a service user's record, or their last session it was told about."""
    approval = service_user.get("approval") or {}
    times = [
        moment(service_user.get("created_at")),
        moment(service_user.get("identity_verified_at")),
        moment(service_user.get("last_session_at")),
        moment(approval.get("decided_at")) if isinstance(approval, dict) else None,
        *(
            moment(entry.get("at"))
            for entry in (service_user.get("answers") or {}).values()
            if isinstance(entry, dict)
        ),
    ]
    known = [at for at in times if at is not None]
    return max(known) if known else None


@dataclass(frozen=True)
class Expired:
    """One record the purge removes, and which period it has outlived."""

    collection: str
    key: str
    rule: str


@dataclass(frozen=True)
class PurgePlan:
    """What today's purge removes, keeps on hold, and lists as overdue (records only)."""

    expired: tuple[Expired, ...] = ()
    kept_on_hold: int = 0
    overdue: tuple[Document, ...] = ()
    # Service users who stay while sessions about them go: their last session, to count from.
    last_sessions: Mapping[str, str] = field(default_factory=dict)


_RULES = {ESCALATIONS: "escalations_days", DISCUSSIONS: "discussion_items_days"}


def _rule(collection: str, record: Mapping[str, Any]) -> str:
    """Names the period a record outlived, for the audit event."""
    if collection == SESSIONS:
        if record.get("copied_to_case_file_at"):
            return "sessions_days"
        return "unconfirmed_days" if record.get("status") in CLOSED | RUNNING else "sessions_days"
    if collection == TASKS:
        return "tasks_days" if record.get("status") == "done" else "unconfirmed_days"
    return _RULES[collection]


def plan_purge(
    found: Mapping[str, Sequence[Document]],
    *,
    held: set[str],
    policy: RetentionPolicy,
    now: datetime,
) -> PurgePlan:
    """Decides, from every record of the purged kinds, what goes today and what stays."""
    cases = session_cases(found.get(SESSIONS, ()))
    expired: list[Expired] = []
    kept_on_hold = 0
    staying: set[str] = set()
    for collection in PURGED:
        for record in found.get(collection, ()):
            case = case_of(collection, record, cases)
            if case and case in held:
                kept_on_hold += 1
                continue
            ends = expiry(collection, record, policy)
            if ends is not None and ends <= now:
                expired.append(Expired(collection, str(record["key"]), _rule(collection, record)))
            elif case:
                staying.add(case)
    going = {(item.collection, item.key) for item in expired}
    last_sessions: dict[str, str] = {}
    for service_user in found.get(SERVICE_USERS, ()):
        case = str(service_user["key"])
        if case in held:
            kept_on_hold += 1
            continue
        if case in staying:
            continue
        sessions = [s for s in found.get(SESSIONS, ()) if cases.get(str(s["key"])) == case]
        last_session = max(
            (at for s in sessions if (at := session_activity(s)) is not None), default=None
        )
        latest = max(
            (at for at in (service_user_activity(service_user), last_session) if at is not None),
            default=None,
        )
        if latest is not None and latest + _days(policy.service_users_days) <= now:
            expired.append(Expired(SERVICE_USERS, case, "service_users_days"))
        elif last_session is not None and any((SESSIONS, s["key"]) in going for s in sessions):
            # The sessions go today: the service user's record keeps when the last one was.
            last_sessions[case] = last_session.isoformat()
    overdue = tuple(
        session
        for session in found.get(SESSIONS, ())
        if (SESSIONS, session["key"]) not in going and is_overdue(session, policy, now)
    )
    return PurgePlan(
        expired=tuple(expired),
        kept_on_hold=kept_on_hold,
        overdue=overdue,
        last_sessions=last_sessions,
    )


@dataclass(frozen=True)
class PurgeResult:
    """What a purge removed (or would remove, on a dry run), by kind, and what it left."""

    removed: Mapping[str, int]
    kept_on_hold: int
    overdue: tuple[Document, ...]


def purge_key(day: date) -> str:
    """The job key of one day's purge: one purge a day, across restarts and instances."""
    return f"purge:{day.isoformat()}"


def purge_due(day: date) -> datetime:
    """When a day's purge runs: 03:00 UK time, in UTC."""
    return datetime.combine(day, PURGE_AT, tzinfo=LONDON).astimezone(UTC)


class Retention:
    """Runs the daily purge on the scheduler, and a purge on demand (python -m storage.purge)."""

    def __init__(
        self,
        *,
        documents: Documents,
        records: Records,
        policy: RetentionPolicy,
        scheduler: Scheduler | None = None,
        actor: str = ACTOR,
    ) -> None:
        self._documents = documents
        self._records = records
        self._policy = policy
        self._scheduler = scheduler
        # Who the audit log names: the nightly job, or the admin who ran a purge by hand.
        self._actor = actor
        if scheduler is not None:
            scheduler.handle(PURGE_JOB, self._purge_job)

    async def plan_first(self) -> None:
        """Plans today's purge (a late one runs at once; one already run is not repeated)."""
        await self._plan(london_today(self._records.now()))

    async def purge(self, *, dry_run: bool = False) -> PurgeResult:
        """Removes every record whose time is up and that no legal hold keeps; audits each."""
        now = self._records.now()
        found = {
            collection: await self._documents.find(collection=collection)
            for collection in (SERVICE_USERS, *PURGED)
        }
        holds = await self._documents.find(collection=LEGAL_HOLDS)
        held = {str(hold["key"]) for hold in holds if is_held(hold)}
        plan = plan_purge(found, held=held, policy=self._policy, now=now)
        removed: dict[str, int] = {}
        for item in plan.expired:
            removed[item.collection] = removed.get(item.collection, 0) + 1
        held_ids = _held_record_ids(found, held)
        events = await self._expired_events(holds, held_ids, now)
        removed[AUDIT] = len(events)
        if not dry_run:
            await self._remove(plan, events, holds, now)
        if self._scheduler is not None:  # bookkeeping, no case data: counted, not audited
            removed[FINISHED_JOBS] = await self._scheduler.forget_finished(
                older_than=timedelta(days=self._policy.finished_jobs_days), dry_run=dry_run
            )
        result = PurgeResult(
            removed={name: count for name, count in removed.items() if count},
            kept_on_hold=plan.kept_on_hold,
            overdue=plan.overdue,
        )
        log.info(
            "retention purge%s: removed %s; %d kept on legal hold; %d sessions overdue for the"
            " case file: %s",
            " (dry run)" if dry_run else "",
            dict(result.removed) or "nothing",
            result.kept_on_hold,
            len(result.overdue),
            ", ".join(str(session["key"]) for session in result.overdue) or "none",
        )
        return result

    async def _remove(
        self,
        plan: PurgePlan,
        events: Sequence[Document],
        holds: Sequence[Document],
        now: datetime,
    ) -> None:
        for case, last in plan.last_sessions.items():
            # Read again, not trusted from the start of the purge: only this one field changes.
            service_user = await self._documents.get(collection=SERVICE_USERS, key=case)
            if service_user is not None:
                await self._records.update(
                    collection=SERVICE_USERS,
                    record=service_user,
                    changes={"last_session_at": last},
                    actor=self._actor,
                )
        for item in plan.expired:
            if not await self._still_expired(item, now):
                continue
            if await self._documents.delete(collection=item.collection, key=item.key):
                await self._records.audit(
                    actor=self._actor,
                    action="purge",
                    record=f"{item.collection}/{item.key}",
                    field=item.rule,
                    reason="retention",
                )
        deleted = 0
        for event in events:
            deleted += await self._documents.delete(collection=AUDIT, key=str(event["key"]))
        if deleted:
            await self._records.audit(
                actor=self._actor,
                action="purge",
                record=AUDIT,
                field=f"{deleted} events",
                reason="retention",
            )
        for hold in holds:
            if not is_held(hold):
                await self._documents.delete(collection=LEGAL_HOLDS, key=str(hold["key"]))
        await self._documents.put(
            collection=CONFIG,
            key=WATERMARK_KEY,
            document={"key": WATERMARK_KEY, "audit_purged_through": self._last_day(now)},
        )

    async def _still_expired(self, item: Expired, now: datetime) -> bool:
        """Checks the record again just before it goes: a worker may have touched it meanwhile."""
        current = await self._documents.get(collection=item.collection, key=item.key)
        if current is None:
            return False
        if item.collection == SERVICE_USERS:
            latest = service_user_activity(current)
            return latest is None or latest + _days(self._policy.service_users_days) <= now
        ends = expiry(item.collection, current, self._policy)
        return ends is not None and ends <= now

    async def _expired_events(
        self, holds: Sequence[Document], held_ids: set[str], now: datetime
    ) -> list[Document]:
        """The audit events whose time is up, leaving those about a held case."""
        marker = await self._documents.get(collection=CONFIG, key=WATERMARK_KEY)
        through = (marker or {}).get("audit_purged_through")
        last_day = date.fromisoformat(self._last_day(now))
        candidates: dict[str, Document] = {}
        if not isinstance(through, str):
            # The first purge reads the whole log once; after that, only the days it has not
            # yet dealt with, so the daily purge never reads years of events.
            for event in await self._documents.find(collection=AUDIT):
                candidates[str(event.get("key"))] = event
        else:
            day = date.fromisoformat(through) + timedelta(days=1)
            while day <= last_day:
                for event in await self._documents.find(
                    collection=AUDIT, where={"day": day.isoformat()}
                ):
                    candidates[str(event.get("key"))] = event
                day += timedelta(days=1)
        # A lifted hold: the events it kept are older than the days already dealt with.
        for hold in holds:
            if is_held(hold):
                continue
            for record_id in hold.get("records") or ():
                for event in await self._documents.find(
                    collection=AUDIT, where={"record": record_id}
                ):
                    candidates[str(event.get("key"))] = event
        return [
            event
            for event in candidates.values()
            if isinstance(event.get("key"), str)
            and event.get("record") not in held_ids
            and (ends := expiry(AUDIT, event, self._policy)) is not None
            and ends <= now
        ]

    def _last_day(self, now: datetime) -> str:
        """The last whole day (UTC) whose audit events have all had their time."""
        cutoff = (now - _days(self._policy.audit_days)).astimezone(UTC).date()
        return (cutoff - timedelta(days=1)).isoformat()

    async def _plan(self, day: date) -> None:
        if self._scheduler is None:
            return
        await self._scheduler.schedule(
            key=purge_key(day),
            kind=PURGE_JOB,
            due_at=purge_due(day),
            payload={"day": day.isoformat()},
        )

    async def _purge_job(self, job: Job) -> None:
        """Plans tomorrow's purge, then purges (a failure is retried; tomorrow's still runs)."""
        day = date.fromisoformat(str(job.payload["day"]))
        await self._plan(max(day, london_today(self._records.now())) + timedelta(days=1))
        await self.purge()


def _held_record_ids(found: Mapping[str, Sequence[Document]], held: set[str]) -> set[str]:
    """Every record about a case on legal hold, as the audit log names it."""
    cases = session_cases(found.get(SESSIONS, ()))
    ids = {f"{SERVICE_USERS}/{case}" for case in held}
    for collection, records in found.items():
        for record in records:
            if case_of(collection, record, cases) in held:
                ids.add(f"{collection}/{record['key']}")
    return ids
