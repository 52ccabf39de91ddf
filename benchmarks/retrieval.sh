#!/usr/bin/env bash
# FAQ retrieval through `kefu eval retrieval` (the product's import, indexing and search path).
#   benchmarks/retrieval.sh          (reads ../shared/data; writes to ${OUT:-/tmp/kefu-bench})
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
OUT=${OUT:-/tmp/kefu-bench}
mkdir -p "$OUT"
echo "== Chinese: LCQMC dev as FAQ matching (4,341 FAQs, 2,844 queries)"
.venv/bin/kefu eval retrieval --faqs "$DATA/lcqmc/faqs.csv" --queries "$DATA/lcqmc/queries.csv" \
    --predictions "$OUT/lcqmc.csv"
echo "== English: BANKING77 as FAQ matching (77 FAQs x 5 phrasings, 3,080 queries)"
.venv/bin/kefu eval retrieval --faqs "$DATA/banking77/faq/faqs.csv" \
    --queries "$DATA/banking77/faq/queries.csv" --predictions "$OUT/banking77_faq.csv"
