"""The fast activity serializer and reader make exactly what msrest makes, or leave it to msrest.

Writing, three corpora: every activity the bot hands the connector while three workers and the
managers do everything over real HTTP (tests/attack/test_logs.py's walk, the Teams fixtures and
every command); hand-made activities with each kind of field the SDK can fill; and random
activities built from the models' own attribute maps, clean and with wrong-typed values mixed in.

Reading, the same way: every payload the bot is sent on that walk, the Teams fixtures and what the
transcript helpers send; hand-made payloads with each kind of field Teams sends, and the shapes
msrest converts or refuses (left to it); random payloads from the attribute maps, clean, messy
and the attack suite's. The two graphs are compared object by object (tests/msrest_reads.py) and
through msrest's own serializer. tests/conftest.py reads every payload any test posts both ways.
"""

import copy
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AttachmentLayoutTypes,
    CardAction,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    Entity,
    HeroCard,
    InputHints,
    Mention,
    RoleTypes,
    SemanticAction,
    SuggestedActions,
    TextFormatTypes,
    TextHighlight,
)
from botbuilder.schema.teams import (
    ChannelInfo,
    TeamInfo,
    TeamsChannelAccount,
    TeamsChannelData,
    TenantInfo,
)
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msrest.exceptions import DeserializationError
from msrest.serialization import Model

import bot.connectors
import bot.http
from app import create_app
from bot.activity_json import KNOWN_TYPES, activity_from_json, activity_json, model_from_json
from bot.commands import COMMANDS
from dialogs.cards import card_message, copyable_message
from safeguarding.clock import FixedClock
from storage import memory_stores, open_embedded
from tests.attack.conftest import ENV, Site
from tests.attack.test_fuzz import json_value as fuzz_json
from tests.attack.test_fuzz import mutated_activity
from tests.attack.test_logs import everything_happens
from tests.conftest import Served, make_settings
from tests.journeys import NOW, journey_chat
from tests.msrest_reads import read_both
from tests.stub_connector import StubConnector
from tests.transcript import FIXTURES, TENANT
from tests.transcript import fixture as transcript_fixture

SERIALIZER = ConnectorClient(MicrosoftAppCredentials.empty(), base_url="https://x/")._serialize


def msrest_json(activity: Any) -> str:
    """What msrest sends for an activity (its body() rewrites lists in place: use a copy)."""
    return json.dumps(SERIALIZER.body(copy.deepcopy(activity), "Activity"))


def assert_fast_and_exact(activity: Any) -> None:
    fast = activity_json(activity)
    assert fast is not None, "the fast serializer gave up on an activity the bot sends"
    assert json.dumps(fast) == msrest_json(activity)


# -- Everything the bot sends, over HTTP ---------------------------------------------------------


class Capture:
    """Stands in for bot.connectors.activity_json and keeps a copy of each activity it is given."""

    def __init__(self) -> None:
        self.activities: list[Any] = []

    def __call__(self, activity: Any) -> dict[str, Any] | None:
        self.activities.append(copy.deepcopy(activity))
        return activity_json(activity)


@pytest.fixture
async def site(tmp_path: Path, connector: StubConnector) -> AsyncIterator[Site]:
    """The bot as the attack suite serves it: embedded store, fixed clock, managers and admins."""
    env = {**ENV, "SAFESESSION_ALLOWED_TENANTS": TENANT}
    stores = open_embedded(tmp_path / "store")
    clock = FixedClock(NOW)
    app = create_app(
        make_settings(tmp_path, **env), stores=stores, clock=clock, run_scheduler=False
    )
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    served = Served(server, ClientSession(), stores)
    yield Site(served, connector, clock, tmp_path, env)
    await served.session.close()
    await served.server.close()


async def teams_fixtures_and_commands(site: Site) -> None:
    """Installs, @mentions, card submits and every command, as Teams sends them."""
    worker = site.person("worker-9", "Nine Worker")
    for name in sorted(path.stem for path in FIXTURES.glob("*.json")):
        payload = json.loads((FIXTURES / f"{name}.json").read_text())
        payload.update(serviceUrl=site.connector.service_url, id=f"f:{uuid.uuid4().hex}")
        assert await worker.post(payload) in (200, 201)
    for command in COMMANDS:
        await worker.says(command.name)
        await worker.says("cancel")


