"""The exchange log: one row per customer message the bot considered, for analytics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import computed_field
from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from core.clock import utcnow
from core.db import UTCDateTime

from .slots import extract_slots

__all__ = ["Exchange"]


class Exchange(SQLModel, table=True):
    __tablename__ = "bot_exchange"
    __table_args__ = (Index("ix_bot_exchange_reply", "conversation_id", "reply_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(foreign_key="conversation.id", max_length=32, index=True)
    message_seq: int
    reply_seq: int | None = None
    text: str = Field(sa_column=Column(Text, nullable=False))
    language: str = Field(max_length=8)
    intent: str | None = Field(default=None, max_length=64)
    intent_confidence: float | None = None
    intent_in_scope: bool | None = None
    runners_up: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    retrieved: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    sentiment_label: str = Field(max_length=16)
    sentiment_score: float
    sentiment: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    decision: str = Field(max_length=24, index=True)
    reason: str = Field(max_length=48)
    detail: str = Field(default="", max_length=500)
    entry_id: str | None = Field(default=None, max_length=64)
    model_versions: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    latency_ms: float
    helpful: bool | None = None
    rated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)

    # Read from the text rather than stored, so the log needs no column of its own.
    @computed_field  # type: ignore[prop-decorator]
    @property
    def slots(self) -> list[dict[str, str]]:
        """The order numbers, e-mails, phones and amounts this message gave."""
        return [
            {"kind": s.kind, "value": s.value, "text": s.text} for s in extract_slots(self.text)
        ]
