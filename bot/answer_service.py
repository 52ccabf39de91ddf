"""The answer model: learned from the knowledge base's own phrasings, it says which FAQ entry a
message asks for and how likely that answer is to be right.

It is the intent classifier's machinery (``bot.intents``) trained with FAQ entries as labels
and the index's own vectors (MiniLM beside the Han model's) as embeddings, so it reads
Chinese through the Han model as retrieval does. Its calibrator learns P(right) from the
knowledge base itself: cross-validation over the phrasings in which whole groups of entries
are held out, so their phrasings play questions that the knowledge base does not answer.
"answer when at least 70 % likely to be right" therefore means the same on every knowledge
base. Versions live beside the intent models (``var/models/answer/``) with the same review,
activation and rollback.

The model follows the index: when the index's revision moves past the one a model was
trained on (an edit here or, through the revision log, in another process), a retrain runs
in the background and the old model keeps serving until the new one is swapped in. Entries
it does not know yet are left to retrieval's score thresholds.
"""

from __future__ import annotations

import logging
import threading

import numpy as np
import numpy.typing as npt

from knowledge_base.service import KnowledgeBase

from .intent_service import IntentService, ModelStore, Progress
from .intents import IntentModel, IntentPrediction
from .unknown_guard import UnknownGuard, learn_unknown_guard

__all__ = ["AnswerGuess", "FaqAnswerService"]

log = logging.getLogger(__name__)

# Above these sizes the model is not trained and retrieval's thresholds decide alone: the
# classifier's training time grows with phrasings times entries.
MAX_PHRASINGS = 20_000
MAX_ENTRIES = 2_000
# The model decides only where it proved itself on the knowledge base's own held-out
# phrasings: at least this share of them answered with their own entry in cross-validation.
# With few phrasings per entry (or one) it cannot learn much, and retrieval's score
# thresholds decide instead (BENCHMARKS.md: demo knowledge base 0.54, BANKING77 FAQ 0.88).
RELIABLE_ACCURACY = 0.75


class AnswerGuess:
    """The answer model's reading of one message."""

    __slots__ = ("entry_id", "evidence", "known", "probability", "reliable", "runners_up")

    def __init__(
        self, prediction: IntentPrediction, known: frozenset[str], *, reliable: bool
    ) -> None:
        self.entry_id = prediction.name
        self.probability = prediction.in_scope_probability
        self.runners_up = tuple(name for name, _ in prediction.runners_up)
        self.evidence = prediction.evidence
        # Entries the model was trained on: others are left to retrieval's thresholds.
        self.known = known
        # Whether the model proved itself on this knowledge base (``RELIABLE_ACCURACY``).
        self.reliable = reliable


def reliable(model: IntentModel) -> bool:
    """Calibrated on both right and wrong answers, and right often enough to be trusted."""
    calibrated = model.calibrator.model is not None
    return calibrated and model.metrics.get("cv_accuracy", 0.0) >= RELIABLE_ACCURACY


class FaqAnswerService(IntentService):
    """Trains, versions and serves the answer model; retrains as the index moves on."""

    # The index's vectors alone: n-grams add little over retrieval's own lexical part, and
    # cost minutes of training on a few hundred entries (BENCHMARKS.md).
    text_features = False

    def __init__(self, kb: KnowledgeBase, store: ModelStore, *, enabled: bool = True) -> None:
        super().__init__(kb, kb.index.vectors, store)
        # Off (KEFU_ANSWER_MODEL=false): nothing is trained, retrieval's thresholds decide.
        self.enabled = enabled
        self._trained_revision: int | None = None
        # How high questions the knowledge base does not answer score here; learned with the
        # model, but also where there is none (the answer model off, or too many entries).
        self._guard: UnknownGuard | None = None
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def follow(self, *, interval: float) -> None:
        """Check every ``interval`` seconds whether the index moved on, and retrain if so."""
        if self._watcher is None:
            self._stop.clear()
            self._watcher = threading.Thread(
                target=self._watch, args=(interval,), name="answer-model-follow", daemon=True
            )
            self._watcher.start()

    def stop_following(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join()
            self._watcher = None
        self.wait_idle()

    def _watch(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.follow_index()
            except Exception:  # a failed check must not end the watcher; the next one retries
                log.exception("answer model: checking the index failed")

    def labels(self) -> list[str]:
        return sorted(self._kb.index.entry_ids())

    def trainable(self) -> bool:
        if not self.enabled:
            return False
        state = self._kb.index.state()
        return 3 <= state.entries <= MAX_ENTRIES and state.vectors <= MAX_PHRASINGS

    def start(self, *, progress: Progress | None = None, retrain: bool = False) -> None:
        """Load the saved model if it was trained on this index's entries (unless ``retrain``),
        else train one; a knowledge base too small to learn from leaves no model."""
        revision = self._kb.index.revision
        model = self.store.load_current() if self.enabled and not retrain else None
        if (
            model
            and model.embedding_model == self._kb.index.model
            and model.labels == self.labels()
        ):
            self._model = model
            self._guard = self._learn_guard()
        elif self.trainable():
            try:
                self.train(progress=progress)  # learns the guard too
            except ValueError as exc:
                log.warning("no answer model: %s", exc)
                self._model = None
                self._guard = self._learn_guard()
        else:
            self._model = None
            self._guard = self._learn_guard()
        self._trained_revision = revision

    def train(self, *, progress: Progress | None = None, activate: bool = True) -> IntentModel:
        revision = self._kb.index.revision
        model = super().train(progress=progress, activate=activate)
        if activate:
            self._guard = self._learn_guard()
            self._trained_revision = revision
        return model

    def _learn_guard(self) -> UnknownGuard | None:
        if self._kb.index.state().entries < 3:
            return None
        return learn_unknown_guard(self._kb.index)

    def unknown_share(self, language: str, score: float) -> float | None:
        """How often a question this knowledge base does not answer scores ``score`` or more in
        retrieval (``bot.unknown_guard``); None where that cannot be told."""
        guard = self._guard
        return guard.share(language, score) if guard is not None else None

    def guess(self, text: str, vector: npt.NDArray[np.float32]) -> AnswerGuess | None:
        """The model's entry and P(right) for a message, given its index vector.

        Keeping up with the index is the watcher's job (``follow``), not every message's."""
        model = self._model
        if model is None:
            return None
        prediction = model.predict([text], np.asarray(vector, dtype=np.float32).reshape(1, -1))[0]
        return AnswerGuess(prediction, frozenset(model.labels), reliable=reliable(model))

    @property
    def current(self) -> bool:
        """Trained on the index as it is now (or nothing to learn), with no retraining running."""
        return self._trained_revision == self._kb.index.revision and not self.is_training

    def follow_index(self) -> None:
        """Retrain in the background when the index has moved on since the last training."""
        revision = self._kb.index.revision
        if self._trained_revision is None or revision == self._trained_revision:
            return
        if not self.is_training:
            if self.trainable():
                self._trained_revision = revision
                self.retrain_in_background()
            else:
                self._model = None
                self._guard = self._learn_guard()
                self._trained_revision = revision

    def _training_data(self) -> tuple[list[str], list[str], npt.NDArray[np.float32]]:
        return self._kb.phrasings()

    def _refresh_info(self) -> None:
        self._info = {}
