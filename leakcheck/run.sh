#!/usr/bin/env bash
# leakcheck/run.sh — `make leakcheck`: independent detectors must agree.
#
#   1. leaks:   every corpus/leak trace under the engine's own report
#               (--leaks=report), Valgrind memcheck and the ASan build's
#               LeakSanitizer (--twins); each must find exactly the leaks
#               the trace's "# expect-leaks: BLOCKS BYTES" line states.
#   2. misuse:  every corpus/misuse trace under the ASan build (the report
#               must name "# expect-asan: LINE") and under the engine's own
#               debug checks (release build with ENGINE_DEBUG below: the
#               first finding must be "# expect-engine: LINE CLASS").
#   3. clean:   the harness itself: the whole regression corpus and every
#               fuzz target's corpus through the ASan+UBSan build and
#               through Valgrind memcheck: no errors, no leaks of the
#               engine, the tool or the drivers (the trace's own leaked
#               objects are the leak table's business: under Valgrind they
#               are suppressed by leakcheck/trace-objects.supp and must add
#               up to the engine's leak report instead).
#   4. examples: leakcheck/examples/check.sh, if it exists (real programs
#               under LD_PRELOAD=librefalloc_malloc.so against Valgrind).
#
# usage: leakcheck/run.sh [--fast] [--no-build] [-j N]
#   --fast      the subset ci/test.d/leak.sh runs in `make test`: leak and
#               misuse corpora under the engine and ASan/LSan, a few leak
#               traces and a sample of the regression corpus under Valgrind
#   --no-build  use the binaries in build/release and build/asan as they are
#   -j N        parallel jobs (default: nproc)
# Exit status: 0 when every table agrees and every stage is clean.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
SELF="$ROOT/leakcheck/run.sh"
REL="$ROOT/build/release/refalloc"
ASN="$ROOT/build/asan/refalloc"
SUPP="$ROOT/leakcheck/trace-objects.supp"
# The engine's debug configuration for the misuse table: slub_debug on every
# cache, free pages out of the direct map, glibc's MALLOC_PERTURB_.
ENGINE_DEBUG=(--slub-debug=FZPU --set debug_pagealloc=1 --set M_PERTURB=0x6b)
VG=(valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99)
mapfile -t FUZZ_TARGETS < <(awk '$1 !~ /^#/ && NF { print $1 }' "$ROOT/fuzz/targets")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

# === Workers: one result line each (TAB-separated), run in parallel ======

commas() { sed -E ':a; s/^([0-9]+)([0-9]{3})/\1,\2/; ta' <<<"$1"; }

# "BLOCKS BYTES" from a Valgrind log ("0 0" when it found nothing)
vg_definite() {
	local l
	l=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes in \([0-9,]*\) blocks.*/\2 \1/p' "$1" | tail -1 | tr -d ,)
	echo "${l:-0 0}"
}
vg_field() {  # vg_field LOG "possibly lost" -> "BLOCKS BYTES"
	local l
	l=$(sed -n "s/.*$2: \([0-9,]*\) bytes in \([0-9,]*\) blocks.*/\2 \1/p" "$1" | tail -1 | tr -d ,)
	echo "${l:-0 0}"
}
# error contexts that are not leak records; KINDS: the leak kinds Valgrind
# counted as errors (its --errors-for-leak-kinds), as a grep alternation
vg_other_errors() {  # vg_other_errors LOG [KINDS]
	local ctx leaks
	ctx=$(sed -n 's/.*ERROR SUMMARY: [0-9,]* errors from \([0-9,]*\) contexts.*/\1/p' "$1" | tail -1 | tr -d ,)
	leaks=$(grep -c "are \(${2:-definitely}\) lost in loss record" "$1")
	echo $(( ${ctx:-0} - leaks ))
}

