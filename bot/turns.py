"""The bot's turn as a row: ``pending_bot_turn`` holds every customer message the bot still owes
a reply, from the transaction that records the message to the one that writes the reply.

A row is held by one worker (a process's ``ChatService``) until ``claimed_until``. The worker
renews that lease while it works; when a worker dies, its lease runs out and any worker may claim
the turn with a conditional UPDATE, which exactly one of several racing workers wins. The reply's
transaction deletes the row only if the worker still holds it, so a turn that was taken over can
never be answered twice.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Column, ForeignKey, String, and_, delete, exists, or_, update
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.orm import aliased
from sqlmodel import Field, Session, SQLModel, col, select

from core.clock import utcnow
from core.db import UTCDateTime, session_scope

__all__ = [
    "PendingBotTurn",
    "TurnConfig",
    "TurnKey",
    "claim_expired",
    "complete_turn",
    "holds_turn",
    "open_turn",
    "renew_leases",
]


def new_worker_id() -> str:
    """Unique per ``ChatService``: host and pid say who, the suffix tells restarts apart."""
    return f"{socket.gethostname()[:48]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class TurnConfig:
    lease: timedelta = timedelta(seconds=15)
    # Seconds the bot "types" before its reply is written.
    reply_delay: float = 0.0
    worker: str = field(default_factory=new_worker_id)


@dataclass(frozen=True)
class TurnKey:
    conversation_id: str
    message_seq: int


class PendingBotTurn(SQLModel, table=True):
    __tablename__ = "pending_bot_turn"

    conversation_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("conversation.id", ondelete="CASCADE"), primary_key=True
        )
    )
    message_seq: int = Field(primary_key=True)
    claimed_by: str = Field(max_length=96)
    claimed_until: datetime = Field(sa_type=UTCDateTime, index=True)
    # How many workers have taken the turn on; a turn that keeps killing its worker is dropped.
    attempts: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def _rows(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


def _is(key: TurnKey) -> Any:
    return and_(
        col(PendingBotTurn.conversation_id) == key.conversation_id,
        col(PendingBotTurn.message_seq) == key.message_seq,
    )


def open_turn(session: Session, key: TurnKey, config: TurnConfig) -> None:
    """Record a turn held by ``config.worker``, in the caller's (the message's) transaction."""
    session.add(
        PendingBotTurn(
            conversation_id=key.conversation_id,
            message_seq=key.message_seq,
            claimed_by=config.worker,
            claimed_until=utcnow() + config.lease,
        )
    )


def holds_turn(session: Session, key: TurnKey, worker: str) -> bool:
    row = session.get(PendingBotTurn, (key.conversation_id, key.message_seq))
    return row is not None and row.claimed_by == worker


def complete_turn(session: Session, key: TurnKey, worker: str) -> bool:
    """Delete the turn in the reply's transaction; False if ``worker`` no longer holds it."""
    result = session.execute(
        delete(PendingBotTurn).where(_is(key), col(PendingBotTurn.claimed_by) == worker)
    )
    return _rows(result) == 1


def renew_leases(engine: Engine, keys: list[TurnKey], config: TurnConfig) -> int:
    """Keep the turns this worker is busy with from being taken over; how many it still holds."""
    if not keys:
        return 0
    with session_scope(engine) as session:
        result = session.execute(
            update(PendingBotTurn)
            .where(or_(*(_is(k) for k in keys)), col(PendingBotTurn.claimed_by) == config.worker)
            .values(claimed_until=utcnow() + config.lease)
        )
        return _rows(result)


def claim_expired(engine: Engine, config: TurnConfig, *, limit: int = 16) -> list[PendingBotTurn]:
    """Take over turns whose lease ran out: each conversation's oldest, so replies keep order.

    Each claim is a conditional UPDATE that re-checks the expiry: of workers racing for one turn
    (PostgreSQL makes the later ones wait for the row lock, then re-check), exactly one wins.
    """
    now = utcnow()
    earlier = aliased(PendingBotTurn)
    with Session(engine) as session:
        candidates = session.exec(
            select(PendingBotTurn)
            .where(
                col(PendingBotTurn.claimed_until) < now,
                ~exists().where(
                    col(earlier.conversation_id) == col(PendingBotTurn.conversation_id),
                    col(earlier.message_seq) < col(PendingBotTurn.message_seq),
                ),
            )
            .order_by(col(PendingBotTurn.created_at))
            .limit(limit)
        ).all()
        keys = [TurnKey(c.conversation_id, c.message_seq) for c in candidates]
    claimed = []
    for key in keys:
        with session_scope(engine) as session:
            result = session.execute(
                update(PendingBotTurn)
                .where(_is(key), col(PendingBotTurn.claimed_until) < now)
                .values(
                    claimed_by=config.worker,
                    claimed_until=utcnow() + config.lease,
                    attempts=PendingBotTurn.attempts + 1,
                )
            )
            if _rows(result) == 1:
                row = session.get(PendingBotTurn, (key.conversation_id, key.message_seq))
                if row is not None:
                    claimed.append(row)
    return claimed


def drop_turn(engine: Engine, key: TurnKey, worker: str) -> bool:
    """Give up a turn this worker holds (one that kept failing), so it stops being retried."""
    with session_scope(engine) as session:
        return complete_turn(session, key, worker)
