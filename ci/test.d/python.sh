# stage: Python orchestration unit tests (fuzz/tests, leakcheck/tests)
# The parsers and state handling of fuzz/refuzz and leakcheck/leakcheck.py,
# on the captured outputs in <folder>/tests/samples and fake campaign
# folders: fuzz/targets and the options files, campaign state and resume,
# finding signatures and dedup, the selftest table, the detectors' reports.
# Standard library unittest; no build needed; a few seconds.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
rc=0
for d in fuzz leakcheck; do
  if out=$(cd "$d" && python3 -m unittest discover -s tests 2>&1); then
    echo "    $d/tests: $(grep -m1 '^Ran ' <<<"$out"), OK"
  else
    rc=1
    echo "    $d/tests: FAILED"
    sed 's/^/      /' <<<"$out" | tail -40
  fi
done
exit $rc
