"""Loading the rows of the conversations a report covers (docs/metrics.md, "Scope").

The scope is one subquery of conversation ids that every table is filtered by, so a report
sends a fixed handful of SELECTs whatever its size and never a long list of ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import or_
from sqlalchemy import select as select_columns
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.models import Exchange
from core.conversations import Conversation, ConversationEvent
from core.errors import InvalidInputError
from core.staff import StaffUser
from handoff.follow_up import FollowUpSurvey
from handoff.models import Feedback, QualityReview, Ticket

from .rows import (
    AgentRow,
    ConversationRow,
    Dataset,
    EventRow,
    ExchangeRow,
    FeedbackRow,
    FollowUpRow,
    ReviewRow,
    TicketRow,
)

__all__ = ["Filters", "load", "parse_filters"]

LIFECYCLE = ("conversation.escalated", "conversation.closed", "conversation.reopened", "agent.left")
MAX_FILTER_CHARS = 64


@dataclass(frozen=True)
class Filters:
    start: datetime | None = None
    end: datetime | None = None
    language: str | None = None
    team: str | None = None
    agent: str | None = None
    channel: str | None = None


def _midnight(name: str, value: str | None) -> datetime | None:
    if value is None or not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInputError(
            f"'{name}' must be an ISO date such as 2026-11-01", details=[{"field": name}]
        ) from None
    return datetime.combine(day, time(), tzinfo=UTC)


def _text(name: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value.strip()) > MAX_FILTER_CHARS:
        raise InvalidInputError(
            f"'{name}' is longer than {MAX_FILTER_CHARS} characters", details=[{"field": name}]
        )
    return value.strip()


def parse_filters(
    *,
    start: str | None = None,
    end: str | None = None,
    language: str | None = None,
    team: str | None = None,
    agent: str | None = None,
    channel: str | None = None,
) -> Filters:
    """Filters from query parameters; empty ones are absent, bad ones an ``InvalidInputError``."""
    filters = Filters(
        start=_midnight("start", start),
        end=_midnight("end", end),
        language=_text("language", language),
        team=_text("team", team),
        agent=_text("agent", agent),
        channel=_text("channel", channel),
    )
    if filters.start and filters.end and filters.end <= filters.start:
        raise InvalidInputError("'end' must be after 'start'", details=[{"field": "end"}])
    return filters


def _agent_id(session: Session, username: str) -> int:
    user = session.exec(select(StaffUser).where(col(StaffUser.username) == username)).first()
    if user is None or user.id is None:
        raise InvalidInputError(f"no staff member named {username!r}", details=[{"field": "agent"}])
    return user.id


def _ticket_filter(filters: Filters, agent_id: int | None) -> list[Any]:
    conditions: list[Any] = []
    if filters.team:
        conditions.append(col(Ticket.team) == filters.team)
    if agent_id is not None:
        conditions.append(col(Ticket.agent_id) == agent_id)
    return conditions


def _scope(filters: Filters, agent_id: int | None) -> SelectOfScalar[str]:
    """The ids of the conversations in scope, as a subquery."""
    scope = select(col(Conversation.id))
    if filters.start:
        scope = scope.where(col(Conversation.created_at) >= filters.start)
    if filters.end:
        scope = scope.where(col(Conversation.created_at) < filters.end)
    if filters.language:
        scope = scope.where(col(Conversation.language) == filters.language)
    if filters.channel:
        scope = scope.where(col(Conversation.channel) == filters.channel)
    if filters.team:
        teams = select(col(Ticket.conversation_id)).where(col(Ticket.team) == filters.team)
        scope = scope.where(col(Conversation.id).in_(teams))
    if filters.agent and agent_id is not None:
        owned = select(col(Ticket.conversation_id)).where(col(Ticket.agent_id) == agent_id)
        wrote = select(col(ConversationEvent.conversation_id)).where(
            col(ConversationEvent.author) == f"agent:{filters.agent}"
        )
        scope = scope.where(or_(col(Conversation.id).in_(owned), col(Conversation.id).in_(wrote)))
    return scope


def load(engine: Engine, filters: Filters) -> Dataset:
    with Session(engine) as session:
        agent_id = _agent_id(session, filters.agent) if filters.agent else None
        scope = _scope(filters, agent_id)
        return Dataset(
            conversations=_conversations(session, scope),
            events=_events(session, scope),
            exchanges=_exchanges(session, scope),
            tickets=_tickets(session, scope, _ticket_filter(filters, agent_id)),
            feedback=_feedback(session, scope),
            agents=_agents(session),
            follow_ups=_follow_ups(session, scope),
            reviews=_reviews(session, scope),
        )


def _conversations(session: Session, scope: SelectOfScalar[str]) -> tuple[ConversationRow, ...]:
    wrote = set(
        session.exec(
            select(col(ConversationEvent.conversation_id))
            .where(
                col(ConversationEvent.conversation_id).in_(scope),
                col(ConversationEvent.type) == "message",
                col(ConversationEvent.author) == "customer",
            )
            .distinct()
        ).all()
    )
    rows = session.execute(
        select_columns(
            col(Conversation.id),
            col(Conversation.created_at),
            col(Conversation.closed_at),
            col(Conversation.state),
            col(Conversation.channel),
        ).where(col(Conversation.id).in_(scope))
    ).all()
    return tuple(
        ConversationRow(cid, created, closed, state, cid in wrote, channel)
        for cid, created, closed, state, channel in rows
    )


def _events(session: Session, scope: SelectOfScalar[str]) -> tuple[EventRow, ...]:
    rows = session.exec(
        select(ConversationEvent).where(
            col(ConversationEvent.conversation_id).in_(scope),
            col(ConversationEvent.type).in_(LIFECYCLE),
        )
    ).all()
    return tuple(
        EventRow(e.conversation_id, e.seq, e.type, e.created_at, dict(e.payload)) for e in rows
    )


def _exchanges(session: Session, scope: SelectOfScalar[str]) -> tuple[ExchangeRow, ...]:
    # Only the columns the metrics read: the log's text and JSON columns are large.
    rows = session.execute(
        select_columns(
            col(Exchange.conversation_id),
            col(Exchange.created_at),
            col(Exchange.decision),
            col(Exchange.latency_ms),
            col(Exchange.sentiment_score),
            col(Exchange.intent),
            col(Exchange.intent_in_scope),
            col(Exchange.reply_seq),
        ).where(col(Exchange.conversation_id).in_(scope))
    ).all()
    return tuple(ExchangeRow(*row) for row in rows)


def _tickets(
    session: Session, scope: SelectOfScalar[str], conditions: list[Any]
) -> tuple[TicketRow, ...]:
    rows = session.exec(
        select(Ticket).where(col(Ticket.conversation_id).in_(scope), *conditions)
    ).all()
    return tuple(
        TicketRow(
            id=t.id or 0,
            conversation_id=t.conversation_id,
            created_at=t.created_at,
            reason=t.reason,
            kind=t.kind,
            agent_id=t.agent_id,
            transfers=t.transfers,
            resolution=t.resolution,
            sla_breached=t.sla_breached,
            assigned_at=t.assigned_at,
            first_response_at=t.first_response_at,
            closed_at=t.closed_at,
        )
        for t in rows
    )


def _feedback(session: Session, scope: SelectOfScalar[str]) -> tuple[FeedbackRow, ...]:
    rows = session.exec(select(Feedback).where(col(Feedback.conversation_id).in_(scope))).all()
    return tuple(
        FeedbackRow(f.conversation_id, f.csat, f.nps, f.person_handled, f.agent_id) for f in rows
    )


def _follow_ups(session: Session, scope: SelectOfScalar[str]) -> tuple[FollowUpRow, ...]:
    rows = session.exec(
        select(FollowUpSurvey).where(
            col(FollowUpSurvey.conversation_id).in_(scope), col(FollowUpSurvey.status) != "skipped"
        )
    ).all()
    return tuple(
        FollowUpRow(
            f.conversation_id,
            asked=f.sent_at is not None or f.shown_at is not None or f.answer is not None,
            answer=f.answer,
        )
        for f in rows
    )


def _agents(session: Session) -> tuple[AgentRow, ...]:
    rows = session.exec(
        select(col(StaffUser.id), col(StaffUser.username), col(StaffUser.display_name))
    ).all()
    return tuple(AgentRow(uid or 0, username, name) for uid, username, name in rows)


def _reviews(session: Session, scope: SelectOfScalar[str]) -> tuple[ReviewRow, ...]:
    rows = session.exec(
        select(
            col(QualityReview.conversation_id),
            col(QualityReview.agent_id),
            col(QualityReview.score),
        ).where(
            col(QualityReview.conversation_id).in_(scope),
            col(QualityReview.status) == "submitted",
        )
    ).all()
    return tuple(ReviewRow(cid, agent, score) for cid, agent, score in rows if score is not None)
