"""Offline evaluation against labelled files, through the same paths the product uses."""

from __future__ import annotations

import csv
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from bot.intents import train_intent_model
from bot.sentiment import Sentiment, SentimentAnalyzer
from core.errors import InvalidInputError
from core.language import detect_language, han_ratio
from core.settings import Settings
from knowledge_base import io as kb_io
from knowledge_base.embeddings import (
    Embedder,
    HanAwareEmbedder,
    SentenceEmbedder,
    Vectors,
    encode_in_batches,
    load_han_embedder,
)

from . import db as migrations
from .progress import progress_bar
from .services import build_services

__all__ = [
    "ClassScores",
    "IntentMetrics",
    "OperatingPoint",
    "RetrievalMetrics",
    "SentimentMetrics",
    "evaluate_intents",
    "evaluate_retrieval",
    "evaluate_sentiment",
]


@dataclass(frozen=True)
class RetrievalMetrics:
    queries: int
    top1: float
    top5: float
    mrr: float


def _read_csv(path: Path, required: set[str]) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = required - set(reader.fieldnames or [])
        if missing:
            raise InvalidInputError(f"{path.name} lacks column(s): {', '.join(sorted(missing))}")
        return list(reader)


def evaluate_retrieval(
    settings: Settings, *, faqs_path: Path, queries_path: Path, predictions_path: Path
) -> RetrievalMetrics:
    """Import FAQS into a throwaway knowledge base, then rank every query of QUERIES."""
    queries = _read_csv(queries_path, {"text", "faq_id"})
    parsed = kb_io.parse(faqs_path.read_text("utf-8-sig"), kb_io.FileFormat.csv)
    with tempfile.TemporaryDirectory(prefix="kefu-eval-") as scratch:
        scratch_settings = settings.model_copy(
            update={"data_dir": Path(scratch), "database_url": ""}
        )
        services = build_services(scratch_settings, serving=False)
        migrations.upgrade(services.engine)
        services.kb.ensure_index()
        with progress_bar("Importing and indexing FAQs") as update:
            services.kb.import_records(faqs=parsed.faqs, author="eval", progress=update)
        rows: list[dict[str, str]] = []
        hits1 = hits5 = 0
        reciprocal = 0.0
        # Embedded in batches, then searched one by one exactly as the bot searches: the bot
        # also embeds a message once and hands the vector to the index.
        texts = [query["text"] for query in queries]
        vectors = _encode_with_progress(services.embedder, texts, "Embedding queries")
        with progress_bar("Ranking queries") as update:
            for number, (query, vector) in enumerate(zip(queries, vectors, strict=True), start=1):
                found = services.kb.search(query["text"], k=10, query_vector=vector)
                ranked = [hit.entry_id for hit in found]
                expected = query["faq_id"]
                if expected in ranked:
                    rank = ranked.index(expected) + 1
                    reciprocal += 1.0 / rank
                    hits1 += rank == 1
                    hits5 += rank <= 5
                rows.append(
                    {
                        "text": query["text"],
                        "faq_id": expected,
                        "top1": ranked[0] if ranked else "",
                        "top5": "|".join(ranked[:5]),
                    }
                )
                update(number, len(queries))
        services.engine.dispose()
    predictions_path.parent.mkdir(parents=True, exist_ok=True)
    with predictions_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["text", "faq_id", "top1", "top5"])
        writer.writeheader()
        writer.writerows(rows)
    total = max(1, len(queries))
    return RetrievalMetrics(len(queries), hits1 / total, hits5 / total, reciprocal / total)


@dataclass(frozen=True)
class OperatingPoint:
    """Out-of-scope rejection at one threshold on the calibrated P(right)."""

    threshold: float
    in_scope_accuracy: float
    oos_recall: float
    oos_precision: float


# The curve's thresholds; the model's own threshold is added to them.
CURVE_THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(1, 20))


@dataclass(frozen=True)
class IntentMetrics:
    examples: int
    accuracy: float
    macro_f1: float
    in_scope_accuracy: float | None
    oos_recall: float | None
    oos_precision: float | None
    threshold: float
    # Expected calibration error of the top probability on the in-scope queries (10 bins).
    calibration_error: float
    # With an out-of-scope label: the trade-off over thresholds, lowest threshold first.
    curve: tuple[OperatingPoint, ...] = ()


def _encode_with_progress(embedder: Embedder, texts: list[str], description: str) -> Vectors:
    with progress_bar(description) as update:
        return encode_in_batches(embedder, texts, update)


