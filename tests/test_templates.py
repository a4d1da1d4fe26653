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
