#!/usr/bin/env bash
# bench/gate.sh — the regression gate: figures that do not depend on the
# machine's speed, compared with bench/baseline.json.
#
#   bench/gate.sh [--fast] [--bin PATH] [--update] [--baseline FILE]
#
# Figures: (1) instructions executed by the engine replaying fixed traces
# (valgrind --tool=callgrind, "Collected" Ir of `refalloc replay --check=off`
# from main() on, in an empty environment: the dynamic loader's and libc's
# start-up depend on the caller's environment and are not the engine's),
# and the instructions per operation once the boot of an empty machine,
# measured in the same run, is taken away; (2) the engine's deterministic
# memory figures on fixed seeded workloads (`refalloc bench figures`):
# Johnstone & Wilson fragmentation, peak and end footprint, high-order
# success rates, unusable index, slab internal fragmentation, watermark
# failures.  Tolerances are in the baseline (default: instructions may grow
# 3%; a figure may get worse by 2% relative or 0.01 absolute, whichever is
# larger); anything worse fails, anything better is reported so the
# baseline can be updated (--update writes the current figures into it).
#
# --fast (ci/test.d/bench.sh, a few seconds of valgrind) uses small
# workloads; the full form (make bench-check) larger ones and the recorded
# corpus/real traces.  Exit: 0 pass, 1 regression, 2 setup problem.
set -uo pipefail
cd "$(dirname "$0")/.."
MODE=full BIN=build/release/refalloc UPDATE=0 BASE=bench/baseline.json
while [ $# -gt 0 ]; do
	case $1 in
	--fast) MODE=fast ;;
	--bin) BIN=$2; shift ;;
	--update) UPDATE=1 ;;
	--baseline) BASE=$2; shift ;;
	*) echo "usage: bench/gate.sh [--fast] [--bin PATH] [--update] [--baseline FILE]" >&2; exit 2 ;;
	esac
	shift
done
VALGRIND=$(command -v valgrind) || { echo "gate: valgrind is not installed (ci/deps.sh)" >&2; exit 2; }
[ -x "$BIN" ] || { echo "gate: $BIN missing (make release)" >&2; exit 2; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if [ "$MODE" = fast ]; then
	GEN=("server 0.2" "pareto 0.25" "highalloc 0.3" "slabchurn 0.2")
	REAL=()
	FIGS=(--quick)
else
	GEN=("server 1" "pareto 1" "fitted 1" "prodcons 1" "peak 0.5" "highalloc 1" "slabchurn 1" "kmalloc 1" "vmalloc 0.2")
	REAL=(corpus/real/*.trace)
	FIGS=()
fi

printf 'machine mem=256M\n' >"$WORK/boot.trace"
traces=("boot:$WORK/boot.trace")
for g in "${GEN[@]}"; do
	set -- $g
	name="$1-x$2"
	"$BIN" bench gen "$1" --scale "$2" -o "$WORK/$name.trace" || { echo "gate: cannot generate $1" >&2; exit 2; }
	traces+=("$name:$WORK/$name.trace")
done
for r in "${REAL[@]}"; do
	[ -e "$r" ] && traces+=("$(basename "$r" .trace):$r")
done

# (1) instructions, one valgrind run per trace
{
	echo "{"
	first=1
	for t in "${traces[@]}"; do
		name=${t%%:*} file=${t#*:}
		log="$WORK/$name.vg"
		env -i PATH=/usr/bin:/bin LC_ALL=C "$VALGRIND" --tool=callgrind --toggle-collect=main \
			--callgrind-out-file=/dev/null --log-file="$log" "$BIN" replay --check=off "$file" >/dev/null 2>"$WORK/$name.err"
		rc=$?
		ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$log" | tail -1)
		ops=$(grep -cvE '^[[:space:]]*(#|$)' "$file")
		if [ "$rc" != 0 ] || [ -z "$ir" ]; then
			echo "gate: refalloc replay $file under callgrind failed (exit $rc)" >&2
			exit 2
		fi
		[ $first = 1 ] || echo ","
		first=0
		printf '  "%s": {"ir": %s, "ops": %s}' "$name" "$ir" "$ops"
	done
	echo
	echo "}"
} >"$WORK/ir.json" || exit 2

# (2) the engine's deterministic figures
"$BIN" bench figures "${FIGS[@]}" >"$WORK/figures.json" || { echo "gate: refalloc bench figures failed" >&2; exit 2; }

CC_VERSION=$( (gcc --version 2>/dev/null || echo unknown) | head -1)
python3 bench/gate.py --mode "$MODE" --baseline "$BASE" --ir "$WORK/ir.json" --figures "$WORK/figures.json" \
	--bin "$BIN" --cc "$CC_VERSION" $([ $UPDATE = 1 ] && echo --update)
