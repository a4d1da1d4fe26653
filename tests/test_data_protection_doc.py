"""docs/data-protection.md names every field the bot can hold: a new question needs its row."""

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import safeguarding
from dialogs.registry import JOURNEYS
from safeguarding.journey import Journey
from safeguarding.retention import RETENTION_SETTINGS, RetentionPolicy
from safeguarding.worker_profile import line_manager_journey
from tests.attack.conftest import COLLECTIONS, SiteFactory, open_site  # noqa: F401
from tests.attack.test_logs import everything_happens

DOC = (Path(__file__).resolve().parent.parent / "docs" / "data-protection.md").read_text()
TABLE_ROWS = "\n".join(line for line in DOC.splitlines() if line.startswith("|"))
NAMED = set(re.findall(r"`([a-z_]+)`", DOC))


def every_journey() -> list[Journey]:
    """Every journey declared in safeguarding/, and the line-manager one its factory builds."""
    found = {journey.id: journey for journey in JOURNEYS}
    for module in pkgutil.iter_modules(safeguarding.__path__):
        loaded = importlib.import_module(f"safeguarding.{module.name}")
        for value in vars(loaded).values():
            if isinstance(value, Journey):
                found[value.id] = value
    line_manager = line_manager_journey([("aad-manager", "Alex Manager")])
    found[line_manager.id] = line_manager
    return sorted(found.values(), key=lambda journey: journey.id)


def answer_ids() -> list[tuple[str, str]]:
    return [
        (journey.id, question.id)
        for journey in every_journey()
        for question in (
            *journey.questions,
            *([journey.key_question] if journey.key_question else []),
        )
    ]


def test_the_journeys_are_all_found() -> None:
    ids = {journey.id for journey in every_journey()}
    assert {"service_user_setup.v1", "session_start.v1", "my_settings.v1", "line_manager.v1"} <= ids
    assert len(answer_ids()) >= 60


@pytest.mark.parametrize(("journey", "question"), answer_ids())
def test_every_answer_of_every_journey_has_a_row(journey: str, question: str) -> None:
    assert f"`{question}`" in TABLE_ROWS, (
        f"{journey} asks {question!r}: add a row to docs/data-protection.md (what, why, clause,"
        " sealed, who sees)"
    )


def test_every_retention_period_is_documented_with_its_setting_and_default() -> None:
    defaults = RetentionPolicy()
    for setting, period in RETENTION_SETTINGS.items():
        lines = [line for line in DOC.splitlines() if f"`{setting}`" in line]
        assert any(str(getattr(defaults, period)) in line for line in lines), setting


def test_every_collection_has_a_section() -> None:
    for collection in (*COLLECTIONS, "self_care", "legal_holds"):
        if collection == "jobs":
            continue
        assert f"`{collection}`" in DOC, collection


async def test_every_field_stored_while_everything_happens_is_named(
    open_site: SiteFactory,  # noqa: F811 - the attack suite's fixture, imported above
) -> None:
    site = await open_site()
    await everything_happens(site)
    unnamed: dict[str, set[str]] = {}
    for collection in (*COLLECTIONS, "self_care"):
        if collection == "jobs":
            continue
        for document in await site.documents(collection):
            fields = set(document) | set(document.get("answers") or {})
            if collection == "seen_activities":
                fields = set(document)  # `seen` is keyed by hashes
            missing = {name for name in fields if name not in NAMED}
            if missing:
                unnamed.setdefault(collection, set()).update(missing)
    assert unnamed == {}, "stored but not in docs/data-protection.md"
