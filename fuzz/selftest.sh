#!/usr/bin/env bash
# fuzz/selftest.sh — bug-finding power: `make fuzz-selftest`.
#
#   fuzz/selftest.sh [N...]          (default: every mutant; env LIMIT=60 s per fuzzing run, SCRATCH=0)
#
# Each mutant is a deliberately injected bug behind -DRA_MUTANT=n (the
# `#if RA_MUTANT == n` blocks in engine/src/*.c and engine/umalloc/umalloc.c;
# the default build never sees them). For each: build the AFL++ target into
# build/mutant-n (a copy of build/afl with only the mutant's file rebuilt),
# replay the seed corpus, then fuzz from it on one core until the first
# crash (AFL_BENCH_UNTIL_CRASH) or LIMIT seconds. The finding is replayed
# to name what caught it: the engine's invariants, the oracle, the
# harness's policy properties, or a crash (signal / sanitizer). A crash the
# unmutated engine shares (a finding of its own) does not count. When a
# seed already catches the mutant, a second run from a single blank input
# (SCRATCH=0 skips it) measures the fuzzer on its own.
# Prints a table, writes out/fuzz/selftest/table.md and .tsv; exit 1 if a
# mutant survives.
set -euo pipefail
cd "$(dirname "$0")/.."
. fuzz/lib.sh
LIMIT=${LIMIT:-60}
OUT=out/fuzz/selftest
mkdir -p "$OUT"

# n | layer | target | description
MUTANTS="1|buddy|fuzz_buddy|wrong buddy: pfn ^ (2 << order)
2|buddy|fuzz_buddy|off-by-one split: expand() never puts the last half back
3|buddy|fuzz_buddy|lost page on merge: an order-0 buddy leaves its list unmerged
4|buddy|fuzz_buddy|free-list double insert of an unmerged order-2 block
5|pcp|fuzz_buddy|pcp count drift: an order>0 pcp allocation counts one page
6|watermarks|fuzz_buddy|watermark compared the wrong way (__zone_watermark_ok)
7|slab|fuzz_slab|slab freelist pointer past the slab (last object links past the end)
8|slab|fuzz_slab|slab double free not caught (allocation-map test skipped)
9|slab|fuzz_slab|one object too many per slab (runs past the slab)
10|vmalloc|fuzz_vmalloc|missing guard page
11|vmalloc|fuzz_vmalloc|vmap hole search off by one page (areas overlap)
12|mm|fuzz_umalloc|VMA overlap: get_unmapped_area() one page too high
13|umalloc|fuzz_umalloc|chunk size header off by 16 (chunk cut from top)
14|oom|fuzz_umalloc|wrong OOM victim (lowest badness instead of highest)
15|oom|fuzz_umalloc|oom_score_adj -1000 no longer exempts a task from the OOM killer"

want=" ${*:-} "
echo "==> fuzz-selftest: building the AFL++ base (build/afl)"
fz_build V=afl lib fuzz-bins

export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 \
       AFL_FAST_CAL=1 AFL_QUIET=1 AFL_SKIP_CRASHES=1 AFL_NO_WARN_INSTABILITY=1

# what caught it: replay the input through the mutant's binary (stdin) and
# read the first line that names the failure
detect() {
  local bin=$1 in=$2 log=$3 rc=0
  (timeout 5 "$bin" <"$in" >/dev/null 2>"$log"; exit $?) 2>/dev/null || rc=$?
  local line
  if line=$(grep -m1 -E '^BUG: refalloc: (invariant|oracle|harness):' "$log"); then
    printf '%s\t%s\n' "$(echo "$line" | sed -E 's/^BUG: refalloc: ([a-z]+):.*/\1/')" "$line"
  elif line=$(grep -m1 -E 'ERROR: AddressSanitizer|runtime error' "$log"); then
    printf 'sanitizer\t%s\n' "$line"
  elif line=$(grep -m1 -E 'refalloc: engine bug at' "$log"); then
    printf 'assertion\t%s\n' "$line"
  elif line=$(grep -m1 -E 'invariants broken|refalloc fuzz: .*finding' "$log"); then
    printf 'invariant\t%s\n' "$line"
  elif [ $rc -eq 124 ]; then
    printf 'hang\tno end in 5 s (an infinite loop)\n'
  elif [ $rc -ge 128 ]; then
    printf 'crash\tsignal %d (%s)\n' $((rc-128)) "$(kill -l $((rc-128)) 2>/dev/null || echo ?)"
  else
    printf 'none\treplay exit %d\n' "$rc"
  fi
}

# fuzz_until_caught SEEDDIR OUTDIR: AFL++ on one core from SEEDDIR until a
# crash the mutant has and the base has not (sets hit, basefind) or LIMIT s
fuzz_until_caught() {
  local apid c
  afl-fuzz -i "$1" -o "$2" -V "$LIMIT" -x "fuzz/$target.dict" -- "$bin" >"$2.log" 2>&1 &
  apid=$!
  declare -A seen=()
  while kill -0 "$apid" 2>/dev/null && [ -z "$hit" ]; do
    sleep 0.5
    for c in "$2"/default/crashes/id:* "$2"/default/hangs/id:*; do
      [ -e "$c" ] && [ -z "${seen[$c]:-}" ] || continue
      seen[$c]=1
      if caught "$c"; then hit=$c; break; else basefind=$((basefind+1)); fi
    done
  done
  kill -INT "$apid" 2>/dev/null || true
  wait "$apid" 2>/dev/null || true
}

