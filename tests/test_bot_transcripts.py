"""What a worker sees in Teams: welcome, help, routing, refusals and the error handler."""

import logging
from pathlib import Path
from typing import Any

import pytest

from app import PIPELINE, create_app
from bot.commands import COMMANDS
from safeguarding.clock import FixedClock
from safeguarding.ports import StoreUnavailable
from storage.bot_state import StorageConflict
from tests.conftest import make_settings
from tests.journeys import NOW
from tests.transcript import Chat, fixture

STATE_KEY = "msteams/conversations/a:personal-1"


def chat_with(tmp_path: Path, stores: Any, **environ: str) -> Chat:
    """A worker's personal chat with a freshly composed bot."""
    # Within working hours: out of hours a typed message also gets a boundary reminder (E1).
    app = create_app(make_settings(tmp_path, **environ), stores=stores, clock=FixedClock(NOW))
    return Chat(app[PIPELINE])


async def test_install_sends_the_welcome_card_once(tmp_path: Path, stores: Any) -> None:
    chat = chat_with(tmp_path, stores)
    await chat.receive(fixture("install_personal"))
    card = chat.bot_sends_card("welcome")
    await chat.receive(fixture("bot_added_personal"))
    await chat.receive(fixture("install_personal"))
    chat.no_unread_replies()

    facts = next(item for item in card["body"] if item.get("id") == "commands")["facts"]
    assert [fact["title"] for fact in facts] == [command.name for command in COMMANDS]
    assert card["actions"][0]["data"] == {"action": "help"}


async def test_reinstall_after_removal_welcomes_again(tmp_path: Path, stores: Any) -> None:
    chat = chat_with(tmp_path, stores)
    await chat.receive(fixture("bot_added_personal"))
    chat.bot_sends_card("welcome")
    await chat.receive(fixture("uninstall_personal"))
    await chat.receive(fixture("install_personal"))
    chat.bot_sends_card("welcome")
    chat.no_unread_replies()


async def test_the_install_is_kept_with_its_conversation_reference(
    tmp_path: Path, stores: Any
) -> None:
    chat = chat_with(tmp_path, stores)
    await chat.receive(fixture("install_personal"))
    chat.bot_sends_card("welcome")
    [install] = await stores.documents.find(collection="installations")
    assert install["reference"]["conversation"]["id"] == "a:personal-1"
    assert install["reference"]["serviceUrl"] == "https://smba.trafficmanager.net/uk/"


@pytest.mark.parametrize("typed", ["help", "Help", "  HELP!  ", "hi", "?"])
async def test_help_and_its_aliases_show_the_help_card(
    tmp_path: Path, stores: Any, typed: str
) -> None:
    chat = chat_with(tmp_path, stores)
    await chat.user(typed)
    card = chat.bot_sends_card("help")
    assert "https://intranet.example.org/using-technology-and-data-protection" in str(card)
    chat.no_unread_replies()


@pytest.mark.parametrize("typed", ["can you help me", "helpful", "I need help now", "", "   "])
async def test_anything_else_gets_a_short_hint_not_silence(
    tmp_path: Path, stores: Any, typed: str
) -> None:
    chat = chat_with(tmp_path, stores)
    await chat.user(typed)
    chat.bot_says("Type **help**")
    chat.no_unread_replies()


async def test_a_channel_mention_is_stripped_before_routing(tmp_path: Path, stores: Any) -> None:
    chat = chat_with(tmp_path, stores)
    await chat.receive(fixture("channel_mention"))
    chat.bot_sends_card("help")
    chat.no_unread_replies()


async def test_card_buttons_route_by_their_action(tmp_path: Path, stores: Any) -> None:
    chat = chat_with(tmp_path, stores)
    await chat.receive(fixture("card_submit_help"))
    chat.bot_sends_card("help")
    chat.no_unread_replies()


