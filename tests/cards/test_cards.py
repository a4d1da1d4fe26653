"""Every Adaptive Card, rendered with sample data, is one Teams can show: checked by Microsoft's
own renderer library (npm adaptivecards) under node, for card version 1.5."""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from templates import Templates
from tests.cards.samples import SAMPLES, card_name

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VALIDATOR = HERE / "validate.js"
LIBRARY = ROOT / "node_modules" / "adaptivecards" / "dist" / "adaptivecards.min.js"
TEMPLATES = Templates()
CARDS = [name for name in TEMPLATES.names("cards") if not name.startswith("_")]

Problems = dict[str, list[dict[str, Any]]]


def validate(cards: dict[str, Any]) -> Problems:
    """Runs tests/cards/validate.js once over many cards; returns each card's problems."""
    node = shutil.which("node")
    assert node, "node (v20+) is needed to validate Adaptive Cards; it is not on PATH"
    assert LIBRARY.exists(), "node_modules is missing: run `make node` (npm ci) or `make test`"
    result = subprocess.run(
        [node, str(VALIDATOR)],
        input=json.dumps(cards),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"validate.js failed: {result.stderr}"
    problems: Problems = json.loads(result.stdout)
    return problems


@pytest.fixture(scope="module")
def rendered_problems() -> Problems:
    """Every sample rendered through the real templates, validated in one node process."""
    return validate(
        {sample: TEMPLATES.card(card_name(sample), **SAMPLES[sample]) for sample in SAMPLES}
    )


def test_every_card_template_has_a_sample() -> None:
    sampled = {card_name(sample) for sample in SAMPLES}
    missing = sorted(set(CARDS) - sampled)
    assert not missing, f"add a sample context to tests/cards/samples.py for: {missing}"
    stale = sorted(sampled - set(CARDS))
    assert not stale, f"samples for cards that no longer exist: {stale}"


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_the_card_is_valid_for_teams(sample: str, rendered_problems: Problems) -> None:
    problems = rendered_problems[sample]
    assert problems == [], "\n".join(f"{p['event']}: {p['message']}" for p in problems)


BROKEN = json.loads((HERE / "broken_cards.json").read_text())


@pytest.mark.parametrize("fault", sorted(BROKEN))
def test_a_broken_card_fails_validation(fault: str) -> None:
    case = BROKEN[fault]
    problems = validate({fault: case["card"]})[fault]
    assert problems, f"the {fault} card should have failed validation"
    assert case["expect"] in [problem["event"] for problem in problems], problems


def test_the_command_line_form_reports_a_broken_card(tmp_path: Path) -> None:
    card = tmp_path / "broken.json"
    card.write_text(json.dumps(BROKEN["unknown_element_type"]["card"]))
    node = shutil.which("node")
    assert node
    result = subprocess.run(
        [node, str(VALIDATOR), str(card)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1
    assert "UnknownElementType" in result.stdout
