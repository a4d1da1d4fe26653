"""Emergency escalations (D1): what is raised, who may act on it, and when to chase it."""

import secrets
from datetime import datetime, timedelta
from typing import Any

from safeguarding.journey import Choice
from safeguarding.validation import readable_uk_phone

ESCALATIONS = "escalations"
CONFIG = "config"
MANAGER_CHANNEL_KEY = "manager_channel"
KINDS = (
    Choice("child_in_danger", "Immediate danger to the child"),
    Choice("other_in_danger", "Immediate danger to someone else"),
    Choice("worker_unsafe", "I am unsafe"),
    Choice("other", "Something else"),
)
KIND_TITLES = {choice.value: choice.title for choice in KINDS}
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_reference(prefix: str) -> str:
    """Makes a short reference people can read out on the phone (no 0/O or 1/I)."""
    return prefix + "-" + "".join(secrets.choice(_ALPHABET) for _ in range(6))


def renotify_key(escalation_key: str, attempt: int) -> str:
    """The job key of one re-notification, so each attempt is scheduled exactly once."""
    return f"renotify:{escalation_key}:{attempt}"


def delivery_key(escalation_key: str) -> str:
    """The job key of the first delivery to the manager channel."""
    return f"deliver:{escalation_key}"


def renotify_at(raised_at: datetime, *, minutes: float, attempt: int) -> datetime:
    """When re-notification number `attempt` (1, 2, …) falls due after the escalation."""
    return raised_at + timedelta(minutes=minutes * attempt)


def is_open(escalation: dict[str, Any]) -> bool:
    """Says whether nobody has acknowledged or resolved the escalation yet."""
    return escalation.get("status") in ("raised", "posted")


def channel_view(escalation: dict[str, Any]) -> dict[str, Any]:
    """What the manager channel may see: no address, date of birth, safe word or child's name."""
    return {
        "key": escalation["key"],
        "worker_name": escalation["worker_name"],
        "worker_teams_id": escalation["worker_teams_id"],
        "session_key": escalation.get("session_key") or "none recorded",
        "case_reference": escalation.get("case_reference") or "none recorded",
        "kind": KIND_TITLES.get(escalation.get("kind") or "", "Not given yet"),
        "raised_at": escalation["raised_at_text"],
        "callback_number": _readable(escalation.get("callback_number")) or "not on file",
        "status": escalation["status"],
        "acknowledged_by": escalation.get("acknowledged_by_name", ""),
        "acknowledged_at": escalation.get("acknowledged_at_text", ""),
        "resolved_by": escalation.get("resolved_by_name", ""),
        "renotified": escalation.get("renotified", 0),
    }


def _readable(number: Any) -> str:
    """A stored E.164 number as people read it out ("07700 900123")."""
    return readable_uk_phone(number) if isinstance(number, str) and number.startswith("+") else ""
