"""Small readers of Teams activity details, tolerant of missing fields."""

from typing import Any

from botbuilder.schema import Activity, ActivityEventNames, ActivityTypes


def is_proactive(activity: Activity) -> bool:
    """Says whether the turn is the bot's own continuation of a stored conversation.

    The HTTP edge refuses such an activity from outside, so only the bot can start one.
    """
    return (
        activity.type == ActivityTypes.event
        and activity.name == ActivityEventNames.continue_conversation
    )


def tenant_id(activity: Activity) -> str:
    """Returns the Entra tenant the activity came from, or '' when Teams did not say."""
    conversation = activity.conversation
    if conversation is not None and getattr(conversation, "tenant_id", None):
        return str(conversation.tenant_id)
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant")
    return str(tenant.get("id", "")) if isinstance(tenant, dict) else ""


def conversation_scope(activity: Activity) -> str:
    """Returns 'personal', 'channel' or 'groupChat' for the activity's conversation."""
    conversation = activity.conversation
    kind = getattr(conversation, "conversation_type", None) if conversation else None
    return str(kind or "personal")


def text_without_mentions(activity: Activity) -> str:
    """Returns the typed text with any @mention of the bot taken out."""
    text = activity.text or ""
    bot_id = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        properties: dict[str, Any] = getattr(entity, "additional_properties", None) or {}
        mentioned = properties.get("mentioned")
        if getattr(entity, "type", "") != "mention" or not isinstance(mentioned, dict):
            continue
        if mentioned.get("id") == bot_id and isinstance(properties.get("text"), str):
            text = text.replace(properties["text"], " ")
    return text.strip()


def card_action(activity: Activity) -> tuple[str, dict[str, Any]] | None:
    """Returns (action, values) for a card submit, ('', {}) for a garbled one, None for typing."""
    value = activity.value
    if value is None:
        return None
    if not isinstance(value, dict):
        return "", {}
    action = value.get("action")
    return (action, value) if isinstance(action, str) else ("", {})
