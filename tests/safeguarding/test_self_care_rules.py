"""Self-care rules (E1-E4): send or hold or drop, staleness, breaks, space, settings readers."""

from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safeguarding.journey import Facts
from safeguarding.self_care import (
    AFTERCARE,
    OUT_OF_HOURS,
    SCREEN_BREAK,
    SIGN_OFF,
    STALE_AFTER,
    WEEKLY_CHECK_IN,
    SelfCarePolicy,
    SessionSpan,
    break_due,
    check_in_at,
    current_run,
    deliver_when,
    in_progress,
    out_of_hours_period,
    parse_days,
    parse_reminders,
    paused_minutes,
    read_working_end,
    reminders_on,
    session_spans,
    sign_off_key,
    stale_at,
    too_close,
    weekly_key,
    work_pattern,
)
from safeguarding.validation import InvalidAnswer
from safeguarding.working_hours import DEFAULT_PATTERN, WorkPattern, is_working_time
from tests.safeguarding.test_working_hours import moments, patterns

THURSDAY_TEN = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
FRIDAY_SIX_PM = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
MONDAY_NINE = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
POLICY = SelfCarePolicy()


def profile(**answers: Any) -> dict[str, Any]:
    return {"answers": {key: {"value": value} for key, value in answers.items()}}


# -- send, hold or drop --------------------------------------------------------------------------


def test_in_working_hours_a_reminder_is_sent() -> None:
    decision = deliver_when(SIGN_OFF, due=THURSDAY_TEN, now=THURSDAY_TEN, pattern=DEFAULT_PATTERN)
    assert decision.action == "send"


def test_out_of_hours_a_fresh_enough_reminder_is_held_until_the_next_working_start() -> None:
    decision = deliver_when(
        WEEKLY_CHECK_IN, due=FRIDAY_SIX_PM, now=FRIDAY_SIX_PM, pattern=DEFAULT_PATTERN
    )
    assert (decision.action, decision.at) == ("hold", MONDAY_NINE)


@pytest.mark.parametrize("kind", [SIGN_OFF, SCREEN_BREAK])
def test_out_of_hours_a_reminder_stale_by_monday_is_dropped(kind: str) -> None:
    decision = deliver_when(kind, due=FRIDAY_SIX_PM, now=FRIDAY_SIX_PM, pattern=DEFAULT_PATTERN)
    assert decision.action == "drop"


def test_a_reminder_found_late_is_dropped_once_stale() -> None:
    due = THURSDAY_TEN
    fresh = due + STALE_AFTER[SCREEN_BREAK]
    assert deliver_when(SCREEN_BREAK, due=due, now=fresh, pattern=DEFAULT_PATTERN).action == "send"
    late = fresh + timedelta(minutes=1)
    assert deliver_when(SCREEN_BREAK, due=due, now=late, pattern=DEFAULT_PATTERN).action == "drop"


def test_staleness_is_documented_per_kind() -> None:
    assert STALE_AFTER == {
        SIGN_OFF: timedelta(hours=1),
        WEEKLY_CHECK_IN: timedelta(hours=72),
        SCREEN_BREAK: timedelta(minutes=30),
        AFTERCARE: timedelta(hours=24),
    }
    assert stale_at("anything_else", THURSDAY_TEN) == THURSDAY_TEN + timedelta(hours=24)


def test_a_snoozed_reminder_waits_for_the_snooze_and_working_time() -> None:
    until = datetime(2026, 11, 26, 17, 0, tzinfo=UTC)
    decision = deliver_when(
        WEEKLY_CHECK_IN,
        due=THURSDAY_TEN,
        now=THURSDAY_TEN,
        pattern=DEFAULT_PATTERN,
        snoozed_until=until,
    )
    assert (decision.action, decision.at) == ("hold", datetime(2026, 11, 27, 9, tzinfo=UTC))


@given(
    patterns(),
    moments,
    st.integers(-3 * 24 * 60, 60),
    st.sampled_from([SIGN_OFF, WEEKLY_CHECK_IN, SCREEN_BREAK, AFTERCARE]),
    st.none() | st.integers(0, 5 * 24 * 60),
)
def test_nothing_non_urgent_is_ever_sent_out_of_hours_or_stale(
    pattern: WorkPattern,
    now: datetime,
    due_offset: int,
    kind: str,
    snooze_minutes: int | None,
) -> None:
    due = now + timedelta(minutes=due_offset)
    snoozed = None if snooze_minutes is None else now + timedelta(minutes=snooze_minutes)
    decision = deliver_when(kind, due=due, now=now, pattern=pattern, snoozed_until=snoozed)
    if decision.action == "send":
        assert is_working_time(pattern, now) and now <= stale_at(kind, due)
        assert snoozed is None or snoozed <= now
    elif decision.action == "hold":
        assert decision.at is not None and now < decision.at <= stale_at(kind, due)
        assert is_working_time(pattern, decision.at)
        assert snoozed is None or decision.at >= snoozed


