"""Working hours in UK time (E1): inside or not, the next start, sign-offs, clock changes."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safeguarding.clock import to_london
from safeguarding.working_hours import (
    DEFAULT_PATTERN,
    WorkPattern,
    describe,
    is_working_time,
    iso_week,
    local_day,
    next_sign_off,
    next_weekly,
    next_working_start,
    window,
    working_day_end,
)

EVERY_DAY = WorkPattern(days=frozenset(range(7)))
# Clock changes in the UK: spring forward, fall back, and the spring after.
SPRING_2026 = date(2026, 3, 29)
AUTUMN_2026 = date(2026, 10, 25)
SPRING_2027 = date(2027, 3, 28)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_the_default_is_monday_to_friday_nine_to_five() -> None:
    assert describe(DEFAULT_PATTERN) == "Monday to Friday, 09:00 to 17:00"
    thursday = utc(2026, 11, 26, 10)
    assert is_working_time(DEFAULT_PATTERN, thursday)
    assert is_working_time(DEFAULT_PATTERN, utc(2026, 11, 26, 9))  # the start is inside
    assert not is_working_time(DEFAULT_PATTERN, utc(2026, 11, 26, 17))  # the end is not
    assert not is_working_time(DEFAULT_PATTERN, utc(2026, 11, 26, 8, 59))
    assert not is_working_time(DEFAULT_PATTERN, utc(2026, 11, 28, 12))  # Saturday


def test_the_next_working_start_after_a_friday_evening_is_monday_morning() -> None:
    friday_evening = utc(2026, 11, 27, 18)
    assert next_working_start(DEFAULT_PATTERN, friday_evening) == utc(2026, 11, 30, 9)
    inside = utc(2026, 11, 27, 11, 30)
    assert next_working_start(DEFAULT_PATTERN, inside) == inside


@pytest.mark.parametrize(
    ("friday_evening", "monday_nine"),
    [
        # Friday in GMT, Monday in BST: 09:00 on the worker's clock is 08:00 UTC.
        (utc(2026, 3, 27, 18), utc(2026, 3, 30, 8)),
        # Friday in BST, Monday in GMT: 09:00 is 09:00 UTC again.
        (utc(2026, 10, 23, 17), utc(2026, 10, 26, 9)),
        (utc(2027, 3, 26, 18), utc(2027, 3, 29, 8)),
    ],
)
def test_the_next_start_across_a_clock_change_is_nine_on_the_workers_clock(
    friday_evening: datetime, monday_nine: datetime
) -> None:
    start = next_working_start(DEFAULT_PATTERN, friday_evening)
    assert start == monday_nine
    assert f"{to_london(start):%a %H:%M}" == "Mon 09:00"


@pytest.mark.parametrize(
    ("changeover", "before_utc", "after_utc"),
    [
        # The day before is GMT (16:45 UTC); the changeover Sunday itself is BST (15:45 UTC).
        (SPRING_2026, utc(2026, 3, 28, 16, 45), utc(2026, 3, 29, 15, 45)),
        # BST the day before (15:45 UTC), GMT on the Sunday clocks go back (16:45 UTC).
        (AUTUMN_2026, utc(2026, 10, 24, 15, 45), utc(2026, 10, 25, 16, 45)),
        (SPRING_2027, utc(2027, 3, 27, 16, 45), utc(2027, 3, 28, 15, 45)),
    ],
)
def test_a_five_pm_sign_off_is_at_sixteen_forty_five_on_the_clock_either_side_of_a_change(
    changeover: date, before_utc: datetime, after_utc: datetime
) -> None:
    day_before_noon = datetime.combine(changeover - timedelta(days=1), time(12), tzinfo=UTC)
    first = next_sign_off(EVERY_DAY, day_before_noon, minutes_before=15)
    second = next_sign_off(EVERY_DAY, first, minutes_before=15)
    assert (first, second) == (before_utc, after_utc)
    assert f"{to_london(first):%H:%M}" == f"{to_london(second):%H:%M}" == "16:45"
    assert local_day(second) == changeover.isoformat()


@pytest.mark.parametrize("changeover", [SPRING_2026, AUTUMN_2026, SPRING_2027])
def test_the_changeover_day_window_runs_nine_to_five_on_the_clock(changeover: date) -> None:
    found = window(EVERY_DAY, changeover)
    assert found is not None
    start, end = found
    assert (f"{to_london(start):%H:%M}", f"{to_london(end):%H:%M}") == ("09:00", "17:00")
    # Eight hours on the clock; the lost or repeated hour falls overnight, outside it.
    assert end - start == timedelta(hours=8)


def test_a_start_in_the_lost_spring_hour_reads_an_hour_on() -> None:
    night_owl = WorkPattern(days=frozenset({6}), start=time(1, 30), end=time(3, 0))
    found = window(night_owl, SPRING_2026)
    assert found is not None
    assert f"{to_london(found[0]):%H:%M}" == "02:30"
    assert is_working_time(night_owl, found[0])


def test_the_weekly_check_in_keeps_its_clock_time_across_the_change() -> None:
    friday_gmt = next_weekly(4, time(14), utc(2026, 3, 23, 9))
    friday_bst = next_weekly(4, time(14), friday_gmt)
    assert friday_gmt == utc(2026, 3, 27, 14)
    assert friday_bst == utc(2026, 4, 3, 13)
    assert iso_week(friday_gmt) == "2026-W13" and iso_week(friday_bst) == "2026-W14"


def test_a_sign_off_falls_in_the_working_day_even_when_the_day_is_short() -> None:
    short = WorkPattern(start=time(9), end=time(9, 10))
    due = next_sign_off(short, utc(2026, 11, 26, 6), minutes_before=15)
    assert due == utc(2026, 11, 26, 9) and is_working_time(short, due)


def test_working_day_end_is_the_end_of_the_window_or_none() -> None:
    assert working_day_end(DEFAULT_PATTERN, utc(2026, 11, 26, 10)) == utc(2026, 11, 26, 17)
    assert working_day_end(DEFAULT_PATTERN, utc(2026, 11, 26, 18)) is None


@pytest.mark.parametrize(
    ("days", "text"),
    [
        (frozenset(range(7)), "every day"),
        (frozenset({0, 2, 4}), "Monday, Wednesday and Friday"),
        (frozenset({5, 6}), "Saturday and Sunday"),
        (frozenset({1, 2, 3}), "Tuesday to Thursday"),
        (frozenset({6}), "Sunday"),
    ],
)
def test_days_are_described_as_a_worker_says_them(days: frozenset[int], text: str) -> None:
    assert describe(WorkPattern(days=days)).startswith(text + ", ")


@pytest.mark.parametrize(
    "broken",
    [
        {"days": frozenset()},
        {"days": frozenset({7})},
        {"start": time(17), "end": time(9)},
        {"start": time(9), "end": time(9)},
    ],
)
def test_an_impossible_pattern_is_refused(broken: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        WorkPattern(**broken)  # type: ignore[arg-type]


# -- properties ----------------------------------------------------------------------------------


@st.composite
def patterns(draw: st.DrawFn) -> WorkPattern:
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    start = draw(st.integers(0, 24 * 60 - 2))
    end = draw(st.integers(start + 1, 24 * 60 - 1))
    return WorkPattern(
        days=days,
        start=time(start // 60, start % 60),
        end=time(end // 60, end % 60),
    )


# 2020 to 2035 covers many clock changes; minutes are enough (the bot never needs seconds).
moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
).map(lambda moment: moment.replace(second=0, microsecond=0))


@given(patterns(), moments)
def test_next_working_start_is_inside_working_hours_and_never_in_the_past(
    pattern: WorkPattern, moment: datetime
) -> None:
    start = next_working_start(pattern, moment)
    assert start >= moment
    assert is_working_time(pattern, start)
    if is_working_time(pattern, moment):
        assert start == moment
    else:
        # Nothing earlier would have done: the minute before it is not working time.
        assert not is_working_time(pattern, max(moment, start - timedelta(minutes=1)))


@given(patterns(), moments, st.integers(1, 240))
def test_a_sign_off_is_always_later_and_inside_a_working_day(
    pattern: WorkPattern, moment: datetime, minutes: int
) -> None:
    due = next_sign_off(pattern, moment, minutes_before=minutes)
    assert due > moment
    assert is_working_time(pattern, due)
    end = working_day_end(pattern, due)
    assert end is not None and end - due <= timedelta(minutes=minutes)


@given(st.integers(0, 6), st.integers(0, 24 * 60 - 1), moments)
def test_the_weekly_moment_is_after_and_on_the_right_day_within_a_week(
    weekday: int, minute: int, moment: datetime
) -> None:
    due = next_weekly(weekday, time(minute // 60, minute % 60), moment)
    assert moment < due <= moment + timedelta(days=7, hours=1)
    assert to_london(due).weekday() == weekday
