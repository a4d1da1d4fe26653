"""Every storage adapter in turn, so one contract suite runs against each of them."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from safeguarding.ports import Documents
from storage import Stores, memory_stores, open_embedded
from storage.bot_state import RecordBotStorage

StoreFactory = Callable[[Path], AbstractAsyncContextManager[Stores]]


@asynccontextmanager
async def in_memory(_tmp_path: Path) -> AsyncIterator[Stores]:
    """The in-memory stores the other tests use."""
    with memory_stores() as stores:
        yield stores


@asynccontextmanager
async def embedded(tmp_path: Path) -> AsyncIterator[Stores]:
    """The TinyDB store in a real folder on disk."""
    with open_embedded(tmp_path / "store") as stores:
        yield stores


# A new adapter (PostgreSQL, say) joins every contract test by adding its factory here;
# it can pytest.skip() inside its factory when its server is not configured.
STORE_FACTORIES: dict[str, StoreFactory] = {"memory": in_memory, "tinydb": embedded}


@pytest.fixture(params=sorted(STORE_FACTORIES))
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    """Each storage adapter in turn, freshly opened and empty."""
    async with STORE_FACTORIES[request.param](tmp_path) as opened:
        yield opened


@pytest.fixture
def documents(stores: Stores) -> Documents:
    """The Documents port of each adapter."""
    return stores.documents


@pytest.fixture
def bot_storage(stores: Stores) -> RecordBotStorage:
    """The botbuilder Storage of each adapter."""
    return stores.bot_storage
