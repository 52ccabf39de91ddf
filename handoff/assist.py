"""Agent assist: for the customer's latest message, the knowledge-base answers and canned
responses most likely to help, ranked by the bot's own retrieval, and a count of the ones
agents put into their replies.

The message is read as the bot reads it: slots (order numbers, e-mails, amounts) become plain
words first (``bot.slots.mask_slots``). FAQ entries come from the index's fused search in the
conversation's language, as the bot would find them, down to the score at which the bot would
still offer an entry as a "did you mean" (``KEFU_FAQ_CLARIFY_SCORE`` and its Chinese twin).
Canned responses are ranked by the same encoders: the Han model's cosine for a message with
Chinese in it, the main model's otherwise, with each response's vectors cached until its text
changes. The two lists are ranked apart,
because a fused FAQ score and a cosine do not read on one scale.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.slots import extract_slots, mask_slots
from core.clock import utcnow
from core.conversations import Conversation, ConversationEvent
from core.db import session_scope
from core.errors import NotFoundError
from core.settings import Settings
from knowledge_base.models import FaqEntry
from knowledge_base.service import KnowledgeBase

from .canned import CannedLibrary, fill
from .models import AssistUse, CannedResponse

__all__ = ["AgentAssist", "AssistOut", "AssistUsage", "AssistUsedIn", "Suggestion"]

# Suggestions of each kind shown for one message.
PER_KIND = 3
# Text shown for an FAQ entry or canned response is its whole reply; the title names it.
Kind = Literal["faq", "canned"]
Vectors = tuple[npt.NDArray[np.float32], npt.NDArray[np.float32] | None]


class Suggestion(BaseModel):
    kind: Kind
    id: str
    title: str
    text: str
    # Within its kind: the fused retrieval score (faq) or the encoders' cosine (canned).
    score: float
    # Its place among the suggestions of its kind, from 1.
    rank: int


class AssistOut(BaseModel):
    # The customer message the suggestions answer; None when the customer has not written.
    message_seq: int | None
    suggestions: list[Suggestion]


class AssistUsedIn(BaseModel):
    kind: Kind
    id: str = Field(min_length=1, max_length=64)
    rank: int = Field(ge=1, le=PER_KIND)


class UsedItem(BaseModel):
    kind: Kind
    id: str
    title: str | None  # None once the entry or response is gone
    uses: int


class AgentUses(BaseModel):
    agent_id: int | None
    uses: int


class AssistUsage(BaseModel):
    days: int
    total: int
    by_kind: dict[str, int]
    items: list[UsedItem]
    agents: list[AgentUses]


class AgentAssist:
    def __init__(
        self,
        engine: Engine,
        kb: KnowledgeBase,
        canned: CannedLibrary,
        *,
        faq_floor: dict[str, float] | None = None,
    ) -> None:
        self.engine = engine
        # Per language, the lowest fused score an FAQ entry is suggested at ("en" elsewhere).
        self._faq_floor = faq_floor or {}
        self._kb = kb
        self._canned = canned
        self._lock = threading.Lock()
        self._vectors: dict[tuple[int, str], Vectors] = {}

    @classmethod
    def from_settings(
        cls, engine: Engine, kb: KnowledgeBase, canned: CannedLibrary, settings: Settings
    ) -> AgentAssist:
        """FAQ entries suggested down to the bot's own "did you mean" score per language."""
        floor = {"en": settings.faq_clarify_score, "zh": settings.faq_clarify_score_zh}
        return cls(engine, kb, canned, faq_floor=floor)

    def suggest(self, conversation: Conversation, *, agent_name: str) -> AssistOut:
        latest = self._latest_customer_message(conversation.id)
        if latest is None:
            return AssistOut(message_seq=None, suggestions=[])
        seq, text = latest
        language = conversation.language or "en"
        meaning, vectors = self._read(text, language)
        suggestions = self._faqs(meaning, vectors, language)
        suggestions += self._canned_for(conversation, vectors, agent_name)
        return AssistOut(message_seq=seq, suggestions=suggestions)

    def faq_suggestions(self, text: str, language: str) -> list[Suggestion]:
        """The knowledge-base answers suggested for a customer message in ``language``, best
        first: what ``suggest`` shows of kind ``faq`` (benchmarks/assist.py measures it)."""
        meaning, vectors = self._read(text, language)
        return self._faqs(meaning, vectors, language)

    def record_use(self, *, conversation_id: str, agent_id: int | None, body: AssistUsedIn) -> None:
        """Count one suggestion put into a reply; refused (404) for an unknown entry or response."""
        with session_scope(self.engine) as session:
            if body.kind == "faq":
                known = session.get(FaqEntry, body.id) is not None
            else:
                known = body.id.isdigit() and session.get(CannedResponse, int(body.id)) is not None
            if not known:
                raise NotFoundError(f"no {body.kind} suggestion {body.id!r}")
            session.add(
                AssistUse(
                    conversation_id=conversation_id,
                    agent_id=agent_id,
                    kind=body.kind,
                    item_id=body.id,
                    rank=body.rank,
                )
            )

    def usage(self, *, days: int) -> AssistUsage:
        since = utcnow() - timedelta(days=days)
        with Session(self.engine) as session:
            rows = session.exec(select(AssistUse).where(col(AssistUse.at) >= since)).all()
            items = Counter((r.kind, r.item_id) for r in rows)
            faq_ids = [i for k, i in items if k == "faq"]
            faqs = session.exec(select(FaqEntry).where(col(FaqEntry.id).in_(faq_ids))).all()
            canned = session.exec(select(CannedResponse)).all()
        titles: dict[tuple[str, str], str] = {("faq", e.id): e.question for e in faqs}
        titles.update({("canned", str(c.id)): c.title for c in canned})
        agents = Counter(r.agent_id for r in rows)
        return AssistUsage(
            days=days,
            total=len(rows),
            by_kind=dict(Counter(r.kind for r in rows)),
            items=[
                UsedItem(kind=kind, id=item, title=titles.get((kind, item)), uses=n)
                for (kind, item), n in items.most_common()
            ],
            agents=[AgentUses(agent_id=a, uses=n) for a, n in agents.most_common()],
        )

    # -- helpers -----------------------------------------------------------------------------

    def _read(self, text: str, language: str) -> tuple[str, Vectors]:
        """The message as the bot reads it (slots as plain words), and its vectors."""
        meaning = mask_slots(text, extract_slots(text), language)
        return meaning, self._kb.encode_query(meaning)

    def _latest_customer_message(self, conversation_id: str) -> tuple[int, str] | None:
        with Session(self.engine) as session:
            event = session.exec(
                select(ConversationEvent)
                .where(
                    col(ConversationEvent.conversation_id) == conversation_id,
                    col(ConversationEvent.author) == "customer",
                    col(ConversationEvent.type) == "message",
                )
                .order_by(col(ConversationEvent.seq).desc())
                .limit(1)
            ).first()
        text = event.payload.get("text") if event is not None else None
        if event is None or not isinstance(text, str) or not text.strip():
            return None
        return event.seq, text

    def _faqs(self, meaning: str, vectors: Vectors, language: str) -> list[Suggestion]:
        main, han = vectors
        hits = self._kb.search(
            meaning, k=PER_KIND, language=language, query_vector=main, han_vector=han
        )
        floor = self._faq_floor.get(language, self._faq_floor.get("en", 0.0))
        hits = [hit for hit in hits if hit.score >= floor]
        entries = self._kb.get_entries([hit.entry_id for hit in hits])
        found = [(hit, entries[hit.entry_id]) for hit in hits if hit.entry_id in entries]
        return [
            Suggestion(
                kind="faq",
                id=entry.id,
                title=entry.question,
                text=entry.answer,
                score=round(hit.score, 4),
                rank=rank,
            )
            for rank, (hit, entry) in enumerate(found, start=1)
        ]

    def _canned_for(
        self, conversation: Conversation, vectors: Vectors, agent_name: str
    ) -> list[Suggestion]:
        main, han = vectors
        scored: list[tuple[float, int, str, str]] = []
        values = {"customer_name": conversation.customer_name or "", "agent_name": agent_name}
        for item in self._canned.fitting(conversation):
            # Read as written, placeholders and all: one vector per response, not per customer.
            own_main, own_han = self._canned_vectors(item.id, f"{item.title}\n{item.text}")
            if han is not None and own_han is not None:
                similarity = float(own_han @ han)
            else:
                similarity = float(own_main @ main)
            scored.append((similarity, item.id, item.title, fill(item.text, values)))
        scored.sort(key=lambda s: (-s[0], s[1]))
        return [
            Suggestion(
                kind="canned", id=str(item_id), title=title, text=text, score=round(s, 4), rank=r
            )
            for r, (s, item_id, title, text) in enumerate(scored[:PER_KIND], start=1)
        ]

    def _canned_vectors(self, canned_id: int, text: str) -> Vectors:
        key = (canned_id, text)
        with self._lock:
            cached = self._vectors.get(key)
        if cached is None:
            cached = self._kb.encode_query(text)
            with self._lock:
                # Older texts of the same response are dropped with the new one's arrival.
                for old in [k for k in self._vectors if k[0] == canned_id]:
                    del self._vectors[old]
                self._vectors[key] = cached
        return cached
