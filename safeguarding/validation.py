"""Reads what a worker typed (or a card sent) into clean values, or says why it cannot.

Every parser returns a clean value or raises `InvalidAnswer(reason, **details)`. `reason` is a
stable snake_case code from `REASONS` that the dialogs map to a re-prompt template; `details`
holds only integers from our own rules (lengths, limits), never any of the typed text, so an
exception that reaches a log carries nothing a child or family said.

Decisions a worker may need to know (each is spelt out again where it is made):

- Numeric dates are always day first: 12/03/2015 is 12 March 2015, never 3 December.
- A two-digit year is read as the year within the window from 80 years ago to 19 years ahead
  (so a session on "26/11/26" is in 2026), except for a date of birth, where it is the most
  recent such date that is not in the future ("12/03/15" is 2015, "12/03/30" is 1930).
- A time with a one-digit hour and no am/pm ("2:30") could be morning or afternoon, and
  "12am"/"midnight" are read both ways in the UK, so both are refused and asked again.
- Session times are UK wall-clock times. On the day the clocks go forward, 01:00–01:59 does
  not exist and is refused; on the day they go back, 01:00–01:59 happens twice and the first
  (BST, the earlier moment) is taken.
- Phone numbers on the UK numbering plan (+44) count as UK, Jersey, Guernsey and the Isle of
  Man included. Ofcom's drama numbers reach no one, so they are refused unless a caller asks
  for them (tests, demos and training).
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Literal, get_args

import phonenumbers
from phonenumbers import PhoneNumberType

from safeguarding.clock import LONDON, MONTHS, WEEKDAYS, format_london, london_today, to_london

__all__ = [
    "ADDRESS_MAX_LENGTH",
    "CASE_REFERENCE_MAX_LENGTH",
    "CASE_REFERENCE_MIN_LENGTH",
    "DATE_OF_BIRTH_MAX_YEARS",
    "JOURNEY_REASONS",
    "NO_WORDS",
    "REASONS",
    "UK_NUMBERING_REGIONS",
    "YES_WORDS",
    "Address",
    "InvalidAnswer",
    "Reason",
    "format_london",
    "identity_matches",
    "parse_address",
    "parse_case_reference",
    "parse_date",
    "parse_date_of_birth",
    "parse_text",
    "parse_time",
    "parse_uk_phone",
    "parse_uk_postcode",
    "parse_work_mobile",
    "parse_yes_no",
    "readable_uk_phone",
    "same_name",
    "session_start",
    "to_london",
]

Reason = Literal[
    "empty",
    "too_short",
    "too_long",
    "date_unreadable",
    "date_impossible",
    "date_year_missing",
    "date_weekday_mismatch",
    "date_of_birth_in_future",
    "date_of_birth_too_old",
    "time_unreadable",
    "time_ambiguous",
    "time_does_not_exist",
    "session_in_past",
    "phone_invalid",
    "phone_not_uk",
    "phone_not_mobile",
    "phone_fictional",
    "postcode_invalid",
    "postcode_missing",
    "address_too_short",
    "case_reference_too_short",
    "case_reference_too_long",
    "case_reference_format",
    "yes_no_unreadable",
    # Journey-level reasons, raised by safeguarding/journey.py and the journey definitions.
    "choice_unknown",
    "card_unreadable",
    "needs_confirming",
    "list_entry_unreadable",
    "list_needs_someone",
    "date_in_future",
    "session_date_in_past",
    "phone_new_number_needed",
]
REASONS: tuple[Reason, ...] = get_args(Reason)
# Raised by safeguarding/journey.py and the journey definitions rather than by this module.
JOURNEY_REASONS: tuple[Reason, ...] = (
    "choice_unknown",
    "card_unreadable",
    "needs_confirming",
    "list_entry_unreadable",
    "list_needs_someone",
    "date_in_future",
    "session_date_in_past",
    "phone_new_number_needed",
)

DATE_OF_BIRTH_MAX_YEARS = 120
ADDRESS_MAX_LENGTH = 300
CASE_REFERENCE_MIN_LENGTH = 3
CASE_REFERENCE_MAX_LENGTH = 30
# Longer than any date or time anyone types; keeps the regexes below on short input.
_SHORT_ANSWER_MAX = 60


class InvalidAnswer(ValueError):
    """The answer cannot be used; `reason` picks the re-prompt and `details` fills it in."""

    # `reason` is a plain str so other domain modules can refuse with codes of their own;
    # this module's codes are all in REASONS, which `_refuse` makes mypy check.
    def __init__(self, reason: str, **details: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details: dict[str, int] = details

    def __repr__(self) -> str:
        return f"InvalidAnswer({self.reason!r}, **{self.details!r})"


def _refuse(reason: Reason, **details: int) -> InvalidAnswer:
    """Builds the refusal for one of this module's own reason codes."""
    return InvalidAnswer(reason, **details)


