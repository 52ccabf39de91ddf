#!/usr/bin/env bash
# Sentiment as shipped (nothing trained on these sets): English tweets and Chinese hotel reviews.
#   benchmarks/sentiment.sh          (reads ../shared/data/sentiment; writes to ${OUT:-/tmp/kefu-bench})
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/sentiment}
OUT=${OUT:-/tmp/kefu-bench}
mkdir -p "$OUT"
.venv/bin/python - "$DATA" "$OUT" <<'PY'
import csv, sys
from pathlib import Path
data, out = Path(sys.argv[1]), Path(sys.argv[2])
names = {"0": "negative", "1": "neutral", "2": "positive"}
texts = (data / "tweeteval_b_text.txt").read_text(encoding="utf-8").splitlines()
labels = (data / "tweeteval_b_labels.txt").read_text(encoding="utf-8").splitlines()
with (out / "tweets.csv").open("w", encoding="utf-8", newline="") as handle:
    writer = csv.writer(handle)
    writer.writerow(["text", "label"])
    writer.writerows((t, names[l.strip()]) for t, l in zip(texts, labels, strict=True))
with (data / "chnsenticorp_htl.csv").open(encoding="utf-8", newline="") as source, \
        (out / "hotels.csv").open("w", encoding="utf-8", newline="") as handle:
    writer = csv.writer(handle)
    writer.writerow(["text", "label"])
    for row in csv.DictReader(source):
        if row["review"].strip():
            writer.writerow([row["review"], "positive" if row["label"] == "1" else "negative"])
PY
echo "== English: TweetEval sentiment, 2,000 tweets (tweeteval_b)"
.venv/bin/kefu eval sentiment --test "$OUT/tweets.csv" --predictions "$OUT/tweets_pred.csv"
echo "== Chinese: ChnSentiCorp hotel reviews"
.venv/bin/kefu eval sentiment --test "$OUT/hotels.csv" --predictions "$OUT/hotels_pred.csv"
