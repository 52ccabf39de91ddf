"""Train the sentiment heads shipped in bot/sentiment_model/heads.npz.

    .venv/bin/python benchmarks/train_sentiment.py [--cache DIR] [--out FILE]

Reads ../shared/data at development time only (benchmarks/sentiment_data.py says which parts;
no test part is read here). Each head is a class-balanced logistic regression over the
message's sentence vector and the rules' features (bot.sentiment.RULE_FEATURES), or over the
rules' features alone for a message without the vector. Its regularisation is chosen on
held-out data (English: 5-fold cross-validation on the training tweets, as TweetEval's 2,000
validation tweets are all there is; Chinese: the dev split), and it is calibrated with Platt
scaling on those held-out predictions, weighted so that both classes count the same: P(negative)
then does not depend on how common complaints were in the training set, and 0.5 is the label's
threshold. The scaler and the calibration are folded into one weight vector per head.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sentiment_data import Example, chinese_splits, english_train, project_examples

from bot.sentiment import SentimentRules
from bot.sentiment_model import HEADS_FILE, HeadSet, LinearHead, head_key
from core.settings import DEFAULT_EMBEDDING_MODEL
from knowledge_base.embeddings import E5Embedder, Embedder, SentenceEmbedder, encode_in_batches

Matrix = npt.NDArray[np.float32]
OUT = Path(__file__).resolve().parents[1] / "bot" / "sentiment_model" / HEADS_FILE
C_GRID = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
THRESHOLD = 0.5
DOMAIN_WEIGHT = 3.0


def _key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def cached_vectors(embedder: Embedder, texts: list[str], cache: Path) -> Matrix:
    """Encoding thousands of reviews takes minutes: keep each text's vector by model."""
    path = cache / f"{embedder.name}.npz"
    known: dict[str, Matrix] = {}
    if path.exists():
        with np.load(path) as stored:
            known = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))
    missing = sorted({text for text in texts if _key(text) not in known})
    if missing:
        started = time.monotonic()
        for text, vector in zip(missing, encode_in_batches(embedder, missing), strict=True):
            known[_key(text)] = vector
        cache.mkdir(parents=True, exist_ok=True)
        np.savez(path, keys=np.array(list(known)), vectors=np.vstack(list(known.values())))
        took = time.monotonic() - started
        print(f"  encoded {len(missing)} texts with {embedder.name} in {took:.0f} s")
    return np.vstack([known[_key(text)] for text in texts])


def rule_features(rules: SentimentRules, examples: list[Example], *, zh: bool) -> Matrix:
    return np.vstack([rules.read(text, zh=zh).features for text, _ in examples])


def negatives(examples: list[Example]) -> npt.NDArray[np.int_]:
    return np.array([label == "negative" for _, label in examples], dtype=int)


def _fit(
    x: Matrix, y: npt.NDArray[np.int_], w: Matrix, c: float
) -> tuple[StandardScaler, LogisticRegression]:
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=3000)
    model.fit(scaler.transform(x), y, sample_weight=w)
    return scaler, model


def _logits(fitted: tuple[StandardScaler, LogisticRegression], x: Matrix) -> Matrix:
    scaler, model = fitted
    return model.decision_function(scaler.transform(x))  # type: ignore[no-any-return]


def _platt(logits: Matrix, y: npt.NDArray[np.int_]) -> tuple[float, float]:
    """Balanced Platt scaling: P(negative) as if complaints were as common as the rest."""
    platt = LogisticRegression(C=1e6, max_iter=1000)
    platt.fit(logits.reshape(-1, 1), y, sample_weight=compute_sample_weight("balanced", y))
    return float(platt.coef_[0, 0]), float(platt.intercept_[0])


HeldOut = Callable[[float], tuple[Matrix, npt.NDArray[np.int_]]]