worker_leak() {  # worker_leak TRACE
	local t=$1 n tmp exp lsan_exp eng vg lsan ok=1 notes=()
	n=$(basename "$t" .trace)
	tmp=$(mktemp -d)
	exp=$(sed -n 's/^# expect-leaks: *\([0-9]*\) *\([0-9]*\).*/\1 \2/p' "$t" | head -1)
	lsan_exp=$(sed -n 's/^# expect-lsan-bytes: *\([0-9]*\).*/\1/p' "$t" | head -1)
	if [ -z "$exp" ]; then
		printf '%s\t-\t-\t-\t-\tFAIL\tno "# expect-leaks: BLOCKS BYTES" line\n' "$n"; rm -rf "$tmp"; return
	fi
	cd "$(dirname "$t")" || return
	local f; f=$(basename "$t")
	# the engine's own report
	"$REL" replay --leaks=report "$f" >"$tmp/eng.out" 2>"$tmp/eng.err"
	local erc=$?
	eng=$(sed -n 's/^LEAK SUMMARY: definitely lost: \([0-9,]*\) bytes in \([0-9,]*\) blocks/\2 \1/p' "$tmp/eng.out" | tail -1 | tr -d ,)
	[ $erc = 0 ] || { ok=0; notes+=("engine replay exit $erc: $(head -1 "$tmp/eng.err")"); }
	# Valgrind: the tool's own exit is 0; Valgrind's is 99 when it counted a leak
	if [ -z "${NO_VALGRIND:-}" ]; then
		# Valgrind's lost figure is definitely + possibly lost: a block no
		# pointer to whose start survives. A possibly lost one has some word
		# pointing inside it, and under Valgrind ld.so's relocate_time (a
		# cycle count) falls in the range of its heap now and then
		# (leakcheck/README.md); noted, not a disagreement.
		"${VG[@]}" --errors-for-leak-kinds=definite,possible --log-file="$tmp/vg.log" "$REL" replay "$f" \
			>/dev/null 2>"$tmp/vg.err"
		local vrc=$? want=0
		local dl pl; dl=$(vg_definite "$tmp/vg.log"); pl=$(vg_field "$tmp/vg.log" "possibly lost")
		vg="$(( ${dl%% *} + ${pl%% *} )) $(( ${dl##* } + ${pl##* } ))"
		[ "$pl" = "0 0" ] || notes+=("valgrind: $(fmt_bb "$pl") possibly lost, counted as lost")
		[ "${exp%% *}" != 0 ] && want=99
		[ $vrc = $want ] || { ok=0; notes+=("valgrind exit $vrc, expected $want"); }
		local other; other=$(vg_other_errors "$tmp/vg.log" 'definitely\|possibly')
		[ "$other" = 0 ] || { ok=0; notes+=("valgrind: $other non-leak error contexts"); }
	else
		vg="skip"
	fi
	# LeakSanitizer through host-heap twins: exit 0, or 23 when it found leaks
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=exitcode=23 "$ASN" replay --twins "$f" >/dev/null 2>"$tmp/lsan.err"
	local lrc=$?
	lsan=$(sed -n 's/^SUMMARY: AddressSanitizer: \([0-9]*\) byte(s) leaked in \([0-9]*\) allocation(s)\./\2 \1/p' "$tmp/lsan.err" | tail -1)
	lsan=${lsan:-0 0}
	if grep -q "ERROR: AddressSanitizer\|runtime error:" "$tmp/lsan.err"; then
		ok=0; notes+=("ASan/UBSan error in the --twins run")
	elif [ $lrc != "$( [ "${exp%% *}" = 0 ] && echo 0 || echo 23)" ]; then
		ok=0; notes+=("asan replay exit $lrc (LeakSanitizer's is 23)")
	fi
	local exp_l="${exp%% *} ${lsan_exp:-${exp##* }}"
	[ "$eng" = "$exp" ] || ok=0
	[ "$vg" = skip ] || [ "$vg" = "$exp" ] || ok=0
	[ "$lsan" = "$exp_l" ] || ok=0
	local fmt_l
	fmt_l=$(fmt_bb "$lsan")
	[ -n "$lsan_exp" ] && fmt_l="$fmt_l (+1/zero-size block)"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$(fmt_bb "$exp")" "$(fmt_bb "${eng:-none}")" \
		"$( [ "$vg" = skip ] && echo skipped || fmt_bb "$vg")" "$fmt_l" "$( [ $ok = 1 ] && echo yes || echo NO)" \
		"$(IFS=';'; echo "${notes[*]:-}")"
	rm -rf "$tmp"
}
fmt_bb() { [ "$1" = none ] && { echo none; return; }; echo "$(commas "${1%% *}") / $(commas "${1##* }")"; }

worker_misuse() {  # worker_misuse TRACE
	local t=$1 n tmp ok=1 notes=()
	n=$(basename "$t" .trace)
	tmp=$(mktemp -d)
	cd "$(dirname "$t")" || return
	local f; f=$(basename "$t")
	local ea ee eline eclass ebyte
	ea=$(sed -n 's/^# expect-asan: *\([0-9]*\).*/\1/p' "$f" | head -1)
	ee=$(sed -n 's/^# expect-engine: *//p' "$f" | head -1)
	read -r eline eclass ebyte <<<"$ee"
	if [ -z "$ea" ] || [ -z "$eclass" ]; then
		printf '%s\t-\t-\tFAIL\tneeds "# expect-asan: LINE" and "# expect-engine: LINE CLASS"\n' "$n"; rm -rf "$tmp"; return
	fi
	# ASan: the report names the trace line
	ASAN_OPTIONS=detect_leaks=0 "$ASN" replay "$f" >/dev/null 2>"$tmp/asan.err"
	local arc=$? acol
	local kind line
	kind=$(sed -n 's/.*ERROR: AddressSanitizer: \([a-z-]*\).*/\1/p' "$tmp/asan.err" | head -1)
	line=$(sed -n "s/^refalloc: AddressSanitizer report while replaying $f:\([0-9]*\)$/\1/p" "$tmp/asan.err" | head -1)
	if [ -n "$kind" ] && [ "$line" = "$ea" ] && [ $arc != 0 ]; then
		acol="$kind (line $line)"
	else
		ok=0; acol="${kind:-not caught}${line:+ (line $line)}"
		notes+=("ASan: expected a report at line $ea, exit $arc")
	fi
	# the engine's own checks
	"$REL" replay "${ENGINE_DEBUG[@]}" "$f" >"$tmp/eng.out" 2>"$tmp/eng.err"
	local erc=$? ecol
	if [ "$eclass" = poison-read ]; then
		# a read cannot be refused: the bytes it returns are the finding
		local dump
		dump=$(sed -n 's/^[0-9a-f]\{16\}: //p' "$tmp/eng.out")
		if [ -n "$dump" ] && [ -z "$(tr ' ' '\n' <<<"$dump" | grep -v "^$ebyte\$" | grep .)" ] && \
		   ! grep -q "^BUG: refalloc" "$tmp/eng.err"; then
			ecol="reads poison 0x$ebyte (line $eline)"
		else
			ok=0; ecol="no poison read"; notes+=("engine: the peek at line $eline did not return 0x$ebyte only")
		fi
	else
		local bug
		bug=$(grep -m1 "^BUG: refalloc: " "$tmp/eng.err")
		if [[ "$bug" == "BUG: refalloc: $eclass in "*"($f:$eline)" ]] && [ $erc = 1 ]; then
			ecol="$eclass (line $eline)"
		else
			ok=0; ecol="${bug:+$(sed 's/^BUG: refalloc: \([a-z-]*\) .*(.*:\([0-9]*\))$/\1 (line \2)/' <<<"$bug")}"
			ecol=${ecol:-not caught}; notes+=("engine: expected $eclass at line $eline, exit $erc")
		fi
	fi
	printf '%s\t%s\t%s\t%s\t%s\n' "$n" "$acol" "$ecol" "$( [ $ok = 1 ] && echo yes || echo NO)" \
		"$(IFS=';'; echo "${notes[*]:-}")"
	rm -rf "$tmp"
}

# harness-clean, one regression trace: STAGE TRACE
worker_clean_regress() {
	local mode=$1 t=$2 n tmp want rc
	n=$(basename "$t")
	tmp=$(mktemp -d)
	cd "$ROOT/corpus/regression" || return
	want=$(sed -n 's/^# exit: *\([0-9]*\).*/\1/p' "$n" | head -1); want=${want:-0}
	if [ "$mode" = asan ]; then
		ASAN_OPTIONS=detect_leaks=1 "$ASN" replay --check=full "$n" >/dev/null 2>"$tmp/err"
		rc=$?
		if grep -q "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" "$tmp/err"; then
			printf '%s\tFAIL\t%s\n' "$n" "$(grep -m1 "ERROR: \|runtime error:" "$tmp/err")"
		elif [ "$rc" != "$want" ]; then
			printf '%s\tFAIL\texit %s, expected %s\n' "$n" "$rc" "$want"
		else
			printf '%s\tok\t\n' "$n"
		fi
	else
		# the tool's own exit code is the trace's (0, 1 or 2); Valgrind's is 99
		"${VG[@]}" --suppressions="$SUPP" --log-file="$tmp/vg.log" "$REL" replay --leaks=report "$n" \
			>"$tmp/out" 2>"$tmp/err"
		rc=$?
		local eng sup other
		other=$(vg_other_errors "$tmp/vg.log")
		eng=$(sed -n 's/^LEAK SUMMARY: definitely lost: \([0-9,]*\) bytes in \([0-9,]*\) blocks/\2 \1/p' "$tmp/out" | tail -1 | tr -d ,)
		sup=$(vg_field "$tmp/vg.log" "suppressed")
		if [ $rc = 70 ] && grep -q "cannot reserve host memory" "$tmp/err"; then
			printf '%s\tskip\t%s\n' "$n" "Valgrind cannot map this machine's RAM ($(grep -o 'a [0-9]* MiB machine' "$tmp/err"))"
		elif [ $rc = 99 ] || [ "$other" != 0 ] || [ "$(vg_definite "$tmp/vg.log")" != "0 0" ]; then
			printf '%s\tFAIL\tValgrind: %s error contexts, definitely lost %s (not the trace'"'"'s)\n' "$n" "$other" \
				"$(vg_definite "$tmp/vg.log")"
		elif [ "$rc" != "$want" ]; then
			printf '%s\tFAIL\texit %s, expected %s\n' "$n" "$rc" "$want"
		elif [ -n "$eng" ] && [ "$eng" != "$sup" ]; then
			printf '%s\tFAIL\ttrace objects: Valgrind %s, engine %s\n' "$n" "$sup" "$eng"
		else
			printf '%s\tok\t%s\n' "$n" "${eng:+trace objects $eng}"
		fi
	fi
	rm -rf "$tmp"
}

# harness-clean, one fuzz target's corpus: MODE TARGET
worker_clean_fuzz() {
	local mode=$1 tg=$2 tmp rc bin
	tmp=$(mktemp -d)
	if [ ! -d "corpus/$tg" ]; then printf '%s\tskip\tno corpus/%s\n' "$tg" "$tg"; rm -rf "$tmp"; return; fi
	local n; n=$(find "corpus/$tg" -type f | wc -l)
	if [ "$mode" = asan ]; then
		bin=build/asan/fuzz/$tg-test
		[ -x "$bin" ] || { printf '%s\tFAIL\t%s missing (build failed?)\n' "$tg" "$bin"; rm -rf "$tmp"; return; }
		ASAN_OPTIONS=detect_leaks=1 "$bin" "corpus/$tg" >"$tmp/out" 2>"$tmp/err"
		rc=$?
	elif [ "$mode" = lsan ]; then
		# the -test drivers run each input in a child that _exits, where
		# LeakSanitizer never looks; the libFuzzer build runs files given on
		# its command line in-process, and LSan checks at its exit
		bin=build/libfuzzer/fuzz/$tg
		[ -x "$bin" ] || { printf '%s\tFAIL\t%s missing (build failed?)\n' "$tg" "$bin"; rm -rf "$tmp"; return; }
		find "corpus/$tg" -type f | sort |
			xargs -r env ASAN_OPTIONS=detect_leaks=1 "$bin" -artifact_prefix="$tmp/" >"$tmp/out" 2>"$tmp/err"
		rc=$?
		local why
		why=$(grep -m1 "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" "$tmp/err")
		if [ $rc = 0 ] && [ -z "$why" ]; then printf '%s\tok\t%s inputs in one process\n' "$tg" "$n"
		else printf '%s\tFAIL\texit %s after %s: %s\n' "$tg" "$rc" "$(grep "^Running: " "$tmp/err" | tail -1 | cut -c10-)" \
			"$(sed 's/^==[0-9]*==//' <<<"${why:-no sanitizer report}" | cut -c1-100)"; fi
		rm -rf "$tmp"; return
	else
		bin=build/release/fuzz/$tg-test
		[ -x "$bin" ] || { printf '%s\tFAIL\t%s missing (build failed?)\n' "$tg" "$bin"; rm -rf "$tmp"; return; }
		# the driver forks one child per input; Valgrind follows each. At
		# ~0.5 s an input, a campaign-sized corpus is a sample: every k-th
		# file by name, at most VG_FUZZ_MAX (0: all)
		local max=${VG_FUZZ_MAX:-40} k=1
		[ "$max" -gt 0 ] && [ "$n" -gt "$max" ] && k=$(( (n + max - 1) / max ))
		find "corpus/$tg" -type f | sort | awk -v k=$k '(NR - 1) % k == 0' >"$tmp/files"
		local m; m=$(wc -l <"$tmp/files")
		[ "$m" = "$n" ] || n="$m of $n"
		xargs -r -d '\n' "${VG[@]}" --suppressions="$SUPP" --log-file="$tmp/vg.%p.log" "$bin" <"$tmp/files" \
			>"$tmp/out" 2>"$tmp/err"
		rc=$?
		cat "$tmp"/vg.*.log >"$tmp/err.vg" 2>/dev/null
	fi
	local fails; fails=$(grep -c "^FAIL " "$tmp/out")
	if [ $rc = 0 ] && ! grep -qs "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" "$tmp/err"; then
		printf '%s\tok\t%s inputs\n' "$tg" "$n"
	else
		local why
		why=$(grep -m1 "^FAIL " "$tmp/out")
		[ "$mode" = valgrind ] && why="$why; $(grep -m1 "Invalid\|uninitialised\|definitely lost in" "$tmp/err.vg" | sed 's/^==[0-9]*== //')"
		printf '%s\tFAIL\t%s of %s inputs failed (exit %s): %s\n' "$tg" "$fails" "$n" "$rc" "$why"
	fi
	rm -rf "$tmp"
}

case "${1:-}" in
--worker)
	shift; w=$1; shift
	case $w in
	leak) worker_leak "$@" ;;
	misuse) worker_misuse "$@" ;;
	regress) worker_clean_regress "$@" ;;
	fuzz) worker_clean_fuzz "$@" ;;
	esac
	exit 0 ;;
