#!/usr/bin/env bash
# Run Redis's own TCL test suite with cacheside as the server under test.
#
#   test/tcl/run-redis-suite.sh <redis-source-dir> [unit ...] [-- runtest options]
#
# <redis-source-dir> is a Redis 7.0 source tree (its tests/ and runtest are
# used, nothing is built there). The suite runs in a private copy where
# src/redis-server starts `node dist/cli.js server` of this checkout, so the
# units run in their normal mode (external:skip tests included); redis-cli,
# redis-benchmark and redis-check-* come from PATH (Debian's redis-tools).
# Units default to every unit/ and integration/ file the suite lists, minus
# cluster, modules, TLS and oom-score-adj. Per unit it prints ok/err/exception
# counts; logs stay in the work directory it names.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
src="${1:?usage: $0 <redis-source-dir> [unit ...] [-- runtest options]}"; shift
units=(); extra=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then shift; extra=("$@"); break; fi
  units+=("$1"); shift
done
work="$(mktemp -d /tmp/cacheside-redis-suite.XXXXXX)"
cp -r "$src/tests" "$src/runtest" "$work/"
mkdir -p "$work/src"
printf '#!/bin/sh\nexec node %s/dist/cli.js server "$@"\n' "$here" > "$work/src/redis-server"
chmod +x "$work/src/redis-server"
for b in redis-cli redis-benchmark redis-check-aof redis-check-rdb; do
  p="$(command -v "$b" || true)"; [ -n "$p" ] && ln -sf "$p" "$work/src/$b"
done
(cd "$here" && npm run build --silent)
if [ ${#units[@]} -eq 0 ]; then
  mapfile -t units < <(sed -n '/set ::all_tests/,/^}/p' "$work/tests/test_helper.tcl" | tr -d ' ' |
    grep -E '^(unit|integration)/' | grep -vE 'cluster|moduleapi|tls|oom-score-adj|printver')
fi
cd "$work"
echo "work directory: $work"
for u in "${units[@]}"; do
  log="$work/$(echo "$u" | tr / _).log"
  ./runtest --single "$u" --clients 1 --timeout 120 "${extra[@]}" > "$log" 2>&1 || true
  sed -i 's/\x1b\[[0-9;]*m//g' "$log"
  printf '%-40s ok=%-4s err=%-3s exception=%s\n' "$u" "$(grep -c '^\[ok\]' "$log" || true)" \
    "$(grep -c '^\[err\]' "$log" || true)" "$(grep -c '^\[exception\]\|^\[TIMEOUT\]' "$log" || true)"
done
