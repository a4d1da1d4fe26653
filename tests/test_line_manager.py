"""The worker's line manager (D1): picked from the configured managers, or typed, with a number."""

from pathlib import Path
from typing import Any

from app import PIPELINE, create_app
from safeguarding.clock import FixedClock
from tests.conftest import make_settings
from tests.journeys import JOURNEY_ENV, NOW, answers
from tests.transcript import Chat

MANAGERS = {"SAFESESSION_MANAGERS": "aad-manager:Alex Manager,aad-lead:Jo Lead"}


def chat(tmp_path: Path, stores: Any, **environ: str) -> Chat:
    app = create_app(
        make_settings(tmp_path, **JOURNEY_ENV, **environ), stores=stores, clock=FixedClock(NOW)
    )
    return Chat(app[PIPELINE])


async def test_a_listed_manager_is_picked_and_their_number_kept(
    tmp_path: Path, stores: Any
) -> None:
    worker = chat(tmp_path, stores, **MANAGERS)
    await worker.user("my line manager")
    card = worker.bot_asks("line_manager")
    titles = [choice["title"] for choice in card["body"][1]["choices"]]
    assert titles == ["Alex Manager", "Jo Lead", "Someone not listed"]
    await worker.submit({"action": "answer", "question": "line_manager", "answer": "aad-lead"})
    worker.bot_says("phone number")
    await worker.user("07700 900")
    worker.bot_says("phone number", "doesn't look like a complete UK phone number")
    await worker.user("07700 900456")
    worker.bot_says("Saved", "Jo Lead")
    worker.no_unread_replies()
    assert await answers(stores, "workers", "aad-worker-1") == {
        "line_manager": "aad-lead",
        "line_manager_name": "Jo Lead",
        "line_manager_phone": "+447700900456",
    }


async def test_without_configured_managers_the_name_is_typed(tmp_path: Path, stores: Any) -> None:
    worker = chat(tmp_path, stores)
    await worker.user("my line manager")
    worker.bot_says("line manager's name")
    await worker.user("Robin Example")
    worker.bot_says("phone number")
    await worker.user("+44 7700 900789")
    worker.bot_says("Saved", "Robin Example")
    stored = await answers(stores, "workers", "aad-worker-1")
    assert stored["line_manager_name"] == "Robin Example"
    assert stored["line_manager_phone"] == "+447700900789"


async def test_asking_again_replaces_the_old_line_manager(tmp_path: Path, stores: Any) -> None:
    worker = chat(tmp_path, stores, **MANAGERS)
    await worker.user("my line manager")
    worker.bot_asks("line_manager")
    await worker.user("Alex Manager")
    worker.bot_says("phone number")
    await worker.user("07700 900456")
    worker.bot_says("Saved", "Alex Manager")
    await worker.user("my line manager")
    worker.bot_asks("line_manager")
    await worker.user("3")
    worker.bot_says("line manager's name")
    await worker.user("Robin Example")
    worker.bot_says("phone number")
    await worker.user("07700 900789")
    worker.bot_says("Saved", "Robin Example")
    stored = await answers(stores, "workers", "aad-worker-1")
    assert stored["line_manager"] == "not_listed" and stored["line_manager_name"] == "Robin Example"


async def test_a_line_manager_left_half_way_is_picked_up_by_where_was_i(
    tmp_path: Path, stores: Any
) -> None:
    worker = chat(tmp_path, stores, **MANAGERS)
    await worker.user("my line manager")
    worker.bot_asks("line_manager")
    await worker.submit({"action": "answer", "question": "line_manager", "answer": "aad-lead"})
    worker.bot_says("phone number")
    await worker.user("cancel")
    worker.bot_says("Stopped")
    await worker.user("where was i")
    worker.bot_says("phone number")
    await worker.user("07700 900456")
    worker.bot_says("Saved", "Jo Lead")
    worker.no_unread_replies()
    stored = await answers(stores, "workers", "aad-worker-1")
    assert stored["line_manager"] == "aad-lead"
