#!/usr/bin/env bash
# fuzz/run.sh — `make fuzz`: a short run of every target, one after another.
#
#   fuzz/run.sh [TARGET...]     env: FUZZ_TIME=60 (seconds per target), FUZZ_ENGINE=libfuzzer|afl,
#                                    FUZZ_OUT=out/fuzz/quick
#
# Each target fuzzes a working copy of its seed corpus (corpus/<target> is
# left alone: `make corpus-merge FROM=out/fuzz/quick` folds new inputs in)
# on one core: libFuzzer (ASan+UBSan, every check on) or AFL++ (persistent
# mode). Prints per target execs/s, coverage (libFuzzer cov/ft, AFL++
# edges), corpus size and findings; crashes are triaged into text
# reproducers under FUZZ_OUT/findings.
set -euo pipefail
cd "$(dirname "$0")/.."
. fuzz/lib.sh
T=${FUZZ_TIME:-60}
ENGINE=${FUZZ_ENGINE:-libfuzzer}
OUT=${FUZZ_OUT:-out/fuzz/quick}
targets=${*:-$FUZZ_ALL_TARGETS}
mkdir -p "$OUT/findings"

echo "==> make fuzz: $ENGINE, ${T}s per target: $targets"
if [ "$ENGINE" = afl ]; then fz_build V=afl lib fuzz-bins; else fz_build V=libfuzzer lib fuzz-bins; fi
fz_build V=release lib tool
fz_build V=asan fuzz-tests
fz_build V=asan tool 2>/dev/null || true

# findings of earlier runs stay in $OUT/findings; this run's are listed and
# decide the exit status
known=$(tail -n +2 "$OUT/findings/index.tsv" 2>/dev/null | cut -f1 | sort || true)
summary=$OUT/summary.tsv
printf 'target\tengine\tseconds\texecs\texecs_per_s\tcoverage\tcorpus_start\tcorpus_end\tcrashes\tfindings\n' >"$summary"
rc=0
for t in $targets; do
  w=$OUT/$t; mkdir -p "$w/corpus"
  rm -rf "$w/crashes"; mkdir -p "$w/crashes"      # an earlier run's were triaged into findings/
  cp -n corpus/"$t"/* "$w/corpus/" 2>/dev/null || true
  n0=$(ls "$w/corpus" | wc -l)
  echo "--> $t"
  if [ "$ENGINE" = afl ]; then
    rm -rf "$w/afl"
    AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 AFL_QUIET=1 \
    AFL_SKIP_CRASHES=1 AFL_NO_WARN_INSTABILITY=1 timeout $((T + 60)) \
      afl-fuzz -i "$w/corpus" -o "$w/afl" -V "$T" -x "fuzz/$t.dict" -- "build/afl/fuzz/$t" >"$w/log" 2>&1 || true
    st=$w/afl/default/fuzzer_stats
    execs=$(awk -F' *: *' '$1=="execs_done"{print $2}' "$st" 2>/dev/null || echo 0)
    eps=$(awk -F' *: *' '$1=="execs_per_sec"{print $2}' "$st" 2>/dev/null || echo 0)
    cov="edges $(awk -F' *: *' '$1=="edges_found"{e=$2} $1=="total_edges"{t=$2} END{print e"/"t}' "$st" 2>/dev/null)"
    cp -n "$w"/afl/default/queue/id:* "$w/corpus/" 2>/dev/null || true
    crashes=("$w"/afl/default/crashes/id:*)
  else
    mapfile -t opts < <(fz_lf_opts "$t")
    (ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 timeout $((T + 60)) "build/libfuzzer/fuzz/$t" "${opts[@]}" \
       -max_total_time="$T" -print_final_stats=1 -artifact_prefix="$w/crashes/" "$w/corpus" >"$w/log" 2>&1) || true
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$w/log" | tail -1)
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$w/log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$w/log" | tail -1 || true)
    cov="cov $(echo "$last" | sed -nE 's/.* cov: ([0-9]+).*/\1/p') ft $(echo "$last" | sed -nE 's/.* ft: ([0-9]+).*/\1/p')"
    crashes=("$w"/crashes/crash-* "$w"/crashes/leak-* "$w"/crashes/timeout-* "$w"/crashes/oom-*)
  fi
  n1=$(ls "$w/corpus" | wc -l)
  nc=0; real=()
  for c in "${crashes[@]}"; do [ -e "$c" ] && { nc=$((nc+1)); real+=("$c"); }; done
  nf=0
  if [ $nc -gt 0 ]; then
    before=$(find "$OUT/findings" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l)
    fuzz/triage.sh "$t" "$OUT/findings" "${real[@]}" || true
    after=$(find "$OUT/findings" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l)
    nf=$((after - before)); rc=1
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$ENGINE" "$T" "${execs:-0}" "${eps:-0}" "$cov" "$n0" "$n1" "$nc" "$nf" >>"$summary"
  printf '    %s execs, %s execs/s, %s, corpus %s -> %s, %s crash input(s), %s new finding(s)\n' \
    "${execs:-0}" "${eps:-0}" "$cov" "$n0" "$n1" "$nc" "$nf"
done
echo
echo "==> make fuzz summary ($OUT/summary.tsv)"
column -t -s $'\t' "$summary" | sed 's/^/    /'
if [ -f "$OUT/findings/index.tsv" ]; then
  new=$(tail -n +2 "$OUT/findings/index.tsv" | awk -F'\t' -v known="$known" '
        BEGIN { n = split(known, k, "\n"); for (i = 1; i <= n; i++) seen[k[i]] = 1 }
        !($1 in seen) { printf "      %s %-16s %-9s x%-3s %s\n", $1, $2, $3, $5, substr($4,1,100) }')
  if [ -n "$new" ]; then
    echo "    findings of this run ($OUT/findings/<id>/README tells how to reproduce each):"
    echo "$new"
  fi
  old=$(grep -c . <<<"$known" || true)
  [ "${old:-0}" -gt 0 ] && echo "    ($old finding(s) of earlier runs in $OUT/findings/index.tsv)"
fi
exit $rc
