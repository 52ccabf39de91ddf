"""The context packet an agent reads when taking over: who the customer is, what they said and
felt, what the bot understood and answered, and a summary readable in five seconds."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from bot.models import Exchange
from bot.sentiment import sentiment_trend
from bot.slots import extract_slots
from core.conversations import Conversation, ConversationEvent

__all__ = ["build_context", "extract_facts", "key_sentences", "summary_line"]

_LOW_INFORMATION = {"human_agent", "greeting", "thanks", "goodbye", "affirm", "deny"}


def extract_facts(texts: list[str]) -> list[dict[str, str]]:
    """Order numbers, emails, phones and amounts, each once, in the order they appear.

    The bot's own extractor finds them, so the agent sees what the bot understood. Order numbers
    are shown normalised ("#10482" and "order 10482" are one fact); the rest as written.
    """
    found: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for text in texts:
        for slot in extract_slots(text):
            if (slot.kind, slot.value) in seen:
                continue
            seen.add((slot.kind, slot.value))
            shown = slot.value if slot.kind == "order_number" else slot.text
            found.append({"kind": slot.kind, "value": shown})
    return found


def key_sentences(
    messages: list[tuple[int, str]], signals: dict[int, tuple[str | None, float]], limit: int = 3
) -> list[dict[str, Any]]:
    """The customer's most telling messages, in the order they were said.

    ``signals`` maps a message's seq to (intent, sentiment). Facts, strong feeling and length
    make a message telling; asking for a person or small talk makes it less so.
    """
    scored = []
    for seq, text in messages:
        intent, feeling = signals.get(seq, (None, 0.0))
        score = 2.0 * bool(extract_facts([text])) + max(0.0, -feeling) + min(len(text) / 80, 1.0)
        if intent in _LOW_INFORMATION:
            score -= 2.0
        scored.append((score, seq, text))
    best = sorted(scored, key=lambda item: (-item[0], item[1]))[:limit]
    return [{"seq": seq, "text": text} for _score, seq, text in sorted(best, key=lambda i: i[1])]


def summary_line(session: Session, conversation_id: str) -> str:
    messages, signals = _customer_messages(session, conversation_id)
    top = key_sentences(messages, signals, limit=1)
    return str(top[0]["text"])[:200] if top else ""


def _customer_messages(
    session: Session, conversation_id: str
) -> tuple[list[tuple[int, str]], dict[int, tuple[str | None, float]]]:
    events = session.exec(
        select(ConversationEvent)
        .where(
            col(ConversationEvent.conversation_id) == conversation_id,
            col(ConversationEvent.author) == "customer",
            col(ConversationEvent.type) == "message",
        )
        .order_by(col(ConversationEvent.seq))
    ).all()
    exchanges = session.exec(
        select(Exchange).where(col(Exchange.conversation_id) == conversation_id)
    ).all()
    signals = {
        x.message_seq: (x.intent if x.intent_in_scope else None, x.sentiment_score)
        for x in exchanges
    }
    return [(e.seq, str(e.payload.get("text", ""))) for e in events], signals


def build_context(session: Session, conversation: Conversation) -> dict[str, Any]:
    events = session.exec(
        select(ConversationEvent)
        .where(col(ConversationEvent.conversation_id) == conversation.id)
        .order_by(col(ConversationEvent.seq))
    ).all()
    exchanges = session.exec(
        select(Exchange)
        .where(col(Exchange.conversation_id) == conversation.id)
        .order_by(col(Exchange.message_seq))
    ).all()
    messages, signals = _customer_messages(session, conversation.id)
    replies = {e.seq: e for e in events}
    trend = sentiment_trend(conversation.sentiment_scores)
    direction = (
        "worsening" if trend.slope < -0.05 else "improving" if trend.slope > 0.05 else "steady"
    )
    return {
        "summary": {
            "key_sentences": key_sentences(messages, signals),
            "facts": extract_facts([text for _seq, text in messages]),
        },
        "customer": {
            "name": conversation.customer_name,
            "email": conversation.customer_email,
            "tier": conversation.customer_tier,
            "language": conversation.language,
            "earlier_conversations": _earlier(session, conversation),
        },
        "intent_trail": [
            {
                "seq": x.message_seq,
                "intent": x.intent if x.intent_in_scope else None,
                "confidence": round(x.intent_confidence or 0.0, 3),
                "decision": x.decision,
            }
            for x in exchanges
        ],
        "sentiment_trend": {
            "scores": conversation.sentiment_scores,
            "direction": direction,
            "mean": round(trend.mean, 3),
        },
        "bot_answers": [
            {
                "seq": x.reply_seq,
                "text": str(replies[x.reply_seq].payload.get("text", "")),
                "entry_id": x.entry_id,
                "intent": x.intent if x.decision == "answer_intent" else None,
                "helpful": x.helpful,
            }
            for x in exchanges
            if x.decision in {"answer_faq", "answer_intent"} and x.reply_seq in replies
        ],
        "transcript": [
            {
                "seq": e.seq,
                "author": e.author,
                "type": e.type,
                "text": str(e.payload.get("text", "")),
                "internal": e.internal,
                "at": e.created_at.isoformat(),
            }
            for e in events
        ],
    }


def _earlier(session: Session, conversation: Conversation) -> list[dict[str, Any]]:
    if not conversation.customer_email:
        return []
    rows = session.exec(
        select(Conversation)
        .where(
            col(Conversation.customer_email) == conversation.customer_email,
            col(Conversation.id) != conversation.id,
        )
        .order_by(col(Conversation.created_at).desc())
        .limit(5)
    ).all()
    return [
        {
            "conversation_id": row.id,
            "created_at": row.created_at.isoformat(),
            "reason": row.escalation_reason,
            "state": row.state,
        }
        for row in rows
    ]