def evaluate_intents(
    settings: Settings,
    *,
    train_path: Path,
    test_path: Path,
    predictions_path: Path,
    label_column: str = "label",
    oos_label: str | None = None,
    embedder: Embedder | None = None,
) -> IntentMetrics:
    """Train exactly as the product does (threshold from TRAIN alone), then predict TEST."""
    train = _read_csv(train_path, {"text", label_column})
    test = _read_csv(test_path, {"text", label_column})
    embedder = embedder or SentenceEmbedder(settings.embedding_model)
    texts = [row["text"] for row in train]
    labels = [row[label_column] for row in train]
    vectors = _encode_with_progress(embedder, texts, "Embedding TRAIN")
    with progress_bar("Training (out-of-scope simulation, then final fit)") as update:
        model = train_intent_model(
            texts, labels, vectors, embedding_model=embedder.name, progress=update
        )
    test_texts = [row["text"] for row in test]
    test_vectors = _encode_with_progress(embedder, test_texts, "Embedding TEST")
    predictions = model.predict(test_texts, test_vectors)
    truth = [row[label_column] for row in test]
    predicted = [p.name if (p.in_scope or oos_label is None) else oos_label for p in predictions]
    predictions_path.parent.mkdir(parents=True, exist_ok=True)
    with predictions_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "predicted", "confidence"])
        for text, label, guess, p in zip(test_texts, truth, predicted, predictions, strict=True):
            writer.writerow([text, label, guess, f"{p.confidence:.4f}"])
    in_scope = oos_recall = oos_precision = None
    curve: tuple[OperatingPoint, ...] = ()
    if oos_label is not None:
        chance = np.asarray([p.in_scope_probability for p in predictions])
        names = np.asarray([p.name for p in predictions], dtype=object)
        labels_array = np.asarray(truth, dtype=object)
        chosen = _operating_point(chance, names, labels_array, oos_label, model.threshold)
        in_scope, oos_recall, oos_precision = (
            chosen.in_scope_accuracy,
            chosen.oos_recall,
            chosen.oos_precision,
        )
        curve = tuple(
            _operating_point(chance, names, labels_array, oos_label, threshold)
            for threshold in sorted({*CURVE_THRESHOLDS, model.threshold})
        )
    known_rows = [i for i, label in enumerate(truth) if label != oos_label]
    return IntentMetrics(
        examples=len(test),
        accuracy=float(accuracy_score(truth, predicted)) if test else 0.0,
        macro_f1=float(f1_score(truth, predicted, average="macro")) if test else 0.0,
        in_scope_accuracy=in_scope,
        oos_recall=oos_recall,
        oos_precision=oos_precision,
        threshold=model.threshold,
        calibration_error=_calibration_error(
            [predictions[i].confidence for i in known_rows],
            [predictions[i].name == truth[i] for i in known_rows],
        ),
        curve=curve,
    )


def _operating_point(
    chance: npt.NDArray[np.float64],
    names: npt.NDArray[np.object_],
    truth: npt.NDArray[np.object_],
    oos_label: str,
    threshold: float,
) -> OperatingPoint:
    rejected = chance < threshold
    unknown = truth == oos_label
    known = ~unknown
    right = ~rejected & (names == truth)
    return OperatingPoint(
        threshold=float(threshold),
        in_scope_accuracy=float(right[known].mean()) if known.any() else 0.0,
        oos_recall=float(rejected[unknown].mean()) if unknown.any() else 0.0,
        oos_precision=float(unknown[rejected].mean()) if rejected.any() else 0.0,
    )


def _calibration_error(confidences: list[float], correct: list[bool], bins: int = 10) -> float:
    if not confidences:
        return 0.0
    confidence = np.asarray(confidences)
    hit = np.asarray(correct, dtype=float)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            error += members.mean() * abs(confidence[members].mean() - hit[members].mean())
    return float(error)


@dataclass(frozen=True)
class ClassScores:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class SentimentMetrics:
    classes: list[ClassScores]
    # Negative against the rest: what finding complaints needs, whatever the other labels.
    negative: ClassScores
    heads: dict[str, int]  # how many messages each head judged


def _message_vectors(settings: Settings, texts: list[str]) -> list[tuple[Vectors, Vectors | None]]:
    """Each text's main vector and, for Han text, its Han vector: what the bot's index computes
    for a message and hands to sentiment (encoded here in batches, for speed)."""
    main = SentenceEmbedder(settings.embedding_model)
    embedder = HanAwareEmbedder(main, load_han_embedder(settings.han_embedding_model))
    vectors = _encode_with_progress(embedder, texts, "Embedding messages")
    return [
        (row[: main.dim], row[main.dim :] if embedder.han and han_ratio(text) > 0 else None)
        for row, text in zip(vectors, texts, strict=True)
    ]


def evaluate_sentiment(
    settings: Settings,
    *,
    test_path: Path,
    predictions_path: Path,
    analyzer: SentimentAnalyzer | None = None,
) -> SentimentMetrics:
    """Run the analyzer as shipped, on the vectors the bot would have; nothing is trained on
    TEST. Labels are negative, neutral or positive; a set without neutral works too."""
    rows = _read_csv(test_path, {"text", "label"})
    allowed = {"negative", "neutral", "positive"}
    unknown = {row["label"] for row in rows} - allowed
    if unknown:
        raise InvalidInputError(
            f"labels must be negative, neutral or positive, not {sorted(unknown)}"
        )
    analyzer = analyzer or SentimentAnalyzer()
    texts = [row["text"] for row in rows]
    vectors = _message_vectors(settings, texts)
    results: list[Sentiment] = []
    with progress_bar("Analysing") as update:
        for number, (text, (main, han)) in enumerate(zip(texts, vectors, strict=True), start=1):
            language = detect_language(text, default="") or "en"
            results.append(
                analyzer.analyze(text, language=language, main_vector=main, han_vector=han)
            )
            update(number, len(rows))
    _write_sentiment_predictions(predictions_path, rows, results)
    truth = [row["label"] for row in rows]
    guessed = [result.label for result in results]
    labels = sorted({*truth} | {"negative", "positive"})
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, guessed, labels=labels, zero_division=0
    )
    classes = [
        ClassScores(label, float(p), float(r), float(f), int(n))
        for label, p, r, f, n in zip(labels, precision, recall, f1, support, strict=True)
    ]
    negative = next(c for c in classes if c.label == "negative")
    return SentimentMetrics(classes, negative, dict(Counter(r.head for r in results)))


def _write_sentiment_predictions(
    path: Path, rows: list[dict[str, str]], results: list[Sentiment]
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "predicted", "score", "negative", "head"])
        for row, result in zip(rows, results, strict=True):
            writer.writerow(
                [
                    row["text"],
                    row["label"],
                    result.label,
                    f"{result.score:.4f}",
                    f"{result.negative:.4f}",
                    result.head,
                ]
            )