def train_head(
    x: Matrix, y: npt.NDArray[np.int_], w: Matrix, held_out: HeldOut, name: str
) -> LinearHead:
    """Pick C by held-out log-loss of the balanced model, calibrate on the held-out logits."""
    best: tuple[float, float, Matrix, npt.NDArray[np.int_]] | None = None
    for c in C_GRID:
        logits, truth = held_out(c)
        weights = compute_sample_weight("balanced", truth)
        loss = float(np.average(np.logaddexp(0, -(2 * truth - 1) * logits), weights=weights))
        if best is None or loss < best[0]:
            best = (loss, c, logits, truth)
    assert best is not None
    _, c, logits, truth = best
    a, b = _platt(logits, truth)
    probability = 1 / (1 + np.exp(-(a * logits + b)))
    p, r, f, _ = precision_recall_fscore_support(
        truth, probability >= THRESHOLD, average="binary", zero_division=0
    )
    print(f"{name}: C={c} held-out negative P={p:.3f} R={r:.3f} F1={f:.3f} (n={len(truth)})")
    scaler, model = _fit(x, y, w, c)
    w = model.coef_[0] / scaler.scale_
    bias = float(model.intercept_[0] - np.dot(w, scaler.mean_))
    return LinearHead(weights=(a * w).astype(np.float32), bias=a * bias + b, threshold=THRESHOLD)


def cross_validated(x: Matrix, y: npt.NDArray[np.int_], w: Matrix) -> HeldOut:
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(x, y))

    def held_out(c: float) -> tuple[Matrix, npt.NDArray[np.int_]]:
        logits = np.zeros(len(y), dtype=np.float32)
        for train, test in folds:
            logits[test] = _logits(_fit(x[train], y[train], w[train], c), x[test])
        return logits, y

    return held_out


def on_dev(
    x: Matrix, y: npt.NDArray[np.int_], w: Matrix, dev_x: Matrix, dev_y: npt.NDArray[np.int_]
) -> HeldOut:
    return lambda c: (_logits(_fit(x, y, w, c), dev_x), dev_y)


def domain_weights(examples: list[Example], language: str) -> Matrix:
    """The project's own customer-service examples are few but the closest to a chat: each
    counts as much as DOMAIN_WEIGHT tweets or reviews."""
    own = {text for text, _ in project_examples(language)}
    return np.array([DOMAIN_WEIGHT if t in own else 1.0 for t, _ in examples], dtype=np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "kefu-sentiment-cache"
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    rules = SentimentRules()
    heads: dict[str, LinearHead] = {}

    english = english_train()
    y = negatives(english)
    rules_x = rule_features(rules, english, zh=False)
    main_x = cached_vectors(
        SentenceEmbedder(DEFAULT_EMBEDDING_MODEL), [t for t, _ in english], args.cache
    )
    full_x = np.hstack([main_x, rules_x])
    w = domain_weights(english, "en")
    heads[head_key("en", "main")] = train_head(
        full_x, y, w, cross_validated(full_x, y, w), "en-main"
    )
    heads[head_key("en", "rules")] = train_head(
        rules_x, y, w, cross_validated(rules_x, y, w), "en-rules"
    )

    train, dev, _ = chinese_splits()
    e5 = E5Embedder()
    y, dev_y, w = negatives(train), negatives(dev), domain_weights(train, "zh")
    rules_x, dev_rules = rule_features(rules, train, zh=True), rule_features(rules, dev, zh=True)
    full_x = np.hstack([cached_vectors(e5, [t for t, _ in train], args.cache), rules_x])
    dev_full = np.hstack([cached_vectors(e5, [t for t, _ in dev], args.cache), dev_rules])
    heads[head_key("zh", "han")] = train_head(
        full_x, y, w, on_dev(full_x, y, w, dev_full, dev_y), "zh-han"
    )
    heads[head_key("zh", "rules")] = train_head(
        rules_x, y, w, on_dev(rules_x, y, w, dev_rules, dev_y), "zh-rules"
    )

    version = datetime.now(UTC).strftime("heads-%Y%m%d")
    HeadSet(version, heads).save(args.out)
    print(f"wrote {args.out} ({version}; {sum(h.weights.size for h in heads.values())} weights)")


if __name__ == "__main__":
    main()
