#!/usr/bin/env bash
# compare.sh BUILD_DIR [--quick] — umalloc against the system's allocators
# on the um_work.h workloads, all in one run: umalloc in the engine's
# simulated world (um_bench_sim), and um_bench under glibc (no preload),
# librefalloc_malloc.so, jemalloc, mimalloc and tcmalloc (LD_PRELOAD).
# Runs are interleaved (every allocator once per round, the order rotated
# from round to round) so drift on a shared machine hits them alike; each figure is the median of the rounds, with the
# ratio to glibc. An allocator whose library is missing is shown as "-".
# Prints a Markdown table; exit 1 only if a benchmark itself failed.
set -uo pipefail
B=${1:?usage: compare.sh BUILD_DIR [--quick]}
scale=1 rounds=5
[ "${2:-}" = --quick ] && scale=20 rounds=3
libdir=/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
declare -A lib=(
  [glibc]=""
  [refalloc]="$B/librefalloc_malloc.so"
  [jemalloc]="$libdir/libjemalloc.so.2"
  [mimalloc]="$libdir/libmimalloc.so.2"
  [tcmalloc]="$libdir/libtcmalloc_minimal.so.4"
)
order=(glibc refalloc jemalloc mimalloc tcmalloc)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
rc=0
runs=(sim "${order[@]}")
for ((r = 0; r < rounds; r++)); do
  # each round starts one place later, so no allocator always follows the
  # same one (the long simulated run, say) or always runs first
  for ((i = 0; i < ${#runs[@]}; i++)); do
    a=${runs[$(((i + r) % ${#runs[@]}))]}
    if [ "$a" = sim ]; then
      "$B/umalloc-tests/um_bench_sim" "$scale" >>"$tmp/sim" || { echo "compare: um_bench_sim failed" >&2; rc=1; }
      continue
    fi
    so=${lib[$a]}
    if [ -n "$so" ] && [ ! -e "$so" ]; then continue; fi
    LD_PRELOAD=$so "$B/umalloc-tests/um_bench" "$scale" >>"$tmp/$a" || { echo "compare: um_bench under $a failed" >&2; rc=1; }
  done
done
med() {  # med FILE WORKLOAD -> median ns, or "-"
  [ -s "$1" ] || { echo -; return; }
  awk -v w="$2" '$1 == w { print $2 }' "$1" | sort -g | awk '{ v[NR] = $1 } END { if (!NR) print "-"; else print v[int((NR + 1) / 2)] }'
}
echo "| workload | umalloc (sim) | glibc | refalloc (host) | jemalloc | mimalloc | tcmalloc |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for w in small medium large churn; do
  g=$(med "$tmp/glibc" $w)
  row="| $w | $(med "$tmp/sim" $w) | $g"
  for a in refalloc jemalloc mimalloc tcmalloc; do
    v=$(med "$tmp/$a" $w)
    if [ "$v" = - ] || [ "$g" = - ]; then row+=" | -"; else row+=" | $v ($(awk -v a="$v" -v b="$g" 'BEGIN { printf "%.2fx", a / b }'))"; fi
  done
  echo "$row |"
done
echo
echo "ns per malloc+free pair (churn: per free+malloc op with 1000 blocks live); median of $rounds interleaved rounds (order rotated), scale 1/$scale; (x) = time relative to glibc."
exit $rc