esac

# === Driver ==============================================================

FAST=0 BUILD=1 JOBS=$(nproc)
while [ $# -gt 0 ]; do
	case $1 in
	--fast) FAST=1 ;;
	--no-build) BUILD=0 ;;
	-j) JOBS=$2; shift ;;
	-j*) JOBS=${1#-j} ;;
	*) echo "usage: leakcheck/run.sh [--fast] [--no-build] [-j N]" >&2; exit 64 ;;
	esac
	shift
done
HAVE_VG=1
command -v valgrind >/dev/null || { HAVE_VG=0; echo "leakcheck: valgrind not installed (make deps): its columns are skipped and count as failures"; }
T0=$SECONDS
failed=()
stage_fail() { failed+=("$1"); }

par() {  # par WORKER ARGS... < items : run the worker on each item, JOBS at a time
	local w=$1; shift
	xargs -r -d '\n' -P "$JOBS" -n 1 "$SELF" --worker "$w" "$@"
}

table() {  # table HEADER... < TSV lines: aligned columns
	{ (IFS=$'\t'; echo "$*"); cat; } | awk -F'\t' '
		{ for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } if (NF > nf) nf = NF; n = NR }
		END { for (r = 1; r <= n; r++) { line = "";
		        for (i = 1; i <= nf; i++) line = line sprintf(i < nf ? "%-" w[i] "s | " : "%s", c[r, i]);
		        sub(/[ |]+$/, "", line); print "  " line
		        if (r == 1) { sep = ""; for (i = 1; i <= nf; i++) { s = ""; for (k = 0; k < w[i]; k++) s = s "-"; sep = sep s (i < nf ? "-+-" : "") } print "  " sep } } }'
}