async def test_every_activity_the_bot_sends_is_serialized_exactly(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    capture = Capture()
    monkeypatch.setattr(bot.connectors, "activity_json", capture)
    await everything_happens(site)
    await teams_fixtures_and_commands(site)

    sent = capture.activities
    assert len(sent) > 200, "the walk stopped early"
    # Replies (text and cards), and proactive cards (posted without a reply-to id).
    assert {(bool(a.attachments), bool(a.reply_to_id)) for a in sent} >= {
        (False, True),
        (True, True),
        (True, False),
    }
    assert any(";messageid=" in a.conversation.id for a in sent), "nothing in the channel"
    assert any(a.text_format == "markdown" for a in sent)
    assert any(a.text_format == "plain" for a in sent)
    for activity in sent:
        assert_fast_and_exact(activity)


# -- Hand-made: each kind of field ---------------------------------------------------------------

BOT = ChannelAccount(id="28:safesession-bot", name="SafeSession", role=RoleTypes.bot)
USER = ChannelAccount(id="29:worker", name="Sam Worker", aad_object_id="aad-worker", role="user")
CHAT = ConversationAccount(
    id="a:personal-worker", conversation_type="personal", tenant_id=TENANT, is_group=False
)


def addressed(activity: Activity, **fields: Any) -> Activity:
    """The activity as TurnContext addresses a reply."""
    activity.channel_id = "msteams"
    activity.service_url = "https://smba.trafficmanager.net/uk/"
    activity.conversation = CHAT
    activity.from_property = BOT
    activity.recipient = USER
    activity.reply_to_id = "f:1732610000000"
    activity.locale = "en-GB"
    for name, value in fields.items():
        setattr(activity, name, value)
    return activity


def card() -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": "Zoë — “quoted” ✓ 🚸", "wrap": True}],
        "actions": [{"type": "Action.Submit", "title": "Yes", "data": {"action": "answer"}}],
        "msteams": {"width": "Full"},
        "minHeight": 0,
        "ratio": 0.5,
        "nothing": None,
        "empty": {},
        "list": [],
    }


HAND_MADE: dict[str, Callable[[], Activity]] = {
    "plain text": lambda: addressed(MessageFactory.text("Type **help**")),
    "text with enums": lambda: addressed(
        Activity(type=ActivityTypes.message, text="hi", input_hint=InputHints.accepting_input),
        text_format=TextFormatTypes.markdown,
    ),
    "suggested actions": lambda: addressed(
        MessageFactory.suggested_actions(
            [CardAction(type="imBack", title="Yes", value="yes"), CardAction(title="No")],
            text="Shall we?",
        ),
        suggested_actions=SuggestedActions(
            to=["29:worker"], actions=[CardAction(type="imBack", title="Yes", value={"a": 1})]
        ),
    ),
    "adaptive card": lambda: addressed(card_message(card(), "question")),
    "copyable text": lambda: addressed(copyable_message("Flat 2\n10 Example Street (rear)")),
    "hero card carousel": lambda: addressed(
        MessageFactory.carousel(
            [CardFactory.hero_card(HeroCard(title="A", buttons=[CardAction(title="Go")]))] * 2
        )
    ),
    "mention entities": lambda: addressed(
        MessageFactory.text("<at>Alex Manager</at> please look"),
        entities=[
            Mention(
                mentioned=ChannelAccount(id="29:manager", name="Alex Manager"),
                text="<at>Alex Manager</at>",
                type="mention",
            ),
            Entity(type="clientInfo"),
        ],
    ),
    "channel data as a dict": lambda: addressed(
        MessageFactory.text("hi"),
        channel_data={"notification": {"alert": True}, "tenant": {"id": TENANT}, "n": 1.5},
    ),
    "channel data as a model": lambda: addressed(
        MessageFactory.text("hi"),
        channel_data=TeamsChannelData(
            channel=ChannelInfo(id="19:c@thread.tacv2", name="Managers"),
            team=TeamInfo(id="19:t@thread.tacv2"),
            tenant=TenantInfo(id=TENANT),
        ),
    ),
    "channel conversation": lambda: addressed(
        MessageFactory.text("hi"),
        conversation=ConversationAccount(
            id="19:managers@thread.tacv2;messageid=1732600000001",
            conversation_type="channel",
            is_group=True,
            tenant_id=TENANT,
            properties={"x": [1, None, "y"]},
        ),
        recipient=TeamsChannelAccount(id="29:m", name="M", email="m@example.org"),
    ),
    "timestamps": lambda: addressed(
        MessageFactory.text("hi"),
        timestamp=datetime(2026, 11, 26, 10, 0, tzinfo=UTC),
        local_timestamp=datetime(
            2026, 11, 26, 23, 30, 0, 120000, tzinfo=timezone(timedelta(hours=13))
        ),
        expiration=datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-1))),
        local_timezone="Europe/London",
    ),
    "value and the rest": lambda: addressed(
        Activity(
            type=ActivityTypes.event,
            name="safesession/ping",
            value={"action": "help", "nested": [{"deep": [True, False, None]}], "big": 10**20},
            value_type="application/json",
            attachment_layout=AttachmentLayoutTypes.list,
            members_added=[USER, None],
            history_disclosed=False,
            listen_for=["yes", "no"],
            text_highlights=[TextHighlight(text="x", occurrence=1)],
            semantic_action=SemanticAction(id="s", entities={"e": Entity(type="t"), "n": None}),
            relates_to=ConversationReference(
                activity_id="1", user=USER, bot=BOT, conversation=CHAT
            ),
            importance="high",
            delivery_mode="normal",
            caller_id="urn:botframework:azure",
            summary="",
            speak="",
        )
    ),
    "empty": lambda: Activity(),
}


