"""Helpers for journey tests: a bot on a fixed clock, and records read straight from the store."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app import PIPELINE, create_app
from safeguarding.clock import FixedClock
from tests.conftest import make_settings
from tests.transcript import Chat

# Thursday 26 November 2026, 10:00 UK time (GMT).
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
JOURNEY_ENV = {"SAFESESSION_ALLOW_FICTIONAL_NUMBERS": "1"}


def journey_chat(
    tmp_path: Path, stores: Any, *, clock: FixedClock | None = None, worker: str = "worker-1"
) -> Chat:
    """A worker's personal chat with a bot whose clock stands at NOW."""
    app = create_app(
        make_settings(tmp_path, **JOURNEY_ENV), stores=stores, clock=clock or FixedClock(NOW)
    )
    return Chat(app[PIPELINE], worker=worker, conversation=f"a:personal-{worker}")


async def answers(stores: Any, collection: str, key: str) -> dict[str, Any]:
    """The stored answers of a record, question id to value."""
    record = await stores.documents.get(collection=collection, key=key)
    assert record is not None, f"no {collection}/{key} stored"
    return {question: entry["value"] for question, entry in record["answers"].items()}
