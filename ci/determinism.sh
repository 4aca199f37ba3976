#!/usr/bin/env bash
# Determinism: the same trace gives byte-identical output on every build.
# Replays the regression corpus with each given binary and compares all of
# them with the first (stdout and stderr together, exit code included).
# usage: ci/determinism.sh BIN1 BIN2 [BIN...]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bins=()
for b in "$@"; do bins+=("$(cd "$(dirname "$b")" && pwd)/$(basename "$b")"); done
cd "$root/corpus/regression" || exit 2
pass=0 fail=0
for t in *.trace; do
  ref=""
  for i in "${!bins[@]}"; do
    { "${bins[$i]}" replay --check=full "$t"; echo "exit=$?"; } >"$tmp/$i" 2>&1
    if [ -z "$ref" ]; then ref="$tmp/$i"; elif ! cmp -s "$ref" "$tmp/$i"; then
      echo "FAIL $t: ${bins[$i]} differs from ${bins[0]}"; diff "$ref" "$tmp/$i" | head -10
      fail=$((fail+1)); continue 2
    fi
  done
  pass=$((pass+1))
done
echo "determinism (${#bins[@]} builds): $pass passed, $fail failed"
[ $fail = 0 ]