# ---------------------------------------------------------------------------------------------
# Shared clean-up


def _fold(text: str) -> str:
    """Trims the text and folds every run of whitespace into one space, keeping what was typed."""
    kept: list[str] = []
    for char in unicodedata.normalize("NFC", text):
        category = unicodedata.category(char)
        if category == "Cc":
            kept.append(" ")
        # Drops invisible format characters (zero-width spaces, bidi overrides, stray
        # surrogates) but keeps the joiners some scripts and emoji need.
        elif category in ("Cf", "Cs") and char not in "\u200c\u200d":
            continue
        else:
            kept.append(char)
    return " ".join("".join(kept).split())


def _fold_for_parsing(text: str) -> str:
    """Lower-cases and folds the text, with full-width digits and letters made plain."""
    return _fold(unicodedata.normalize("NFKC", text)).casefold()


# ---------------------------------------------------------------------------------------------
# Dates

_CenturyRule = Literal["window", "not_future"]

_MONTH_NUMBERS = {
    **{name.lower(): number for number, name in enumerate(MONTHS, start=1)},
    **{name.lower()[:3]: number for number, name in enumerate(MONTHS, start=1)},
    "sept": 9,
}
_WEEKDAY_NUMBERS = {
    **{name.lower(): number for number, name in enumerate(WEEKDAYS)},
    **{name.lower()[:3]: number for number, name in enumerate(WEEKDAYS)},
    **{"tues": 1, "weds": 2, "thur": 3, "thurs": 3},
}

_RELATIVE_DAYS = {"today": 0, "tomorrow": 1, "yesterday": -1}

_YEAR = r"([0-9]{4}|[0-9]{2})"
_DAY = r"([0-9]{1,2})(?:st|nd|rd|th)?"
_SEP = r"\s*([/.-])\s*"
_ISO = re.compile(r"([0-9]{4})" + _SEP + r"([0-9]{1,2})\s*\2\s*([0-9]{1,2})")
_DMY_NUMERIC = re.compile(r"([0-9]{1,2})" + _SEP + r"([0-9]{1,2})\s*\2\s*" + _YEAR)
_DM_NUMERIC = re.compile(r"([0-9]{1,2})" + _SEP + r"([0-9]{1,2})")
_DMY_NAMED = re.compile(_DAY + r"[\s/.-]*(?:of\s+)?([a-z]+)\.?[\s/.-]*" + _YEAR)
_MDY_NAMED = re.compile(r"([a-z]+)\.?[\s/.-]*" + _DAY + r"[\s/.-]+" + _YEAR)
_DM_NAMED = re.compile(_DAY + r"[\s/.-]*(?:of\s+)?([a-z]+)\.?")
_MD_NAMED = re.compile(r"([a-z]+)\.?[\s/.-]*" + _DAY)
_LEADING_WEEKDAY = re.compile(r"([a-z]+)\.?\s*(.*)")


def parse_date(text: str, *, today: date) -> date:
    """Reads a date the UK way round (12/03/2015 is 12 March), or today/tomorrow/yesterday."""
    return _parse_date(text, today=today, century="window")