@pytest.mark.parametrize("name", sorted(HAND_MADE))
def test_each_kind_of_field_is_serialized_exactly(name: str) -> None:
    assert_fast_and_exact(HAND_MADE[name]())


class Level(Enum):
    LOW = 1


NOT_EXACT: dict[str, Callable[[], Activity]] = {
    "a naive datetime": lambda: Activity(timestamp=datetime(2026, 11, 26, 10, 0)),
    "a datetime as text": lambda: Activity(timestamp="2026-11-26T10:00:00Z"),
    "a dict where a model belongs": lambda: Activity(conversation={"id": "a:1", "isGroup": True}),
    "a dict in a list of models": lambda: Activity(entities=[{"type": "mention"}]),
    "a tuple for a list": lambda: Activity(listen_for=("yes",)),
    "a number for text": lambda: Activity(text=5),
    "an enum that is not text": lambda: Activity(text=Level.LOW),
    "a number for a bool": lambda: Activity(history_disclosed=1),
    "a bool for a number": lambda: Activity(text_highlights=[TextHighlight(occurrence=True)]),
    "a date in the value": lambda: Activity(value={"on": date(2026, 11, 26)}),
    "a decimal in the value": lambda: Activity(value=[Decimal("1.5")]),
    "a set in the value": lambda: Activity(value={"a"}),
    "a non-text key": lambda: Activity(value={1: "one"}),
    "an enum in channel data": lambda: Activity(channel_data={"type": ActivityTypes.message}),
    "not an activity": lambda: None,
}


@pytest.mark.parametrize("name", sorted(NOT_EXACT))
def test_what_it_cannot_match_exactly_is_left_to_msrest(name: str) -> None:
    assert activity_json(NOT_EXACT[name]()) is None


# -- Random activities, from the models' attribute maps ------------------------------------------

TEXT_ENUMS = [member for kind in (ActivityTypes, InputHints, TextFormatTypes) for member in kind]
OFFSETS = [
    UTC,
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=-12)),
    timezone(timedelta(hours=14)),
    timezone(timedelta(seconds=3725, microseconds=250)),
]
SUBCLASSES: dict[str, list[type]] = {"Entity": [Mention], "ChannelAccount": [TeamsChannelAccount]}
WRONG = [
    datetime(2026, 1, 1, 9, 30),
    datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
    "2026-11-26T10:00:00Z",
    ("a", "b"),
    {"id": "x", "name": "from a dict"},
    [{"type": "mention"}],
    7,
    2.5,
    True,
    Level.LOW,
    date(2026, 1, 1),
    Decimal("2.50"),
    b"bytes",
    {1: "one"},
    frozenset({"x"}),
]


def text() -> st.SearchStrategy[Any]:
    return st.text(max_size=12) | st.sampled_from(TEXT_ENUMS)


def moments(*, wide: bool) -> st.SearchStrategy[datetime]:
    low, high = (
        (datetime(1, 1, 1), datetime(9999, 12, 31))
        if wide
        else (datetime(2, 1, 1), datetime(9998, 12, 31))
    )
    return st.datetimes(min_value=low, max_value=high, timezones=st.sampled_from(OFFSETS))


SIMPLE: dict[str, Callable[[int, bool], st.SearchStrategy[Any]]] = {
    "str": lambda depth, messy: text(),
    "bool": lambda depth, messy: st.booleans(),
    "int": lambda depth, messy: st.integers(),
    "float": lambda depth, messy: st.floats(),
    "iso-8601": lambda depth, messy: moments(wide=messy),
    "object": lambda depth, messy: json_values(depth),
}


def free_json(depth: int, *, with_models: bool = False) -> st.SearchStrategy[Any]:
    leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
    if depth <= 0:
        return leaves
    inner = free_json(depth - 1, with_models=with_models)
    values = (
        leaves
        | st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    )
    return values | models("ChannelAccount", depth - 1) if with_models else values


def json_values(depth: int) -> st.SearchStrategy[Any]:
    """JSON values with models among them, as an `object` field may hold on the way out."""
    return free_json(depth, with_models=True)


