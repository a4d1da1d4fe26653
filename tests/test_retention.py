"""Retention on a fake clock: what the nightly purge removes and keeps, holds, the audit log."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from app import create_app
from bot.settings import Settings, SettingsError, retention_policy
from safeguarding.case_records import LEGAL_HOLDS, set_hold
from safeguarding.clock import FixedClock
from safeguarding.ports import Document
from safeguarding.records import Records
from safeguarding.retention import (
    PURGE_JOB,
    Retention,
    RetentionPolicy,
    plan_purge,
    purge_due,
    purge_key,
)
from safeguarding.scheduler import Scheduler
from storage import memory_stores
from tests.conftest import make_settings
from tests.wrapped_documents import WrappedDocuments

# Thursday 26 November 2026, 10:00 UK time (GMT).
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
POLICY = RetentionPolicy()
WORKER = "aad-worker-1"
# Synthetic values that must never reach an audit event.
SECRETS = ("Zoë Example", "Periwinkle", "+447700900123", "LS1 4AP")


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def answer(value: Any, at: str = "") -> dict[str, Any]:
    return {"value": value, "clause": "", "at": at, "by": WORKER, "complete": True}


def service_user(case: str, *, changed_days_ago: float) -> Document:
    at = ago(changed_days_ago)
    return {
        "key": case,
        "owner": WORKER,
        "created_at": at,
        "answers": {
            "full_name": answer("Zoë Example", at),
            "safe_word": answer("Periwinkle", at),
            "contact_number": answer("+447700900123", at),
        },
    }


def session(key: str, case: str, **fields: Any) -> Document:
    return {
        "key": key,
        "owner": WORKER,
        "created_at": ago(400),
        "answers": {
            "case_reference": answer(case),
            "address_today": answer({"lines": ["10 Example Street"], "postcode": "LS1 4AP"}),
        },
        **fields,
    }


def ended(days_ago: float, *, copied_days_ago: float | None = None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "status": "ended",
        "started_at": ago(days_ago),
        "ended_at": ago(days_ago),
    }
    if copied_days_ago is not None:
        fields["copied_to_case_file_at"] = ago(copied_days_ago)
    return fields


class World:
    """Records on every adapter, a clock that moves, and the purge over them."""

    def __init__(self, stores: Any) -> None:
        self.stores = stores
        self.documents = stores.documents
        self.clock = FixedClock(NOW)
        self.records = Records(self.documents, self.clock)
        self.scheduler = Scheduler(stores.jobs, self.clock, worker_id="test")
        self.retention = Retention(
            documents=self.documents, records=self.records, policy=POLICY, scheduler=self.scheduler
        )

    async def put(self, collection: str, document: Document) -> None:
        await self.documents.put(collection=collection, key=document["key"], document=document)

    async def keys(self, collection: str) -> set[str]:
        return {str(doc["key"]) for doc in await self.documents.find(collection=collection)}

    async def audit_at(self, days_ago: float, record: str, action: str = "answer") -> str:
        """An audit event written days_ago (the clock goes back, then forward again)."""
        self.clock.moment = NOW - timedelta(days=days_ago)
        await self.records.audit(actor=WORKER, action=action, record=record, field="full_name")
        self.clock.moment = NOW
        events = await self.documents.find(collection="audit", where={"record": record})
        return str(max(events, key=lambda event: event["at"])["key"])


async def seeded(stores: Any) -> World:
    """Case CR-OLD has everything past its time; case CR-NEW everything within it."""
    world = World(stores)
    await world.put("service_users", service_user("CR-OLD", changed_days_ago=800))
    await world.put("service_users", service_user("CR-NEW", changed_days_ago=800))
    await world.put("service_users", service_user("CR-IDLE", changed_days_ago=366))
    await world.put("service_users", service_user("CR-BUSY", changed_days_ago=10))
    sessions = [
        session("S-COPIED91", "CR-OLD", **ended(120, copied_days_ago=91)),
        session("S-NEVER366", "CR-OLD", **ended(366)),
        session("S-PLANNED91", "CR-OLD", status="planned", starts_at=ago(91)),
        session("S-ABANDON", "CR-OLD", status="planning", created_at=ago(91)),
        session("S-RUN366", "CR-OLD", status="started", started_at=ago(366)),
        session("S-COPIED89", "CR-NEW", **ended(100, copied_days_ago=89)),
        session("S-OVERDUE", "CR-NEW", **ended(15)),
        session("S-ENDED10", "CR-NEW", **ended(10)),
        session("S-PLANNED", "CR-NEW", status="planned", starts_at=ago(-2)),
    ]
    for record in sessions:
        await world.put("sessions", record)
    tasks = [
        {"key": "T-DONE91", "session": "S-COPIED91", "case_reference": "CR-OLD",
         "status": "done", "done_at": ago(91), "created_at": ago(120)},
        {"key": "T-OPEN366", "session": "S-NEVER366", "case_reference": "CR-OLD",
         "status": "open", "created_at": ago(366)},
        {"key": "T-DONE89", "session": "S-COPIED89", "case_reference": "CR-NEW",
         "status": "done", "done_at": ago(89), "created_at": ago(100)},
        {"key": "T-OPEN100", "session": "S-OVERDUE", "case_reference": "CR-NEW",
         "status": "open", "created_at": ago(100)},
    ]  # fmt: skip
    for record in tasks:
        await world.put("tasks", record)
    await world.put(
        "escalations",
        {"key": "E-OLD", "session_key": "S-COPIED91", "case_reference": "CR-OLD",
         "status": "resolved", "raised_at": ago(800), "resolved_at": ago(731)},
    )  # fmt: skip
    await world.put(
        "escalations",
        {"key": "E-NEW", "session_key": "", "case_reference": "", "status": "resolved",
         "raised_at": ago(720), "resolved_at": ago(700)},
    )  # fmt: skip
    await world.put(
        "discussion_items",
        {"key": "D-OLD", "session": "S-COPIED91", "case_reference": "CR-OLD",
         "status": "open", "created_at": ago(731)},
    )  # fmt: skip
    await world.put(
        "discussion_items",
        {"key": "D-NEW", "session": "S-OVERDUE", "case_reference": "CR-NEW",
         "status": "open", "created_at": ago(100)},
    )  # fmt: skip
    return world


async def finished_job(world: World, key: str, days_ago: float) -> None:
    """A scheduled job that was due days_ago and has run."""
    jobs = world.stores.jobs
    await jobs.enqueue(key=key, kind="reminder", due_at=ago(days_ago), payload={})
    [job] = await jobs.claim_due(now=ago(days_ago), worker_id="w", limit=1, lease_seconds=60)
    await jobs.complete(job_id=job.id)


async def test_the_purge_removes_what_has_had_its_time_and_keeps_the_rest(stores: Any) -> None:
    world = await seeded(stores)
    old_event = await world.audit_at(2191, "sessions/S-COPIED91")
    recent_event = await world.audit_at(2189, "sessions/S-COPIED89")
    await finished_job(world, "reminder:31-days-ago", 31)
    await finished_job(world, "reminder:29-days-ago", 29)
    await world.stores.jobs.enqueue(key="pending:40", kind="reminder", due_at=ago(40), payload={})

    result = await world.retention.purge()

    assert await world.keys("sessions") == {"S-COPIED89", "S-OVERDUE", "S-ENDED10", "S-PLANNED"}
    assert await world.keys("tasks") == {"T-DONE89", "T-OPEN100"}
    assert await world.keys("escalations") == {"E-NEW"}
    assert await world.keys("discussion_items") == {"D-NEW"}
    # CR-IDLE never had a session and sat untouched for 366 days; CR-NEW still has sessions;
    # CR-BUSY changed ten days ago; CR-OLD has nothing left, but a session of theirs was due 91
    # days ago, so their record stays a year from then and keeps that date.
    assert await world.keys("service_users") == {"CR-NEW", "CR-BUSY", "CR-OLD"}
    kept = await world.documents.get(collection="service_users", key="CR-OLD")
    assert kept is not None and kept["last_session_at"] == ago(91)
    assert result.removed == {
        "sessions": 5,
        "tasks": 2,
        "escalations": 1,
        "discussion_items": 1,
        "service_users": 1,
        "audit": 1,
        "finished jobs": 1,
    }
    jobs = world.stores.jobs  # the forgotten key may be used again; the others still hold theirs
    assert await jobs.enqueue(
        key="reminder:31-days-ago", kind="reminder", due_at=ago(0), payload={}
    )
    assert not await jobs.enqueue(
        key="reminder:29-days-ago", kind="reminder", due_at=ago(0), payload={}
    )
    assert not await jobs.enqueue(key="pending:40", kind="reminder", due_at=ago(0), payload={})
    assert [s["key"] for s in result.overdue] == ["S-OVERDUE"]
    audit = await world.keys("audit")
    assert old_event not in audit and recent_event in audit
    purged = await world.documents.find(collection="audit", where={"action": "purge"})
    assert {event["record"] for event in purged} >= {
        "sessions/S-COPIED91",
        "service_users/CR-IDLE",
        "tasks/T-OPEN366",
        "audit",
    }
    assert {event["actor"] for event in purged} == {"retention"}
    assert not any(secret in str(purged) for secret in SECRETS)


async def test_a_second_purge_the_same_day_removes_nothing_more(stores: Any) -> None:
    world = await seeded(stores)
    await world.retention.purge()
    before = {name: await world.keys(name) for name in ("sessions", "service_users", "tasks")}
    result = await world.retention.purge()
    assert {name: await world.keys(name) for name in before} == before
    assert result.removed == {}


async def test_a_dry_run_says_what_would_go_and_changes_nothing(stores: Any) -> None:
    world = await seeded(stores)
    await world.audit_at(2191, "sessions/S-COPIED91")
    sessions = await world.keys("sessions")
    audit = await world.keys("audit")
    result = await world.retention.purge(dry_run=True)
    assert result.removed["sessions"] == 5 and result.removed["audit"] == 1
    assert await world.keys("sessions") == sessions and await world.keys("audit") == audit


async def test_a_legal_hold_keeps_everything_about_the_case_until_it_is_lifted(
    stores: Any,
) -> None:
    world = await seeded(stores)
    old_event = await world.audit_at(2191, "sessions/S-COPIED91")
    other_old_event = await world.audit_at(2191, "sessions/S-ELSEWHERE")
    await set_hold(world.documents, world.records, "CR-OLD", on=True, actor="admin:dpo")

    result = await world.retention.purge()

    assert {"S-COPIED91", "S-NEVER366", "S-PLANNED91", "S-ABANDON", "S-RUN366"} <= await world.keys(
        "sessions"
    )
    assert {"T-DONE91", "T-OPEN366"} <= await world.keys("tasks")
    assert "E-OLD" in await world.keys("escalations")
    assert "D-OLD" in await world.keys("discussion_items")
    assert "CR-OLD" in await world.keys("service_users")
    audit = await world.keys("audit")
    assert old_event in audit and other_old_event not in audit
    assert result.kept_on_hold == 10  # 5 sessions, 2 tasks, an escalation, an item, the user

    # Lifted: the next night's purge removes it all, the old audit event included (it is older
    # than the days the purge has already dealt with, so only the lifted hold finds it).
    world.clock.moment = NOW + timedelta(days=1)
    await set_hold(world.documents, world.records, "CR-OLD", on=False, actor="admin:dpo")
    await world.retention.purge()
    assert not {"S-COPIED91", "S-NEVER366"} & await world.keys("sessions")
    assert "E-OLD" not in await world.keys("escalations")
    assert old_event not in await world.keys("audit")
    assert await world.keys(LEGAL_HOLDS) == set()
    holds = await world.documents.find(collection="audit", where={"record": "service_users/CR-OLD"})
    assert {"legal_hold_on", "legal_hold_off"} <= {event["action"] for event in holds}


async def test_a_service_user_outlives_their_sessions_by_the_period(stores: Any) -> None:
    world = World(stores)
    # Set up long ago; a last session ended 200 days ago and was copied 91 days ago.
    await world.put("service_users", service_user("CR-1042", changed_days_ago=800))
    await world.put("sessions", session("S-LAST", "CR-1042", **ended(200, copied_days_ago=91)))

    await world.retention.purge()
    assert await world.keys("sessions") == set()
    kept = await world.documents.get(collection="service_users", key="CR-1042")
    assert kept is not None and kept["last_session_at"] == ago(91)

    world.clock.moment = NOW + timedelta(days=273)  # 364 days after the last activity
    await world.retention.purge()
    assert await world.keys("service_users") == {"CR-1042"}
    world.clock.moment = NOW + timedelta(days=275)
    await world.retention.purge()
    assert await world.keys("service_users") == set()


class CountingDocuments(WrappedDocuments):
    """The Documents port, counting how often the whole audit log is read."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.whole_log_reads = 0

    async def find(self, *, collection: str, where: Any = None) -> list[Document]:
        if collection == "audit" and not where:
            self.whole_log_reads += 1
        return list(await self._inner.find(collection=collection, where=where))


