#!/usr/bin/env bash
# fuzz/campaign.sh — `make fuzz-campaign`: a long, parallel, resumable run.
#
#   fuzz/campaign.sh        env: DURATION=8h JOBS=$(nproc) ENGINE=afl|libfuzzer|both
#                                TARGETS="fuzz_engine ..." CAMPAIGN=name STATUS_EVERY=10
#   fuzz/campaign.sh --report     triage and report only (the campaign named by CAMPAIGN)
#   FZ_MUTANT=n                    plant mutant n (fuzz/selftest.sh's list) in every build
#
# Targets take turns: each gets DURATION / (number of targets) of all JOBS
# cores (give TARGETS=fuzz_engine to spend the night on one). During a
# target's turn:
#   AFL++      instance 0 is the main (-M main), 1 a CMPLOG secondary
#              (-c build/cmplog/...), 2 a sanitizer secondary (the ASan
#              build in build/aflasan), 3.. secondaries with power
#              schedules fast, explore, coe, rare, exploit, lin, quad;
#              all in one sync dir out/fuzz/<campaign>/afl/<target>/.
#   libFuzzer  one -fork=N process (the ASan+UBSan build) on the corpus
#              out/fuzz/<campaign>/lf/<target>/corpus, crashes ignored and
#              kept as artifacts so the run goes on.
#   both       half the jobs each; the AFL++ main imports libFuzzer's corpus
#              (-F) and libFuzzer reads AFL++'s queue at start.
# A status line (afl-whatsup style) is printed every STATUS_EVERY seconds
# and appended to status.log; cov.tsv keeps coverage over time.
#
# Resumable: state/<target>.done holds the seconds each target has had. Run
# the same command again (same CAMPAIGN) after a stop, a kill -9 or a
# reboot: finished targets are skipped, the current one resumes where it
# was (AFL_AUTORESUME keeps the queue; earlier crashes/ become crashes.<date>;
# libFuzzer's corpus and artifacts are files), stale instances of the old
# run are stopped first. At the end every crash is triaged (fuzz/triage.sh:
# signature, dedup, minimization, text reproducer) and fuzz/report.py
# writes report.md, report.json and cov.png.
set -euo pipefail
cd "$(dirname "$0")/.."
. fuzz/lib.sh

report_only=0
[ "${1:-}" = --report ] && report_only=1
CAMPAIGN=${CAMPAIGN:-campaign}
C=out/fuzz/$CAMPAIGN
mkdir -p "$C/state" "$C/run" "$C/findings"
if [ -f "$C/campaign.env" ]; then
  # a resumed campaign keeps its parameters
  . "$C/campaign.env"
  resumed=1
  . fuzz/lib.sh     # the build folders follow the campaign's FZ_MUTANT
else
  DURATION=${DURATION:-8h} JOBS=${JOBS:-$(nproc)} ENGINE=${ENGINE:-afl} TARGETS=${TARGETS:-$FUZZ_ALL_TARGETS}
  printf 'DURATION="%s"\nJOBS="%s"\nENGINE="%s"\nTARGETS="%s"\nSTARTED="%s"\nFZ_MUTANT="%s"\n' "$DURATION" "$JOBS" \
    "$ENGINE" "$(echo $TARGETS)" "$(date -u +%FT%TZ)" "${FZ_MUTANT:-}" >"$C/campaign.env"
  resumed=0
fi
STATUS_EVERY=${STATUS_EVERY:-10}
secs() { case $1 in *h) echo $(( ${1%h} * 3600 ));; *m) echo $(( ${1%m} * 60 ));; *s) echo "${1%s}";; *) echo "$1";; esac; }
TOTAL=$(secs "$DURATION")
read -r -a TL <<<"$TARGETS"
PER=$(( TOTAL / ${#TL[@]} ))
case $ENGINE in
  afl) NAFL=$JOBS NLF=0;;
  libfuzzer) NAFL=0 NLF=$JOBS;;
  both) NAFL=$(( (JOBS + 1) / 2 )) NLF=$(( JOBS / 2 ));;
  *) echo "campaign: ENGINE must be afl, libfuzzer or both" >&2; exit 64;;
esac
[ "$JOBS" -ge 1 ] || { echo "campaign: JOBS must be >= 1" >&2; exit 64; }
log() { echo "$*" | tee -a "$C/status.log"; }
hms() { printf '%02d:%02d:%02d' $(( $1 / 3600 )) $(( $1 % 3600 / 60 )) $(( $1 % 60 )); }

# === instances ============================================================

