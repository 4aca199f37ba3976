#!/usr/bin/env bash
# engine/umalloc/tests/run.sh B — run umalloc's tests for build dir B and
# print one final line "N passed, M failed" (exit 1 on any failure).
# Unit binaries report their own counts; each LD_PRELOAD run counts as one.
set -u
B=${1:?usage: run.sh BUILD_DIR}
T=$B/umalloc-tests
SO=$(cd "$B" && pwd)/librefalloc_malloc.so
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
pass=0; fail=0

unit() {                       # unit BINARY
	local out
	out=$("$1" 2>"$WORK/err"); local rc=$?
	echo "$out" | tail -1
	local line; line=$(echo "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -1)
	local p f
	p=$(echo "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/'); f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	[ -n "$line" ] || { p=0; f=1; }
	[ $rc -eq 0 ] || [ "$f" -gt 0 ] || f=1
	[ "$f" -eq 0 ] || grep -E 'FAIL|ERROR|runtime error' "$WORK/err" | head -20
	pass=$((pass + p)); fail=$((fail + f))
}
one() {                        # one NAME COMMAND...
	local name=$1; shift
	if "$@" >"$WORK/out" 2>&1; then
		echo "  ok   $name"; pass=$((pass + 1))
	else
		echo "  FAIL $name"; tail -5 "$WORK/out"; fail=$((fail + 1))
	fi
}

echo "umalloc tests ($B)"
unit "$T/um_test_sim"
unit "$T/um_test_host"
[ -x "$T/um_test_leaks" ] && unit "$T/um_test_leaks"

PY=$(command -v python3 || true)
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
py_test() { LD_PRELOAD=$SO "$PY" "$HERE/py_workload.py" | grep -q '^ok '; }
one "python3 (dict 200k, json, sort) under LD_PRELOAD" py_test

gcc_test() {
	printf '#include <stdio.h>\n#include <stdlib.h>\nint main(void){char *p=malloc(64);snprintf(p,64,"%%d",6*7);puts(p);free(p);return 0;}\n' >"$WORK/h.c"
	LD_PRELOAD=$SO gcc -O2 -o "$WORK/h" "$WORK/h.c" && [ "$("$WORK/h")" = 42 ] && [ "$(LD_PRELOAD=$SO "$WORK/h")" = 42 ]
}
one "gcc compiles and links under LD_PRELOAD" gcc_test

sort_test() {
	awk 'BEGIN{x=12345; for(i=0;i<1300000;i++){x=(x*1103515245+12345)%2147483648; printf "%d %x line%d\n", x%100000, x, i}}' >"$WORK/in"
	[ "$(stat -c %s "$WORK/in")" -gt 20000000 ] || return 1
	LD_PRELOAD=$SO sort -S 64M "$WORK/in" >"$WORK/s1" && sort -S 64M "$WORK/in" >"$WORK/s2" && cmp -s "$WORK/s1" "$WORK/s2"
}
one "sort of 20 MB equals sort without preload" sort_test

one "multi-threaded stress (8 threads, remote frees, fork) under LD_PRELOAD" env LD_PRELOAD=$SO "$T/um_stress"

probe_test() {
	LD_PRELOAD=$SO "$T/um_probe" >"$WORK/p" 2>&1 || return 1
	grep -q '^usable 24$' "$WORK/p" && grep -q '^mallopt 1 0$' "$WORK/p" && grep -q '^far_from_brk 1$' "$WORK/p" &&
	grep -q '^aligned 1 posix_einval 1$' "$WORK/p" && grep -q '^Arena 0:$' "$WORK/p" &&
	grep -q '^max mmap bytes   = ' "$WORK/p" && grep -q '<malloc version="1">' "$WORK/p"
}
one "malloc_usable_size/mallopt/malloc_stats/malloc_info resolve to the .so" probe_test

leaks_test() {                 # REFALLOC_LEAKS: threads, fork, unwinder checked against libgcc
	LD_PRELOAD=$SO REFALLOC_LEAKS=1 REFALLOC_LEAKS_UNWIND=check REFALLOC_LEAKS_FILE=$WORK/lk.%p "$PY" -c '
import os, sys, threading, json
def work(k):
    d = {i: [str(i)] * 3 for i in range(20000 + k)}
    json.loads(json.dumps(d))
ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
[t.start() for t in ts]
pid = os.fork()
work(9)
if pid == 0:
    sys.exit(0)
[t.join() for t in ts]
os.waitpid(pid, 0)
print("ok")' | grep -q '^ok' || return 1
	[ "$(cat "$WORK"/lk.* | grep -c ' refalloc: definitely lost: ')" -eq 2 ] &&
		[ "$(cat "$WORK"/lk.* | grep -c ' 0 differ from libgcc, 0 fell back')" -eq 2 ]
}
one "REFALLOC_LEAKS=1: threads, fork, a report per process, fast unwinder = libgcc's" leaks_test

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
