"""Validation: what a worker types becomes a clean value, or a reason code to ask again.

Every phone number here is from Ofcom's ranges for drama (or the North American 555-01xx
fictional range); every address is made up around a postcode from public format examples.
"""

import importlib.resources
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safeguarding import validation
from safeguarding.clock import LONDON, FixedClock, SystemClock, london_today
from safeguarding.validation import (
    ADDRESS_MAX_LENGTH,
    JOURNEY_REASONS,
    REASONS,
    Address,
    InvalidAnswer,
    format_london,
    identity_matches,
    parse_address,
    parse_case_reference,
    parse_date,
    parse_date_of_birth,
    parse_text,
    parse_time,
    parse_uk_phone,
    parse_uk_postcode,
    parse_work_mobile,
    parse_yes_no,
    same_name,
    session_start,
    to_london,
)

TODAY = date(2026, 6, 1)
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
FUZZ = settings(max_examples=150, deadline=None)

# National formats of Ofcom's drama ranges, each completed by three more digits.
DRAMA_LANDLINES = ("0113 496 0", "020 7946 0", "0161 496 0", "028 9649 6", "01632 960")
DRAMA_MOBILE = "07700 900"


def reason_for(call: Callable[[], object]) -> str:
    """Runs a parser that must refuse and returns its reason code."""
    with pytest.raises(InvalidAnswer) as refused:
        call()
    return refused.value.reason


# ---------------------------------------------------------------------------------------------
# Reason codes


EVERY_REASON: dict[str, Callable[[], object]] = {
    "empty": lambda: parse_text("   "),
    "too_short": lambda: parse_text("ab", min_length=3),
    "too_long": lambda: parse_text("x" * 201),
    "date_unreadable": lambda: parse_date("next week sometime", today=TODAY),
    "date_impossible": lambda: parse_date("31/02/2015", today=TODAY),
    "date_year_missing": lambda: parse_date("12 March", today=TODAY),
    "date_weekday_mismatch": lambda: parse_date("Friday 26 November 2026", today=TODAY),
    "date_of_birth_in_future": lambda: parse_date_of_birth("tomorrow", today=TODAY),
    "date_of_birth_too_old": lambda: parse_date_of_birth("01/01/1900", today=TODAY),
    "time_unreadable": lambda: parse_time("25:00"),
    "time_ambiguous": lambda: parse_time("2:30"),
    "time_does_not_exist": lambda: session_start(
        date_text="29/03/2026", time_text="01:30", now=NOW
    ),
    "session_in_past": lambda: session_start(date_text="01/02/2026", time_text="10:00", now=NOW),
    "phone_invalid": lambda: parse_uk_phone("0113 496"),
    "phone_not_uk": lambda: parse_uk_phone("+1 202 555 0123"),
    "phone_not_mobile": lambda: parse_work_mobile("0113 496 0123", allow_fictional=True),
    "phone_fictional": lambda: parse_uk_phone("07700 900123"),
    "postcode_invalid": lambda: parse_uk_postcode("QQ1 1AA"),
    "postcode_missing": lambda: parse_address("1 Example Road, Exampletown"),
    "address_too_short": lambda: parse_address("SW1A 1AA"),
    "case_reference_too_short": lambda: parse_case_reference("CR"),
    "case_reference_too_long": lambda: parse_case_reference("C" * 31),
    "case_reference_format": lambda: parse_case_reference("1042", pattern=r"CR-\d{4}"),
    "yes_no_unreadable": lambda: parse_yes_no("maybe"),
}


def test_reasons_are_unique_snake_case_codes() -> None:
    assert len(set(REASONS)) == len(REASONS)
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", reason) for reason in REASONS)


def test_every_reason_has_an_example_and_nothing_else_does() -> None:
    assert set(EVERY_REASON) == set(REASONS) - set(JOURNEY_REASONS)


