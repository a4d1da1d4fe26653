"""Where the bot is installed: a welcome once, and references kept for proactive messages."""

from collections.abc import Callable
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


PERSONAL_CHATS = "personal_chats"


class PersonalChats:
    """Each person's 1:1 chat with the bot, so reminders and escalation news can reach them."""

    def __init__(self, documents: Documents) -> None:
        self._documents = documents

    async def remember(
        self, *, user_id: str, conversation_id: str, reference: Callable[[], dict[str, Any]]
    ) -> None:
        """Keeps the person's chat reference, writing (and making it) only when it is new or
        has moved to another conversation."""
        known = await self._documents.get(collection=PERSONAL_CHATS, key=user_id)
        if (
            known is not None
            and known["reference"].get("conversation", {}).get("id") == conversation_id
        ):
            return
        await self._documents.put(
            collection=PERSONAL_CHATS, key=user_id, document={"reference": reference()}
        )

    async def reference(self, user_id: str) -> dict[str, Any] | None:
        """Returns the person's chat reference, or None if they have never opened the bot."""
        known = await self._documents.get(collection=PERSONAL_CHATS, key=user_id)
        return None if known is None else known["reference"]
