"""Keeping the queue moving: SLA flags, automatic assignment, and telling waiting customers
where they stand.

``sweep`` is synchronous and idempotent; the ``Dispatcher`` runs it on the event loop's thread
pool whenever the activity channel says something changed, and every few seconds regardless.
On PostgreSQL one process leads (``core/leadership.py``) and only it sweeps; another takes over
within a tick when it dies. Claims are atomic in any case, so nothing is double-assigned.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from core.broker import Broker, Subscription
from core.clock import utcnow
from core.conversations import ConversationEvent, EventPublic
from core.db import session_scope
from core.errors import ConflictError
from core.leadership import DISPATCHER_LOCK, Leadership
from core.metrics import DISPATCHER_LEADER
from core.realtime import ACTIVITY_CHANNEL, STAFF_CHANNEL, notify_stored, publish_frame

from .agent_mail import AgentMail
from .agents import candidates
from .assignment import Candidate, choose_agent
from .complaints import Notice, sweep_complaints
from .customer_mail import CustomerMail
from .desk import HandoffDesk
from .follow_up import FollowUps
from .models import Ticket
from .priority import bump
from .queue import Place, places

__all__ = ["Dispatcher", "Sweep", "sweep"]

log = logging.getLogger("kefu.handoff")


@dataclass
class Sweep:
    events: list[ConversationEvent] = field(default_factory=list)
    places: dict[str, Place] = field(default_factory=dict)
    changed: bool = False
    # Complaints warned or escalated by this sweep: console notices for whoever must act.
    notices: list[Notice] = field(default_factory=list)


def flag_breaches(desk: HandoffDesk) -> bool:
    """Tickets past the first-response target with no human reply rise one level, once."""
    deadline = utcnow() - desk.config.first_response
    with session_scope(desk.engine) as session:
        late = session.exec(
            select(Ticket).where(
                col(Ticket.status).in_(("queued", "active")),
                col(Ticket.kind) == "live",
                col(Ticket.first_response_at).is_(None),
                col(Ticket.sla_breached).is_(False),
                col(Ticket.created_at) < deadline,
            )
        ).all()
        for ticket in late:
            ticket.sla_breached = True
            ticket.breached_at = utcnow()
            ticket.priority = bump(ticket.priority)
            session.add(ticket)
        return bool(late)


def assign_waiting(desk: HandoffDesk) -> list[ConversationEvent]:
    """Hand each waiting ticket, most urgent first, to the least-loaded eligible agent."""
    with Session(desk.engine) as session:
        waiting = session.exec(
            select(Ticket)
            .where(col(Ticket.status) == "queued", col(Ticket.kind) == "live")
            .order_by(col(Ticket.priority).desc(), col(Ticket.created_at), col(Ticket.id))
        ).all()
        agents = candidates(session) if waiting else []
    events: list[ConversationEvent] = []
    for ticket in waiting:
        agent = choose_agent(agents, team=ticket.team, language=ticket.language, topic=ticket.topic)
        if agent is None:
            continue
        try:
            _public, joined = desk.assign(ticket_id=ticket.id or 0, agent_id=agent.user_id)
        except ConflictError:
            # Claimed by someone else meanwhile, or the agent filled up: look again next sweep.
            continue
        events += joined
        agents = [_with_one_more(a) if a.user_id == agent.user_id else a for a in agents]
    return events


def _with_one_more(agent: Candidate) -> Candidate:
    return replace(agent, active_chats=agent.active_chats + 1, last_assigned_at=utcnow())


def sweep(desk: HandoffDesk) -> Sweep:
    result = Sweep()
    result.changed = flag_breaches(desk)
    complaint_events, result.notices = sweep_complaints(desk.engine, desk.complaints.rules)
    result.events += complaint_events
    result.changed = result.changed or bool(complaint_events)
    if desk.config.assignment == "auto":
        joined = assign_waiting(desk)
        result.events += joined
        result.changed = result.changed or bool(joined)
    with Session(desk.engine) as session:
        result.places = places(session, desk.config)
    return result


@dataclass
class _SideSweep:
    """Work the leader does beside the queue's sweep, at its own pace: mail."""

    name: str
    every: float
    run: Callable[[], Awaitable[object]]
    task: asyncio.Task[None] | None = None
    last: float = -math.inf