@pytest.mark.parametrize("reason", sorted(EVERY_REASON))
def test_every_reason_is_reachable_and_carries_no_typed_text(reason: str) -> None:
    with pytest.raises(InvalidAnswer) as refused:
        EVERY_REASON[reason]()
    assert refused.value.reason == reason
    assert str(refused.value) == reason
    assert all(isinstance(value, int) for value in refused.value.details.values())
    # Nothing typed survives as a chained exception in a logged traceback.
    assert refused.value.__context__ is None or refused.value.__suppress_context__


def test_the_module_refuses_only_with_codes_in_reasons() -> None:
    source = Path(validation.__file__).read_text()
    raised = set(re.findall(r"(?:_refuse|InvalidAnswer)\(\s*\"([a-z_]+)\"", source))
    assert raised == set(REASONS) - set(JOURNEY_REASONS)


def test_lengths_come_with_the_limits_for_the_re_prompt() -> None:
    with pytest.raises(InvalidAnswer) as refused:
        parse_text("x" * 11, max_length=10)
    assert refused.value.details == {"min_length": 1, "max_length": 10}


# ---------------------------------------------------------------------------------------------
# Dates


@pytest.mark.parametrize(
    "typed",
    [
        "12/03/2015",
        "12-03-2015",
        "12.03.2015",
        "12/3/15",
        "12 / 03 / 2015",
        "12 March 2015",
        "12 Mar 2015",
        "12 mar. 2015",
        "12th March 2015",
        "12th of March, 2015",
        "March 12 2015",
        "March 12th, 2015",
        "12-Mar-2015",
        "2015-03-12",
        "Thursday 12 March 2015",
        "thu 12/03/2015",
        "１２/０３/２０１５",
    ],
)
def test_dates_read_the_uk_way_round(typed: str) -> None:
    assert parse_date(typed, today=TODAY) == date(2015, 3, 12)


def test_a_slash_date_is_day_first_never_the_us_reading() -> None:
    assert parse_date("12/03/2015", today=TODAY) == date(2015, 3, 12)
    assert parse_date("03/12/2015", today=TODAY) == date(2015, 12, 3)
    assert reason_for(lambda: parse_date("03/25/2015", today=TODAY)) == "date_impossible"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("today", TODAY), ("Tomorrow", date(2026, 6, 2)), (" yesterday ", date(2026, 5, 31))],
)
def test_relative_days_count_from_the_given_today(typed: str, expected: date) -> None:
    assert parse_date(typed, today=TODAY) == expected


def test_leap_days_exist_only_in_leap_years() -> None:
    assert parse_date("29/02/2024", today=TODAY) == date(2024, 2, 29)
    assert parse_date("29/02/2000", today=TODAY) == date(2000, 2, 29)
    assert reason_for(lambda: parse_date("29/02/2023", today=TODAY)) == "date_impossible"
    assert reason_for(lambda: parse_date("29/02/1900", today=TODAY)) == "date_impossible"


@pytest.mark.parametrize(
    "typed", ["31/02/2015", "31/04/2015", "00/01/2015", "12/13/2015", "32 March 2015"]
)
def test_impossible_dates_are_refused(typed: str) -> None:
    assert reason_for(lambda: parse_date(typed, today=TODAY)) == "date_impossible"


@pytest.mark.parametrize(
    "typed", ["next tuesday", "14.30", "12/03-2015", "12 Marchember 2015", "2015", "12/03/201"]
)
def test_unreadable_dates_are_refused(typed: str) -> None:
    assert reason_for(lambda: parse_date(typed, today=TODAY)) == "date_unreadable"


@pytest.mark.parametrize("typed", ["12/03", "12 March", "March 12th", "12th of March"])
def test_a_date_without_a_year_asks_for_it(typed: str) -> None:
    assert reason_for(lambda: parse_date(typed, today=TODAY)) == "date_year_missing"


def test_a_weekday_that_does_not_fit_the_date_is_caught() -> None:
    assert parse_date("Thursday 26 November 2026", today=TODAY) == date(2026, 11, 26)
    assert reason_for(lambda: parse_date("Fri 26/11/2026", today=TODAY)) == (
        "date_weekday_mismatch"
    )


