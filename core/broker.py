"""Process-wide pub/sub that tells subscribers a conversation has new events.

The database holds the events; a message here is only a notification carrying the event, so a
subscriber that misses one catches up from the database by sequence number. The backend is
chosen by URL: ``memory://`` (one process) or ``redis://`` (several processes).

Losing Redis loses no message: a publish that fails is logged and the work goes on (what it
announced is committed already), and every subscription of the process is *broken*, so its
socket is closed and its client reconnects from the last ``seq`` it has, reading what it
missed from the database. The reader reconnects with backoff, subscribes again, and
``healthy`` (which ``/readyz`` reports) is false until it has.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any, Protocol

__all__ = ["Broker", "MemoryBroker", "RedisBroker", "Subscription", "make_broker"]

log = logging.getLogger("kefu.broker")

QUEUE_LIMIT = 256
# The reader's pause between attempts to reach a lost Redis, doubling up to the maximum.
RETRY_FIRST, RETRY_MAX = 0.05, 2.0


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

    def break_(self) -> None:
        """Notifications may have been missed: its reader should close and catch up anew."""
        self.overflowed = True
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait({})  # wakes a reader waiting in get()

    async def get(self) -> dict[str, Any]:
        return await self.queue.get()


class Broker(Protocol):
    healthy: bool

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

    def break_all(self) -> None:
        for group in list(self.subscribers.values()):
            for subscription in list(group):
                subscription.break_()

    def discard(self, subscription: Subscription) -> bool:
        group = self.subscribers.get(subscription.channel, set())
        group.discard(subscription)
        if not group:
            self.subscribers.pop(subscription.channel, None)
            return True
        return False


class MemoryBroker:
    healthy = True

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
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff, NoBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        # One quick retry, not the library's default of seconds: a publish waits in the
        # message path, and a failed one costs only a reconnection (see the module's notes).
        self._redis = aioredis.from_url(
            url,
            retry=Retry(ExponentialBackoff(cap=0.1, base=0.02), 1),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
            socket_connect_timeout=2,
        )
        # The subscriber's own client never retries: on a retry redis-py reconnects and
        # subscribes again by itself, and what was published in between would be lost without
        # the broker knowing. Every lost connection must reach ``_read``, which breaks the
        # subscriptions so that their sockets catch up from the database.
        self._subscriber = aioredis.from_url(
            url, retry=Retry(NoBackoff(), 0), socket_connect_timeout=2
        )
        self._pubsub = self._subscriber.pubsub()
        self._prefix = prefix
        self._fan_out = _FanOut()
        self._reader: asyncio.Task[None] | None = None
        self.healthy = True

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        from redis.exceptions import RedisError

        try:
            await self._redis.publish(self._prefix + channel, json.dumps(message, default=str))
        except (RedisError, OSError) as exc:
            # Subscribers may miss this notice; this process's own catch up from the database.
            self._lost(exc)

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        from redis.exceptions import RedisError

        subscription = Subscription(channel)
        if self._fan_out.add(subscription):
            try:
                await self._pubsub.subscribe(self._prefix + channel)
            except (RedisError, OSError) as exc:
                # The reader subscribes again once Redis is back; this reader starts over then.
                self._lost(exc)
        if self._reader is None:
            self._reader = asyncio.create_task(self._read())
        try:
            yield subscription
        finally:
            if self._fan_out.discard(subscription):
                with contextlib.suppress(RedisError, OSError):
                    await self._pubsub.unsubscribe(self._prefix + channel)

    def _lost(self, exc: BaseException) -> None:
        if self.healthy:
            log.warning(
                "lost the Redis broker (%s): sockets reconnect and catch up from the database", exc
            )
        self.healthy = False
        self._fan_out.break_all()

    async def _recover(self) -> None:
        """Subscribe again to every channel with a local subscriber (or just reach Redis)."""
        channels = [self._prefix + channel for channel in self._fan_out.subscribers]
        if channels:
            await self._pubsub.subscribe(*channels)
        else:
            await self._redis.ping()
        self.healthy = True
        log.warning("the Redis broker is back")

    async def _read(self) -> None:
        from redis.exceptions import RedisError

        pause = RETRY_FIRST
        while True:
            try:
                if not self.healthy:
                    await self._recover()
                if not self._pubsub.subscribed:
                    await asyncio.sleep(0.01)
                    continue
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=1.0
                )
            except (RedisError, OSError) as exc:
                self._lost(exc)
                await asyncio.sleep(pause)
                pause = min(pause * 2, RETRY_MAX)
                continue
            pause = RETRY_FIRST
            if message is None:
                continue
            channel = message["channel"].decode()[len(self._prefix) :]
            self._fan_out.deliver(channel, json.loads(message["data"]))

    async def close(self) -> None:
        from redis.exceptions import RedisError

        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        with contextlib.suppress(RedisError, OSError):
            await self._pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]
        with contextlib.suppress(RedisError, OSError):
            await self._redis.aclose()
        with contextlib.suppress(RedisError, OSError):
            await self._subscriber.aclose()


def make_broker(url: str) -> MemoryBroker | RedisBroker:
    if url.startswith("memory://"):
        return MemoryBroker()
    if url.startswith(("redis://", "rediss://")):
        return RedisBroker(url)
    raise ValueError(f"unsupported broker URL {url!r}; use memory:// or redis://")
