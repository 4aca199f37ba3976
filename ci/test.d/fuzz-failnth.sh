# stage: allocation-failure replay of the regression corpus (fail-nth, --fuzz)
# Each corpus/regression/*.trace is replayed once per allocation with the Nth
# allocation failing (N = 1 .. its number of allocations), as `refalloc
# replay --fuzz --fail-nth=N` does: the oracle on, invariants after every
# operation. The trace's expects no longer hold once something fails, so
# only oracle failures, invariant problems, an exit other than 0/1/3 and
# crashes count. Release and ASan builds.
set -euo pipefail
cd "$(dirname "$0")/../.."
JOBS=${JOBS:-$(nproc)}
make --no-print-directory -s -f mk/build.mk -j"$JOBS" V=release build/release/fuzz/failnth >/dev/null
make --no-print-directory -s -f mk/build.mk -j"$JOBS" V=asan build/asan/fuzz/failnth >/dev/null
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
rc=0
for v in release asan; do
  out=$(timeout 600 "build/$v/fuzz/failnth" corpus/regression) || rc=1
  grep -v '^fail-nth: [0-9]* traces' <<<"$out" | head -10 | sed 's/^/      /' || true
  echo "    $v: $(tail -1 <<<"$out")"
done
exit $rc
