"""Whether a planned session may go ahead, and if not, every reason why."""

from collections.abc import Mapping
from typing import Any

from safeguarding.journey import answer_of
from safeguarding.service_user_setup import approval_outstanding

# In the order a worker should deal with them; each has a `blocker/<code>` template.
BLOCKERS = (
    "manager_approval_needed",
    "risk_assessment_missing",
    "consent_missing",
    "format_consent_missing",
)
RISK_QUESTIONS = ("risk_assessed_on", "risk_level", "risk_actions")


def blockers(session: Mapping[str, Any], service_user: Mapping[str, Any]) -> list[str]:
    """Lists what stops the session going ahead; an empty list means it is ready."""
    found: list[str] = []
    if approval_outstanding(dict(service_user)):
        found.append("manager_approval_needed")
    if any(answer_of(service_user, question) is None for question in RISK_QUESTIONS):
        found.append("risk_assessment_missing")
    entry = service_user.get("answers", {}).get("people") or {}
    # A list still being filled in (the worker stopped part-way through setup) is not consent.
    people = (entry.get("value") or []) if entry.get("complete", True) else []
    if not people or not all(person.get("consent_digital") is True for person in people):
        found.append("consent_missing")
    if answer_of(session, "format_consent") is not True:
        found.append("format_consent_missing")
    return found
