"""Does the unknown-question guard's share predict how often unknown questions get answered?

    .venv/bin/python benchmarks/unknown_guard.py [SET ...]    # bq, banking77 (default: both)

The guard (bot/unknown_guard.py) learns, per knowledge base and language, how high the
knowledge base's own phrasings score when their entry is left out, and the policy answers from
retrieval's score only where at most ``faq_unknown_share`` of those scores are as high. If the
left-out phrasings stand in well for the questions a knowledge base does not answer, a share
limit of 0.10 answers about 10 % of the real unknown questions.

For each decision set in ../shared/data (never committed) this builds the knowledge base as
``kefu eval decisions`` does (import, index, the models a server derives), then asks every
query through retrieval and reads the guard's share for the top hit. Printed per share limit,
for retrieval's top entry alone (no other threshold): answered right and wrong as shares of the
known queries, and unknown answered as a share of the unknown ones; then the same with the
product's fixed score threshold and margin as well. Queries are split into halves by md5 of
the text (even, odd), so a reading that holds on one half only shows.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.policy import PolicySettings
from core.language import detect_language
from core.settings import Settings
from kefu import db as migrations
from kefu.decision_eval import read_table
from kefu.services import build_services
from kefu.training import refresh_models
from knowledge_base import io as kb_io

ROOT = Path(__file__).resolve().parent.parent

DATA = ROOT.parent / "shared" / "data"
SETS = {"bq": DATA / "bq", "banking77": DATA / "banking77" / "decisions"}
LIMITS = (0.05, 0.10, 0.15, 0.20, 0.25, 1.0)
MARGIN = PolicySettings().faq_margin


def _half(text: str) -> int:
    return int(hashlib.md5(text.encode(), usedforsecurity=False).hexdigest(), 16) % 2


@dataclass(frozen=True)
class Row:
    text: str
    expected: str  # "" for a question the knowledge base does not answer
    top: str | None
    score: float
    margin: float
    share: float | None
    fixed_threshold: float

    def answered(self, limit: float, *, with_fixed: bool) -> bool:
        if self.top is None or (self.share is not None and self.share > limit):
            return False
        return not with_fixed or (self.score >= self.fixed_threshold and self.margin >= MARGIN)


def _rows(name: str) -> tuple[int, list[Row]]:
    base = SETS[name]
    faqs = kb_io.parse((base / "faqs.csv").read_text("utf-8-sig"), kb_io.FileFormat.csv).faqs
    queries = read_table(base / "queries.csv", ["text", "faq_id"])
    settings = Settings()
    fixed = {"en": settings.faq_answer_score, "zh": settings.faq_answer_score_zh}
    rows = []
    with tempfile.TemporaryDirectory(prefix="kefu-guard-") as scratch:
        services = build_services(
            settings.model_copy(update={"data_dir": Path(scratch), "database_url": ""}),
            serving=False,
        )
        migrations.upgrade(services.engine)
        services.kb.ensure_index()
        services.kb.import_records(faqs=faqs, intents=[], author="bench")
        refresh_models(services)
        for query in queries:
            text = query["text"]
            language = detect_language(text) or "en"
            hits = services.kb.search(text, k=2)
            top = hits[0] if hits else None
            runner_up = hits[1].score if len(hits) > 1 else 0.0
            rows.append(
                Row(
                    text,
                    query["faq_id"].strip(),
                    top.entry_id if top else None,
                    top.score if top else 0.0,
                    top.score - runner_up if top else 0.0,
                    services.answers.unknown_share(language, top.score) if top else None,
                    fixed.get(language, fixed["en"]),
                )
            )
        services.engine.dispose()
    return len(faqs), rows


def run(name: str) -> None:
    entries, rows = _rows(name)
    print(f"== {name}: {entries} entries, {len(rows)} queries")
    for half in (0, 1):
        part = [r for r in rows if _half(r.text) == half]
        known = [r for r in part if r.expected]
        unknown = [r for r in part if not r.expected]
        print(f"-- half {half}: {len(known)} known, {len(unknown)} unknown")
        print(
            "   share <=   guard alone: right  wrong  unknown"
            " | with score and margin: right  wrong  unknown"
        )
        for limit in LIMITS:
            cells = []
            for with_fixed in (False, True):
                answered = [r for r in known if r.answered(limit, with_fixed=with_fixed)]
                right = sum(r.top == r.expected for r in answered)
                risky = sum(r.answered(limit, with_fixed=with_fixed) for r in unknown)
                cells.append(
                    f"{right / max(1, len(known)):.3f}  "
                    f"{(len(answered) - right) / max(1, len(known)):.3f}  "
                    f"{risky / max(1, len(unknown)):.3f}"
                )
            print(f"   {limit:8.2f}               {cells[0]}   |                        {cells[1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("sets", nargs="*", help=f"any of {', '.join(SETS)} (default: all)")
    for name in parser.parse_args().sets or list(SETS):
        run(name)


if __name__ == "__main__":
    main()
