"""Idempotency keys of an API channel's inbound messages.

A key maps to exactly one stored message: its row is written in the transaction that stores the
message, under a unique constraint on (channel, key), so of two requests racing with one key
exactly one commits and the other rolls back and finds the winner's row. The row remembers the
request's fingerprint (a different body with the same key is refused) and, once the bot's turn
is over, the response, which a retry gets back as it was.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, update
from sqlmodel import Field, Session, SQLModel, col, select

from core.clock import utcnow
from core.db import UTCDateTime

__all__ = ["KEY_TTL", "ChannelMessageKey", "find_key", "fingerprint", "remember_response"]

# A key older than this is forgotten: the same key then stores a new message.
KEY_TTL = timedelta(hours=24)


class ChannelMessageKey(SQLModel, table=True):
    __tablename__ = "channel_message_key"
    __table_args__ = (UniqueConstraint("channel_id", "key", name="uq_channel_message_key"),)

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="channel.id")
    key: str = Field(max_length=128)
    # SHA-256 of the request as parsed (contact, text, language): what "the same body" means.
    request_hash: str = Field(max_length=64)
    conversation_id: str = Field(foreign_key="conversation.id", max_length=32, index=True)
    message_seq: int
    # The response as first sent; None until the first request's bot turn is over.
    response: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def fingerprint(request: dict[str, Any]) -> str:
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def find_key(session: Session, channel_id: int, key: str) -> ChannelMessageKey | None:
    """The key's row, or None; an expired row is deleted here so the key can be used again."""
    row = session.exec(
        select(ChannelMessageKey).where(
            col(ChannelMessageKey.channel_id) == channel_id, col(ChannelMessageKey.key) == key
        )
    ).first()
    if row is not None and row.created_at < utcnow() - KEY_TTL:
        session.delete(row)
        session.flush()
        return None
    return row


def remember_response(session: Session, key_id: int, response: dict[str, Any]) -> None:
    """Keep the first response only: a retry that built one from the database may have won."""
    session.execute(
        update(ChannelMessageKey)
        .where(col(ChannelMessageKey.id) == key_id, col(ChannelMessageKey.response).is_(None))
        .values(response=response)
        .execution_options(synchronize_session=False)
    )
