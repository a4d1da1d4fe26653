"""Journey records: each answer stored as it is given, with its clause and an audit event."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from safeguarding.clock import Clock
from safeguarding.journey import Question
from safeguarding.ports import Document, Documents, Put

WORKERS = "workers"
SERVICE_USERS = "service_users"
SESSIONS = "sessions"
AUDIT = "audit"
# What an audit event says besides when: in this order; the last three may be empty.
EVENT_DETAILS = ("actor", "action", "record", "field", "clause", "reason")
# The audit action for sensitive data shown to someone (the safe word, a number, an export).
DISCLOSE = "disclose"


class Records:
    """Reads and writes the records journeys fill in, one answer at a time."""

    def __init__(self, documents: Documents, clock: Clock) -> None:
        self._documents = documents
        self._clock = clock

    def now(self) -> datetime:
        """The current moment, from the injected clock."""
        return self._clock.now()

    async def load(self, *, collection: str, key: str) -> Document | None:
        """Returns a record, or None."""
        return await self._documents.get(collection=collection, key=key)

    async def find(self, *, collection: str, **where: Any) -> list[Document]:
        """Returns the records whose fields equal every value given."""
        return await self._documents.find(collection=collection, where=where)

    async def create(
        self, *, collection: str, key: str, actor: str, fields: Mapping[str, Any]
    ) -> Document:
        """Creates a record owned by the actor and audits it."""
        record: Document = {
            "key": key,
            "owner": actor,
            "created_at": self.now().isoformat(),
            "answers": {},
            **fields,
        }
        await self._put_audited(
            collection, record, actor=actor, action="create", record=f"{collection}/{key}"
        )
        return record

    async def worker(self, worker_id: str) -> Document:
        """Returns the worker's profile, empty if they have none yet."""
        found = await self._documents.get(collection=WORKERS, key=worker_id)
        return found or {"key": worker_id, "owner": worker_id, "answers": {}}

    async def store_answer(
        self,
        *,
        collection: str,
        record: Document,
        question: Question,
        value: Any,
        actor: str,
        complete: bool = True,
        copies: Sequence[tuple[str, Document]] = (),
    ) -> Document:
        """Stores one answer on the record with its clause, time and who gave it, and on each
        of copies (other records, by collection, that keep it too), all in one write."""
        entry = {
            "value": value,
            "clause": question.clause,
            "at": self.now().isoformat(),
            "by": actor,
            "complete": complete,
        }
        writes = []
        for where, document in [(collection, record), *copies]:
            updated = {**document, "answers": {**document.get("answers", {}), question.id: entry}}
            writes.append(Put(where, updated["key"], updated))
            writes.append(
                self._event(
                    {
                        "actor": actor,
                        "action": "answer",
                        "record": f"{where}/{updated['key']}",
                        "field": question.id,
                        "clause": question.clause,
                    }
                )
            )
        await self._documents.put_all(writes)
        return writes[0].document

    async def forget_answer(
        self, *, collection: str, record: Document, question_id: str, actor: str
    ) -> Document:
        """Removes one answer so it is asked again (the worker said back)."""
        updated = dict(record)
        updated["answers"] = {
            key: value for key, value in record.get("answers", {}).items() if key != question_id
        }
        await self._put_audited(
            collection,
            updated,
            actor=actor,
            action="forget",
            record=f"{collection}/{updated['key']}",
            field=question_id,
        )
        return updated

    async def update(
        self, *, collection: str, record: Document, changes: Mapping[str, Any], actor: str
    ) -> Document:
        """Sets top-level fields (status, approval, times) and audits which ones changed."""
        updated = {**record, **changes}
        await self._put_audited(
            collection,
            updated,
            actor=actor,
            action="update",
            record=f"{collection}/{updated['key']}",
            field=",".join(sorted(changes)),
        )
        return updated

    async def _put_audited(self, collection: str, document: Document, **event: str) -> None:
        # The record and its audit event in one write: the log never shows a change that
        # failed, and no change is stored without its event.
        await self._documents.put_all(
            [Put(collection, document["key"], document), self._event(event)]
        )

    async def audit(
        self,
        *,
        actor: str,
        action: str,
        record: str,
        field: str = "",
        clause: str = "",
        reason: str = "",
    ) -> None:
        """Appends an audit event: who, what record, which field, when, why; never the value."""
        event = self._event(
            {
                "actor": actor,
                "action": action,
                "record": record,
                "field": field,
                "clause": clause,
                "reason": reason,
            }
        )
        await self._documents.put(collection=AUDIT, key=event.key, document=event.document)

    def _event(self, details: Mapping[str, str]) -> Put:
        event_id = uuid.uuid4().hex
        now = self.now()
        return Put(
            AUDIT,
            event_id,
            {
                # The key lets the retention purge remove the event when its time is up; the
                # day lets it find a day's events without reading the whole log.
                "key": event_id,
                "day": now.astimezone(UTC).date().isoformat(),
                "at": now.isoformat(),
                **dict.fromkeys(EVENT_DETAILS, ""),
                **details,
            },
        )

    async def disclose(
        self, *, actor: str, record: str, field: str, clause: str = "", reason: str
    ) -> None:
        """Audits that a sensitive field group was shown to the actor, and why."""
        await self.audit(
            actor=actor, action=DISCLOSE, record=record, field=field, clause=clause, reason=reason
        )
