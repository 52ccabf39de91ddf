"""Knowledge-base tables: FAQ entries, intents, and the revision log that versions both."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.clock import utcnow
from core.db import UTCDateTime

__all__ = ["FaqEntry", "Intent", "KbRevision"]


class FaqEntry(SQLModel, table=True):
    __tablename__ = "kb_faq_entry"

    id: str = Field(primary_key=True, max_length=64)
    question: str = Field(max_length=500)
    alternatives: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    answer: str = Field(sa_column=Column(Text, nullable=False))
    category: str = Field(default="general", max_length=64, index=True)
    language: str = Field(max_length=8, index=True)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="draft", max_length=16, index=True)
    version: int = 1
    author: str = Field(default="", max_length=128)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def phrasings(self) -> list[str]:
        return [self.question, *self.alternatives]


class Intent(SQLModel, table=True):
    __tablename__ = "kb_intent"

    name: str = Field(primary_key=True, max_length=64)
    description: str = Field(default="", max_length=500)
    # "respond" answers with responses[language]; "handoff" escalates to a person.
    action: str = Field(default="respond", max_length=16)
    responses: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    examples: dict[str, list[str]] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    version: int = 1
    author: str = Field(default="", max_length=128)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class KbRevision(SQLModel, table=True):
    """One change to one FAQ entry or intent: who, when, what, and the state afterwards."""

    __tablename__ = "kb_revision"
    __table_args__ = (
        UniqueConstraint("entity", "entity_id", "version", name="uq_kb_revision_version"),
        Index("ix_kb_revision_entity", "entity", "entity_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entity: str = Field(max_length=16)  # "faq" or "intent"
    entity_id: str = Field(max_length=64)
    version: int
    action: str = Field(max_length=16)
    author: str = Field(default="", max_length=128)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The entity's full state after the change; None once it is deleted.
    snapshot: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # field -> [before, after]
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