def test_two_digit_years_fall_in_the_window_80_years_back_to_19_ahead() -> None:
    assert parse_date("26/11/26", today=TODAY) == date(2026, 11, 26)
    assert parse_date("12/03/45", today=TODAY) == date(2045, 3, 12)
    assert parse_date("12/03/46", today=TODAY) == date(1946, 3, 12)
    assert parse_date("12/3/15", today=TODAY) == date(2015, 3, 12)


def test_a_two_digit_year_of_birth_is_the_latest_that_is_not_in_the_future() -> None:
    assert parse_date_of_birth("12/03/15", today=TODAY) == date(2015, 3, 12)
    assert parse_date_of_birth("01/06/26", today=TODAY) == date(2026, 6, 1)
    assert parse_date_of_birth("02/06/26", today=TODAY) == date(1926, 6, 2)
    assert parse_date_of_birth("12/03/30", today=TODAY) == date(1930, 3, 12)


def test_a_date_of_birth_is_today_at_the_latest() -> None:
    assert parse_date_of_birth("today", today=TODAY) == TODAY
    assert reason_for(lambda: parse_date_of_birth("02/06/2026", today=TODAY)) == (
        "date_of_birth_in_future"
    )


def test_a_date_of_birth_is_at_most_120_years_ago() -> None:
    assert parse_date_of_birth("01/06/1906", today=TODAY) == date(1906, 6, 1)
    with pytest.raises(InvalidAnswer) as refused:
        parse_date_of_birth("31/05/1906", today=TODAY)
    assert refused.value.reason == "date_of_birth_too_old"
    assert refused.value.details == {"max_years": 120}


def test_120_years_before_a_leap_day_with_no_twin_is_the_28th() -> None:
    leap_day = date(2020, 2, 29)  # 1900 was not a leap year
    assert parse_date_of_birth("28/02/1900", today=leap_day) == date(1900, 2, 28)
    assert reason_for(lambda: parse_date_of_birth("27/02/1900", today=leap_day)) == (
        "date_of_birth_too_old"
    )


# ---------------------------------------------------------------------------------------------
# Times


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("14:30", time(14, 30)),
        ("14.30", time(14, 30)),
        ("1430", time(14, 30)),
        ("1430 hrs", time(14, 30)),
        ("14:30:00", time(14, 30)),
        ("09:05", time(9, 5)),
        ("0905", time(9, 5)),
        ("00:30", time(0, 30)),
        ("2:30pm", time(14, 30)),
        ("2.30 pm", time(14, 30)),
        ("2.30 P.M.", time(14, 30)),
        ("2pm", time(14, 0)),
        ("9am", time(9, 0)),
        ("11:45 am", time(11, 45)),
        ("12pm", time(12, 0)),
        ("12:15pm", time(12, 15)),
        ("noon", time(12, 0)),
        ("12 noon", time(12, 0)),
        ("Midday", time(12, 0)),
    ],
)
def test_times_in_the_shapes_people_type(typed: str, expected: time) -> None:
    assert parse_time(typed) == expected


@pytest.mark.parametrize("typed", ["2:30", "9.15", "930", "12am", "12:30 a.m.", "midnight"])
def test_times_that_could_mean_two_things_are_asked_again(typed: str) -> None:
    assert reason_for(lambda: parse_time(typed)) == "time_ambiguous"


@pytest.mark.parametrize(
    "typed", ["24:00", "14:60", "14:30pm", "0pm", "13pm", "half two", "14", "2", "teatime"]
)
def test_unreadable_times_are_refused(typed: str) -> None:
    assert reason_for(lambda: parse_time(typed)) == "time_unreadable"


# ---------------------------------------------------------------------------------------------
# Session start, on the 2026 clock changes (29 March forward, 25 October back)


def test_a_session_is_uk_wall_clock_time() -> None:
    start = session_start(date_text="2026-11-26", time_text="14:30", now=NOW)
    assert start == datetime(2026, 11, 26, 14, 30, tzinfo=UTC)
    assert start.tzinfo is LONDON