async def test_after_the_first_purge_only_new_days_of_audit_events_are_read() -> None:
    stores = memory_stores()
    counting = CountingDocuments(stores.documents)
    clock = FixedClock(NOW)
    records = Records(counting, clock)  # type: ignore[arg-type]
    retention = Retention(documents=counting, records=records, policy=POLICY)  # type: ignore[arg-type]
    await records.audit(actor=WORKER, action="answer", record="sessions/S-1")
    for day in range(1, 4):
        clock.moment = NOW + timedelta(days=day)
        await records.audit(actor=WORKER, action="answer", record=f"sessions/S-{day + 1}")
        await retention.purge()
    assert counting.whole_log_reads == 1

    # Six years on, each day's events go on the day their time is up (give or take a night).
    clock.moment = NOW + timedelta(days=POLICY.audit_days + 3)
    await retention.purge()
    left = {event["record"] for event in await stores.documents.find(collection="audit")}
    assert "sessions/S-1" not in left and "sessions/S-2" not in left
    assert "sessions/S-4" in left
    assert counting.whole_log_reads == 1


async def test_the_purge_runs_nightly_once_and_plans_the_next_night(stores: Any) -> None:
    world = await seeded(stores)
    await world.retention.plan_first()
    await world.retention.plan_first()  # a second instance, or a restart: still one job
    assert not await world.scheduler.schedule(
        key=purge_key(date(2026, 11, 26)), kind=PURGE_JOB, due_at=NOW, payload={}
    )
    # 10:00 is after tonight's 03:00: a purge missed while the bot was down runs at once.
    assert await world.scheduler.run_due() == 1
    assert "S-COPIED91" not in await world.keys("sessions")
    assert await world.scheduler.run_due() == 0
    world.clock.moment = purge_due(date(2026, 11, 27)) - timedelta(minutes=1)
    assert await world.scheduler.run_due() == 0
    world.clock.moment = purge_due(date(2026, 11, 27))
    assert await world.scheduler.run_due() == 1
    assert not await world.scheduler.schedule(
        key=purge_key(date(2026, 11, 28)), kind=PURGE_JOB, due_at=NOW, payload={}
    )


