"""During and after a session: endings, the safe word, behaviour, and a lost connection."""

from datetime import timedelta
from pathlib import Path
from typing import Any

from app import PIPELINE, create_app
from safeguarding.clock import FixedClock
from safeguarding.scheduler import Scheduler
from tests.conftest import make_settings
from tests.journeys import JOURNEY_ENV, NOW, answers
from tests.test_session_start import SESSION, WORKER, given_service_user, given_session
from tests.transcript import Chat

OTHER_ARRANGEMENT = "Text her sister's phone after 6pm and ask for a call back"
WHAT_HAPPENED = "Shouted abuse at me and would not stop when asked"


class Setting:
    """A worker mid-session, their line manager's own chat, and the clock and scheduler."""

    def __init__(self, tmp_path: Path, stores: Any) -> None:
        self.clock = FixedClock(NOW)
        app = create_app(
            make_settings(tmp_path, **JOURNEY_ENV),
            stores=stores,
            clock=self.clock,
            run_scheduler=False,
        )
        self.scheduler: Scheduler = app[PIPELINE].scheduler
        self.worker = Chat(app[PIPELINE], worker="worker-1", conversation="a:personal-worker-1")
        self.manager = Chat(
            app[PIPELINE], worker="manager", conversation="a:personal-manager", beside=self.worker
        )
        self.stores = stores

    def later(self, minutes: float) -> None:
        self.clock.moment = self.clock.moment + timedelta(minutes=minutes)

    async def session(self) -> dict[str, Any]:
        return await self.stores.documents.get(collection="sessions", key=SESSION)


async def in_session(tmp_path: Path, stores: Any, *, domestic_abuse: bool = False) -> Setting:
    await given_service_user(stores)
    await given_session(stores, status="started")
    if domestic_abuse:
        record = await stores.documents.get(collection="service_users", key="CR-1042")
        record["answers"]["domestic_abuse"] = {
            "value": True,
            "clause": "D4",
            "at": "",
            "by": WORKER,
            "complete": True,
        }
        await stores.documents.put(collection="service_users", key="CR-1042", document=record)
    setting = Setting(tmp_path, stores)
    profile = await stores.documents.get(collection="workers", key=WORKER)
    profile["answers"]["line_manager"] = {
        "value": "aad-manager",
        "clause": "D1",
        "at": "",
        "by": WORKER,
        "complete": True,
    }
    # Self-care reminders off for both, so the jobs these tests count are the session's own.
    profile["answers"]["reminders"] = {"value": [], "clause": "E1", "at": "", "by": WORKER}
    await stores.documents.put(collection="workers", key=WORKER, document=profile)
    manager = {"reminders": {"value": [], "clause": "E1", "at": "", "by": "aad-manager"}}
    await stores.documents.put(
        collection="workers",
        key="aad-manager",
        document={"key": "aad-manager", "owner": "aad-manager", "answers": manager},
    )
    await setting.manager.user("hi")  # the manager has opened their own chat with the bot
    setting.manager.bot_sends_card("help")
    await setting.worker.user("hi")
    setting.worker.bot_sends_card("help")
    return setting


async def test_a_normal_ending_asks_how_it_went_and_gives_a_follow_up_to_copy(
    tmp_path: Path, stores: Any
) -> None:
    s = await in_session(tmp_path, stores)
    s.later(45)
    await s.worker.submit({"action": "end_session", "session": SESSION})
    s.worker.bot_says("Session ended at 10:45")
    s.worker.bot_asks("end_mood")
    await s.worker.user("settled")
    s.worker.bot_says("What actions did you agree")
    await s.worker.user("Practise the breathing exercise; next session Thursday.")
    s.worker.bot_asks("follow_up_wanted")
    await s.worker.submit({"action": "answer", "question": "follow_up_wanted", "answer": "yes"})
    s.worker.bot_says("what did you cover")
    await s.worker.user("We talked about sleep and a calmer bedtime.")
    s.worker.bot_says("Any tasks")
    await s.worker.user("Try the breathing exercise before bed.")
    s.worker.bot_says("notes into the service user's file", "actions you agreed")
    s.worker.bot_says("ready to copy")
    message = s.worker.bot_says(
        "We talked about sleep and a calmer bedtime.",
        "Try the breathing exercise before bed.",
        "service@example.org",
        "07700 900456",
        "out-of-hours",
    )
    assert "Sam Worker" in message
    s.worker.no_unread_replies()
    stored = await answers(stores, "sessions", SESSION)
    assert stored["end_mood"] == "settled" and "closing_activity" not in stored
    record = await s.session()
    assert (
        record["ending"] == "normal"
        and record["ended_at"] == (NOW + timedelta(minutes=45)).isoformat()
    )
    assert record["answers"]["actions_agreed"]["clause"] == "B3"
    assert record["answers"]["session_content"]["clause"] == "C10"


