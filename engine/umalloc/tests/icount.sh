#!/usr/bin/env bash
# icount.sh BUILD_DIR [N] — instructions per operation of glibc's malloc and
# of librefalloc_malloc.so on the um_work.h workloads, counted by callgrind
# inside um_icount's measured loop (N ops; large runs N/5).  Unlike
# compare.sh's nanoseconds, the counts do not depend on the machine's load.
# Prints a Markdown table.
set -uo pipefail
B=${1:?usage: icount.sh BUILD_DIR [N]}
N=${2:-1000000}
command -v valgrind >/dev/null || { echo "icount: valgrind is not installed" >&2; exit 2; }
bin=$B/umalloc-tests/um_icount so=$(cd "$B" && pwd)/librefalloc_malloc.so
[ -x "$bin" ] && [ -e "$so" ] || { echo "icount: build $bin and $so first" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ir() {  # ir PRELOAD WORKLOAD N -> Ir of the measured loop
	env ${1:+LD_PRELOAD=$1} valgrind --tool=callgrind --toggle-collect=um_icount_measure \
		--callgrind-out-file="$tmp/cg" "$bin" "$2" "$3" >/dev/null 2>&1 || { echo -; return; }
	awk '/^summary:/ { print $2 }' "$tmp/cg"
}
echo "| workload | ops | glibc Ir/op | umalloc Ir/op | ratio |"
echo "|---|---:|---:|---:|---:|"
for w in small medium large churn; do
	n=$N; [ $w = large ] && n=$((N / 5))
	g=$(ir "" $w $n) u=$(ir "$so" $w $n)
	awk -v w=$w -v n=$n -v g="$g" -v u="$u" 'BEGIN {
		if (g == "-" || u == "-") { printf "| %s | %d | %s | %s | - |\n", w, n, g, u; exit }
		printf "| %s | %d | %.1f | %.1f | %.2fx |\n", w, n, g / n, u / n, u / g }'
done
