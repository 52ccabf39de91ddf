"""The "unanswered and misunderstood" view: mined from the exchange log, clustered, acted on.

An action (new FAQ entry, examples for an intent, or dismiss) records a ``LearningReview`` for
every exchange in the cluster, so reviewed questions leave the view; new ones keep arriving.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.models import Exchange
from core.conversations import ConversationEvent
from core.db import session_scope
from core.errors import InvalidInputError
from core.language import detect_language
from core.pii_policy import PersonalDataPolicy
from knowledge_base.embeddings import Embedder
from knowledge_base.schemas import FaqEntryCreate, IntentUpdate
from knowledge_base.service import KnowledgeBase

from .learning import LoggedExchange, Signal, cluster_signals, find_signals
from .models import LearningReview
from .queries import Filters

__all__ = ["LearningService", "VectorCache"]

# Clustering is quadratic in the number of signals; the newest this many are clustered.
MAX_SIGNALS = 2000
MAX_ACTION_IDS = 500


class VectorCache:
    """Embeddings of questions already seen, so reopening the view embeds only new ones."""

    def __init__(self, embedder: Embedder, size: int = 4 * MAX_SIGNALS) -> None:
        self._embedder = embedder
        self._size = size
        self._vectors: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        fresh = np.asarray(self._embedder.encode(missing) if missing else [], dtype=np.float32)
        with self._lock:
            for text, vector in zip(missing, fresh, strict=True):
                self._vectors[text] = vector
            rows = [self._vectors[t] for t in texts]
            for text in texts:
                self._vectors.move_to_end(text)
            while len(self._vectors) > self._size:
                self._vectors.popitem(last=False)
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)


class LearningService:
    def __init__(
        self,
        engine: Engine,
        kb: KnowledgeBase,
        vectors: VectorCache,
        personal_data: PersonalDataPolicy | None = None,
    ) -> None:
        self._engine = engine
        # The clusters show customers' questions: masked as the policy says ("learning").
        self._personal_data = personal_data or PersonalDataPolicy()
        self._kb = kb
        self._vectors = vectors

    def clusters(self, filters: Filters, *, limit: int = 50) -> dict[str, Any]:
        signals = self.signals(filters)
        if not signals:
            return {"signals": 0, "clusters": [], "total_clusters": 0}
        vectors = self._vectors.encode([s.text for s in signals])
        clusters = cluster_signals(signals, vectors)
        return {
            "signals": len(signals),
            "clusters": [c.public() for c in clusters[:limit]],
            "total_clusters": len(clusters),
        }

    def signals(self, filters: Filters) -> list[Signal]:
        with Session(self._engine) as session:
            # Mined over every exchange, reviewed or not: whether a clarification was rejected
            # or an answer escalated depends on the neighbouring exchanges.
            query = select(Exchange)
            if filters.start:
                query = query.where(col(Exchange.created_at) >= filters.start)
            if filters.end:
                query = query.where(col(Exchange.created_at) < filters.end)
            if filters.language:
                query = query.where(col(Exchange.language) == filters.language)
            rows = session.exec(
                query.order_by(col(Exchange.id).desc()).limit(MAX_SIGNALS * 4)
            ).all()
            conversation_ids = {r.conversation_id for r in rows}
            escalations: dict[str, list[int]] = {}
            if conversation_ids:
                for conversation_id, seq in session.exec(
                    select(
                        col(ConversationEvent.conversation_id), col(ConversationEvent.seq)
                    ).where(
                        col(ConversationEvent.type) == "conversation.escalated",
                        col(ConversationEvent.conversation_id).in_(conversation_ids),
                    )
                ).all():
                    escalations.setdefault(conversation_id, []).append(seq)
            ids = [r.id for r in rows]
            reviewed = set(
                session.exec(
                    select(col(LearningReview.exchange_id)).where(
                        col(LearningReview.exchange_id).in_(ids)
                    )
                )
            )
        logged = [
            LoggedExchange(
                id=r.id or 0,
                conversation_id=r.conversation_id,
                message_seq=r.message_seq,
                text=self._personal_data.shown("learning", r.text),
                language=r.language,
                decision=r.decision,
                reason=r.reason,
                intent=r.intent,
                intent_confidence=r.intent_confidence,
                helpful=r.helpful,
                created_at=r.created_at,
                entry_id=r.entry_id,
            )
            for r in rows
        ]
        found = [s for s in find_signals(logged, escalations) if s.exchange_id not in reviewed]
        found.sort(key=lambda s: s.exchange_id, reverse=True)
        return found[:MAX_SIGNALS]

    # -- actions ------------------------------------------------------------------------------
    #
    # Each action first claims its exchanges (one review row each, in one transaction: of two
    # admins acting on the same cluster, one wins) and gives them back if the change it makes
    # to the knowledge base is refused, so a refused action leaves no trace.

    def to_faq(
        self, *, exchange_ids: Sequence[int], entry: FaqEntryCreate, actor: str
    ) -> dict[str, Any]:
        ids = self._claim(exchange_ids, action="faq", actor=actor)
        try:
            created = self._kb.create_entry(data=entry, author=actor)
        except BaseException:
            self._release(ids)
            raise
        self._set_target(ids, created.id)
        return {"entry_id": created.id, "reviewed": len(ids)}

    def to_intent(
        self, *, exchange_ids: Sequence[int], intent: str, examples: Sequence[str], actor: str
    ) -> dict[str, Any]:
        current = self._kb.get_intent(intent)
        merged = {language: list(texts) for language, texts in current.examples.items()}
        added = 0
        for text in dict.fromkeys(t.strip() for t in examples if t.strip()):
            bucket = merged.setdefault(detect_language(text), [])
            if text not in bucket:
                bucket.append(text)
                added += 1
        if not added:
            raise InvalidInputError(
                "no new examples: every text is empty or already an example of this intent",
                details=[{"code": "no_new_examples"}],
            )
        ids = self._claim(exchange_ids, action="intent", actor=actor, target=intent)
        try:
            self._kb.update_intent(
                name=intent,
                data=IntentUpdate(examples=merged, expected_version=current.version),
                author=actor,
            )
        except BaseException:
            self._release(ids)
            raise
        return {"intent": intent, "added": added, "reviewed": len(ids)}

    def dismiss(self, *, exchange_ids: Sequence[int], actor: str) -> dict[str, Any]:
        ids = self._claim(exchange_ids, action="dismiss", actor=actor)
        return {"reviewed": len(ids)}

    def _claim(
        self, exchange_ids: Sequence[int], *, action: str, actor: str, target: str = ""
    ) -> list[int]:
        """Every id names a logged exchange not reviewed yet; otherwise nothing is written."""
        ids = sorted(set(exchange_ids))
        if not ids:
            raise InvalidInputError("'exchange_ids' is empty", details=[{"code": "no_exchanges"}])
        if len(ids) > MAX_ACTION_IDS:
            raise InvalidInputError(f"at most {MAX_ACTION_IDS} exchanges per action")
        with Session(self._engine) as session:
            known = set(session.exec(select(col(Exchange.id)).where(col(Exchange.id).in_(ids))))
        unknown = sorted(set(ids) - known)
        if unknown:
            raise InvalidInputError(
                f"no logged exchange with id {unknown[0]}",
                details=[{"code": "unknown_exchange", "ids": unknown}],
            )
        try:
            with session_scope(self._engine) as session:
                done = sorted(
                    session.exec(
                        select(col(LearningReview.exchange_id)).where(
                            col(LearningReview.exchange_id).in_(ids)
                        )
                    )
                )
                if done:
                    raise AlreadyReviewedError(done)
                for exchange_id in ids:
                    session.add(
                        LearningReview(
                            exchange_id=exchange_id, action=action, target=target, actor=actor
                        )
                    )
        except IntegrityError:  # another admin's action committed between the check and ours
            raise AlreadyReviewedError([]) from None
        return ids

    def _release(self, ids: Sequence[int]) -> None:
        with session_scope(self._engine) as session:
            session.execute(delete(LearningReview).where(col(LearningReview.exchange_id).in_(ids)))

    def _set_target(self, ids: Sequence[int], target: str) -> None:
        with session_scope(self._engine) as session:
            session.execute(
                update(LearningReview)
                .where(col(LearningReview.exchange_id).in_(ids))
                .values(target=target)
            )


class AlreadyReviewedError(InvalidInputError):
    def __init__(self, ids: list[int]) -> None:
        super().__init__(
            "some of these questions were already reviewed; reload the view",
            details=[{"code": "already_reviewed", "ids": ids}],
        )