async def test_the_app_plans_the_nightly_purge_when_it_starts(tmp_path: Path) -> None:
    stores = memory_stores()
    app = create_app(make_settings(tmp_path), stores=stores, clock=FixedClock(NOW))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        planned = not await stores.jobs.enqueue(
            key=purge_key(date(2026, 11, 26)), kind=PURGE_JOB, due_at=NOW.isoformat(), payload={}
        )
    finally:
        await server.close()
    assert planned, "the app planned tonight's purge"


def test_overdue_sessions_are_the_closed_ones_not_confirmed_in_time() -> None:
    found = {
        "sessions": [
            session("S-14", "CR-1", **ended(14)),
            session("S-13", "CR-1", **ended(13)),
            session("S-STOP", "CR-1", status="stopped", stopped_at=ago(20)),
            session("S-COPIED", "CR-1", **ended(30, copied_days_ago=29)),
            session("S-RUN", "CR-1", status="started", started_at=ago(30)),
        ]
    }
    plan = plan_purge(found, held=set(), policy=POLICY, now=NOW)
    assert sorted(s["key"] for s in plan.overdue) == ["S-14", "S-STOP"]
    assert plan.expired == ()


def test_the_periods_come_from_settings_with_documented_defaults() -> None:
    assert retention_policy({}) == RetentionPolicy(
        sessions_days=90,
        unconfirmed_days=365,
        overdue_days=14,
        service_users_days=365,
        escalations_days=730,
        discussion_items_days=730,
        tasks_days=90,
        audit_days=2190,
        finished_jobs_days=30,
    )
    policy = retention_policy(
        {"SAFESESSION_RETENTION_DAYS_SESSIONS": "30", "SAFESESSION_RETENTION_DAYS_AUDIT": "3650"}
    )
    assert (policy.sessions_days, policy.audit_days, policy.tasks_days) == (30, 3650, 90)
    settings = Settings.from_env(
        {"SAFESESSION_LOCAL": "1", "SAFESESSION_RETENTION_DAYS_TASKS": "7"}
    )
    assert settings.retention.tasks_days == 7


@pytest.mark.parametrize("bad", ["0", "-1", "1.5", "ninety", "٣"])
def test_a_retention_period_must_be_whole_days(bad: str) -> None:
    with pytest.raises(SettingsError, match="SAFESESSION_RETENTION_DAYS_SESSIONS"):
        retention_policy({"SAFESESSION_RETENTION_DAYS_SESSIONS": bad})