def test_a_summer_session_is_in_bst() -> None:
    start = session_start(date_text="01/07/2026", time_text="14:30", now=NOW)
    assert start == datetime(2026, 7, 1, 13, 30, tzinfo=UTC)


def test_the_hour_lost_in_spring_does_not_exist() -> None:
    for typed in ("01:00", "01:30", "01:59"):
        refused = reason_for(
            partial(session_start, date_text="29/03/2026", time_text=typed, now=NOW)
        )
        assert refused == "time_does_not_exist"


def test_either_side_of_the_spring_gap_is_fine() -> None:
    before = session_start(date_text="29/03/2026", time_text="00:59", now=NOW)
    after = session_start(date_text="29/03/2026", time_text="02:00", now=NOW)
    assert before == datetime(2026, 3, 29, 0, 59, tzinfo=UTC)
    assert after == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_the_hour_repeated_in_autumn_is_its_first_pass_in_bst() -> None:
    start = session_start(date_text="25/10/2026", time_text="01:30", now=NOW)
    # Compared in UTC: Python never calls a time in the repeated hour equal across zones.
    assert start.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert (start.fold, start.utcoffset()) == (0, timedelta(hours=1))
    after = session_start(date_text="25/10/2026", time_text="02:30", now=NOW)
    assert after == datetime(2026, 10, 25, 2, 30, tzinfo=UTC)


def test_a_session_in_the_past_is_refused_to_the_minute() -> None:
    assert session_start(date_text="today", time_text="09:00", now=NOW) == NOW
    refused = reason_for(lambda: session_start(date_text="today", time_text="08:59", now=NOW))
    assert refused == "session_in_past"


def test_in_the_repeated_hour_the_past_is_judged_by_the_moment_not_the_clock_face() -> None:
    # 01:15 on the second pass (GMT) is after 01:30 on the first pass (BST).
    now = datetime(2026, 10, 25, 1, 15, tzinfo=LONDON, fold=1)
    refused = reason_for(lambda: session_start(date_text="today", time_text="01:30", now=now))
    assert refused == "session_in_past"


def test_today_is_the_uk_day_not_the_utc_one() -> None:
    late_in_summer = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 July in London
    start = session_start(date_text="today", time_text="10:00", now=late_in_summer)
    assert start.date() == date(2026, 7, 2)


def test_a_bad_date_is_reported_before_a_bad_time() -> None:
    refused = reason_for(lambda: session_start(date_text="soon", time_text="later", now=NOW))
    assert refused == "date_unreadable"


def test_a_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        session_start(date_text="today", time_text="10:00", now=datetime(2026, 3, 1, 9))


# ---------------------------------------------------------------------------------------------
# Phone numbers


@pytest.mark.parametrize(
    "typed",
    [
        "0113 496 0123",
        "01134960123",
        "0113-496-0123",
        "(0113) 496 0123",
        "+44 113 496 0123",
        "+44 (0)113 496 0123",
        "+441134960123",
        "0044 113 496 0123",
        "  0113  496  0123  ",
    ],
)
def test_uk_numbers_become_e164_however_they_are_typed(typed: str) -> None:
    assert parse_uk_phone(typed, allow_fictional=True) == "+441134960123"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("07700 900123", "+447700900123"),
        ("01632 960000", "+441632960000"),
        ("020 7946 0999", "+442079460999"),
        ("028 9649 6001", "+442896496001"),
    ],
)
def test_every_kind_of_drama_number_is_a_uk_number(typed: str, expected: str) -> None:
    assert parse_uk_phone(typed, allow_fictional=True) == expected


def test_drama_numbers_reach_no_one_so_are_refused_unless_allowed() -> None:
    for typed in ("07700 900123", "0113 496 0123", "020 7946 0000", "01632 960999", "0113 4960999"):
        assert reason_for(partial(parse_uk_phone, typed)) == "phone_fictional"
        assert reason_for(partial(parse_work_mobile, typed)) == "phone_fictional"


