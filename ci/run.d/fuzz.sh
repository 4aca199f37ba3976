# make run: a one-minute fuzz of fuzz_engine (libFuzzer, ASan+UBSan, every
# check on) with its summary: execs/s, coverage, corpus growth, findings.
# A finding is a result to look at, not a failure of `make run`.
set -euo pipefail
cd "$(dirname "$0")/../.."
T=${FUZZ_RUN_TIME:-60}
echo "==> $T s of fuzzing fuzz_engine (what 'make fuzz FUZZ_TARGETS=fuzz_engine FUZZ_TIME=$T' runs)"
log=$(mktemp); trap 'rm -f "$log"' EXIT
FUZZ_TIME=$T FUZZ_OUT=out/fuzz/run timeout 900 fuzz/run.py fuzz_engine >"$log" 2>&1 || true
grep -E '^    [0-9]+ execs' "$log" | sed 's/^ */    fuzz_engine: /' || { echo "    fuzz run failed:"; tail -5 "$log" | sed 's/^/    /'; exit 1; }
sed -n '/findings (/,$p' "$log" | sed 's/^ */    /'
grep -qE '^ +new finding [0-9a-f]' "$log" || echo "    no finding; inputs kept in out/fuzz/run/fuzz_engine/corpus (make corpus-merge FROM=out/fuzz/run)"
