"""Conversations and their event log, the tables the bot and the handoff share.

Every event a participant sees is a row here with a per-conversation sequence number; the
realtime channels only notify, and a client that reconnects is replayed from this table.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import JSON, Column, UniqueConstraint, update
from sqlmodel import Field, Session, SQLModel, col, select

from .clock import utcnow
from .db import UTCDateTime
from .errors import KefuError, NotFoundError

__all__ = [
    "Conversation",
    "ConversationEvent",
    "ConversationState",
    "EventPublic",
    "InvalidTokenError",
    "TokenExpiredError",
    "append_event",
    "authenticate",
    "events_after",
    "find_client_event",
    "new_conversation",
    "note_seen",
    "rotate_token",
]


class ConversationState(StrEnum):
    bot = "bot"
    waiting_for_agent = "waiting_for_agent"
    agent = "agent"
    closed = "closed"


class InvalidTokenError(KefuError):
    code = "invalid_token"
    status = 401


class TokenExpiredError(KefuError):
    code = "token_expired"
    status = 401


class Conversation(SQLModel, table=True):
    __tablename__ = "conversation"

    id: str = Field(primary_key=True, max_length=32)
    # Only the SHA-256 of the customer's token is kept; the token itself is shown once.
    token_hash: str = Field(max_length=64)
    # Fixed at issue (no sliding): a leaked token dies at this time even if the thief keeps
    # using it. The customer's widget rotates it to get a fresh one (``rotate_token``).
    token_expires_at: datetime = Field(sa_type=UTCDateTime)
    state: str = Field(default=ConversationState.bot, max_length=24, index=True)
    language: str | None = Field(default=None, max_length=8)
    customer_name: str | None = Field(default=None, max_length=128)
    customer_email: str | None = Field(default=None, max_length=254, index=True)
    customer_tier: str = Field(default="standard", max_length=16)
    # The embedding site's own id for the customer, from a signed identity only.
    customer_external_id: str | None = Field(default=None, max_length=128, index=True)
    # True when the name, e-mail, tier and external id came signed by the embedding site's
    # secret. Unverified claims are shown as such: they never link earlier conversations and
    # never raise priority.
    identity_verified: bool = False
    # A legal hold exempts the conversation from the retention purge and from erasure.
    legal_hold: bool = False
    # How the customer reached us: ``web`` (the widget) or a kind of ``channel`` row
    # (``api``, ``wechat``, ``email``), which ``channel_id`` names.
    channel: str = Field(default="web", max_length=16, index=True)
    channel_id: int | None = Field(default=None, index=True)
    last_seq: int = 0
    # The highest seq the customer's widget was shown (its socket sent it, or a REST read or
    # send returned it): what is past it may reach them by e-mail (handoff/customer_mail.py).
    customer_seen_seq: int = 0
    consecutive_misses: int = 0
    escalation_reason: str | None = Field(default=None, max_length=64)
    # Sentiment scores of the customer's messages, oldest first.
    sentiment_scores: list[float] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # The "Did you mean" entries offered last, so a picked chip can be answered directly.
    pending_suggestions: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Until when the customer may reopen a closed conversation.
    reopen_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ConversationEvent(SQLModel, table=True):
    __tablename__ = "conversation_event"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_conversation_event_seq"),
        UniqueConstraint("conversation_id", "client_id", name="uq_conversation_event_client"),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(foreign_key="conversation.id", max_length=32, index=True)
    seq: int
    type: str = Field(max_length=48)
    author: str = Field(max_length=64)  # customer | bot | system | agent:<id>
    client_id: str | None = Field(default=None, max_length=64)
    # Staff-only (agents' notes): never replayed or relayed to the customer.
    internal: bool = False
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EventPublic(BaseModel):
    conversation_id: str
    seq: int
    type: str
    author: str
    client_id: str | None
    internal: bool = False
    payload: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, event: ConversationEvent) -> EventPublic:
        return cls(
            conversation_id=event.conversation_id,
            seq=event.seq,
            type=event.type,
            author=event.author,
            client_id=event.client_id,
            internal=event.internal,
            payload=event.payload,
            created_at=event.created_at,
        )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_conversation(
    session: Session,
    *,
    token_ttl: timedelta,
    language: str | None = None,
    name: str | None = None,
    email: str | None = None,
    tier: str = "standard",
    external_id: str | None = None,
    identity_verified: bool = False,
) -> tuple[Conversation, str]:
    """Create a conversation; the token is returned once and only its hash is stored."""
    token = secrets.token_urlsafe(32)
    conversation = Conversation(
        id=uuid.uuid4().hex,
        token_hash=_hash(token),
        token_expires_at=utcnow() + token_ttl,
        language=language,
        customer_name=name,
        customer_email=email,
        customer_tier=tier,
        customer_external_id=external_id,
        identity_verified=identity_verified,
    )
    session.add(conversation)
    session.flush()
    return conversation, token


def authenticate(session: Session, conversation_id: str, token: str | None) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFoundError("no such conversation")
    if not token or not hmac.compare_digest(conversation.token_hash, _hash(token)):
        raise InvalidTokenError("the conversation token is missing or wrong")
    if conversation.token_expires_at <= utcnow():
        raise TokenExpiredError(
            "the conversation token has expired; start a new conversation",
            details=[
                {"code": "token_expired", "expired_at": conversation.token_expires_at.isoformat()}
            ],
        )
    return conversation


def rotate_token(
    session: Session, conversation_id: str, token: str | None, *, token_ttl: timedelta
) -> tuple[Conversation, str]:
    """Replace a valid token by a new one; the old one stops working when this commits.

    The swap is conditional on the old hash, so of two rotations with the same token only one
    succeeds and the other gets ``invalid_token``: no client is left holding a dead token it
    was just given.
    """
    conversation = authenticate(session, conversation_id, token)
    new_token = secrets.token_urlsafe(32)
    expires_at = utcnow() + token_ttl
    swapped = session.execute(
        update(Conversation)
        .where(
            col(Conversation.id) == conversation_id,
            col(Conversation.token_hash) == conversation.token_hash,
        )
        .values(token_hash=_hash(new_token), token_expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )
    if swapped.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidTokenError("the conversation token is missing or wrong")
    session.refresh(conversation)
    return conversation, new_token


def append_event(
    session: Session,
    *,
    conversation_id: str,
    type: str,
    author: str,
    payload: dict[str, Any],
    client_id: str | None = None,
    internal: bool = False,
) -> ConversationEvent:
    """Take the conversation's next sequence number atomically and record the event.

    The UPDATE ... RETURNING row-locks the conversation (PostgreSQL) or the database (SQLite)
    until the caller commits, so concurrent writers get distinct, gap-free numbers.
    """
    seq = session.execute(
        update(Conversation)
        .where(col(Conversation.id) == conversation_id)
        .values(last_seq=Conversation.last_seq + 1, updated_at=utcnow())
        .returning(col(Conversation.last_seq))
    ).scalar_one()
    event = ConversationEvent(
        conversation_id=conversation_id,
        seq=seq,
        type=type,
        author=author,
        client_id=client_id,
        internal=internal,
        payload=payload,
    )
    session.add(event)
    session.flush()
    return event


def find_client_event(
    session: Session, conversation_id: str, client_id: str
) -> ConversationEvent | None:
    return session.exec(
        select(ConversationEvent).where(
            col(ConversationEvent.conversation_id) == conversation_id,
            col(ConversationEvent.client_id) == client_id,
        )
    ).first()


# One page of a conversation's events over REST; ``has_more`` says another follows.
EVENTS_PAGE = 1000


def events_after(
    session: Session,
    conversation_id: str,
    after: int,
    *,
    limit: int = EVENTS_PAGE,
    include_internal: bool = False,
) -> list[ConversationEvent]:
    """Events past ``after`` in order; staff-only ones only when ``include_internal``."""
    statement = select(ConversationEvent).where(
        col(ConversationEvent.conversation_id) == conversation_id,
        col(ConversationEvent.seq) > after,
    )
    if not include_internal:
        statement = statement.where(col(ConversationEvent.internal).is_(False))
    return list(session.exec(statement.order_by(col(ConversationEvent.seq)).limit(limit)).all())


def note_seen(session: Session, conversation_id: str, seq: int) -> None:
    """The customer's widget was shown the conversation up to ``seq`` (never moves back)."""
    session.execute(
        update(Conversation)
        .where(col(Conversation.id) == conversation_id, col(Conversation.customer_seen_seq) < seq)
        .values(customer_seen_seq=seq)
    )
