"""The scheduled retention purge: one server process (the leader) runs it every
``KEFU_PURGE_INTERVAL_SECONDS``.

When it last ran is read from the audit log (the newest scheduled ``purge.run``), not kept in
memory, so restarts neither repeat the purge nor put it off for ever, and a new leader carries
on where the old one stopped. On PostgreSQL one process leads (``core/leadership.py``, its own
lock); on SQLite every process may run it, which is harmless: a second run finds nothing.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select
from starlette.concurrency import run_in_threadpool

from core.audit import AuditAction, StaffAuditEntry
from core.clock import utcnow
from core.leadership import Leadership

from .retention import RetentionPolicy, purge

__all__ = ["PURGE_LOCK", "SCHEDULER", "ScheduledPurge"]

log = logging.getLogger("kefu.retention")

#: The advisory lock's first key ("kefp"): its own leader, apart from the dispatcher's.
PURGE_LOCK = 0x6B656670
#: The actor name of scheduled runs in the audit log.
SCHEDULER = "scheduler"
#: A server first checks this long after it starts (or at the interval, if shorter): deleting
#: is not what a starting process should be busy with, and a short-lived one (a test's server,
#: a restart loop) leaves the purge to the processes that stay. Then every ten minutes at most.
_FIRST_CHECK_SECONDS = 3600.0
_CHECK_EVERY_SECONDS = 600.0


class ScheduledPurge:
    def __init__(self, engine: Engine, policy: RetentionPolicy, *, interval: float) -> None:
        self.engine = engine
        self.policy = policy
        self.interval = interval
        self.leadership = Leadership(engine, PURGE_LOCK)
        self._stop = threading.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.interval <= 0:
            return
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="retention-purge")

    async def stop(self) -> None:
        """A purge in progress stops after its current batch (what it deleted stays deleted)."""
        self._stop.set()
        if self._task is not None:
            self._stopping.set()
            await self._task
        await run_in_threadpool(self.leadership.release)

    async def _run(self) -> None:
        wait = min(_FIRST_CHECK_SECONDS, self.interval)
        while True:
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=wait)
                return
            except TimeoutError:
                pass
            wait = min(self.interval, _CHECK_EVERY_SECONDS)
            try:
                if await run_in_threadpool(self.leadership.lead):
                    await run_in_threadpool(self.run_if_due)
            except Exception:  # a failed purge must not stop the schedule for good
                log.exception("scheduled purge failed")

    def run_if_due(self) -> bool:
        """Purge when the last scheduled run is at least an interval old; True if it ran."""
        with Session(self.engine) as session:
            last = session.exec(
                select(func.max(StaffAuditEntry.at)).where(
                    col(StaffAuditEntry.action) == AuditAction.purge_run.value,
                    col(StaffAuditEntry.actor_name) == SCHEDULER,
                )
            ).one()
        if last is not None and utcnow() - last < timedelta(seconds=self.interval):
            return False
        report = purge(
            self.engine, self.policy, dry_run=False, actor_name=SCHEDULER, stop=self._stop
        )
        log.info("scheduled purge: %s", report.counts)
        return True
