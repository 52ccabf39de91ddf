#!/usr/bin/env bash
# The size of the embeddable widget as served at /widget.js: the bundle esbuild builds from
# web_widget/src (built first when missing or stale), raw, and gzipped (level 9) as a server
# would send it.
#   benchmarks/widget_size.sh              prints both
#   BUDGET=35840 benchmarks/widget_size.sh also exits 1 when the raw size is over BUDGET bytes
set -euo pipefail
cd "$(dirname "$0")/.."
FILE=web_widget/static/widget.js
PYTHON=${PYTHON:-.venv/bin/python}

"$PYTHON" -m web_widget.build >/dev/null
raw=$(wc -c < "$FILE")
gzipped=$(gzip -9 -c "$FILE" | wc -c)
sources=$(cat web_widget/src/*.js | wc -c)
echo "file: $FILE (bundled and minified by esbuild from $(ls web_widget/src/*.js | wc -l) modules, $sources bytes)"
awk -v r="$raw" -v g="$gzipped" 'BEGIN {
    printf "raw:     %7d bytes (%.1f KiB)\n", r, r / 1024
    printf "gzip -9: %7d bytes (%.1f KiB)\n", g, g / 1024
}'
if [ -n "${BUDGET:-}" ] && [ "$raw" -gt "$BUDGET" ]; then
    echo "over the budget: $raw > $BUDGET bytes raw" >&2
    exit 1
fi
