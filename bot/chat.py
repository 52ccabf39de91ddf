"""The customer chat service: record a message, run the bot's turn, log the exchange.

Each public method is one transaction. ``record_customer_message`` commits the customer's words
before anything else happens to them; ``bot_turn`` then reads that message back, understands it,
decides, and commits the reply, the exchange log row and the conversation's new state together.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
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
    note_seen,
    rotate_token,
)
from core.db import session_scope
from core.errors import ConflictError, InvalidInputError, NotFoundError
from core.language import detect_language
from core.metrics import BOT_TURN_SECONDS, BOT_TURNS, ESCALATIONS, observe_stage, stage
from core.pii import mask_personal_data, placeholder
from core.pii_policy import PersonalDataPolicy
from core.text import InvalidTextError, check_text
from knowledge_base.embeddings import Embedder
from knowledge_base.index import Hit
from knowledge_base.service import KnowledgeBase

from .actions import FAILED, ActionService
from .answer_service import AnswerGuess, FaqAnswerService
from .continuation import Question, question_to_continue
from .escalation import BotOnlyEscalator, Escalation, Escalator
from .intent_service import IntentService
from .intents import IntentPrediction
from .models import BotAction, Exchange
from .plain_text import picked_suggestion
from .policy import (
    AnswerEstimate,
    Decision,
    DecisionKind,
    FaqCandidate,
    IntentGuess,
    PolicySettings,
    Reason,
    TurnState,
    Understanding,
    decide,
)
from .replies import phrase
from .sentiment import Sentiment, SentimentAnalyzer, SentimentTrend, sentiment_trend
from .slots import Slot, extract_slots, mask_slots, only_slots
from .turns import (
    PendingBotTurn,
    TurnConfig,
    TurnKey,
    claim_expired,
    complete_turn,
    drop_turn,
    holds_turn,
    open_turn,
    renew_leases,
)

__all__ = [
    "ChatLimits",
    "ChatService",
    "ConversationClosedError",
    "MessageRejectedError",
    "TokenGrant",
]


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
    customer_token_ttl: timedelta = timedelta(days=30)


@dataclass(frozen=True)
class TokenGrant:
    """A customer token as handed out: when it dies, and when the client should rotate it."""

    conversation_id: str
    token: str
    expires_at: datetime
    rotate_after: datetime
    rotate_in_seconds: float


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
        turns: TurnConfig | None = None,
        answers: FaqAnswerService | None = None,
        personal_data: PersonalDataPolicy | None = None,
        actions: ActionService | None = None,
    ) -> None:
        self._engine = engine
        # The business's systems an intent may ask (bot/actions.py).
        self.actions = actions or ActionService(engine)
        # Where personal data is masked: the exchange log's text, test the bot's echo.
        self.personal_data = personal_data or PersonalDataPolicy()
        self._answers = answers
        self.turns = turns or TurnConfig()
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
        external_id: str | None = None,
        identity_verified: bool = False,
    ) -> TokenGrant:
        """``identity_verified`` only when the embedding site's signature over the claims was
        checked; the claims are stored either way, and shown as unverified without it."""
        with session_scope(self._engine) as session:
            conversation, token = new_conversation(
                session,
                token_ttl=self.limits.customer_token_ttl,
                language=language,
                name=name,
                email=email,
                tier=tier,
                external_id=external_id,
                identity_verified=identity_verified,
            )
            return self._grant(conversation, token)

    def rotate_token(self, *, conversation_id: str, token: str | None) -> TokenGrant:
        """A new token for the conversation; the one given stops working at once."""
        with session_scope(self._engine) as session:
            conversation, new_token = rotate_token(
                session, conversation_id, token, token_ttl=self.limits.customer_token_ttl
            )
            return self._grant(conversation, new_token)

    def _grant(self, conversation: Conversation, token: str) -> TokenGrant:
        # Half-way through its life: a client that comes back at least that often never sees
        # its token expire.
        expires_at = conversation.token_expires_at
        rotate_after = expires_at - self.limits.customer_token_ttl / 2
        return TokenGrant(
            conversation_id=conversation.id,
            token=token,
            expires_at=expires_at,
            rotate_after=rotate_after,
            rotate_in_seconds=max(0.0, (rotate_after - utcnow()).total_seconds()),
        )

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
        self._storable(text, "text")
        if len(text) > self.limits.max_message_chars:
            raise MessageRejectedError(
                f"the message is longer than {self.limits.max_message_chars} characters",
                details=[{"code": "message_too_long"}],
            )
        return text.strip()

    @staticmethod
    def _storable(value: str, field: str) -> None:
        """The edge's one text check, as this service's error (``invalid_text`` in details)."""
        try:
            check_text(value, field=field)
        except InvalidTextError as exc:
            raise MessageRejectedError(exc.message, details=exc.details) from None

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
        for field, value in (("client_id", client_id), ("suggestion", suggestion)):
            if isinstance(value, str):
                self._storable(value, field)
        with session_scope(self._engine) as session:
            conversation = authenticate(session, conversation_id, token)
            return self.append_customer_message(
                session, conversation, cleaned, client_id=client_id, suggestion=suggestion
            )

    def append_customer_message(
        self,
        session: Session,
        conversation: Conversation,
        text: str,
        *,
        client_id: str | None = None,
        suggestion: str | None = None,
        via: str | None = None,
        numbered: bool = False,
    ) -> tuple[ConversationEvent, bool]:
        """In the caller's transaction, the customer's already checked ``text`` and, when the
        bot has the conversation, the turn it owes: the widget's path and every channel's.
        ``via`` names a way in other than the conversation's channel (``email``); a way in
        that shows suggestions as numbered lines (``numbered``) lets a number pick one."""
        if conversation.state == ConversationState.closed:
            raise ConversationClosedError(
                "the conversation is closed; reopen it to write again",
                details=[{"code": "conversation_closed"}],
            )
        if client_id:
            existing = find_client_event(session, conversation.id, client_id)
            if existing is not None:
                return existing, False
        payload: dict[str, Any] = {"text": text}
        if numbered and suggestion is None:
            suggestion = picked_suggestion(text, conversation.pending_suggestions)
        if suggestion and suggestion in conversation.pending_suggestions:
            payload["suggestion"] = suggestion
        if via:
            payload["via"] = via
        event = append_event(
            session,
            conversation_id=conversation.id,
            type="message",
            author="customer",
            payload=payload,
            client_id=client_id,
        )
        if conversation.state == ConversationState.bot:
            # Owed a reply from this commit on: a crash before the reply leaves the row.
            open_turn(session, TurnKey(conversation.id, event.seq), self.turns)
        return event, True

    def history(
        self, *, conversation_id: str, token: str | None, after: int = 0, limit: int = 1000
    ) -> list[ConversationEvent]:
        """One page of the customer's events past ``after``, oldest first; what it returns
        counts as shown to the customer."""
        with session_scope(self._engine) as session:
            authenticate(session, conversation_id, token)
            events = events_after(session, conversation_id, after, limit=limit)
            if events:
                note_seen(session, conversation_id, events[-1].seq)
            return events

    def shown(self, conversation_id: str, seq: int) -> None:
        """The customer's widget was shown the conversation up to ``seq``: the replies a
        socket sent or a REST send returned (what is not shown may go by e-mail)."""
        with session_scope(self._engine) as session:
            note_seen(session, conversation_id, seq)

    def events_since(self, conversation_id: str, after: int) -> list[ConversationEvent]:
        """One page of events past ``after``: callers page on from the last ``seq``."""
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
        """The exchange log, newest first; texts masked as the policy says (rows written before
        it masked them, or under another policy, are masked here)."""
        statement = select(Exchange).order_by(col(Exchange.id).desc()).limit(limit)
        if conversation_id:
            statement = statement.where(col(Exchange.conversation_id) == conversation_id)
        with Session(self._engine) as session:
            rows = list(session.exec(statement).all())
            session.expunge_all()  # detached: what is masked below is never written back
        for row in rows:
            row.text = self.personal_data.shown("exchanges", row.text)
        return rows

    # -- the bot's turn -------------------------------------------------------------------------

    def bot_turn(self, *, conversation_id: str, message_seq: int) -> list[ConversationEvent]:
        """Answer the message if this worker holds its pending turn; the reply's transaction
        completes the turn, so a turn run again after a crash or a takeover answers once."""
        started = time.perf_counter()
        key = TurnKey(conversation_id, message_seq)
        with Session(self._engine) as session:
            if not holds_turn(session, key, self.turns.worker):
                return []  # answered already, owed by nobody, or another worker's
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
                # A person has it now: the turn is over, silently.
                with session_scope(self._engine) as writing:
                    complete_turn(writing, key, self.turns.worker)
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
            # A message that only gives an order number (or e-mail, phone, amount) answers the
            # question before it: the bot reads that question again, now with the slot known.
            continued = question_to_continue(session, message)
        observe_stage("read", time.perf_counter() - started)
        text = str(message.payload["text"])
        seen = self._understand(
            text,
            fallback_language=conversation.language,
            earlier=earlier,
            sentiment_scores=conversation.sentiment_scores,
            picked_entry_id=message.payload.get("suggestion"),
            continued=continued,
        )
        prediction, feeling, hits = seen.prediction, seen.feeling, seen.hits
        language = seen.facts.language
        decision = decide(
            TurnState(conversation.state, conversation.consecutive_misses),
            seen.facts,
            self._policy,
        )
        reply = self._compose(decision, language, seen.entries)
        decision, reply, action_log = self._act(decision, reply, seen.slots, continued, language)
        latency_ms = (time.perf_counter() - started) * 1000
        if self.turns.reply_delay:
            time.sleep(self.turns.reply_delay)
        write_started = time.perf_counter()
        with session_scope(self._engine) as session:
            # First, so that on PostgreSQL the row lock orders this against a takeover.
            if not complete_turn(session, key, self.turns.worker):
                return []  # taken over meanwhile: the new holder answers
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
                    text=self.personal_data.shown("exchanges", text),
                    language=language,
                    intent=prediction.name if prediction else None,
                    intent_confidence=prediction.confidence if prediction else None,
                    intent_in_scope=prediction.in_scope if prediction else None,
                    runners_up=[list(r) for r in prediction.runners_up] if prediction else [],
                    retrieved=[_hit_record(h) for h in hits[:5]],
                    sentiment_label=feeling.label,
                    sentiment_score=feeling.score,
                    sentiment={
                        "signals": list(feeling.signals),
                        "negative": feeling.negative,
                        "head": feeling.head,
                        "trend": asdict(seen.trend),
                    },
                    decision=decision.kind,
                    reason=decision.reason,
                    detail=decision.detail,
                    entry_id=decision.entry_id,
                    model_versions=self._versions(),
                    latency_ms=latency_ms,
                    action=action_log,
                )
            )
        finished = time.perf_counter()
        observe_stage("write", finished - write_started)
        BOT_TURNS.labels(decision=decision.kind.value, language=language).inc()
        BOT_TURN_SECONDS.observe(finished - started)
        if decision.kind == DecisionKind.escalate:
            ESCALATIONS.labels(reason=str(decision.reason)).inc()
        return events

    def claim_stale_turns(self, limit: int = 16) -> list[PendingBotTurn]:
        """Take over turns whose holder stopped renewing its lease (it crashed)."""
        return claim_expired(self._engine, self.turns, limit=limit)

    def renew_turns(self, keys: list[TurnKey]) -> int:
        return renew_leases(self._engine, keys, self.turns)

    def drop_turn(self, key: TurnKey) -> bool:
        return drop_turn(self._engine, key, self.turns.worker)

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
        mask = self.personal_data.masks("bot_test")
        # How often questions this knowledge base does not answer score as high (None: unknown).
        unknown = {c.entry_id: c.unknown_share for c in seen.facts.faqs}
        return {
            "text": mask_personal_data(cleaned) if mask else cleaned,
            "language": seen.facts.language,
            "slots": [_slot_record(s, mask=mask) for s in seen.slots],
            "only_slots": only_slots(cleaned, seen.slots),
            # What the models read: the text with its slots masked.
            "understood_text": mask_personal_data(seen.meaning) if mask else seen.meaning,
            "intent": (
                {
                    "name": prediction.name,
                    "confidence": prediction.confidence,
                    # The calibrated chance of being right; in scope from 0.5, a handoff rule
                    # acts from handoff_intent_probability.
                    "probability": round(prediction.in_scope_probability, 4),
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
                | {
                    "question": seen.entries[h.entry_id].question,
                    "language": h.language,
                    "unknown_share": _rounded(unknown.get(h.entry_id)),
                }
                for h in seen.hits
                if h.entry_id in seen.entries
            ],
            "sentiment": {
                "label": seen.feeling.label,
                "score": seen.feeling.score,
                "negative": seen.feeling.negative,
                "head": seen.feeling.head,
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
            # The action this decision would call, and the slots it has or lacks; nothing is called.
            "action": self._action_preview(decision, seen.slots),
            "answer_model": self._answer_record(seen),
            "reply": reply,
            "model_versions": self._versions(),
        }

    def _action_for(self, decision: Decision) -> BotAction | None:
        """The enabled action that a decision to answer with one (``intent_action``) calls."""
        if decision.reason is not Reason.intent_action:
            return None
        return self.actions.for_intent(decision.intent)

    def _action_preview(self, decision: Decision, slots: list[Slot]) -> dict[str, Any] | None:
        action = self._action_for(decision)
        if action is None:
            return None
        values = self.actions.slot_values(action, slots)
        return {
            "name": action.name,
            "slots": list(values),
            "missing": self.actions.missing(action, values),
        }

    def _answer_record(self, seen: _Seen) -> dict[str, Any] | None:
        """The answer model's entry, its chance of being right and what that was read from."""
        guess = seen.answer_guess
        if guess is None:
            return None
        return {
            "entry_id": guess.entry_id,
            "probability": round(guess.probability, 4),
            "answer_at": self._policy.faq_answer_probability,
            "suggest_at": self._policy.faq_clarify_probability,
            "used": seen.facts.answer is not None,
            # False where the model did not prove itself on this knowledge base's own held-out
            # phrasings: retrieval's score thresholds decide instead.
            "reliable": guess.reliable,
            "runners_up": list(guess.runners_up),
            "evidence": dict(guess.evidence),
        }

    def _versions(self) -> dict[str, Any]:
        """What answered: every model's version and the index's revision."""
        model = self._intents.model
        return {
            "embedding": self._embedder.name,
            "intent": model.version if model else None,
            "answer": (
                self._answers.model.version
                if self._answers is not None and self._answers.model
                else None
            ),
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
        continued: Question | None = None,
    ) -> _Seen:
        """Language, intent, sentiment and FAQ matches for one message; reads, never writes.

        The models read the message (or the ``continued`` question) with its slots masked, so
        an order number cannot pull retrieval towards entries that merely share its digits.
        """
        about = continued.text if continued else text
        # "LM20240518" alone reads as English: a continuation speaks its question's language.
        language = _language_of(about, fallback_language)
        slots = extract_slots(text)
        meaning = mask_slots(about, extract_slots(about), language)
        with stage("encode"):
            vector, han_vector = self._kb.encode_query(meaning)
        with stage("intents"):
            prediction = self._intents.predict(meaning, vector)
            info = self._intents.info(prediction.name) if prediction else None
        # The vectors retrieval needs are the sentiment head's input too: no extra encoding.
        # A continuation's vectors are the earlier question's, not this message's: rules judge it.
        own = continued is None
        with stage("sentiment"):
            feeling = self._sentiment.analyze(
                text,
                language=language,
                history=earlier,
                main_vector=vector if own else None,
                han_vector=han_vector if own else None,
            )
            trend = sentiment_trend([*sentiment_scores, feeling.score])
        # An index behind the database (another process's change not applied yet) could
        # answer with what was archived or reworded: then the bot answers from no FAQ at all.
        with stage("retrieval"):
            found = (
                self._kb.search(meaning, k=8, query_vector=vector, han_vector=han_vector)
                if self._kb.ready_to_answer()
                else []
            )
            hits = _prefer_language(found, language)
        with stage("answer_model"):
            guess = (
                self._answers.guess(meaning, _index_vector(vector, han_vector, self._kb))
                if self._answers is not None and found
                else None
            )
        wanted = [h.entry_id for h in hits] + ([guess.entry_id] if guess else [])
        with stage("entries"):
            questions = self._kb.get_entries(wanted)
        learned = guess.known if guess else frozenset()
        faqs = tuple(
            FaqCandidate(
                h.entry_id,
                h.score,
                questions[h.entry_id].question,
                learned=guess is None or not guess.reliable or h.entry_id in learned,
                unknown_share=self._answers.unknown_share(language, h.score)
                if self._answers is not None
                else None,
            )
            for h in hits
            if h.entry_id in questions and questions[h.entry_id].status == "published"
        )
        answer = _answer_estimate(guess, questions, language, hits)
        action = info.action if info else "respond"
        if prediction and action == "respond" and self.actions.for_intent(prediction.name):
            action = "call"
        intent_guess = (
            IntentGuess(
                prediction.name,
                prediction.confidence,
                prediction.in_scope,
                action,
                probability=prediction.in_scope_probability,
            )
            if prediction
            else None
        )
        facts = Understanding(
            language=language,
            intent=intent_guess,
            sentiment_score=feeling.score,
            sentiment_worsening=trend.worsening,
            faqs=faqs,
            answer=answer,
            picked_entry_id=picked_entry_id,
            slots=tuple(slot.kind for slot in slots),
            continues_seq=continued.seq if continued else None,
        )
        return _Seen(facts, prediction, feeling, trend, hits, questions, slots, meaning, guess)

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

    def _act(
        self,
        decision: Decision,
        reply: dict[str, Any],
        slots: list[Slot],
        continued: Question | None,
        language: str,
    ) -> tuple[Decision, dict[str, Any], dict[str, Any] | None]:
        """Ask the business's system when the decision is an intent with an enabled action:
        its rendered answer, its prompt for a missing slot, or a hand-over when it failed."""
        action = self._action_for(decision)
        if action is None:
            return decision, reply, None
        # This message's slots first, then those of the question it continues.
        given = [*slots, *(extract_slots(continued.text) if continued else [])]
        values = self.actions.slot_values(action, given)
        said = {"kind": "answer", "intent": decision.intent, "action": action.name}
        missing = self.actions.missing(action, values)
        if missing:
            note = f"action {action.name} asks for {', '.join(missing)}"
            text = self.actions.prompt(action, language) or reply["text"]
            prompt = said | {"text": text, "rateable": False}
            return _noted(decision, note), prompt, None
        result = self.actions.call(action, values, language)
        log = result.log(lambda value: self.personal_data.shown("exchanges", value))
        note = f"action {action.name}: {result.outcome}"
        if result.failed:
            failed = replace(decision, kind=DecisionKind.escalate, reason=Reason.action_failed)
            text = FAILED.get(language, FAILED["en"])
            return _noted(failed, f"{note}, {result.error}"), {"text": text, "kind": "notice"}, log
        return _noted(decision, note), said | {"text": result.reply, "rateable": True}, log

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
            # A failed action says so before the hand-over message.
            said = (
                [self._say(session, conversation, reply)]
                if decision.reason is Reason.action_failed
                else []
            )
            return said + self._escalator.escalate(session, conversation, escalation)
        events = [self._say(session, conversation, reply)]
        conversation.pending_suggestions = [s.entry_id for s in decision.suggestions]
        if decision.kind is DecisionKind.fallback:
            conversation.consecutive_misses = decision.misses
        elif decision.kind is not DecisionKind.clarify:
            conversation.consecutive_misses = 0
        return events

    @staticmethod
    def _say(
        session: Session, conversation: Conversation, reply: dict[str, Any]
    ) -> ConversationEvent:
        return append_event(
            session, conversation_id=conversation.id, type="message", author="bot", payload=reply
        )