def parse_date_of_birth(text: str, *, today: date) -> date:
    """Reads a date of birth, which must not be in the future nor over 120 years ago."""
    born = _parse_date(text, today=today, century="not_future")
    if born > today:
        raise _refuse("date_of_birth_in_future")
    if born < _years_before(today, DATE_OF_BIRTH_MAX_YEARS):
        raise _refuse("date_of_birth_too_old", max_years=DATE_OF_BIRTH_MAX_YEARS)
    return born


def _parse_date(text: str, *, today: date, century: _CenturyRule) -> date:
    """Reads a date in any of the accepted shapes, resolving two-digit years by the rule."""
    cleaned = _fold_for_parsing(text).replace(",", " ").strip()
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise _refuse("empty")
    if len(cleaned) > _SHORT_ANSWER_MAX:
        raise _refuse("date_unreadable")
    if cleaned in _RELATIVE_DAYS:
        return date.fromordinal(today.toordinal() + _RELATIVE_DAYS[cleaned])

    # "Thursday 26 November 2026": the weekday is checked, so a slip in either part is caught.
    weekday: int | None = None
    leading = _LEADING_WEEKDAY.fullmatch(cleaned)
    if leading and leading.group(1) in _WEEKDAY_NUMBERS:
        weekday = _WEEKDAY_NUMBERS[leading.group(1)]
        cleaned = leading.group(2)

    day, month, year = _date_parts(cleaned)
    if year is None:
        raise _refuse("date_year_missing")
    full_year = int(year)
    if len(year) == 2:
        full_year = _resolve_century(int(year), month=month, day=day, today=today, rule=century)
    try:
        result = date(full_year, month, day)
    except ValueError:
        raise _refuse("date_impossible") from None
    if weekday is not None and result.weekday() != weekday:
        raise _refuse("date_weekday_mismatch")
    return result


def _date_parts(cleaned: str) -> tuple[int, int, str | None]:
    """Splits a date into day, month and the year digits as typed (None when left out)."""
    if match := _ISO.fullmatch(cleaned):
        return _checked(int(match.group(4)), int(match.group(3)), match.group(1))
    if match := _DMY_NUMERIC.fullmatch(cleaned):
        return _checked(int(match.group(1)), int(match.group(3)), match.group(4))
    if (match := _DMY_NAMED.fullmatch(cleaned)) and match.group(2) in _MONTH_NUMBERS:
        return _checked(int(match.group(1)), _MONTH_NUMBERS[match.group(2)], match.group(3))
    if (match := _MDY_NAMED.fullmatch(cleaned)) and match.group(1) in _MONTH_NUMBERS:
        return _checked(int(match.group(2)), _MONTH_NUMBERS[match.group(1)], match.group(3))
    if (match := _DM_NAMED.fullmatch(cleaned)) and match.group(2) in _MONTH_NUMBERS:
        return _checked(int(match.group(1)), _MONTH_NUMBERS[match.group(2)], None)
    if (match := _MD_NAMED.fullmatch(cleaned)) and match.group(1) in _MONTH_NUMBERS:
        return _checked(int(match.group(2)), _MONTH_NUMBERS[match.group(1)], None)
    if (match := _DM_NUMERIC.fullmatch(cleaned)) and _plausible(
        int(match.group(1)), int(match.group(3))
    ):
        # "12/03" looks like a date with the year left off (unlike "14.30", a time).
        return int(match.group(1)), int(match.group(3)), None
    raise _refuse("date_unreadable")


def _checked(day: int, month: int, year: str | None) -> tuple[int, int, str | None]:
    """Refuses a day or month that no year has, before any century is chosen."""
    if not _plausible(day, month):
        raise _refuse("date_impossible")
    return day, month, year


def _plausible(day: int, month: int) -> bool:
    """Says whether some year has this day in this month."""
    return 1 <= month <= 12 and 1 <= day <= 31


