"""Everything held about one case reference: found for subject access, erased on request, held.

A case's records are its service user (keyed by the case reference), the sessions planned for
it (the reference is their `case_reference` answer), and the tasks, escalations and discussion
items raised from those sessions or naming the reference. The audit events about those records
are part of what is held, and stay when the records are erased: they hold ids, never values.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from safeguarding.escalations import ESCALATIONS
from safeguarding.journey import answer_of
from safeguarding.ports import Document, Documents
from safeguarding.records import AUDIT, SERVICE_USERS, SESSIONS, Records
from safeguarding.session_events import DISCUSSIONS, TASKS

LEGAL_HOLDS = "legal_holds"
# The collections whose records belong to a case, in the order a reader meets them.
CASE_COLLECTIONS = (SERVICE_USERS, SESSIONS, TASKS, ESCALATIONS, DISCUSSIONS)


class OnLegalHold(Exception):
    """The case is on legal hold: nothing about it may be erased until the hold is lifted."""


def session_cases(sessions: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Each session's key and the case reference it was planned for."""
    return {
        str(session["key"]): str(answer_of(session, "case_reference") or "")
        for session in sessions
        if "key" in session
    }


def case_of(collection: str, record: Mapping[str, Any], sessions: Mapping[str, str]) -> str:
    """The case reference a record is about, or '' when it names none."""
    if collection == SERVICE_USERS:
        return str(record.get("key") or "")
    if collection == SESSIONS:
        return str(answer_of(record, "case_reference") or "")
    named = record.get("case_reference")
    if named:
        return str(named)
    session = record.get("session") or record.get("session_key")
    return sessions.get(str(session), "") if session else ""


def is_held(hold: Mapping[str, Any] | None) -> bool:
    """Says whether a legal-hold record is in force (a lifted one stays until the next purge)."""
    return bool(hold and hold.get("held"))


@dataclass(frozen=True)
class CaseRecords:
    """What the store holds about one case reference."""

    case_reference: str
    records: dict[str, list[Document]]
    audit: list[Document]
    hold: Document | None

    @property
    def record_ids(self) -> list[str]:
        """Every record as the audit log names it: "sessions/S-7KQ2MX"."""
        return [
            f"{collection}/{record['key']}"
            for collection in CASE_COLLECTIONS
            for record in self.records.get(collection, [])
        ]

    def counts(self) -> dict[str, int]:
        """How many records of each kind, the audit events included."""
        counts = {
            collection: len(self.records.get(collection, [])) for collection in CASE_COLLECTIONS
        }
        return {**counts, AUDIT: len(self.audit)}

    @property
    def empty(self) -> bool:
        """Says whether nothing at all is held about the case."""
        return not self.record_ids and not self.audit and self.hold is None


async def find_case(documents: Documents, case_reference: str) -> CaseRecords:
    """Gathers every record about the case, and the audit events about each of them."""
    sessions = await documents.find(collection=SESSIONS)
    cases = session_cases(sessions)
    service_user = await documents.get(collection=SERVICE_USERS, key=case_reference)
    records: dict[str, list[Document]] = {
        SERVICE_USERS: [service_user] if service_user else [],
        SESSIONS: [s for s in sessions if cases.get(str(s.get("key"))) == case_reference],
    }
    for collection in (TASKS, ESCALATIONS, DISCUSSIONS):
        records[collection] = [
            record
            for record in await documents.find(collection=collection)
            if case_of(collection, record, cases) == case_reference
        ]
    ids = [f"{c}/{record['key']}" for c in CASE_COLLECTIONS for record in records[c]]
    # The service user's id too: refusals and holds name it even when there is no record.
    if f"{SERVICE_USERS}/{case_reference}" not in ids:
        ids.append(f"{SERVICE_USERS}/{case_reference}")
    audit: dict[str, Document] = {}
    for record_id in ids:
        for event in await documents.find(collection=AUDIT, where={"record": record_id}):
            audit[str(event.get("key") or id(event))] = event
    return CaseRecords(
        case_reference=case_reference,
        records=records,
        audit=sorted(audit.values(), key=lambda event: str(event.get("at", ""))),
        hold=await documents.get(collection=LEGAL_HOLDS, key=case_reference),
    )


async def erase_case(
    documents: Documents, records: Records, found: CaseRecords, *, actor: str, tombstone: str
) -> dict[str, int]:
    """Deletes every record about the case and leaves one audit event naming no one."""
    if is_held(found.hold):
        raise OnLegalHold(found.case_reference)
    erased: dict[str, int] = {}
    for collection in CASE_COLLECTIONS:
        for record in found.records.get(collection, []):
            if await documents.delete(collection=collection, key=str(record["key"])):
                erased[collection] = erased.get(collection, 0) + 1
    # A lifted hold stays until the next purge has dealt with the audit events it kept.
    await records.audit(
        actor=actor,
        action="erase",
        record=tombstone,
        field=",".join(f"{collection}={count}" for collection, count in sorted(erased.items())),
        reason="erasure_request",
    )
    return erased


async def set_hold(
    documents: Documents, records: Records, case_reference: str, *, on: bool, actor: str
) -> bool:
    """Puts the case on legal hold or lifts it, audited; False when it already was so."""
    current = await documents.get(collection=LEGAL_HOLDS, key=case_reference)
    if is_held(current) == on:
        return False
    now = records.now().isoformat()
    if on:
        hold: Document = {"key": case_reference, "held": True, "since": now, "by": actor}
    else:
        # Kept, lifted, until the next purge has caught up with the audit events the hold kept
        # (by then the records themselves may be gone, so their ids are noted here).
        found = await find_case(documents, case_reference)
        hold = {
            **(current or {}),
            "held": False,
            "lifted_at": now,
            "lifted_by": actor,
            "records": sorted({*found.record_ids, f"{SERVICE_USERS}/{case_reference}"}),
        }
    await documents.put(collection=LEGAL_HOLDS, key=case_reference, document=hold)
    await records.audit(
        actor=actor,
        action="legal_hold_on" if on else "legal_hold_off",
        record=f"{SERVICE_USERS}/{case_reference}",
        reason="legal_hold",
    )
    return True