def _noted(decision: Decision, note: str) -> Decision:
    detail = f"{decision.detail}; {note}" if decision.detail else note
    return replace(decision, detail=detail[:500])


@dataclass(frozen=True)
class _Seen:
    facts: Understanding
    prediction: IntentPrediction | None
    feeling: Sentiment
    trend: SentimentTrend
    hits: list[Hit]
    entries: dict[str, Any]
    slots: list[Slot]
    meaning: str  # what the models read
    answer_guess: AnswerGuess | None = None


def _slot_record(slot: Slot, *, mask: bool) -> dict[str, str]:
    if mask and slot.kind in {"email", "phone"}:
        hint = placeholder(slot.kind, slot.text)
        return {"kind": slot.kind, "value": hint, "text": hint}
    return {"kind": slot.kind, "value": slot.value, "text": slot.text}


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


def _index_vector(
    main: npt.NDArray[np.float32], han: npt.NDArray[np.float32] | None, kb: KnowledgeBase
) -> npt.NDArray[np.float32]:
    """The message as the index stores a phrasing: the main vector beside the Han model's
    (zeros for text without Han characters)."""
    width = kb.index.vectors.dim - len(main)
    side = han if han is not None and width > 0 else np.zeros(max(width, 0), dtype=np.float32)
    return np.concatenate([main, side]).astype(np.float32)


def _answer_estimate(
    guess: AnswerGuess | None, entries: dict[str, Any], language: str, hits: list[Hit]
) -> AnswerEstimate | None:
    """The answer model's entry as the policy reads it: published, and in the customer's
    language whenever retrieval found entries in that language."""
    if guess is None or not guess.reliable:
        return None
    entry = entries.get(guess.entry_id)
    if entry is None or entry.status != "published":
        return None
    if entry.language != language and any(h.language == language for h in hits):
        return None
    candidate = FaqCandidate(entry.id, 0.0, entry.question)
    return AnswerEstimate(candidate, guess.probability)


def _prefer_language(hits: list[Hit], language: str) -> list[Hit]:
    """Answer in the customer's language when the knowledge base has a match in it."""
    same = [h for h in hits if h.language == language]
    return same or hits


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _hit_record(hit: Hit) -> dict[str, Any]:
    return {
        "entry_id": hit.entry_id,
        "score": round(hit.score, 4),
        "dense": round(hit.dense, 4),
        "lexical": round(hit.lexical, 4),
    }
