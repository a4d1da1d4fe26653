"""A flood from one conversation is slowed with one kind message; others and emergencies are not.

The limit is a token bucket per conversation in each process (SAFESESSION_RATE_LIMIT_PER_MINUTE,
SAFESESSION_RATE_LIMIT_BURST). The clock stands still here, so no token comes back until the
test moves it on.
"""

import pytest

from templates import Templates
from tests.attack.conftest import Site, SiteFactory
from tests.http_chat import HttpChat

LIMITS = {"SAFESESSION_RATE_LIMIT_PER_MINUTE": "30", "SAFESESSION_RATE_LIMIT_BURST": "5"}
FLOOD = 200
SLOW_DOWN = Templates().text("slow_down")


@pytest.fixture
async def limited(open_site: SiteFactory) -> Site:
    return await open_site(**LIMITS)


def kinds(person: HttpChat) -> list[str]:
    """What the person was sent, in order: card names, or the text."""
    return [
        reply["attachments"][0]["name"] if reply.get("attachments") else reply["text"]
        for reply in person.new_replies()
    ]


async def flood(person: HttpChat, times: int = FLOOD) -> None:
    for _ in range(times):
        assert await person.says("help") == 201


async def test_a_flood_gets_one_kind_message_then_silence_and_others_carry_on(
    limited: Site,
) -> None:
    flooder, neighbour = limited.person("flooder"), limited.person("worker-1")
    await flood(flooder)
    assert kinds(flooder) == ["help"] * 5 + [SLOW_DOWN]
    assert await neighbour.says("help") == 201
    assert kinds(neighbour) == ["help"]

    limited.later(minutes=0.1)  # three tokens back at 30 a minute
    await flood(flooder, 10)
    assert kinds(flooder) == ["help"] * 3 + [SLOW_DOWN]
    # Only what got through was remembered: the neighbour's one, the flooder's 5 + 3.
    seen = await limited.documents("seen_activities")
    assert sorted(len(record["seen"]) for record in seen) == [1, 5 + 3]


@pytest.mark.parametrize(
    "emergency",
    [
        {"text": "emergency"},
        {"text": "  SOS! "},
        {"value": {"action": "emergency"}},
        {"value": {"action": "safe_word_used", "session": "S-NONE01"}},
    ],
)
async def test_emergencies_are_never_rate_limited(
    limited: Site, emergency: dict[str, object]
) -> None:
    worker = limited.person("worker-1")
    await flood(worker)
    worker.new_replies()
    assert await worker.post(worker.activity(**emergency)) == 201
    assert worker.new_replies() != []
    if emergency.get("text") or emergency["value"] == {"action": "emergency"}:
        [alert] = await limited.documents("escalations")
        assert alert["worker"] == "aad-worker-1"


async def test_emergency_mid_journey_gets_through_a_flood(limited: Site) -> None:
    worker = limited.person("worker-1")
    await worker.says("new service user")
    await flood(worker)
    worker.new_replies()
    assert await worker.says("emergency") == 201
    assert "call 999" in worker.new_replies()[0]["text"]
    assert len(await limited.documents("escalations")) == 1


async def test_a_channels_threads_share_one_limit(limited: Site) -> None:
    threads = [limited.person("manager", "Alex Manager", channel=True) for _ in range(8)]
    for person in threads:
        assert await person.says("manager channel") == 201
    replies = threads[0].new_replies()  # every thread's replies land in the one channel
    assert [reply["text"] for reply in replies][-1] == SLOW_DOWN
    assert len(replies) == 5 + 1
