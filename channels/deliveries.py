"""The webhook outbox of API channels: which events go out, as rows of ``channel_delivery``.

The conversation event log is the source. After an event commits, ``enqueue`` copies the
events of an ``api`` conversation past its cursor (``channel_outbox_cursor``) into
``channel_delivery`` rows, one per (channel, conversation, seq), and moves the cursor, in one
transaction that holds the cursor's row: each event is enqueued once, and enqueuing twice
changes nothing. The customer's own messages (the app sent them) and staff-only events are
not sent. A channel without a webhook URL has chosen not to hear: its events are passed over.

Delivery (``channels/webhooks.py``) claims a row by lease with one conditional UPDATE, and only
the *head* of its conversation: the lowest ``seq`` still pending. So the app sees a
conversation's events in order, a later one waiting while an earlier one is retried, and
other conversations and channels go on meanwhile. A disabled channel's rows stay pending (held)
until it is enabled again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import JSON, Column, CursorResult, Index, UniqueConstraint, and_, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Field, Session, SQLModel, col, select

from core.clock import utcnow
from core.conversations import Conversation, ConversationEvent
from core.db import UTCDateTime, session_scope
from core.settings import Settings

from .models import Channel, ChannelContact, ChannelKind

__all__ = [
    "Attempt",
    "ChannelDelivery",
    "ChannelOutboxCursor",
    "Claimed",
    "DeliveryRules",
    "DeliveryState",
    "Outcome",
    "claim_due",
    "enqueue",
    "record_attempt",
    "release",
    "stale_conversations",
    "take_passive",
]

# Channels whose conversations have an outbox: an app's webhook, a WeChat account's
# customer-service message API (channels/wechat_api.py).
OUTBOUND_KINDS = (ChannelKind.api, ChannelKind.wechat)
# Events per conversation copied by one transaction; a longer backlog takes several.
ENQUEUE_BATCH = 200
# Attempts kept in a delivery's history (the count itself is never cut).
HISTORY_KEPT = 50


class DeliveryState:
    pending = "pending"
    delivered = "delivered"
    failed = "failed"
    ALL = (pending, delivered, failed)


class ChannelDelivery(SQLModel, table=True):
    """One event owed to (or given to) one channel's webhook; ``id`` is the delivery id the
    receiver dedupes by, the same on every attempt and replay."""

    __tablename__ = "channel_delivery"
    __table_args__ = (
        UniqueConstraint("channel_id", "conversation_id", "seq", name="uq_channel_delivery_event"),
        Index("ix_channel_delivery_due", "state", "next_attempt_at"),
        Index("ix_channel_delivery_order", "conversation_id", "state", "seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(index=True)
    conversation_id: str = Field(max_length=32)
    seq: int
    event_type: str = Field(max_length=48)
    # The contact's id in the app (its user id), fixed when the event was enqueued.
    external_id: str | None = Field(default=None, max_length=128)
    state: str = Field(default=DeliveryState.pending, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Who holds it (an instance id) and until when; a dead holder's lease runs out.
    claimed_by: str | None = Field(default=None, max_length=96)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The next send is an admin's replay (header ``X-Kefu-Replay: 1``).
    replay: bool = False
    last_status: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    # [{"at", "status", "error", "duration_ms", "replay"}], oldest first.
    history: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    event_at: datetime = Field(sa_type=UTCDateTime)  # the event's commit (created_at)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ChannelOutboxCursor(SQLModel, table=True):
    """How far an API conversation's events have been enqueued."""

    __tablename__ = "channel_outbox_cursor"

    conversation_id: str = Field(primary_key=True, max_length=32)
    last_seq: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@dataclass(frozen=True)
