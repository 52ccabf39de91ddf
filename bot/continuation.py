"""Which earlier question a message continues, when all it gives is slots.

A customer asked "Where is my order?", the bot answered or asked which one, and the customer
sends "#10482": that message has no question of its own, so the bot reads the earlier question
again instead of falling back on a bare number. Only the conversation's own log is read.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from core.conversations import ConversationEvent

from .models import Exchange
from .slots import only_slots

__all__ = ["Question", "question_to_continue"]

# Decisions that leave the customer's question open to more detail; an escalation does not
# (a person takes it from there), and a silent turn was never the bot's.
CONTINUABLE = frozenset({"answer_faq", "answer_intent", "clarify", "fallback"})
# Answers to these intents answered no question: "hi" then "#10482" is not a continuation.
NO_QUESTION = frozenset({"greeting", "thanks", "goodbye", "affirm", "deny", "human_agent"})
# How many slot-only messages in a row may stand between the question and this message.
LOOKBACK = 5


@dataclass(frozen=True)
class Question:
    seq: int
    text: str


def question_to_continue(session: Session, message: ConversationEvent) -> Question | None:
    """The question ``message`` continues, or None when it asks something itself or the
    customer's previous message was no open question."""
    if not only_slots(str(message.payload.get("text", ""))):
        return None
    previous = session.exec(
        select(ConversationEvent.seq)
        .where(
            col(ConversationEvent.conversation_id) == message.conversation_id,
            col(ConversationEvent.author) == "customer",
            col(ConversationEvent.type) == "message",
            col(ConversationEvent.seq) < message.seq,
        )
        .order_by(col(ConversationEvent.seq).desc())
        .limit(1)
    ).first()
    if previous is None:
        return None
    rows = session.exec(
        select(Exchange)
        .where(
            col(Exchange.conversation_id) == message.conversation_id,
            col(Exchange.message_seq) <= previous,
        )
        .order_by(col(Exchange.message_seq).desc())
        .limit(LOOKBACK + 1)
    ).all()
    if not rows or rows[0].message_seq != previous:
        return None  # the previous message was a person's to answer, not the bot's
    for row in rows:
        if row.decision not in CONTINUABLE or (
            row.decision == "answer_intent" and row.intent in NO_QUESTION
        ):
            return None
        if not only_slots(row.text):
            return Question(row.message_seq, row.text)
    return None