def test_a_work_mobile_must_be_a_mobile() -> None:
    assert parse_work_mobile("07700 900000", allow_fictional=True) == "+447700900000"
    assert parse_work_mobile("+44 7700 900999", allow_fictional=True) == "+447700900999"
    for landline in ("0113 496 0123", "020 7946 0123", "01632 960123"):
        refused = reason_for(partial(parse_work_mobile, landline, allow_fictional=True))
        assert refused == "phone_not_mobile"


@pytest.mark.parametrize("typed", ["+1 202 555 0123", "001 202 555 0199"])
def test_valid_numbers_abroad_are_not_uk(typed: str) -> None:
    assert reason_for(lambda: parse_uk_phone(typed)) == "phone_not_uk"


@pytest.mark.parametrize(
    "typed",
    [
        "0113 496",
        "0113 496 0123 4567",
        "+44",
        "()",
        "0800 FLOWERS",
        "0113 496 0123 ext 12",
        "tel:01134960123",
        "0113+4960123",
        "call me",
    ],
)
def test_things_that_are_not_phone_numbers_are_invalid(typed: str) -> None:
    assert reason_for(lambda: parse_uk_phone(typed, allow_fictional=True)) == "phone_invalid"


# ---------------------------------------------------------------------------------------------
# Postcodes and addresses


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("SW1A 1AA", "SW1A 1AA"),
        ("sw1a1aa", "SW1A 1AA"),
        ("  Sw1A   1aA ", "SW1A 1AA"),
        ("EC1A 1BB", "EC1A 1BB"),
        ("W1A 0AX", "W1A 0AX"),
        ("M1 1AE", "M1 1AE"),
        ("B33 8TH", "B33 8TH"),
        ("CR2 6XH", "CR2 6XH"),
        ("DN55 1PT", "DN55 1PT"),
        ("gir 0aa", "GIR 0AA"),
        ("BFPO 801", "BFPO 801"),
        ("bfpo801", "BFPO 801"),
    ],
)
def test_postcodes_are_normalised(typed: str, expected: str) -> None:
    assert parse_uk_postcode(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "QQ1 1AA",  # Q never starts a postcode
        "SI1 1AA",  # I never comes second
        "SW1A 1CA",  # C never appears in the inward code
        "SW1A",
        "1AA",
        "SW1A 1AAA",
        "12345",
        "BFPO 12345",
    ],
)
def test_malformed_postcodes_are_refused(typed: str) -> None:
    assert reason_for(lambda: parse_uk_postcode(typed)) == "postcode_invalid"


def test_an_address_splits_on_commas_and_finds_its_postcode() -> None:
    assert parse_address("Flat 2, 10 Example Road ,Exampletown, SW1A 1AA") == Address(
        lines=("Flat 2", "10 Example Road", "Exampletown"), postcode="SW1A 1AA"
    )


def test_an_address_splits_on_new_lines_and_keeps_the_town_beside_the_postcode() -> None:
    typed = "10  Example Road\r\n\nExampletown m1 1ae\n"
    assert parse_address(typed) == Address(
        lines=("10 Example Road", "Exampletown"), postcode="M1 1AE"
    )


def test_an_address_takes_the_last_postcode_and_keeps_the_case_typed() -> None:
    address = parse_address("c/o Example House, 1 Example Lane, London W1A 0AX, UK")
    assert address.postcode == "W1A 0AX"
    assert address.lines == ("c/o Example House", "1 Example Lane", "London", "UK")


def test_a_forces_address_can_be_a_bfpo_number() -> None:
    assert parse_address("Sgt A Example, Example Unit, BFPO 801").postcode == "BFPO 801"


def test_an_address_needs_a_postcode_and_something_else() -> None:
    assert reason_for(lambda: parse_address("10 Example Road, Exampletown")) == ("postcode_missing")
    assert reason_for(lambda: parse_address("10 Example Road, QQ1 1AA")) == "postcode_missing"
    assert reason_for(lambda: parse_address(" ,SW1A 1AA,\n")) == "address_too_short"
    assert reason_for(lambda: parse_address("")) == "empty"


