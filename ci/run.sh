#!/usr/bin/env bash
# `make run`: the main job on a fresh machine. Builds the release engine,
# replays the bundled regression corpus with full invariant checks, shows a
# trace and a few views, and prints a summary. Later stages (a short fuzz of
# fuzz_engine, a comparison on a bundled real trace) hook in through
# ci/run.d/*.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
bin=build/release/refalloc
t0=$SECONDS
echo "==> building the release engine"
make --no-print-directory -s -f mk/build.mk -j"$JOBS" V=release lib tool >/dev/null || exit 1

echo
echo "==> the README's example (corpus/examples/readme.trace)"
sed 's/^/    /' corpus/examples/readme.trace
echo "  output:"
"$bin" replay --check=full corpus/examples/readme.trace | sed 's/^/    /'

echo
echo "==> replaying the regression corpus (corpus/regression) with full invariant checks"
ci/regress.sh "$bin" | tail -3
regress=${PIPESTATUS[0]}

echo
echo "==> the seeds' OOM example: who dies, and why"
grep -v '^#' corpus/regression/oom-example.trace | sed '/^$/d;s/^/    /' | head -20
"$bin" replay --check=full corpus/regression/oom-example.trace 2>&1 >/dev/null | grep -E "Killed process|invoked" | sed 's/^/    /'

echo
echo "==> a machine at rest (256 MiB, 2 cpus): meminfo head, slabinfo head"
printf 'machine mem=256M\ndump meminfo\ndump slabinfo\n' | "$bin" replay - | sed -n '1,6p;59,64p' | sed 's/^/    /'

for hook in ci/run.d/*.sh; do
  [ -e "$hook" ] || continue
  echo
  bash "$hook" || regress=1
done

echo
echo "refalloc run: done in $((SECONDS - t0))s; regression corpus $([ "$regress" = 0 ] && echo passed || echo FAILED)"
exit "$regress"