def _resolve_century(
    two_digits: int, *, month: int, day: int, today: date, rule: _CenturyRule
) -> int:
    """Turns a two-digit year into a full one by the given rule."""
    candidates = [(today.year // 100 + shift) * 100 + two_digits for shift in (-1, 0, 1)]
    if rule == "not_future":
        # The most recent such date on or before today: a date of birth is never ahead.
        not_future = [
            y for y in candidates if (y, month, day) <= (today.year, today.month, today.day)
        ]
        return max(not_future)
    # The one year in [today - 80, today + 19]: sessions are ahead, other dates mostly behind.
    return next(y for y in candidates if today.year - 80 <= y < today.year + 20)


def _years_before(today: date, years: int) -> date:
    """Returns the same day `years` earlier (28 February for a 29 February with no twin)."""
    if today.year - years < date.min.year:
        return date.min
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


# ---------------------------------------------------------------------------------------------
# Times

_NOON = {"noon", "midday", "12 noon", "12noon", "12 midday", "12midday"}
_MIDNIGHT = {"midnight", "12 midnight", "12midnight"}
_AM_PM = re.compile(r"(?<![a-z])([ap])\s*\.?\s*m(?![a-z])\.?")
_HOURS_SUFFIX = re.compile(r"\s*(?:hrs|hours|hr|h)$")
_TIME_24 = re.compile(r"([0-9]{1,2})\s*[:.]\s*([0-9]{2})(?:\s*:\s*([0-9]{2}))?")
_TIME_COMPACT = re.compile(r"([0-9]{1,2})([0-9]{2})")
_TIME_12 = re.compile(r"([0-9]{1,2})(?:\s*[:.]?\s*([0-9]{2}))?\s*([ap])m")


def parse_time(text: str) -> time:
    """Reads a time of day: "14:30", "14.30", "1430", "2:30pm", "2pm" or "noon"."""
    cleaned = _fold_for_parsing(text)
    if not cleaned:
        raise _refuse("empty")
    if len(cleaned) > _SHORT_ANSWER_MAX:
        raise _refuse("time_unreadable")
    cleaned = _AM_PM.sub(r"\1m", cleaned)
    if cleaned in _NOON:
        return time(12, 0)
    if cleaned in _MIDNIGHT:
        # Midnight "on the 12th" is read as the start of the 12th by some and the end by others.
        raise _refuse("time_ambiguous")
    if match := _TIME_12.fullmatch(cleaned):
        return _twelve_hour(int(match.group(1)), int(match.group(2) or 0), match.group(3))
    cleaned = _HOURS_SUFFIX.sub("", cleaned)
    match = _TIME_24.fullmatch(cleaned) or _TIME_COMPACT.fullmatch(cleaned)
    if match is None:
        raise _refuse("time_unreadable")
    hour_digits, minute = match.group(1), int(match.group(2))
    hour = int(hour_digits)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise _refuse("time_unreadable")
    if match.lastindex == 3 and int(match.group(3)) > 59:
        raise _refuse("time_unreadable")
    if len(hour_digits) == 1 and hour >= 1:
        # "2:30" is 02:30 on a 24-hour clock but usually means 2:30pm when said aloud.
        raise _refuse("time_ambiguous")
    return time(hour, minute)


def _twelve_hour(hour: int, minute: int, half: str) -> time:
    """Turns an am/pm time into a time of day."""
    if not (1 <= hour <= 12 and 0 <= minute <= 59):
        raise _refuse("time_unreadable")
    if hour == 12 and half == "a":
        # The UK's National Physical Laboratory calls "12am" ambiguous; ask for 00:30 instead.
        raise _refuse("time_ambiguous")
    if half == "p" and hour != 12:
        hour += 12
    return time(hour, minute)


# ---------------------------------------------------------------------------------------------
# Session start


def session_start(*, date_text: str, time_text: str, now: datetime) -> datetime:
    """Works out when a session starts in UK time; it must not already have started."""
    day = parse_date(date_text, today=london_today(now))
    at = parse_time(time_text)
    start = _london_wall_clock(day, at)
    # Compared in UTC: two datetimes sharing a tzinfo compare by wall time and ignore `fold`.
    if start.astimezone(UTC) < now.astimezone(UTC):
        raise _refuse("session_in_past")
    return start


def _london_wall_clock(day: date, at: time) -> datetime:
    """Pins a UK wall-clock time to one moment, refusing the hour lost in spring."""
    # fold=0: in the repeated autumn hour this is the first pass (still BST, the earlier moment).
    start = datetime.combine(day, at, tzinfo=LONDON)
    if to_london(start.astimezone(UTC)).replace(tzinfo=None) != start.replace(tzinfo=None):
        raise _refuse("time_does_not_exist")
    return start


# ---------------------------------------------------------------------------------------------
# Phone numbers

# The +44 plan also serves the Crown Dependencies; a family in Jersey is called like any other.
UK_NUMBERING_REGIONS = frozenset({"GB", "GG", "JE", "IM"})
_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE})
_PHONE_CHARS = re.compile(r"\+?[0-9 ().-]+")
_PHONE_MAX = 40

