"""Looking after the worker on Teams (E1-E4, D2), on a fixed clock the tests move."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app import PIPELINE, create_app
from bot.session_events import WELFARE_DUE
from bot.settings import SettingsError
from safeguarding.clock import FixedClock
from safeguarding.ports import Job, Jobs
from safeguarding.scheduler import Scheduler
from safeguarding.self_care import SelfCarePolicy
from templates import Templates
from tests.conftest import make_settings
from tests.journeys import JOURNEY_ENV, NOW
from tests.test_session_planning import (
    ENV as PLANNING_ENV,
)
from tests.test_session_planning import plan_to_contact_number, put_service_user
from tests.test_session_start import SESSION, WORKER, given_service_user, given_session
from tests.transcript import Chat

# NOW is Thursday 26 November 2026, 10:00 UK time (GMT).
THURSDAY = NOW.date()
SATURDAY_NIGHT = datetime(2026, 11, 28, 21, 0, tzinfo=UTC)
ALL_WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def at(day: int, hour: int, minute: int = 0, *, month: int = 11, year: int = 2026) -> datetime:
    """A moment in UTC (the same as UK time in November)."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


class JobLog:
    """The Jobs port of the stores under test, noting what became of each key."""

    def __init__(self, inner: Jobs) -> None:
        self._inner = inner
        self.status: dict[str, str] = {}

    async def enqueue(self, *, key: str, kind: str, due_at: str, payload: dict[str, Any]) -> bool:
        new = await self._inner.enqueue(key=key, kind=kind, due_at=due_at, payload=payload)
        if new:
            self.status[key] = "pending"
        return new

    async def claim_due(
        self, *, now: str, worker_id: str, limit: int, lease_seconds: float
    ) -> list[Job]:
        return await self._inner.claim_due(
            now=now, worker_id=worker_id, limit=limit, lease_seconds=lease_seconds
        )

    async def complete(self, *, job_id: str) -> None:
        await self._inner.complete(job_id=job_id)
        self.status[job_id] = "done"

    async def retry(self, *, job_id: str, due_at: str) -> None:
        await self._inner.retry(job_id=job_id, due_at=due_at)
        self.status[job_id] = "pending"

    async def cancel(self, *, key: str) -> bool:
        cancelled = await self._inner.cancel(key=key)
        if cancelled:
            self.status[key] = "cancelled"
        return cancelled


class Setting:
    """A worker's and their line manager's chats, the clock and the scheduler."""

    def __init__(self, tmp_path: Path, stores: Any, *, now: datetime = NOW, **environ: str) -> None:
        self.clock = FixedClock(now)
        self.stores = stores
        self.job_log = JobLog(stores.jobs)
        app = create_app(
            make_settings(tmp_path, **{**JOURNEY_ENV, **environ}),
            stores=replace(stores, jobs=self.job_log),
            clock=self.clock,
            run_scheduler=False,
        )
        self.scheduler: Scheduler = app[PIPELINE].scheduler
        self.worker = Chat(app[PIPELINE], worker="worker-1", conversation="a:personal-worker-1")
        self.manager = Chat(
            app[PIPELINE], worker="manager", conversation="a:personal-manager", beside=self.worker
        )

    async def run(self, moment: datetime) -> int:
        """Moves the clock to the moment and runs everything due by then; says how many ran."""
        self.clock.moment = moment
        ran = 0
        while count := await self.scheduler.run_due():
            ran += count
        return ran

    async def hello(self) -> None:
        """The worker opens their chat (which stores its reference and plans their reminders)."""
        await self.worker.user("hi")
        self.worker.bot_sends_card("help")
        self.worker.no_unread_replies()

    def jobs(self, status: str = "pending") -> list[str]:
        """The keys of the jobs in that state (pending, done or cancelled), sorted."""
        return sorted(key for key, now in self.job_log.status.items() if now == status)

    async def answers(self) -> dict[str, Any]:
        profile = await self.stores.documents.get(collection="workers", key=WORKER)
        return {key: entry["value"] for key, entry in (profile or {}).get("answers", {}).items()}


async def put_profile(stores: Any, worker: str = WORKER, **answers: Any) -> None:
    """Adds answers to a worker's profile, as the settings journey would leave them."""
    profile = await stores.documents.get(collection="workers", key=worker) or {
        "key": worker,
        "owner": worker,
        "answers": {},
    }
    for question, value in answers.items():
        profile["answers"][question] = {
            "value": value,
            "clause": "E1",
            "at": "",
            "by": worker,
            "complete": True,
        }
    await stores.documents.put(collection="workers", key=worker, document=profile)


# ---------------------------------------------------------------------------------------------
# The end-of-day sign-off and the weekly check-in (E1, E3)


