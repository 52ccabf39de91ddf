"""The intent classifier: logistic regression on sentence embeddings plus character n-grams.

Character n-grams (``char_wb`` 2-5) carry the surface form the embedding blurs and work for
Chinese as well as English without a segmenter. A message is out of scope when its novelty
score falls below a threshold chosen on the training data alone: whole groups of intents are
held out of cross-validation folds to play the part of unknown intents. The score adds the
standardised top probability to the standardised cosine to the nearest training example, so
a message unlike anything seen is rejected even when the classifier is sure of its guess.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

__all__ = ["IntentModel", "IntentPrediction", "train_intent_model"]

Progress = Callable[[int, int], None]
Vectors = npt.NDArray[np.float32]
FloatArray = npt.NDArray[np.floating[Any]]

EMBEDDING_WEIGHT = 1.0
WORD_WEIGHT = 1.0
CHAR_WEIGHT = 1.0
REGULARISATION_C = 10.0
SIMULATION_GROUPS = 5
MIN_INTENTS = 3


@dataclass(frozen=True)
class IntentPrediction:
    name: str
    confidence: float
    in_scope: bool
    runners_up: tuple[tuple[str, float], ...]


class _Features:
    def __init__(self) -> None:
        self.words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)

    def fit(self, texts: Sequence[str]) -> _Features:
        lowered = [t.lower() for t in texts]
        self.words.fit(lowered)
        self.chars.fit(lowered)
        return self

    def transform(self, texts: Sequence[str], vectors: Vectors) -> sp.csr_matrix:
        lowered = [t.lower() for t in texts]
        blocks = [
            sp.csr_matrix(vectors * EMBEDDING_WEIGHT),
            self.words.transform(lowered) * WORD_WEIGHT,
            self.chars.transform(lowered) * CHAR_WEIGHT,
        ]
        return sp.hstack(blocks).tocsr()


def _fit(
    texts: Sequence[str], vectors: Vectors, labels: Sequence[str]
) -> tuple[_Features, LogisticRegression]:
    features = _Features().fit(texts)
    classifier = LogisticRegression(C=REGULARISATION_C, max_iter=3000)
    classifier.fit(features.transform(texts, vectors), np.asarray(labels))
    return features, classifier


@dataclass(frozen=True)
class _Scale:
    """Standardises the two out-of-scope signals with statistics from the simulation."""

    prob_mean: float
    prob_std: float
    cos_mean: float
    cos_std: float

    def score(self, probability: FloatArray, cosine: FloatArray) -> FloatArray:
        return (probability - self.prob_mean) / self.prob_std + (
            cosine - self.cos_mean
        ) / self.cos_std


@dataclass
class IntentModel:
    features: _Features
    classifier: LogisticRegression
    threshold: float
    embedding_model: str
    scale: _Scale
    examples: Vectors
    metrics: dict[str, float] = field(default_factory=dict)
    version: str = ""

    @property
    def labels(self) -> list[str]:
        return [str(c) for c in self.classifier.classes_]

    def predict(
        self, texts: Sequence[str], vectors: Vectors, *, top: int = 3
    ) -> list[IntentPrediction]:
        probabilities = self.classifier.predict_proba(self.features.transform(texts, vectors))
        novelty = self.scale.score(probabilities.max(1), _nearest(vectors, self.examples))
        classes = self.classifier.classes_
        predictions = []
        for row, score in zip(probabilities, novelty, strict=True):
            order = np.argsort(-row)[:top]
            best = float(row[order[0]])
            predictions.append(
                IntentPrediction(
                    name=str(classes[order[0]]),
                    confidence=best,
                    in_scope=bool(score >= self.threshold),
                    runners_up=tuple((str(classes[i]), float(row[i])) for i in order[1:]),
                )
            )
        return predictions


def train_intent_model(
    texts: Sequence[str],
    labels: Sequence[str],
    vectors: Vectors,
    *,
    embedding_model: str,
    progress: Progress | None = None,
    seed: int = 0,
) -> IntentModel:
    """Fit on everything; choose the out-of-scope threshold and estimate metrics by simulation."""
    if len(set(labels)) < MIN_INTENTS:
        raise ValueError(
            f"training needs at least {MIN_INTENTS} intents with examples: with fewer, no "
            "intent can be held out to learn what an out-of-scope message looks like"
        )
    steps = SIMULATION_GROUPS + 1
    threshold, scale, metrics = _simulate(
        texts, labels, vectors, seed=seed, progress=progress, steps=steps
    )
    features, classifier = _fit(texts, vectors, labels)
    if progress:
        progress(steps, steps)
    metrics |= {"examples": float(len(texts)), "intents": float(len(set(labels)))}
    return IntentModel(
        features, classifier, threshold, embedding_model, scale, np.asarray(vectors), metrics
    )


def _nearest(vectors: Vectors, examples: Vectors) -> FloatArray:
    """Cosine to the nearest example (rows are L2-normalised), in blocks to bound memory."""
    best = np.empty(len(vectors), dtype=np.float32)
    for start in range(0, len(vectors), 512):
        best[start : start + 512] = (vectors[start : start + 512] @ examples.T).max(1)
    return best


def _simulate(
    texts: Sequence[str],
    labels: Sequence[str],
    vectors: Vectors,
    *,
    seed: int,
    progress: Progress | None,
    steps: int,
) -> tuple[float, _Scale, dict[str, float]]:
    """Cross-validate with a group of intents removed from each fold's training data.

    The removed intents' examples are what an unknown intent looks like to the model; the
    kept intents' held-out examples are ordinary traffic. The threshold maximises the mean of
    in-scope accuracy (accepted and right) and out-of-scope recall over the pooled folds.
    """
    text_array = np.asarray(texts, dtype=object)
    label_array = np.asarray(labels)
    intents = np.random.default_rng(seed).permutation(np.unique(label_array))
    # Every fold must keep at least two intents to train on, hence one group per intent at most.
    groups = np.array_split(intents, min(SIMULATION_GROUPS, len(intents)))
    smallest = int(np.unique(label_array, return_counts=True)[1].min())
    folds = StratifiedKFold(
        n_splits=max(2, min(len(groups), smallest)), shuffle=True, random_state=seed
    )
    scores, cosines, correct, unknown, truth, guessed = [], [], [], [], [], []
    for number, (group, (train, held)) in enumerate(
        zip(groups, folds.split(text_array, label_array), strict=False), start=1
    ):
        hidden = np.isin(label_array, group)
        fit_rows = train[~hidden[train]]
        test_rows = np.concatenate([held[~hidden[held]], np.where(hidden)[0]])
        features, classifier = _fit(
            text_array[fit_rows].tolist(), vectors[fit_rows], label_array[fit_rows].tolist()
        )
        probabilities = classifier.predict_proba(
            features.transform(text_array[test_rows].tolist(), vectors[test_rows])
        )
        predicted = classifier.classes_[probabilities.argmax(1)]
        scores.append(probabilities.max(1))
        cosines.append(_nearest(vectors[test_rows], vectors[fit_rows]))
        correct.append(predicted == label_array[test_rows])
        unknown.append(hidden[test_rows])
        truth.append(label_array[test_rows][~hidden[test_rows]])
        guessed.append(predicted[~hidden[test_rows]])
        if progress:
            progress(number, steps)
    probability, cosine = np.concatenate(scores), np.concatenate(cosines)
    scale = _Scale(
        float(probability.mean()),
        float(probability.std() or 1.0),
        float(cosine.mean()),
        float(cosine.std() or 1.0),
    )
    pooled_scores = scale.score(probability, cosine)
    pooled_correct = np.concatenate(correct)
    pooled_unknown = np.concatenate(unknown)
    best_value, best_threshold = -1.0, 0.0
    for threshold in np.unique(np.quantile(pooled_scores, np.linspace(0.0, 0.7, 141))):
        accepted = pooled_scores >= threshold
        in_scope = float((accepted & pooled_correct)[~pooled_unknown].mean())
        rejected = float((~accepted)[pooled_unknown].mean()) if pooled_unknown.any() else 0.0
        value = (in_scope + rejected) / 2
        if value > best_value:
            best_value, best_threshold = value, float(threshold)
    all_truth, all_guessed = np.concatenate(truth), np.concatenate(guessed)
    metrics = {
        "cv_accuracy": float(accuracy_score(all_truth, all_guessed)),
        "cv_macro_f1": float(f1_score(all_truth, all_guessed, average="macro")),
        "cv_oos_balanced_accuracy": best_value,
        "threshold": best_threshold,
    }
    return best_threshold, scale, metrics
