#!/usr/bin/env bash
# bench/record-corpus.sh [BUILD_DIR] — record corpus/real/*.trace again:
# real programs on this machine, their malloc family recorded by
# librefalloc_record.so (bench/record.c).  Each command is capped so its
# trace stays under ~2 MB; the command line is also in each trace's header.
# Inputs live in corpus/real/inputs.  Re-recording gives different traces
# (addresses, timing, library versions): the corpus is a sample, not golden.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build/release}
REC=$(cd "$B" && pwd)/librefalloc_record.so
[ -e "$REC" ] || { echo "record-corpus: $REC missing (make -f mk/build.mk V=release bench-bin)" >&2; exit 1; }
OUT=corpus/real
IN=$PWD/corpus/real/inputs
rec() {  # rec NAME ONLY COMMAND...
	local name=$1 only=$2; shift 2
	echo "recording $name: $*"
	REFALLOC_RECORD=$PWD/$OUT/$name.trace REFALLOC_RECORD_ONLY=$only LD_PRELOAD=$REC "$@" >/dev/null
	printf '  %s: %s lines, %s bytes\n' "$name" "$(wc -l <"$OUT/$name.trace")" "$(wc -c <"$OUT/$name.trace")"
}
# python3 with every object through malloc (pymalloc off), three threads
PYTHONMALLOC=malloc rec python3 python3 /usr/bin/python3 -S "$IN/py_work.py"
# gcc: the compiler proper (cc1) compiling a small C file at -O2
rec gcc-cc1 cc1 gcc -O2 -c "$IN/list.c" -o /dev/null
# sqlite3: an in-memory database built, indexed, aggregated, updated
rec sqlite3 sqlite3 sh -c "sqlite3 :memory: < '$IN/sqlite.sql'"
# git: the patches of the repository's first six commits
rec git git git -C "$PWD" log -p --no-color -n 6 8bebd43
# sort: 20000 CSV lines (inputs/sort-input.csv) on two keys; sort keeps lines
# in big buffers, so this one is a trace of few, large blocks
rec sort sort sort -t, -k2,2 -k1,1n -S 1M "$IN/sort-input.csv"