async def test_the_sign_off_comes_once_at_sixteen_forty_five_and_plans_the_next(
    tmp_path: Path, stores: Any
) -> None:
    s = Setting(tmp_path, stores)
    await s.hello()
    assert s.jobs() == [
        f"signoff:{WORKER}:2026-11-26:1645",
        f"weekly:{WORKER}:2026-W48:fri1400",
    ]
    assert await s.run(at(26, 16, 44)) == 0
    assert await s.run(at(26, 16, 45)) == 1
    s.worker.bot_says("Your working day ends at 17:00", "Friday 27 November 2026, 09:00")
    s.worker.no_unread_replies()
    assert await s.run(at(26, 16, 50)) == 0  # never twice
    await s.hello()  # a later message plans nothing new
    assert s.jobs() == [
        f"signoff:{WORKER}:2026-11-27:1645",
        f"weekly:{WORKER}:2026-W48:fri1400",
    ]

    await s.run(at(27, 14))
    card = s.worker.bot_sends_card("weekly_check_in")
    assert [action["data"]["action"] for action in card["actions"]] == [
        "check_in_done",
        "check_in_snooze",
        "check_in_skip",
    ]
    await s.run(at(27, 16, 45))
    s.worker.bot_says("ends at 17:00", "Monday 30 November 2026, 09:00")  # after a Friday
    s.worker.no_unread_replies()
    assert f"signoff:{WORKER}:2026-11-30:1645" in s.jobs()


async def test_nothing_non_urgent_goes_out_of_hours_and_the_queue_releases_on_monday(
    tmp_path: Path, stores: Any
) -> None:
    await put_profile(stores, check_in_day="fri", check_in_time="18:00")
    s = Setting(tmp_path, stores)
    await s.hello()
    await s.run(at(26, 16, 45))
    s.worker.bot_says("Your working day ends")
    await s.run(at(27, 16, 45))
    s.worker.bot_says("Your working day ends")

    await s.run(at(27, 18))  # the check-in falls due outside working hours: held
    s.worker.no_unread_replies()
    held = f"held:weekly:{WORKER}:2026-W48:fri1800@2026-11-30T09:00:00+00:00"
    assert held in s.jobs()
    for moment in (at(28, 10), at(29, 20), at(30, 8, 59)):
        await s.run(moment)
        s.worker.no_unread_replies()
    await s.run(at(30, 9))
    s.worker.bot_sends_card("weekly_check_in")
    s.worker.no_unread_replies()
    assert held in s.jobs("done")


async def test_a_reminder_found_too_late_is_dropped_not_sent(tmp_path: Path, stores: Any) -> None:
    s = Setting(tmp_path, stores)
    await s.hello()
    # The service was down from Thursday afternoon: Thursday's sign-off is only found on Friday.
    await s.run(at(27, 8))
    await s.run(at(27, 9, 30))
    s.worker.no_unread_replies()
    assert f"signoff:{WORKER}:2026-11-27:1645" in s.jobs()


async def test_urgent_messages_reach_the_worker_out_of_hours(tmp_path: Path, stores: Any) -> None:
    await given_service_user(stores)
    await given_session(stores, status="started")
    await put_profile(stores, check_in_day="sat", check_in_time="21:00")
    s = Setting(tmp_path, stores, now=SATURDAY_NIGHT - timedelta(minutes=1))
    await s.hello()  # no boundary reminder while they are with someone

    await s.worker.submit({"action": "connection_lost", "session": SESSION})
    s.worker.bot_sends_card("connection_lost")
    await s.worker.user("emergency")
    s.worker.bot_says("NOT been seen yet")
    s.worker.bot_sends_card("emergency_kind")
    s.worker.no_unread_replies()  # no boundary reminder for an emergency
    await stores.documents.put(
        collection="tasks",
        key="T-ABC234",
        document={
            "key": "T-ABC234",
            "owner": WORKER,
            "status": "open",
            "kind": "welfare_call",
            "case_reference": "CR-1042",
            "session": SESSION,
        },
    )
    await s.scheduler.schedule(
        key="welfare_due:T-ABC234",
        kind=WELFARE_DUE,
        due_at=SATURDAY_NIGHT + timedelta(minutes=5),
        payload={"task": "T-ABC234"},
    )

    await s.run(SATURDAY_NIGHT + timedelta(minutes=5))
    replies = [s.worker.next_reply() for _ in range(3)]
    texts = " ".join(reply.text or "" for reply in replies)
    assert "Call them now" in texts  # the 5-minute call-back prompt
    assert "chased" in texts or "on-call" in texts  # the escalation's re-notification
    assert ["welfare_due"] == [a.name for reply in replies for a in reply.attachments or []]
    s.worker.no_unread_replies()  # and the weekly check-in due at 21:00 was held, not sent
    assert any(key.startswith("held:weekly:") for key in s.jobs())


# ---------------------------------------------------------------------------------------------
# Working boundaries when the worker writes out of hours (E1)


