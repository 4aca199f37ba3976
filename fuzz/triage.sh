#!/usr/bin/env bash
# fuzz/triage.sh — crash inputs to unique findings with text reproducers.
#
#   fuzz/triage.sh TARGET OUTDIR CRASH...
#
# Each crash input is replayed (fz_signature: $FZ_ASAN/refalloc replay
# --fuzz on the decoded trace, or the ASan -test driver) for its signature:
# the failure class and the first invariant/oracle/harness line or the
# sanitizer's report and top frame, with numbers and names taken out.
# Inputs with the same signature are one finding. For each new finding, in
# OUTDIR/<sig-id>/:
#   input            the smallest crash input of that signature
#   min              the input minimized (afl-tmin on build/afl, else
#                    libFuzzer -minimize_crash=1 on build/libfuzzer), kept
#                    only if it keeps the signature
#   repro.trace      `refalloc trace decode --profile=P min` (text targets:
#                    the input itself)
#   signature.txt    class, normalized line, raw line
#   replay.txt       the replay's report
#   README           the exact commands that reproduce it
# A finding already in OUTDIR only gains a count. Prints one line per new
# finding; OUTDIR/index.tsv lists them all.
set -euo pipefail
cd "$(dirname "$0")/.."
. fuzz/lib.sh
t=$1 out=$2; shift 2
mkdir -p "$out"
prof=$(fz_profile "$t")
idx=$out/index.tsv
[ -f "$idx" ] || printf 'id\ttarget\tclass\tsignature\tcount\tfirst_seen\n' >"$idx"
MINTIME=${FUZZ_MINTIME:-60}

ensure_asan() {   # the tool may not link while others edit its files: the -test driver suffices
  fz_bv asan "$FZ_ASAN/fuzz/$t-test" || return 1
  [ -x "$FZ_ASAN/refalloc" ] || fz_bv asan tool 2>/dev/null || true
}
ensure_asan || true

for in in "$@"; do
  [ -s "$in" ] || continue
  sig=$(FZ_SIG_LOG=/dev/null fz_signature "$t" "$in" 2>/dev/null || true)
  key=$(printf '%s' "$sig" | head -1)
  cls=${key%%$'\t'*}
  [ "$cls" = none ] && continue          # does not reproduce outside the fuzzer: counted by the caller
  id=$(fz_sha1 "$t $key")
  d=$out/$id
  if [ -d "$d" ]; then
    awk -F'\t' -v id="$id" 'BEGIN{OFS="\t"} $1==id{$5=$5+1} {print}' "$idx" >"$idx.tmp" && mv "$idx.tmp" "$idx"
    # keep the smallest input of the signature
    if [ "$(stat -c %s "$in")" -lt "$(stat -c %s "$d/input")" ]; then cp "$in" "$d/input"; fi
    continue
  fi
  mkdir -p "$d"
  cp "$in" "$d/input"
  printf '%s\n' "$sig" >"$d/signature.txt"
  # minimize, keeping the signature
  cp "$in" "$d/min"
  if [ -n "$prof" ] || [ "$t" = fuzz_trace_text ]; then
    # afl-tmin when the AFL++ build (no sanitizer) fails on the input too,
    # else libFuzzer's -minimize_crash on the ASan build
    if [ -x "$FZ_AFL/fuzz/$t" ] && command -v afl-tmin >/dev/null &&
       ! (timeout 60 "$FZ_AFL/fuzz/$t" <"$in" >/dev/null 2>&1; exit $?) 2>/dev/null; then
      AFL_QUIET=1 timeout "$MINTIME" afl-tmin -i "$in" -o "$d/min.try" -- "$FZ_AFL/fuzz/$t" >/dev/null 2>&1 || true
    elif [ -x "$FZ_LF/fuzz/$t" ]; then
      lf=$(cd "$FZ_LF/fuzz" && pwd)/$t
      (cd "$d" && ASAN_OPTIONS=detect_leaks=0 timeout "$MINTIME" "$lf" -minimize_crash=1 -runs=100000 \
         -max_total_time=$((MINTIME - 5)) -exact_artifact_path=min.try input >/dev/null 2>&1) || true
    fi
    if [ -s "$d/min.try" ]; then
      msig=$(fz_signature "$t" "$d/min.try" 2>/dev/null | head -1 || true)
      if [ "$msig" = "$key" ]; then mv "$d/min.try" "$d/min"; fi
    fi
    rm -f "$d/min.try"
  fi
  # the text reproducer and its replay
  if [ -n "$prof" ]; then
    tool=build/release/refalloc; [ -x "$tool" ] || tool=$FZ_ASAN/refalloc
    # the decoder is part of what is fuzzed: if it is what fails, say so
    # in the reproducer's place and go on with the other inputs
    drc=0
    "$tool" trace decode --profile="$prof" "$d/min" "$d/repro.trace" 2>"$d/decode.err" || drc=$?
    if [ $drc != 0 ]; then
      printf '# refalloc trace decode failed on this input (exit %s): the decoder is the finding;\n# see decode.err and signature.txt, and run the binary input with the -test driver\n' \
        "$drc" >"$d/repro.trace"
    fi
    (FZ_SIG_LOG=$d/replay.txt fz_signature "$t" "$d/min" >/dev/null 2>&1) || true
    cat >"$d/README" <<EOF
$t finding $id: $(sed -n 1p "$d/signature.txt" | cut -f1)
  $(sed -n 2p "$d/signature.txt")

reproduce (text trace; the engine's view, then the harness's):
  $FZ_ASAN/refalloc replay --fuzz $d/repro.trace
  $FZ_ASAN/fuzz/$t-test $d/repro.trace
the minimized binary input (libFuzzer / AFL++ builds):
  $FZ_LF/fuzz/$t $d/min
  $FZ_AFL/fuzz/$t < $d/min
decode it again: build/release/refalloc trace decode --profile=$prof $d/min
EOF
  else
    cp "$d/min" "$d/repro.trace"
    (FZ_SIG_LOG=$d/replay.txt fz_signature "$t" "$d/min" >/dev/null 2>&1) || true
    cat >"$d/README" <<EOF
$t finding $id: $(sed -n 1p "$d/signature.txt" | cut -f1)
  $(sed -n 2p "$d/signature.txt")

reproduce (the input is a text trace):
  $FZ_ASAN/fuzz/$t-test $d/repro.trace
  $FZ_ASAN/refalloc replay --fuzz $d/repro.trace
EOF
  fi
  printf '%s\t%s\t%s\t%s\t1\t%s\n' "$id" "$t" "$cls" "$(printf '%s' "$key" | cut -f2)" "$(date -u +%FT%TZ)" >>"$idx"
  echo "  new finding $id ($t, $cls): $(sed -n 2p "$d/signature.txt" | cut -c1-150)"
  echo "    reproducer: $d/repro.trace ($(grep -c . "$d/repro.trace") lines; input $(stat -c %s "$d/input") -> $(stat -c %s "$d/min") bytes)"
done