def values(declared: str, depth: int, *, messy: bool) -> st.SearchStrategy[Any]:
    """Values msrest writes for a declared type; with messy, sometimes something else too."""
    if declared[0] == "[":
        clean: st.SearchStrategy[Any] = st.lists(
            st.none() | values(declared[1:-1], depth, messy=messy), max_size=2
        )
    elif declared[0] == "{":
        clean = st.dictionaries(
            st.text(max_size=6), st.none() | values(declared[1:-1], depth, messy=messy), max_size=2
        )
    elif declared in SIMPLE:
        clean = SIMPLE[declared](depth, messy)
    else:
        clean = models(declared, depth - 1, messy=messy)
    return clean | st.sampled_from(WRONG) if messy else clean


def models(name: str, depth: int, *, messy: bool = False) -> st.SearchStrategy[Any]:
    """A model of the named type (or a subclass), each attribute unset or a random value."""
    kinds = [KNOWN_TYPES[name], *SUBCLASSES.get(name, [])]
    if depth < 0:
        return st.sampled_from(kinds).map(lambda kind: kind())
    return st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                attribute: values(description["type"], depth, messy=messy)
                for attribute, description in kind._attribute_map.items()
            },
        ).map(lambda fields, kind=kind: built(kind, fields))
        for kind in kinds
    )


def built(kind: type, fields: dict[str, Any]) -> Model:
    model = kind()
    for attribute, value in fields.items():
        setattr(model, attribute, value)
    return model


RANDOM = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@RANDOM
@given(activity=models("Activity", 2))
def test_random_activities_are_serialized_exactly(activity: Activity) -> None:
    assert_fast_and_exact(activity)


@RANDOM
@given(activity=models("Activity", 2, messy=True))
def test_random_messy_activities_are_exact_or_left_to_msrest(activity: Activity) -> None:
    fast = activity_json(activity)
    try:
        expected = msrest_json(activity)
    except Exception:  # msrest refuses it: the fast serializer must not have accepted it
        assert fast is None
        return
    assert fast is None or json.dumps(fast) == expected


# == Reading: inbound JSON becomes the model graph msrest makes ==================================

TEAMS_CHANNEL_DATA_MODELS = TeamsChannelData._infer_class_models()
ACTIVITY_MODELS = Activity._infer_class_models()


def read_fast_and_exactly(model: Any, payload: Any) -> Any:
    """The fast reader takes the payload and makes exactly what msrest makes of it."""
    ours, problems = read_both(model, payload, lambda data: model_from_json(model, data))
    assert ours is not None, f"the fast reader gave up on a {model.__name__} the bot is sent"
    assert problems == []
    return ours


def read_exactly_or_left_to_msrest(model: Any, payload: Any) -> Any:
    """Reads as msrest does, or leaves the payload to msrest (always where msrest refuses it)."""
    ours, problems = read_both(model, payload, lambda data: model_from_json(model, data))
    assert problems == []
    return ours


# -- Everything the bot is sent, over HTTP -------------------------------------------------------


class Received:
    """Stands in for bot.http's fast readers and keeps a copy of each payload they are given."""

    def __init__(self) -> None:
        self.payloads: list[tuple[Any, Any]] = []

    def activity_from_json(self, payload: Any) -> Any:
        self.payloads.append((Activity, copy.deepcopy(payload)))
        return activity_from_json(payload)

    def model_from_json(self, model: Any, payload: Any) -> Any:
        self.payloads.append((model, copy.deepcopy(payload)))
        return model_from_json(model, payload)