async def test_out_of_hours_a_gentle_reminder_comes_once_per_stretch_but_never_on_an_emergency(
    tmp_path: Path, stores: Any
) -> None:
    s = Setting(tmp_path, stores, now=at(28, 11))
    await s.worker.user("help")
    s.worker.bot_sends_card("help")  # normal service first
    s.worker.bot_says(
        "Saturday 28 November 2026, 11:00",
        "outside your working hours (Monday to Friday, 09:00 to 17:00)",
        "Monday 30 November 2026, 09:00",
        "type **emergency**",
    )
    s.clock.moment = at(29, 19)
    await s.worker.user("help")
    s.worker.bot_sends_card("help")
    s.worker.no_unread_replies()  # once for the whole weekend

    s.clock.moment = at(30, 10)
    await s.worker.user("help")
    s.worker.bot_sends_card("help")
    s.worker.no_unread_replies()

    s.clock.moment = at(30, 19)  # a new evening: first an emergency, which just works
    await s.worker.user("emergency")
    s.worker.bot_says("NOT been seen yet")
    s.worker.bot_sends_card("emergency_kind")
    s.worker.no_unread_replies()
    await s.worker.user("help")
    s.worker.bot_sends_card("help")
    s.worker.bot_says("outside your working hours", "Tuesday 1 December 2026, 09:00")


async def test_the_boundary_reminder_can_be_switched_off(tmp_path: Path, stores: Any) -> None:
    await put_profile(stores, reminders=["sign_off", "weekly_check_in"])
    s = Setting(tmp_path, stores, now=at(28, 11))
    await s.worker.user("help")
    s.worker.bot_sends_card("help")
    s.worker.no_unread_replies()


# ---------------------------------------------------------------------------------------------
# Clock changes: the sign-off stays at 16:45 on the worker's clock


@pytest.mark.parametrize(
    ("saturday_sign_off", "sunday_sign_off"),
    [
        # GMT on the Saturday, BST on the Sunday the clocks go forward: an hour earlier in UTC.
        (datetime(2026, 3, 28, 16, 45, tzinfo=UTC), datetime(2026, 3, 29, 15, 45, tzinfo=UTC)),
        # BST on the Saturday, GMT on the Sunday the clocks go back: an hour later in UTC.
        (datetime(2026, 10, 24, 15, 45, tzinfo=UTC), datetime(2026, 10, 25, 16, 45, tzinfo=UTC)),
        (datetime(2027, 3, 27, 16, 45, tzinfo=UTC), datetime(2027, 3, 28, 15, 45, tzinfo=UTC)),
    ],
    ids=["spring-2026", "autumn-2026", "spring-2027"],
)
async def test_on_a_changeover_day_the_sign_off_is_at_sixteen_forty_five_uk_time(
    tmp_path: Path, stores: Any, saturday_sign_off: datetime, sunday_sign_off: datetime
) -> None:
    await put_profile(stores, working_days=ALL_WEEK, reminders=["sign_off"])
    s = Setting(tmp_path, stores, now=saturday_sign_off.replace(hour=10))
    await s.hello()
    assert await s.run(saturday_sign_off - timedelta(minutes=1)) == 0
    assert await s.run(saturday_sign_off) == 1
    s.worker.bot_says("Your working day ends at 17:00")
    assert await s.run(sunday_sign_off - timedelta(minutes=1)) == 0
    s.worker.no_unread_replies()
    assert await s.run(sunday_sign_off) == 1
    s.worker.bot_says("Your working day ends at 17:00", "09:00")
    s.worker.no_unread_replies()


# ---------------------------------------------------------------------------------------------
# Snooze and switch off (self-care), and the weekly check-in's own buttons


async def test_self_care_shows_the_tips_and_each_reminder_with_its_buttons(
    tmp_path: Path, stores: Any
) -> None:
    s = Setting(tmp_path, stores)
    await s.worker.user("self-care")
    card = s.worker.bot_sends_card("self_care")
    tips = next(item for item in card["body"] if item.get("id") == "tips")["text"]
    for words in ("working hours", "breaks away from the screen", "Keep in touch", "One contact"):
        assert words in tips
    rows = {item["id"]: item for item in card["body"] if item.get("type") == "Container"}
    assert list(rows) == [
        "sign_off",
        "weekly_check_in",
        "screen_break",
        "space_between",
        "out_of_hours",
    ]
    buttons = rows["screen_break"]["items"][1]["actions"]
    assert [button["data"] for button in buttons] == [
        {"action": "reminder_snooze", "kind": "screen_break"},
        {"action": "reminder_off", "kind": "screen_break"},
    ]


