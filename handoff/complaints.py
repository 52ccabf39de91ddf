"""Complaints on a clock: a conversation marked a complaint gets a level (urgent, important,
normal) and a deadline of 24, 48 or 72 hours by level; its owner is warned before the deadline,
supervisors when it passes; its resolution records the root cause.

A complaint is opened by the bot, when a conversation is handed over on one of the complaint
intents (``KEFU_COMPLAINT_INTENTS``), or by an agent who can act on the chat (docs/handoff.md,
"Complaints"). Its owner is the agent of the conversation's latest ticket, so a transfer moves
it with the chat. ``sweep_complaints`` runs in the dispatcher's sweep, on one process at a time:
each complaint is warned once and escalated once, with an internal event in the conversation
and a console notice for whoever must act.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from core.auth import Actor, ForbiddenError
from core.clock import utcnow
from core.conversations import Conversation, ConversationEvent, append_event
from core.db import session_scope
from core.errors import NotFoundError
from core.settings import Settings
from core.staff import Role, StaffUser
from core.text import StoredText

from .agents import can_act, can_see, ensure_profile
from .config import DeskConfig
from .errors import (
    AlreadyComplaintError,
    ComplaintResolvedError,
    UnknownCategoryError,
    UnknownRootCauseError,
)
from .models import Complaint, Ticket

__all__ = [
    "LEVELS",
    "ComplaintChange",
    "ComplaintDesk",
    "ComplaintIn",
    "ComplaintPublic",
    "ComplaintResolveIn",
    "ComplaintRules",
    "Notice",
    "latest_ticket",
    "sweep_complaints",
]

Level = Literal["urgent", "important", "normal"]
LEVELS: tuple[Level, ...] = ("urgent", "important", "normal")
# The ticket's priority (0 normal, 1 high, 2 urgent) gives a bot-opened complaint its level.
_LEVEL_OF_PRIORITY: dict[int, Level] = {2: "urgent", 1: "important", 0: "normal"}
_URGENT_PRIORITY = 2


@dataclass(frozen=True)
class ComplaintRules:
    hours: dict[str, float] = field(
        default_factory=lambda: {"urgent": 24.0, "important": 48.0, "normal": 72.0}
    )
    # The owner is warned when less than this share of the time is left.
    warn_share: float = 0.25
    categories: tuple[str, ...] = ("general", "product", "delivery", "billing", "service")
    causes: tuple[str, ...] = ("product_defect", "logistics", "pricing", "staff", "other")
    # Intents whose handover opens a complaint.
    intents: frozenset[str] = frozenset({"complaint"})

    @classmethod
    def of(cls, settings: Settings) -> ComplaintRules:
        missing = set(LEVELS) - settings.complaint_hours.keys()
        if missing:
            raise ValueError(f"KEFU_COMPLAINT_HOURS needs hours for {', '.join(sorted(missing))}")
        return cls(
            hours={level: float(settings.complaint_hours[level]) for level in LEVELS},
            warn_share=settings.complaint_warn_share,
            categories=tuple(settings.complaint_categories),
            causes=tuple(settings.complaint_causes),
            intents=frozenset(settings.complaint_intents),
        )

    def deadline(self, level: str, opened: datetime) -> datetime:
        return opened + timedelta(hours=self.hours[level])

    def warn_at(self, level: str, opened: datetime) -> datetime:
        return opened + timedelta(hours=self.hours[level] * (1 - self.warn_share))


class ComplaintIn(BaseModel):
    level: Level = "normal"
    category: str = Field(default="general", min_length=1, max_length=64)
    summary: StoredText = Field(default="", max_length=500)


class ComplaintChange(BaseModel):
    level: Level | None = None
    category: str | None = Field(default=None, min_length=1, max_length=64)
    summary: StoredText | None = Field(default=None, max_length=500)


class ComplaintResolveIn(BaseModel):
    root_cause: str = Field(min_length=1, max_length=64)
    resolution: StoredText = Field(min_length=1, max_length=2000)


class ComplaintPublic(BaseModel):
    id: int
    conversation_id: str
    ticket_id: int | None
    customer_name: str | None
    level: str
    category: str
    summary: str
    status: str
    source: str
    owner: str | None  # the display name of the latest ticket's agent
    created_at: datetime
    deadline_at: datetime
    # Negative once overdue; for a resolved complaint, the time that was left at resolution.
    seconds_left: int
    overdue: bool
    warned_at: datetime | None
    overdue_at: datetime | None
    resolved_at: datetime | None
    on_time: bool | None  # resolved by the deadline; None while open
    root_cause: str | None
    resolution: str | None


@dataclass(frozen=True)
class Notice:
    """A console notice for the staff who must act: the owner, or every supervisor."""

    frame: dict[str, Any]
    user_ids: tuple[int, ...] = ()
    roles: tuple[str, ...] = ()

    def envelope(self) -> dict[str, Any]:
        """What is published on STAFF_CHANNEL: the frame and whom it is for (the agent socket's
        ``_addressed`` reads ``to``)."""
        return {
            "frame": self.frame,
            "to": {"user_ids": list(self.user_ids), "roles": list(self.roles)},
        }


def latest_ticket(session: Session, conversation_id: str) -> Ticket | None:
    """The conversation's newest ticket: its agent owns the conversation's complaint."""
    return session.exec(
        select(Ticket)
        .where(col(Ticket.conversation_id) == conversation_id)
        .order_by(col(Ticket.id).desc())
        .limit(1)
    ).first()


def _public(session: Session, complaint: Complaint, now: datetime) -> ComplaintPublic:
    ticket = latest_ticket(session, complaint.conversation_id)
    owner = session.get(StaffUser, ticket.agent_id) if ticket and ticket.agent_id else None
    conversation = session.get(Conversation, complaint.conversation_id)
    until = complaint.resolved_at or now
    left = math.floor((complaint.deadline_at - until).total_seconds())
    return ComplaintPublic(
        id=complaint.id or 0,
        conversation_id=complaint.conversation_id,
        ticket_id=ticket.id if ticket else None,
        customer_name=conversation.customer_name if conversation else None,
        level=complaint.level,
        category=complaint.category,
        summary=complaint.summary,
        status=complaint.status,
        source=complaint.source,
        owner=(owner.display_name or owner.username) if owner else None,
        created_at=complaint.created_at,
        deadline_at=complaint.deadline_at,
        seconds_left=left,
        overdue=until > complaint.deadline_at,
        warned_at=complaint.warned_at,
        overdue_at=complaint.overdue_at,
        resolved_at=complaint.resolved_at,
        on_time=None if complaint.resolved_at is None else until <= complaint.deadline_at,
        root_cause=complaint.root_cause,
        resolution=complaint.resolution,
    )


def _event(session: Session, complaint: Complaint, kind: str, **extra: Any) -> ConversationEvent:
    """An internal event in the conversation: agents see the complaint's story there."""
    return append_event(
        session,
        conversation_id=complaint.conversation_id,
        type=f"complaint.{kind}",
        author="system",
        payload={
            "complaint_id": complaint.id,
            "level": complaint.level,
            "category": complaint.category,
            "deadline_at": complaint.deadline_at.isoformat(),
            **extra,
        },
        internal=True,
    )


