"""Trains intent models from the knowledge base, versions them on disk, and serves the current one.

Retraining runs in a background thread when intents change; the current model keeps serving
until the new one is saved and swapped in with a single reference assignment.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import numpy.typing as npt

from core.clock import utcnow
from core.errors import ConflictError, NotFoundError
from knowledge_base.embeddings import Embedder
from knowledge_base.service import KnowledgeBase

from .intents import (
    MIN_INTENTS,
    SIMULATION_GROUPS,
    IntentModel,
    IntentPrediction,
    train_intent_model,
)

__all__ = ["IntentInfo", "IntentService", "ModelStore"]

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class IntentInfo:
    action: str
    responses: dict[str, str]


class ModelStore:
    """``<dir>/v0001/{model.joblib,metrics.json}`` and a ``CURRENT`` pointer swapped atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # Background retraining and an admin's candidate run may save at the same moment.
        self._numbering = threading.Lock()

    def versions(self) -> list[dict[str, object]]:
        found = []
        for path in sorted(self.directory.glob("v*/metrics.json")):
            found.append(json.loads(path.read_text()))
        return found

    def save(self, model: IntentModel, *, activate: bool = True) -> str:
        """Write a new version; it serves only once activated (at once, by default)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._numbering:
            while True:
                numbers = [
                    int(p.name[1:]) for p in self.directory.glob("v*") if p.name[1:].isdigit()
                ]
                version = f"v{max(numbers, default=0) + 1:04d}"
                target = self.directory / version
                try:
                    # Another process sharing this directory may take the number first.
                    target.mkdir()
                    break
                except FileExistsError:
                    continue
        model.version = version
        joblib.dump(model, target / "model.joblib")
        meta = {
            "version": version,
            "trained_at": utcnow().isoformat(),
            "embedding_model": model.embedding_model,
            "threshold": model.threshold,
            "labels": model.labels,
            "metrics": model.metrics,
        }
        (target / "metrics.json").write_text(json.dumps(meta, indent=2))
        if activate:
            self.point_at(version)
        return version

    def point_at(self, version: str) -> None:
        pointer = self.directory / "CURRENT.tmp"
        pointer.write_text(version)
        os.replace(pointer, self.directory / "CURRENT")

    def current_version(self) -> str | None:
        try:
            return (self.directory / "CURRENT").read_text().strip() or None
        except OSError:
            return None

    def load(self, version: str) -> IntentModel | None:
        if not version.startswith("v") or not version[1:].isdigit():
            return None
        try:
            model = joblib.load(self.directory / version / "model.joblib")
        except (OSError, ValueError, EOFError):
            return None
        # A model saved before the calibrator read per-class neighbours: retrain instead.
        usable = isinstance(model, IntentModel) and hasattr(model, "example_labels")
        return model if usable else None

    def load_current(self) -> IntentModel | None:
        version = self.current_version()
        return self.load(version) if version else None


class IntentService:
    # Word and character n-grams beside the sentence vector (see ``train_intent_model``).
    text_features = True

    def __init__(self, kb: KnowledgeBase, embedder: Embedder, store: ModelStore) -> None:
        self._kb = kb
        self._embedder = embedder
        self.store = store
        self._model: IntentModel | None = None
        self._info: dict[str, IntentInfo] = {}
        self._lock = threading.Lock()
        self._pending = False
        self._worker: threading.Thread | None = None
        self.training_progress: tuple[int, int] | None = None

    @property
    def model(self) -> IntentModel | None:
        return self._model

    def labels(self) -> list[str]:
        """The intents with examples now, which a freshly trained model would know."""
        return sorted(i.name for i in self._kb.list_intents() if any(i.examples.values()))

    def info(self, name: str) -> IntentInfo | None:
        return self._info.get(name)

    def start(self, *, progress: Progress | None = None) -> None:
        """Load the saved model, training first if there is none usable for these intents."""
        self._refresh_info()
        model = self.store.load_current()
        labels = sorted(self._info)
        if model and model.embedding_model == self._embedder.name and model.labels == labels:
            self._model = model
        elif len(labels) >= MIN_INTENTS:
            self.train(progress=progress)

    def train(self, *, progress: Progress | None = None, activate: bool = True) -> IntentModel:
        """Train on the knowledge base's intents; ``activate=False`` leaves a candidate."""
        if progress:
            # Embedding the examples comes first; say how many steps follow before it starts.
            progress(0, SIMULATION_GROUPS + 1)
        texts, labels, vectors = self._training_data()
        model = train_intent_model(
            texts,
            labels,
            vectors,
            embedding_model=self._embedder.name,
            progress=progress,
            text_features=self.text_features,
        )
        self.store.save(model, activate=activate)
        if activate:
            self._refresh_info()
            self._model = model
            log.info("intent model %s active: %s", model.version, model.metrics)
        return model

    def _training_data(self) -> tuple[list[str], list[str], npt.NDArray[np.float32]]:
        texts, labels = [], []
        for intent in self._kb.list_intents():
            for examples in intent.examples.values():
                texts.extend(examples)
                labels.extend([intent.name] * len(examples))
        return texts, labels, self._embedder.encode(texts)

    def activate(self, version: str) -> IntentModel:
        """Serve a saved version: a candidate after review, or an older one to roll back to."""
        model = self.store.load(version)
        if model is None:
            raise NotFoundError(f"no intent model {version}")
        if model.embedding_model != self._embedder.name:
            raise ConflictError(
                f"{version} was trained on embeddings from {model.embedding_model}, and this "
                f"server embeds with {self._embedder.name}",
                details=[{"code": "embedding_model_mismatch"}],
            )
        self.store.point_at(version)
        self._refresh_info()
        self._model = model
        log.info("intent model %s activated", version)
        return model

    def predict(self, text: str, vector: object) -> IntentPrediction | None:
        model = self._model
        if model is None:
            return None
        return model.predict([text], np.asarray(vector, dtype=np.float32).reshape(1, -1))[0]

    def retrain_in_background(self) -> None:
        """Coalesces bursts of edits: at most one run in flight and one queued behind it."""
        with self._lock:
            self._pending = True
            if self._worker and self._worker.is_alive():
                return
            self._worker = threading.Thread(
                target=self._retrain_loop, name="intent-retrain", daemon=True
            )
            self._worker.start()

    @property
    def is_training(self) -> bool:
        return bool(self._worker and self._worker.is_alive())

    def wait_idle(self, timeout: float | None = None) -> None:
        worker = self._worker
        if worker:
            worker.join(timeout)

    def _retrain_loop(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    self.training_progress = None
                    return
                self._pending = False
            try:
                self.train(
                    progress=lambda done, total: setattr(self, "training_progress", (done, total))
                )
            except ValueError as exc:
                log.warning("retraining skipped: %s", exc)
            except Exception:
                # The old model keeps serving; the next change to the knowledge base retries.
                log.exception("retraining failed")

    def _refresh_info(self) -> None:
        self._info = {
            intent.name: IntentInfo(intent.action, dict(intent.responses))
            for intent in self._kb.list_intents()
            if any(intent.examples.values())
        }
