# `make run`'s last part: a short allocator comparison on a bundled real
# trace (the compiler proper, cc1, recorded by librefalloc_record.so), one
# run per allocator with the conformance pass first, and the report's path.
set -uo pipefail
cd "$(dirname "$0")/../.."
B=build/release
OUT=out/run-bench
echo "==> allocators compared on a recorded real program (corpus/real/gcc-cc1.trace)"
make --no-print-directory -s -f mk/build.mk -j"${JOBS:-2}" V=release bench-bin >/dev/null || exit 1
make --no-print-directory -s -f mk/build.mk V=release $B/librefalloc_malloc.so >/dev/null 2>&1 ||
	echo "    (librefalloc_malloc.so did not build: the refalloc column is left out)"
rm -rf "$OUT"
"$B/refalloc" bench replay corpus/real/gcc-cc1.trace --runs 1 --out "$OUT/replay" | sed 's/^/    /'
rc=${PIPESTATUS[0]}
python3 bench/report.py "$OUT" | sed 's/^report: /    report: /'
echo "    (a failed conformance above is a finding about that allocator, not of this run; make bench for the full suite)"
[ "$rc" -le 1 ]
