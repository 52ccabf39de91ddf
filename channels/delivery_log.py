"""The delivery log admins read, and replays: one delivery, or every failed one of a channel.

A replay puts a delivered or failed delivery back in the queue as it was (the same id, body and
order: it waits behind nothing earlier, and later events of its conversation wait for it) with
a fresh count of attempts; its sends carry ``X-Kefu-Replay: 1``. Each replay is audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.audit import AuditAction, record_audit
from core.auth import Actor
from core.clock import utcnow
from core.db import session_scope
from core.errors import ConflictError, NotFoundError

from .deliveries import ChannelDelivery, DeliveryState
from .models import Channel

__all__ = [
    "AttemptPublic",
    "DeliveryDetail",
    "DeliveryPage",
    "DeliveryPublic",
    "delivery_detail",
    "delivery_page",
    "replay_delivery",
    "replay_failed",
]


class DeliveryPendingError(ConflictError):
    code = "delivery_pending"


class DeliveryPublic(BaseModel):
    id: int
    channel_id: int
    conversation_id: str
    seq: int
    event: str
    contact_id: str | None
    state: str
    attempts: int
    last_status: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    replay: bool
    event_at: datetime
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, row: ChannelDelivery) -> DeliveryPublic:
        return cls(
            id=row.id or 0,
            channel_id=row.channel_id,
            conversation_id=row.conversation_id,
            seq=row.seq,
            event=row.event_type,
            contact_id=row.external_id,
            state=row.state,
            attempts=row.attempts,
            last_status=row.last_status,
            last_error=row.last_error,
            next_attempt_at=row.next_attempt_at if row.state == DeliveryState.pending else None,
            replay=row.replay,
            event_at=row.event_at,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
        )


class AttemptPublic(BaseModel):
    at: datetime
    status: int | None
    error: str | None
    duration_ms: int
    replay: bool = False


class DeliveryDetail(DeliveryPublic):
    history: list[AttemptPublic]


class DeliveryPage(BaseModel):
    items: list[DeliveryPublic]
    next_before_id: int | None = None


def _channel(session: Session, channel_id: int) -> Channel:
    channel = session.get(Channel, channel_id)
    if channel is None:
        raise NotFoundError("no such channel", details=[{"code": "channel_not_found"}])
    return channel


def _delivery(session: Session, channel_id: int, delivery_id: int) -> ChannelDelivery:
    _channel(session, channel_id)
    row = session.get(ChannelDelivery, delivery_id)
    if row is None or row.channel_id != channel_id:  # another channel's is not this one's
        raise NotFoundError("no such delivery", details=[{"code": "delivery_not_found"}])
    return row


def delivery_page(
    engine: Engine,
    channel_id: int,
    *,
    state: str | None,
    conversation_id: str | None,
    before_id: int | None,
    limit: int,
) -> DeliveryPage:
    """A channel's deliveries, newest first, a page at a time (keyset on the id)."""
    with Session(engine) as session:
        _channel(session, channel_id)
        statement = select(ChannelDelivery).where(col(ChannelDelivery.channel_id) == channel_id)
        if state:
            statement = statement.where(col(ChannelDelivery.state) == state)
        if conversation_id:
            statement = statement.where(col(ChannelDelivery.conversation_id) == conversation_id)
        if before_id is not None:
            statement = statement.where(col(ChannelDelivery.id) < before_id)
        rows = session.exec(statement.order_by(col(ChannelDelivery.id).desc()).limit(limit + 1))
        found = list(rows.all())
    more = len(found) > limit
    items = [DeliveryPublic.of(row) for row in found[:limit]]
    return DeliveryPage(items=items, next_before_id=items[-1].id if more and items else None)


def delivery_detail(engine: Engine, channel_id: int, delivery_id: int) -> DeliveryDetail:
    with Session(engine) as session:
        row = _delivery(session, channel_id, delivery_id)
        return _detail(row)


def _detail(row: ChannelDelivery) -> DeliveryDetail:
    history = [AttemptPublic.model_validate(entry) for entry in row.history]
    return DeliveryDetail(**DeliveryPublic.of(row).model_dump(), history=history)


def _requeued() -> dict[str, Any]:
    """What a replay sets: pending now, as a replay, with a fresh count of attempts."""
    return {
        "state": DeliveryState.pending,
        "attempts": 0,
        "replay": True,
        "next_attempt_at": utcnow(),
        "claimed_by": None,
        "lease_until": None,
    }


def replay_delivery(
    engine: Engine, channel_id: int, delivery_id: int, *, actor: Actor, address: str | None
) -> DeliveryDetail:
    with session_scope(engine) as session:
        row = _delivery(session, channel_id, delivery_id)
        if row.state == DeliveryState.pending:
            raise DeliveryPendingError(
                "this delivery is still queued; it is sent (or retried) without a replay"
            )
        previous = row.state
        for key, value in _requeued().items():
            setattr(row, key, value)
        session.add(row)
        record_audit(
            session,
            action=AuditAction.delivery_replayed,
            actor_id=actor.user_id,
            actor_name=actor.name,
            target_type="channel_delivery",
            target_id=delivery_id,
            address=address,
            detail={"channel_id": channel_id, "event": row.event_type, "was": previous},
        )
        session.flush()
        return _detail(row)


def replay_failed(engine: Engine, channel_id: int, *, actor: Actor, address: str | None) -> int:
    """Every failed delivery of the channel back in the queue; how many."""
    with session_scope(engine) as session:
        _channel(session, channel_id)
        changed = session.execute(
            update(ChannelDelivery)
            .where(
                col(ChannelDelivery.channel_id) == channel_id,
                col(ChannelDelivery.state) == DeliveryState.failed,
            )
            .values(**_requeued())
            .execution_options(synchronize_session=False)
        )
        count = int(getattr(changed, "rowcount", 0))
        record_audit(
            session,
            action=AuditAction.delivery_replayed,
            actor_id=actor.user_id,
            actor_name=actor.name,
            target_type="channel",
            target_id=channel_id,
            address=address,
            detail={"channel_id": channel_id, "failed": count},
        )
        return count