# Each instance runs in its own process group (setsid), recorded by id in
# run/*.pid: stopping a group reaches the fuzzer's children too (AFL++'s
# fork server and persistent-mode child, libFuzzer's fork-mode jobs), also
# after a kill -9 of this script or of the fuzzer left them orphaned.
ours() {   # pgid: does the group still run something of this campaign?
  local p
  for p in $(pgrep -g "$1" 2>/dev/null); do
    tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -q -E -- "$C/|build/[a-z-]*/fuzz/fuzz_" && return 0
  done
  return 1
}
stop_recorded() {
  local sig=${1:-INT} f pg
  for f in "$C"/run/*.pid; do
    [ -e "$f" ] || continue
    pg=$(cat "$f")
    ours "$pg" && kill "-$sig" -- "-$pg" 2>/dev/null || true
  done
}
wait_recorded() {
  local t0=$SECONDS f alive
  while :; do
    alive=0
    for f in "$C"/run/*.pid; do [ -e "$f" ] && ours "$(cat "$f")" && alive=1; done
    [ $alive = 0 ] && break
    if [ $((SECONDS - t0)) -ge 20 ]; then stop_recorded KILL; sleep 1; break; fi
    sleep 1
  done
  rm -f "$C"/run/*.pid
}

SCHEDS=(fast explore coe rare exploit lin quad)
start_afl() {   # target seconds
  local t=$1 left=$2 k name bin extra dir=$C/afl/$1
  mkdir -p "$dir"
  for ((k = 0; k < NAFL; k++)); do
    bin=$FZ_AFL/fuzz/$t extra=()
    if [ $k = 0 ]; then name=main; extra=(-M main)
      [ "$ENGINE" = both ] && extra+=(-F "$C/lf/$t/corpus")
    elif [ $k = 1 ]; then name=cmplog; extra=(-S cmplog -c "$FZ_CMPLOG/fuzz/$t")
    elif [ $k = 2 ]; then name=asan; extra=(-S asan -m none); bin=$FZ_AFLASAN/fuzz/$t
    else name=s$k; extra=(-S "s$k" -p "${SCHEDS[$(( (k - 3) % ${#SCHEDS[@]} ))]}")
    fi
    AFL_AUTORESUME=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 \
    AFL_SKIP_CRASHES=1 AFL_NO_WARN_INSTABILITY=1 AFL_IMPORT_FIRST=1 AFL_CMPLOG_ONLY_NEW=1 \
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:symbolize=0 \
      setsid nohup afl-fuzz -i "corpus/$t" -o "$dir" "${extra[@]}" -V "$left" -x "fuzz/$t.dict" -- "$bin" \
        >>"$C/run/$t-$name.log" 2>&1 </dev/null &
    echo $! >"$C/run/$t-afl-$name.pid"
  done
}
start_lf() {
  local t=$1 left=$2 dir=$C/lf/$1 opts
  mkdir -p "$dir/corpus" "$dir/artifacts"
  [ -n "$(ls -A "$dir/corpus")" ] || cp corpus/"$t"/* "$dir/corpus/" 2>/dev/null || true
  mapfile -t opts < <(fz_lf_opts "$t")
  local more=()
  [ "$ENGINE" = both ] && [ -d "$C/afl/$t/main/queue" ] && more=("$C/afl/$t/main/queue")
  ASAN_OPTIONS=detect_leaks=0 setsid nohup "$FZ_LF/fuzz/$t" "${opts[@]}" -fork="$NLF" -ignore_crashes=1 \
    -ignore_timeouts=1 -ignore_ooms=1 -max_total_time="$left" -artifact_prefix="$dir/artifacts/" \
    "$dir/corpus" "${more[@]}" >>"$dir/log" 2>&1 </dev/null &
  echo $! >"$C/run/$t-lf.pid"
}

# === status ===============================================================

# AFL++: sum of execs and execs/s over instances, the best edge count, the
# main's corpus, crashes over every instance (resumed runs included). Live
# numbers come from plot_data (written every 5 s; fuzzer_stats only every
# minute), total_edges from fuzzer_stats.
afl_stats() {
  local dir=$C/afl/$1 f last
  local execs=0 eps=0 edges=0 total=0 corpus=0 crashes=0 inst=0
  for f in "$dir"/*/plot_data; do
    [ -e "$f" ] || continue
    inst=$((inst + 1)) e=0 s=0 g=0 q=0 rt=0
    last=$(grep -v '^#' "$f" | tail -1 | tr -d ' ' || true)
    if [ -n "$last" ]; then
      IFS=, read -r rt _ _ q _ _ _ _ _ _ s e g <<<"$last"
      # AFL++'s own figure is the speed of the last stretch, and the first
      # one after the dry run of a big corpus is absurd (millions of
      # execs/s): the run's average, execs over its seconds, instead
      [ "${rt:-0}" -gt 0 ] 2>/dev/null && s=$(( ${e:-0} / rt ))
    else   # no plot line yet: the first fuzzer_stats
      eval "$(awk -F' *: *' '$1=="execs_done"{print "e="$2} $1=="run_time"{print "rt="$2}
              $1=="edges_found"{print "g="$2} $1=="corpus_count"{print "q="$2}' "${f%plot_data}fuzzer_stats" 2>/dev/null)"
      s=0
      [ "${rt:-0}" -gt 0 ] 2>/dev/null && s=$(( ${e:-0} / rt ))
    fi
    execs=$((execs + ${e:-0})); eps=$(awk -v a="$eps" -v b="${s:-0}" 'BEGIN{printf "%.0f", a + b}')
    [ "${g:-0}" -gt "$edges" ] && edges=$g
    [ "$(basename "$(dirname "$f")")" = main ] && corpus=${q:-0}
  done
  total=$(awk -F' *: *' '$1=="total_edges"{print $2}' "$dir"/main/fuzzer_stats 2>/dev/null || true)
  crashes=$(find "$dir" -path '*/crashes*/id:*' 2>/dev/null | wc -l)
  echo "$inst $execs $eps $edges ${total:-0} $corpus $crashes"
}
# libFuzzer fork mode: "#N: cov: C ft: F corp: K exec/s: E oom/timeout/crash: a/b/c time: T job: J"
lf_stats() {
  local dir=$C/lf/$1 last
  last=$(grep -aE '^#[0-9]+' "$dir/log" 2>/dev/null | tail -1 || true)
  local n cov ft eps
  n=$(echo "$last" | sed -nE 's/^#([0-9]+).*/\1/p'); cov=$(echo "$last" | sed -nE 's/.* cov: ([0-9]+).*/\1/p')
  ft=$(echo "$last" | sed -nE 's/.* ft: ([0-9]+).*/\1/p'); eps=$(echo "$last" | sed -nE 's/.* exec\/s:? ([0-9]+).*/\1/p')
  local corpus crashes prev
  corpus=$(find "$dir/corpus" -type f 2>/dev/null | wc -l)
  crashes=$(find "$dir/artifacts" -type f -name 'crash-*' 2>/dev/null | wc -l)
  prev=$(cat "$C/state/$1.lfexecs" 2>/dev/null || echo 0)
  echo "$(( prev + ${n:-0} )) ${eps:-0} ${cov:-0} ${ft:-0} $corpus $crashes ${n:-0}"
}