def test_out_of_hours_periods_are_named_by_when_they_end() -> None:
    saturday = datetime(2026, 11, 28, 12, tzinfo=UTC)
    assert out_of_hours_period(DEFAULT_PATTERN, FRIDAY_SIX_PM) == MONDAY_NINE.isoformat()
    assert out_of_hours_period(DEFAULT_PATTERN, saturday) == MONDAY_NINE.isoformat()
    assert out_of_hours_period(DEFAULT_PATTERN, THURSDAY_TEN) is None


# -- breaks --------------------------------------------------------------------------------------


def span(key: str, start_minute: int, minutes: int, paused: float = 0.0) -> SessionSpan:
    start = THURSDAY_TEN + timedelta(minutes=start_minute)
    return SessionSpan(key, start, start + timedelta(minutes=minutes), paused)


def test_three_sessions_back_to_back_call_for_a_break() -> None:
    spans = [span("S-1", 0, 40), span("S-2", 45, 40), span("S-3", 90, 40)]
    due = break_due(spans, POLICY)
    assert due is not None and (due.first, due.last, due.sessions) == ("S-1", "S-3", 3)
    assert due.minutes == 120


def test_a_gap_of_the_space_between_contacts_counts_as_a_break() -> None:
    spans = [span("S-1", 0, 40), span("S-2", 55, 40), span("S-3", 100, 40)]  # 15 then 5 min
    assert [item.key for item in current_run(spans, gap_minutes=15)] == ["S-2", "S-3"]
    assert break_due(spans, POLICY) is None


def test_long_screen_time_calls_for_a_break_even_in_one_session() -> None:
    assert break_due([span("S-1", 0, 119)], POLICY) is None
    due = break_due([span("S-1", 0, 121)], POLICY)
    assert due is not None and due.sessions == 1


def test_paused_time_is_not_screen_time() -> None:
    assert break_due([span("S-1", 0, 150, paused=40)], POLICY) is None


def test_spans_come_only_from_ended_sessions_with_both_times() -> None:
    ended = {
        "key": "S-1",
        "status": "ended",
        "started_at": THURSDAY_TEN.isoformat(),
        "ended_at": (THURSDAY_TEN + timedelta(minutes=50)).isoformat(),
        "paused_minutes": 5,
    }
    records = [
        ended,
        {**ended, "key": "S-2", "status": "started"},
        {**ended, "key": "S-3", "started_at": None},
        {**ended, "key": "S-4", "ended_at": "not a time"},
        {**ended, "key": "S-5", "ended_at": "2026-11-26T09:00:00"},  # naive: not trusted
    ]
    assert session_spans(records) == [
        SessionSpan("S-1", THURSDAY_TEN, THURSDAY_TEN + timedelta(minutes=50), paused_minutes=5.0)
    ]


@given(st.lists(st.tuples(st.integers(0, 600), st.integers(1, 180)), min_size=1, max_size=8))
def test_a_run_never_holds_a_gap_as_long_as_a_break(sessions: list[tuple[int, int]]) -> None:
    spans = [span(f"S-{n}", start, length) for n, (start, length) in enumerate(sessions)]
    run = current_run(spans, gap_minutes=15)
    assert run and run[-1].started == max(item.started for item in spans)
    for earlier, later in pairwise(run):
        assert later.started - earlier.ended < timedelta(minutes=15)


# -- space between contacts and one contact at a time ---------------------------------------------


def planned(key: str, start: datetime, status: str = "planned") -> dict[str, Any]:
    return {
        "key": key,
        "status": status,
        "starts_at": start.isoformat(),
        "answers": {"case_reference": {"value": "CR-" + key[-4:]}},
    }


def test_sessions_planned_closer_than_length_and_space_are_too_close() -> None:
    new = THURSDAY_TEN
    others = [
        planned("S-AAAA", new + timedelta(minutes=74)),
        planned("S-BBBB", new + timedelta(minutes=75)),  # 60 + 15: just enough
        planned("S-CCCC", new - timedelta(minutes=74)),
        planned("S-DDDD", new, status="ended"),
        planned("S-EEEE", new, status="stopped"),
        planned("S-SELF", new),
    ]
    close = too_close(new, others, POLICY, exclude="S-SELF")
    assert [item.key for item in close] == ["S-CCCC", "S-AAAA"]
    assert close[0].case_reference == "CR-CCCC"


