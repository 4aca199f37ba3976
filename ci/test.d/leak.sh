# stage: leak cross-check (fast subset)
# shellcheck shell=bash
# The fast form of `make leakcheck` (leakcheck/leakcheck.py --fast): every
# corpus/leak trace under the engine's leak report and ASan/LSan (--twins),
# four of them under Valgrind too; every corpus/misuse trace under ASan and
# the engine's debug checks; --slub-debug against a slub_debug line; a
# sample of the golden corpus under Valgrind memcheck (no errors, trace
# objects adding up to the engine's report). About 20 s on 2 cores; needs
# build/release and build/asan (test.sh builds them first).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
exec leakcheck/leakcheck.py --fast --no-build -j "${JOBS:-$(nproc)}"
