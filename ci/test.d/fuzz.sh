# stage: fuzz targets replay their corpora (release + asan)
# Every fuzz target's plain -test driver (no fuzzer) replays corpus/<target>/
# with the oracle, per-operation invariants and the harness's properties:
# the release build for all of it, the ASan+UBSan build too (the corpora are
# small: a few hundred inputs, about a minute under ASan on two cores; if
# they grow past FUZZ_ASAN_MAX inputs per target, ASan replays the first
# FUZZ_ASAN_MAX by name, a stable sample since names are hashes). Then the
# release drivers once more in one process each (--speed 1: machines made
# one after another, as a fuzzer runs them, reusing the kept host
# mappings) with REFALLOC_KEEP_VERIFY=1: a kept mapping must be all zero
# when it is taken again (machine.c), or one input's bytes would leak into
# the next.
set -euo pipefail
cd "$(dirname "$0")/../.."
JOBS=${JOBS:-$(nproc)}
ASAN_MAX=${FUZZ_ASAN_MAX:-400}
make --no-print-directory -s -f mk/build.mk -j"$JOBS" V=release fuzz-tests >/dev/null
make --no-print-directory -s -f mk/build.mk -j"$JOBS" V=asan fuzz-tests >/dev/null
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
# the targets are fuzz/targets' first column; binary ones have a profile
targets=$(awk '$1 !~ /^#/ && NF { print $1 }' fuzz/targets)
binary=$(awk '$1 !~ /^#/ && NF && $2 != "-" { print $1 }' fuzz/targets)
rc=0
for v in release asan; do
  for t in $targets; do
    [ -d "corpus/$t" ] || { echo "    $t: no corpus/$t"; rc=1; continue; }
    if [ $v = asan ] && [ "$(ls "corpus/$t" | wc -l)" -gt "$ASAN_MAX" ]; then
      mapfile -t files < <(ls "corpus/$t" | sort | head -n "$ASAN_MAX" | sed "s|^|corpus/$t/|")
    else
      files=("corpus/$t")
    fi
    out=$(timeout 600 "build/$v/fuzz/$t-test" "${files[@]}" 2>/dev/null) || rc=1
    grep '^FAIL' <<<"$out" | head -5 | sed 's/^/      /' || true
    echo "    $v: $(tail -1 <<<"$out")"
  done
done
for t in $binary; do
  out=$(REFALLOC_KEEP_VERIFY=1 timeout 600 "build/release/fuzz/$t-test" --speed 1 "corpus/$t" 2>&1) || {
    rc=1; echo "      $t: $(grep -m1 'engine bug\|FAIL\|ERROR' <<<"$out" || tail -1 <<<"$out")"; }
  echo "    in one process, kept mappings verified: $(tail -1 <<<"$out" | sed 's/ in [0-9.]* s.*//')"
done
exit $rc
