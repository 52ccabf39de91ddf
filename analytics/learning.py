"""The learning loop's two pure steps: find what the bot missed, and group it by similarity.

``find_signals`` reads a conversation's exchange log (and when it was escalated) and returns
the customer messages the bot did not serve well, each with one reason:

- ``low_confidence``: the bot fell back ("I didn't understand"), it understood nothing usable;
- ``rejected_clarification``: the bot offered suggestions and the customer's next message
  picked none of them;
- ``escalated_after_answer``: the bot answered, and the conversation was escalated before the
  customer's next message was answered (by a message or the talk-to-a-person button);
- ``rated_down``: the customer gave the answer a thumbs-down.

````cluster_signals`` groups them with average-linkage agglomerative clustering on a similarity
that mixes the sentence embeddings' cosine with character n-gram TF-IDF cosine. The embedding
carries meaning across wording; the character n-grams carry Chinese, which the default English
embedding model barely separates, without a word segmenter. As in retrieval, the embedding's
weight falls from 0.5 for Latin text to 0.2 for Han text (BENCHMARKS.md, "Learning loop").
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer

from core.language import han_ratio

__all__ = [
    "Cluster",
    "LoggedExchange",
    "Signal",
    "cluster_signals",
    "find_signals",
]

ANSWERS = frozenset({"answer_faq", "answer_intent"})
# Average similarity (0..1) inside a cluster must stay above 1 - this distance.
DISTANCE_THRESHOLD = 0.55
DENSE_WEIGHT_LATIN = 0.5
DENSE_WEIGHT_HAN = 0.2
REASON_ORDER = ("rated_down", "escalated_after_answer", "rejected_clarification", "low_confidence")


@dataclass(frozen=True)
class LoggedExchange:
    """The fields of one exchange-log row that the mining reads."""

    id: int
    conversation_id: str
    message_seq: int
    text: str
    language: str
    decision: str
    reason: str
    intent: str | None
    intent_confidence: float | None
    helpful: bool | None
    created_at: datetime
    entry_id: str | None = None


@dataclass(frozen=True)
class Signal:
    exchange_id: int
    conversation_id: str
    text: str
    language: str
    reason: str
    intent: str | None
    confidence: float | None
    created_at: datetime
    entry_id: str | None = None

    def public(self) -> dict[str, Any]:
        return {
            "exchange_id": self.exchange_id,
            "conversation_id": self.conversation_id,
            "text": self.text,
            "language": self.language,
            "reason": self.reason,
            "intent": self.intent,
            "confidence": self.confidence,
            "entry_id": self.entry_id,
            "created_at": self.created_at.isoformat(),
        }


@dataclass
class Cluster:
    signals: list[Signal]
    representative: str
    cohesion: float
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def key(self) -> str:
        ids = ",".join(
            str(s.exchange_id) for s in sorted(self.signals, key=lambda s: s.exchange_id)
        )
        return hashlib.blake2s(ids.encode(), digest_size=6).hexdigest()

    def public(self) -> dict[str, Any]:
        languages = Counter(s.language for s in self.signals)
        intents = Counter(s.intent for s in self.signals if s.intent)
        entries = Counter(s.entry_id for s in self.signals if s.entry_id)
        texts = list(dict.fromkeys(s.text for s in self.signals))
        return {
            "key": self.key,
            "size": len(self.signals),
            "representative": self.representative,
            "cohesion": round(self.cohesion, 3),
            "language": languages.most_common(1)[0][0],
            "languages": dict(languages),
            "reasons": self.reasons,
            "suggested_intent": intents.most_common(1)[0][0] if intents else None,
            "answered_with": entries.most_common(1)[0][0] if entries else None,
            "texts": texts,
            "exchange_ids": [s.exchange_id for s in self.signals],
            "items": [s.public() for s in self.signals],
            "last_seen": max(s.created_at for s in self.signals).isoformat(),
        }


def find_signals(
    exchanges: Iterable[LoggedExchange], escalation_seqs: Mapping[str, Sequence[int]]
) -> list[Signal]:
    """One signal per exchange at most, the strongest reason first (``REASON_ORDER``).

    ``escalation_seqs`` maps a conversation id to the sequence numbers of its
    ``conversation.escalated`` events.
    """
    by_conversation: dict[str, list[LoggedExchange]] = {}
    for exchange in exchanges:
        by_conversation.setdefault(exchange.conversation_id, []).append(exchange)
    found: list[Signal] = []
    for conversation_id, rows in by_conversation.items():
        rows.sort(key=lambda r: r.message_seq)
        escalations = sorted(escalation_seqs.get(conversation_id, ()))
        for position, row in enumerate(rows):
            following = rows[position + 1] if position + 1 < len(rows) else None
            reason = _reason(row, following, escalations)
            if reason:
                found.append(
                    Signal(
                        row.id,
                        row.conversation_id,
                        row.text,
                        row.language,
                        reason,
                        row.intent,
                        row.intent_confidence,
                        row.created_at,
                        row.entry_id,
                    )
                )
    return found


def _reason(
    row: LoggedExchange, following: LoggedExchange | None, escalations: Sequence[int]
) -> str | None:
    if row.decision in ANSWERS:
        if row.helpful is False:
            return "rated_down"
        if following is not None and following.decision == "escalate":
            return "escalated_after_answer"
        limit = following.message_seq if following is not None else None
        if any(seq > row.message_seq and (limit is None or seq < limit) for seq in escalations):
            return "escalated_after_answer"
        return None
    if row.decision == "clarify":
        if following is not None and following.reason != "picked_suggestion":
            return "rejected_clarification"
        return None
    if row.decision == "fallback" or (
        row.decision == "escalate" and row.reason == "repeated_misses"
    ):
        return "low_confidence"
    return None


def cluster_signals(
    signals: Sequence[Signal],
    vectors: npt.NDArray[np.float32],
    *,
    distance_threshold: float = DISTANCE_THRESHOLD,
    dense_weight_latin: float = DENSE_WEIGHT_LATIN,
    dense_weight_han: float = DENSE_WEIGHT_HAN,
) -> list[Cluster]:
    """Group similar signals; largest clusters first. ``vectors`` are L2-normalised rows.

    The dense weights mirror retrieval's (``KEFU_DENSE_WEIGHT_*``): a pair's weight moves from
    the Latin to the Han weight with the pair's share of Han characters.
    """
    if not signals:
        return []
    similarity = _similarity(
        [s.text for s in signals],
        vectors,
        weight_latin=dense_weight_latin,
        weight_han=dense_weight_han,
    )
    if len(signals) == 1:
        labels = np.zeros(1, dtype=int)
    else:
        labels = AgglomerativeClustering(
            n_clusters=None,
            metric="precomputed",
            linkage="average",
            distance_threshold=distance_threshold,
        ).fit_predict(1.0 - similarity)
    clusters = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        inner = similarity[np.ix_(members, members)]
        chosen = [signals[int(i)] for i in members]
        medoid = chosen[int(inner.sum(1).argmax())]
        cohesion = float(inner.mean()) if len(members) > 1 else 1.0
        reasons = Counter(s.reason for s in chosen)
        clusters.append(
            Cluster(
                signals=chosen,
                representative=medoid.text,
                cohesion=cohesion,
                reasons={r: reasons[r] for r in REASON_ORDER if reasons[r]},
            )
        )
    clusters.sort(key=lambda c: (-len(c.signals), c.representative))
    return clusters


def _similarity(
    texts: Sequence[str],
    vectors: npt.NDArray[np.float32],
    *,
    weight_latin: float,
    weight_han: float,
) -> npt.NDArray[np.float64]:
    dense = np.clip(vectors @ vectors.T, 0.0, 1.0).astype(np.float64)
    han = np.array([han_ratio(t) for t in texts], dtype=np.float64)
    weight = weight_latin + (weight_han - weight_latin) * (han[:, None] + han[None, :]) / 2.0
    lowered = [t.lower() for t in texts]
    try:
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)
        matrix = chars.fit_transform(lowered)
        lexical = np.asarray((matrix @ matrix.T).todense(), dtype=np.float64)
    except ValueError:  # nothing but whitespace and punctuation
        lexical = np.zeros_like(dense)
    similarity = weight * dense + (1.0 - weight) * lexical
    np.fill_diagonal(similarity, 1.0)
    return np.asarray(similarity, dtype=np.float64)
