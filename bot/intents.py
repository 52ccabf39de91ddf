"""The intent classifier: logistic regression on sentence embeddings, word and character n-grams.

Character n-grams (``char_wb`` 2-5) carry the surface form the embedding blurs and work for
Chinese as well as English without a segmenter. A message is out of scope when the probability
that the classifier's answer is right falls below ``DECISION_PROBABILITY`` (0.5). That
probability is calibrated by cross-validation in which whole groups of intents are held out of
each fold's training, so their examples play unknown intents: a small logistic model
over seven signals (the classifier's top probability, margin and decision value, and how near
the message lies to the examples of the guessed class and of every other) learns how likely an
answer is to be right, with known and unknown messages weighted equally.

Because the calibrator weighs known and unknown messages equally, one fixed probability means
the same on every knowledge base. For reference the metrics also record ``balanced_threshold``:
the threshold that maximises the mean of simulated in-scope accuracy and out-of-scope recall,
capped so that it never rejects more than ``1 - KEEP_ANSWERABLE`` of the answers the simulation
got right. A per-knowledge-base threshold chosen that way proved too lenient on a small intent
set (the demo's 0.11 put "Can you gift wrap my order?" in scope as cancel_order).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.special import softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

__all__ = [
    "IntentModel",
    "IntentPrediction",
    "choose_threshold",
    "operating_point",
    "train_intent_model",
]

Progress = Callable[[int, int], None]
Vectors = npt.NDArray[np.float32]
FloatArray = npt.NDArray[np.floating[Any]]

EMBEDDING_WEIGHT = 1.0
WORD_WEIGHT = 1.0
CHAR_WEIGHT = 1.0
REGULARISATION_C = 10.0
SIMULATION_GROUPS = 5
MIN_INTENTS = 3
# Reject at most one in twenty of the answers the simulation got right.
KEEP_ANSWERABLE = 0.95
# In scope when P(right) is at least this. The calibrator weighs known and unknown messages
# equally, so 0.5 is even odds whatever the knowledge base.
DECISION_PROBABILITY = 0.5
CALIBRATION_C = 1.0


@dataclass(frozen=True)
class IntentPrediction:
    name: str
    confidence: float
    in_scope: bool
    runners_up: tuple[tuple[str, float], ...]
    # The calibrated chance that ``name`` is right; in scope when at least the threshold.
    in_scope_probability: float = 1.0
    # What the chance was read from: each calibrator signal by name.
    evidence: tuple[tuple[str, float], ...] = ()


class _Features:
    """The sentence vector, and (``text``) word and character n-grams beside it."""

    def __init__(self, *, text: bool = True) -> None:
        self.text = text
        self.words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)

    def fit(self, texts: Sequence[str]) -> _Features:
        if self.text:
            lowered = [t.lower() for t in texts]
            self.words.fit(lowered)
            self.chars.fit(lowered)
        return self

    def transform(self, texts: Sequence[str], vectors: Vectors) -> sp.csr_matrix | Vectors:
        if not self.text:
            # Dense stays dense: a sparse copy of a dense vector only slows every prediction.
            weighted: Vectors = np.asarray(vectors * EMBEDDING_WEIGHT, dtype=np.float32)
            return weighted
        lowered = [t.lower() for t in texts]
        blocks = [
            sp.csr_matrix(vectors * EMBEDDING_WEIGHT),
            self.words.transform(lowered) * WORD_WEIGHT,
            self.chars.transform(lowered) * CHAR_WEIGHT,
        ]
        return sp.hstack(blocks).tocsr()


def _fit(
    texts: Sequence[str], vectors: Vectors, labels: Sequence[str], *, text: bool = True
) -> tuple[_Features, LogisticRegression]:
    features = _Features(text=text).fit(texts)
    classifier = LogisticRegression(C=REGULARISATION_C, max_iter=3000)
    with warnings.catch_warnings():
        # FAQ entries of one phrasing each are many labels for few examples, by design.
        warnings.filterwarnings("ignore", "The number of unique classes", UserWarning)
        classifier.fit(features.transform(texts, vectors), np.asarray(labels))
    return features, classifier


class _Calibrator:
    """P(the classifier's answer is right) from the out-of-scope signals (``_signals``)."""

    def __init__(self, model: Pipeline | None) -> None:
        # None when the simulation saw only right or only wrong answers: top probability then.
        self.model = model

    @staticmethod
    def fit(signals: FloatArray, right: npt.NDArray[np.bool_], weights: FloatArray) -> _Calibrator:
        if right.all() or not right.any():
            return _Calibrator(None)
        model = make_pipeline(StandardScaler(), LogisticRegression(C=CALIBRATION_C, max_iter=1000))
        model.fit(signals, right, logisticregression__sample_weight=weights)
        return _Calibrator(model)

    def probability(self, signals: FloatArray) -> FloatArray:
        if self.model is None:
            return signals[:, 0]
        right: FloatArray = self.model.predict_proba(signals)[:, 1]
        return right


SIGNALS = (
    "top_probability",
    "margin",
    "decision_value",
    "nearest_example",
    "nearest_of_guess",
    "neighbour_margin",
    "guess_behind_nearest",
)


def _signals(
    classifier: LogisticRegression,
    features: sp.csr_matrix | Vectors,
    vectors: Vectors,
    by_class: _ByClass,
) -> tuple[FloatArray, FloatArray]:
    """Class probabilities, and per row the seven signals the calibrator reads.

    From the classifier: top probability, its margin over the runner-up, the top decision
    value. From the examples, as nearest-neighbour retrieval sees them: the cosine to the
    nearest example, to the nearest example of the guessed class, the margin between the two
    best classes' nearest examples, and how far the guessed class's nearest example falls
    short of the nearest overall (zero when the classifier and retrieval agree).
    """
    decision = classifier.decision_function(features)
    # The multinomial model's probabilities are the softmax of its decision values: one pass.
    # (Two labels, as in a simulation fold of three, give one decision value a row.)
    probabilities = (
        softmax(decision, axis=1) if decision.ndim == 2 else classifier.predict_proba(features)
    )
    ranked = np.sort(probabilities, axis=1)
    per_class = by_class.nearest(vectors)
    guessed = per_class[np.arange(len(vectors)), probabilities.argmax(1)]
    best_two = np.sort(per_class, axis=1)[:, -2:] if per_class.shape[1] > 1 else None
    nearest = per_class.max(1)
    signals = np.column_stack(
        [
            ranked[:, -1],
            ranked[:, -1] - ranked[:, -2],
            decision.max(1) if decision.ndim == 2 else np.abs(decision),
            nearest,
            guessed,
            best_two[:, 1] - best_two[:, 0] if best_two is not None else nearest,
            guessed - nearest,
        ]
    )
    return probabilities, signals


@dataclass
class IntentModel:
    features: _Features
    classifier: LogisticRegression
    threshold: float
    embedding_model: str
    calibrator: _Calibrator
    examples: Vectors
    example_labels: npt.NDArray[np.str_]
    metrics: dict[str, float] = field(default_factory=dict)
    version: str = ""

    @property
    def labels(self) -> list[str]:
        return [str(c) for c in self.classifier.classes_]

    @cached_property
    def by_class(self) -> _ByClass:
        return _ByClass.of(self.examples, self.example_labels, self.classifier.classes_)

    def predict(
        self, texts: Sequence[str], vectors: Vectors, *, top: int = 3
    ) -> list[IntentPrediction]:
        probabilities, signals = _signals(
            self.classifier,
            self.features.transform(texts, vectors),
            vectors,
            self.by_class,
        )
        right = self.calibrator.probability(signals)
        classes = self.classifier.classes_
        predictions = []
        for row, chance, seen in zip(probabilities, right, signals, strict=True):
            order = np.argsort(-row)[:top]
            predictions.append(
                IntentPrediction(
                    name=str(classes[order[0]]),
                    confidence=float(row[order[0]]),
                    in_scope=bool(chance >= self.threshold),
                    runners_up=tuple((str(classes[i]), float(row[i])) for i in order[1:]),
                    in_scope_probability=float(chance),
                    evidence=tuple(
                        (name, round(float(value), 4))
                        for name, value in zip(SIGNALS, seen, strict=True)
                    ),
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
    text_features: bool = True,
    decision_probability: float = DECISION_PROBABILITY,
) -> IntentModel:
    """Fit on everything; calibrate, choose the out-of-scope threshold and estimate metrics.

    ``text_features`` adds word and character n-grams to the sentence vector; without them
    training is far quicker on many labels (the answer model's FAQ entries).
    """
    if len(set(labels)) < MIN_INTENTS:
        raise ValueError(
            f"training needs at least {MIN_INTENTS} intents with examples: with fewer, no "
            "intent can be held out to learn what an out-of-scope message looks like"
        )
    steps = SIMULATION_GROUPS + 1
    calibrator, threshold, metrics = _simulate(
        texts,
        labels,
        vectors,
        seed=seed,
        progress=progress,
        steps=steps,
        text=text_features,
        decision_probability=decision_probability,
    )
    features, classifier = _fit(texts, vectors, labels, text=text_features)
    if progress:
        progress(steps, steps)
    metrics |= {"examples": float(len(texts)), "intents": float(len(set(labels)))}
    return IntentModel(
        features,
        classifier,
        threshold,
        embedding_model,
        calibrator,
        np.asarray(vectors),
        np.asarray(labels),
        metrics,
    )


@dataclass(frozen=True)
class _ByClass:
    """Examples grouped by class once, so each message's nearest example per class is one
    matrix product and one ``reduceat``."""

    examples: Vectors  # sorted by class
    present: npt.NDArray[np.intp]  # the classes that have examples, in that order
    starts: npt.NDArray[np.intp]  # where each present class's examples start
    classes: int

    @staticmethod
    def of(
        examples: Vectors, example_labels: npt.NDArray[np.str_], classes: npt.NDArray[np.str_]
    ) -> _ByClass:
        column = {str(name): i for i, name in enumerate(classes)}
        owner = np.asarray([column.get(str(label), -1) for label in example_labels], dtype=int)
        kept = owner >= 0
        order = np.argsort(owner[kept], kind="stable")
        present, starts = np.unique(owner[kept][order], return_index=True)
        return _ByClass(examples[kept][order], present, starts, len(classes))

    def nearest(self, vectors: Vectors) -> FloatArray:
        """Cosine from each row to each class's nearest example (rows are L2-normalised
        blocks); -1 for a class with no example. In blocks of rows to bound memory."""
        best = np.full((len(vectors), self.classes), -1.0, dtype=np.float32)
        if len(self.examples) == 0:
            return best
        for start in range(0, len(vectors), 512):
            similarity = vectors[start : start + 512] @ self.examples.T
            best[start : start + 512, self.present] = np.maximum.reduceat(
                similarity, self.starts, axis=1
            )
        return best


def operating_point(
    probability: FloatArray,
    right: npt.NDArray[np.bool_],
    unknown: npt.NDArray[np.bool_],
    threshold: float,
) -> tuple[float, float]:
    """In-scope accuracy (accepted and right) and out-of-scope recall at THRESHOLD."""
    accepted = probability >= threshold
    known = ~unknown
    in_scope = float((accepted & right)[known].mean()) if known.any() else 0.0
    recall = float((~accepted)[unknown].mean()) if unknown.any() else 0.0
    return in_scope, recall


def choose_threshold(
    probability: FloatArray,
    right: npt.NDArray[np.bool_],
    unknown: npt.NDArray[np.bool_],
    *,
    keep: float = KEEP_ANSWERABLE,
) -> float:
    """The threshold on P(right) for simulated traffic: RIGHT marks known messages answered
    correctly, UNKNOWN the held-out intents' messages.

    It maximises the mean of in-scope accuracy and out-of-scope recall (ties go to the lower,
    more accepting threshold), capped so that at least KEEP of the right answers are accepted.
    Candidates lie midway between neighbouring observed values, so the threshold does not sit
    on one training example.
    """
    values = np.unique(probability)
    candidates = np.concatenate([values[:1], (values[:-1] + values[1:]) / 2])
    best_value, best = -1.0, float(candidates[0]) if len(candidates) else 0.0
    for threshold in candidates:
        value = sum(operating_point(probability, right, unknown, float(threshold))) / 2
        if value > best_value + 1e-12:
            best_value, best = value, float(threshold)
    answered = np.sort(probability[right & ~unknown])
    if len(answered) == 0:
        return best
    cap = float(answered[int(np.floor((1.0 - keep) * len(answered) + 1e-9))])
    return min(best, cap)


def _simulate(
    texts: Sequence[str],
    labels: Sequence[str],
    vectors: Vectors,
    *,
    seed: int,
    progress: Progress | None,
    steps: int,
    text: bool,
    decision_probability: float,
) -> tuple[_Calibrator, float, dict[str, float]]:
    """Cross-validate with a group of intents removed from each fold's training data.

    The removed intents' examples are what an unknown intent looks like to the model; the
    kept intents' held-out examples are ordinary traffic. The pooled folds calibrate P(right)
    and choose its threshold.
    """
    text_array = np.asarray(texts, dtype=object)
    label_array = np.asarray(labels)
    intents = np.random.default_rng(seed).permutation(np.unique(label_array))
    # Every fold must keep at least two intents to train on, hence one group per intent at most.
    groups = np.array_split(intents, min(SIMULATION_GROUPS, len(intents)))
    smallest = int(np.unique(label_array, return_counts=True)[1].min())
    # With one example per label (an FAQ of bare questions) no fold can keep a label's example
    # and hold another out: plain folds, whose held-out examples then play unknown messages.
    folds: StratifiedKFold | KFold = (
        StratifiedKFold(n_splits=min(len(groups), smallest), shuffle=True, random_state=seed)
        if smallest >= 2
        else KFold(n_splits=max(2, min(len(groups), len(texts))), shuffle=True, random_state=seed)
    )
    signals, correct, unknown, truth, guessed = [], [], [], [], []
    for number, (group, (train, held)) in enumerate(
        zip(groups, folds.split(text_array, label_array), strict=False), start=1
    ):
        hidden = np.isin(label_array, group)
        fit_rows = train[~hidden[train]]
        test_rows = np.concatenate([held[~hidden[held]], np.where(hidden)[0]])
        if len(np.unique(label_array[fit_rows])) < 2:
            continue  # a fold of one label has nothing to tell apart (a tiny knowledge base)
        features, classifier = _fit(
            text_array[fit_rows].tolist(),
            vectors[fit_rows],
            label_array[fit_rows].tolist(),
            text=text,
        )
        probabilities, fold_signals = _signals(
            classifier,
            features.transform(text_array[test_rows].tolist(), vectors[test_rows]),
            vectors[test_rows],
            _ByClass.of(vectors[fit_rows], label_array[fit_rows], classifier.classes_),
        )
        predicted = classifier.classes_[probabilities.argmax(1)]
        signals.append(fold_signals)
        correct.append(predicted == label_array[test_rows])
        unknown.append(hidden[test_rows])
        truth.append(label_array[test_rows][~hidden[test_rows]])
        guessed.append(predicted[~hidden[test_rows]])
        if progress:
            progress(number, steps)
    if not signals:
        raise ValueError("too few examples per label to hold any out for calibration")
    pooled = np.concatenate(signals)
    pooled_unknown = np.concatenate(unknown)
    right = np.concatenate(correct) & ~pooled_unknown
    # Known and unknown messages weigh the same in total, whatever share the groups gave each.
    share = float(pooled_unknown.mean())
    weights = np.where(pooled_unknown, 0.5 / max(share, 1e-9), 0.5 / max(1.0 - share, 1e-9))
    calibrator = _Calibrator.fit(pooled, right, weights)
    probability = calibrator.probability(pooled)
    # The decision is P(right) against a fixed probability, which means the same on every
    # knowledge base; the balanced threshold of this simulation is recorded for reference.
    threshold = decision_probability
    in_scope, recall = operating_point(probability, right, pooled_unknown, threshold)
    all_truth, all_guessed = np.concatenate(truth), np.concatenate(guessed)
    metrics = {
        "cv_accuracy": float(accuracy_score(all_truth, all_guessed)),
        "cv_macro_f1": float(f1_score(all_truth, all_guessed, average="macro")),
        "cv_in_scope_accuracy": in_scope,
        "cv_oos_recall": recall,
        "cv_oos_balanced_accuracy": (in_scope + recall) / 2,
        "threshold": threshold,
        "balanced_threshold": choose_threshold(probability, right, pooled_unknown),
    }
    return calibrator, threshold, metrics
