"""Agents' open consoles, counted in the database so every server process sees the same count.

One row per open console socket, whichever process holds it. The process marks its rows alive
every heartbeat; a row whose heartbeats stopped belongs to a process that died. An online
agent is set away only when none of their rows is *present*: open and beating, or closed (or
silent) for less than the away time. Any process's sweep may decide it, with one conditional
UPDATE, and then deletes the rows that decision has used.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Field, SQLModel, col, select

from core.clock import utcnow
from core.db import UTCDateTime, session_scope

from .models import AgentProfile
from .queue import rows_changed

__all__ = ["AgentConsole", "close_console", "mark_alive", "open_console", "sweep_consoles"]


class AgentConsole(SQLModel, table=True):
    """One open (or lately closed) agent console socket."""

    __tablename__ = "agent_console"

    id: str = Field(primary_key=True, max_length=32)
    user_id: int = Field(foreign_key="staff_user.id", index=True)
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    heartbeat_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def open_console(engine: Engine, user_id: int) -> str:
    console_id = secrets.token_hex(16)
    with session_scope(engine) as session:
        session.add(AgentConsole(id=console_id, user_id=user_id))
    return console_id


def close_console(engine: Engine, console_id: str) -> None:
    with session_scope(engine) as session:
        session.execute(
            update(AgentConsole)
            .where(col(AgentConsole.id) == console_id)
            .values(closed_at=utcnow())
        )


def mark_alive(engine: Engine, console_ids: list[str]) -> None:
    if not console_ids:
        return
    with session_scope(engine) as session:
        session.execute(
            update(AgentConsole)
            .where(col(AgentConsole.id).in_(console_ids), col(AgentConsole.closed_at).is_(None))
            .values(heartbeat_at=utcnow())
        )


def _present(now: datetime, away_after: timedelta, expiry: timedelta) -> ColumnElement[bool]:
    closed_at, heartbeat_at = col(AgentConsole.closed_at), col(AgentConsole.heartbeat_at)
    return or_(
        and_(closed_at.is_(None), heartbeat_at > now - expiry - away_after),
        and_(closed_at.is_not(None), closed_at > now - away_after),
    )


def _ended(now: datetime, away_after: timedelta, expiry: timedelta) -> ColumnElement[bool]:
    # Spelled out rather than NOT present: SQL's NULLs would make "NOT present" unknown.
    closed_at, heartbeat_at = col(AgentConsole.closed_at), col(AgentConsole.heartbeat_at)
    return or_(
        and_(closed_at.is_(None), heartbeat_at <= now - expiry - away_after),
        and_(closed_at.is_not(None), closed_at <= now - away_after),
    )


def sweep_consoles(engine: Engine, *, away_after: timedelta, expiry: timedelta) -> list[int]:
    """Set away every online agent whose consoles, on every process, are all gone for the
    away time; returns their ids. One ``now`` for the whole sweep, so the rows it deletes are
    exactly those its decisions already took into account."""
    now = utcnow()
    present, ended = _present(now, away_after, expiry), _ended(now, away_after, expiry)
    changed: list[int] = []
    with session_scope(engine) as session:
        users = session.exec(select(AgentConsole.user_id).where(ended).distinct()).all()
        for user_id in users:
            still_here = exists().where(col(AgentConsole.user_id) == user_id, present)
            result = session.execute(
                update(AgentProfile)
                .where(
                    col(AgentProfile.user_id) == user_id,
                    col(AgentProfile.presence) == "online",
                    ~still_here,
                )
                .values(presence="away", presence_changed_at=now)
            )
            if rows_changed(result):
                changed.append(user_id)
        session.execute(delete(AgentConsole).where(ended))
    return changed
