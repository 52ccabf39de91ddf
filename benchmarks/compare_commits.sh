#!/usr/bin/env bash
# One customer and 200 customers against two commits' servers, alternating, one server at a
# time, on the same data directory: a ratio measured in one sitting on a noisy machine.
#
#   benchmarks/compare_commits.sh OLD_REV [NEW_REV=working tree] [ROUNDS=2]
#
# OLD_REV is checked out in a temporary git worktree and served with this checkout's .venv
# (only the project's own code differs). The data directory is made once with the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
old_rev=${1:?usage: benchmarks/compare_commits.sh OLD_REV [NEW_REV] [ROUNDS]}
new_rev=${2:-}
rounds=${3:-2}
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; git worktree remove --force "$work/old" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add --detach "$work/old" "$old_rev" >/dev/null 2>&1
new_dir=$PWD
if [ -n "$new_rev" ]; then
  git worktree add --detach "$work/new" "$new_rev" >/dev/null 2>&1
  new_dir=$work/new
fi
export KEFU_DATA_DIR=$work/var KEFU_PORT=${KEFU_PORT:-8811}
# The simulated customers all come from one address: the abuse limits are off.
eval "$(.venv/bin/python -c 'from core.rate_limits import no_limits_env; print(" ".join(f"export {k}={v!r}" for k, v in no_limits_env().items()))')"
.venv/bin/kefu db upgrade >/dev/null
.venv/bin/kefu kb load-demo --if-empty >/dev/null
url=http://127.0.0.1:$KEFU_PORT
for round in $(seq 1 "$rounds"); do
  for which in old new; do
    if [ "$which" = old ]; then dir=$work/old; else dir=$new_dir; fi
    (cd "$dir" && PYTHONPATH=$dir exec "$new_dir/.venv/bin/python" \
      -c "import sys; sys.argv = ['kefu', 'serve']; from kefu.cli import main; main()" \
      >"$work/$which.log" 2>&1) &
    server=$!
    for _ in $(seq 1 120); do curl -sf "$url/readyz" >/dev/null && break; sleep 1; done
    .venv/bin/kefu bench --url "$url" --clients 1 --messages 20 --json >/dev/null 2>&1  # warm-up
    echo "round $round $which, 1 client: $(.venv/bin/kefu bench --url "$url" --clients 1 --messages 300 --json 2>/dev/null)"
    echo "round $round $which, 200 clients: $(.venv/bin/kefu bench --url "$url" --clients 200 --messages 5 --json 2>/dev/null)"
    kill "$server"
    wait "$server" || true
    server=
  done
done
