"""Does the bot answer what it knows, and hold back on what it does not?

    .venv/bin/python benchmarks/bot_decisions.py [--oos-per-language 500] [--dump FILE]

Retrieval benchmarks rank a known FAQ; this one measures the bot's decision on top of the
ranking, through exactly the admin's "test the bot" path (``ChatService.explain``: language,
intent, FAQ search, sentiment, policy), on the demo knowledge base and demo intents.

- Known questions: the demo FAQs' alternative phrasings, held out two-fold. Each fold imports
  the demo with every other alternative removed, trains the intents, and asks the removed ones.
  The right outcome is an answer with that entry; a clarification that offers it is second best.
- Out-of-scope questions: questions no online store's FAQ answers, from ../shared/data (never
  committed): LCQMC's general-knowledge questions for Chinese, and for English the BANKING77
  test questions of intents an online store has no counterpart for (card top-ups, exchange
  rates, PINs and the like, listed below). The right outcome is anything but an FAQ answer.

Printed per language: how known questions end (answered right, answered wrong, clarified with
the right entry, other) and how often an out-of-scope question got an FAQ answer anyway.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.settings import Settings
from kefu import db as migrations
from kefu.services import build_services
from kefu.training import refresh_models
from knowledge_base import io as kb_io

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "knowledge_base" / "demo"
DATA = ROOT.parent / "shared" / "data"
# BANKING77 intents about a bank's own products, which no online store's FAQ covers.
BANKING_ONLY = {
    "activate_my_card",
    "age_limit",
    "apple_pay_or_google_pay",
    "atm_support",
    "automatic_top_up",
    "card_about_to_expire",
    "change_pin",
    "country_support",
    "disposable_card_limits",
    "exchange_charge",
    "exchange_rate",
    "exchange_via_app",
    "fiat_currency_support",
    "get_disposable_virtual_card",
    "get_physical_card",
    "getting_spare_card",
    "getting_virtual_card",
    "lost_or_stolen_card",
    "order_physical_card",
    "pin_blocked",
    "top_up_by_bank_transfer_charge",
    "top_up_by_card_charge",
    "top_up_by_cash_or_cheque",
    "top_up_limits",
    "top_up_reverted",
    "topping_up_by_card",
    "virtual_card_not_working",
    "visa_or_mastercard",
    "why_verify_identity",
    "verify_top_up",
}


def _demo() -> tuple[list[Any], list[Any]]:
    faqs: list[Any] = []
    intents: list[Any] = []
    for path in sorted(DEMO.glob("*.yaml")):
        parsed = kb_io.parse(path.read_text("utf-8"), kb_io.FileFormat.yaml)
        faqs.extend(parsed.faqs)
        intents.extend(parsed.intents)
    return faqs, intents


def _out_of_scope(per_language: int) -> list[tuple[str, str]]:
    rng = random.Random(0)
    with (DATA / "lcqmc" / "queries.csv").open(encoding="utf-8") as handle:
        chinese = [row["text"] for row in csv.DictReader(handle)]
    with (DATA / "banking77" / "test.csv").open(encoding="utf-8") as handle:
        english = [row["text"] for row in csv.DictReader(handle) if row["category"] in BANKING_ONLY]
    return [("zh", t) for t in rng.sample(chinese, per_language)] + [
        ("en", t) for t in rng.sample(english, min(per_language, len(english)))
    ]


def _decide(services: Any, text: str) -> dict[str, Any]:
    seen = services.chat.explain(text)
    top = seen["faqs"][:2]
    return {
        "text": text,
        "language": seen["language"],
        "kind": seen["decision"]["kind"],
        "reason": seen["decision"]["reason"],
        "entry_id": seen["decision"]["entry_id"],
        "suggestions": seen["decision"]["suggestions"],
        "intent": seen["intent"],
        "top": [(h["entry_id"], h["score"]) for h in top],
    }


def held_out_folds() -> Iterator[tuple[Any, list[tuple[str, str]], int]]:
    """Per fold: the services of a scratch server holding the demo without that fold's
    alternatives (models refreshed as a server would), and the held-out (entry, text) pairs."""
    faqs, intents = _demo()
    for fold in (0, 1):
        kept: list[Any] = []
        asked: list[tuple[str, str]] = []
        for faq in faqs:
            keep = [a for i, a in enumerate(faq.alternatives) if i % 2 != fold]
            asked.extend((faq.id, a) for i, a in enumerate(faq.alternatives) if i % 2 == fold)
            kept.append(faq.model_copy(update={"alternatives": keep}))
        with tempfile.TemporaryDirectory(prefix="kefu-bench-") as scratch:
            settings = Settings().model_copy(update={"data_dir": Path(scratch), "database_url": ""})
            services = build_services(settings, serving=False)
            migrations.upgrade(services.engine)
            services.kb.ensure_index()
            services.kb.import_records(faqs=kept, intents=intents, author="bench")
            # Everything a server derives from the knowledge base: index, intents, answer model.
            refresh_models(services, retrain=True)
            try:
                yield services, asked, fold
            finally:
                services.engine.dispose()


def run(oos_per_language: int) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for services, asked, fold in held_out_folds():
        for entry_id, text in asked:
            records.append(_decide(services, text) | {"expected": entry_id, "fold": fold})
        if fold == 0:
            for _, text in _out_of_scope(oos_per_language):
                records.append(_decide(services, text) | {"expected": None, "fold": fold})
    return records


def report(records: list[dict[str, Any]]) -> None:
    known: dict[str, Counter[str]] = defaultdict(Counter)
    unknown: dict[str, Counter[str]] = defaultdict(Counter)
    for r in records:
        language = r["language"] if r["language"] in ("en", "zh") else "other"
        if r["expected"] is None:
            unknown[language][r["kind"]] += 1
            continue
        if r["kind"] == "answer_faq":
            outcome = "answered right" if r["entry_id"] == r["expected"] else "answered wrong"
        elif r["kind"] == "clarify" and r["expected"] in r["suggestions"]:
            outcome = "clarified with it"
        else:
            outcome = r["kind"]
        known[language][outcome] += 1
    for language in sorted(known.keys() | unknown.keys()):
        asked = sum(known[language].values())
        if asked:
            parts = ", ".join(f"{k} {v / asked:.3f}" for k, v in known[language].most_common())
            print(f"{language} known questions ({asked}): {parts}")
        total = sum(unknown[language].values())
        if total:
            parts = ", ".join(f"{k} {v / total:.3f}" for k, v in unknown[language].most_common())
            print(f"{language} out-of-scope questions ({total}): {parts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--oos-per-language", type=int, default=500)
    parser.add_argument("--dump", type=Path, help="write every decision as JSON lines")
    args = parser.parse_args()
    records = run(args.oos_per_language)
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as handle:
            for r in records:
                handle.write(json.dumps(r, ensure_ascii=False) + "\n")
    report(records)


if __name__ == "__main__":
    main()