async def test_every_activity_the_bot_is_sent_is_read_exactly(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    received = Received()
    monkeypatch.setattr(bot.http, "activity_from_json", received.activity_from_json)
    monkeypatch.setattr(bot.http, "model_from_json", received.model_from_json)
    await everything_happens(site)
    await teams_fixtures_and_commands(site)

    activities = [payload for model, payload in received.payloads if model is Activity]
    assert len(activities) > 200, "the walk stopped early"
    assert {payload["type"] for payload in activities} >= {
        "message",
        "conversationUpdate",
        "installationUpdate",
    }
    assert any(payload.get("membersAdded") for payload in activities)
    assert any(isinstance(payload.get("value"), dict) for payload in activities), "no submits"
    assert any(payload.get("entities") for payload in activities), "no @mentions"
    assert any(payload.get("timestamp") for payload in activities)
    assert any(payload["conversation"].get("isGroup") for payload in activities)
    channel_data = [payload for model, payload in received.payloads if model is TeamsChannelData]
    assert len(channel_data) == len(activities)  # every one of them came from Teams
    for model, payload in received.payloads:
        read_fast_and_exactly(model, payload)


# -- The Teams fixtures, and the transcript helpers' activities ----------------------------------


@pytest.mark.parametrize("name", sorted(path.stem for path in FIXTURES.glob("*.json")))
def test_each_teams_fixture_is_read_exactly(name: str) -> None:
    payload = json.loads((FIXTURES / f"{name}.json").read_text())
    read_fast_and_exactly(Activity, payload)
    read_fast_and_exactly(TeamsChannelData, payload["channelData"])


async def test_every_activity_a_transcript_sends_is_read_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What tests/transcript.py's Chat hands the bot, as a channel would post it in JSON."""
    chat = journey_chat(tmp_path, memory_stores())
    delivered: list[Activity] = []
    make_context = chat.adapter.create_turn_context

    def keep(activity: Activity) -> Any:
        delivered.append(copy.deepcopy(activity))
        return make_context(activity)

    monkeypatch.setattr(chat.adapter, "create_turn_context", keep)
    for command in COMMANDS:
        await chat.user(command.name)
        await chat.user("cancel")
    await chat.submit({"action": "help", "nested": {"list": [1, 2.5, True, None]}})
    for name in sorted(path.stem for path in FIXTURES.glob("*.json")):
        await chat.receive(transcript_fixture(name))

    assert len(delivered) > 2 * len(COMMANDS)
    for activity in delivered:
        payload = json.loads(msrest_json(activity))
        read_fast_and_exactly(Activity, payload)
        if isinstance(payload.get("channelData"), dict):
            read_fast_and_exactly(TeamsChannelData, payload["channelData"])


# -- Hand-made: each kind of field Teams sends, and the shapes only msrest reads -----------------


def teams_message(**fields: Any) -> dict[str, Any]:
    """A personal-chat message as Teams posts it, with fields added or replaced."""
    payload = json.loads((FIXTURES / "personal_message.json").read_text())
    payload.update(fields)
    return payload


ACCOUNT = {"id": "29:worker", "name": "Sam Worker", "aadObjectId": "aad-worker"}
CHANNEL_DATA = {
    "teamsChannelId": "19:managers@thread.tacv2",
    "teamsTeamId": "19:team@thread.tacv2",
    "channel": {"id": "19:managers@thread.tacv2", "name": "Managers", "type": "standard"},
    "team": {"id": "19:team@thread.tacv2", "name": "Family Support", "aadGroupId": "g-1"},
    "tenant": {"id": TENANT},
    "eventType": "teamMemberAdded",
    "notification": {"alert": True, "alertInMeeting": False, "externalResourceUrl": None},
    "settings": {"selectedChannel": {"id": "19:general@thread.tacv2"}},
    "meeting": {"id": "m-1"},
    "onBehalfOf": [{"itemid": 0, "mentionType": "person", "mri": "29:m", "displayName": "M"}],
    "source": {"name": "message"},
    "legacy": {"replyToId": "f:1"},
}
READ_EXACTLY: dict[str, dict[str, Any]] = {
    "Teams timestamps": teams_message(
        timestamp="2026-11-26T09:05:00.1234567Z",
        localTimestamp="2026-11-26T22:05:00.1234567+13:00",
        localTimezone="Pacific/Auckland",
    ),
    "offsets west, east and minus zero": teams_message(
        timestamp="2026-03-29T00:59:59.999999-03:30",
        localTimestamp="2026-03-29T01:00:00+05:45",
        expiration="2026-03-29T01:00:00.5-00:00",
    ),
    "no fraction, no zone": teams_message(
        timestamp="2026-11-26T09:05:00Z", localTimestamp="2026-11-26T09:05:00"
    ),
    "long and short fractions": teams_message(
        timestamp="2026-11-26T09:05:00.1Z", localTimestamp="2026-11-26T09:05:00.987654321+00:00"
    ),
    "the ends of time": teams_message(
        timestamp="0001-01-01T00:00:00Z",
        localTimestamp="9999-12-31T23:59:59.9999999Z",
        expiration="0001-01-01T05:00:00+05:00",
    ),
    "a leap day": teams_message(timestamp="2028-02-29T23:59:59-12:00"),
    "offsets past the hour": teams_message(
        timestamp="2026-11-26T09:05:00+05:75", localTimestamp="2026-11-26T09:05:00-12:75"
    ),
    "channel data with team, channel and tenant": teams_message(channelData=CHANNEL_DATA),
    "a group conversation": teams_message(
        conversation={
            "isGroup": True,
            "conversationType": "groupChat",
            "tenantId": TENANT,
            "id": "19:group@thread.v2",
            "name": "Case 1042",
            "tenantID": TENANT,
            "role": "user",
            "properties": {"x": [1, None]},
        }
    ),
    "mentions and client info": teams_message(
        text="<at>SafeSession</at> help",
        entities=[
            {"type": "mention", "text": "<at>SafeSession</at>", "mentioned": {"id": "28:bot"}},
            {"type": "clientInfo", "locale": "en-GB", "country": "GB", "timezone": "Europe/London"},
            None,
        ],
    ),
    "an adaptive card submit": teams_message(
        text=None,
        replyToId="f:card-1",
        value={"action": "answer", "question": "q.v1", "answer": "Yes", "n": [1, 2.5, True, None]},
        channelData={"source": {"name": "message"}, "legacy": {"replyToId": "f:card-1"}},
    ),
    "attachments": teams_message(
        attachments=[
            {
                "contentType": "application/vnd.microsoft.teams.file.download.info",
                "contentUrl": "https://example.org/f",
                "name": "notes.docx",
                "content": {"downloadUrl": "https://example.org/d", "fileType": "docx"},
            },
            {"contentType": "text/html", "content": "<div>Zoë — “quoted” ✓ 🚸</div>"},
            {"contentType": "image/*", "thumbnailUrl": "https://example.org/t", "extra": 1},
        ]
    ),
    "members added and removed": teams_message(
        type="conversationUpdate",
        text=None,
        membersAdded=[ACCOUNT, {"id": "28:safesession-bot"}],
        membersRemoved=[{"id": "29:left", "role": "user", "properties": {}}],
        channelData={**CHANNEL_DATA, "eventType": "teamMemberRemoved"},
    ),
    "unknown keys everywhere": teams_message(
        Type="capitalised keys are other keys",
        extraTop={"deep": [{"x": None}]},
        recipient={"id": "28:safesession-bot", "name": "SafeSession", "userRole": "bot"},
        **{"from": {**ACCOUNT, "userPrincipalName": "sam@example.org", "tenantId": TENANT}},
    ),
    "every field": teams_message(
        type="message",
        action="add",
        name="a name",
        label="a label",
        code="completedSuccessfully",
        topicName="a topic",
        historyDisclosed=False,
        textFormat="markdown",
        attachmentLayout="carousel",
        inputHint="acceptingInput",
        speak="",
        summary="a summary",
        importance="high",
        deliveryMode="normal",
        callerId="urn:botframework:azure",
        valueType="application/json",
        value=0,
        listenFor=["yes", None, "no"],
        textHighlights=[{"text": "x", "occurrence": 2}, {"occurrence": -(10**20)}],
        reactionsAdded=[{"type": "like", "extra": True}],
        reactionsRemoved=[],
        suggestedActions={
            "to": ["29:worker"],
            "actions": [
                {
                    "type": "imBack",
                    "title": "Yes",
                    "value": {"a": 1},
                    "channelData": [],
                    "imageAltText": "",
                    "displayText": "Yes",
                    "image": "https://example.org/i",
                    "text": "yes",
                }
            ],
        },
        relatesTo={
            "activityId": "1",
            "user": ACCOUNT,
            "bot": {"id": "28:bot"},
            "conversation": {"id": "a:1", "isGroup": False},
            "channelId": "msteams",
            "serviceUrl": "https://smba.trafficmanager.net/uk/",
            "locale": "en-GB",
        },
        semanticAction={
            "id": "s",
            "state": "start",
            "entities": {"e": {"type": "t", "extra": 1}, "n": None},
        },
    ),
    "values of every JSON type": teams_message(
        value={"n": 1e308, "m": -0.0, "big": 10**30, "t": "", "f": False, "e": {}, "l": []},
        channelData={"tenant": {"id": TENANT}, "nothing": None},
    ),
    "text that looks like other things": teams_message(
        text="5", locale="", id="", replyToId="true", serviceUrl="2026-11-26T09:05:00Z"
    ),
    "nulls everywhere": {key: None for key in (*teams_message(), "membersAdded", "entities")},
    "nothing at all": {},
}


@pytest.mark.parametrize("name", sorted(READ_EXACTLY))
def test_each_kind_of_field_is_read_exactly(name: str) -> None:
    payload = READ_EXACTLY[name]
    read_fast_and_exactly(Activity, payload)
    if isinstance(payload.get("channelData"), dict):
        read_fast_and_exactly(TeamsChannelData, payload["channelData"])


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"down": [value]}
    return value