status() {   # target index done left
  local t=$1 i=$2 done=$3 left=$4 line="" a l
  line="[$(hms $(( $(cat "$C/state/elapsed" 2>/dev/null || echo 0) )))] $t ($i/${#TL[@]})"
  local edges=0 corpus=0 execs=0 eps=0 crashes=0
  if [ "$NAFL" -gt 0 ]; then
    read -r -a a <<<"$(afl_stats "$t")"
    line+=" | afl x${a[0]}: ${a[2]} execs/s, ${a[1]} execs, edges ${a[3]}/${a[4]}, corpus ${a[5]}, crashes ${a[6]}"
    edges=${a[3]} corpus=${a[5]} execs=${a[1]} eps=${a[2]} crashes=${a[6]}
  fi
  if [ "$NLF" -gt 0 ]; then
    read -r -a l <<<"$(lf_stats "$t")"
    line+=" | libfuzzer -fork=$NLF: ${l[1]} execs/s, ${l[0]} execs, cov ${l[2]} ft ${l[3]}, corpus ${l[4]}, crashes ${l[5]}"
    execs=$((execs + l[0])); eps=$((eps + l[1])); crashes=$((crashes + l[5]))
    [ "$NAFL" = 0 ] && edges=${l[2]} corpus=${l[4]}
  fi
  line+=" | $(hms "$left") left"
  log "$line"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(cat "$C/state/elapsed" 2>/dev/null || echo 0)" "$t" "$ENGINE" \
    "$edges" "${l[2]:-0}" "$corpus" "$execs" "$eps" "$crashes" >>"$C/cov.tsv"
  printf 'engine=%s\nexecs=%s\nexecs_per_sec=%s\nedges=%s\ntotal_edges=%s\nlf_cov=%s\nlf_ft=%s\ncorpus=%s\ncrashes=%s\nseconds=%s\n' \
    "$ENGINE" "$execs" "$eps" "$edges" "${a[4]:-0}" "${l[2]:-0}" "${l[3]:-0}" "$corpus" "$crashes" "$done" >"$C/state/$t.stats"
}