async def test_a_snoozed_sign_off_skips_today_and_comes_back_tomorrow(
    tmp_path: Path, stores: Any
) -> None:
    s = Setting(tmp_path, stores)
    await s.hello()
    await s.worker.submit({"action": "reminder_snooze", "kind": "sign_off"})
    s.worker.bot_says("Snoozed until Thursday 26 November 2026, 17:00: End-of-day sign-off")
    await s.worker.user("self-care")
    card = s.worker.bot_sends_card("self_care")
    row = next(item for item in card["body"] if item.get("id") == "sign_off")
    assert "snoozed until Thursday 26 November 2026, 17:00" in row["items"][0]["text"]
    await s.run(at(26, 16, 45))
    s.worker.no_unread_replies()
    await s.run(at(27, 16, 45))
    s.worker.bot_sends_card("weekly_check_in")  # snoozing one kind leaves the others alone
    s.worker.bot_says("Your working day ends")


async def test_a_switched_off_reminder_stops_and_switching_on_plans_it_again(
    tmp_path: Path, stores: Any
) -> None:
    s = Setting(tmp_path, stores)
    await s.hello()
    await s.worker.submit({"action": "reminder_off", "kind": "weekly_check_in"})
    s.worker.bot_says("Switched off: Weekly check-in", "self-care")
    assert (await s.answers())["reminders"] == [
        "sign_off",
        "screen_break",
        "space_between",
        "out_of_hours",
    ]
    assert f"weekly:{WORKER}:2026-W48:fri1400" in s.jobs("cancelled")
    await s.run(at(27, 14))
    s.worker.no_unread_replies()

    await s.worker.submit({"action": "reminder_on", "kind": "weekly_check_in"})
    s.worker.bot_says("Switched back on: Weekly check-in")
    assert f"weekly:{WORKER}:2026-W49:fri1400" in s.jobs()
    await s.run(at(27, 16, 45))
    s.worker.bot_says("Your working day ends")
    await s.run(at(4, 14, month=12))
    s.worker.bot_sends_card("weekly_check_in")


async def test_the_weekly_check_in_can_be_snoozed_done_or_skipped(
    tmp_path: Path, stores: Any
) -> None:
    await put_profile(stores, reminders=["weekly_check_in"])
    s = Setting(tmp_path, stores)
    await s.hello()
    await s.run(at(27, 14))
    card = s.worker.bot_sends_card("weekly_check_in")
    snooze, done, skip = (card["actions"][i]["data"] for i in (1, 0, 2))
    assert snooze == {"action": "check_in_snooze", "week": "2026-W48"}

    await s.worker.submit(snooze)
    s.worker.bot_says("I'll ask again at Friday 27 November 2026, 15:00")
    assert await s.run(at(27, 14, 59)) == 0
    await s.run(at(27, 15))
    s.worker.bot_sends_card("weekly_check_in")
    await s.worker.submit(done)
    s.worker.bot_says("Good to hear", "Friday 4 December 2026, 14:00")

    s.clock.moment = at(27, 16, 30)  # snoozed late on a Friday: back on Monday morning
    await s.worker.submit(snooze)
    s.worker.bot_says("I'll ask again at Monday 30 November 2026, 09:00")
    await s.run(at(30, 9))
    s.worker.no_unread_replies()  # already done this week

    await s.run(at(4, 14, month=12))
    card = s.worker.bot_sends_card("weekly_check_in")
    await s.worker.submit(card["actions"][2]["data"])
    s.worker.bot_says("not this week", "Friday 11 December 2026, 14:00")
    assert skip["action"] == "check_in_skip"
    state = await stores.documents.get(collection="self_care", key=WORKER)
    assert state["check_ins"] == {"2026-W48": "done", "2026-W49": "skipped"}


# ---------------------------------------------------------------------------------------------
# `my settings`: the card and the typed path


async def test_my_settings_shows_the_profile_and_a_saved_card_reschedules(
    tmp_path: Path, stores: Any
) -> None:
    await put_profile(
        stores,
        line_manager="aad-manager",
        line_manager_name="Alex Manager",
        line_manager_phone="+447700900456",
        work_mobile="+447700900123",
    )
    s = Setting(tmp_path, stores)
    await s.hello()
    await s.worker.user("my settings")
    card = s.worker.bot_sends_card("my_settings")
    facts = {fact["title"]: fact["value"] for fact in card["body"][1]["facts"]}
    assert facts == {"Line manager": "Alex Manager, 07700 900456", "Work mobile": "07700 900123"}
    inputs = {item["id"]: item for item in card["body"] if item.get("id")}
    assert inputs["working_days"]["value"] == "mon,tue,wed,thu,fri"
    assert inputs["working_days"]["isMultiSelect"] is True
    assert (inputs["working_start"]["type"], inputs["working_start"]["value"]) == (
        "Input.Time",
        "09:00",
    )
    assert inputs["reminder_out_of_hours"]["value"] == "on"
    assert card["actions"][1]["data"] == {"action": "my_line_manager"}

    await s.worker.submit(
        {
            "action": "save_settings",
            "working_days": "mon,tue,wed,thu",
            "working_start": "08:00",
            "working_end": "16:00",
            "check_in_day": "wed",
            "check_in_time": "11:30",
            "reminder_sign_off": "on",
            "reminder_weekly_check_in": "on",
            "reminder_screen_break": "on",
            "reminder_space_between": "on",
            "reminder_out_of_hours": "off",
        }
    )
    s.worker.bot_says("Saved", "Monday to Thursday, 08:00 to 16:00", "Wednesday at 11:30")
    saved = await s.answers()
    assert saved["working_days"] == ["mon", "tue", "wed", "thu"]
    assert (saved["working_start"], saved["working_end"]) == ("08:00", "16:00")
    assert "out_of_hours" not in saved["reminders"]
    profile = await stores.documents.get(collection="workers", key=WORKER)
    assert profile["answers"]["check_in_day"]["clause"] == "E3"
    assert s.jobs() == [
        f"signoff:{WORKER}:2026-11-26:1545",
        f"weekly:{WORKER}:2026-W49:wed1130",
    ]
    assert f"signoff:{WORKER}:2026-11-26:1645" in s.jobs("cancelled")

    await s.worker.submit({"action": "my_line_manager"})
    s.worker.bot_says("your line manager's name")