def moment(text: Any) -> dict[str, Any]:
    return teams_message(timestamp=text)


# Shapes msrest converts (a number to text, "true" to a bool, month 00 to January) or refuses.
LEFT_TO_MSREST: dict[str, dict[str, Any]] = {
    "a number for text": teams_message(text=5),
    "a list for text": teams_message(text=["help"]),
    "text for a bool": teams_message(historyDisclosed="true"),
    "a number for a bool": teams_message(historyDisclosed=1),
    "a float for an int": teams_message(textHighlights=[{"occurrence": 2.0}]),
    "a bool for an int": teams_message(textHighlights=[{"occurrence": True}]),
    "text for an int": teams_message(textHighlights=[{"occurrence": "2"}]),
    "a number in a list of text": teams_message(listenFor=["yes", 1]),
    "text where an account belongs": teams_message(**{"from": "29:worker"}),
    "a list where an account belongs": teams_message(conversation=[{"id": "a:1"}]),
    "an account where a list belongs": teams_message(membersAdded={"id": "29:worker"}),
    "text where a list belongs": teams_message(entities="mention"),
    "key and value pairs for a dict": teams_message(
        semanticAction={"entities": [{"key": "e", "value": {"type": "t"}}]}
    ),
    "a value nested deeper than the fast reader goes": teams_message(value=nested(40)),
    "lower-case t and z": moment("2026-11-26t09:05:00z"),
    "an offset without its colon": moment("2026-11-26T09:05:00+0100"),
    "an offset in hours": moment("2026-11-26T09:05:00+01"),
    "a comma before the fraction": moment("2026-11-26T09:05:00,5Z"),
    "a dot with no fraction": moment("2026-11-26T09:05:00.Z"),
    "the basic format": moment("20261126T090500Z"),
    "no seconds": moment("2026-11-26T09:05Z"),
    "a date alone": moment("2026-11-26"),
    "month 00": moment("2026-00-26T09:05:00Z"),
    "an offset of a day": moment("2026-11-26T09:05:00+24:00"),
    "a leap second": moment("2016-12-31T23:59:60Z"),
    "hour 24": moment("2026-11-26T24:00:00Z"),
    "30 February": moment("2026-02-30T09:05:00Z"),
    "year 0": moment("0000-01-01T00:00:00Z"),
    "before year 1 in UTC": moment("0001-01-01T00:59:59+01:00"),
    "after year 9999 in UTC": moment("9999-12-31T23:30:00-01:00"),
    "other digits": moment("２０２６-11-26T09:05:00Z"),
    "a trailing newline": moment("2026-11-26T09:05:00Z\n"),
    "spaces": moment(" 2026-11-26T09:05:00Z"),
    "a number for a timestamp": moment(1732611900),
    "text for a Teams tenant": teams_message(channelData={"tenant": "x"}),
    "a number for a Teams notification's alert": teams_message(
        channelData={"notification": {"alert": 1}}
    ),
}


