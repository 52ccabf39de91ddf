"""One message at a time on one thread, as a server encodes: PyTorch, ONNX Runtime fp32, int8.

    .venv/bin/python benchmarks/encoder_backends.py [--rounds 2] [--sentences 80]

fp32 is the export a server uses (knowledge_base/onnx_backend.py, from the per-machine cache).
int8 is that graph quantised with onnxruntime's dynamic quantisation, into a temporary
directory: it is measured, not used, because its vectors differ from PyTorch's (the cosines
printed below), so every accuracy figure would have to be measured again before adopting it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from onnxruntime.quantization import QuantType, quantize_dynamic

from core.settings import DEFAULT_EMBEDDING_MODEL, Settings
from knowledge_base.embeddings import SentenceEmbedder, Vectors
from knowledge_base.onnx_backend import OnnxSentenceEmbedder

SENTENCES = [
    "How long does a refund take after I return my order?",
    "My parcel says delivered but I never got it",
    "can I change the delivery address",
    "我的订单怎么还没发货？",
]


def median_ms(encode: Callable[[list[str]], Vectors], count: int) -> float:
    encode(SENTENCES[:1])
    times = []
    for n in range(count):
        started = time.perf_counter()
        encode([SENTENCES[n % len(SENTENCES)]])
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sentences", type=int, default=80)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()}")
    torch_model = SentenceEmbedder(DEFAULT_EMBEDDING_MODEL, threads=1)
    cache = Settings(_env_file=None).model_cache_dir / "onnx"
    fp32 = OnnxSentenceEmbedder(DEFAULT_EMBEDDING_MODEL, cache_dir=cache, threads=1)
    with tempfile.TemporaryDirectory() as scratch:
        (graph,) = cache.glob(f"{fp32.name}-*.onnx")
        quantised = Path(scratch) / "int8.onnx"
        quantize_dynamic(str(graph), str(quantised), weight_type=QuantType.QInt8)
        int8 = OnnxSentenceEmbedder(
            DEFAULT_EMBEDDING_MODEL, cache_dir=cache, threads=1, graph=quantised
        )
        for round_ in range(1, args.rounds + 1):
            figures = {
                name: median_ms(model.encode, args.sentences)
                for name, model in (
                    ("PyTorch", torch_model),
                    ("ONNX fp32", fp32),
                    ("ONNX int8", int8),
                )
            }
            print(f"round {round_}: " + ", ".join(f"{k} {v:.2f} ms" for k, v in figures.items()))
        reference = torch_model.encode(SENTENCES)
        for name, model in (("fp32", fp32), ("int8", int8)):
            vectors = model.encode(SENTENCES)
            cosines = (reference * vectors).sum(axis=1)
            print(f"cosine to PyTorch, {name}: " + " ".join(f"{c:.4f}" for c in cosines))
            print(f"largest difference, {name}: {np.abs(reference - vectors).max():.2e}")


if __name__ == "__main__":
    main()
