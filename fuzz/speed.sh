#!/usr/bin/env bash
# fuzz/speed.sh — single-core execs/s of every target, for the README.
#
#   fuzz/speed.sh [SECONDS]        (default 30 per target and engine)
#
# libFuzzer (ASan+UBSan, oracle, per-operation invariants, full walk at the
# end: every check on) and AFL++ persistent mode (RA_DEBUG, no sanitizer),
# each on a fresh copy of the target's seed corpus, one process each; the
# two engines run side by side on two cores, never two of one engine.
set -euo pipefail
cd "$(dirname "$0")/.."
. fuzz/lib.sh
T=${1:-30}
fz_build V=libfuzzer lib fuzz-bins
fz_build V=afl lib fuzz-bins
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf '%-16s %14s %14s\n' target "libFuzzer e/s" "AFL++ e/s"
for t in $FUZZ_ALL_TARGETS; do
  mkdir -p "$tmp/$t/lf" "$tmp/$t/in"
  cp corpus/"$t"/* "$tmp/$t/lf/"; cp corpus/"$t"/* "$tmp/$t/in/"
  mapfile -t opts < <(fz_lf_opts "$t")
  (ASAN_OPTIONS=detect_leaks=0 timeout $((T + 60)) "build/libfuzzer/fuzz/$t" "${opts[@]}" -max_total_time="$T" \
     -print_final_stats=1 -artifact_prefix="$tmp/$t/" "$tmp/$t/lf" >"$tmp/$t/lf.log" 2>&1 || true) &
  AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 AFL_QUIET=1 \
  AFL_SKIP_CRASHES=1 AFL_NO_WARN_INSTABILITY=1 timeout $((T + 60)) \
    afl-fuzz -i "$tmp/$t/in" -o "$tmp/$t/afl" -V "$T" -x "fuzz/$t.dict" -- "build/afl/fuzz/$t" >"$tmp/$t/afl.log" 2>&1 || true
  wait
  lf=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$tmp/$t/lf.log" | tail -1)
  afl=$(awk -F' *: *' '$1=="execs_done"{e=$2} $1=="run_time"{r=$2} END{if (r) printf "%.0f", e / r}' \
        "$tmp/$t/afl/default/fuzzer_stats" 2>/dev/null || true)
  printf '%-16s %14s %14s\n' "$t" "${lf:-?}" "${afl:-?}"
done
