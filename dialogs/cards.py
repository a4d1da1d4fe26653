"""Turns rendered templates into the Teams messages that carry them: cards, and text to copy."""

import re
from typing import Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity


def card_message(card: dict[str, Any], name: str) -> Activity:
    """Wraps an Adaptive Card in a message; the attachment is named after its template."""
    attachment = CardFactory.adaptive_card(card)
    attachment.name = name
    message: Activity = MessageFactory.attachment(attachment)
    return message


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~])")


def copyable_message(text: str) -> Activity:
    """A message to copy into a text or email: every line kept, nothing read as formatting.

    Teams renders plain-text messages as one run-on paragraph in some clients, so the text goes
    as markdown with each line its own paragraph and every markdown character escaped.
    """
    lines = [_MARKDOWN_SPECIALS.sub(r"\\\1", line) for line in text.split("\n")]
    message: Activity = MessageFactory.text("\n\n".join(line for line in lines if line.strip()))
    message.text_format = "markdown"
    return message
