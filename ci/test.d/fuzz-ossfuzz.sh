# stage: OSS-Fuzz build script (fuzz/build.sh) with OSS-Fuzz's variables
# Docker does not run here: fuzz/build.sh runs as OSS-Fuzz's base-builder
# would call it (CC=clang, ASan + fuzzer-no-link CFLAGS, LIB_FUZZING_ENGINE,
# temporary OUT and WORK, SRC the checkout's parent); then every output must
# exist (for every target of fuzz/targets: the fuzzer, its seed zip, and
# the .dict and .options it has in fuzz/) and each fuzzer must run its seed
# corpus (-runs=0) cleanly.
# (OSS-Fuzz adds -stdlib=libc++ to CXXFLAGS; its image has libc++, this
# machine need not: the targets are C, the fuzzer runtime brings its own.)
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export CC=clang CXX=clang++
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
export CXXFLAGS="$CFLAGS"
export LIB_FUZZING_ENGINE=-fsanitize=fuzzer
export OUT=$tmp/out WORK=$tmp/work SRC=$(cd .. && pwd)
mkdir -p "$OUT" "$WORK"
timeout 600 bash fuzz/build.sh >"$tmp/build.log" 2>&1 || { tail -30 "$tmp/build.log"; exit 1; }
rc=0
for t in $(awk '$1 !~ /^#/ && NF { print $1 }' fuzz/targets); do
  want=("$t" "${t}_seed_corpus.zip")
  for x in dict options; do [ -f "fuzz/$t.$x" ] && want+=("$t.$x"); done
  for f in "${want[@]}"; do
    [ -s "$OUT/$f" ] || { echo "    missing \$OUT/$f"; rc=1; }
  done
  [ -x "$OUT/$t" ] || continue
  mkdir -p "$tmp/seeds/$t"
  unzip -q -o "$OUT/${t}_seed_corpus.zip" -d "$tmp/seeds/$t"
  if (cd "$OUT" && ASAN_OPTIONS=detect_leaks=0 timeout 300 "./$t" -runs=0 "$tmp/seeds/$t" >"$tmp/$t.log" 2>&1); then
    echo "    $t: $(ls "$tmp/seeds/$t" | wc -l) seeds ran (-runs=0): $(grep -E '^#[0-9]+' "$tmp/$t.log" | tail -1 | cut -c1-60)"
  else
    echo "    $t: FAILED on its seed corpus:"; grep -m3 -E 'ERROR|BUG|finding' "$tmp/$t.log" | sed 's/^/      /'; rc=1
  fi
done
exit $rc
