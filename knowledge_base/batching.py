"""Micro-batching: single messages from concurrent customers are encoded together.

A transformer encodes a batch of short sentences in little more time than one, so a server
that encodes each customer's message alone spends most of its model time on overhead. Here
every caller with a few texts queues them; each worker takes everything queued (up to
``max_batch`` texts), encodes it in one call and hands every caller its rows.

Nothing waits when nothing else is queued: at one customer a message is encoded at once, as
before. Under load, messages arriving while the workers are busy form the next batch by
themselves. ``wait_ms`` optionally holds a small batch open a little longer for more to join.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

from core.metrics import ENCODER_BATCH_TEXTS
from knowledge_base.embeddings import Embedder, Vectors

__all__ = ["BatchStats", "BatchingEmbedder"]


@dataclass
class BatchStats:
    """What the workers did: how many model calls, and how many texts they carried."""

    batches: int = 0
    texts: int = 0
    largest: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, size: int) -> None:
        with self._lock:
            self.batches += 1
            self.texts += size
            self.largest = max(self.largest, size)


@dataclass
class _Request:
    texts: list[str]
    future: Future[Vectors]


class BatchingEmbedder:
    """An ``Embedder`` that gathers small concurrent calls into batches for ``inner``.

    ``workers`` should match the number of model instances ``inner`` holds, so that batches
    run in parallel on separate instances. A call with ``max_batch`` texts or more is already a
    batch and goes straight through. Worker threads start at the first call and stop at
    ``close``; a call after that starts them again (an app whose lifespan runs twice).
    """

    def __init__(
        self, inner: Embedder, *, workers: int = 1, max_batch: int = 64, wait_ms: float = 0.0
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        # The Han model's cosine floor (see E5Embedder) travels with the wrapped model.
        self.similarity_floor = float(getattr(inner, "similarity_floor", 0.0))
        self.backend = str(getattr(inner, "backend", "unknown"))
        self.max_batch = max(1, max_batch)
        self.wait = max(0.0, wait_ms) / 1000
        self.stats = BatchStats()
        self._workers = max(1, workers)
        self._queue: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._start_lock = threading.Lock()

    def encode(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) >= self.max_batch:
            return self.inner.encode(texts)
        self._start()
        request = _Request(list(texts), Future())
        self._queue.put(request)
        return request.future.result()

    def close(self) -> None:
        """Stop the workers once the calls already queued are answered."""
        with self._start_lock:
            for _ in self._threads:
                self._queue.put(None)
            threads, self._threads = self._threads, []
        for thread in threads:
            thread.join()

    def _start(self) -> None:
        if self._threads:
            return
        with self._start_lock:
            while len(self._threads) < self._workers:
                thread = threading.Thread(
                    target=self._work, name=f"encode-{self.name}", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def _work(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, stop = self._gather(first)
            self._run(batch)
            if stop:
                return

    def _gather(self, first: _Request) -> tuple[list[_Request], bool]:
        """``first`` and whatever else is queued, up to ``max_batch`` texts; and whether to stop."""
        batch, size = [first], len(first.texts)
        deadline = time.monotonic() + self.wait
        while size < self.max_batch:
            remaining = deadline - time.monotonic()
            try:
                item = (
                    self._queue.get(timeout=remaining)
                    if remaining > 0
                    else self._queue.get_nowait()
                )
            except queue.Empty:
                break
            if item is None:
                return batch, True
            if size + len(item.texts) > self.max_batch:
                # Too big to join: it starts the next batch instead.
                self._queue.put(item)
                break
            batch.append(item)
            size += len(item.texts)
        return batch, False

    def _run(self, batch: list[_Request]) -> None:
        texts = [text for request in batch for text in request.texts]
        try:
            vectors = self.inner.encode(texts)
        except Exception as exc:
            if len(batch) == 1:
                batch[0].future.set_exception(exc)
                return
            # One caller's bad text must not fail the others: each is tried on its own.
            for request in batch:
                self._run([request])
            return
        self.stats.record(len(texts))
        ENCODER_BATCH_TEXTS.labels(model=self.name).observe(len(texts))
        start = 0
        for request in batch:
            end = start + len(request.texts)
            request.future.set_result(np.ascontiguousarray(vectors[start:end]))
            start = end
