"""Where records live: adapters for the storage ports, on disk (TinyDB) or in memory.

The composition root needs two calls:

    stores = open_embedded(folder)   # or memory_stores() in tests
    stores.documents                 # safeguarding.ports.Documents
    stores.bot_storage               # botbuilder.core.Storage, for ConversationState
    await stores.status()            # StoreStatus, for GET /healthz
    stores.close()                   # releases the folder lock

`open_embedded` raises `StoreLocked` if another process has the folder open, and
`StoreUnavailable` if the store file is corrupt or unreadable; it never starts empty over data.
`bot_storage.write` raises `storage.bot_state.StorageConflict` on a stale e_tag.

Modules: `records` (the engine port and the in-memory engine), `engine` (TinyDB on disk),
`documents` and `bot_state` (the adapters), `embedded` (the two factories).
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.embedded import Stores, memory_stores, open_embedded

__all__ = ["Stores", "memory_stores", "open_embedded"]


def __getattr__(name: str) -> object:
    """Imports the factories on first use, so `storage.engine` alone never loads botbuilder."""
    if name in __all__:
        from storage import embedded

        return getattr(embedded, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
