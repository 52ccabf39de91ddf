"""The retention purge: conversations past the retention period, with everything hanging off
them, the audit log past its own, and stale sign-in rows (docs/security.md, "Retention and
erasure").

A conversation's last activity is the later of ``updated_at`` (every event of the
conversation moves it: each message, reply, note, hand-off and closure) and ``closed_at``. It
is purged when that is older than the retention period, unless it is under a legal hold or
waiting for or with a person (the desk is still answerable for it; closing it starts the
clock). Deletion goes in batches of conversations, each its own short transaction, so a purge
of millions of rows never holds one huge transaction or lock, and a stopped purge keeps what
it did.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, case, delete, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from core.audit import AuditAction, StaffAuditEntry, record_audit
from core.clock import utcnow
from core.conversations import Conversation, ConversationState
from core.db import session_scope
from core.login_throttle import LoginAttempt
from core.settings import Settings
from core.staff import StaffSession

from .conversation_data import CONVERSATION_TABLES, count_rows, delete_rows

__all__ = [
    "PURGE_TABLES",
    "PurgeReport",
    "RetentionPolicy",
    "last_activity",
    "purge",
    "purgeable",
]

PURGE_TABLES = (*CONVERSATION_TABLES, "staff_audit", "staff_login_attempt", "staff_session")

#: Conversations a person is answerable for are never purged, whatever their age.
_WITH_PEOPLE = (ConversationState.waiting_for_agent.value, ConversationState.agent.value)

#: Sign-in failures and ended sessions are kept a day at least (the throttle's window may be
#: longer), for looking into an attack the morning after.
_OPERATIONAL_DAYS = 1

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RetentionPolicy:
    conversation_days: int
    audit_days: int
    login_window: timedelta = timedelta(minutes=15)

    @classmethod
    def of(cls, settings: Settings) -> RetentionPolicy:
        return cls(
            conversation_days=settings.retention_days,
            audit_days=settings.audit_retention_days,
            login_window=timedelta(minutes=settings.login_window_minutes),
        )

    def as_dict(self) -> dict[str, int]:
        return {"retention_days": self.conversation_days, "audit_retention_days": self.audit_days}


@dataclass
class PurgeReport:
    dry_run: bool
    cutoff: datetime
    audit_cutoff: datetime
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PURGE_TABLES, 0))
    # Conversations past the retention period that a legal hold keeps.
    held: int = 0
    # Conversations past the retention period still waiting for or with a person.
    with_people: int = 0
    stopped: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "cutoff": self.cutoff.isoformat(),
            "audit_cutoff": self.audit_cutoff.isoformat(),
            "counts": dict(self.counts),
            "held": self.held,
            "with_people": self.with_people,
            "stopped": self.stopped,
        }


def last_activity() -> Any:
    """The conversation's last activity, as a SQL expression (see the module's docstring)."""
    closed = col(Conversation.closed_at)
    updated = col(Conversation.updated_at)
    # Both databases have a two-argument maximum under different names; CASE is portable.
    return case((closed.is_not(None) & (closed > updated), closed), else_=updated)


def _stale(cutoff: datetime) -> Any:
    return last_activity() < cutoff


def purgeable(cutoff: datetime) -> SelectOfScalar[str]:
    """The ids of conversations the purge deletes."""
    return select(Conversation.id).where(
        _stale(cutoff),
        col(Conversation.legal_hold).is_(False),
        col(Conversation.state).not_in(_WITH_PEOPLE),
    )


def _count_conversations(session: Session, *conditions: Any) -> int:
    statement = select(func.count()).select_from(Conversation).where(*conditions)
    return int(session.exec(statement).one())


def _deleted(session: Session, statement: Any) -> int:
    return int(cast(CursorResult[Any], session.exec(statement)).rowcount)


def purge(
    engine: Engine,
    policy: RetentionPolicy,
    *,
    dry_run: bool,
    actor_id: int | None = None,
    actor_name: str,
    address: str | None = None,
    batch_size: int = 200,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> PurgeReport:
    """Delete (or, in a dry run, count) what the policy says has been kept long enough, and
    record an audit entry of the counts. ``progress(done, total)`` counts conversations."""
    now = utcnow()
    report = PurgeReport(
        dry_run=dry_run,
        cutoff=now - timedelta(days=policy.conversation_days),
        audit_cutoff=now - timedelta(days=policy.audit_days),
    )
    operational_cutoff = now - max(timedelta(days=_OPERATIONAL_DAYS), policy.login_window)
    audit_old = col(StaffAuditEntry.at) < report.audit_cutoff
    attempts_old = col(LoginAttempt.at) < operational_cutoff
    sessions_old = col(StaffSession.expires_at) < operational_cutoff
    with session_scope(engine) as session:
        report.held = _count_conversations(
            session, _stale(report.cutoff), col(Conversation.legal_hold).is_(True)
        )
        report.with_people = _count_conversations(
            session,
            _stale(report.cutoff),
            col(Conversation.legal_hold).is_(False),
            col(Conversation.state).in_(_WITH_PEOPLE),
        )
        planned = count_rows(session, purgeable(report.cutoff))
    total = planned["conversation"]
    if progress:
        progress(0, total)
    if dry_run:
        with session_scope(engine) as session:
            report.counts.update(planned)
            for name, table, condition in (
                ("staff_audit", StaffAuditEntry, audit_old),
                ("staff_login_attempt", LoginAttempt, attempts_old),
                ("staff_session", StaffSession, sessions_old),
            ):
                statement = select(func.count()).select_from(table).where(condition)
                report.counts[name] = int(session.exec(statement).one())
    else:
        _purge_conversations(engine, report, batch_size, total, progress, stop)
        with session_scope(engine) as session:
            report.counts["staff_login_attempt"] = _deleted(
                session, delete(LoginAttempt).where(attempts_old)
            )
            report.counts["staff_session"] = _deleted(
                session, delete(StaffSession).where(sessions_old)
            )
        report.counts["staff_audit"] = _purge_audit(engine, report.audit_cutoff, batch_size)
    with session_scope(engine) as session:
        record_audit(
            session,
            action=AuditAction.purge_run,
            actor_id=actor_id,
            actor_name=actor_name,
            address=address,
            detail={**report.as_dict(), **policy.as_dict()},
        )
    return report


def _purge_conversations(
    engine: Engine,
    report: PurgeReport,
    batch_size: int,
    total: int,
    progress: Progress | None,
    stop: threading.Event | None,
) -> None:
    done = 0
    after = ""
    while not (stop and stop.is_set()):
        with session_scope(engine) as session:
            # Locked and checked again in this transaction: a hold set, or an event added,
            # since the count keeps the conversation (skip_locked: one being written to now is
            # left for the next run). Pages by id, so the whole purge reads the table once.
            ids = list(
                session.exec(
                    purgeable(report.cutoff)
                    .where(col(Conversation.id) > after)
                    .order_by(col(Conversation.id))
                    .limit(batch_size)
                    .with_for_update(skip_locked=True)
                ).all()
            )
            if not ids:
                return
            after = ids[-1]
            for name, count in delete_rows(session, ids).items():
                report.counts[name] += count
        done += len(ids)
        if progress:
            progress(done, max(total, done))
    report.stopped = True


def _purge_audit(engine: Engine, cutoff: datetime, batch_size: int) -> int:
    deleted = 0
    while True:
        with session_scope(engine) as session:
            ids = session.exec(
                select(StaffAuditEntry.id)
                .where(col(StaffAuditEntry.at) < cutoff)
                .order_by(col(StaffAuditEntry.id))
                .limit(batch_size * 10)
            ).all()
            if not ids:
                return deleted
            deleted += _deleted(
                session, delete(StaffAuditEntry).where(col(StaffAuditEntry.id).in_(ids))
            )