if [ $BUILD = 1 ]; then
	echo "==> building release and asan (lib, tool, fuzz -test drivers)"
	for v in release asan; do
		if ! make --no-print-directory -s -f mk/build.mk -j"$JOBS" V=$v lib tool >/tmp/leakcheck-build.$$ 2>&1; then
			cat /tmp/leakcheck-build.$$; rm -f /tmp/leakcheck-build.$$; echo "leakcheck: the $v build failed"; exit 1
		fi
		if [ $FAST = 0 ] && ! make --no-print-directory -s -f mk/build.mk -j"$JOBS" V=$v fuzz-tests >/tmp/leakcheck-build.$$ 2>&1; then
			tail -5 /tmp/leakcheck-build.$$; echo "leakcheck: the $v fuzz drivers did not build (their stage fails)"
		fi
		rm -f /tmp/leakcheck-build.$$
	done
	if [ $FAST = 0 ] && command -v clang >/dev/null; then
		make --no-print-directory -s -f mk/build.mk -j"$JOBS" V=libfuzzer lib fuzz-bins >/tmp/leakcheck-build.$$ 2>&1 ||
			{ tail -5 /tmp/leakcheck-build.$$; echo "leakcheck: the libFuzzer targets did not build (their stage fails)"; }
		rm -f /tmp/leakcheck-build.$$
	fi