# Ofcom's "telephone numbers for drama purposes": never allocated, so never answered.
# Keyed by the start of the national number (no leading 0); every range is 10 digits long.
_FICTIONAL_RANGES: dict[str, int] = {
    **{f"1{area}4960": PhoneNumberType.FIXED_LINE for area in (13, 14, 15, 16, 17, 18)},
    **{f"1{area}14960": PhoneNumberType.FIXED_LINE for area in (2, 3, 4, 5, 6)},
    "1914980": PhoneNumberType.FIXED_LINE,
    "2079460": PhoneNumberType.FIXED_LINE,
    "2896496": PhoneNumberType.FIXED_LINE,
    "2920180": PhoneNumberType.FIXED_LINE,
    "1632960": PhoneNumberType.FIXED_LINE,
    "7700900": PhoneNumberType.MOBILE,
    "8081570": PhoneNumberType.TOLL_FREE,
    "9098790": PhoneNumberType.PREMIUM_RATE,
    "3069990": PhoneNumberType.UAN,
}


def parse_uk_phone(text: str, *, allow_fictional: bool = False) -> str:
    """Reads a UK phone number, as typed with spaces, dashes, brackets, +44 or 0, into E.164."""
    number, _ = _parse_uk_number(text, allow_fictional=allow_fictional)
    return number


def parse_work_mobile(text: str, *, allow_fictional: bool = False) -> str:
    """Reads a worker's UK mobile number into E.164; a landline or other number is refused."""
    number, kind = _parse_uk_number(text, allow_fictional=allow_fictional)
    if kind not in _MOBILE_TYPES:
        raise _refuse("phone_not_mobile")
    return number


def readable_uk_phone(e164: str) -> str:
    """Writes a stored number the way people read it out in the UK: "07700 900123"."""
    number = phonenumbers.parse(e164, "GB")
    if number.country_code != 44:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def _parse_uk_number(text: str, *, allow_fictional: bool) -> tuple[str, int]:
    """Returns the number in E.164 and its kind (mobile, landline, ...), or says why not."""
    cleaned = _fold(unicodedata.normalize("NFKC", text))
    if not cleaned:
        raise _refuse("empty")
    # phonenumbers would also read letters ("0800 FLOWERS") and extensions; a worker's answer
    # with either is more likely a slip than a number to call.
    if len(cleaned) > _PHONE_MAX or not _PHONE_CHARS.fullmatch(cleaned):
        raise _refuse("phone_invalid")
    try:
        number = phonenumbers.parse(cleaned, "GB")
    except phonenumbers.NumberParseException:
        raise _refuse("phone_invalid") from None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    fictional = _fictional_kind(number)
    if fictional is not None:
        if not allow_fictional:
            raise _refuse("phone_fictional")
        return e164, fictional
    if not phonenumbers.is_valid_number(number):
        raise _refuse("phone_invalid")
    if phonenumbers.region_code_for_number(number) not in UK_NUMBERING_REGIONS:
        raise _refuse("phone_not_uk")
    return e164, phonenumbers.number_type(number)