@pytest.mark.parametrize(
    "value", ["help", 7, [], {}, {"action": 3}, {"action": "no-such-action"}, {"Action": "help"}]
)
async def test_a_garbled_card_submit_gets_a_kind_answer(
    tmp_path: Path, stores: Any, value: Any
) -> None:
    chat = chat_with(tmp_path, stores)
    await chat.submit(value)
    chat.bot_says("couldn't read that card", "Nothing you've already given is lost")
    chat.no_unread_replies()


async def test_cancel_with_nothing_in_progress_says_so(tmp_path: Path, stores: Any) -> None:
    chat = chat_with(tmp_path, stores)
    await chat.user("cancel")
    chat.bot_says("nothing in progress to cancel")
    chat.no_unread_replies()


class FailingDocuments:
    """Wraps a real Documents store and fails every install write with the given error."""

    def __init__(self, inner: Any, error: Exception) -> None:
        self._inner = inner
        self._error = error

    async def get(self, **kwargs: Any) -> Any:
        return await self._inner.get(**kwargs)

    async def find(self, **kwargs: Any) -> Any:
        return await self._inner.find(**kwargs)

    async def delete(self, **kwargs: Any) -> Any:
        return await self._inner.delete(**kwargs)

    async def status(self) -> Any:
        return await self._inner.status()

    async def put(self, **kwargs: Any) -> None:
        if kwargs["collection"] != "installations":
            await self._inner.put(**kwargs)
            return
        raise self._error


class StoresWith:
    """The real stores with the Documents port swapped."""

    def __init__(self, inner: Any, documents: Any) -> None:
        self.documents = documents
        self.bot_storage = inner.bot_storage
        self.jobs = inner.jobs
        self._inner = inner

    async def open(self) -> None:
        """The fixture opened the real stores."""

    async def aclose(self) -> None:
        """The fixture closes the real stores."""

    async def status(self) -> Any:
        return await self._inner.status()

    def close(self) -> None:
        """The fixture closes the real stores."""


SECRET = "Flat 3, 1 Synthetic Road"


async def test_an_unexpected_error_apologises_resets_state_and_logs_ids_only(
    tmp_path: Path, stores: Any, caplog: pytest.LogCaptureFixture
) -> None:
    chat = chat_with(
        tmp_path, StoresWith(stores, FailingDocuments(stores.documents, RuntimeError(SECRET)))
    )
    await chat.user("help")
    chat.bot_sends_card("help")
    assert await stores.bot_storage.read([STATE_KEY]) != {}

    with caplog.at_level(logging.INFO):
        await chat.receive(fixture("install_personal"))
    chat.bot_says("something went wrong on my side", "call 999")
    chat.no_unread_replies()
    assert await stores.bot_storage.read([STATE_KEY]) == {}
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "a:personal-1" in logged and "RuntimeError" in logged
    assert SECRET not in logged


async def test_an_unavailable_store_is_explained_and_state_is_kept(
    tmp_path: Path, stores: Any, caplog: pytest.LogCaptureFixture
) -> None:
    chat = chat_with(
        tmp_path, StoresWith(stores, FailingDocuments(stores.documents, StoreUnavailable(SECRET)))
    )
    await chat.user("help")
    chat.bot_sends_card("help")

    with caplog.at_level(logging.INFO):
        await chat.receive(fixture("install_personal"))
    chat.bot_says("can't save anything right now")
    chat.no_unread_replies()
    assert await stores.bot_storage.read([STATE_KEY]) != {}
    assert SECRET not in caplog.text


async def test_a_state_conflict_asks_to_resend_and_keeps_the_newer_state(
    tmp_path: Path, stores: Any
) -> None:
    chat = chat_with(
        tmp_path, StoresWith(stores, FailingDocuments(stores.documents, StorageConflict("k")))
    )
    await chat.user("help")
    chat.bot_sends_card("help")
    await chat.receive(fixture("install_personal"))
    chat.bot_says("Please send that last one again")
    chat.no_unread_replies()
    assert await stores.bot_storage.read([STATE_KEY]) != {}
