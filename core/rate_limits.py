"""Abuse limits on what customers may do: so many actions per client address and per
conversation in a moving window (the ``limits`` library).

The counts live where the broker lives: in Redis when ``KEFU_BROKER_URL`` is ``redis://``, so
every process behind the load balancer counts the same actions; in this process's memory
otherwise. Keys carry a namespace made from the database URL, so two deployments (or two test
databases) sharing one Redis never share counts. When Redis cannot be reached the action is let
through and the failure logged: a customer is not turned away because a counter is down.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from enum import StrEnum

import anyio.to_thread
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from .errors import KefuError
from .settings import Settings

__all__ = [
    "NO_LIMITS",
    "Action",
    "RateLimitedError",
    "RateLimiter",
    "no_limits_env",
    "parse_limit",
]

log = logging.getLogger(__name__)


# Every abuse limit turned off, as ``Settings`` fields: for load benchmarks, whose simulated
# customers all come from one address (BENCHMARKS.md says which runs use it).
NO_LIMITS: dict[str, str] = {
    name: "" for name in Settings.model_fields if name.startswith("limit_")
}


def no_limits_env() -> dict[str, str]:
    """``NO_LIMITS`` as the environment of a ``kefu serve`` child process."""
    return {f"KEFU_{name.upper()}": value for name, value in NO_LIMITS.items()}


class Action(StrEnum):
    request = "request"
    conversation = "conversation"
    message = "message"
    rating = "rating"
    offline_message = "offline_message"


# What each action is called in a refusal's message.
_NOUNS = {
    Action.request: "requests",
    Action.conversation: "new conversations",
    Action.message: "messages",
    Action.rating: "ratings",
    Action.offline_message: "offline messages",
}


# Whom a refusal names, by what the rule counts.
_WHOM = {
    "address": "from this address",
    "conversation": "in this conversation",
    "channel": "through this channel",
}


class RateLimitedError(KefuError):
    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, retry_after: int, limit: str) -> None:
        super().__init__(
            message,
            details=[{"code": "rate_limited", "retry_after": retry_after, "limit": limit}],
            headers={"Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after


def parse_limit(text: str) -> list[RateLimitItem]:
    """``"10/minute"``, ``"5/second;100/hour"``; ``""`` is no limit (``Settings`` checked it)."""
    return list(parse_many(text)) if text.strip() else []


@dataclass(frozen=True)
class _Rule:
    action: Action
    per: str  # "address", "conversation" or "channel"
    items: list[RateLimitItem]


class RateLimiter:
    def __init__(self, storage: Storage, *, namespace: str, rules: list[_Rule]) -> None:
        self._limiter = MovingWindowRateLimiter(storage)
        self._namespace = namespace
        self._rules = rules

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        url = settings.broker_url
        namespace = hashlib.sha256(settings.resolved_database_url.encode()).hexdigest()[:16]
        storage: Storage
        if url.startswith(("redis://", "rediss://")):
            # Short timeouts: a Redis that is down must not hold up every customer's message.
            storage = RedisStorage(
                url,
                key_prefix="kefu-limits",
                wrap_exceptions=True,
                socket_timeout=1,
                socket_connect_timeout=1,
            )
        else:
            storage = MemoryStorage()
        # The address first: an action a conversation's limit refuses still counts against it.
        text = {
            (Action.request, "address"): settings.limit_requests_per_address,
            (Action.conversation, "address"): settings.limit_conversations_per_address,
            (Action.message, "address"): settings.limit_messages_per_address,
            (Action.message, "conversation"): settings.limit_messages_per_conversation,
            (Action.rating, "address"): settings.limit_ratings_per_address,
            (Action.rating, "conversation"): settings.limit_ratings_per_conversation,
            (Action.offline_message, "address"): settings.limit_offline_messages_per_address,
            (Action.message, "channel"): settings.limit_messages_per_channel,
            (Action.offline_message, "conversation"): (
                settings.limit_offline_messages_per_conversation
            ),
        }
        rules = [_Rule(action, per, parse_limit(limit)) for (action, per), limit in text.items()]
        return cls(storage, namespace=namespace, rules=[r for r in rules if r.items])

    def limits_conversations(self, action: Action) -> bool:
        """Whether ``action`` has a per-conversation limit (else no token check is needed)."""
        return any(r.action is action and r.per == "conversation" for r in self._rules)

    async def check(
        self,
        action: Action,
        *,
        address: str | None = None,
        conversation_id: str | None = None,
        channel: str | None = None,
    ) -> None:
        """Count one ``action`` by this address and/or in this conversation; raise
        ``RateLimitedError`` (429, with the seconds to wait) when a limit is reached. A refused
        action still counts against the address, so a flood stays refused."""
        keys = {"address": address, "conversation": conversation_id, "channel": channel}
        for rule in self._rules:
            key = keys[rule.per]
            if rule.action is not action or key is None:
                continue
            wait = await anyio.to_thread.run_sync(self._hit, rule, key)
            if wait is not None:
                noun = _NOUNS[action]
                whom = _WHOM[rule.per]
                raise RateLimitedError(
                    f"too many {noun} {whom}; try again in {wait} s",
                    retry_after=wait,
                    limit=f"{action}_per_{rule.per}",
                )

    def _hit(self, rule: _Rule, key: str) -> int | None:
        """None when allowed, else the seconds until the window lets one more through."""
        ids = (self._namespace, rule.action.value, rule.per, key[:128])
        try:
            for item in rule.items:
                if not self._limiter.hit(item, *ids):
                    stats = self._limiter.get_window_stats(item, *ids)
                    return max(1, math.ceil(stats.reset_time - time.time()))
        except StorageError:
            log.warning("rate limit storage unreachable; letting %s through", rule.action)
        return None