def _fictional_kind(number: phonenumbers.PhoneNumber) -> int | None:
    """Returns the kind of an Ofcom drama number, or None for any other number."""
    if number.country_code != 44:
        return None
    national = phonenumbers.national_significant_number(number)
    if len(national) != 10:
        return None
    for prefix, kind in _FICTIONAL_RANGES.items():
        if national.startswith(prefix):
            return kind
    return None


# ---------------------------------------------------------------------------------------------
# Postcodes and addresses

# The UK Government Data Standards postcode pattern, by position: the letters Royal Mail never
# uses in each place are left out. GIR 0AA (Girobank) and BFPO numbers (forces families
# abroad) are also accepted.
_OUTWARD = (
    r"(?:[A-PR-UWYZ][0-9]{1,2}"
    r"|[A-PR-UWYZ][A-HK-Y][0-9]{1,2}"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRV-Y])"
)
_INWARD = r"[0-9][ABD-HJLNP-UW-Z]{2}"
_POSTCODE_EXACT = re.compile(
    rf"(?P<outward>{_OUTWARD})(?P<inward>{_INWARD})|(?P<gir>GIR0AA)|BFPO(?P<bfpo>[0-9]{{1,4}})",
    re.ASCII,
)
_POSTCODE_IN_TEXT = re.compile(
    rf"(?<![A-Z0-9])(?:{_OUTWARD} ?{_INWARD}|GIR ?0AA|BFPO ?[0-9]{{1,4}})(?![A-Z0-9])",
    re.ASCII | re.IGNORECASE,
)
_ADDRESS_BREAKS = re.compile(r"[,\n\r]+")


@dataclass(frozen=True)
class Address:
    """A UK postal address: the lines as typed (tidied) and its normalised postcode."""

    lines: tuple[str, ...]
    postcode: str


def parse_uk_postcode(text: str) -> str:
    """Reads a UK postcode in any case and spacing into its usual form, e.g. "SW1A 1AA"."""
    cleaned = _fold(unicodedata.normalize("NFKC", text))
    if not cleaned:
        raise _refuse("empty")
    compact = "".join(cleaned.split()).upper()
    fits = compact.isascii() and len(compact) <= 10
    match = _POSTCODE_EXACT.fullmatch(compact) if fits else None
    if match is None:
        raise _refuse("postcode_invalid")
    if match.group("gir"):
        return "GIR 0AA"
    if match.group("bfpo"):
        return f"BFPO {match.group('bfpo')}"
    return f"{match.group('outward')} {match.group('inward')}"


def parse_address(text: str) -> Address:
    """Reads a UK address split on commas or new lines; it must include a valid postcode."""
    stripped = unicodedata.normalize("NFC", text).strip()
    if not stripped:
        raise _refuse("empty")
    if len(stripped) > ADDRESS_MAX_LENGTH:
        raise _refuse("too_long", max_length=ADDRESS_MAX_LENGTH)
    lines = [line for line in (_fold(part) for part in _ADDRESS_BREAKS.split(stripped)) if line]
    # The postcode is taken from the last line that has one, the last one on that line.
    for index in range(len(lines) - 1, -1, -1):
        found = list(_POSTCODE_IN_TEXT.finditer(lines[index]))
        if found:
            match = found[-1]
            postcode = parse_uk_postcode(match.group(0))
            rest = _fold(lines[index][: match.start()] + " " + lines[index][match.end() :])
            remaining = [*lines[:index], *([rest] if rest else []), *lines[index + 1 :]]
            if not remaining:
                raise _refuse("address_too_short")
            return Address(lines=tuple(remaining), postcode=postcode)
    raise _refuse("postcode_missing")


# ---------------------------------------------------------------------------------------------
# Free text and case references


