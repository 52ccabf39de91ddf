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

__all__ = ["BotAction", "Exchange"]


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
    # The business system the turn asked (bot/actions.py): action, slots used (masked as
    # ``text`` is), status code, latency_ms and outcome; None when no action ran.
    action: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
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


class BotAction(SQLModel, table=True):
    """An HTTP endpoint of the business's systems that an intent asks with its slots."""

    __tablename__ = "bot_action"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True, index=True)
    intent: str = Field(max_length=64, unique=True, index=True)
    method: str = Field(default="GET", max_length=8)
    url: str = Field(max_length=2000)
    headers: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    required_slots: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    timeout_seconds: float = 5.0
    # {"en": ..., "zh": ...} each: the answer, the question for a missing slot, and what a 404
    # says ("I couldn't find order X"; empty: a 404 is a failure like any other).
    reply: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    missing_slot: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    not_found: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The circuit breaker: open after this many failures in a row, for this long.
    failure_threshold: int = 3
    cooldown_seconds: float = 30.0
    enabled: bool = True
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
