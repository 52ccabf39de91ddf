"""``kefu eval decisions``: the bot's whole judgement on labelled questions, from outside.

A scratch knowledge base is built from the files through the product's own import path, every
model the product derives from it is refreshed (``kefu.training.refresh_models``), and each
question goes through ``ChatService.explain``: the chat path's understanding and policy for a
new conversation's first message, writing nothing.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from core.errors import InvalidInputError
from core.language import detect_language
from core.settings import Settings
from knowledge_base import io as kb_io
from knowledge_base.schemas import IntentCreate

from . import db as migrations
from .progress import progress_bar
from .services import build_services
from .training import refresh_models

__all__ = ["CurvePoint", "DecisionMetrics", "evaluate_decisions", "read_table"]

ANSWERS = frozenset({"answer_faq", "answer_intent"})
COLUMNS = ["text", "expected", "decision", "entry_id", "suggestions", "confidence", "top_faq"]
THRESHOLDS = tuple(round(0.05 * n, 2) for n in range(0, 20))


@dataclass(frozen=True)
class CurvePoint:
    """Answer the top FAQ entry when its confidence is at least ``threshold``."""

    threshold: float
    right: float
    wrong: float
    unknown_answered: float


@dataclass(frozen=True)
class DecisionMetrics:
    known: int
    unknown: int
    right: int
    wrong: int
    clarified_right: int
    unknown_answered: int
    curve: tuple[CurvePoint, ...]

    def share(self, count: int, *, of_unknown: bool = False) -> float:
        total = self.unknown if of_unknown else self.known
        return count / total if total else 0.0


def read_table(
    path: Path, columns: Sequence[str], *, optional: Sequence[str] = ()
) -> list[dict[str, str]]:
    """Rows of a CSV with exactly ``columns`` (plus any of ``optional``); errors name the line."""
    text = path.read_text("utf-8-sig")
    if not text.strip():
        raise InvalidInputError(f"{path.name} is empty")
    reader = csv.DictReader(io.StringIO(text), strict=True)
    header = reader.fieldnames or []
    missing = [c for c in columns if c not in header]
    unknown = [c for c in header if c not in columns and c not in optional]
    if missing or unknown:
        parts = [f"lacks column(s): {', '.join(missing)}"] if missing else []
        parts += [f"has unknown column(s): {', '.join(unknown)}"] if unknown else []
        raise InvalidInputError(
            f"{path.name} {'; '.join(parts)} (expected {','.join(columns)})",
            details=[{"line": 1, "field": "header", "message": "; ".join(parts)}],
        )
    rows: list[dict[str, str]] = []
    try:
        for row in reader:
            if None in row or any(value is None for value in row.values()):
                raise InvalidInputError(
                    f"{path.name} line {reader.line_num}: the row has a different number of "
                    "fields than the header",
                    details=[{"line": reader.line_num, "field": "row", "message": "field count"}],
                )
            rows.append(row)
    except csv.Error as exc:
        raise InvalidInputError(
            f"{path.name} line {reader.line_num}: malformed CSV: {exc}",
            details=[{"line": reader.line_num, "field": "row", "message": str(exc)}],
        ) from None
    if not rows:
        raise InvalidInputError(f"{path.name} has a header but no rows")
    return rows


def _intents_from(path: Path) -> list[IntentCreate]:
    examples: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    lines: dict[str, int] = {}
    for line, row in enumerate(read_table(path, ["text", "label"]), start=2):
        text, label = row["text"].strip(), row["label"].strip()
        if not text or not label:
            raise InvalidInputError(f"{path.name} line {line}: text and label must not be empty")
        examples[label][detect_language(text)].append(text)
        lines.setdefault(label, line)
    intents = []
    for label, by_language in examples.items():
        try:
            intents.append(
                IntentCreate(
                    name=label,
                    responses=dict.fromkeys(by_language, f"answer about {label}"),
                    examples={language: list(texts) for language, texts in by_language.items()},
                )
            )
        except ValidationError as exc:
            message = "; ".join(str(error["msg"]) for error in exc.errors())
            raise InvalidInputError(
                f"{path.name} line {lines[label]}: intent {label!r}: {message}"
            ) from None
    return intents


def evaluate_decisions(
    settings: Settings,
    *,
    faqs_path: Path,
    queries_path: Path,
    predictions_path: Path,
    intents_path: Path | None = None,
) -> DecisionMetrics:
    """Every query as a new conversation's first message, on a knowledge base built from FAQS."""
    queries = read_table(queries_path, ["text", "faq_id"])
    parsed = kb_io.parse(faqs_path.read_text("utf-8-sig"), kb_io.FileFormat.csv)
    intents = _intents_from(intents_path) if intents_path else []
    ids = {str(entry.id) for entry in parsed.faqs} | {intent.name for intent in intents}
    for line, query in enumerate(queries, start=2):
        expected = query["faq_id"].strip()
        if not query["text"].strip():
            raise InvalidInputError(f"{queries_path.name} line {line}: the text is empty")
        if expected and expected not in ids:
            raise InvalidInputError(
                f"{queries_path.name} line {line}: faq_id {expected!r} is no entry of "
                f"{faqs_path.name}"
            )
    rows: list[dict[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="kefu-eval-") as scratch:
        scratch_settings = settings.model_copy(
            update={"data_dir": Path(scratch), "database_url": ""}
        )
        services = build_services(scratch_settings, serving=False)
        try:
            migrations.upgrade(services.engine)
            services.kb.ensure_index()
            with progress_bar("Importing and indexing FAQs") as update:
                services.kb.import_records(
                    faqs=parsed.faqs, intents=intents, author="eval", progress=update
                )
            refresh_models(services, progress=progress_bar)
            with progress_bar("Deciding on queries") as update:
                for number, query in enumerate(queries, start=1):
                    seen = services.chat.explain(query["text"])
                    rows.append(_row(query["text"], query["faq_id"].strip(), seen))
                    update(number, len(queries))
        finally:
            services.engine.dispose()
    predictions_path.parent.mkdir(parents=True, exist_ok=True)
    with predictions_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return _metrics(rows)


def _row(text: str, expected: str, seen: dict[str, Any]) -> dict[str, str]:
    decision = seen["decision"]
    kind = str(decision["kind"])
    faqs = seen["faqs"]
    top = faqs[0] if faqs else None
    confidence = decision.get("confidence")
    if confidence is None and top is not None:
        confidence = top.get("probability", top["score"])
    answered = decision["entry_id"] if kind == "answer_faq" else decision.get("intent")
    return {
        "text": text,
        "expected": expected,
        "decision": kind,
        "entry_id": str(answered or "") if kind in ANSWERS else "",
        "suggestions": "|".join(decision["suggestions"]),
        "confidence": f"{float(confidence or 0.0):.4f}",
        "top_faq": str(top["entry_id"]) if top else "",
    }


def _metrics(rows: list[dict[str, str]]) -> DecisionMetrics:
    known = [r for r in rows if r["expected"]]
    unknown = [r for r in rows if not r["expected"]]
    answered = [r for r in known if r["decision"] in ANSWERS]
    right = sum(r["entry_id"] == r["expected"] for r in answered)
    clarified = sum(
        r["decision"] == "clarify" and r["expected"] in r["suggestions"].split("|") for r in known
    )
    curve = []
    for threshold in THRESHOLDS:
        on_known = [r for r in known if r["top_faq"] and float(r["confidence"]) >= threshold]
        hits = sum(r["top_faq"] == r["expected"] for r in on_known)
        risky = sum(1 for r in unknown if r["top_faq"] and float(r["confidence"]) >= threshold)
        curve.append(
            CurvePoint(
                threshold,
                hits / len(known) if known else 0.0,
                (len(on_known) - hits) / len(known) if known else 0.0,
                risky / len(unknown) if unknown else 0.0,
            )
        )
    return DecisionMetrics(
        known=len(known),
        unknown=len(unknown),
        right=right,
        wrong=len(answered) - right,
        clarified_right=clarified,
        unknown_answered=sum(r["decision"] in ANSWERS for r in unknown),
        curve=tuple(curve),
    )
