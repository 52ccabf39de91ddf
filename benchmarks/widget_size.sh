#!/usr/bin/env bash
# The size of the embeddable widget as served: the bundles esbuild builds from web_widget/src
# (built first when missing or stale), each raw and gzipped (level 9) as a server would send it,
# and their total.
#   widget.js       the launcher: what every page that embeds the widget loads
#   widget-chat.js  the chat panel: loaded on the first open, or at once for a returning
#                   customer with a conversation to resume
#   benchmarks/widget_size.sh              prints them
#   BUDGET=35840 benchmarks/widget_size.sh also exits 1 when widget.js (the file the script tag
#                                          names) is over BUDGET bytes raw
#   ANALYZE=1 benchmarks/widget_size.sh    also rebuilds, printing what each module adds
set -euo pipefail
cd "$(dirname "$0")/.."
EMBED=web_widget/static/widget.js
FILES=("$EMBED" web_widget/static/widget-chat.js)
PYTHON=${PYTHON:-.venv/bin/python}

if [ -n "${ANALYZE:-}" ]; then
    "$PYTHON" -m web_widget.build --analyze >/dev/null
else
    "$PYTHON" -m web_widget.build >/dev/null
fi
sources=$(cat web_widget/src/*.js web_widget/src/*.css | wc -c)
modules=$(ls web_widget/src/*.js | wc -l)
sheets=$(ls web_widget/src/*.css | wc -l)
esbuild=$(web_widget/node_modules/.bin/esbuild --version)
echo "bundled and minified by esbuild $esbuild from $modules modules and $sheets stylesheets ($sources bytes)"
total_raw=0
total_gzip=0
for file in "${FILES[@]}"; do
    raw=$(wc -c < "$file")
    gzipped=$(gzip -9 -c "$file" | wc -c)
    total_raw=$((total_raw + raw))
    total_gzip=$((total_gzip + gzipped))
    awk -v f="$file" -v r="$raw" -v g="$gzipped" 'BEGIN {
        printf "%-32s raw %7d bytes (%5.1f KiB)   gzip -9 %7d bytes (%5.1f KiB)\n", f, r, r / 1024, g, g / 1024
    }'
done
awk -v r="$total_raw" -v g="$total_gzip" 'BEGIN {
    printf "%-32s raw %7d bytes (%5.1f KiB)   gzip -9 %7d bytes (%5.1f KiB)\n", "total", r, r / 1024, g, g / 1024
}'
embed=$(wc -c < "$EMBED")
if [ -n "${BUDGET:-}" ] && [ "$embed" -gt "$BUDGET" ]; then
    echo "over the budget: $EMBED is $embed > $BUDGET bytes raw" >&2
    exit 1
fi
