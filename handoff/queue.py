"""The queue's atomic moves (claim, release) and what it looks like from a waiting customer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlmodel import Session, col, select

from core.clock import utcnow
from core.conversations import Conversation, ConversationState

from .agents import candidates
from .assignment import is_eligible
from .config import DeskConfig
from .errors import AlreadyClaimedError, AtCapacityError
from .models import AgentProfile, Ticket

__all__ = ["Place", "claim_ticket", "open_ticket_of", "places", "release_agent", "rows_changed"]

CLAIMABLE = ("queued", "offline")
OPEN = ("queued", "active", "offline")


@dataclass(frozen=True)
class Place:
    position: int
    eta_seconds: int


def rows_changed(result: Any) -> int:
    """How many rows an UPDATE changed."""
    return int(cast(CursorResult[Any], result).rowcount)


def claim_ticket(session: Session, *, ticket_id: int, agent_id: int) -> None:
    """Give the ticket to the agent, or raise; the caller's transaction commits or rolls back.

    Both conditional UPDATEs are atomic on SQLite (one writer at a time) and PostgreSQL (the
    second writer waits for the row lock and re-checks the WHERE): of two agents claiming the
    same ticket exactly one changes a row, and an agent never passes their maximum.
    """
    now = utcnow()
    room = session.execute(
        update(AgentProfile)
        .where(col(AgentProfile.user_id) == agent_id)
        .where(col(AgentProfile.active_chats) < col(AgentProfile.max_chats))
        .values(active_chats=col(AgentProfile.active_chats) + 1, last_assigned_at=now)
    )
    if not rows_changed(room):
        raise AtCapacityError("you are at your maximum number of concurrent chats")
    won = session.execute(
        update(Ticket)
        .where(col(Ticket.id) == ticket_id)
        .where(col(Ticket.status).in_(CLAIMABLE))
        .values(status="active", agent_id=agent_id, assigned_at=now)
    )
    if not rows_changed(won):
        raise AlreadyClaimedError("someone else has already taken this chat")
    session.execute(
        update(Conversation)
        .where(
            col(Conversation.id)
            == select(Ticket.conversation_id).where(col(Ticket.id) == ticket_id).scalar_subquery()
        )
        .where(col(Conversation.state) != ConversationState.closed)
        .values(state=ConversationState.agent)
    )


def release_agent(session: Session, agent_id: int | None) -> None:
    if agent_id is None:
        return
    session.execute(
        update(AgentProfile)
        .where(col(AgentProfile.user_id) == agent_id)
        .where(col(AgentProfile.active_chats) > 0)
        .values(active_chats=col(AgentProfile.active_chats) - 1)
    )


def open_ticket_of(session: Session, conversation_id: str) -> Ticket | None:
    return session.exec(
        select(Ticket)
        .where(col(Ticket.conversation_id) == conversation_id, col(Ticket.status).in_(OPEN))
        .order_by(col(Ticket.id).desc())
    ).first()


def _mean_handle_seconds(session: Session, config: DeskConfig) -> float:
    recent = session.exec(
        select(Ticket)
        .where(col(Ticket.resolution) == "closed", col(Ticket.assigned_at).is_not(None))
        .order_by(col(Ticket.closed_at).desc())
        .limit(20)
    ).all()
    spans = [
        (t.closed_at - t.assigned_at).total_seconds()
        for t in recent
        if t.closed_at and t.assigned_at
    ]
    return sum(spans) / len(spans) if spans else config.default_handle_seconds


def places(
    session: Session, config: DeskConfig, *, now: datetime | None = None
) -> dict[str, Place]:
    """Each waiting live conversation's place in its team's line, and the wait to expect.

    Wait = position x recent mean handle time / online agents of the team: with n people each
    finishing a chat every h seconds on average, a line of p clears in about p*h/n.
    """
    queued = session.exec(
        select(Ticket)
        .where(col(Ticket.status) == "queued", col(Ticket.kind) == "live")
        .order_by(col(Ticket.priority).desc(), col(Ticket.created_at), col(Ticket.id))
    ).all()
    if not queued:
        return {}
    handle = _mean_handle_seconds(session, config)
    agents = candidates(session)
    result: dict[str, Place] = {}
    lines: dict[str, int] = {}
    for ticket in queued:
        position = lines.get(ticket.team, 0) + 1
        lines[ticket.team] = position
        online = sum(
            1 for a in agents if is_eligible(a, team=ticket.team, language=ticket.language)
        )
        result[ticket.conversation_id] = Place(position, round(position * handle / max(1, online)))
    return result