@pytest.mark.parametrize("name", sorted(LEFT_TO_MSREST))
def test_what_it_cannot_read_exactly_is_left_to_msrest(name: str) -> None:
    payload = LEFT_TO_MSREST[name]
    channel_data = payload["channelData"]
    assert (
        read_exactly_or_left_to_msrest(Activity, payload) is None
        or read_exactly_or_left_to_msrest(TeamsChannelData, channel_data) is None
    )


def test_msrest_converts_some_of_them_and_refuses_others() -> None:
    """Why they are left to msrest: it reads them differently from how they came, or not at all."""
    assert Activity.deserialize(LEFT_TO_MSREST["a number for text"]).text == "5"
    assert Activity.deserialize(LEFT_TO_MSREST["text for a bool"]).history_disclosed is True
    assert Activity.deserialize(LEFT_TO_MSREST["month 00"]).timestamp.month == 1
    with pytest.raises(DeserializationError):
        Activity.deserialize(LEFT_TO_MSREST["a leap second"])


def test_a_model_msrest_reads_its_own_way_is_left_to_msrest() -> None:
    class Classified(Model):
        _attribute_map: ClassVar[dict[str, Any]] = {"kind": {"key": "kind", "type": "str"}}
        _subtype_map: ClassVar[dict[str, Any]] = {"kind": {"special": "Classified"}}

    class Flattened(Model):
        _attribute_map: ClassVar[dict[str, Any]] = {
            "name": {"key": "properties.name", "type": "str"}
        }

    class Constant(Model):
        _attribute_map: ClassVar[dict[str, Any]] = {"kind": {"key": "kind", "type": "str"}}
        _validation: ClassVar[dict[str, Any]] = {"kind": {"constant": True}}

    class Dated(Model):
        _attribute_map: ClassVar[dict[str, Any]] = {
            "on": {"key": "on", "type": "date"},
            "n": {"key": "n", "type": "long"},
        }

    for model, payload in [
        (Classified, {"kind": "special"}),
        (Flattened, {"properties": {"name": "x"}}),
        (Constant, {"kind": "k"}),
        (Dated, {"on": "2026-11-26"}),
        (Dated, {"n": 5}),
    ]:
        assert model_from_json(model, payload) is None
    assert model_from_json(Dated, {}) is not None  # what it cannot read is not there


# -- Random payloads, from the models' attribute maps --------------------------------------------

ZONES = st.sampled_from(["Z", "", "+00:00", "-00:00", "+05:30", "-03:30", "+13:45", "-12:00"])
FRACTIONS = st.text(alphabet="0123456789", max_size=9).map(
    lambda digits: f".{digits}" if digits else ""
)