async def test_an_unsettled_ending_offers_closing_activities(tmp_path: Path, stores: Any) -> None:
    s = await in_session(tmp_path, stores)
    await s.worker.submit({"action": "end_session", "session": SESSION})
    s.worker.bot_says("Session ended")
    s.worker.bot_asks("end_mood")
    await s.worker.user("distressed")
    card = s.worker.bot_asks("closing_activity", "end gently")
    assert [c["value"] for c in card["body"][1]["choices"]] == [
        "mindfulness",
        "relaxation",
        "goal_setting",
        "none",
    ]
    await s.worker.user("relaxation")
    s.worker.bot_says("What actions")
    await s.worker.user("Check in tomorrow.")
    s.worker.bot_asks("follow_up_wanted")
    await s.worker.user("no")
    s.worker.bot_says("notes into")
    card = s.worker.bot_sends_card("after_a_hard_session")
    assert "distressed" in card["body"][0]["text"]
    assert [a["data"]["action"] for a in card["actions"]] == [
        "aftercare_debrief",
        "aftercare_break",
        "aftercare_talk",
    ]
    s.worker.no_unread_replies()


async def test_safe_word_closes_calmly_books_a_welfare_call_and_chases_it(
    tmp_path: Path, stores: Any
) -> None:
    s = await in_session(tmp_path, stores)
    await s.worker.submit({"action": "safe_word_used", "session": SESSION})
    guidance = s.worker.bot_sends_card("safe_word_guidance")
    assert "calm" in str(guidance)
    s.worker.bot_says("Session ended at 10:00", "safe word used")
    s.worker.bot_says("welfare call", "How will you speak to them next")
    await s.worker.user(OTHER_ARRANGEMENT)
    s.worker.bot_asks("domestic_abuse")
    await s.worker.user("no")
    s.worker.bot_asks("welfare_call_date")
    await s.worker.user("25/11/2026")
    s.worker.bot_asks("welfare_call_date", "already passed")
    await s.worker.user("27/11/2026")
    s.worker.bot_asks("welfare_call_time")
    await s.worker.user("2:30pm")
    s.worker.bot_says("Friday 27 November 2026, 14:30", "remind you")
    assert "safe word" in s.worker.bot_sends_card("after_a_hard_session")["body"][0]["text"]
    s.worker.no_unread_replies()
    assert (await s.session())["ending"] == "safe_word"
    [task] = await stores.documents.find(collection="tasks", where={"kind": "welfare_call"})
    assert task["status"] == "open" and task["due_at"] == "2026-11-27T14:30:00+00:00"

    s.later(60 * 28 + 30)  # 14:30 the next day
    assert await s.scheduler.run_due() == 1
    card = s.worker.bot_sends_card("welfare_due")
    s.worker.no_unread_replies()
    s.later(60 * 24)  # a day later and still not done: the line manager hears
    assert await s.scheduler.run_due() == 1
    told = s.manager.bot_says("hasn't been marked as done")
    assert OTHER_ARRANGEMENT not in told and "CR-1042" not in told

    await s.worker.submit(card["actions"][0]["data"])
    s.worker.bot_says("marked as done")
    assert (await stores.documents.get(collection="tasks", key=task["key"]))["status"] == "done"


async def test_with_a_domestic_abuse_flag_the_line_manager_hears_at_once(
    tmp_path: Path, stores: Any
) -> None:
    s = await in_session(tmp_path, stores, domestic_abuse=True)
    await s.worker.submit({"action": "safe_word_used", "session": SESSION})
    s.worker.bot_sends_card("safe_word_guidance")
    s.worker.bot_says("Session ended")
    s.worker.bot_says("How will you speak")
    for typed in (OTHER_ARRANGEMENT, "27/11/2026", "14:30"):
        await s.worker.user(typed)
        s.worker.next_reply()
    assert await s.scheduler.run_due() == 1
    s.manager.bot_says("domestic-abuse history", "welfare call")


async def test_a_welfare_call_done_in_time_is_not_chased(tmp_path: Path, stores: Any) -> None:
    s = await in_session(tmp_path, stores)
    await s.worker.submit({"action": "safe_word_used", "session": SESSION})
    for _ in range(3):
        s.worker.next_reply()
    for typed in (OTHER_ARRANGEMENT, "no", "27/11/2026", "14:30"):
        await s.worker.user(typed)
        s.worker.next_reply()
    s.worker.bot_sends_card("after_a_hard_session")
    [task] = await stores.documents.find(collection="tasks")
    await s.worker.submit({"action": "welfare_done", "task": task["key"]})
    s.worker.bot_says("marked as done")
    s.later(60 * 24 * 3)
    while await s.scheduler.run_due():
        pass
    s.worker.no_unread_replies()
    s.manager.no_unread_replies()


