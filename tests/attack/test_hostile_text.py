"""Answers written to break templates and cards are stored, and shown back, exactly as typed.

Template syntax, quotes, braces, backslashes, markdown, HTML, `<at>` tags, right-to-left
overrides, emoji and long Unicode go in as the names, case reference, address and notes of every
journey, over HTTP. Whatever reaches Teams is valid: every card the stub connector receives is an
Adaptive Card, and each value appears as typed (less the invisible format characters the readers
drop), never evaluated. The worker's own free text comes back as plain text, not markdown.
"""

import json
import re
from typing import Any

from dialogs.cards import copyable_message
from safeguarding.validation import parse_address, parse_case_reference, parse_text
from templates import Templates
from tests.attack.conftest import Site
from tests.attack.walk import (
    People,
    line_manager,
    normal_ending,
    planning,
    session_start,
    setup,
    the_session,
    walk,
)
from tests.http_chat import TEAM_CHANNEL

JINJA = "{{ 7*7 }}"
RTL = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: the readers drop it
HOSTILE = People(
    case_reference=JINJA + "{% raw %}<b>\"'\\",
    child_name=f"Zoë {JINJA} O'Neil-**Bold** <at>Sam</at> 🙂",
    guardian="Sam {% raw %}{{ x }}{% endraw %} <i>Example</i>, mother",
    person_present=f"Jo [link](https://example.org) {RTL}Example\u202c {JINJA}, aunt",
    address=f'Flat {JINJA}, 10 "Example" Street <script>x</script>, {RTL}Leeds\u202c 🙂, LS1 4AP',
    worker_name=f'Jo {JINJA} "Worker" <at>x</at>',
    safe_word="{{ periwinkle|upper }}",
    risk_actions="{% for x in range(9) %}{{ x }}{% endfor %} ```code``` \\ \"'",
    contact_plan=f"Call back {JINJA} {{% if true %}}x{{% endif %}} `code` ~~no~~ \\n <at>Alex</at> "
    + "مرحبا " * 10
    + "🙂" * 50,
    amendment=(f"{RTL}RTL 🙂 {JINJA} ] }} {{ " * 24)[:500],
    actions_agreed=f"# Heading\n> quote\n- {JINJA}",
    session_content=(f"🙂 {JINJA} **md** <b>html</b> \\\" ' " * 30)[:1000],
    family_tasks="{% raw %}{{ 7*7 }}{% endraw %} \\\" ' }}{{",
)


def free(text: str) -> str:
    """A free-text answer as the readers store it (spaces folded, format characters dropped)."""
    return parse_text(text, max_length=10_000)


def strings(value: Any) -> list[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings(item)]
    return []


def texts_of(activity: dict[str, Any]) -> list[str]:
    """What a person can read in an activity: its text and every string on its cards."""
    return strings(read(activity)) + strings(activity.get("attachments"))


def read(activity: dict[str, Any]) -> Any:
    """The text as Teams shows it: escaped markdown unescaped, its paragraphs as lines."""
    text = activity.get("text")
    if activity.get("textFormat") != "markdown" or not isinstance(text, str):
        return text
    return re.sub(r"\\(.)", r"\1", text).replace("\n\n", "\n")


def literal(activity: dict[str, Any]) -> bool:
    """Plain text, or markdown in which every formatting character was escaped."""
    if activity.get("textFormat") == "plain":
        return True
    return (
        activity.get("textFormat") == "markdown"
        and copyable_message(read(activity)).text == activity["text"]
    )


async def test_hostile_answers_are_kept_and_shown_exactly_as_typed(site: Site) -> None:
    admin = site.person("admin", "Jo Admin", channel=True)
    manager, manager_in_channel = (
        site.person("manager", "Alex Manager"),
        site.person("manager", "Alex Manager", channel=True),
    )
    worker = site.person("worker-1")
    await admin.says("set manager channel")
    await manager.says("hi")
    manager.new_replies()

    for steps in (setup(HOSTILE), line_manager(HOSTILE), planning(HOSTILE)):
        await walk(worker, steps)
    await walk(worker, session_start(HOSTILE))
    session = await the_session(site)
    await walk(worker, [{"action": "connection_lost", "session": session}])
    site.later(5)
    assert await site.scheduler.run_due() == 1
    await walk(worker, [{"action": "emergency", "session": session}])
    [alert] = await site.documents("escalations")
    await manager_in_channel.presses({"action": "show_location", "escalation": alert["key"]})
    await walk(worker, normal_ending(HOSTILE, session))

    case_reference = parse_case_reference(HOSTILE.case_reference)
    address = parse_address(HOSTILE.address)
    [service_user] = await site.documents("service_users")
    [record] = [s for s in await site.documents("sessions") if s["key"] == session]
    answers = {q: e["value"] for q, e in {**service_user["answers"], **record["answers"]}.items()}
    assert service_user["key"] == case_reference == HOSTILE.case_reference
    assert answers["full_name"] == free(HOSTILE.child_name)
    assert answers["safe_word"] == HOSTILE.safe_word
    assert answers["risk_actions"] == free(HOSTILE.risk_actions)
    assert answers["contact_plan"] == free(HOSTILE.contact_plan)
    assert answers["session_content"] == free(HOSTILE.session_content)
    assert answers["address_today"] == {"lines": list(address.lines), "postcode": "LS1 4AP"}
    assert address.lines[-1] == "Leeds 🙂"  # the override went, the emoji stayed

    sent = site.connector.posted + site.connector.updated
    assert Templates().text("unexpected_error") not in [a.get("text") for a in sent]
    cards = [attachment for a in sent for attachment in a.get("attachments") or []]
    assert cards, "the walk sent cards"
    for card in cards:
        assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
        assert card["content"]["type"] == "AdaptiveCard"
        assert json.loads(json.dumps(card["content"])) == card["content"]
    shown = [text for a in sent for text in texts_of(a)]

    def shown_as_typed(value: str) -> list[dict[str, Any]]:
        assert any(value in text for text in shown), f"{value!r} is never shown"
        assert not any(value.replace(JINJA, "49") in text for text in shown)
        return [a for a in sent if any(value in text for text in texts_of(a))]

    shown_as_typed(case_reference)  # prompts, the in-session card, the channel's alert card
    for typed in (
        free(HOSTILE.worker_name),  # the pre-session and follow-up messages
        free(HOSTILE.amendment),  # the pre-session message
        free(HOSTILE.session_content),  # the follow-up message
        free(HOSTILE.family_tasks),
        ", ".join([*address.lines, address.postcode]),  # the location, to the manager only
    ):
        assert all(literal(a) for a in shown_as_typed(typed)), typed
    # The contact plan: on the lost-connection card, and as plain text five minutes later.
    plan = free(HOSTILE.contact_plan)
    assert [a.get("textFormat") for a in shown_as_typed(plan) if not a.get("attachments")] == [
        "plain"
    ]
    # What is never shown back is not shown at all, literally or evaluated.
    for secret in (HOSTILE.safe_word, free(HOSTILE.child_name), free(HOSTILE.risk_actions)):
        assert not any(secret in text for text in shown), secret
    assert not any("PERIWINKLE" in text for text in shown)
    assert not any(TEAM_CHANNEL in a["_conversation"] and "Leeds" in str(a) for a in sent)
