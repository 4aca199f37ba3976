#!/usr/bin/env bash
# leakcheck/examples/check.sh — the real-program leak report (LD_PRELOAD
# librefalloc_malloc.so, REFALLOC_LEAKS=1) against Valgrind memcheck
# (--leak-check=full, plain glibc malloc) on the example programs.
#
# Builds the examples (gcc -O0; the full run adds gcc -O2 and clang -O2),
# runs each under both, and prints one row per program: definitely lost
# by each tool, indirectly lost by each, the figures the source promises
# ("expect:" line), and whether all agree exactly (blocks and bytes).  It
# also checks REFALLOC_LEAKS=error's exit code and that the report names
# the allocating function.  Exits 1 on any disagreement, 2 if a tool is
# missing.  Run from anywhere; paths are the repository's.
#
#   leakcheck/examples/check.sh            # full: gcc -O0, gcc -O2, clang -O2
#   leakcheck/examples/check.sh --fast     # CI smoke: gcc -O0 only
#   options: --so PATH (default build/release/librefalloc_malloc.so, built
#            if missing or stale), --jobs N, --keep (leave the logs in
#            build/leakcheck-examples/logs.*)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 2
EX=leakcheck/examples
OUTDIR=$ROOT/build/leakcheck-examples
SO=""
FAST=0
KEEP=0
JOBS=$(nproc 2>/dev/null || echo 2)
while [ $# -gt 0 ]; do
	case $1 in
	--fast) FAST=1 ;;
	--so) SO=$2; shift ;;
	--jobs) JOBS=$2; shift ;;
	--keep) KEEP=1 ;;
	-h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "check.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

command -v valgrind >/dev/null || { echo "check.sh: valgrind not found (ci/deps.sh installs it)" >&2; exit 2; }
if [ -z "$SO" ]; then
	SO=build/release/librefalloc_malloc.so
	echo "building $SO"
	make --no-print-directory -s -f mk/build.mk V=release "$SO" >/dev/null || { echo "check.sh: cannot build $SO" >&2; exit 2; }
fi
SO=$(cd "$(dirname "$SO")" && pwd)/$(basename "$SO")
[ -f "$SO" ] || { echo "check.sh: $SO missing" >&2; exit 2; }

VARIANTS="gcc:-O0"
if [ $FAST -eq 0 ]; then
	VARIANTS="$VARIANTS gcc:-O2"
	command -v clang >/dev/null && VARIANTS="$VARIANTS clang:-O2"
