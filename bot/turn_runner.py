"""Runs bot turns in one process: the turn a socket asks for at once, and, by a periodic sweep,
turns left behind by a process that died. Renews the lease of every turn it is working on, so
a turn that is merely slow is never taken over by another process.

All database work and every turn run in the thread pool; the event loop only schedules.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.concurrency import run_in_threadpool

from core.broker import Broker
from core.conversations import ConversationEvent
from core.realtime import publish_events

from .chat import ChatService
from .turns import TurnKey

__all__ = ["MAX_ATTEMPTS", "TurnRunner"]

log = logging.getLogger("kefu.bot")

# A turn taken on this many times without finishing (it keeps failing or killing its process)
# is dropped, so one poisonous message cannot crash every process in turn forever.
MAX_ATTEMPTS = 5


class TurnRunner:
    def __init__(self, chat: ChatService, broker: Broker, *, sweep_seconds: float) -> None:
        self.chat = chat
        self.broker = broker
        self.sweep_seconds = sweep_seconds
        # Renew well before the lease ends, so one late renewal does not lose the turn.
        self.renew_seconds = chat.turns.lease.total_seconds() / 3
        self._busy: set[TurnKey] = set()
        self._running: set[asyncio.Task[list[ConversationEvent]]] = set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        """The first sweep runs at once: turns a dead process left behind are picked up."""
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="bot-turn-sweeper")

    async def stop(self) -> None:
        """Stop sweeping and let turns in progress finish: their threads hold connections."""
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def take(self, conversation_id: str, message_seq: int) -> list[ConversationEvent]:
        """Run the turn of a message just recorded here, publishing the reply after commit.

        The turn is its own task: a socket that goes away does not cut it off before publishing.
        """
        return await asyncio.shield(self._spawn(TurnKey(conversation_id, message_seq)))

    def _spawn(self, key: TurnKey) -> asyncio.Task[list[ConversationEvent]]:
        self._busy.add(key)
        task = asyncio.ensure_future(self._turn(key))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        task.add_done_callback(_log_failure)
        return task

    async def _turn(self, key: TurnKey) -> list[ConversationEvent]:
        try:
            events = await run_in_threadpool(
                lambda: self.chat.bot_turn(
                    conversation_id=key.conversation_id, message_seq=key.message_seq
                )
            )
        finally:
            self._busy.discard(key)
        await publish_events(self.broker, events)
        return events

    async def sweep(self) -> int:
        """Claim turns whose lease ran out and start them; how many were started."""
        started = 0
        for row in await run_in_threadpool(self.chat.claim_stale_turns):
            key = TurnKey(row.conversation_id, row.message_seq)
            if row.attempts > MAX_ATTEMPTS:
                log.error("dropped bot turn %s after %d attempts", key, row.attempts - 1)
                await run_in_threadpool(self.chat.drop_turn, key)
                continue
            self._spawn(key)
            started += 1
        return started

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_sweep = loop.time()
        while not self._stopping.is_set():
            try:
                if self._busy:
                    await run_in_threadpool(self.chat.renew_turns, list(self._busy))
                if loop.time() >= next_sweep:
                    next_sweep = loop.time() + self.sweep_seconds
                    await self.sweep()
            except Exception:  # a database hiccup must not end recovery for good
                log.exception("bot turn sweep failed")
            wait = min(self.renew_seconds, max(0.0, next_sweep - loop.time()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=wait)


def _log_failure(task: asyncio.Task[list[ConversationEvent]]) -> None:
    # The turn stays pending; its lease runs out and a later sweep tries it again.
    if not task.cancelled() and task.exception() is not None:
        log.error("bot turn failed", exc_info=task.exception())
