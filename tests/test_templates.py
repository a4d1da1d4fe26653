"""Every template renders with a sample context, and the fields that matter are right."""

import json
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from bot.commands import COMMANDS
from safeguarding.validation import REASONS
from templates import Templates

TEMPLATES = Templates()
COMMAND_VIEWS = [{"name": command.name, "description": command.description} for command in COMMANDS]
HOSTILE = '{{ 7*7 }} "quoted" {braces} <b>html</b> **md** \\ ' + "é" * 500


# Every variable any text template uses, with a synthetic value; a new variable must be added here.
TEXT_CONTEXT = {
    # During and after a session.
    "session": "S-ABCDEF",
    "item": "D-ABC234",
    "urgent": True,
    "ending": "safe_word",
    "contact_plan": "I call back on the mobile.",
    "number": "07700 900123",
    "call_by": "10:35",
    "session_content": "We talked about school and sleep.",
    "family_tasks": "Try the breathing exercise before bed.",
    # Escalations (the channel view of one, plus what only the worker sees).
    "key": "E-ABC234",
    "worker_name": "Sam Worker",
    "worker_teams_id": "29:worker",
    "session_key": "S-ABCDEF",
    "kind": "Immediate danger to the child",
    "raised_at": "10:00 on Thursday 26 November 2026",
    "callback_number": "+447700900123",
    "status": "acknowledged",
    "acknowledged_by": "Alex Manager",
    "acknowledged_at": "10:02 on Thursday 26 November 2026",
    "resolved_by": "Alex Manager",
    "renotified": 1,
    "line_manager_name": "Alex Manager",
    "line_manager_phone": "+447700900456",
    "on_call_number": "01632 960000",
    "channel_reached": True,
    "manager_reached": True,
    "address": "Flat 9, 1 Synthetic Street, ZZ9 9ZZ",
    "name": "Alex Manager",
    "channel_name": "Managers",
    "team_name": "Family Support",
    "case_reference": "CR-1042",
    "count": 2,
    "names": ["Sam Example"],
    "risk_level": "medium",
    "min_length": 3,
    "max_length": 30,
    "max_years": 120,
    "options": 3,
    "service_email": "service@example.org",
    "out_of_hours_help": "call the out-of-hours line",
    "data_protection_url": "https://example.org/dp",
    "case_reference_pattern": None,
    "allow_fictional_numbers": True,
    # Session start and end: times, the recalled safe word, and today's sessions that can't start.
    "safe_word": "Periwinkle",
    "safe_word_agreed": True,
    "started_time": "10:00",
    "ended_time": "10:50",
    "todays_sessions": [
        {
            "key": "S-AB3CD9",
            "case_reference": "CR-1042",
            "time": "14:00",
            "reason": "not_ready",
            "blockers": ["format_consent_missing"],
        }
    ],
    # Session planning: its prompts, its ending and the pre-session message (A5).
    "session_day": "Thursday 3 December 2026",
    "session_time": "14:30",
    "session_kind": "introductory",
    "by_format": "by video call",
    "number_on_file": "07700 900123",
    "work_mobile": "07700 900456",
    "who_calls": "worker_calls",
    "reminder_text": True,
    "amendment": "Parking is at the back.",
    "when": "Thursday 3 December 2026, 14:30",
    "reasons": ["A manager needs to approve online work first."],
    # Looking after the worker (E1-E4, D2): reminders, settings, self-care, pausing a session.
    "end_time": "17:00",
    "back": "Monday 30 November 2026, 09:00",
    "sessions": 3,
    "minutes": 150,
    "space_minutes": 15,
    "session_minutes": 60,
    "now_text": "Saturday 28 November 2026, 21:30",
    "hours": "Monday to Friday, 09:00 to 17:00",
    "neighbours": [{"case_reference": "CR-2040", "when": "Thursday 3 December 2026, 14:30"}],
    "check_in": "Friday at 14:00",
    "reminders": ["End-of-day sign-off", "Weekly check-in"],
    "problem": "Your working day has to end after it starts, on the same day.",
    "title": "Screen breaks",
    "until": "Friday 27 November 2026, 17:00",
    "on": False,
    "outcome": "done",
    "next_time": "Friday 4 December 2026, 14:00",
    "manager_told": True,
    "paused_time": "10:20",
    "wanted": "paused",
    # Retention: a session confirmed as copied to the case file, and when it will be deleted.
    "already": False,
    "delete_on": "Wednesday 24 February 2027",
}


@pytest.mark.parametrize("name", TEMPLATES.names("text"))
def test_every_text_template_renders_something_plain(name: str) -> None:
    text = TEMPLATES.text(name, **TEXT_CONTEXT)
    assert text and "{{" not in text and "{%" not in text


def test_every_reason_an_answer_can_be_refused_for_has_a_re_prompt() -> None:
    assert {f"invalid/{reason}" for reason in REASONS} <= set(TEMPLATES.names("text"))


@pytest.mark.parametrize("name", ["welcome", "help"])
def test_welcome_and_help_list_every_command_and_link_the_guidance(name: str) -> None:
    card = TEMPLATES.card(
        name, commands=COMMAND_VIEWS, data_protection_url="https://example.org/dp"
    )
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    facts = next(item for item in card["body"] if item.get("id") == "commands")["facts"]
    assert [fact["title"] for fact in facts] == [command.name for command in COMMANDS]
    assert "https://example.org/dp" in json.dumps(card)


def test_the_welcome_button_submits_the_help_action() -> None:
    card = TEMPLATES.card(
        "welcome", commands=COMMAND_VIEWS, data_protection_url="https://example.org/dp"
    )
    assert [action["data"] for action in card["actions"]] == [{"action": "help"}]


def test_hostile_text_is_shown_literally_and_the_card_stays_valid() -> None:
    card = TEMPLATES.card(
        "help", commands=[{"name": HOSTILE, "description": HOSTILE}], data_protection_url=HOSTILE
    )
    facts = next(item for item in card["body"] if item.get("id") == "commands")["facts"]
    assert facts == [{"title": HOSTILE, "value": HOSTILE}]


def test_a_missing_value_is_an_error_not_a_blank() -> None:
    with pytest.raises(UndefinedError):
        TEMPLATES.card("help", commands=COMMAND_VIEWS)


def test_a_local_override_folder_wins(tmp_path: Path) -> None:
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "cancelled.txt").write_text("Local wording: cancelled.")
    assert Templates(override_dir=tmp_path).text("cancelled") == "Local wording: cancelled."
    assert Templates(override_dir=tmp_path).text("nothing_to_cancel") == TEMPLATES.text(
        "nothing_to_cancel"
    )
