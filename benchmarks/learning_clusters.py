"""How well the learning loop's clustering groups questions that mean the same thing.

    .venv/bin/python benchmarks/learning_clusters.py [--per-set 1500]

The learning view groups the questions the bot missed so that one action covers a whole group.
Here the "missed questions" are public data with known groups (../shared/data, never
committed), clustered by exactly the production function, ``analytics.learning.cluster_signals``
at its default threshold, with the default embedding model:

- English: BANKING77 test questions (77 intents);
- Chinese: LCQMC, each FAQ question with the queries that match it (groups of two or more).

Printed per set: the number of true groups and of clusters, homogeneity (does a cluster hold one
meaning?), completeness (does a meaning stay in one cluster?), adjusted Rand index, and the
seconds to embed (the view does this once per new question; its cache keeps them) and to
cluster (each time the view opens).
"""

from __future__ import annotations

import argparse
import csv
import random
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score, homogeneity_completeness_v_measure

from analytics.learning import (
    DENSE_WEIGHT_HAN,
    DENSE_WEIGHT_LATIN,
    DISTANCE_THRESHOLD,
    Signal,
    cluster_signals,
)
from core.settings import DEFAULT_EMBEDDING_MODEL
from knowledge_base.embeddings import SentenceEmbedder

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _banking(limit: int, rng: random.Random) -> list[tuple[str, str]]:
    with (DATA / "banking77" / "test.csv").open(encoding="utf-8") as handle:
        rows = [(r["text"], r["category"]) for r in csv.DictReader(handle)]
    rng.shuffle(rows)
    return rows[:limit]


def _lcqmc(limit: int, rng: random.Random) -> list[tuple[str, str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    with (DATA / "lcqmc" / "faqs.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            groups[row["id"]].append(row["question"])
    with (DATA / "lcqmc" / "queries.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            groups[row["faq_id"]].append(row["text"])
    keys = [k for k, texts in groups.items() if len(texts) >= 2]
    rng.shuffle(keys)
    rows: list[tuple[str, str]] = []
    for key in keys:
        if len(rows) >= limit:
            break
        rows.extend((text, key) for text in groups[key])
    return rows[:limit]


def _measure(
    name: str, rows: list[tuple[str, str]], embedder: SentenceEmbedder, threshold: float
) -> None:
    texts = [t for t, _ in rows]
    truth = [g for _, g in rows]
    now = datetime.now(UTC)
    signals = [
        Signal(i, "c", text, "", "low_confidence", None, None, now) for i, text in enumerate(texts)
    ]
    started = time.perf_counter()
    vectors = np.asarray(embedder.encode(texts), dtype=np.float32)
    embedding = time.perf_counter() - started
    started = time.perf_counter()
    clusters = cluster_signals(signals, vectors, distance_threshold=threshold)
    seconds = time.perf_counter() - started
    predicted = [0] * len(texts)
    for number, cluster in enumerate(clusters):
        for signal in cluster.signals:
            predicted[signal.exchange_id] = number
    homogeneity, completeness, _ = homogeneity_completeness_v_measure(truth, predicted)
    print(
        f"{name:9s} {threshold:.2f}  texts {len(texts):5d}  groups {len(set(truth)):5d}"
        f"  clusters {len(clusters):5d}"
        f"  homogeneity {homogeneity:.3f}  completeness {completeness:.3f}"
        f"  ARI {adjusted_rand_score(truth, predicted):.3f}  embed {embedding:.1f} s"
        f"  cluster {seconds:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-set", type=int, default=1500)
    parser.add_argument(
        "--thresholds",
        type=float,
        nargs="*",
        default=[DISTANCE_THRESHOLD],
        help=f"distance thresholds to compare (the product uses {DISTANCE_THRESHOLD})",
    )
    args = parser.parse_args()
    rng = random.Random(0)
    embedder = SentenceEmbedder(DEFAULT_EMBEDDING_MODEL)
    print(
        f"distance = 1 - (w * dense + (1 - w) * char n-gram cosine), w from {DENSE_WEIGHT_LATIN}"
        f" (Latin) to {DENSE_WEIGHT_HAN} (Han); average linkage"
    )
    sets = {"banking77": _banking(args.per_set, rng), "lcqmc": _lcqmc(args.per_set, rng)}
    for name, rows in sets.items():
        for threshold in args.thresholds:
            _measure(name, rows, embedder, threshold)


if __name__ == "__main__":
    main()