async def _side_pass(side: _SideSweep) -> None:
    try:
        await side.run()
    except Exception:  # the next pass tries again; the queue goes on meanwhile
        log.exception("%s sweep failed", side.name)


class Dispatcher:
    def __init__(
        self,
        desk: HandoffDesk,
        broker: Broker,
        *,
        tick_seconds: float,
        follow_ups: FollowUps | None = None,
        agent_mail: AgentMail | None = None,
        customer_mail: CustomerMail | None = None,
    ) -> None:
        self.desk = desk
        self.broker = broker
        self.tick_seconds = tick_seconds
        self.leadership = Leadership(desk.engine, DISPATCHER_LOCK)
        self._task: asyncio.Task[None] | None = None
        # Mail goes out beside the sweep, never holding up the queue behind a slow relay: each
        # kind one pass at a time, at its own interval.
        self.follow_ups = follow_ups
        self._side: list[_SideSweep] = []
        if follow_ups is not None and follow_ups.rules.delay is not None:
            self._side.append(
                _SideSweep("follow-up", follow_ups.rules.sweep_every, follow_ups.sweep)
            )
        if agent_mail is not None:
            self._side.append(_SideSweep("agent-mail", agent_mail.every, agent_mail.sweep))
        if customer_mail is not None:
            self._side.append(_SideSweep("customer-mail", customer_mail.every, customer_mail.sweep))

    def start(self) -> None:
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="handoff-dispatcher")

    async def stop(self) -> None:
        """Let a sweep in progress finish: cancelling would leave its thread holding a database
        connection while the engine is disposed."""
        if self._task is not None:
            self._stopping.set()
            await self._task
        for side in self._side:
            if side.task is not None:
                await side.task
        await run_in_threadpool(self.leadership.release)
        DISPATCHER_LEADER.set(0)

    async def _run(self) -> None:
        async with self.broker.subscribe(ACTIVITY_CHANNEL) as activity:
            while not self._stopping.is_set():
                woken = await self._wait(activity)
                if self._stopping.is_set():
                    return
                try:
                    leading = await run_in_threadpool(self.leadership.lead)
                    DISPATCHER_LEADER.set(1 if leading else 0)
                    if leading:
                        await self.run_once(announce=woken)
                        self._start_side_sweeps()
                except Exception:  # a bad sweep must not stop the queue for good
                    log.exception("handoff sweep failed")

    def _start_side_sweeps(self) -> None:
        now = time.monotonic()
        for side in self._side:
            if side.task is not None and not side.task.done():
                continue
            if now - side.last < side.every:
                continue
            side.last = now
            side.task = asyncio.create_task(_side_pass(side), name=f"{side.name}-sweep")

    async def _wait(self, activity: Subscription) -> bool:
        """Until something happens, the tick passes, or we are stopped; True if woken."""
        notice = asyncio.ensure_future(activity.get())
        stopped = asyncio.ensure_future(self._stopping.wait())
        done, pending = await asyncio.wait(
            {notice, stopped}, timeout=self.tick_seconds, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        while not activity.queue.empty():
            activity.queue.get_nowait()
        return notice in done

    async def run_once(self, *, announce: bool = True) -> Sweep:
        result = await run_in_threadpool(sweep, self.desk)
        # Published without an activity notice of their own: this sweep already accounts for them.
        for event in result.events:
            body = EventPublic.of(event).model_dump(mode="json")
            await self.broker.publish(event.conversation_id, body)
        await notify_stored(self.broker, result.events)
        for conversation_id, place in result.places.items():
            await publish_frame(
                self.broker,
                conversation_id,
                {"type": "queue", "position": place.position, "eta_seconds": place.eta_seconds},
            )
        for notice in result.notices:
            await self.broker.publish(STAFF_CHANNEL, notice.envelope())
        if announce or result.changed:
            await self.broker.publish(STAFF_CHANNEL, {"frame": {"type": "queue.changed"}})
        return result
