# stage: bench gate (callgrind instructions, engine figures, tools smoke)
# The fast form of `make bench-check` plus a smoke test of every bench tool:
# the replay driver and conformance pass (engine and glibc), a 2x2 knob
# sweep, the mtrace importer (a checked-in sample and a bad file), the
# recorder on a real program.  Well under a minute; needs build/release.
set -uo pipefail
cd "$(dirname "$0")/../.."
B=build/release
BIN=$B/refalloc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
check() {  # check NAME COMMAND...
	local name=$1; shift
	if "$@" >"$T/out" 2>&1; then echo "    ok   $name"; else echo "    FAIL $name"; sed 's/^/      /' "$T/out" | tail -15; fail=1; fi
}

check "gate: bench/gate.sh --fast" bench/gate.sh --fast --bin "$BIN"

smoke_replay() {
	"$BIN" bench gen server --scale 0.05 -o "$T/server.trace" &&
	"$BIN" bench replay "$T/server.trace" --alloc=engine,glibc --runs 1 --out "$T/replay" &&
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["conform"] and d["ops"] > 0 and d["jw"]["peak_foot"] > 0' \
		"$T/replay/server/glibc.json"
}
check "replay: engine and glibc through the driver, conformance first" smoke_replay

smoke_sweep() {
	"$BIN" bench sweep --workload slabchurn --scale 0.05 --knob slub_max_order=0,3 --knob slub_debug=-,Z --out "$T/sweep" &&
	[ "$(wc -l <"$T/sweep/results.csv")" = 5 ] &&
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["complete"] and len(d["points"]) == 4' "$T/sweep/results.json"
}
check "sweep: a 2x2 grid writes CSV and JSON" smoke_sweep

smoke_mtrace() {
	"$BIN" trace import-mtrace bench/tests/mtrace-sample.mtrace >"$T/mt.trace" &&
	diff -u bench/tests/mtrace-sample.trace "$T/mt.trace" &&
	"$BIN" replay "$T/mt.trace" &&
	{ "$BIN" trace import-mtrace bench/tests/mtrace-bad.mtrace 2>"$T/mt.err"; [ $? = 2 ]; } &&
	grep -q 'mtrace-bad.mtrace:3: error' "$T/mt.err"
}
check "import-mtrace: sample matches, bad input is FILE:LINE and exit 2" smoke_mtrace

smoke_record() {
	REFALLOC_RECORD="$T/rec.trace" LD_PRELOAD="$(cd "$B" && pwd)/librefalloc_record.so" sort bench/tests/mtrace-sample.mtrace >/dev/null &&
	grep -q '^task sort -> t' "$T/rec.trace" && "$BIN" replay "$T/rec.trace" &&
	"$BIN" bench replay "$T/rec.trace" --alloc=glibc --runs 1 --out "$T/rr" >/dev/null
}
check "record: librefalloc_record.so on sort, replayed by the engine and the driver" smoke_record

smoke_bad() {
	printf 'task t -> t\nmalloc 10 -> a\nfree a\nfree a\n' >"$T/bad.trace"
	"$BIN" bench replay "$T/bad.trace" --alloc=glibc --runs 1 --out "$T/bad" 2>"$T/bad.err"
	[ $? = 2 ] && grep -q 'bad.trace:4: handle .a. was freed already' "$T/bad.err"
}
check "bad input: a double free in a trace is refused with FILE:LINE, exit 2" smoke_bad
exit $fail