def test_an_address_has_a_length_limit() -> None:
    with pytest.raises(InvalidAnswer) as refused:
        parse_address("1 Example Road, " * 30 + "SW1A 1AA")
    assert refused.value.reason == "too_long"
    assert refused.value.details == {"max_length": ADDRESS_MAX_LENGTH}


def test_an_address_cannot_be_changed_after_it_is_read() -> None:
    address = parse_address("1 Example Road, SW1A 1AA")
    with pytest.raises(AttributeError):
        address.postcode = "M1 1AE"  # type: ignore[misc]


# ---------------------------------------------------------------------------------------------
# Free text and case references


def test_text_is_trimmed_and_its_spaces_folded() -> None:
    assert parse_text("  the   child's\n\tbedroom  ") == "the child's bedroom"


def test_invisible_and_control_characters_are_dropped() -> None:
    assert parse_text("kitchen\u200b table\x00here\u202e") == "kitchen table here"


def test_text_length_is_checked_after_tidying() -> None:
    assert parse_text("  ab  ", min_length=2, max_length=2) == "ab"
    assert parse_text("   ", min_length=0) == ""
    assert reason_for(lambda: parse_text("a b", min_length=4)) == "too_short"
    assert parse_text("x" * 200 + "  ") == "x" * 200
    assert parse_text("x" * 200) == "x" * 200
    assert reason_for(lambda: parse_text("x" * 201)) == "too_long"


def test_text_limits_that_cannot_be_met_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="min_length"):
        parse_text("x", min_length=5, max_length=4)


def test_a_case_reference_is_3_to_30_characters_by_default() -> None:
    assert parse_case_reference("  CR-1042 ") == "CR-1042"
    assert parse_case_reference("abc") == "abc"
    assert parse_case_reference("C" * 30) == "C" * 30
    with pytest.raises(InvalidAnswer) as refused:
        parse_case_reference("ab")
    assert refused.value.reason == "case_reference_too_short"
    assert refused.value.details == {"min_length": 3, "max_length": 30}
    assert reason_for(lambda: parse_case_reference("C" * 31)) == "case_reference_too_long"
    assert reason_for(lambda: parse_case_reference("")) == "empty"


def test_a_configured_pattern_must_match_the_whole_reference() -> None:
    pattern = r"CR-\d{4}"
    assert parse_case_reference(" CR-1042 ", pattern=pattern) == "CR-1042"
    for typed in ("CR-10421", "xCR-1042", "cr-1042", "CR"):
        refused = reason_for(partial(parse_case_reference, typed, pattern=pattern))
        assert refused == "case_reference_format"


# ---------------------------------------------------------------------------------------------
# Yes or no


@pytest.mark.parametrize(
    "typed", ["yes", "Y", "Yeah", "yep", "TRUE", "done", "OK", "okay", "Yes.", "yes!", "👍🏽", "✅"]
)
def test_yes(typed: str) -> None:
    assert parse_yes_no(typed) is True


@pytest.mark.parametrize(
    "typed", ["no", "N", "nope", "nah", "False", "not yet", "I haven’t", "No.", "👎", "❌"]
)
def test_no(typed: str) -> None:
    assert parse_yes_no(typed) is False


@pytest.mark.parametrize(
    "typed", ["maybe", "yesterday", "not now", "know", "nobody", "yes and no", "no yes", "okey"]
)
def test_only_whole_answers_count_never_a_word_inside_another(typed: str) -> None:
    assert reason_for(lambda: parse_yes_no(typed)) == "yes_no_unreadable"


# ---------------------------------------------------------------------------------------------
# Names and identity


@pytest.mark.parametrize(
    ("recorded", "given"),
    [
        ("Zoë  O’Neil", "zoe o'neil"),
        ("Zoë O’Neil", "ZOE ONEIL"),
        ("Mary-Jane Example", "mary jane example"),
        ("Mary–Jane Example", "Mary-Jane Example"),
        ("Łukasz Przykład", "lukasz przyklad"),
        ("Siobhán Ní Shé", "siobhan ni she"),
        ("Jürgen Straße", "JURGEN STRASSE"),
        ("Ｊｏ Ｅｘａｍｐｌｅ", "jo example"),
    ],
)
def test_the_same_name_written_differently(recorded: str, given: str) -> None:
    assert same_name(recorded, given)
    assert same_name(given, recorded)