fi
for v in $VARIANTS; do
	cc=${v%%:*} opt=${v#*:}
	echo "building the examples ($cc $opt)"
	make --no-print-directory -s -C "$EX" CC="$cc" OPT="$opt" OUT="$OUTDIR/$cc$opt" >/dev/null ||
		{ echo "check.sh: examples do not build with $cc $opt" >&2; exit 2; }
done

mkdir -p "$OUTDIR"
LOGS=$(mktemp -d "$OUTDIR/logs.XXXXXX") || exit 2
if [ $KEEP -eq 1 ]; then echo "logs in $LOGS"; else trap 'rm -rf "$LOGS"' EXIT; fi

# One program under both tools; results in $LOGS/<id>.{rf,vg,rfrc,errrc,vgrc}.
# ENVS are extra VAR=value words for the program (both runs).
run_one() {             # run_one ID "ENVS" COMMAND...
	local id=$1 envs=$2
	shift 2
	# shellcheck disable=SC2086
	env $envs LD_PRELOAD="$SO" REFALLOC_LEAKS=1 REFALLOC_LEAKS_FILE="$LOGS/$id.rf" "$@" >/dev/null 2>"$LOGS/$id.rferr"
	echo $? >"$LOGS/$id.rfrc"
	# shellcheck disable=SC2086
	env $envs LD_PRELOAD="$SO" REFALLOC_LEAKS=error REFALLOC_LEAKS_FILE=/dev/null "$@" >/dev/null 2>&1
	echo $? >"$LOGS/$id.errrc"
	# shellcheck disable=SC2086
	env $envs valgrind --leak-check=full --log-file="$LOGS/$id.vg" "$@" >/dev/null 2>&1
	echo $? >"$LOGS/$id.vgrc"
}
spawn() {               # spawn ID LABEL "ENVS" COMMAND...
	ids+=("$1")
	labels+=("$2")
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
	local id=$1 envs=$3
	shift 3
	run_one "$id" "$envs" "$@" &
}

ids=() labels=()
t0=$SECONDS
for v in $VARIANTS; do
	cc=${v%%:*} opt=${v#*:}
	for src in "$EX"/*.c; do
		name=$(basename "$src" .c)
		spawn "$name.$cc$opt" "$name $cc$opt" "" "$OUTDIR/$cc$opt/$name"
	done
done
# Real programs (full run): the same agreement on perl and CPython.  CPython's
# own allocator keeps pointers in arenas it mmaps, which Valgrind scans and
# the report does not (README), so it runs on malloc alone.
# shellcheck disable=SC2016
if [ $FAST -eq 0 ]; then
	if command -v perl >/dev/null; then
		spawn perl "perl (hash of 5000 arrays)" "PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0" \
			perl -e 'my %h; $h{$_} = [$_] for 1 .. 5000; print scalar(keys %h), "\n"'
	fi
	if [ -x /usr/bin/python3 ]; then
		spawn python3 "python3 (PYTHONMALLOC=malloc)" "PYTHONMALLOC=malloc PYTHONHASHSEED=0" \
			/usr/bin/python3 -c 'import json; d = {i: str(i) for i in range(5000)}; print(len(json.dumps(d)))'
	fi
fi
wait

# "A B" (bytes blocks) from a refalloc report's totals line.
rf_fig() {              # rf_fig FILE KIND   (KIND: definitely|indirectly)
	sed -nE "s/.* $2 lost: ([0-9]+) bytes in ([0-9]+) blocks.*/\1 \2/p" "$1" 2>/dev/null | tail -1
}
# ... and from Valgrind's LEAK SUMMARY ("All heap blocks were freed" = 0 0).
vg_fig() {
	if grep -qs 'All heap blocks were freed' "$1"; then echo "0 0"; return; fi
	sed -nE "s/.*$2 lost: ([0-9,]+) bytes in ([0-9,]+) blocks.*/\1 \2/p" "$1" 2>/dev/null | tr -d , | tail -1
}
fmt() { [ -n "$1" ] && echo "$1" | awk '{printf "%s B in %s", $1, $2}' || echo "?"; }
expf() { [ -n "$1" ] && echo "$1 $2" | awk '{printf "%s/%s, %s/%s", $1, $2, $3, $4}' || echo "-"; }

printf '%-30s | %-26s | %-26s | %-37s | %-20s | %s\n' program "definitely lost (refalloc)" \
	"definitely lost (valgrind)" "indirectly lost (refalloc / valgrind)" "expected (def / ind)" agree
printf '%s\n' "$(printf -- '-%.0s' $(seq 1 160))"
bad=0
for k in "${!ids[@]}"; do
	id=${ids[$k]}
	label=${labels[$k]}
	name=${id%%.*}
	src=$EX/$name.c
	rd=$(rf_fig "$LOGS/$id.rf" definitely)
	ri=$(rf_fig "$LOGS/$id.rf" indirectly)
	vd=$(vg_fig "$LOGS/$id.vg" definitely)
	vi=$(vg_fig "$LOGS/$id.vg" indirectly)
	ed="" ei=""
	if [ -f "$src" ]; then
		exp=$(sed -nE 's/.*expect: definite ([0-9]+)\/([0-9]+) indirect ([0-9]+)\/([0-9]+).*/\1 \2 \3 \4/p' "$src")
		ed=$(echo "$exp" | awk '{print $1, $2}')
		ei=$(echo "$exp" | awk '{print $3, $4}')
	fi
	# REFALLOC_LEAKS=error: 23 when something is definitely lost, else the program's 0
	want=0
	if [ -n "$rd" ] && [ "${rd#* }" != 0 ]; then want=23; fi
	errrc=$(cat "$LOGS/$id.errrc" 2>/dev/null)
	why=""
	if [ -z "$rd" ] || [ -z "$vd" ] || [ -z "$ri" ] || [ -z "$vi" ]; then
		why="no figures"
	elif [ "$rd" != "$vd" ] || [ "$ri" != "$vi" ]; then
		why="tools differ"
	elif [ -f "$src" ] && { [ "$rd" != "$ed" ] || [ "$ri" != "$ei" ]; }; then
		why="not as expected"
	elif [ "$(cat "$LOGS/$id.rfrc")" != 0 ] || [ "$(cat "$LOGS/$id.vgrc")" != 0 ]; then
		why="program failed"
	elif [ "$errrc" != "$want" ]; then
		why="REFALLOC_LEAKS=error exit $errrc, want $want"
	fi
	ok=yes
	[ -z "$why" ] || ok=NO
	printf '%-30s | %-26s | %-26s | %-37s | %-20s | %s\n' "$label" "$(fmt "$rd")" "$(fmt "$vd")" \
		"$(fmt "$ri") / $(fmt "$vi")" "$(expf "$ed" "$ei")" "$ok${why:+ ($why)}"
	[ "$ok" = yes ] || bad=$((bad + 1))
done

# The report must name where the block came from.
if ! grep -qE '^    #1 0x[0-9a-f]+ in work\+0x[0-9a-f]+ \(.*a_loop\+0x' "$LOGS/a_loop.gcc-O0.rf" 2>/dev/null; then
	echo "stack check: the a_loop report does not show 'in work' as frame #1"
	bad=$((bad + 1))
else
	echo "stack check: a_loop's leak is reported from work() (frame #1)"
fi
echo "${#ids[@]} runs in $((SECONDS - t0))s; $bad disagreement(s)"
[ $bad -eq 0 ]
