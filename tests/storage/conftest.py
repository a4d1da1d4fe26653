"""Every storage adapter in turn, so one contract suite runs against each of them."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from botbuilder.core import Storage

from safeguarding.ports import Documents, Jobs
from storage import Stores

from .factories import STORE_FACTORIES


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
def bot_storage(stores: Stores) -> Storage:
    """The botbuilder Storage of each adapter."""
    return stores.bot_storage


@pytest.fixture
def jobs(stores: Stores) -> Jobs:
    """The Jobs port of each adapter."""
    return stores.jobs
