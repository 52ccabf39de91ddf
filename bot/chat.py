"""The customer chat service: record a message, run the bot's turn, log the exchange.

Each public method is one transaction. ``record_customer_message`` commits the customer's words
before anything else happens to them; ``bot_turn`` then reads that message back, understands it,
decides, and commits the reply, the exchange log row and the conversation's new state together.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.clock import utcnow
from core.conversations import (
    Conversation,
    ConversationEvent,
    ConversationState,
    append_event,
    authenticate,
    events_after,
    find_client_event,
    new_conversation,
)
from core.db import session_scope
from core.errors import ConflictError, InvalidInputError, NotFoundError
from core.language import detect_language
from knowledge_base.embeddings import Embedder
from knowledge_base.index import Hit
from knowledge_base.service import KnowledgeBase

from .escalation import BotOnlyEscalator, Escalation, Escalator
from .intent_service import IntentService
from .intents import IntentPrediction
from .models import Exchange
from .policy import (
    Decision,
    DecisionKind,
    FaqCandidate,
    IntentGuess,
    PolicySettings,
    TurnState,
    Understanding,
    decide,
)
from .replies import phrase
from .sentiment import Sentiment, SentimentAnalyzer, SentimentTrend, sentiment_trend

__all__ = ["ChatLimits", "ChatService", "ConversationClosedError", "MessageRejectedError"]


# How many earlier customer messages the sentiment analyzer sees, to spot repeated complaints.
HISTORY_FOR_SENTIMENT = 5


class MessageRejectedError(InvalidInputError):
    code = "invalid_message"


class ConversationClosedError(ConflictError):
    code = "conversation_closed"


@dataclass(frozen=True)
class ChatLimits:
    max_message_chars: int = 2000
    max_client_id_chars: int = 64


class ChatService:
    def __init__(
        self,
        engine: Engine,
        *,
        kb: KnowledgeBase,
        embedder: Embedder,
        intents: IntentService,
        sentiment: SentimentAnalyzer,
        policy: PolicySettings,
        limits: ChatLimits,
        escalator: Escalator | None = None,
    ) -> None:
        self._engine = engine
        self._escalator: Escalator = escalator or BotOnlyEscalator()
        self._kb = kb
        self._embedder = embedder
        self._intents = intents
        self._sentiment = sentiment
        self._policy = policy
        self.limits = limits

    def warm_up(self) -> None:
        """Load every lazily loaded model now, so the first customer does not wait for it."""
        vector, _ = self._kb.encode_query("hello")
        self._intents.predict("hello", vector)
        self._kb.encode_query("你好")
        for text, language in (("hello, thanks", "en"), ("你好，谢谢", "zh")):
            self._sentiment.analyze(text, language=language)

    # -- conversations and messages -----------------------------------------------------------

    def start_conversation(
        self,
        *,
        language: str | None = None,
        name: str | None = None,
        email: str | None = None,
        tier: str = "standard",
    ) -> tuple[Conversation, str]:
        with session_scope(self._engine) as session:
            return new_conversation(session, language=language, name=name, email=email, tier=tier)

    def request_person(self, *, conversation_id: str, token: str | None) -> list[ConversationEvent]:
        """The customer pressed "talk to a person"; nothing happens if one is already coming."""
        with session_scope(self._engine) as session:
            conversation = authenticate(session, conversation_id, token)
            if conversation.state == ConversationState.closed:
                raise ConversationClosedError("the conversation is closed; reopen it first")
            if conversation.state != ConversationState.bot:
                return []
            escalation = Escalation(
                reason="asked_for_person",
                detail="pressed the talk-to-a-person button",
                language=conversation.language or "en",
            )
            return self._escalator.escalate(session, conversation, escalation)

    def authenticate(self, conversation_id: str, token: str | None) -> Conversation:
        with Session(self._engine) as session:
            return authenticate(session, conversation_id, token)

    def validate_text(self, text: object) -> str:
        if not isinstance(text, str):
            raise MessageRejectedError(
                "'text' must be a string", details=[{"code": "invalid_text"}]
            )
        if not text.strip():
            raise MessageRejectedError("the message is empty", details=[{"code": "empty_message"}])
        if len(text) > self.limits.max_message_chars:
            raise MessageRejectedError(
                f"the message is longer than {self.limits.max_message_chars} characters",
                details=[{"code": "message_too_long"}],
            )
        return text.strip()

    def record_customer_message(
        self,
        *,
        conversation_id: str,
        token: str | None,
        text: object,
        client_id: str | None = None,
        suggestion: str | None = None,
    ) -> tuple[ConversationEvent, bool]:
        """Commit the message; a repeated ``client_id`` returns the stored one, not a copy."""
        cleaned = self.validate_text(text)
        if client_id is not None and (
            not isinstance(client_id, str)
            or not 0 < len(client_id) <= self.limits.max_client_id_chars
        ):
            raise MessageRejectedError("'client_id' must be a short string")
        with session_scope(self._engine) as session:
            conversation = authenticate(session, conversation_id, token)
            if conversation.state == ConversationState.closed:
                raise ConversationClosedError(
                    "the conversation is closed; reopen it to write again",
                    details=[{"code": "conversation_closed"}],
                )
            if client_id:
                existing = find_client_event(session, conversation_id, client_id)
                if existing is not None:
                    return existing, False
            payload: dict[str, Any] = {"text": cleaned}
            if suggestion and suggestion in conversation.pending_suggestions:
                payload["suggestion"] = suggestion
            event = append_event(
                session,
                conversation_id=conversation_id,
                type="message",
                author="customer",
                payload=payload,
                client_id=client_id,
            )
        return event, True

    def history(
        self, *, conversation_id: str, token: str | None, after: int = 0
    ) -> list[ConversationEvent]:
        with Session(self._engine) as session:
            authenticate(session, conversation_id, token)
            return events_after(session, conversation_id, after)

    def events_since(self, conversation_id: str, after: int) -> list[ConversationEvent]:
        with Session(self._engine) as session:
            return events_after(session, conversation_id, after)

    def rate(self, *, conversation_id: str, token: str | None, seq: int, helpful: bool) -> Exchange:
        with session_scope(self._engine) as session:
            authenticate(session, conversation_id, token)
            exchange = session.exec(
                select(Exchange).where(
                    col(Exchange.conversation_id) == conversation_id, col(Exchange.reply_seq) == seq
                )
            ).first()
            if exchange is None or exchange.decision not in {"answer_faq", "answer_intent"}:
                raise NotFoundError(f"no bot answer with sequence number {seq} to rate")
            exchange.helpful = helpful
            exchange.rated_at = utcnow()
            session.add(exchange)
            return exchange

    def exchanges(self, *, conversation_id: str | None = None, limit: int = 100) -> list[Exchange]:
        statement = select(Exchange).order_by(col(Exchange.id).desc()).limit(limit)
        if conversation_id:
            statement = statement.where(col(Exchange.conversation_id) == conversation_id)
        with Session(self._engine) as session:
            return list(session.exec(statement).all())

    # -- the bot's turn -------------------------------------------------------------------------

    def bot_turn(self, *, conversation_id: str, message_seq: int) -> list[ConversationEvent]:
        started = time.perf_counter()
        with Session(self._engine) as session:
            conversation = session.get(Conversation, conversation_id)
            message = session.exec(
                select(ConversationEvent).where(
                    col(ConversationEvent.conversation_id) == conversation_id,
                    col(ConversationEvent.seq) == message_seq,
                )
            ).first()
            if conversation is None or message is None:
                raise NotFoundError("no such message")
            if conversation.state != ConversationState.bot:
                return []
            earlier = [
                str(e.payload.get("text", ""))
                for e in session.exec(
                    select(ConversationEvent)
                    .where(
                        col(ConversationEvent.conversation_id) == conversation_id,
                        col(ConversationEvent.author) == "customer",
                        col(ConversationEvent.seq) < message_seq,
                    )
                    .order_by(col(ConversationEvent.seq).desc())
                    .limit(HISTORY_FOR_SENTIMENT)
                )
            ][::-1]
        text = str(message.payload["text"])
        seen = self._understand(
            text,
            fallback_language=conversation.language,
            earlier=earlier,
            sentiment_scores=conversation.sentiment_scores,
            picked_entry_id=message.payload.get("suggestion"),
        )
        prediction, feeling, hits = seen.prediction, seen.feeling, seen.hits
        language = seen.facts.language
        decision = decide(
            TurnState(conversation.state, conversation.consecutive_misses),
            seen.facts,
            self._policy,
        )
        reply = self._compose(decision, language, seen.entries)
        with session_scope(self._engine) as session:
            current = session.get(Conversation, conversation_id)
            if current is None or current.state != ConversationState.bot:
                # A person took over while the bot was thinking: the bot stays quiet.
                return []
            current.language = language
            current.sentiment_scores = [*current.sentiment_scores, round(feeling.score, 4)][-50:]
            topic = _topic(prediction.name if prediction else None, hits, seen.entries)
            events = self._write_outcome(
                session,
                current,
                decision,
                reply,
                Escalation(decision.reason, decision.detail, language, topic),
            )
            session.add(current)
            session.add(
                Exchange(
                    conversation_id=conversation_id,
                    message_seq=message_seq,
                    reply_seq=events[0].seq if events else None,
                    text=text,
                    language=language,
                    intent=prediction.name if prediction else None,
                    intent_confidence=prediction.confidence if prediction else None,
                    intent_in_scope=prediction.in_scope if prediction else None,
                    runners_up=[list(r) for r in prediction.runners_up] if prediction else [],
                    retrieved=[_hit_record(h) for h in hits[:5]],
                    sentiment_label=feeling.label,
                    sentiment_score=feeling.score,
                    sentiment={"signals": list(feeling.signals), "trend": asdict(seen.trend)},
                    decision=decision.kind,
                    reason=decision.reason,
                    detail=decision.detail,
                    entry_id=decision.entry_id,
                    model_versions=self._versions(),
                    latency_ms=(time.perf_counter() - started) * 1000,
                )
            )
        return events

    def explain(self, text: object, *, language: str | None = None) -> dict[str, Any]:
        """What the bot would make of ``text`` as a new conversation's first message, and why.

        Nothing is written: no conversation, no exchange row. The admin's "test the bot".
        """
        cleaned = self.validate_text(text)
        seen = self._understand(
            cleaned, fallback_language=language, earlier=[], sentiment_scores=[]
        )
        decision = decide(TurnState(), seen.facts, self._policy)
        reply = self._compose(decision, seen.facts.language, seen.entries)
        prediction = seen.prediction
        return {
            "text": cleaned,
            "language": seen.facts.language,
            "intent": (
                {
                    "name": prediction.name,
                    "confidence": prediction.confidence,
                    "in_scope": prediction.in_scope,
                    "action": seen.facts.intent.action if seen.facts.intent else "respond",
                    "runners_up": [
                        {"name": name, "confidence": score} for name, score in prediction.runners_up
                    ],
                }
                if prediction
                else None
            ),
            "faqs": [
                _hit_record(h)
                | {"question": seen.entries[h.entry_id].question, "language": h.language}
                for h in seen.hits
                if h.entry_id in seen.entries
            ],
            "sentiment": {
                "label": seen.feeling.label,
                "score": seen.feeling.score,
                "signals": list(seen.feeling.signals),
            },
            "decision": {
                "kind": decision.kind.value,
                "reason": decision.reason.value,
                "detail": decision.detail,
                "entry_id": decision.entry_id,
                "intent": decision.intent,
                "suggestions": [s.entry_id for s in decision.suggestions],
            },
            "reply": reply,
            "model_versions": self._versions(),
        }

    def _versions(self) -> dict[str, Any]:
        """What answered: every model's version and the index's revision."""
        model = self._intents.model
        return {
            "embedding": self._embedder.name,
            "intent": model.version if model else None,
            "sentiment": self._sentiment.version,
            "index_revision": self._kb.index.state().revision,
        }

    def _understand(
        self,
        text: str,
        *,
        fallback_language: str | None,
        earlier: list[str],
        sentiment_scores: list[float],
        picked_entry_id: str | None = None,
    ) -> _Seen:
        """Language, intent, sentiment and FAQ matches for one message; reads, never writes."""
        language = _language_of(text, fallback_language)
        vector, han_vector = self._kb.encode_query(text)
        prediction = self._intents.predict(text, vector)
        info = self._intents.info(prediction.name) if prediction else None
        feeling = self._sentiment.analyze(text, language=language, history=earlier)
        trend = sentiment_trend([*sentiment_scores, feeling.score])
        found = self._kb.search(text, k=8, query_vector=vector, han_vector=han_vector)
        hits = _prefer_language(found, language)
        questions = self._kb.get_entries([h.entry_id for h in hits])
        faqs = tuple(
            FaqCandidate(h.entry_id, h.score, questions[h.entry_id].question)
            for h in hits
            if h.entry_id in questions
        )
        guess = (
            IntentGuess(
                prediction.name,
                prediction.confidence,
                prediction.in_scope,
                info.action if info else "respond",
            )
            if prediction
            else None
        )
        facts = Understanding(
            language=language,
            intent=guess,
            sentiment_score=feeling.score,
            sentiment_worsening=trend.worsening,
            faqs=faqs,
            picked_entry_id=picked_entry_id,
        )
        return _Seen(facts, prediction, feeling, trend, hits, questions)

    def _compose(
        self, decision: Decision, language: str, entries: dict[str, Any]
    ) -> dict[str, Any]:
        kind = decision.kind
        if kind is DecisionKind.answer_faq and decision.entry_id:
            entry = entries.get(decision.entry_id) or self._kb.get_entry(decision.entry_id)
            return {"text": entry.answer, "kind": "answer", "entry_id": entry.id, "rateable": True}
        if kind is DecisionKind.answer_intent and decision.intent:
            info = self._intents.info(decision.intent)
            responses = info.responses if info else {}
            text = responses.get(language) or responses.get("en") or phrase("no_response", language)
            return {"text": text, "kind": "answer", "intent": decision.intent, "rateable": True}
        if kind is DecisionKind.clarify:
            return {
                "text": phrase("clarify", language),
                "kind": "clarify",
                "suggestions": [
                    {"entry_id": s.entry_id, "question": s.question} for s in decision.suggestions
                ],
            }
        if kind is DecisionKind.escalate:
            return {"text": phrase("escalate", language), "kind": "escalation"}
        return {"text": phrase("fallback", language), "kind": "fallback"}

    def _write_outcome(
        self,
        session: Session,
        conversation: Conversation,
        decision: Decision,
        reply: dict[str, Any],
        escalation: Escalation,
    ) -> list[ConversationEvent]:
        if decision.kind is DecisionKind.stay_silent:
            return []
        if decision.kind is DecisionKind.escalate:
            conversation.pending_suggestions = []
            conversation.consecutive_misses = 0
            return self._escalator.escalate(session, conversation, escalation)
        events = [
            append_event(
                session,
                conversation_id=conversation.id,
                type="message",
                author="bot",
                payload=reply,
            )
        ]
        conversation.pending_suggestions = [s.entry_id for s in decision.suggestions]
        if decision.kind is DecisionKind.fallback:
            conversation.consecutive_misses = decision.misses
        elif decision.kind is not DecisionKind.clarify:
            conversation.consecutive_misses = 0
        return events


@dataclass(frozen=True)
class _Seen:
    facts: Understanding
    prediction: IntentPrediction | None
    feeling: Sentiment
    trend: SentimentTrend
    hits: list[Hit]
    entries: dict[str, Any]


def _language_of(text: str, fallback: str | None) -> str:
    detected = detect_language(text, default="")
    return detected or fallback or "en"


def _topic(intent: str | None, hits: list[Hit], entries: dict[str, Any]) -> str | None:
    """What the customer is on about: the intent, else the best FAQ match's category."""
    if intent and intent not in {"human_agent", "greeting", "thanks", "goodbye", "affirm", "deny"}:
        return intent
    for hit in hits[:1]:
        entry = entries.get(hit.entry_id)
        if entry is not None and getattr(entry, "category", None):
            return str(entry.category)
    return intent


def _prefer_language(hits: list[Hit], language: str) -> list[Hit]:
    """Answer in the customer's language when the knowledge base has a match in it."""
    same = [h for h in hits if h.language == language]
    return same or hits


def _hit_record(hit: Hit) -> dict[str, Any]:
    return {
        "entry_id": hit.entry_id,
        "score": round(hit.score, 4),
        "dense": round(hit.dense, 4),
        "lexical": round(hit.lexical, 4),
    }
