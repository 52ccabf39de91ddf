"""What admins did with what the learning loop found, so a reviewed question is not shown again."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from core.clock import utcnow
from core.db import UTCDateTime

__all__ = ["LearningReview"]


class LearningReview(SQLModel, table=True):
    __tablename__ = "learning_review"

    exchange_id: int = Field(foreign_key="bot_exchange.id", primary_key=True)
    action: str = Field(max_length=16)  # faq | intent | dismiss
    target: str = Field(default="", max_length=64)  # the FAQ entry's id or the intent's name
    actor: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
