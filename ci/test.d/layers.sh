# stage: include layering (engine/src/layers.txt) and its own tests
# ci/layers.py fails when an engine file includes the header of a layer
# above its own, or a file outside the engine includes an internal header;
# its tests show it failing on a deliberate bad include.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
rc=0
python3 ci/layers.py | sed 's/^/    /'; [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
python3 -m unittest -q ci/tests/test_layers.py 2>&1 | tail -3 | sed 's/^/    /'; [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
exit $rc
