#!/usr/bin/env bash
# bench/compare.sh [OUT_DIR] — `make bench-compare`: whole-process time of
# the replay per allocator with hyperfine (--export-json), as
# mimalloc-bench's table does; bench/report.py folds OUT_DIR/hyperfine/*.json
# into the report next to the peak RSS the replays measured.
#
# Traces: corpus/real/*.trace and the user workloads `make bench` generated
# (OUT_DIR/traces); each is converted once into the replay driver's
# program, then hyperfine runs the driver per allocator (LD_PRELOAD through
# env, no shell), 1 warm-up and HF_RUNS runs (default 5).  One JSON per
# trace, written as it completes, so an interrupted run keeps what finished.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-out/bench}
B=${B:-build/release}
RUNS=${HF_RUNS:-5}
BIN=$B/refalloc DRV=$B/bench/driver
command -v hyperfine >/dev/null || { echo "bench-compare: hyperfine is not installed (ci/deps.sh)" >&2; exit 2; }
[ -x "$BIN" ] && [ -x "$DRV" ] || { echo "bench-compare: build first (make bench)" >&2; exit 2; }
mkdir -p "$OUT/hyperfine"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

lib() {  # the preload of an allocator, empty for glibc; fails when absent
	case $1 in
	glibc) echo ""; return 0 ;;
	refalloc) f=$(cd "$B" && pwd)/librefalloc_malloc.so ;;
	jemalloc) f=libjemalloc.so.2 ;;
	mimalloc) f=libmimalloc.so.2 ;;
	tcmalloc) f=libtcmalloc.so.4 ;;
	esac
	case $f in /*) [ -e "$f" ] && echo "$f" && return 0; return 1 ;; esac
	for d in /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib; do
		[ -e "$d/$f" ] && echo "$d/$f" && return 0
	done
	return 1
}

traces=(corpus/real/*.trace)
[ -d "$OUT/traces" ] && traces+=("$OUT"/traces/*.trace)
n=0
for t in "${traces[@]}"; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .trace)
	"$BIN" bench prog "$t" -o "$WORK/$name.prog" 2>/dev/null || continue   # kernel-side or multi-task: engine only
	args=()
	for a in glibc refalloc jemalloc mimalloc tcmalloc; do
		l=$(lib "$a") || continue
		if [ -n "$l" ]; then
			args+=(-n "$a" "env LD_PRELOAD=$l $DRV $WORK/$name.prog $WORK/$a.result")
		else
			args+=(-n "$a" "$DRV $WORK/$name.prog $WORK/$a.result")
		fi
	done
	n=$((n + 1))
	echo "==> $name"
	hyperfine -N --style basic --warmup 1 --runs "$RUNS" --export-json "$OUT/hyperfine/$name.json" "${args[@]}" \
		>"$WORK/hf.log" 2>&1 || { cat "$WORK/hf.log"; echo "bench-compare: hyperfine failed on $name" >&2; exit 1; }
	grep -E "^\s+[0-9.]+ ± [0-9.]+ times faster than|Summary|^  [a-z]+ ran" "$WORK/hf.log" | sed 's/^/  /'
done
echo "bench-compare: $n traces timed -> $OUT/hyperfine/"
