"""The supervisors' live wall: the floor as it stands, from the database alone.

``wall_snapshot`` reads the queue, the agents, the tickets near their first-response target
and today's figures, so every process computes the same wall. It is a handful of queries: the
wall is recomputed every couple of seconds while one is open (``analytics/wall_feed.py``).
Today's figures are the analytics report's (docs/metrics.md) over the conversations started
since local midnight; nothing on the wall is a customer's words.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field
from sqlalchemy import case, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.settings import Settings
from core.staff import StaffUser
from handoff.complaints import ComplaintRules, latest_ticket
from handoff.models import AgentProfile, Complaint, Ticket
from handoff.priority import Priority

from .metrics import containment, escalation, satisfaction
from .queries import Filters, load

__all__ = [
    "WallAgent",
    "WallAgents",
    "WallQueue",
    "WallReason",
    "WallSla",
    "WallSlaTicket",
    "WallSnapshot",
    "WallToday",
    "day_start",
    "wall_snapshot",
]

# Enough rows to fill a big screen; the counts beside them cover the rest.
SLA_ROWS = 50
_PRESENCE_ORDER = {"online": 0, "away": 1, "offline": 2}


class WallQueue(BaseModel):
    waiting: int = Field(description="Live tickets in the queue: customers waiting for a person.")
    oldest_waiting_since: datetime | None = Field(
        description="When the longest-waiting of them asked; the page counts up from it."
    )
    longest_wait_seconds: float | None
    with_agent: int = Field(description="Chats a person has now.")
    offline: int = Field(description="Offline messages nobody has answered yet.")


class WallAgent(BaseModel):
    username: str
    display_name: str
    role: str
    presence: str
    presence_since: datetime
    active_chats: int
    max_chats: int


class WallAgents(BaseModel):
    online: int
    away: int
    offline: int
    agents: list[WallAgent] = Field(description="Online first, then away, then offline; by name.")


class WallSlaTicket(BaseModel):
    ticket_id: int
    conversation_id: str
    status: str
    team: str
    priority: str
    agent: str | None = Field(description="The display name of the agent who has it, if any.")
    waiting_since: datetime
    deadline: datetime
    seconds_left: float = Field(description="Negative once the target has passed.")
    breached: bool


class WallSla(BaseModel):
    first_response_seconds: int
    warning_seconds: float
    near: int = Field(description="Tickets within the warning window, not yet late.")
    breached: int = Field(description="Tickets past the target with no human reply yet.")
    tickets: list[WallSlaTicket] = Field(description=f"The {SLA_ROWS} closest to (or past) it.")


class WallReason(BaseModel):
    reason: str
    conversations: int


class WallToday(BaseModel):
    since: datetime = Field(description="Local midnight (KEFU_BUSINESS_TIMEZONE), in UTC.")
    timezone: str
    conversations: int
    containment: float | None
    contained: int
    csat_mean: float | None
    csat_responses: int
    escalations: int
    escalations_by_reason: list[WallReason]


class WallComplaint(BaseModel):
    complaint_id: int
    ticket_id: int | None
    level: str
    category: str
    owner: str | None = Field(description="The display name of the agent who has the chat.")
    deadline: datetime
    seconds_left: float = Field(description="Negative once overdue.")
    overdue: bool


class WallSnapshot(BaseModel):
    generated_at: datetime
    queue: WallQueue
    agents: WallAgents
    sla: WallSla
    today: WallToday
    # Open complaints past their warning point (KEFU_COMPLAINT_WARN_SHARE of their time left)
    # or overdue, the most pressing first; the page shows the tile only when there are some.
    complaints: list[WallComplaint] = Field(default_factory=list)

    def fingerprint(self) -> dict[str, Any]:
        """What the snapshot says, without the figures that only move with the clock (the page
        ticks those itself): two snapshots with the same fingerprint need not both be sent."""
        return self.model_dump(
            mode="json",
            exclude={
                "generated_at": True,
                "queue": {"longest_wait_seconds"},
                "sla": {"tickets": {"__all__": {"seconds_left"}}},
                "complaints": {"__all__": {"seconds_left"}},
            },
        )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def day_start(now: datetime, zone: ZoneInfo) -> datetime:
    """The UTC moment the local day of ``now`` began."""
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(), tzinfo=zone).astimezone(UTC)


def wall_snapshot(engine: Engine, settings: Settings, now: datetime) -> WallSnapshot:
    target = timedelta(seconds=settings.first_response_seconds)
    warning = target * settings.wall_sla_warning_share
    with Session(engine) as session:
        queue = _queue(session, now)
        agents = _agents(session)
        sla = _sla(session, now, target, warning)
        complaints = _complaints(session, now, ComplaintRules.of(settings))
    return WallSnapshot(
        generated_at=now,
        queue=queue,
        agents=agents,
        sla=sla,
        today=_today(engine, now, settings.business_timezone),
        complaints=complaints,
    )


def _complaints(session: Session, now: datetime, rules: ComplaintRules) -> list[WallComplaint]:
    shown = []
    for complaint in session.exec(
        select(Complaint)
        .where(col(Complaint.status) == "open")
        .order_by(col(Complaint.deadline_at), col(Complaint.id))
    ).all():
        if now < rules.warn_at(complaint.level, complaint.created_at):
            continue
        ticket = latest_ticket(session, complaint.conversation_id)
        owner = session.get(StaffUser, ticket.agent_id) if ticket and ticket.agent_id else None
        deadline = complaint.deadline_at
        shown.append(
            WallComplaint(
                complaint_id=complaint.id or 0,
                ticket_id=ticket.id if ticket else None,
                level=complaint.level,
                category=complaint.category,
                owner=(owner.display_name or owner.username) if owner else None,
                deadline=deadline,
                seconds_left=(deadline - now).total_seconds(),
                overdue=now > deadline,
            )
        )
        if len(shown) >= SLA_ROWS:
            break
    return shown


def _queue(session: Session, now: datetime) -> WallQueue:
    rows = session.exec(
        select(col(Ticket.status), col(Ticket.kind), func.count(), func.min(Ticket.created_at))
        .where(col(Ticket.status).in_(("queued", "active", "offline")))
        .group_by(col(Ticket.status), col(Ticket.kind))
    ).all()
    counts = {(status, kind): (n, oldest) for status, kind, n, oldest in rows}
    waiting, oldest = counts.get(("queued", "live"), (0, None))
    if oldest is not None and oldest.tzinfo is None:  # SQLite's MIN() skips the column type
        oldest = oldest.replace(tzinfo=UTC)
    return WallQueue(
        waiting=waiting,
        oldest_waiting_since=oldest,
        longest_wait_seconds=(now - oldest).total_seconds() if oldest else None,
        with_agent=sum(n for (status, _kind), (n, _at) in counts.items() if status == "active"),
        offline=sum(n for (status, _kind), (n, _at) in counts.items() if status == "offline"),
    )


def _agents(session: Session) -> WallAgents:
    rows = session.exec(
        select(AgentProfile, StaffUser)
        .where(col(AgentProfile.user_id) == col(StaffUser.id))
        .where(col(StaffUser.disabled).is_(False))
    ).all()
    agents = sorted(
        (
            WallAgent(
                username=user.username,
                display_name=user.display_name,
                role=user.role,
                presence=profile.presence,
                presence_since=profile.presence_changed_at,
                active_chats=profile.active_chats,
                max_chats=profile.max_chats,
            )
            for profile, user in rows
        ),
        key=lambda a: (_PRESENCE_ORDER.get(a.presence, 3), a.display_name.lower(), a.username),
    )

    def count(presence: str) -> int:
        return sum(1 for a in agents if a.presence == presence)

    return WallAgents(
        online=count("online"), away=count("away"), offline=count("offline"), agents=agents
    )


def _sla(session: Session, now: datetime, target: timedelta, warning: timedelta) -> WallSla:
    """Live tickets with no human reply yet, as ``handoff.dispatch.flag_breaches`` sees them,
    from the moment their time left falls within the warning window."""
    awaiting = (
        col(Ticket.status).in_(("queued", "active")),
        col(Ticket.kind) == "live",
        col(Ticket.first_response_at).is_(None),
        col(Ticket.created_at) <= now - target + warning,
    )
    late = col(Ticket.created_at) <= now - target
    listed, breached = session.exec(
        select(func.count(), func.coalesce(func.sum(case((late, 1), else_=0)), 0)).where(*awaiting)
    ).one()
    rows = session.exec(
        select(Ticket, StaffUser.display_name)
        .outerjoin(StaffUser, col(StaffUser.id) == col(Ticket.agent_id))
        .where(*awaiting)
        .order_by(col(Ticket.created_at), col(Ticket.id))
        .limit(SLA_ROWS)
    ).all()
    tickets = [
        WallSlaTicket(
            ticket_id=ticket.id or 0,
            conversation_id=ticket.conversation_id,
            status=ticket.status,
            team=ticket.team,
            priority=Priority(min(max(ticket.priority, 0), Priority.urgent)).name,
            agent=agent,
            waiting_since=ticket.created_at,
            deadline=ticket.created_at + target,
            seconds_left=(ticket.created_at + target - now).total_seconds(),
            breached=ticket.sla_breached or ticket.created_at + target <= now,
        )
        for ticket, agent in rows
    ]
    return WallSla(
        first_response_seconds=int(target.total_seconds()),
        warning_seconds=warning.total_seconds(),
        near=int(listed) - int(breached),
        breached=int(breached),
        tickets=tickets,
    )


def _today(engine: Engine, now: datetime, timezone: str) -> WallToday:
    zone = _zone(timezone)
    since = day_start(now, zone)
    data = load(engine, Filters(start=since))
    contained = containment(data)
    escalated = escalation(data)
    rated = satisfaction(data.feedback)
    return WallToday(
        since=since,
        timezone=zone.key,
        conversations=contained.denominator,
        containment=contained.rate,
        contained=contained.numerator,
        csat_mean=rated.csat_mean,
        csat_responses=rated.responses,
        escalations=escalated.overall.numerator,
        escalations_by_reason=[
            WallReason(reason=k.key, conversations=k.conversations) for k in escalated.by_reason
        ],
    )