def parse_text(text: str, *, min_length: int = 1, max_length: int = 200) -> str:
    """Tidies free text (trimmed, spaces folded) and checks its length in characters."""
    if min_length < 0 or max_length < min_length:
        raise ValueError("need 0 <= min_length <= max_length")
    cleaned = _fold(text)
    if not cleaned and min_length > 0:
        raise _refuse("empty")
    if len(cleaned) < min_length:
        raise _refuse("too_short", min_length=min_length, max_length=max_length)
    if len(cleaned) > max_length:
        raise _refuse("too_long", min_length=min_length, max_length=max_length)
    return cleaned


def parse_case_reference(text: str, *, pattern: str | None = None) -> str:
    """Reads a case reference: 3–30 characters, or whatever the configured pattern allows."""
    cleaned = _fold(text)
    if not cleaned:
        raise _refuse("empty")
    if pattern is not None:
        if re.fullmatch(pattern, cleaned) is None:
            raise _refuse("case_reference_format")
        return cleaned
    limits = {"min_length": CASE_REFERENCE_MIN_LENGTH, "max_length": CASE_REFERENCE_MAX_LENGTH}
    if len(cleaned) < CASE_REFERENCE_MIN_LENGTH:
        raise _refuse("case_reference_too_short", **limits)
    if len(cleaned) > CASE_REFERENCE_MAX_LENGTH:
        raise _refuse("case_reference_too_long", **limits)
    return cleaned


# ---------------------------------------------------------------------------------------------
# Yes or no

# fmt: off
YES_WORDS = frozenset(
    {
        "yes", "y", "yeah", "yea", "yeh", "yep", "yup", "aye", "true", "done", "ok", "okay",
        "sure", "correct", "confirmed", "affirmative", "agreed", "i agree", "i have", "i do",
        "yes please", "yes done", "yes i have", "yes i do", "👍", "✅", "✔",
    }
)
NO_WORDS = frozenset(
    {
        "no", "n", "nope", "nah", "false", "negative", "not yet", "not done", "no thanks",
        "no not yet", "i have not", "i haven't", "i do not", "i don't", "👎", "❌", "✖",
    }
)
# fmt: on
_EMOJI_MODIFIERS = re.compile("[\ufe0f\U0001f3fb-\U0001f3ff]")
_APOSTROPHES = "'’‘`´ʼ′＇"
_APOSTROPHE_TO_PLAIN = str.maketrans(dict.fromkeys(_APOSTROPHES, "'"))


def parse_yes_no(text: str) -> bool:
    """Reads yes or no from a short answer: whole words only, so "not now" is not a "no"."""
    cleaned = _fold_for_parsing(text).translate(_APOSTROPHE_TO_PLAIN)
    cleaned = _EMOJI_MODIFIERS.sub("", cleaned).strip(" .!")
    if not cleaned:
        raise _refuse("empty")
    if cleaned in YES_WORDS:
        return True
    if cleaned in NO_WORDS:
        return False
    raise _refuse("yes_no_unreadable")


# ---------------------------------------------------------------------------------------------
# Names and identity

_HYPHENS = "-‐‑‒–—―−﹣－"
_NAME_MARKS = str.maketrans({**dict.fromkeys(_APOSTROPHES, ""), **dict.fromkeys(_HYPHENS, " ")})
# Letters that Unicode does not split into a base letter and an accent.
_UNSPLIT_LETTERS = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i", "ħ": "h"}
)


def same_name(recorded: str, given: str) -> bool:
    """Says whether two names match, ignoring case, spacing, accents, hyphens and apostrophes."""
    recorded_key, given_key = _name_key(recorded), _name_key(given)
    # An empty name on either side matches nothing: a missing record is not a pass.
    return bool(recorded_key) and recorded_key == given_key


def identity_matches(
    *, recorded_name: str, recorded_dob: date, given_name: str, given_dob: date
) -> bool:
    """Says whether the name and date of birth given both match the record."""
    return recorded_dob == given_dob and same_name(recorded_name, given_name)


def _name_key(name: str) -> str:
    """Reduces a name to what the identity check compares ("Zoë O’Neil" → "zoe oneil")."""
    decomposed = unicodedata.normalize("NFKD", _fold(name).casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.translate(_UNSPLIT_LETTERS).translate(_NAME_MARKS).split())
