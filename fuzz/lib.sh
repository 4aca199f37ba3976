# fuzz/lib.sh — shell helpers shared by the fuzz scripts (sourced, not run).
#
# Targets, their binary-trace profiles, libFuzzer options from the
# <target>.options files, the builds the scripts need, and the signature
# of a finding (what deduplicates crashes).

FUZZ_ALL_TARGETS="fuzz_engine fuzz_buddy fuzz_slab fuzz_vmalloc fuzz_umalloc fuzz_trace_text"
FUZZ_JOBS=${FUZZ_JOBS:-$(nproc)}

fz_log() { printf '%s\n' "$*" >&2; }

# Build folders. FZ_MUTANT=n plants mutant n (-DRA_MUTANT=n) in every build a
# campaign or the triage uses, each in its own folder (build/afl-mutant-n,
# ...), to show a planted bug coming back as a reproducer.
FZ_SFX=${FZ_MUTANT:+-mutant-$FZ_MUTANT}
FZ_XCFLAGS=${FZ_MUTANT:+-DRA_MUTANT=$FZ_MUTANT}
FZ_AFL=build/afl$FZ_SFX FZ_CMPLOG=build/cmplog$FZ_SFX FZ_AFLASAN=build/aflasan$FZ_SFX
FZ_LF=build/libfuzzer$FZ_SFX FZ_ASAN=build/asan$FZ_SFX
# fz_bv VARIANT GOAL...: build a variant into its (possibly mutant) folder
fz_bv() {
  local v=$1; shift
  case $v in
    afl) fz_build V=afl B="$FZ_AFL" EXTRA_CFLAGS="$FZ_XCFLAGS" "$@";;
    cmplog) fz_build V=cmplog B="$FZ_CMPLOG" EXTRA_CFLAGS="$FZ_XCFLAGS" "$@";;
    aflasan) fz_build fuzz-aflasan AFLASAN_B="$FZ_AFLASAN" EXTRA_CFLAGS="$FZ_XCFLAGS";;
    libfuzzer) fz_build V=libfuzzer B="$FZ_LF" EXTRA_CFLAGS="$FZ_XCFLAGS" "$@";;
    asan) fz_build V=asan B="$FZ_ASAN" EXTRA_CFLAGS="$FZ_XCFLAGS" "$@";;
  esac
}

# profile of a target's binary encoding; empty for the text target
fz_profile() { case $1 in fuzz_trace_text) echo "";; *) echo "${1#fuzz_}";; esac; }

# libFuzzer flags from fuzz/<target>.options ([libfuzzer] section); the dict
# is the file beside it in fuzz/.
fz_lf_opts() {
  local t=$1 f=fuzz/$1.options sect="" k v
  [ -f "$f" ] || return 0
  while IFS= read -r line; do
    line=${line%%#*}
    case $line in
      \[*\]) sect=${line//[\[\] ]/}; continue;;
      *=*) [ "$sect" = libfuzzer ] || continue
           k=$(echo "${line%%=*}" | tr -d ' '); v=$(echo "${line#*=}" | tr -d ' ')
           [ "$k" = dict ] && v=fuzz/$v
           printf -- '-%s=%s\n' "$k" "$v";;
    esac
  done <"$f"
}

# the value of one option (max_len, ...) of a target
fz_lf_opt() { fz_lf_opts "$1" | sed -n "s/^-$2=//p" | head -1; }

# build one variant's pieces quietly; $1 = variant args, rest = goals
fz_build() {
  local log; log=$(mktemp)
  if ! make --no-print-directory -f mk/build.mk -j"$FUZZ_JOBS" "$@" >"$log" 2>&1; then
    fz_log "fuzz: build failed: make -f mk/build.mk $*"; tail -20 "$log" >&2; rm -f "$log"; return 1
  fi
  rm -f "$log"
}

