#!/usr/bin/env bash
# The size of the embeddable widget as served: the bundles esbuild builds from web_widget/src
# (built first when missing or stale), each raw and gzipped (level 9) as a server would send it,
# and what a customer pays in all.
#   widget.js          the launcher: what every page that embeds the widget loads
#   widget-chat.en.js  the chat panel with its English texts  } one of them, the page's language,
#   widget-chat.zh.js  the chat panel with its Chinese texts  } loaded on the first open, or at
#                                                               once for a returning customer
#                                                               with a conversation to resume
#   total (en), (zh)   widget.js and that language's panel: what a customer who opens the chat pays
#   benchmarks/widget_size.sh              prints them
#   BUDGET=35840 benchmarks/widget_size.sh also exits 1 when any one script is not under BUDGET bytes
#                                          raw
#   ANALYZE=1 benchmarks/widget_size.sh    also rebuilds, printing what each module adds
set -euo pipefail
cd "$(dirname "$0")/.."
EMBED=web_widget/static/widget.js
LANGS=(en zh)
FILES=("$EMBED")
for lang in "${LANGS[@]}"; do
    FILES+=("web_widget/static/widget-chat.$lang.js")
done
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
line() {
    awk -v f="$1" -v r="$2" -v g="$3" 'BEGIN {
        printf "%-36s raw %7d bytes (%5.1f KiB)   gzip -9 %7d bytes (%5.1f KiB)\n", f, r, r / 1024, g, g / 1024
    }'
}
over=()
for file in "${FILES[@]}"; do
    raw=$(wc -c < "$file")
    line "$file" "$raw" "$(gzip -9 -c "$file" | wc -c)"
    if [ -n "${BUDGET:-}" ] && [ "$raw" -ge "$BUDGET" ]; then
        over+=("$file is $raw bytes raw, not under $BUDGET")
    fi
done
for lang in "${LANGS[@]}"; do
    chat=web_widget/static/widget-chat.$lang.js
    raw=$(( $(wc -c < "$EMBED") + $(wc -c < "$chat") ))
    gzipped=$(( $(gzip -9 -c "$EMBED" | wc -c) + $(gzip -9 -c "$chat" | wc -c) ))
    line "total ($lang: widget.js + panel)" "$raw" "$gzipped"
done
if [ "${#over[@]}" -gt 0 ]; then
    printf 'over the budget: %s\n' "${over[@]}" >&2
    exit 1
fi