@st.composite
def timestamps(draw: st.DrawFn, *, wide: bool) -> str:
    """A timestamp as the Bot Connector writes it, with any fraction and zone."""
    low, high = (1, 9999) if wide else (2, 9998)
    at = draw(st.datetimes(min_value=datetime(low, 1, 1), max_value=datetime(high, 12, 31)))
    day = f"{at.year:04}-{at.month:02}-{at.day:02}"
    return f"{day}T{at.hour:02}:{at.minute:02}:{at.second:02}{draw(FRACTIONS)}{draw(ZONES)}"


WRONG_JSON = [
    5,
    2.5,
    -0.0,
    True,
    "true",
    "1",
    "",
    [],
    {},
    ["x"],
    [1],
    {"id": "x"},
    [{"key": "k", "value": {}}],
    "2026-11-26t09:05:00z",
    "2026-11-26T09:05:00+0100",
    "2026-00-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "9999-12-31T23:59:59-01:00",
    "2016-12-31T23:59:60Z",
    nested(40),
    float("nan"),
]
JSON_SIMPLE: dict[str, Callable[[int, bool], st.SearchStrategy[Any]]] = {
    "str": lambda depth, messy: st.text(max_size=12),
    "bool": lambda depth, messy: st.booleans(),
    "int": lambda depth, messy: st.integers(),
    "iso-8601": lambda depth, messy: timestamps(wide=messy),
    "object": lambda depth, messy: free_json(depth),
}


def json_for(
    declared: str, known: dict[str, Any], depth: int, *, messy: bool
) -> st.SearchStrategy[Any]:
    """JSON msrest reads as a declared type unchanged; with messy, sometimes something else too."""
    if declared[0] == "[":
        clean: st.SearchStrategy[Any] = st.lists(
            st.none() | json_for(declared[1:-1], known, depth, messy=messy), max_size=2
        )
    elif declared[0] == "{":
        clean = st.dictionaries(
            st.text(max_size=6),
            st.none() | json_for(declared[1:-1], known, depth, messy=messy),
            max_size=2,
        )
    elif declared in JSON_SIMPLE:
        clean = JSON_SIMPLE[declared](depth, messy)
    else:
        clean = json_objects(declared, known, depth - 1, messy=messy)
    return clean | st.sampled_from(WRONG_JSON) if messy else clean


def json_objects(
    name: str, known: dict[str, Any], depth: int, *, messy: bool = False
) -> st.SearchStrategy[dict[str, Any]]:
    """A JSON object for the named model: each key absent, null or a value, and unknown keys too."""
    attributes = known[name]._attribute_map.values()
    keys = {description["key"] for description in attributes}
    if depth < 0:
        return st.just({})
    fields = st.fixed_dictionaries(
        {},
        optional={
            d["key"]: st.none() | json_for(d["type"], known, depth, messy=messy) for d in attributes
        },
    )
    unknown = st.dictionaries(
        st.text(max_size=8).filter(lambda key: key not in keys), free_json(1), max_size=2
    )
    return st.tuples(fields, unknown).map(lambda parts: {**parts[1], **parts[0]})


@RANDOM
@given(payload=json_objects("Activity", ACTIVITY_MODELS, 2))
def test_random_payloads_are_read_exactly(payload: dict[str, Any]) -> None:
    read_fast_and_exactly(Activity, payload)


@RANDOM
@given(payload=json_objects("TeamsChannelData", TEAMS_CHANNEL_DATA_MODELS, 2))
def test_random_teams_channel_data_is_read_exactly(payload: dict[str, Any]) -> None:
    read_fast_and_exactly(TeamsChannelData, payload)


@RANDOM
@given(payload=json_objects("Activity", ACTIVITY_MODELS, 2, messy=True))
def test_random_messy_payloads_are_read_exactly_or_left_to_msrest(payload: dict[str, Any]) -> None:
    read_exactly_or_left_to_msrest(Activity, payload)


@RANDOM
@given(payload=json_objects("TeamsChannelData", TEAMS_CHANNEL_DATA_MODELS, 2, messy=True))
def test_random_messy_teams_channel_data_is_read_exactly_or_left_to_msrest(
    payload: dict[str, Any],
) -> None:
    read_exactly_or_left_to_msrest(TeamsChannelData, payload)


@RANDOM
@given(payload=fuzz_json | mutated_activity("https://smba.trafficmanager.net/uk/"))
def test_the_attack_suites_payloads_are_read_exactly_or_left_to_msrest(payload: Any) -> None:
    read_exactly_or_left_to_msrest(Activity, payload)
    if isinstance(payload, dict) and isinstance(payload.get("channelData"), dict):
        read_exactly_or_left_to_msrest(TeamsChannelData, payload["channelData"])
