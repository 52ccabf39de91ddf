"""Everything stored about a conversation, across the packages that keep it.

A conversation's rows live in four packages' tables, linked by id: its events (core), the
bot's exchange log and pending turns (bot), tickets with their offline messages, the
customer's feedback, complaints, quality reviews and the mail to the customer with its reply
addresses (handoff, core's mail outbox), the learning loop's reviews
of its exchanges (analytics), and for a channel's conversation its contact, idempotency keys,
outbound deliveries and outbox cursor (channels).
Agents' notes are events (``internal``). Only the composition root knows every table, so the
retention purge and a customer's export and erasure share this one map of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, Select, delete, func
from sqlmodel import Session, SQLModel, col, select

from analytics.models import LearningReview
from bot.models import Exchange
from bot.turns import PendingBotTurn
from channels.deliveries import ChannelDelivery, ChannelOutboxCursor
from channels.idempotency import ChannelMessageKey
from channels.models import ChannelContact
from core.conversations import Conversation, ConversationEvent
from core.mail_outbox import OutboxMail
from handoff.customer_mail import ReplyToken
from handoff.follow_up import FollowUpSurvey
from handoff.models import Complaint, Feedback, QualityReview, Ticket

__all__ = ["CONVERSATION_TABLES", "count_rows", "delete_rows", "export_rows"]

#: Report order: the conversation first, then what hangs off it.
CONVERSATION_TABLES = (
    "conversation",
    "conversation_event",
    "bot_exchange",
    "pending_bot_turn",
    "handoff_ticket",
    "conversation_feedback",
    "complaint",
    "follow_up_survey",
    "email_reply_token",
    "mail_outbox",
    "quality_review",
    "learning_review",
    "channel_message_key",
    "channel_delivery",
    "channel_outbox_cursor",
    "channel_contact",
)

# Tables keyed by conversation id, in an order that deletes children before their parents
# (feedback names a ticket; learning reviews name exchanges, handled apart).
_BY_CONVERSATION: tuple[type[SQLModel], ...] = (
    QualityReview,
    Complaint,
    FollowUpSurvey,
    ReplyToken,
    OutboxMail,
    Feedback,
    Ticket,
    PendingBotTurn,
    Exchange,
    ChannelMessageKey,
    ChannelDelivery,
    ChannelOutboxCursor,
    ConversationEvent,
)


def _of(table: type[SQLModel]) -> Any:
    return col(table.conversation_id)  # type: ignore[attr-defined]


def _count(session: Session, statement: Select[Any]) -> int:
    return int(session.exec(statement).one())  # type: ignore[call-overload]


def count_rows(session: Session, ids: Select[Any]) -> dict[str, int]:
    """How many rows of each table belong to the conversations ``ids`` selects (a subquery)."""
    counts = {
        "conversation": _count(
            session,
            select(func.count()).select_from(Conversation).where(col(Conversation.id).in_(ids)),
        )
    }
    for table in _BY_CONVERSATION:
        counts[str(table.__tablename__)] = _count(
            session, select(func.count()).select_from(table).where(_of(table).in_(ids))
        )
    exchanges = select(Exchange.id).where(col(Exchange.conversation_id).in_(ids))
    counts["learning_review"] = _count(
        session,
        select(func.count())
        .select_from(LearningReview)
        .where(col(LearningReview.exchange_id).in_(exchanges)),
    )
    counts["channel_contact"] = _count(
        session,
        select(func.count()).select_from(ChannelContact).where(_of(ChannelContact).in_(ids)),
    )
    return {name: counts[name] for name in CONVERSATION_TABLES}


def _deleted(session: Session, statement: Any) -> int:
    return int(cast(CursorResult[Any], session.exec(statement)).rowcount)


def delete_rows(session: Session, ids: Sequence[str]) -> dict[str, int]:
    """Delete these conversations and every row that hangs off them, in the caller's
    transaction; the rows deleted per table."""
    counts = dict.fromkeys(CONVERSATION_TABLES, 0)
    if not ids:
        return counts
    exchanges = select(Exchange.id).where(col(Exchange.conversation_id).in_(ids))
    counts["learning_review"] = _deleted(
        session, delete(LearningReview).where(col(LearningReview.exchange_id).in_(exchanges))
    )
    for table in _BY_CONVERSATION:
        counts[str(table.__tablename__)] = _deleted(
            session, delete(table).where(_of(table).in_(ids))
        )
    # A channel's contact (an app's user id, name, e-mail) goes with the conversation it is
    # on now; earlier conversations never name it. Their next message starts afresh.
    counts["channel_contact"] = _deleted(
        session, delete(ChannelContact).where(_of(ChannelContact).in_(ids))
    )
    counts["conversation"] = _deleted(
        session, delete(Conversation).where(col(Conversation.id).in_(ids))
    )
    return counts


def _plain(row: SQLModel, *, leave_out: frozenset[str] = frozenset()) -> dict[str, Any]:
    data = row.model_dump(mode="json")
    return {key: value for key, value in data.items() if key not in leave_out}


def export_rows(session: Session, conversation: Conversation) -> dict[str, Any]:
    """One conversation and all its rows as plain JSON; the token's hash is left out (it is
    a credential, not the customer's data)."""
    cid = conversation.id

    def rows(table: type[SQLModel], order: Any) -> list[SQLModel]:
        return list(session.exec(select(table).where(_of(table) == cid).order_by(order)).all())

    exchanges = cast(list[Exchange], rows(Exchange, col(Exchange.message_seq)))
    reviews = session.exec(
        select(LearningReview).where(col(LearningReview.exchange_id).in_([x.id for x in exchanges]))
    ).all()
    feedback = session.exec(select(Feedback).where(col(Feedback.conversation_id) == cid)).first()
    return {
        **_plain(conversation, leave_out=frozenset({"token_hash"})),
        "events": [_plain(e) for e in rows(ConversationEvent, col(ConversationEvent.seq))],
        "exchanges": [_plain(x) for x in exchanges],
        "tickets": [_plain(t) for t in rows(Ticket, col(Ticket.id))],
        "feedback": _plain(feedback) if feedback else None,
        "complaints": [_plain(c) for c in rows(Complaint, col(Complaint.id))],
        # The e-mail link's token hash is a credential, not the customer's data.
        "follow_ups": [
            _plain(f, leave_out=frozenset({"token_hash"}))
            for f in rows(FollowUpSurvey, col(FollowUpSurvey.id))
        ],
        # Mail to the customer (what they were sent is in the events; once sent, the body is
        # emptied) and its reply addresses, without their token hashes: credentials.
        "mails": [_plain(m) for m in rows(OutboxMail, col(OutboxMail.id))],
        "email_reply_addresses": [
            _plain(t, leave_out=frozenset({"token_hash"}))
            for t in rows(ReplyToken, col(ReplyToken.id))
        ],
        "quality_reviews": [_plain(r) for r in rows(QualityReview, col(QualityReview.id))],
        "pending_bot_turns": [
            _plain(t) for t in rows(PendingBotTurn, col(PendingBotTurn.message_seq))
        ],
        "learning_reviews": [_plain(r) for r in reviews],
        "channel_contacts": [_plain(c) for c in rows(ChannelContact, col(ChannelContact.id))],
        "channel_message_keys": [
            _plain(k) for k in rows(ChannelMessageKey, col(ChannelMessageKey.id))
        ],
        # What was sent to the app's webhook or by WeChat's API, and the contact's id in it.
        "channel_deliveries": [_plain(d) for d in rows(ChannelDelivery, col(ChannelDelivery.seq))],
    }