fi

# --- 1. leak table ---------------------------------------------------------
t=$SECONDS
leaks=$(ls "$ROOT"/corpus/leak/*.trace)
echo
echo "==> leak cross-check: corpus/leak ($(wc -l <<<"$leaks") traces; engine --leaks=report, Valgrind memcheck, ASan/LSan --twins)"
if [ $FAST = 1 ]; then
	# Valgrind on a few: one per user-side mechanism and the all-layer trace
	vgset="mixed fork zero-size clean-all-freed"
	out=$( { grep -E "/($(tr ' ' '|' <<<"$vgset"))\.trace$" <<<"$leaks" | par leak;
	         grep -vE "/($(tr ' ' '|' <<<"$vgset"))\.trace$" <<<"$leaks" | NO_VALGRIND=1 par leak; } | sort)
else
	out=$( (if [ $HAVE_VG = 0 ]; then export NO_VALGRIND=1; fi; par leak <<<"$leaks") | sort)
fi
cut -f1-6 <<<"$out" | table trace "expected blocks / bytes" engine valgrind lsan agree
awk -F'\t' '$7 != "" { print "    " $1 ": " $7 }' <<<"$out"
bad=$(awk -F'\t' '$6 != "yes"' <<<"$out" | wc -l)
echo "  leak table: $(wc -l <<<"$out") traces, $bad disagreeing ($((SECONDS - t))s)"
[ "$bad" = 0 ] || stage_fail "leak table"
[ $HAVE_VG = 1 ] || stage_fail "leak table (no valgrind)"

# --- 2. misuse table -------------------------------------------------------
t=$SECONDS
echo
echo "==> misuse: corpus/misuse under ASan (report names the trace line) and the engine's checks (${ENGINE_DEBUG[*]})"
out=$(ls "$ROOT"/corpus/misuse/*.trace | par misuse | sort)
cut -f1-4 <<<"$out" | table trace "ASan caught (line)" "engine caught (line)" ok
awk -F'\t' '$5 != "" { print "    " $1 ": " $5 }' <<<"$out"
bad=$(awk -F'\t' '$4 != "yes"' <<<"$out" | wc -l)
echo "  misuse table: $(wc -l <<<"$out") traces, $bad not caught by both ($((SECONDS - t))s)"
[ "$bad" = 0 ] || stage_fail "misuse table"

# --- option check: --slub-debug is the boot parameter ----------------------
# a golden trace whose slub_debug line is blanked out (a comment keeps the
# line numbers), replayed with --slub-debug, must print exactly the same
t=$SECONDS
sd_ok=1
for g in slub-debug-FZ-redzone slub-debug-FP-poison slub-debug-U-tracks; do
	tr="$ROOT/corpus/regression/$g.trace"
	spec=$(sed -n 's/^slub_debug *//p' "$tr" | head -1)
	d=$(mktemp -d)
	sed 's/^slub_debug .*/# (slub_debug: given as --slub-debug)/' "$tr" >"$d/$g.trace"
	(cd "$d" && { "$REL" replay --check=full --slub-debug="$spec" "$g.trace"; echo "exit=$?"; } >out 2>err)
	(cd "$ROOT/corpus/regression" && { "$REL" replay --check=full "$g.trace"; echo "exit=$?"; } >"$d/out.ref" 2>"$d/err.ref")
	if ! cmp -s "$d/out" "$d/out.ref" || ! cmp -s "$d/err" "$d/err.ref"; then
		sd_ok=0; echo "  --slub-debug=$spec differs from the trace's slub_debug line on $g"
	fi
	rm -rf "$d"
done
echo "  --slub-debug=LETTERS[,cache] equals a leading slub_debug line: $( [ $sd_ok = 1 ] && echo yes || echo NO) ($((SECONDS - t))s)"
[ $sd_ok = 1 ] || stage_fail "--slub-debug option"

# --- 3. harness-clean ------------------------------------------------------
echo
echo "==> harness-clean: the engine, the tool and the fuzz drivers under ASan+UBSan and Valgrind memcheck"
regress=$(ls "$ROOT"/corpus/regression/*.trace)
if [ $FAST = 1 ]; then
	# every 6th golden trace under Valgrind, and those that once were
	# Valgrind errors (peek of unwritten memory, writes to free objects of
	# a debug cache); ASan runs the whole corpus in make test already
	vgregress=$(awk 'NR % 6 == 1 || /\/(gfp-classes|slub-debug-P-validate|user-poke-peek|slab-kzalloc-reuse)\.trace$/' <<<"$regress")
	asanregress=""
else
	vgregress=$regress
	asanregress=$regress
fi
clean_rows=()
clean_line() {  # clean_line NAME RESULTS-TSV SECONDS
	local name=$1 res=$2 s=$3 n nok nskip nfail
	n=$(grep -c . <<<"$res")
	nok=$(awk -F'\t' '$2 == "ok"' <<<"$res" | wc -l)
	nskip=$(awk -F'\t' '$2 == "skip"' <<<"$res" | wc -l)
	nfail=$(awk -F'\t' '$2 == "FAIL"' <<<"$res" | wc -l)
	clean_rows+=("$name	$n	$nok	$nskip	$nfail	$( [ "$nfail" = 0 ] && echo ok || echo FAILED )	${s}s")
	awk -F'\t' '$2 != "ok" { print "    " $2 " " $1 ": " $3 }' <<<"$res" >>/tmp/leakcheck-notes.$$
	[ "$nfail" = 0 ] || stage_fail "harness-clean: $name"
}
: >/tmp/leakcheck-notes.$$
if [ -n "$asanregress" ]; then
	t=$SECONDS; res=$(par regress asan <<<"$asanregress")
	clean_line "regression corpus, ASan+UBSan+LSan" "$res" $((SECONDS - t))
fi
if [ $HAVE_VG = 1 ]; then
	t=$SECONDS; res=$(par regress valgrind <<<"$vgregress")
	clean_line "regression corpus$( [ $FAST = 1 ] && echo " (a sample)"), Valgrind" "$res" $((SECONDS - t))
else
	stage_fail "harness-clean: no valgrind"
fi
if [ $FAST = 0 ]; then
	t=$SECONDS; res=$(printf '%s\n' "${FUZZ_TARGETS[@]}" | par fuzz asan)
	clean_line "fuzz corpora, ASan+UBSan (-test drivers)" "$res" $((SECONDS - t))
	if command -v clang >/dev/null; then
		t=$SECONDS; res=$(printf '%s\n' "${FUZZ_TARGETS[@]}" | par fuzz lsan)
		clean_line "fuzz corpora, ASan+UBSan+LSan (libFuzzer, in-process)" "$res" $((SECONDS - t))
	fi
	if [ $HAVE_VG = 1 ]; then
		t=$SECONDS; res=$(printf '%s\n' "${FUZZ_TARGETS[@]}" | par fuzz valgrind)
		clean_line "fuzz corpora, Valgrind (-test drivers)" "$res" $((SECONDS - t))
	fi
fi
printf '%s\n' "${clean_rows[@]}" | table "corpus, detector" runs ok skipped failed result time
cat /tmp/leakcheck-notes.$$; rm -f /tmp/leakcheck-notes.$$

# --- 4. real programs (leakcheck/examples, another part of the issue) ------
if [ $FAST = 0 ] && [ -f leakcheck/examples/check.sh ]; then
	echo
	echo "==> real programs: leakcheck/examples/check.sh (LD_PRELOAD=librefalloc_malloc.so vs Valgrind)"
	t=$SECONDS
	if bash leakcheck/examples/check.sh --jobs "$JOBS"; then
		echo "  examples: ok ($((SECONDS - t))s)"
	else
		echo "  examples: FAILED ($((SECONDS - t))s)"; stage_fail "leakcheck/examples/check.sh"
	fi
fi

echo
if [ ${#failed[@]} -gt 0 ]; then
	printf 'leakcheck: FAILED: %s\n' "${failed[@]}"
	echo "leakcheck: $((SECONDS - T0))s"
	exit 1
fi
echo "leakcheck: every detector agrees, the harness is clean ($((SECONDS - T0))s)"
