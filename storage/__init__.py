"""Where records live: adapters for the storage ports, on disk (TinyDB), in PostgreSQL or in memory.

The composition root needs these calls:

    stores = open_embedded(folder)        # one process per folder; or memory_stores() in tests
    stores = postgres_stores(url)         # several instances on one database
    await stores.open()                   # PostgreSQL connects and migrates here (before turns)
    stores.documents                      # safeguarding.ports.Documents
    stores.bot_storage                    # botbuilder.core.Storage, for ConversationState
    stores.jobs                           # safeguarding.ports.Jobs, for the scheduler
    await stores.status()                 # StoreStatus, for GET /healthz
    await stores.aclose()                 # releases the folder lock or the connections

`open_embedded` raises `StoreLocked` if another process has the folder open, and
`StoreUnavailable` if the store's files are corrupt or unreadable; it never starts empty over data.
`stores.open()` raises `StoreUnavailable` when PostgreSQL cannot be reached or its schema is newer
than this code. `bot_storage.write` raises `storage.bot_state.StorageConflict` on a stale e_tag.

Modules: `records` (the engine port and the in-memory engine), `journal` (the embedded store's
files), `engine` (TinyDB over the journal), `documents`, `bot_state` and `jobs` (the adapters on
an engine), `postgres` (the PostgreSQL adapters), `stores` and `embedded` (the factories), and
`migrate` (`python -m storage.migrate` copies an embedded store into PostgreSQL); `rotate_key`,
and the data-protection commands `export`, `erase`, `hold` and `purge` (sharing `admin`).
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.embedded import memory_stores, open_embedded
    from storage.postgres import postgres_stores
    from storage.stores import Stores

__all__ = ["Stores", "memory_stores", "open_embedded", "postgres_stores"]
_HOMES = {
    "Stores": "storage.stores",
    "memory_stores": "storage.embedded",
    "open_embedded": "storage.embedded",
    "postgres_stores": "storage.postgres",
}


def __getattr__(name: str) -> object:
    """Imports on first use, so `storage.engine` alone never loads botbuilder or psycopg."""
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
