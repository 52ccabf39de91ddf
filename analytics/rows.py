"""The plain rows the metrics are computed from, detached from the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "AgentRow",
    "ConversationRow",
    "Dataset",
    "EventRow",
    "ExchangeRow",
    "FeedbackRow",
    "FollowUpRow",
    "ReviewRow",
    "TicketRow",
]


@dataclass(frozen=True)
class ConversationRow:
    id: str
    created_at: datetime
    closed_at: datetime | None = None
    state: str = "bot"
    customer_wrote: bool = True
    channel: str = "web"  # how the customer reached us: web (the widget), api, ...


@dataclass(frozen=True)
class EventRow:
    """Only the lifecycle events the metrics need: escalated, closed, reopened, agent.left."""

    conversation_id: str
    seq: int
    type: str
    created_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExchangeRow:
    conversation_id: str
    created_at: datetime
    decision: str
    latency_ms: float = 0.0
    sentiment_score: float = 0.0
    intent: str | None = None
    intent_in_scope: bool | None = None
    reply_seq: int | None = None


@dataclass(frozen=True)
class TicketRow:
    id: int
    conversation_id: str
    created_at: datetime
    reason: str = "asked_for_person"
    kind: str = "live"
    agent_id: int | None = None
    transfers: int = 0
    resolution: str | None = None
    sla_breached: bool = False
    assigned_at: datetime | None = None
    first_response_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True)
class FeedbackRow:
    conversation_id: str
    csat: int
    nps: int | None = None
    person_handled: bool = False
    agent_id: int | None = None


@dataclass(frozen=True)
class ReviewRow:
    """A submitted quality review: the reviewed agent and the score, 0-100."""

    conversation_id: str
    agent_id: int
    score: float


@dataclass(frozen=True)
class FollowUpRow:
    """A follow-up survey that was due (skipped closes are not loaded). ``asked``: e-mailed,
    shown in the widget, or answered."""

    conversation_id: str
    asked: bool = True
    answer: str | None = None  # solved | not_solved


@dataclass(frozen=True)
class AgentRow:
    user_id: int
    username: str
    display_name: str


@dataclass(frozen=True)
class Dataset:
    conversations: tuple[ConversationRow, ...] = ()
    events: tuple[EventRow, ...] = ()
    exchanges: tuple[ExchangeRow, ...] = ()
    tickets: tuple[TicketRow, ...] = ()
    feedback: tuple[FeedbackRow, ...] = ()
    agents: tuple[AgentRow, ...] = ()
    follow_ups: tuple[FollowUpRow, ...] = ()
    reviews: tuple[ReviewRow, ...] = ()