async def test_saving_unchanged_settings_keeps_todays_reminders(
    tmp_path: Path, stores: Any
) -> None:
    s = Setting(tmp_path, stores)
    await s.hello()
    await s.worker.submit({"action": "reminder_off", "kind": "screen_break"})
    s.worker.bot_says("Switched off: Screen breaks")
    await s.worker.user("my settings")
    card = s.worker.bot_sends_card("my_settings")
    values = {item["id"]: item["value"] for item in card["body"] if "value" in item}
    await s.worker.submit({"action": "save_settings", **values})
    s.worker.bot_says("Saved")
    assert s.jobs("cancelled") == []
    assert await s.run(at(26, 16, 45)) == 1
    s.worker.bot_says("Your working day ends")


async def test_a_settings_card_with_an_impossible_day_changes_nothing(
    tmp_path: Path, stores: Any
) -> None:
    s = Setting(tmp_path, stores)
    await s.worker.submit(
        {
            "action": "save_settings",
            "working_days": "mon",
            "working_start": "17:00",
            "working_end": "09:00",
            "check_in_day": "fri",
            "check_in_time": "14:00",
        }
    )
    s.worker.bot_says("end after it starts", "Nothing was changed")
    assert await s.answers() == {}


async def test_settings_can_be_typed_one_question_at_a_time(tmp_path: Path, stores: Any) -> None:
    s = Setting(tmp_path, stores)
    await s.worker.submit({"action": "settings_step_by_step"})
    s.worker.bot_asks("working_days", "one question at a time", "Mon-Fri")
    await s.worker.user("Mon-Thu")
    s.worker.bot_asks("working_start")
    await s.worker.user("8am")
    s.worker.bot_asks("working_end")
    await s.worker.user("7am")
    s.worker.bot_asks("working_end", "end after it starts")
    await s.worker.user("4pm")
    s.worker.bot_asks("reminders", "always get through")
    await s.worker.user("1, 2, 3")
    s.worker.bot_asks("check_in_day")
    await s.worker.user("Wednesday")
    s.worker.bot_asks("check_in_time")
    await s.worker.user("11:30")
    s.worker.bot_says("Saved", "Monday to Thursday, 08:00 to 16:00", "Wednesday at 11:30")
    s.worker.no_unread_replies()
    saved = await s.answers()
    assert saved["reminders"] == ["sign_off", "weekly_check_in", "screen_break"]
    assert f"weekly:{WORKER}:2026-W49:wed1130" in s.jobs()


# ---------------------------------------------------------------------------------------------
# Breaks and space between contacts (E2)


async def sessions_today(stores: Any, *spans: tuple[str, datetime, datetime]) -> None:
    """Earlier sessions of the worker's, already ended."""
    for key, started, ended in spans:
        await given_session(stores, key, status="ended")
        record = await stores.documents.get(collection="sessions", key=key)
        record.update(started_at=started.isoformat(), ended_at=ended.isoformat(), ending="normal")
        await stores.documents.put(collection="sessions", key=key, document=record)


async def running_since(stores: Any, started: datetime, key: str = SESSION) -> None:
    record = await stores.documents.get(collection="sessions", key=key)
    record["started_at"] = started.isoformat()
    await stores.documents.put(collection="sessions", key=key, document=record)


