#!/usr/bin/env bash
# Golden regression corpus: replay every corpus/regression/*.trace with full
# invariant checks and compare stdout, stderr and the exit code with the
# committed NAME.out / NAME.err and the trace's "# exit: N" line (default 0).
#
# usage: ci/regress.sh [REFALLOC] [--update]
#   REFALLOC  the binary (default build/release/refalloc)
#   --update  rewrite the golden files from this run (then READ the diff)
set -uo pipefail
bin=${1:-build/release/refalloc}
update=0
[ "${2:-}" = "--update" ] && update=1
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
cd "$root/corpus/regression" || exit 2
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for t in *.trace; do
  n=${t%.trace}
  want_rc=$(sed -n 's/^# exit: *\([0-9]*\).*/\1/p' "$t" | head -1)
  want_rc=${want_rc:-0}
  "$bin" replay --check=full "$t" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [ $update = 1 ]; then
    cp "$tmp/out" "$n.out"
    if [ -s "$tmp/err" ]; then cp "$tmp/err" "$n.err"; else rm -f "$n.err"; fi
  fi
  ok=1
  [ "$rc" = "$want_rc" ] || { echo "FAIL $t: exit $rc, expected $want_rc"; ok=0; }
  if ! cmp -s "$tmp/out" "$n.out" 2>/dev/null; then
    echo "FAIL $t: stdout differs from $n.out"; diff -u "$n.out" "$tmp/out" 2>&1 | head -20; ok=0
  fi
  if [ -f "$n.err" ]; then want_err="$n.err"; else want_err=/dev/null; fi
  if ! cmp -s "$tmp/err" "$want_err"; then
    echo "FAIL $t: stderr differs from $want_err"; diff -u "$want_err" "$tmp/err" 2>&1 | head -20; ok=0
  fi
  if [ $ok = 1 ]; then pass=$((pass+1)); else fail=$((fail+1)); fi
done
echo "regression: $pass passed, $fail failed"
[ $fail = 0 ]
