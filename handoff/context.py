"""The context packet an agent reads when taking over: who the customer is, what they said and
felt, what the bot understood and answered, and a summary readable in five seconds. Personal
data in it is masked when the policy masks it for agents (core/pii_policy.py)."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session, col, or_, select

from bot.models import Exchange
from bot.sentiment import sentiment_trend
from bot.slots import extract_slots
from core.conversations import Conversation, ConversationEvent
from core.pii import find_personal_data, mask_personal_data, placeholder

__all__ = ["build_context", "extract_facts", "key_sentences", "summary_line"]

_LOW_INFORMATION = {"human_agent", "greeting", "thanks", "goodbye", "affirm", "deny"}


def extract_facts(texts: list[str], *, mask: bool = True) -> list[dict[str, str]]:
    """Order numbers, amounts, emails, phones, card, ID and IBAN numbers, each once, in the
    order they appear.

    The bot's own extractor finds the slots, so the agent sees what the bot understood; a card
    is a card (``core.pii``), never an order. Order numbers are shown normalised ("#10482" and
    "order 10482" are one fact); amounts as written; personal data as a masked hint unless
    ``mask`` is off.
    """
    found: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for text in texts:
        spotted: list[tuple[int, str, str, str]] = []  # (start, kind, identity, shown)
        for slot in extract_slots(text):
            shown = slot.value if slot.kind == "order_number" else slot.text
            if mask and slot.kind in {"email", "phone"}:
                shown = placeholder(slot.kind, slot.text)
            spotted.append((slot.start, slot.kind, slot.value, shown))
        for span in find_personal_data(text):
            if span.kind in {"card", "national_id", "iban"}:
                written = text[span.start : span.end]
                identity = re.sub(r"[^0-9A-Za-z]", "", written).upper()
                shown = placeholder(span.kind, written) if mask else written
                spotted.append((span.start, span.kind, identity, shown))
        for _start, kind, identity, shown in sorted(spotted):
            if (kind, identity) not in seen:
                seen.add((kind, identity))
                found.append({"kind": kind, "value": shown})
    return found


def key_sentences(
    messages: list[tuple[int, str]],
    signals: dict[int, tuple[str | None, float]],
    limit: int = 3,
    *,
    mask: bool = True,
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
    return [
        {"seq": seq, "text": mask_personal_data(text) if mask else text}
        for _score, seq, text in sorted(best, key=lambda i: i[1])
    ]


def summary_line(session: Session, conversation_id: str, *, mask: bool = True) -> str:
    """The ticket's one line, stored with it: masked when agents see personal data masked."""
    messages, signals = _customer_messages(session, conversation_id)
    top = key_sentences(messages, signals, limit=1, mask=mask)
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


def build_context(
    session: Session,
    conversation: Conversation,
    *,
    mask: bool = True,
    channel: dict[str, str | None] | None = None,
) -> dict[str, Any]:
    """The packet; with ``mask``, every text shows personal data as a hint (``masked`` marks the
    transcript entries that changed; their raw text is revealed one at a time, audited)."""
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
        # How the customer reached us ({"kind": "api", "name": "shop-app"}; the widget: "web").
        "channel": channel or {"kind": conversation.channel, "name": None},
        "summary": {
            "key_sentences": key_sentences(messages, signals, mask=mask),
            "facts": extract_facts([text for _seq, text in messages], mask=mask),
        },
        "customer": {
            "name": conversation.customer_name,
            "email": conversation.customer_email,
            "tier": conversation.customer_tier,
            # False: name, e-mail and tier are what the page claimed, unsigned (show as such).
            "verified": conversation.identity_verified,
            "external_id": conversation.customer_external_id,
            # Under a legal hold: kept past the retention period and through erasure.
            "legal_hold": conversation.legal_hold,
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
                "text": _shown(str(replies[x.reply_seq].payload.get("text", "")), mask),
                "entry_id": x.entry_id,
                "intent": x.intent if x.decision == "answer_intent" else None,
                "helpful": x.helpful,
            }
            for x in exchanges
            if x.decision in {"answer_faq", "answer_intent"} and x.reply_seq in replies
        ],
        "transcript": [_transcript_entry(e, mask) for e in events],
    }


def _shown(text: str, mask: bool) -> str:
    return mask_personal_data(text) if mask else text


def _transcript_entry(event: ConversationEvent, mask: bool) -> dict[str, Any]:
    text = str(event.payload.get("text", ""))
    shown = _shown(text, mask)
    return {
        "seq": event.seq,
        "author": event.author,
        "type": event.type,
        "text": shown,
        "masked": shown != text,
        "internal": event.internal,
        "at": event.created_at.isoformat(),
    }


def _earlier(session: Session, conversation: Conversation) -> list[dict[str, Any]]:
    """The customer's earlier conversations, for a verified identity only: those with the
    site's external id or the e-mail, whose identity was verified too. Anyone can type an
    address, so an unsigned one links nothing (docs/security.md "Signed identity")."""
    if not conversation.identity_verified:
        return []
    same = [
        column == value
        for column, value in (
            (col(Conversation.customer_external_id), conversation.customer_external_id),
            (col(Conversation.customer_email), conversation.customer_email),
        )
        if value
    ]
    if not same:
        return []
    rows = session.exec(
        select(Conversation)
        .where(
            or_(*same),
            col(Conversation.identity_verified),
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