def test_in_progress_lists_running_sessions_newest_first() -> None:
    sessions = [
        {"key": "S-1", "status": "started", "started_at": "2026-11-26T09:00:00+00:00"},
        {"key": "S-2", "status": "paused", "started_at": "2026-11-26T09:30:00+00:00"},
        {"key": "S-3", "status": "started", "started_at": "2026-11-26T10:00:00+00:00"},
    ]
    assert [item["key"] for item in in_progress(sessions)] == ["S-3", "S-1"]


def test_paused_minutes_add_up_across_pauses() -> None:
    session = {"paused_minutes": 10, "paused_at": THURSDAY_TEN.isoformat()}
    assert paused_minutes(session, THURSDAY_TEN + timedelta(minutes=7, seconds=30)) == 17.5
    assert paused_minutes({}, THURSDAY_TEN) == 0.0


# -- preferences on the profile --------------------------------------------------------------------


def test_an_empty_profile_gets_the_defaults() -> None:
    assert work_pattern({}) == DEFAULT_PATTERN
    assert reminders_on({}) == {
        SIGN_OFF,
        WEEKLY_CHECK_IN,
        SCREEN_BREAK,
        "space_between",
        OUT_OF_HOURS,
    }
    assert check_in_at({}) == (4, time(14))


def test_a_saved_profile_is_read_back() -> None:
    saved = profile(
        working_days=["mon", "tue", "wed"],
        working_start="08:00",
        working_end="16:00",
        reminders=["weekly_check_in", "no_such_kind"],
        check_in_day="wed",
        check_in_time="11:30",
    )
    assert work_pattern(saved) == WorkPattern(frozenset({0, 1, 2}), time(8), time(16))
    assert reminders_on(saved) == {WEEKLY_CHECK_IN}
    assert check_in_at(saved) == (2, time(11, 30))


def test_a_broken_profile_falls_back_to_the_defaults() -> None:
    broken = profile(working_start="17:00", working_end="09:00", check_in_time="teatime")
    assert work_pattern(broken) == DEFAULT_PATTERN
    assert check_in_at(broken) == (4, time(14))


@pytest.mark.parametrize(
    ("typed", "days"),
    [
        ("Mon-Fri", ["mon", "tue", "wed", "thu", "fri"]),
        ("weekdays", ["mon", "tue", "wed", "thu", "fri"]),
        ("Monday, Wednesday and Friday", ["mon", "wed", "fri"]),
        ("tues & thurs", ["tue", "thu"]),
        ("fri to mon", ["mon", "fri", "sat", "sun"]),
        ("every day", ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
        ("mon,tue,wed", ["mon", "tue", "wed"]),
        ("weekend", ["sat", "sun"]),
    ],
)
def test_working_days_are_read_as_people_type_them(typed: str, days: list[str]) -> None:
    assert parse_days(typed) == days


@pytest.mark.parametrize(("typed", "reason"), [("", "empty"), ("someday", "days_unreadable")])
def test_unreadable_days_are_refused(typed: str, reason: str) -> None:
    with pytest.raises(InvalidAnswer) as refused:
        parse_days(typed)
    assert refused.value.reason == reason


def test_reminders_are_read_by_name_number_all_or_none() -> None:
    assert parse_reminders("all") == [
        SIGN_OFF,
        WEEKLY_CHECK_IN,
        SCREEN_BREAK,
        "space_between",
        OUT_OF_HOURS,
    ]
    assert parse_reminders("none") == []
    assert parse_reminders("2, screen breaks") == [WEEKLY_CHECK_IN, SCREEN_BREAK]
    assert parse_reminders("weekly_check_in,none") == [WEEKLY_CHECK_IN]


def test_the_working_day_must_end_after_it_starts() -> None:
    facts = Facts(now=THURSDAY_TEN, record=profile(working_start="09:00"))
    assert read_working_end("5pm", facts) == time(17)
    with pytest.raises(InvalidAnswer) as refused:
        read_working_end("08:30", facts)
    assert refused.value.reason == "working_end_before_start"


def test_job_keys_name_one_occurrence_each() -> None:
    due = datetime(2026, 3, 29, 15, 45, tzinfo=UTC)
    assert sign_off_key("aad-w", due) == "signoff:aad-w:2026-03-29:1645"
    assert weekly_key("aad-w", datetime(2026, 11, 27, 14, tzinfo=UTC)) == (
        "weekly:aad-w:2026-W48:fri1400"
    )
