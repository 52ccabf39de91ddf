"""Offline evaluation against labelled files, through the same paths the product uses."""

from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass
from pathlib import Path

from core.errors import InvalidInputError
from core.settings import Settings
from knowledge_base import io as kb_io

from . import db as migrations
from .progress import progress_bar
from .services import build_services

__all__ = ["RetrievalMetrics", "evaluate_retrieval"]


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
        services = build_services(scratch_settings)
        migrations.upgrade(services.engine)
        services.kb.ensure_index()
        with progress_bar("Importing and indexing FAQs") as update:
            services.kb.import_records(faqs=parsed.faqs, author="eval", progress=update)
        rows: list[dict[str, str]] = []
        hits1 = hits5 = 0
        reciprocal = 0.0
        with progress_bar("Ranking queries") as update:
            for number, query in enumerate(queries, start=1):
                ranked = [hit.entry_id for hit in services.kb.search(query["text"], k=10)]
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
