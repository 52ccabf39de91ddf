"""The handoff desk's tables: agents' working profiles, tickets, canned responses, feedback."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from core.clock import utcnow
from core.db import UTCDateTime

__all__ = [
    "AgentProfile",
    "AssistUse",
    "CannedResponse",
    "Complaint",
    "Feedback",
    "QualityReview",
    "QualityRubric",
    "ServicePhrase",
    "ServicePhraseUse",
    "Ticket",
]


class AgentProfile(SQLModel, table=True):
    """How a staff member works the queue; created on first use with the desk's defaults."""

    __tablename__ = "agent_profile"

    user_id: int = Field(primary_key=True, foreign_key="staff_user.id")
    presence: str = Field(default="offline", max_length=16)
    max_chats: int = 3
    # Kept in step with the tickets this agent owns, inside the same transactions; the
    # conditional increment is what makes capacity hold under concurrent claims.
    active_chats: int = 0
    teams: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Empty means any language.
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    last_assigned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    presence_changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Ticket(SQLModel, table=True):
    __tablename__ = "handoff_ticket"
    __table_args__ = (Index("ix_handoff_ticket_status_team", "status", "team"),)

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(foreign_key="conversation.id", max_length=32, index=True)
    kind: str = Field(default="live", max_length=16)  # live | offline
    status: str = Field(default="queued", max_length=16)  # queued | active | offline | closed
    reason: str = Field(max_length=48)
    detail: str = Field(default="", max_length=500)
    # 0 normal, 1 high, 2 urgent; sorted on directly.
    priority: int = 0
    sla_breached: bool = False
    breached_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    language: str = Field(default="en", max_length=8)
    topic: str | None = Field(default=None, max_length=64)
    team: str = Field(max_length=64)
    agent_id: int | None = Field(default=None, foreign_key="staff_user.id", index=True)
    summary: str = Field(default="", max_length=500)
    customer_tier: str = Field(default="standard", max_length=16)
    offline_email: str | None = Field(default=None, max_length=254)
    offline_message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    transfers: int = 0
    resolution: str | None = Field(default=None, max_length=24)  # closed | handed_back | abandoned
    reopened_from: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    assigned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_response_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CannedResponse(SQLModel, table=True):
    __tablename__ = "canned_response"

    id: int | None = Field(default=None, primary_key=True)
    shortcut: str = Field(max_length=32, unique=True)
    title: str = Field(max_length=128)
    text: str = Field(sa_column=Column(Text, nullable=False))
    language: str | None = Field(default=None, max_length=8)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Feedback(SQLModel, table=True):
    """The customer's satisfaction with one closed conversation: CSAT 1-5, NPS 0-10."""

    __tablename__ = "conversation_feedback"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(foreign_key="conversation.id", max_length=32, unique=True)
    ticket_id: int | None = Field(default=None, foreign_key="handoff_ticket.id")
    agent_id: int | None = Field(default=None, foreign_key="staff_user.id")
    person_handled: bool = False
    csat: int
    nps: int | None = None
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ServicePhrase(SQLModel, table=True):
    """A word or phrase agents should not send, with better ones to say instead."""

    __tablename__ = "service_phrase"

    id: int | None = Field(default=None, primary_key=True)
    phrase: str = Field(max_length=128)
    # None: checked in every language.
    language: str | None = Field(default=None, max_length=8)
    alternatives: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ServicePhraseUse(SQLModel, table=True):
    """One reply an agent sent with a listed phrase in it, after the warning. The phrase is
    copied so that the report outlives an edit or deletion of the list."""

    __tablename__ = "service_phrase_use"

    id: int | None = Field(default=None, primary_key=True)
    phrase_id: int | None = Field(default=None, index=True)
    phrase: str = Field(max_length=128)
    agent_id: int | None = Field(default=None, index=True)
    conversation_id: str = Field(max_length=32)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class AssistUse(SQLModel, table=True):
    """One agent-assist suggestion that an agent put into a reply."""

    __tablename__ = "assist_use"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(max_length=32)
    agent_id: int | None = Field(default=None, index=True)
    kind: str = Field(max_length=16)  # faq | canned
    item_id: str = Field(max_length=64)
    # Its place among the suggestions shown, from 1.
    rank: int = 1
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class Complaint(SQLModel, table=True):
    """A conversation marked a complaint: a level with its deadline, a category, and at the end
    the root cause (handoff/complaints.py). One per conversation."""

    __tablename__ = "complaint"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(
        foreign_key="conversation.id", max_length=32, unique=True, index=True
    )
    level: str = Field(max_length=16)  # urgent | important | normal
    category: str = Field(max_length=64)
    summary: str = Field(default="", max_length=500)
    status: str = Field(default="open", max_length=16, index=True)  # open | resolved
    source: str = Field(max_length=16)  # bot | agent
    opened_by: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    deadline_at: datetime = Field(sa_type=UTCDateTime, index=True)
    warned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    overdue_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: int | None = Field(default=None)
    root_cause: str | None = Field(default=None, max_length=64)
    resolution: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class QualityRubric(SQLModel, table=True):
    """One version of the quality-review rubric (handoff/quality.py). Versions are never
    changed or deleted: a review names the version it was scored against, so changing the
    rubric never changes what an old score meant. The newest version is the rubric."""

    __tablename__ = "quality_rubric"

    id: int | None = Field(default=None, primary_key=True)
    # [{key, name, name_zh, description, weight, max_points, critical}, ...]
    criteria: list[dict[str, object]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    created_by: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class QualityReview(SQLModel, table=True):
    """One closed conversation sampled for review, then scored: at most one per conversation,
    so a conversation is never sampled twice."""

    __tablename__ = "quality_review"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(
        foreign_key="conversation.id", max_length=32, unique=True, index=True
    )
    # The conversation's final owner (its latest live ticket's agent): the one reviewed.
    ticket_id: int | None = Field(default=None)
    agent_id: int = Field(index=True)
    # Who sampled it; once submitted, who scored it.
    reviewer_id: int = Field(index=True)
    status: str = Field(default="pending", max_length=16, index=True)  # pending | submitted
    rubric_id: int | None = Field(default=None, foreign_key="quality_rubric.id")
    # {criterion key: points}
    scores: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Weighted points over weighted maximum, 0-100; 0 when a critical criterion failed.
    score: float | None = Field(default=None)
    critical_failed: bool = False
    comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    sample_seed: int | None = Field(default=None)
    sampled_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
