"""How often a question that the knowledge base does not answer reaches a retrieval score,
learned per knowledge base and language.

A fixed score threshold means different things on different knowledge bases: among a bank's
600 near-duplicate questions about one loan, an unrelated question about the same loan
scores 0.8, while on a shop's FAQ of distinct topics 0.65 is already rare. So every indexed
phrasing is asked back with its own entry left out (``FaqIndex.neighbours``): it then plays
a question from the same domain that the knowledge base does not answer, and its best score
is what such a question reaches here. The share of those scores at or above a message's
score is the chance that a question the knowledge base does not answer would score as high.
The policy answers from retrieval's score only where that share is at most
``faq_unknown_share`` (BENCHMARKS.md, "The unknown-question guard").
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass

from knowledge_base.index import FaqIndex, Progress

__all__ = ["UnknownGuard", "learn_unknown_guard"]

# Phrasings sampled per learning: about 0.6 ms each, so at most a second or so, while the
# shares are read to about ±2 points.
SAMPLE = 1500
# Fewer left-out scores than this say too little; the guard then stays out of the way.
MIN_SCORES = 20


@dataclass(frozen=True)
class UnknownGuard:
    # Per language, the left-out phrasings' best scores in ascending order.
    scores: dict[str, tuple[float, ...]]

    def share(self, language: str, score: float) -> float | None:
        """The share of questions the knowledge base does not answer, in ``language``, that score
        at least ``score``; None where the knowledge base has too few phrasings in it to say."""
        seen = self.scores.get(language)
        if not seen:
            return None
        return 1.0 - bisect_left(seen, score) / len(seen)


def learn_unknown_guard(index: FaqIndex, *, progress: Progress | None = None) -> UnknownGuard:
    by_language: dict[str, list[float]] = defaultdict(list)
    for neighbour in index.neighbours(limit=SAMPLE, progress=progress):
        by_language[neighbour.language].append(neighbour.score)
    return UnknownGuard(
        {
            language: tuple(sorted(scores))
            for language, scores in by_language.items()
            if len(scores) >= MIN_SCORES
        }
    )