async def test_a_screen_break_reminder_after_three_sessions_back_to_back(
    tmp_path: Path, stores: Any
) -> None:
    await given_service_user(stores)
    await sessions_today(
        stores,
        ("S-FIRST2", at(26, 8, 0), at(26, 8, 45)),
        ("S-SECND3", at(26, 8, 50), at(26, 9, 35)),
    )
    await given_session(stores, status="started")
    await running_since(stores, at(26, 9, 40))
    s = Setting(tmp_path, stores, now=at(26, 10, 20))
    await s.hello()
    await s.worker.submit({"action": "end_session", "session": SESSION})
    s.worker.bot_says("Session ended at 10:20")
    s.worker.bot_asks("end_mood")
    await s.run(at(26, 10, 20))
    s.worker.bot_says("3 sessions (130 minutes)", "at least 15 minutes away from the screen")
    s.worker.no_unread_replies()
    assert f"break:{WORKER}:S-FIRST2" in s.jobs("done")


async def test_no_break_reminder_when_there_was_a_break_between(
    tmp_path: Path, stores: Any
) -> None:
    await given_service_user(stores)
    await sessions_today(
        stores,
        ("S-FIRST2", at(26, 8, 0), at(26, 8, 45)),
        ("S-SECND3", at(26, 9, 5), at(26, 9, 35)),  # 20 minutes away from the screen
    )
    await given_session(stores, status="started")
    await running_since(stores, at(26, 9, 40))
    s = Setting(tmp_path, stores, now=at(26, 10, 20))
    await s.hello()
    await s.worker.submit({"action": "end_session", "session": SESSION})
    s.worker.bot_says("Session ended")
    s.worker.bot_asks("end_mood")
    assert await s.run(at(26, 10, 21)) == 0


async def test_long_screen_time_calls_for_a_break_as_configured(
    tmp_path: Path, stores: Any
) -> None:
    await given_service_user(stores)
    await given_session(stores, status="started")
    await running_since(stores, at(26, 9, 25))
    s = Setting(
        tmp_path,
        stores,
        now=at(26, 10, 0),
        SAFESESSION_BREAK_AFTER_MINUTES="30",
        SAFESESSION_BREAK_AFTER_SESSIONS="5",
    )
    await s.hello()
    await s.worker.submit({"action": "end_session", "session": SESSION})
    s.worker.bot_says("Session ended")
    s.worker.bot_asks("end_mood")
    await s.run(at(26, 10, 0))
    s.worker.bot_says("1 session (35 minutes)")


async def test_planning_a_session_too_close_to_another_says_so(tmp_path: Path, stores: Any) -> None:
    await put_service_user(stores)
    await given_session(stores, "S-NEXTDR", case="CR-3050", starts_in=timedelta(days=7, hours=5))
    s = Setting(tmp_path, stores, **PLANNING_ENV)
    await plan_to_contact_number(s.worker)  # Thursday 3 December at 14:30
    s.worker.bot_says("best number to reach them")
    await s.worker.user("07700 900123")
    s.worker.bot_asks("reminder_text")  # work mobile and name are on the profile already
    await s.worker.user("no")
    s.worker.bot_says("short note")
    await s.worker.user("none")
    s.worker.bot_says("ready to go ahead")
    s.worker.bot_says("pre-session message")
    s.worker.next_reply()
    s.worker.bot_says(
        "space between contacts", "**CR-3050** on Thursday 3 December 2026, 15:00", "60 minutes"
    )
    s.worker.no_unread_replies()


# ---------------------------------------------------------------------------------------------
# After a hard session (D2, E2, E3)


async def test_after_a_hard_ending_the_card_offers_a_debrief_a_break_and_a_word(
    tmp_path: Path, stores: Any
) -> None:
    await given_service_user(stores)
    await given_session(stores, status="started")
    await put_profile(
        stores,
        line_manager="aad-manager",
        line_manager_name="Alex Manager",
        line_manager_phone="+447700900456",
    )
    s = Setting(tmp_path, stores)
    await s.manager.user("hi")
    s.manager.bot_sends_card("help")
    await s.hello()
    await s.worker.submit({"action": "behaviour_end", "session": SESSION})
    s.worker.bot_says("Session ended")
    s.worker.bot_says("What happened")
    await s.worker.user("Shouted and swore at me, and would not stop when asked.")
    s.worker.bot_says("Recorded")
    card = s.worker.bot_sends_card("after_a_hard_session")
    s.manager.bot_says("because of behaviour")
    assert "behaviour" in card["body"][0]["text"]
    assert card["actions"][2]["title"] == "Talk to Alex Manager"

    debrief, pause, talk = (action["data"] for action in card["actions"])
    await s.worker.submit(debrief)
    s.worker.bot_says("How are you feeling now?")
    await s.worker.submit(pause)
    s.worker.bot_says("Step away from the screen")
    await s.worker.submit(talk)
    told = s.manager.bot_says("would value a catch-up")
    assert "Shouted" not in told and "CR-1042" not in told
    s.worker.bot_says("let Alex Manager know", "07700 900456")
    s.worker.no_unread_replies()
    audit = await stores.documents.find(collection="audit", where={"clause": "D2"})
    assert {"aftercare_debrief", "aftercare_break", "aftercare_talk"} <= {
        event["action"] for event in audit
    }