# === triage and report ====================================================

finish() {
  log "==> triage: deduplicating, minimizing and decoding every crash"
  for t in "${TL[@]}"; do
    mapfile -t cr < <(find "$C/afl/$t" -path '*/crashes*/id:*' 2>/dev/null; find "$C/lf/$t/artifacts" -name 'crash-*' 2>/dev/null)
    [ ${#cr[@]} -gt 0 ] || continue
    log "    $t: ${#cr[@]} crash input(s)"
    fuzz/triage.sh "$t" "$C/findings" "${cr[@]}" 2>&1 | tee -a "$C/status.log" || true
  done
  python3 fuzz/report.py "$C" | tee -a "$C/status.log"
}

if [ $report_only = 1 ]; then finish; exit 0; fi

# === the run ==============================================================

stopping=0
on_signal() { stopping=1; }
trap on_signal INT TERM

log "==> campaign $CAMPAIGN ($C): $([ $resumed = 1 ] && echo resumed || echo new); DURATION=$DURATION ($TOTAL s, $PER s per target) JOBS=$JOBS ENGINE=$ENGINE"
log "    targets: ${TL[*]}"
stop_recorded INT; wait_recorded
log "==> building"
[ -n "${FZ_MUTANT:-}" ] && log "    planted: mutant $FZ_MUTANT (-DRA_MUTANT=$FZ_MUTANT) in every build ($FZ_AFL, ...)"
fz_bv afl lib fuzz-bins     # afl-tmin minimizes with it
[ "$NAFL" -ge 2 ] && fz_bv cmplog lib fuzz-bins
[ "$NAFL" -ge 3 ] && fz_bv aflasan
fz_bv libfuzzer lib fuzz-bins
fz_build V=release lib tool
fz_bv asan fuzz-tests
fz_bv asan tool 2>/dev/null || true
[ -f "$C/cov.tsv" ] || printf 'elapsed\ttarget\tengine\tedges\tlf_cov\tcorpus\texecs\texecs_per_sec\tcrashes\n' >"$C/cov.tsv"

i=0
for t in "${TL[@]}"; do
  i=$((i + 1))
  [ $stopping = 1 ] && break
  done_s=$(cat "$C/state/$t.done" 2>/dev/null || echo 0)
  left=$((PER - done_s))
  if [ $left -le 0 ]; then log "--> $t: done earlier ($done_s s)"; continue; fi
  [ -f "$C/state/$t.seeds" ] || ls "corpus/$t" | wc -l >"$C/state/$t.seeds"
  log "--> $t: $([ "$done_s" -gt 0 ] && echo "resuming after $done_s s" || echo starting), $left s: afl x$NAFL, libfuzzer x$NLF"
  # libFuzzer's exec count restarts with each process: keep the earlier runs'
  if [ "$NLF" -gt 0 ] && [ -f "$C/lf/$t/log" ]; then
    read -r -a l <<<"$(lf_stats "$t")"; echo "${l[0]}" >"$C/state/$t.lfexecs"; mv "$C/lf/$t/log" "$C/lf/$t/log.$(date +%s)"
  fi
  [ "$NAFL" -gt 0 ] && start_afl "$t" "$left"
  [ "$NLF" -gt 0 ] && start_lf "$t" "$left"
  last=$(date +%s)
  while [ $stopping = 0 ]; do
    sleep "$STATUS_EVERY" || true
    now=$(date +%s); d=$((now - last)); last=$now
    done_s=$((done_s + d)); echo "$done_s" >"$C/state/$t.done"
    echo $(( $(cat "$C/state/elapsed" 2>/dev/null || echo 0) + d )) >"$C/state/elapsed"
    left=$((PER - done_s))
    status "$t" "$i" "$done_s" "$((left > 0 ? left : 0))"
    alive=0
    for f in "$C"/run/*.pid; do [ -e "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && alive=1; done   # the fuzzers themselves
    [ $left -le 0 ] || [ $alive = 0 ] && break
  done
  stop_recorded INT; wait_recorded
  [ $stopping = 1 ] || echo "$PER" >"$C/state/$t.done"
done
if [ $stopping = 1 ]; then log "==> stopped: run the same command again to resume"; fi
finish