class DeliveryRules:
    timeout: float = 5.0
    max_attempts: int = 12
    first_delay: float = 1.0
    factor: float = 2.0
    max_delay: float = 300.0
    poll: float = 1.0

    @classmethod
    def of(cls, settings: Settings) -> DeliveryRules:
        return cls(
            timeout=settings.webhook_timeout_seconds,
            max_attempts=settings.webhook_max_attempts,
            first_delay=settings.webhook_retry_first_seconds,
            factor=settings.webhook_retry_factor,
            max_delay=settings.webhook_retry_max_seconds,
            poll=settings.webhook_poll_seconds,
        )

    @property
    def lease(self) -> timedelta:
        # A send is cut off at the timeout; the lease outlives it by a wide margin, so a slow
        # attempt is never taken over while it still runs.
        return timedelta(seconds=max(15.0, self.timeout * 3))

    def delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failure: doubling (by default), capped, ±20 %."""
        base = min(self.max_delay, self.first_delay * self.factor ** max(0, attempts - 1))
        return timedelta(seconds=base * random.uniform(0.8, 1.2))


@dataclass(frozen=True)
class Claimed:
    """What one attempt needs, read when it was claimed."""

    id: int
    channel_id: int
    channel: str
    url: str
    secret: str
    conversation_id: str
    seq: int
    event_type: str
    external_id: str | None
    author: str
    payload: dict[str, Any]
    event_at: datetime
    replay: bool
    kind: str = ChannelKind.api
    # A WeChat channel's account settings (token, app id and secret), to call its API.
    config: dict[str, Any] = field(default_factory=dict)


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


def _sent(event: ConversationEvent) -> bool:
    """The app hears what its customer would see, except what the customer said themselves."""
    return not event.internal and event.author != "customer"


def _said_to(event: ConversationEvent) -> bool:
    """A WeChat customer reads messages: the bot's and the agents' (WeChat has no events)."""
    return _sent(event) and event.type == "message"


def _held(event: ConversationEvent, hold: timedelta, now: datetime) -> bool:
    """A bot's message in a WeChat chat may still go as the push's passive reply
    (``take_passive``): the outbox leaves it alone for ``hold``."""
    return event.author == "bot" and event.created_at > now - hold


def _insert_ignoring_duplicates(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(ChannelDelivery).values(rows).on_conflict_do_nothing())


def _contact_id(session: Session, conversation: Conversation) -> str | None:
    external = session.exec(
        select(ChannelContact.external_id).where(
            col(ChannelContact.channel_id) == conversation.channel_id,
            col(ChannelContact.conversation_id) == conversation.id,
        )
    ).first()
    return external or conversation.customer_external_id


def enqueue(engine: Engine, conversation_id: str, *, hold: timedelta = timedelta(0)) -> int:
    """Copy the conversation's events past its cursor into deliveries; how many were made.

    Safe to call from any process at any time: the cursor's row is held (PostgreSQL) or the
    database is (SQLite) until the cursor moves, and the unique key ignores a repeat. In a
    WeChat chat the cursor stops before a bot's message younger than ``hold``.
    """
    made = 0
    while True:
        with session_scope(engine) as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None or conversation.channel not in OUTBOUND_KINDS:
                return made
            _insert_cursor(session, conversation_id)
            cursor = session.exec(
                select(ChannelOutboxCursor)
                .where(col(ChannelOutboxCursor.conversation_id) == conversation_id)
                .with_for_update()
            ).one()
            events = session.exec(
                select(ConversationEvent)
                .where(
                    col(ConversationEvent.conversation_id) == conversation_id,
                    col(ConversationEvent.seq) > cursor.last_seq,
                )
                .order_by(col(ConversationEvent.seq))
                .limit(ENQUEUE_BATCH)
            ).all()
            if not events:
                return made
            channel = session.get(Channel, conversation.channel_id or 0)
            wechat = conversation.channel == ChannelKind.wechat
            if wechat:
                now = utcnow()
                ready = next((n for n, e in enumerate(events) if _held(e, hold, now)), None)
                if ready is not None:
                    events = events[:ready]
                    if not events:
                        return made
            wanted = [e for e in events if (_said_to(e) if wechat else _sent(e))]
            if channel is not None and (channel.webhook_url or wechat) and wanted:
                external_id = _contact_id(session, conversation)
                _insert_ignoring_duplicates(
                    session,
                    [
                        {
                            "channel_id": channel.id,
                            "conversation_id": conversation_id,
                            "seq": event.seq,
                            "event_type": event.type,
                            "external_id": external_id,
                            "state": DeliveryState.pending,
                            "attempts": 0,
                            "next_attempt_at": utcnow(),
                            "replay": False,
                            "history": [],
                            "event_at": event.created_at,
                            "created_at": utcnow(),
                        }
                        for event in wanted
                    ],
                )
                made += len(wanted)
            cursor.last_seq = events[-1].seq
            cursor.updated_at = utcnow()
            session.add(cursor)
            if len(events) < ENQUEUE_BATCH or (wechat and ready is not None):
                return made


def _insert_cursor(session: Session, conversation_id: str) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(ChannelOutboxCursor)
        .values(conversation_id=conversation_id, last_seq=0, updated_at=utcnow())
        .on_conflict_do_nothing()
    )


def stale_conversations(engine: Engine, limit: int = 500) -> list[str]:
    """API conversations with events past their cursor (or with none yet)."""
    with Session(engine) as session:
        rows = session.exec(
            select(Conversation.id)
            .join(
                ChannelOutboxCursor,
                col(ChannelOutboxCursor.conversation_id) == col(Conversation.id),
                isouter=True,
            )
            .where(
                col(Conversation.channel).in_(OUTBOUND_KINDS),
                or_(
                    col(ChannelOutboxCursor.conversation_id).is_(None),
                    col(ChannelOutboxCursor.last_seq) < col(Conversation.last_seq),
                ),
            )
            .limit(limit)
        ).all()
    return list(rows)


def _head_clause(now: datetime) -> Any:
    """Pending, due, free, and no earlier event of its conversation still pending."""
    earlier = aliased(ChannelDelivery)
    return and_(
        col(ChannelDelivery.state) == DeliveryState.pending,
        col(ChannelDelivery.next_attempt_at) <= now,
        or_(col(ChannelDelivery.lease_until).is_(None), col(ChannelDelivery.lease_until) < now),
        ~select(earlier.id)
        .where(
            earlier.channel_id == ChannelDelivery.channel_id,
            earlier.conversation_id == ChannelDelivery.conversation_id,
            earlier.state == DeliveryState.pending,
            earlier.seq < ChannelDelivery.seq,
        )
        .exists(),
    )


def claim_due(
    engine: Engine,
    *,
    worker: str,
    lease: timedelta,
    limit: int,
    busy_channels: dict[int, int] | None = None,
    per_channel: int = 8,
) -> list[Claimed]:
    """Lease up to ``limit`` due heads of enabled channels with a URL, oldest due first; a
    channel already sending ``per_channel`` (``busy_channels``) gets no more, so one slow
    receiver cannot take every slot."""
    if limit <= 0:
        return []
    now = utcnow()
    busy = dict(busy_channels or {})
    with Session(engine) as session:
        found = session.exec(
            select(ChannelDelivery.id, ChannelDelivery.channel_id)
            .join(Channel, col(Channel.id) == col(ChannelDelivery.channel_id))
            .where(
                _head_clause(now),
                col(Channel.enabled).is_(True),
                or_(col(Channel.webhook_url).is_not(None), col(Channel.kind) == ChannelKind.wechat),
            )
            .order_by(col(ChannelDelivery.next_attempt_at))
            .limit(limit * 4)
        ).all()
    claimed: list[Claimed] = []
    for delivery_id, channel_id in found:
        if len(claimed) >= limit or busy.get(channel_id, 0) >= per_channel:
            continue
        taken = _claim_one(engine, delivery_id or 0, worker=worker, now=now, lease=lease)
        if taken is not None:
            claimed.append(taken)
            busy[channel_id] = busy.get(channel_id, 0) + 1
    return claimed


def _claim_one(
    engine: Engine, delivery_id: int, *, worker: str, now: datetime, lease: timedelta
) -> Claimed | None:
    with session_scope(engine) as session:
        taken = session.execute(
            update(ChannelDelivery)
            .where(col(ChannelDelivery.id) == delivery_id, _head_clause(now))
            .values(claimed_by=worker, lease_until=now + lease)
            .execution_options(synchronize_session=False)
        )
        if _rowcount(taken) != 1:
            return None  # another process has it, or an earlier event came first
        row = session.get(ChannelDelivery, delivery_id)
        channel = session.get(Channel, row.channel_id) if row else None
        event = (
            session.exec(
                select(ConversationEvent).where(
                    col(ConversationEvent.conversation_id) == row.conversation_id,
                    col(ConversationEvent.seq) == row.seq,
                )
            ).first()
            if row
            else None
        )
        if row is None or channel is None:
            return None
        if not channel.webhook_url and channel.kind != ChannelKind.wechat:
            return None
        if event is None:  # erased with its conversation: nothing left to say
            row.state, row.lease_until, row.last_error = DeliveryState.failed, None, "event gone"
            session.add(row)
            return None
        return Claimed(
            id=delivery_id,
            channel_id=channel.id or 0,
            channel=channel.name,
            url=channel.webhook_url or "",
            secret=channel.signing_secret or "",
            conversation_id=row.conversation_id,
            seq=row.seq,
            event_type=row.event_type,
            external_id=row.external_id,
            author=event.author,
            payload=dict(event.payload),
            event_at=event.created_at,
            replay=row.replay,
            kind=channel.kind,
            config=dict(channel.config) if channel.kind == ChannelKind.wechat else {},
        )


@dataclass(frozen=True)
class Attempt:
    status: int | None  # the HTTP status, None when no answer came
    error: str | None  # None: delivered
    duration_ms: int
    # Retrying cannot help (WeChat's 48 hours are over, say): failed at once.
    permanent: bool = False


@dataclass(frozen=True)
class Outcome:
    state: str
    next_attempt_at: datetime | None  # when a retry is due


def record_attempt(
    engine: Engine, claimed: Claimed, attempt: Attempt, *, worker: str, rules: DeliveryRules
) -> Outcome | None:
    """Keep an attempt's outcome and the delivery's new state; None if the lease was lost."""
    now = utcnow()
    with session_scope(engine) as session:
        row = session.get(ChannelDelivery, claimed.id)
        if row is None or row.claimed_by != worker or row.state != DeliveryState.pending:
            return None
        row.attempts += 1
        entry = {
            "at": now.isoformat(),
            "status": attempt.status,
            "error": attempt.error,
            "duration_ms": attempt.duration_ms,
            "replay": claimed.replay,
        }
        row.history = [*row.history, entry][-HISTORY_KEPT:]
        row.last_status, row.last_error = attempt.status, attempt.error
        row.lease_until, row.claimed_by = None, None
        if attempt.error is None:
            row.state, row.delivered_at, row.replay = DeliveryState.delivered, now, False
        elif attempt.permanent or row.attempts >= rules.max_attempts:
            row.state = DeliveryState.failed
        else:
            row.next_attempt_at = now + rules.delay(row.attempts)
        session.add(row)
        due = row.next_attempt_at if row.state == DeliveryState.pending else None
        return Outcome(row.state, due)


def release(engine: Engine, *, worker: str) -> int:
    """Free every lease ``worker`` holds (a restart of the same instance takes them at once)."""
    with session_scope(engine) as session:
        freed = session.execute(
            update(ChannelDelivery)
            .where(
                col(ChannelDelivery.claimed_by) == worker,
                col(ChannelDelivery.state) == DeliveryState.pending,
            )
            .values(claimed_by=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(freed)


def take_passive(engine: Engine, conversation_id: str, seqs: list[int]) -> bool:
    """For a WeChat push answered passively: move the conversation's cursor past the turn's
    events (``seqs``) so the outbox never sends them too. False when the outbox has reached
    them already (a slow turn): then it sends them, and the push gets no passive reply."""
    if not seqs:
        return False
    with session_scope(engine) as session:
        _insert_cursor(session, conversation_id)
        cursor = session.exec(
            select(ChannelOutboxCursor)
            .where(col(ChannelOutboxCursor.conversation_id) == conversation_id)
            .with_for_update()
        ).one()
        if cursor.last_seq >= min(seqs):
            return False
        cursor.last_seq = max(seqs)
        cursor.updated_at = utcnow()
        session.add(cursor)
        return True
