"""Process-wide pub/sub that tells subscribers a conversation has new events.

The database holds the events; a message here is only a notification carrying the event, so a
subscriber that misses one catches up from the database by sequence number. The backend is
chosen by URL: ``memory://`` (one process) or ``redis://`` (several processes).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any, Protocol

__all__ = ["Broker", "MemoryBroker", "RedisBroker", "Subscription", "make_broker"]

QUEUE_LIMIT = 256


class Subscription:
    """A bounded queue of messages; overflowing marks it broken so its socket can be closed."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_LIMIT)
        self.overflowed = False

    def offer(self, message: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.overflowed = True

    async def get(self) -> dict[str, Any]:
        return await self.queue.get()


class Broker(Protocol):
    async def publish(self, channel: str, message: dict[str, Any]) -> None: ...

    def subscribe(self, channel: str) -> contextlib.AbstractAsyncContextManager[Subscription]: ...

    async def close(self) -> None: ...


class _FanOut:
    def __init__(self) -> None:
        self.subscribers: dict[str, set[Subscription]] = {}

    def deliver(self, channel: str, message: dict[str, Any]) -> None:
        for subscription in list(self.subscribers.get(channel, ())):
            subscription.offer(message)

    def add(self, subscription: Subscription) -> bool:
        group = self.subscribers.setdefault(subscription.channel, set())
        group.add(subscription)
        return len(group) == 1

    def discard(self, subscription: Subscription) -> bool:
        group = self.subscribers.get(subscription.channel, set())
        group.discard(subscription)
        if not group:
            self.subscribers.pop(subscription.channel, None)
            return True
        return False


class MemoryBroker:
    def __init__(self) -> None:
        self._fan_out = _FanOut()

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        self._fan_out.deliver(channel, message)

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        subscription = Subscription(channel)
        self._fan_out.add(subscription)
        try:
            yield subscription
        finally:
            self._fan_out.discard(subscription)

    async def close(self) -> None:
        return None


class RedisBroker:
    """One Redis pub/sub connection per process fans out to local subscribers."""

    def __init__(self, url: str, *, prefix: str = "kefu:") -> None:
        from redis import asyncio as aioredis

        self._redis = aioredis.from_url(url)
        self._pubsub = self._redis.pubsub()
        self._prefix = prefix
        self._fan_out = _FanOut()
        self._reader: asyncio.Task[None] | None = None

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        await self._redis.publish(self._prefix + channel, json.dumps(message, default=str))

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        subscription = Subscription(channel)
        if self._fan_out.add(subscription):
            await self._pubsub.subscribe(self._prefix + channel)
        if self._reader is None:
            self._reader = asyncio.create_task(self._read())
        try:
            yield subscription
        finally:
            if self._fan_out.discard(subscription):
                await self._pubsub.unsubscribe(self._prefix + channel)

    async def _read(self) -> None:
        while True:
            if not self._pubsub.subscribed:
                await asyncio.sleep(0.01)
                continue
            message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is None:
                continue
            channel = message["channel"].decode()[len(self._prefix) :]
            self._fan_out.deliver(channel, json.loads(message["data"]))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]
        await self._redis.aclose()


def make_broker(url: str) -> MemoryBroker | RedisBroker:
    if url.startswith("memory://"):
        return MemoryBroker()
    if url.startswith(("redis://", "rediss://")):
        return RedisBroker(url)
    raise ValueError(f"unsupported broker URL {url!r}; use memory:// or redis://")
