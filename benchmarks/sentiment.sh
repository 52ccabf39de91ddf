#!/usr/bin/env bash
# Sentiment through `kefu eval sentiment` (the bot's own vectors and analyzer) on the test parts
# only: TweetEval's test split (English, a fixed sample of 3,000), the held-out 10 % of online_shopping_10_cats (Chinese,
# a fixed sample) and ChnSentiCorp hotel reviews (Chinese, another domain; a fixed sample).
# The heads were trained by benchmarks/train_sentiment.py on other parts (benchmarks/sentiment_data.py).
#   benchmarks/sentiment.sh      (reads ../shared/data/sentiment; writes to a temporary directory)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(mktemp -d -t kefu-sentiment-XXXXXX)
trap 'rm -rf "$OUT"' EXIT
echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD) on $(nproc --all) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
.venv/bin/python - "$OUT" <<'PY'
import csv, sys
from pathlib import Path
sys.path.insert(0, "benchmarks")
from sentiment_data import chinese_hotels, chinese_splits, english_test
from bot.sentiment_model import HeadSet
out = Path(sys.argv[1])
print(f"# heads {HeadSet.load().version}")
_, _, shopping = chinese_splits()
for name, rows in (("tweets", english_test(size=3000)), ("shopping", shopping), ("hotels", chinese_hotels())):
    with (out / f"{name}.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
PY
# The three run side by side (each model call is single-threaded), then print in order.
run() {
    .venv/bin/kefu eval sentiment --test "$OUT/$1.csv" --predictions "$OUT/$1_pred.csv" \
        >"$OUT/$1.out" 2>/dev/null
}
run tweets & run shopping & run hotels & wait
echo "== English: TweetEval sentiment test split (tweeteval_a), 3,000 of 12,284 tweets"
cat "$OUT/tweets.out"
echo "== Chinese: online_shopping_10_cats held-out test part (not 酒店), 1,000 reviews"
cat "$OUT/shopping.out"
echo "== Chinese: ChnSentiCorp hotel reviews (never trained on), 1,000 reviews"
cat "$OUT/hotels.out"