async def test_an_emergency_in_a_session_brings_the_after_care_card_an_hour_later(
    tmp_path: Path, stores: Any
) -> None:
    await given_service_user(stores)
    await given_session(stores, status="started")
    s = Setting(tmp_path, stores)
    await s.hello()
    await s.worker.submit({"action": "emergency", "session": SESSION})
    s.worker.bot_says("NOT been seen yet")
    s.worker.bot_sends_card("emergency_kind")
    s.worker.no_unread_replies()
    await s.run(at(26, 10, 59))
    s.worker.bot_says("chased again")  # the unacknowledged alert is chased, as ever
    s.worker.bot_says("chased again")
    s.worker.bot_says("Please phone")
    s.worker.no_unread_replies()
    await s.run(at(26, 11))
    card = s.worker.bot_sends_card("after_a_hard_session")
    assert "After the emergency" in card["body"][0]["text"]
    s.worker.no_unread_replies()
    await s.run(at(26, 12))
    s.worker.no_unread_replies()


async def test_a_hard_ending_offers_after_care_once_even_after_an_emergency(
    tmp_path: Path, stores: Any
) -> None:
    await given_service_user(stores)
    await given_session(stores, status="started")
    s = Setting(tmp_path, stores)
    await s.hello()
    await s.worker.submit({"action": "emergency", "session": SESSION})
    s.worker.next_reply()
    s.worker.next_reply()
    await s.worker.submit({"action": "behaviour_end", "session": SESSION})
    s.worker.bot_says("Session ended")
    s.worker.bot_says("What happened")
    await s.worker.user("Threatened to hurt themselves; ended the call to get help.")
    s.worker.bot_says("Recorded")
    s.worker.bot_sends_card("after_a_hard_session")
    await s.run(at(26, 11, 30))
    for _ in range(3):  # the alert's chasing, and no second after-care card
        s.worker.bot_says("alert")
    s.worker.no_unread_replies()


# ---------------------------------------------------------------------------------------------
# One contact at a time (E4)


async def two_sessions(stores: Any) -> None:
    """One session running since 09:40 (CR-1042) and another ready to start today (CR-2040)."""
    await given_service_user(stores)
    await given_service_user(stores, "CR-2040", identity_verified=True, safe_word="Periwinkle")
    await given_session(stores, "S-NEXT22", case="CR-2040", kind="follow_up")
    await given_session(stores, status="started")
    await running_since(stores, at(26, 9, 40))


async def test_starting_while_in_a_session_warns_and_pausing_carries_on_with_the_start(
    tmp_path: Path, stores: Any
) -> None:
    await two_sessions(stores)
    s = Setting(tmp_path, stores)
    await s.worker.user("start session")
    card = s.worker.bot_sends_card("one_contact")
    text = str(card["body"])
    assert "CR-1042" in text and "09:40" in text and "start another" in text
    assert "tell them" in text and "on another call" in text
    pause, end = (action["data"] for action in card["actions"])
    assert pause == {"action": "pause_session", "session": SESSION, "then": "start_session"}
    assert end == {"action": "end_session", "session": SESSION}
    s.worker.no_unread_replies()
    assert (await stores.documents.get(collection="sessions", key="S-NEXT22"))[
        "status"
    ] == "planned"

    await s.worker.submit(pause)
    paused = s.worker.bot_sends_card("session_paused")
    assert "Paused CR-1042 at 10:00" in paused["body"][0]["text"]
    s.worker.bot_asks("introduced", "CR-2040")  # the new session's start carries on
    record = await stores.documents.get(collection="sessions", key=SESSION)
    assert (record["status"], record["paused_at"]) == ("paused", NOW.isoformat())

    await s.worker.user("cancel")
    s.worker.next_reply()
    await s.worker.submit({"action": "connection_lost", "session": SESSION})
    s.worker.bot_says("That session is paused (since 10:00)", "Resume")


async def test_a_paused_session_resumes_with_its_card_and_counts_the_pause(
    tmp_path: Path, stores: Any
) -> None:
    await two_sessions(stores)
    s = Setting(tmp_path, stores)
    await s.worker.submit({"action": "pause_session", "session": SESSION, "then": ""})
    s.worker.bot_sends_card("session_paused")
    s.worker.no_unread_replies()
    await s.worker.user("start session")
    s.worker.bot_asks("introduced", "CR-2040")
    await s.worker.user("cancel")
    s.worker.next_reply()

    s.clock.moment = NOW + timedelta(minutes=12)
    await s.worker.submit({"action": "resume_session", "session": SESSION})
    s.worker.bot_says("Resumed your session with CR-1042")
    card = s.worker.bot_sends_card("in_session")
    assert card["actions"][0]["data"] == {"action": "connection_lost", "session": SESSION}
    record = await stores.documents.get(collection="sessions", key=SESSION)
    assert (record["status"], record["paused_at"], record["paused_minutes"]) == (
        "started",
        None,
        12.0,
    )
    await s.worker.submit({"action": "resume_session", "session": SESSION})
    s.worker.bot_says("isn't paused", "Nothing has changed")