printf 'mutant\tlayer\ttarget\tdescription\tdetected_by\tseconds\tfirst_line\tscratch_seconds\n' >"$OUT/table.tsv"
t_all=$SECONDS found=0 total=0
while IFS='|' read -r n layer target desc; do
  [ "$want" = "  " ] || [[ "$want" == *" $n "* ]] || continue
  total=$((total+1))
  B=build/mutant-$n
  file=$(grep -l -E "RA_MUTANT [!=]= $n( |\))" engine/src/*.c engine/umalloc/umalloc.c | head -1)
  [ -n "$file" ] || { echo "mutant $n: no '#if RA_MUTANT == $n' block in the engine" >&2; exit 1; }
  # a copy of the base build with the mutant's object(s) removed: only they rebuild
  rm -rf "$B"; mkdir -p "$B"; cp -a build/afl/. "$B/"
  case $file in
    engine/umalloc/umalloc.c) rm -f "$B"/engine/umalloc/umalloc_sim.o "$B"/engine/umalloc/*.o;;
    *) rm -f "$B/${file%.c}.o";;
  esac
  rm -f "$B/fuzz/$target" "$B/librefalloc.a"
  fz_build V=afl B="$B" EXTRA_CFLAGS="-DRA_MUTANT=$n" "$B/fuzz/$target"
  bin=$B/fuzz/$target
  work=$OUT/mutant-$n; rm -rf "$work"; mkdir -p "$work"
  t0=$(date +%s.%N) hit="" how=""
  base=build/afl/fuzz/$target
  # a detection is an input the mutant fails on and the unmutated engine
  # passes (the base may have findings of its own: those are not the mutant's)
  # (a mutant may also hang: 5 s without an end counts, as a fuzzer's timeout)
  caught() { ! (timeout 5 "$bin" <"$1" >/dev/null 2>&1; exit $?) 2>/dev/null && (timeout 60 "$base" <"$1" >/dev/null 2>&1; exit $?) 2>/dev/null; }
  # 1. the seeds themselves
  for s in corpus/"$target"/*; do
    if caught "$s"; then hit=$s; how=seed; break; fi
  done
  # 2. fuzz from the seeds, one core, until a crash the base does not share
  basefind=0
  if [ -z "$hit" ]; then
    how=fuzz
    t0=$(date +%s.%N)     # the fuzzing's own time (afl-fuzz's dry run of the seeds included)
    fuzz_until_caught "corpus/$target" "$work/afl"
  fi
  if [ -n "$hit" ]; then
    if [ "$how" = fuzz ]; then
      # time to detection: the crash file's time from the start of the run
      secs=$(python3 -c "import os,sys; print('%.1f' % (os.path.getmtime(sys.argv[1]) - float(sys.argv[2])))" "$hit" "$t0")
    else
      secs=$(python3 -c "import time,sys; print('%.1f' % (time.time() - float(sys.argv[1])))" "$t0")
    fi
    cp "$hit" "$work/crash.bin"
    IFS=$'\t' read -r by line < <(detect "$bin" "$work/crash.bin" "$work/replay.log")
    prof=$(fz_profile "$target")
    [ -x build/release/refalloc ] && build/release/refalloc trace decode --profile="$prof" "$work/crash.bin" "$work/crash.trace" 2>/dev/null || true
    found=$((found+1))
  else
    by=missed secs=">$LIMIT" line="not found in $LIMIT s"
  fi
  [ "$how" = seed ] && by="$by (seed)"
  [ "${basefind:-0}" -gt 0 ] && line="$line [+$basefind crash(es) the unmutated engine shares, skipped]"
  # 3. from scratch: when a seed caught it, how long the fuzzer takes from a
  # single blank input (two header bytes: a 16 MiB machine, no operation) — the fuzzer's own power
  scratch=-
  if [ "$how" = seed ] && [ "${SCRATCH:-1}" = 1 ]; then
    mkdir -p "$work/blank"; printf '\0\0' >"$work/blank/blank"   # a machine, no operation
    keep_hit=$hit hit="" basefind=0
    t0=$(date +%s.%N)
    fuzz_until_caught "$work/blank" "$work/scratch"
    if [ -n "$hit" ]; then
      scratch=$(python3 -c "import os,sys; print('%.1f' % (os.path.getmtime(sys.argv[1]) - float(sys.argv[2])))" "$hit" "$t0")
    else
      scratch=">$LIMIT"
    fi
    hit=$keep_hit
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$layer" "$target" "$desc" "$by" "$secs" "$line" "$scratch" | tee -a "$OUT/table.tsv" |
    awk -F'\t' '{printf "  mutant %-3s %-10s %-13s %-16s %6ss  scratch %6ss  %s\n", $1, $2, $3, $5, $6, $8, substr($7,1,90)}'
done <<<"$MUTANTS"

{
  echo "| mutant | layer | description | detected by | seconds (from seeds) | seconds (from scratch) | the finding's first line |"
  echo "|---|---|---|---|---|---|---|"
  tail -n +2 "$OUT/table.tsv" | awk -F'\t' '{gsub(/\|/,"\\|",$7); printf "| %s | %s | %s | %s | %s | %s | `%s` |\n", $1, $2, $4, $5, $6, $8, substr($7,1,140)}'
} >"$OUT/table.md"
echo
cat "$OUT/table.md"
echo
echo "fuzz-selftest: $found of $total mutants found in $((SECONDS - t_all)) s (table: $OUT/table.md)"
[ "$found" -eq "$total" ]