async def test_connection_lost_shows_the_plan_and_prompts_a_call_back_at_five_minutes(
    tmp_path: Path, stores: Any
) -> None:
    s = await in_session(tmp_path, stores)
    await s.worker.submit({"action": "connection_lost", "session": SESSION})
    card = s.worker.bot_sends_card("connection_lost")
    facts = {fact["title"]: fact["value"] for fact in card["body"][1]["facts"]}
    assert facts["Their number"] == "07700 900123" and facts["Call by"] == "10:05"
    s.later(4)
    assert await s.scheduler.run_due() == 0
    s.later(1)
    assert await s.scheduler.run_due() == 1
    s.worker.bot_says("Call them now on your work mobile", "07700 900123")
    await s.worker.submit(card["actions"][1]["data"])  # reconnected
    s.worker.bot_says("you're back")
    assert (await s.session())["status"] == "started"


async def test_an_outcome_recorded_in_time_stops_the_call_back_prompt(
    tmp_path: Path, stores: Any
) -> None:
    s = await in_session(tmp_path, stores)
    await s.worker.submit({"action": "connection_lost", "session": SESSION})
    card = s.worker.bot_sends_card("connection_lost")
    await s.worker.submit(card["actions"][0]["data"])  # continued by phone
    s.worker.bot_says("carry on by phone")
    s.later(10)
    await s.scheduler.run_due()
    s.worker.no_unread_replies()


async def test_unreachable_rearranges_and_offers_one_tap_escalation(
    tmp_path: Path, stores: Any
) -> None:
    s = await in_session(tmp_path, stores)
    await s.worker.submit({"action": "connection_lost", "session": SESSION})
    card = s.worker.bot_sends_card("connection_lost")
    await s.worker.submit(card["actions"][2]["data"])
    offer = s.worker.bot_sends_card("connection_unreachable")
    assert offer["actions"][0]["data"] == {"action": "emergency", "session": SESSION}
    record = await s.session()
    assert record["status"] == "ended" and record["ending"] == "connection_lost"
    [task] = await stores.documents.find(collection="tasks")
    assert task["kind"] == "rearrange_session" and task["session"] == SESSION
    await s.worker.submit(offer["actions"][0]["data"])
    s.worker.bot_says("has NOT been seen yet")  # no manager channel is set in this test
    [escalation] = await stores.documents.find(collection="escalations")
    assert escalation["session_key"] == SESSION and escalation["case_reference"] == "CR-1042"


async def test_ending_for_behaviour_records_it_and_tells_the_line_manager_without_detail(
    tmp_path: Path, stores: Any
) -> None:
    s = await in_session(tmp_path, stores)
    await s.worker.submit({"action": "behaviour_end", "session": SESSION})
    s.worker.bot_says("Session ended", "because of behaviour")
    s.worker.bot_says("What happened")
    await s.worker.user(WHAT_HAPPENED)
    s.worker.bot_says("Recorded", "let your line manager know")
    s.worker.bot_sends_card("after_a_hard_session")
    told = s.manager.bot_says("ended session", "because of behaviour")
    assert WHAT_HAPPENED not in told
    [item] = await stores.documents.find(collection="discussion_items")
    assert item["kind"] == "behaviour" and item["session"] == SESSION and item["clause"] == "D3"
    record = await s.session()
    assert record["ending"] == "behaviour"
    assert record["answers"]["behaviour_what_happened"]["clause"] == "D3"


async def test_in_session_buttons_refuse_a_session_that_is_not_running(
    tmp_path: Path, stores: Any
) -> None:
    s = await in_session(tmp_path, stores)
    await given_session(stores, "S-THEIRS", owner="aad-worker-2", status="started")
    for action in ("connection_lost", "safe_word_used", "behaviour_end", "end_session"):
        await s.worker.submit({"action": action, "session": "S-THEIRS"})
        s.worker.bot_says("Nothing has changed")
    assert (await stores.documents.get(collection="sessions", key="S-THEIRS"))[
        "status"
    ] == "started"


async def test_the_domestic_abuse_question_is_asked_once_and_kept_on_the_service_user(
    tmp_path: Path, stores: Any
) -> None:
    s = await in_session(tmp_path, stores)
    await s.worker.submit({"action": "safe_word_used", "session": SESSION})
    for _ in range(3):
        s.worker.next_reply()
    await s.worker.user(OTHER_ARRANGEMENT)
    s.worker.bot_asks("domestic_abuse")
    await s.worker.user("yes")
    s.worker.bot_asks("welfare_call_date")
    await s.worker.user("27/11/2026")
    s.worker.bot_asks("welfare_call_time")
    await s.worker.user("14:30")
    s.worker.bot_says("told straight away")
    assert (await answers(stores, "service_users", "CR-1042"))["domestic_abuse"] is True
    assert await s.scheduler.run_due() == 1
    s.manager.bot_says("domestic-abuse history")
