"""The case file is the record: a worker confirms a session's notes are copied there.

SafeSession is not the case file. Once a closed session's notes and actions are in the service
user's file, the worker says so (`notes copied`, then **Copied** on the session); the retention
purge deletes the session `sessions_days` later. Sessions never confirmed are listed as overdue.
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import DialogContext

from dialogs.cards import card_message
from dialogs.journey_dialog import worker_id
from safeguarding.clock import format_london, to_london
from safeguarding.journey import answer_of
from safeguarding.records import SESSIONS, Records
from safeguarding.retention import (
    CLOSED,
    RetentionPolicy,
    awaiting_case_file,
    closed_at,
    is_overdue,
    moment,
    purge_due,
)
from safeguarding.session_planning import readable_day
from templates import Templates

log = logging.getLogger("safesession.case_file")

# A card lists this many sessions at most, the longest-waiting first.
LISTED_AT_MOST = 10
SESSION_ID_MAX = 64


class CaseFile:
    """Lists the worker's sessions waiting to be copied, and records each one confirmed."""

    def __init__(self, *, records: Records, templates: Templates, policy: RetentionPolicy) -> None:
        self._records = records
        self._templates = templates
        self._policy = policy

    async def list_waiting(
        self, turn_context: TurnContext, _dialogs: DialogContext, _value: dict[str, Any]
    ) -> None:
        """Shows the worker's closed sessions not yet confirmed as copied, overdue ones first."""
        now = self._records.now()
        mine = await self._records.find(collection=SESSIONS, owner=worker_id(turn_context))
        waiting = sorted(
            (session for session in mine if awaiting_case_file(session)),
            key=lambda session: (closed_at(session) or now).isoformat(),
        )
        if not waiting:
            await turn_context.send_activity(self._templates.text("notes_copied_none"))
            return
        views = [
            {
                "key": str(session["key"]),
                "case_reference": str(answer_of(session, "case_reference") or "not recorded"),
                "ended": format_london(closed_at(session) or now),
                "overdue": is_overdue(session, self._policy, now),
            }
            for session in waiting[:LISTED_AT_MOST]
        ]
        card = self._templates.card(
            "notes_copied",
            sessions=views,
            more=len(waiting) - len(views),
            days=self._policy.sessions_days,
        )
        await turn_context.send_activity(card_message(card, "notes_copied"))

    async def confirm(
        self, turn_context: TurnContext, _dialogs: DialogContext, value: dict[str, Any]
    ) -> None:
        """Marks one of the worker's closed sessions as copied to the case file."""
        key = value.get("session")
        actor = worker_id(turn_context)
        session = None
        if isinstance(key, str) and 0 < len(key) <= SESSION_ID_MAX:
            session = await self._records.load(collection=SESSIONS, key=key)
        if session is None or session.get("owner") != actor:
            log.info(
                "refused a notes-copied confirmation in %s", turn_context.activity.conversation.id
            )
            await self._records.audit(
                actor=actor,
                action="refused",
                record=f"{SESSIONS}/{session['key'] if session else 'unknown'}",
                field="notes_copied",
            )
            await turn_context.send_activity(self._templates.text("card_not_understood"))
            return
        if session.get("status") not in CLOSED:
            await turn_context.send_activity(
                self._templates.text("notes_copied_not_closed", session=session["key"])
            )
            return
        copied = moment(session.get("copied_to_case_file_at"))
        already = copied is not None
        if copied is None:
            copied = self._records.now()
            await self._records.update(
                collection=SESSIONS,
                record=session,
                changes={"copied_to_case_file_at": copied.isoformat()},
                actor=actor,
            )
        await turn_context.send_activity(
            self._templates.text(
                "notes_copied_done",
                session=session["key"],
                already=already,
                delete_on=self._delete_on(copied),
            )
        )

    def _delete_on(self, copied: datetime) -> str:
        """The day the nightly purge removes a session confirmed at that moment."""
        expires = copied + timedelta(days=self._policy.sessions_days)
        day = to_london(expires).date()
        if purge_due(day) < expires:
            day += timedelta(days=1)
        return readable_day(day)