@pytest.mark.parametrize(
    ("recorded", "given"),
    [
        ("Zoe Example", "Zoey Example"),
        ("Ann Example", "Anne Example"),
        ("Jo Example", "Example Jo"),
        ("Jo Example", "Jo"),
        ("", ""),
        ("Jo Example", "   "),
    ],
)
def test_different_names_do_not_match(recorded: str, given: str) -> None:
    assert not same_name(recorded, given)


def test_identity_needs_both_the_name_and_the_date_of_birth() -> None:
    born = date(2015, 3, 12)
    assert identity_matches(
        recorded_name="Zoë O’Neil", recorded_dob=born, given_name="zoe o'neil", given_dob=born
    )
    assert not identity_matches(
        recorded_name="Zoë O’Neil",
        recorded_dob=born,
        given_name="zoe o'neil",
        given_dob=date(2015, 12, 3),
    )
    assert not identity_matches(
        recorded_name="Zoë O’Neil", recorded_dob=born, given_name="Zoe Example", given_dob=born
    )


# ---------------------------------------------------------------------------------------------
# UK time


def test_to_london_follows_gmt_and_bst() -> None:
    winter = to_london(datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
    summer = to_london(datetime(2026, 7, 15, 12, 0, tzinfo=UTC))
    assert (winter.hour, winter.utcoffset()) == (12, timedelta(0))
    assert (summer.hour, summer.utcoffset()) == (13, timedelta(hours=1))


def test_clocks_change_at_1am_utc_on_the_2026_changeover_days() -> None:
    assert to_london(datetime(2026, 3, 29, 0, 59, tzinfo=UTC)).hour == 0
    assert to_london(datetime(2026, 3, 29, 1, 0, tzinfo=UTC)).hour == 2
    assert to_london(datetime(2026, 10, 25, 0, 59, tzinfo=UTC)).hour == 1
    assert to_london(datetime(2026, 10, 25, 1, 0, tzinfo=UTC)).hour == 1
    assert to_london(datetime(2026, 10, 25, 1, 0, tzinfo=UTC)).fold == 1


def test_a_moment_reads_the_same_on_every_machine() -> None:
    assert format_london(datetime(2026, 11, 26, 14, 30, tzinfo=UTC)) == (
        "Thursday 26 November 2026, 14:30"
    )
    assert format_london(datetime(2026, 7, 1, 8, 5, tzinfo=UTC)) == "Wednesday 1 July 2026, 09:05"


def test_naive_moments_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        to_london(datetime(2026, 7, 1, 9, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2026, 7, 1, 9, 0))


def test_clocks_tell_aware_moments() -> None:
    assert FixedClock(NOW).now() == NOW
    assert SystemClock().now().tzinfo is not None
    assert london_today(datetime(2026, 7, 1, 23, 30, tzinfo=UTC)) == date(2026, 7, 2)


def test_uk_time_works_without_the_machines_own_tz_data() -> None:
    # The pinned tzdata package carries Europe/London for machines that have no /usr/share.
    london = importlib.resources.files("tzdata.zoneinfo.Europe").joinpath("London")
    assert london.is_file()


# ---------------------------------------------------------------------------------------------
# Properties: whatever is typed, a parser answers with a value or a known reason


STRUCTURED_ALPHABET = "0123456789 /.-:,+()apmAPMhrsthndofMarchJanOctNovSWEBGIRFOtoydyes"
ANY_TEXT = st.one_of(st.text(), st.text(alphabet=STRUCTURED_ALPHABET, max_size=24))

PARSERS: dict[str, tuple[Callable[[str], object], type]] = {
    "date": (lambda text: parse_date(text, today=TODAY), date),
    "date_of_birth": (lambda text: parse_date_of_birth(text, today=TODAY), date),
    "time": (parse_time, time),
    "phone": (parse_uk_phone, str),
    "phone_fictional_allowed": (lambda text: parse_uk_phone(text, allow_fictional=True), str),
    "work_mobile": (lambda text: parse_work_mobile(text, allow_fictional=True), str),
    "postcode": (parse_uk_postcode, str),
    "address": (parse_address, Address),
    "text": (parse_text, str),
    "case_reference": (parse_case_reference, str),
    "case_reference_pattern": (lambda text: parse_case_reference(text, pattern=r"CR-\d+"), str),
    "yes_no": (parse_yes_no, bool),
}


def answers_or_refuses(parser: Callable[[str], object], text: str, kind: type) -> None:
    """Asserts the parser returns the right type or refuses with a known, text-free reason."""
    try:
        value = parser(text)
    except InvalidAnswer as refused:
        assert refused.reason in REASONS
        assert all(isinstance(detail, int) for detail in refused.details.values())
    else:
        assert isinstance(value, kind)


@pytest.mark.parametrize("name", sorted(PARSERS))
@FUZZ
@given(text=ANY_TEXT)
def test_any_text_gets_a_value_or_a_known_reason(name: str, text: str) -> None:
    parser, kind = PARSERS[name]
    answers_or_refuses(parser, text, kind)


@FUZZ
@given(date_text=ANY_TEXT, time_text=ANY_TEXT)
def test_any_session_answer_gets_an_aware_future_start_or_a_known_reason(
    date_text: str, time_text: str
) -> None:
    try:
        start = session_start(date_text=date_text, time_text=time_text, now=NOW)
    except InvalidAnswer as refused:
        assert refused.reason in REASONS
    else:
        assert start.tzinfo is LONDON
        assert start >= NOW


@FUZZ
@given(day=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_a_date_written_dd_mm_yyyy_reads_back_as_itself(day: date) -> None:
    assert parse_date(day.strftime("%d/%m/%Y"), today=TODAY) == day
    assert parse_date(day.isoformat(), today=TODAY) == day
    assert parse_date(f"{day.day} {day.strftime('%B')} {day.year}", today=TODAY) == day


@FUZZ
@given(day=st.dates(min_value=date(1946, 1, 1), max_value=date(2045, 12, 31)))
def test_a_two_digit_year_in_the_window_reads_back_as_itself(day: date) -> None:
    assert parse_date(day.strftime("%d/%m/%y"), today=TODAY) == day


@FUZZ
@given(born=st.dates(min_value=date(1926, 6, 2), max_value=TODAY))
def test_a_two_digit_year_of_birth_in_the_last_century_reads_back_as_itself(born: date) -> None:
    assert parse_date_of_birth(born.strftime("%d/%m/%y"), today=TODAY) == born


@FUZZ
@given(at=st.times().map(lambda moment: moment.replace(second=0, microsecond=0)))
def test_a_time_written_hh_mm_reads_back_as_itself(at: time) -> None:
    assert parse_time(at.strftime("%H:%M")) == at
    if at.hour != 0:  # "12am" is refused as ambiguous
        assert parse_time(at.strftime("%I:%M%p").lstrip("0")) == at


@FUZZ
@given(
    prefix=st.sampled_from((*DRAMA_LANDLINES, DRAMA_MOBILE)),
    last=st.integers(min_value=0, max_value=999),
    separators=st.lists(st.sampled_from(["", " ", "-"]), min_size=11, max_size=11),
)
def test_a_phone_number_in_e164_reads_back_as_itself(
    prefix: str, last: int, separators: list[str]
) -> None:
    digits = (prefix + f"{last:03d}").replace(" ", "")
    typed = "".join(digit + separator for digit, separator in zip(digits, separators, strict=False))
    e164 = parse_uk_phone(typed.strip(" -"), allow_fictional=True)
    assert e164 == "+44" + digits[1:]
    assert parse_uk_phone(e164, allow_fictional=True) == e164