class ComplaintDesk:
    def __init__(self, engine: Engine, config: DeskConfig, rules: ComplaintRules) -> None:
        self.engine = engine
        self.config = config
        self.rules = rules

    # -- opening -------------------------------------------------------------------------------

    def open_from_bot(
        self,
        session: Session,
        conversation: Conversation,
        *,
        intent: str | None,
        ticket: Ticket | None,
    ) -> ConversationEvent | None:
        """In the bot's escalation transaction: a handover on a complaint intent opens one."""
        if intent not in self.rules.intents:
            return None
        if session.exec(
            select(Complaint).where(col(Complaint.conversation_id) == conversation.id)
        ).first():
            return None
        level = _LEVEL_OF_PRIORITY.get(ticket.priority if ticket else 0, "normal")
        now = utcnow()
        complaint = Complaint(
            conversation_id=conversation.id,
            level=level,
            category=self.rules.categories[0],
            summary=(ticket.summary if ticket else "")[:500],
            source="bot",
            created_at=now,
            deadline_at=self.rules.deadline(level, now),
        )
        session.add(complaint)
        session.flush()
        return _event(session, complaint, "opened", source="bot")

    def open_for_ticket(
        self, *, ticket_id: int, actor: Actor, body: ComplaintIn
    ) -> tuple[ComplaintPublic, ConversationEvent]:
        self._check_category(body.category)
        with session_scope(self.engine) as session:
            ticket = self._ticket(session, ticket_id, actor)
            taken = session.exec(
                select(Complaint).where(col(Complaint.conversation_id) == ticket.conversation_id)
            ).first()
            if taken is not None:
                raise AlreadyComplaintError(f"this conversation is already complaint {taken.id}")
            now = utcnow()
            complaint = Complaint(
                conversation_id=ticket.conversation_id,
                level=body.level,
                category=body.category,
                summary=body.summary.strip() or ticket.summary[:500],
                source="agent",
                opened_by=actor.user_id,
                created_at=now,
                deadline_at=self.rules.deadline(body.level, now),
            )
            session.add(complaint)
            session.flush()
            event = _event(session, complaint, "opened", source="agent", by=actor.display_name)
            return _public(session, complaint, now), event

    # -- working it ----------------------------------------------------------------------------

    def change(
        self, *, complaint_id: int, actor: Actor, body: ComplaintChange
    ) -> tuple[ComplaintPublic, ConversationEvent | None]:
        if body.category is not None:
            self._check_category(body.category)
        with session_scope(self.engine) as session:
            complaint = self._complaint(session, complaint_id, actor, act=True)
            if complaint.status != "open":
                raise ComplaintResolvedError("this complaint is resolved")
            event = None
            if body.level is not None and body.level != complaint.level:
                complaint.level = body.level
                # The clock runs from the complaint's opening; a new level moves its deadline,
                # and the warning and escalation are owed again against the new one.
                complaint.deadline_at = self.rules.deadline(body.level, complaint.created_at)
                complaint.warned_at = None
                complaint.overdue_at = None
                event = _event(session, complaint, "changed", by=actor.display_name)
            if body.category is not None:
                complaint.category = body.category
            if body.summary is not None:
                complaint.summary = body.summary.strip()
            session.add(complaint)
            return _public(session, complaint, utcnow()), event

    def resolve(
        self, *, complaint_id: int, actor: Actor, body: ComplaintResolveIn
    ) -> tuple[ComplaintPublic, ConversationEvent]:
        if body.root_cause not in self.rules.causes:
            raise UnknownRootCauseError(
                f"unknown root cause {body.root_cause!r}; one of: {', '.join(self.rules.causes)}"
            )
        with session_scope(self.engine) as session:
            complaint = self._complaint(session, complaint_id, actor, act=True)
            if complaint.status != "open":
                raise ComplaintResolvedError("this complaint is resolved")
            now = utcnow()
            complaint.status = "resolved"
            complaint.resolved_at = now
            complaint.resolved_by = actor.user_id
            complaint.root_cause = body.root_cause
            complaint.resolution = body.resolution.strip()
            session.add(complaint)
            session.flush()
            event = _event(
                session,
                complaint,
                "resolved",
                by=actor.display_name,
                root_cause=body.root_cause,
                on_time=now <= complaint.deadline_at,
            )
            return _public(session, complaint, now), event

    # -- reading -------------------------------------------------------------------------------

    def get(self, *, complaint_id: int, actor: Actor) -> ComplaintPublic:
        with Session(self.engine) as session:
            complaint = self._complaint(session, complaint_id, actor, act=False)
            return _public(session, complaint, utcnow())

    def of_conversation(self, *, conversation_id: str) -> ComplaintPublic | None:
        with Session(self.engine) as session:
            complaint = session.exec(
                select(Complaint).where(col(Complaint.conversation_id) == conversation_id)
            ).first()
            return _public(session, complaint, utcnow()) if complaint else None

    def register(self, *, actor: Actor, status: str, level: str | None) -> list[ComplaintPublic]:
        """Complaints by time left (the most pressing first); agents see the ones they own."""
        with Session(self.engine) as session:
            query = select(Complaint)
            if status != "all":
                query = query.where(col(Complaint.status) == status)
            if level is not None:
                query = query.where(col(Complaint.level) == level)
            rows = session.exec(query.order_by(col(Complaint.deadline_at), col(Complaint.id)))
            now = utcnow()
            shown = []
            for complaint in rows.all():
                if actor.role == Role.agent:
                    ticket = latest_ticket(session, complaint.conversation_id)
                    if ticket is None or ticket.agent_id != actor.user_id:
                        continue
                shown.append(_public(session, complaint, now))
            return shown

    def counts(self) -> dict[str, int]:
        """Open complaints per level, for the console's badge."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(Complaint.level, func.count())
                .where(col(Complaint.status) == "open")
                .group_by(col(Complaint.level))
            ).all()
        return {level: int(n) for level, n in rows}

    # -- checks --------------------------------------------------------------------------------

    def _check_category(self, category: str) -> None:
        if category not in self.rules.categories:
            raise UnknownCategoryError(
                f"unknown category {category!r}; one of: {', '.join(self.rules.categories)}"
            )

    def _ticket(self, session: Session, ticket_id: int, actor: Actor) -> Ticket:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            raise NotFoundError(f"no ticket {ticket_id}")
        profile = ensure_profile(session, actor.user_id, self.config)
        if not can_see(actor, profile, ticket) or not can_act(actor, ticket):
            raise ForbiddenError("this conversation belongs to another agent or team")
        return ticket

    def _complaint(
        self, session: Session, complaint_id: int, actor: Actor, *, act: bool
    ) -> Complaint:
        complaint = session.get(Complaint, complaint_id)
        if complaint is None:
            raise NotFoundError(f"no complaint {complaint_id}")
        if actor.role != Role.agent:
            return complaint
        ticket = latest_ticket(session, complaint.conversation_id)
        profile = ensure_profile(session, actor.user_id, self.config)
        if ticket is None or not can_see(actor, profile, ticket):
            raise ForbiddenError("this complaint belongs to another agent or team")
        if act and not can_act(actor, ticket):
            raise ForbiddenError("this complaint belongs to another agent")
        return complaint


def sweep_complaints(
    engine: Engine, rules: ComplaintRules, now: datetime | None = None
) -> tuple[list[ConversationEvent], list[Notice]]:
    """Warn owners of complaints near their deadline and escalate overdue ones to supervisors,
    each once; idempotent, so any process may run it (the dispatcher's leader does)."""
    now = now or utcnow()
    events: list[ConversationEvent] = []
    notices: list[Notice] = []
    with session_scope(engine) as session:
        open_ = session.exec(
            select(Complaint).where(
                col(Complaint.status) == "open", col(Complaint.overdue_at).is_(None)
            )
        ).all()
        for complaint in open_:
            if now >= complaint.deadline_at:
                kind = "overdue"
            elif complaint.warned_at is None and now >= rules.warn_at(
                complaint.level, complaint.created_at
            ):
                kind = "due_soon"
            else:
                continue  # most complaints, most ticks: nothing to read or write
            ticket = latest_ticket(session, complaint.conversation_id)
            owner = ticket.agent_id if ticket else None
            # As it stood before this sweep, for the notice.
            shown = _public(session, complaint, now).model_dump(mode="json")
            complaint.warned_at = complaint.warned_at or now
            if kind == "overdue":
                complaint.overdue_at = now
                if ticket is not None and ticket.status != "closed":
                    ticket.priority = _URGENT_PRIORITY
                    session.add(ticket)
            session.add(complaint)
            events.append(_event(session, complaint, kind))
            supervisors = (Role.supervisor.value, Role.admin.value)
            notices.append(
                Notice(
                    {"type": f"complaint.{kind}", "complaint": shown},
                    user_ids=(owner,) if owner else (),
                    # Overdue: the supervisors always. Due soon: only when nobody owns it yet.
                    roles=supervisors if kind == "overdue" or not owner else (),
                )
            )
    return events, notices
