"""One contact at a time (E4): a warning before a second session, and pausing and resuming one.

Starting or planning while a session is running shows who the worker is with and offers to
pause or end it first, with a reminder to tell the person. A paused session (status "paused",
`paused_at`) keeps its in-session card; its buttons ask for it to be resumed first, and Resume
puts it back to "started" with the paused time added to `paused_minutes`.
"""

import logging
from datetime import datetime
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.dialogs import DialogContext

from bot.session_events import SessionEvents
from dialogs.cards import card_message
from dialogs.journey_dialog import JourneyServices, worker_id
from safeguarding.clock import to_london
from safeguarding.journey import answer_of
from safeguarding.ports import Document
from safeguarding.records import SESSIONS
from safeguarding.self_care import in_progress, paused_minutes

log = logging.getLogger("safesession.one_contact")

# What the worker was trying to do when warned; it carries on once the other session is paused.
NEXT_STEPS = frozenset({"start_session", "plan_session"})
SESSION_KEY_MAX = 64


class OneContact:
    """Keeps one session running at a time, and pauses and resumes sessions."""

    def __init__(self, *, services: JourneyServices, session_events: SessionEvents) -> None:
        self._records = services.records
        self._templates = services.templates
        self._session_events = session_events

    async def busy(self, turn_context: TurnContext, *, then: str) -> bool:
        """Warns and offers to pause or end a running session; True if one is running."""
        running = in_progress(
            await self._records.find(
                collection=SESSIONS, owner=worker_id(turn_context), status="started"
            )
        )
        if not running:
            return False
        session = running[0]
        await self._send_card(
            turn_context,
            "one_contact",
            session=str(session["key"]),
            case_reference=str(answer_of(session, "case_reference") or ""),
            started_time=_clock(session.get("started_at")),
            then=then if then in NEXT_STEPS else "",
        )
        return True

    async def pause(self, turn_context: TurnContext, value: dict[str, Any]) -> str | None:
        """Pauses the worker's running session; returns what they wanted to do next, if any."""
        session = await self._own(turn_context, value, status="started")
        if session is None:
            return None
        now = self._records.now()
        await self._records.update(
            collection=SESSIONS,
            record=session,
            changes={"status": "paused", "paused_at": now.isoformat()},
            actor=worker_id(turn_context),
        )
        await self._send_card(
            turn_context,
            "session_paused",
            session=str(session["key"]),
            case_reference=str(answer_of(session, "case_reference") or ""),
            paused_time=_clock(now.isoformat()),
        )
        then = value.get("then")
        return then if isinstance(then, str) and then in NEXT_STEPS else None

    async def resume(
        self, turn_context: TurnContext, _dialogs: DialogContext, value: dict[str, Any]
    ) -> None:
        """Puts a paused session back to running and shows its in-session card again."""
        session = await self._own(turn_context, value, status="paused")
        if session is None or await self.busy(turn_context, then=""):
            return
        session = await self._resumed(turn_context, session)
        await turn_context.send_activity(
            self._templates.text("session_resumed", case_reference=_case(session))
        )
        await self._send_card(
            turn_context,
            "in_session",
            session=str(session["key"]),
            case_reference=_case(session),
            started_time=_clock(session.get("started_at")),
        )

    async def end_paused(
        self, turn_context: TurnContext, dialog_context: DialogContext, value: dict[str, Any]
    ) -> None:
        """Ends a paused session the usual way: how it ended, actions and the follow-up."""
        session = await self._own(turn_context, value, status="paused")
        if session is None:
            return
        await self._resumed(turn_context, session)
        await self._session_events.end_session(turn_context, dialog_context, value)

    async def _resumed(self, turn_context: TurnContext, session: Document) -> Document:
        now = self._records.now()
        return await self._records.update(
            collection=SESSIONS,
            record=session,
            changes={
                "status": "started",
                "paused_at": None,
                "paused_minutes": paused_minutes(session, now),
            },
            actor=worker_id(turn_context),
        )

    async def _own(
        self, turn_context: TurnContext, value: dict[str, Any], *, status: str
    ) -> Document | None:
        key = value.get("session")
        session = None
        if isinstance(key, str) and 0 < len(key) <= SESSION_KEY_MAX:
            session = await self._records.load(collection=SESSIONS, key=key)
        if (
            session is not None
            and session.get("owner") == worker_id(turn_context)
            and session.get("status") == status
        ):
            return session
        log.info(
            "refused a pause or resume in conversation %s", turn_context.activity.conversation.id
        )
        await turn_context.send_activity(self._templates.text("pause_refused", wanted=status))
        return None

    async def _send_card(self, turn_context: TurnContext, name: str, **context: Any) -> None:
        await turn_context.send_activity(card_message(self._templates.card(name, **context), name))


def _case(session: Document) -> str:
    return str(answer_of(session, "case_reference") or "")


def _clock(raw: Any) -> str:
    """A stored moment as the worker's clock shows it ("10:05"), or '' if there is none."""
    if not isinstance(raw, str):
        return ""
    try:
        return f"{to_london(datetime.fromisoformat(raw)):%H:%M}"
    except ValueError:
        return ""
