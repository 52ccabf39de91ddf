"""The sentiment sets from ../shared/data, split once so that training never sees a test part.

English: TweetEval sentiment's validation split (tweeteval_b, 2,000 tweets) plus the project's
own examples (benchmarks/sentiment_examples.csv) train; its test split (tweeteval_a, 12,284) is
only ever tested on.
Neither tweets nor reviews hold a customer's plain question, and the Chinese reviews have no
neutral class at all, so a head trained on them alone reads "运费怎么算" or "How do I change my
address?" as a complaint. Plain questions are added as not negative: BANKING77 training
questions of informational intents (how-to, limits, support; none of its complaint intents
such as a missing card or a wrong charge) and LCQMC questions (general how-to questions).
Chinese: online_shopping_10_cats without its hotel category (酒店, the same source as
ChnSentiCorp's hotel reviews), shuffled with a fixed seed: 80 % train (a sample is used), 10 %
dev, 10 % test; ChnSentiCorp hotel reviews are another domain, only ever tested on. Long
reviews cost the Han model about 0.1 s each on this machine, so the tests are fixed samples.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

__all__ = [
    "DATA",
    "Example",
    "chinese_hotels",
    "chinese_splits",
    "english_test",
    "english_train",
    "plain_questions",
    "project_examples",
]

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "sentiment"
EXAMPLES = Path(__file__).with_name("sentiment_examples.csv")
SEED = 12
TWEET_LABELS = {"0": "negative", "1": "neutral", "2": "positive"}

Example = tuple[str, str]  # (text, "negative" | "neutral" | "positive")


def _tweets(part: str, data: Path) -> list[Example]:
    texts = (data / f"tweeteval_{part}_text.txt").read_text(encoding="utf-8").splitlines()
    labels = (data / f"tweeteval_{part}_labels.txt").read_text(encoding="utf-8").splitlines()
    return [(t.strip(), TWEET_LABELS[y.strip()]) for t, y in zip(texts, labels, strict=True)]


def project_examples(language: str) -> list[Example]:
    with EXAMPLES.open(encoding="utf-8", newline="") as handle:
        return [
            (r["text"], r["label"]) for r in csv.DictReader(handle) if r["language"] == language
        ]


# BANKING77 intents whose questions ask how something works, never that something went wrong.
INFORMATIONAL_INTENTS = frozenset(
    [
        "activate_my_card",
        "age_limit",
        "apple_pay_or_google_pay",
        "atm_support",
        "automatic_top_up",
        "card_acceptance",
        "card_delivery_estimate",
        "change_pin",
        "country_support",
        "disposable_card_limits",
        "exchange_via_app",
        "fiat_currency_support",
        "get_physical_card",
        "getting_spare_card",
        "getting_virtual_card",
        "order_physical_card",
        "receiving_money",
        "supported_cards_and_currencies",
        "top_up_by_bank_transfer_charge",
        "top_up_limits",
        "topping_up_by_card",
        "verify_my_identity",
        "visa_or_mastercard",
        "why_verify_identity",
        "edit_personal_details",
    ]
)


def plain_questions(language: str, data: Path = DATA, *, size: int = 800) -> list[Example]:
    """Questions that are not complaints, from sets the sentiment tests never use."""
    if language == "en":
        with (data.parent / "banking77" / "train.csv").open(encoding="utf-8", newline="") as f:
            texts = [r["text"] for r in csv.DictReader(f) if r["category"] in INFORMATIONAL_INTENTS]
    else:
        lines = (data.parent / "lcqmc" / "dev.txt").read_text(encoding="utf-8").splitlines()
        texts = sorted({line.split("\t")[0] for line in lines if line.strip()})
    random.Random(SEED).shuffle(texts)
    return [(text, "neutral") for text in texts[:size]]


def english_train(data: Path = DATA) -> list[Example]:
    return _tweets("b", data) + project_examples("en") + plain_questions("en", data)


def english_test(data: Path = DATA, *, size: int | None = None) -> list[Example]:
    """TweetEval's test split, or a fixed random sample of it (MiniLM takes about 25 ms a tweet
    on one core of this machine)."""
    rows = _tweets("a", data)
    if size is not None:
        rows = random.Random(SEED).sample(rows, size)
    return rows


def _reviews(path: Path) -> list[tuple[str, str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = [
            (r.get("cat", ""), r["review"].replace("\ufeff", "").strip(), r["label"])
            for r in csv.DictReader(handle)
        ]
    return [(c, t, "positive" if y == "1" else "negative") for c, t, y in rows if t]


def chinese_splits(
    data: Path = DATA, *, train_size: int = 4000, dev_size: int = 1000, test_size: int = 1000
) -> tuple[list[Example], list[Example], list[Example]]:
    rows = [r for r in _reviews(data / "online_shopping_10_cats.csv") if r[0] != "酒店"]
    random.Random(SEED).shuffle(rows)
    n = len(rows)
    train, dev, test = rows[: int(0.8 * n)], rows[int(0.8 * n) : int(0.9 * n)], rows[int(0.9 * n) :]
    questions = plain_questions("zh", data)
    cut = len(questions) * 4 // 5
    pick = [(t, y) for _, t, y in train[:train_size]] + project_examples("zh") + questions[:cut]
    held = [(t, y) for _, t, y in dev[:dev_size]] + questions[cut:]
    return pick, held, [(t, y) for _, t, y in test[:test_size]]


def chinese_hotels(data: Path = DATA, *, size: int = 1000) -> list[Example]:
    rows = [(t, y) for _, t, y in _reviews(data / "chnsenticorp_htl.csv")]
    random.Random(SEED).shuffle(rows)
    return rows[:size]
