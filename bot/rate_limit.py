"""Slows a flood from one conversation, and never an emergency."""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from botbuilder.core import Middleware, TurnContext
from botbuilder.schema import Activity, ActivityTypes, InvokeResponse

from bot.commands import build_table
from bot.teams import is_proactive, text_without_mentions
from dialogs.interruptions import WORDS, Interruption
from safeguarding.clock import Clock
from safeguarding.words import normalise
from templates import Templates

log = logging.getLogger("safesession.rate_limit")

# Card buttons that deal with someone's safety: they always get through.
SAFETY_ACTIONS = frozenset(
    {
        "emergency",
        "emergency_kind",
        "acknowledge",
        "show_location",
        "resolve",
        "safe_word_used",
        "connection_lost",
    }
)
# Every typed word that raises an emergency, as a command or in the middle of a journey.
EMERGENCY_WORDS = frozenset(
    {word for word, command in build_table().items() if command.name == "emergency"}
    | {word for word, meaning in WORDS.items() if meaning is Interruption.EMERGENCY}
)
# Past this many conversations, idle (full) buckets are forgotten.
MAX_TRACKED = 10_000


@dataclass
class _Bucket:
    tokens: float
    at: float
    warned: bool = False


def is_safety(activity: Activity) -> bool:
    """Says whether the activity is an emergency or another safety action."""
    value = activity.value
    if isinstance(value, dict):
        action = value.get("action")
        return isinstance(action, str) and action in SAFETY_ACTIONS
    if activity.type != ActivityTypes.message or not isinstance(activity.text, str):
        return False
    return normalise(text_without_mentions(activity)) in EMERGENCY_WORDS


class RateLimit(Middleware):
    """A token bucket per conversation, in this process: several instances each apply their own."""

    def __init__(
        self, *, per_minute: float, burst: int, clock: Clock, templates: Templates
    ) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._clock = clock
        self._templates = templates
        self._buckets: dict[str, _Bucket] = {}

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        """Runs the turn while the conversation has tokens; says so kindly once, then nothing."""
        activity = context.activity
        if is_proactive(activity) or is_safety(activity) or self._take(_bucket_key(activity)):
            await logic()
            return
        bucket = self._buckets[_bucket_key(activity)]
        if activity.type == ActivityTypes.invoke:
            response = InvokeResponse(status=429)
            await context.send_activity(
                Activity(type=ActivityTypes.invoke_response, value=response)
            )
        if bucket.warned:
            return
        bucket.warned = True
        log.warning(
            "rate-limited %s activities in conversation %s",
            activity.type,
            activity.conversation.id,
        )
        if activity.type == ActivityTypes.message:
            await context.send_activity(self._templates.text("slow_down"))

    def _take(self, key: str) -> bool:
        now = self._clock.now().timestamp()
        bucket = self._buckets.get(key)
        if bucket is None:
            self._forget_idle(now)
            bucket = self._buckets[key] = _Bucket(tokens=self._burst, at=now)
        bucket.tokens = min(self._burst, bucket.tokens + max(0.0, now - bucket.at) * self._rate)
        bucket.at = now
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        bucket.warned = False
        return True

    def _forget_idle(self, now: float) -> None:
        if len(self._buckets) < MAX_TRACKED:
            return
        full_after = self._burst / self._rate
        for key in [k for k, b in self._buckets.items() if now - b.at >= full_after]:
            del self._buckets[key]
        while len(self._buckets) >= MAX_TRACKED:
            del self._buckets[min(self._buckets, key=lambda k: self._buckets[k].at)]


def _bucket_key(activity: Activity) -> str:
    # A channel's threads share one bucket: ";messageid=..." names the thread, not the channel.
    return str(activity.conversation.id).split(";", 1)[0]
