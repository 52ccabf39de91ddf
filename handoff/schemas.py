"""What the desk's APIs return."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session

from core.clock import utcnow
from core.conversations import Conversation
from core.staff import StaffUser

from .models import Ticket
from .priority import Priority

__all__ = ["AgentRef", "ChannelNamer", "CustomerRef", "TicketPublic", "channel_of", "ticket_public"]

# The name of a channel row by id; the composition root passes the channels package's lookup
# (handoff may not import it). A conversation of the widget (``web``) has no channel row.
ChannelNamer = Callable[[Session, int], str | None]


class AgentRef(BaseModel):
    username: str
    display_name: str


class CustomerRef(BaseModel):
    name: str | None
    email: str | None
    tier: str


class TicketPublic(BaseModel):
    id: int
    conversation_id: str
    status: str
    kind: str
    reason: str
    detail: str
    priority: str
    sla_breached: bool
    language: str
    topic: str | None
    team: str
    agent: AgentRef | None
    customer: CustomerRef
    summary: str
    transfers: int
    resolution: str | None
    created_at: datetime
    waiting_seconds: float
    assigned_at: datetime | None
    first_response_at: datetime | None
    closed_at: datetime | None
    offline_message: str | None
    last_seq: int
    # How the customer reached us: "web" (the widget), "api", ...; and that channel's name.
    channel: str = "web"
    channel_name: str | None = None


def channel_of(
    session: Session, conversation: Conversation | None, namer: ChannelNamer | None
) -> dict[str, str | None]:
    """``{"kind": ..., "name": ...}``: the conversation's channel, named if it has a row."""
    if conversation is None:
        return {"kind": "web", "name": None}
    name = None
    if conversation.channel_id is not None and namer is not None:
        name = namer(session, conversation.channel_id)
    return {"kind": conversation.channel, "name": name}


def ticket_public(
    session: Session, ticket: Ticket, namer: ChannelNamer | None = None
) -> TicketPublic:
    agent = session.get(StaffUser, ticket.agent_id) if ticket.agent_id else None
    conversation = session.get(Conversation, ticket.conversation_id)
    channel = channel_of(session, conversation, namer)
    until = ticket.first_response_at or ticket.closed_at or utcnow()
    return TicketPublic(
        id=ticket.id or 0,
        conversation_id=ticket.conversation_id,
        status=ticket.status,
        kind=ticket.kind,
        reason=ticket.reason,
        detail=ticket.detail,
        priority=Priority(ticket.priority).name,
        sla_breached=ticket.sla_breached,
        language=ticket.language,
        topic=ticket.topic,
        team=ticket.team,
        agent=AgentRef(username=agent.username, display_name=agent.display_name) if agent else None,
        customer=CustomerRef(
            name=conversation.customer_name if conversation else None,
            email=(conversation.customer_email if conversation else None) or ticket.offline_email,
            tier=ticket.customer_tier,
        ),
        summary=ticket.summary,
        transfers=ticket.transfers,
        resolution=ticket.resolution,
        created_at=ticket.created_at,
        waiting_seconds=round(max(0.0, (until - ticket.created_at).total_seconds()), 1),
        assigned_at=ticket.assigned_at,
        first_response_at=ticket.first_response_at,
        closed_at=ticket.closed_at,
        offline_message=ticket.offline_message,
        last_seq=conversation.last_seq if conversation else 0,
        channel=channel["kind"] or "web",
        channel_name=channel["name"],
    )


def as_json(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")
