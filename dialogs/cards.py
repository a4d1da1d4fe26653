"""Turns a rendered card template into the Teams message that carries it."""

from typing import Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity


def card_message(card: dict[str, Any], name: str) -> Activity:
    """Wraps an Adaptive Card in a message; the attachment is named after its template."""
    attachment = CardFactory.adaptive_card(card)
    attachment.name = name
    message: Activity = MessageFactory.attachment(attachment)
    return message
