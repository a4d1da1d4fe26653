"""Every storage adapter, freshly opened and empty, so one contract suite runs against each."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from storage import Stores, memory_stores, open_embedded, postgres_stores

from .postgres_server import scratch_schema

StoreFactory = Callable[[Path], AbstractAsyncContextManager[Stores]]


@asynccontextmanager
async def in_memory(_tmp_path: Path) -> AsyncIterator[Stores]:
    """The in-memory stores the other tests use."""
    stores = memory_stores()
    yield stores
    await stores.aclose()


@asynccontextmanager
async def embedded(tmp_path: Path) -> AsyncIterator[Stores]:
    """The TinyDB store in a real folder on disk."""
    stores = open_embedded(tmp_path / "store")
    try:
        yield stores
    finally:
        await stores.aclose()


@asynccontextmanager
async def postgres(_tmp_path: Path) -> AsyncIterator[Stores]:
    """PostgreSQL, in a schema of its own that is dropped afterwards (skipped if no server)."""
    with scratch_schema() as (url, schema):
        stores = postgres_stores(url, schema=schema, max_connections=4)
        try:
            await stores.open()
            yield stores
        finally:
            await stores.aclose()


# A new adapter joins every contract test by adding its factory here; it can pytest.skip()
# inside its factory when its server is not configured (and should fail instead in CI).
STORE_FACTORIES: dict[str, StoreFactory] = {
    "memory": in_memory,
    "postgres": postgres,
    "tinydb": embedded,
}
