"""This process's live wall: one computation however many walls are open, shared by them all.

While at least one wall socket watches, a task recomputes the snapshot (in the thread pool)
every ``KEFU_WALL_INTERVAL_SECONDS`` and at once when the broker's activity channel says that
a conversation changed hands or an agent's presence changed. A snapshot that says something
new (``WallSnapshot.fingerprint``) gets the next version number; each socket waits for a
version past the one it sent, so a slow socket skips to the latest instead of queueing. With
no wall open, nothing runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from core.broker import Broker, Subscription
from core.clock import utcnow
from core.realtime import ACTIVITY_CHANNEL
from core.settings import Settings

from .wall import WallSnapshot, wall_snapshot

__all__ = ["WallFeed"]

log = logging.getLogger(__name__)
# Activity comes in bursts (an escalation's events, a claim's); one recomputation covers a burst.
SETTLE_SECONDS = 0.05


class WallFeed:
    def __init__(self, engine: Engine, settings: Settings, broker: Broker) -> None:
        self._engine = engine
        self._settings = settings
        self._broker = broker
        self._interval = settings.wall_interval_seconds
        self._watchers = 0
        self._version = 0
        self._latest: WallSnapshot | None = None
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[None]:
        """While the block runs, the wall is kept up to date."""
        self._watchers += 1
        if self._task is None or self._task.done():
            # A snapshot from the last time a wall was open is stale: wait for a new one.
            self._latest = None
            self._task = asyncio.create_task(self._run(), name="wall-feed")
        try:
            yield
        finally:
            self._watchers -= 1

    async def after(self, version: int) -> tuple[int, WallSnapshot]:
        """The latest snapshot once its version is past ``version``, with its version."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._version > version and bool(self._latest))
            assert self._latest is not None
            return self._version, self._latest

    async def stop(self) -> None:
        """Let a computation in progress finish: its thread holds a database connection."""
        self._stopping.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        seen: dict[str, Any] | None = None
        try:
            async with self._broker.subscribe(ACTIVITY_CHANNEL) as activity:
                while self._watchers > 0 and not self._stopping.is_set():
                    seen = await self._refresh(seen)
                    await self._wait(activity)
        except Exception:  # nobody awaits this task: say what went wrong rather than lose it
            log.exception("the live wall stopped")

    async def _refresh(self, seen: dict[str, Any] | None) -> dict[str, Any] | None:
        try:
            snapshot = await run_in_threadpool(
                wall_snapshot, self._engine, self._settings, utcnow()
            )
        except Exception:  # a database hiccup: try again at the next tick
            log.exception("could not compute the live wall")
            return seen
        said = snapshot.fingerprint()
        async with self._changed:
            # Kept even when nothing changed, so a wall opening now gets today's clock figures.
            self._latest = snapshot
            if said != seen:
                self._version += 1
                self._changed.notify_all()
        return said

    async def _wait(self, activity: Subscription) -> None:
        """Until the interval passes, something happens, or the feed stops."""
        notice = asyncio.ensure_future(activity.get())
        stopped = asyncio.ensure_future(self._stopping.wait())
        done, pending = await asyncio.wait(
            {notice, stopped}, timeout=self._interval, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        if notice in done:
            await asyncio.sleep(SETTLE_SECONDS)
        # A broken subscription (the broker was lost) only means fewer early wake-ups: the
        # interval still brings every change, as the database is what the wall reads.
        while not activity.queue.empty():
            activity.queue.get_nowait()
