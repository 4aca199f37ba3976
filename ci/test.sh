#!/usr/bin/env bash
# The CI regression run behind `make test`: every build variant, unit tests,
# the golden corpus with full invariants, determinism across builds, and the
# stages later parts add (fuzz corpora, allocation-failure replay, leak
# cross-check smoke, bench gate). Prints one line per stage and a closing
# "N passed, M failed"; exits non-zero if any stage failed.
set -uo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
passed=0 failed=0 failures=()
stage() {
  local name=$1; shift
  local t0=$SECONDS
  echo "==> $name"
  if "$@"; then passed=$((passed+1)); echo "    ok ($((SECONDS-t0))s)";
  else failed=$((failed+1)); failures+=("$name"); echo "    FAILED ($((SECONDS-t0))s)"; fi
}
build() { make --no-print-directory -s -f mk/build.mk -j"$JOBS" "$@" all >/dev/null; }
units() {
  local dir=$1 rc=0
  for t in "$dir"/tests/test_*; do "$t" || rc=1; done
  return $rc
}

stage "build release (gcc)"      build V=release
stage "build debug (gcc)"        build V=debug
stage "build asan (gcc)"         build V=asan
stage "build release (clang)"    build V=release CC=clang
stage "unit tests (release)"     units build/release
stage "unit tests (asan)"        units build/asan
stage "umalloc tests (release: simulated, LD_PRELOAD, real programs)" engine/umalloc/tests/run.sh build/release
stage "umalloc tests (asan)"     engine/umalloc/tests/run.sh build/asan
stage "golden corpus (release, full checks)" ci/regress.sh build/release/refalloc
stage "golden corpus (asan)"     ci/regress.sh build/asan/refalloc
stage "determinism gcc/clang/debug/asan" ci/determinism.sh build/release/refalloc build/clang-release/refalloc \
                                 build/debug/refalloc build/asan/refalloc
for hook in ci/test.d/*.sh; do
  [ -e "$hook" ] || continue
  stage "$(sed -n 's/^# stage: //p' "$hook" | head -1)" bash "$hook"
done

echo
if [ $failed -gt 0 ]; then printf 'failed stage: %s\n' "${failures[@]}"; fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
