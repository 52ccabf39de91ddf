"""A BM25 retriever for English and Chinese that takes one document at a time.

Chinese has no spaces, so Han text is indexed as single characters: this needs no dictionary
and copes with reordered paraphrases better than bigrams or a word segmenter (measured on
LCQMC, see BENCHMARKS.md). Latin words are Snowball-stemmed and also contribute character
trigrams, which catch typos and compounds. Postings are numpy arrays, so a query touches only
the documents that share a term with it, however large the index grows.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import snowballstemmer

__all__ = ["BM25Index", "tokenize"]

_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+")
_HAN_START = "\u3400"
_STEMMER = snowballstemmer.stemmer("english")


def tokenize(text: str) -> list[str]:
    normalized = unicodedata.normalize("NFKC", text).lower().replace("'", "").replace("’", "")
    tokens: list[str] = []
    for run in _RUN.findall(normalized):
        if run[0] >= _HAN_START:
            tokens.extend(run)
            continue
        tokens.append(_STEMMER.stemWord(run))
        bounded = f"<{run}>"
        tokens.extend("~" + bounded[i : i + 3] for i in range(len(bounded) - 2))
    return tokens


@dataclass
class _Postings:
    ids: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    weights: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, dtype=np.float32))


class BM25Index:
    """Okapi BM25 with IDF applied at query time, so adding a document touches only its terms.

    Document-side weights use the average length fixed at the last full build; the drift as
    documents come and go is small, and ``compact`` (run by every full rebuild) resets it.
    """

    def __init__(self, *, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._postings: dict[str, _Postings] = {}
        self._doc_terms: dict[int, Counter[str]] = {}
        self._avgdl = 8.0
        self._capacity = 0

    def __len__(self) -> int:
        return len(self._doc_terms)

    def build(self, docs: dict[int, str]) -> None:
        counted = {doc_id: Counter(tokenize(text)) for doc_id, text in docs.items()}
        self._rebuild(counted)

    def add(self, doc_id: int, text: str) -> None:
        if doc_id in self._doc_terms:
            self.remove(doc_id)
        terms = Counter(tokenize(text))
        self._doc_terms[doc_id] = terms
        self._capacity = max(self._capacity, doc_id + 1)
        length = sum(terms.values())
        for term, tf in terms.items():
            posting = self._postings.setdefault(term, _Postings())
            posting.ids = np.append(posting.ids, np.int64(doc_id))
            posting.weights = np.append(posting.weights, np.float32(self._weight(tf, length)))

    def remove(self, doc_id: int) -> None:
        terms = self._doc_terms.pop(doc_id, None)
        if terms is None:
            return
        for term in terms:
            posting = self._postings[term]
            keep = posting.ids != doc_id
            if keep.all():
                continue
            if not keep.any():
                del self._postings[term]
                continue
            posting.ids = posting.ids[keep]
            posting.weights = posting.weights[keep]

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Top ``k`` documents, scored relative to the query itself taken as a document.

        A document that repeats the query exactly scores about 1, whatever the query's length,
        which is what lets the score be fused with a cosine and thresholded.
        """
        terms = Counter(tokenize(query))
        if not terms or not self._doc_terms:
            return []
        n_docs = len(self._doc_terms)
        query_length = sum(terms.values())
        scores = np.zeros(self._capacity, dtype=np.float32)
        ceiling = 0.0
        for term, qtf in terms.items():
            posting = self._postings.get(term)
            if posting is None:
                continue
            df = len(posting.ids)
            idf = math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
            ceiling += idf * qtf * self._weight(qtf, query_length)
            scores[posting.ids] += np.float32(idf * qtf) * posting.weights
        if ceiling <= 0.0:
            return []
        k = min(k, int(np.count_nonzero(scores)))
        if k == 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(doc_id), min(1.0, float(scores[doc_id]) / ceiling)) for doc_id in top]

    def _weight(self, tf: int, length: int) -> float:
        norm = self.k1 * (1.0 - self.b + self.b * length / self._avgdl)
        return tf * (self.k1 + 1.0) / (tf + norm)

    def compact(self) -> None:
        self._rebuild(self._doc_terms)

    def _rebuild(self, counted: dict[int, Counter[str]]) -> None:
        self._doc_terms = dict(counted)
        lengths = [sum(terms.values()) for terms in counted.values()]
        self._avgdl = max(1.0, sum(lengths) / len(lengths)) if lengths else 8.0
        self._capacity = max(counted, default=-1) + 1
        ids: dict[str, list[int]] = {}
        weights: dict[str, list[float]] = {}
        for (doc_id, terms), length in zip(counted.items(), lengths, strict=True):
            for term, tf in terms.items():
                ids.setdefault(term, []).append(doc_id)
                weights.setdefault(term, []).append(self._weight(tf, length))
        self._postings = {
            term: _Postings(
                np.asarray(ids[term], dtype=np.int64), np.asarray(weights[term], dtype=np.float32)
            )
            for term in ids
        }