# A crash input's signature: failure class and the first line that names the
# failure, with numbers, addresses and handle names taken out so the same bug
# found through different inputs compares equal. Prints two lines:
#   CLASS<TAB>NORMALIZED-LINE
#   the raw line
# Replays with the ASan tool ($FZ_ASAN/refalloc replay --fuzz) on the
# decoded trace; for fuzz_trace_text, or if the tool is not built, with the
# ASan -test driver of the target (the target's own abort message).
fz_signature() {
  local t=$1 in=$2 work; work=$(mktemp -d)
  local prof; prof=$(fz_profile "$t")
  local out=$work/out rc=0
  if [ -n "$prof" ] && [ -x $FZ_ASAN/refalloc ]; then
    $FZ_ASAN/refalloc trace decode --profile="$prof" "$in" "$work/t.trace" 2>/dev/null
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:symbolize=1 UBSAN_OPTIONS=print_stacktrace=1 \
      timeout 120 $FZ_ASAN/refalloc replay --fuzz "$work/t.trace" >/dev/null 2>"$out" || rc=$?
  elif [ -x "$FZ_ASAN/fuzz/$t-test" ]; then
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
      timeout 120 "$FZ_ASAN/fuzz/$t-test" "$in" >"$work/stdout" 2>"$out" || rc=$?
    cat "$work/stdout" >>"$out"
  else
    fz_log "fuzz: no $FZ_ASAN/refalloc nor $FZ_ASAN/fuzz/$t-test to replay with"; rc=99
  fi
  # the harness's own properties (oom-victim, spurious-fail) are not the
  # tool's: when its replay shows nothing, the ASan -test driver (the
  # harness) replays the input too
  if [ -n "$prof" ] && [ -x "$FZ_ASAN/fuzz/$t-test" ] &&
     ! grep -q -E 'AddressSanitizer|runtime error|engine bug|^BUG: refalloc: (invariant|oracle):|invariants broken' "$out"; then
    local rc2=0
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
      timeout 120 "$FZ_ASAN/fuzz/$t-test" "$in" >"$work/stdout" 2>>"$out" || rc2=$?
    [ $rc2 -ne 0 ] && rc=$rc2
  fi
  local cls line
  if line=$(grep -m1 -E 'ERROR: AddressSanitizer: [a-z-]+' "$out"); then
    cls="asan:$(echo "$line" | sed -E 's/.*AddressSanitizer: ([a-zA-Z-]+).*/\1/')"
    # the top frame in our code names the spot
    local fr; fr=$(grep -m1 -E '^ *#[0-9]+ .* in [a-z_]+' "$out" | grep -v -E ' in (__|_asan|malloc|free|calloc|realloc|mem|str)' |
                   sed -E 's/.* in ([A-Za-z0-9_]+) ([^ ]*\/)?([^/ :]+):?([0-9]*).*/\1 \3/' || true)
    [ -z "$fr" ] && fr=$(grep -E '^ *#[0-9]+ ' "$out" | grep -v -E ' in (__|_asan|malloc|free|calloc|realloc|mem|str)' | head -1 |
                         sed -E 's/.* in ([A-Za-z0-9_]+).*/\1/')
    line="$line | $fr"
  elif line=$(grep -m1 -E 'runtime error:' "$out"); then
    cls=ubsan
  elif line=$(grep -m1 -E 'refalloc: engine bug at' "$out"); then
    cls=assertion
  elif line=$(grep -m1 -E '^BUG: refalloc: (invariant|oracle|harness):' "$out"); then
    cls=$(echo "$line" | sed -E 's/^BUG: refalloc: ([a-z]+):.*/\1/')
  elif line=$(grep -m1 -E 'end of trace: invariants broken|invariants broken' "$out"); then
    cls=invariant
    # the validator's own words (a heap check reports as heap corruption)
    # name the problem better than the count
    local what
    what=$(grep -m1 -E '^BUG: refalloc: ' "$out" || true)
    [ -n "$what" ] && line=$what
  elif line=$(grep -m1 -E '^fuzz_trace_text: ' "$out"); then
    cls=parser
  elif line=$(grep -m1 -E 'refalloc fuzz: .*finding' "$out"); then
    cls=finding
  elif [ $rc -eq 124 ]; then
    cls=timeout; line="replay did not finish in 120 s"
  elif [ $rc -ge 128 ] || [ $rc -eq 70 ] || [ $rc -eq 2 ]; then
    cls=crash; line="replay exit $rc: $(grep -m1 -v '^$' "$out" || true)"
  else
    cls=none; line="does not reproduce (replay exit $rc)"
  fi
  local norm
  line=${line//$work\/t.trace/repro.trace}
  norm=$(printf '%s' "$line" | sed -E \
      -e 's/ at pc 0x[0-9a-f]+ bp 0x[0-9a-f]+ sp 0x[0-9a-f]+//' \
      -e 's/\([^()]*:[0-9]+\)//g' -e 's/0x[0-9a-fA-F]+/#/g' -e "s/'[^']*'/'?'/g" \
      -e 's/==[0-9]+==//g' -e 's/\b(pid|thread|T)[ :]?[0-9]+/\1?/g' -e 's/[0-9]+/N/g' -e 's/[[:space:]]+/ /g' -e 's/ +$//')
  printf '%s\t%s\n%s\n' "$cls" "$norm" "$line"
  cp "$out" "${FZ_SIG_LOG:-/dev/null}" 2>/dev/null || true
  rm -rf "$work"
}

# sha1 of a string (a signature's id)
fz_sha1() { printf '%s' "$1" | sha1sum | cut -c1-12; }
