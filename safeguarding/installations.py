"""Where the bot is installed: a welcome once, and references kept for proactive messages."""

from datetime import UTC, datetime
from typing import Any

from safeguarding.ports import Documents

COLLECTION = "installations"


class Installations:
    """Remembers each conversation the bot was installed into."""

    def __init__(self, documents: Documents) -> None:
        self._documents = documents

    async def record(self, *, conversation_id: str, scope: str, reference: dict[str, Any]) -> bool:
        """Stores the install and its conversation reference; says whether it is new."""
        existing = await self._documents.get(collection=COLLECTION, key=conversation_id)
        if existing is not None:
            return False
        await self._documents.put(
            collection=COLLECTION,
            key=conversation_id,
            document={
                "conversation_id": conversation_id,
                "scope": scope,
                "reference": reference,
                "installed_at": datetime.now(UTC).isoformat(),
            },
        )
        return True

    async def forget(self, *, conversation_id: str) -> None:
        """Drops the install, so a reinstall is welcomed again."""
        await self._documents.delete(collection=COLLECTION, key=conversation_id)

    async def reference(self, *, conversation_id: str) -> dict[str, Any] | None:
        """Returns the stored conversation reference, for a proactive message."""
        install = await self._documents.get(collection=COLLECTION, key=conversation_id)
        return None if install is None else install["reference"]
