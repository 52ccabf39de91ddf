#!/usr/bin/env bash
# Intent classification on BANKING77 (closed set) and with ten intents held out as out-of-scope.
#   benchmarks/intents.sh            (reads ../shared/data/banking77; writes to ${OUT:-/tmp/kefu-bench})
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/banking77}
OUT=${OUT:-/tmp/kefu-bench}
mkdir -p "$OUT"

echo "== BANKING77, all 77 intents"
.venv/bin/kefu eval intents --train "$DATA/train.csv" --test "$DATA/test.csv" \
    --label-column category --predictions "$OUT/banking77.csv"

# Out of scope: the ten intents whose names sort first leave TRAIN; their TEST questions become "oos".
.venv/bin/python - "$DATA" "$OUT" <<'PY'
import csv, sys
from pathlib import Path
data, out = Path(sys.argv[1]), Path(sys.argv[2])
rows = {n: list(csv.DictReader((data / f"{n}.csv").open(encoding="utf-8"))) for n in ("train", "test")}
held = sorted({r["category"] for r in rows["train"]})[:10]
print("held out:", ", ".join(held))
for name, keep in (("train", lambda r: r["category"] not in held), ("test", lambda r: True)):
    with (out / f"oos_{name}.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["text", "category"])
        writer.writeheader()
        for r in rows[name]:
            if keep(r):
                writer.writerow({"text": r["text"], "category": "oos" if r["category"] in held else r["category"]})
PY
echo "== BANKING77, ten intents held out as out-of-scope"
.venv/bin/kefu eval intents --train "$OUT/oos_train.csv" --test "$OUT/oos_test.csv" \
    --label-column category --oos-label oos --predictions "$OUT/banking77_oos.csv"