async def test_a_paused_session_can_be_ended_the_usual_way(tmp_path: Path, stores: Any) -> None:
    await two_sessions(stores)
    s = Setting(tmp_path, stores)
    await s.worker.submit({"action": "pause_session", "session": SESSION, "then": ""})
    paused = s.worker.bot_sends_card("session_paused")
    await s.worker.submit(paused["actions"][1]["data"])
    s.worker.bot_says("Session ended at 10:00")
    s.worker.bot_asks("end_mood")
    assert (await stores.documents.get(collection="sessions", key=SESSION))["status"] == "ended"


async def test_planning_while_in_a_session_warns_and_ending_it_asks_how_it_went(
    tmp_path: Path, stores: Any
) -> None:
    await two_sessions(stores)
    s = Setting(tmp_path, stores)
    await s.worker.user("plan session")
    card = s.worker.bot_sends_card("one_contact")
    assert "plan the next one" in str(card["body"])
    assert not await stores.documents.find(collection="sessions", where={"status": "planning"})
    await s.worker.submit(card["actions"][1]["data"])
    s.worker.bot_says("Session ended at 10:00")
    s.worker.bot_asks("end_mood")

    await s.worker.user("cancel")
    s.worker.next_reply()
    await s.worker.user("plan session")
    s.worker.bot_says("Let's plan the session")


async def test_pausing_a_session_then_planning_begins_the_plan(tmp_path: Path, stores: Any) -> None:
    await two_sessions(stores)
    s = Setting(tmp_path, stores)
    await s.worker.user("plan session")
    card = s.worker.bot_sends_card("one_contact")
    await s.worker.submit(card["actions"][0]["data"])
    s.worker.bot_sends_card("session_paused")
    s.worker.bot_says("Let's plan the session")


async def test_resuming_while_another_session_runs_is_refused_with_the_warning(
    tmp_path: Path, stores: Any
) -> None:
    await two_sessions(stores)
    record = await stores.documents.get(collection="sessions", key="S-NEXT22")
    record.update(status="paused", paused_at=NOW.isoformat(), started_at=NOW.isoformat())
    await stores.documents.put(collection="sessions", key="S-NEXT22", document=record)
    s = Setting(tmp_path, stores)
    await s.worker.submit({"action": "resume_session", "session": "S-NEXT22"})
    s.worker.bot_sends_card("one_contact")
    s.worker.no_unread_replies()
    assert (await stores.documents.get(collection="sessions", key="S-NEXT22"))["status"] == "paused"


# ---------------------------------------------------------------------------------------------
# What families are told about out-of-hours help (E1)


def test_the_pre_session_and_follow_up_messages_say_where_to_get_help_out_of_hours() -> None:
    templates = Templates()
    help_line = "out of hours, ring the Example Helpline on 0808 157 0000"
    pre_session = templates.text(
        "pre_session_message",
        worker_name="Sam Worker",
        work_mobile="07700 900456",
        service_email="service@example.org",
        out_of_hours_help=help_line,
        session_kind="follow_up",
        session_day="Thursday 3 December 2026",
        session_time="14:30",
        by_format="by video call",
        who_calls="worker_calls",
        reminder_text=False,
        amendment=None,
    )
    expected = f"I don't check my work phone outside working hours. If you need help {help_line}."
    assert expected in pre_session
    follow_up = templates.text(
        "follow_up_message",
        worker_name="Sam Worker",
        session_content="We talked about sleep.",
        family_tasks="",
        service_email="service@example.org",
        work_mobile="07700 900456",
        out_of_hours_help=help_line,
    )
    assert f"If you need help when we're not working: {help_line}." in follow_up


# ---------------------------------------------------------------------------------------------
# Settings


def test_the_self_care_thresholds_come_from_the_environment(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        SAFESESSION_BREAK_AFTER_SESSIONS="4",
        SAFESESSION_BREAK_AFTER_MINUTES="90",
        SAFESESSION_SPACE_BETWEEN_MINUTES="20",
        SAFESESSION_SESSION_MINUTES="50",
        SAFESESSION_SIGN_OFF_MINUTES="30",
    )
    assert settings.self_care_policy() == SelfCarePolicy(
        break_after_sessions=4,
        break_after_minutes=90.0,
        space_between_minutes=20.0,
        session_minutes=50.0,
        sign_off_minutes=30.0,
    )
    assert make_settings(tmp_path).self_care_policy() == SelfCarePolicy()
    with pytest.raises(SettingsError, match="SAFESESSION_BREAK_AFTER_MINUTES"):
        make_settings(tmp_path, SAFESESSION_BREAK_AFTER_MINUTES="soon")
