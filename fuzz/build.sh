#!/bin/bash -eu
# fuzz/build.sh — OSS-Fuzz / ClusterFuzzLite build of the fuzz targets.
#
# Honours the variables OSS-Fuzz sets: $CC $CXX $CFLAGS $CXXFLAGS
# $LIB_FUZZING_ENGINE $OUT $SRC $WORK. The engine is compiled with $CC
# $CFLAGS (sanitizer and -fsanitize=fuzzer-no-link come from there) into
# $WORK/refalloc-build, each target linked with $CXX $CXXFLAGS
# $LIB_FUZZING_ENGINE. Writes, per target:
#   $OUT/<target>                    the fuzzer
#   $OUT/<target>_seed_corpus.zip    corpus/<target>/
#   $OUT/<target>.dict, .options     from fuzz/, where the target has them
# for every target of fuzz/targets (its first column). Run from anywhere;
# the checkout is this script's parent folder.
set -o pipefail
: "${CC:=clang}" "${CXX:=clang++}" "${CFLAGS:=}" "${CXXFLAGS:=}" "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
: "${OUT:?set OUT}" "${WORK:?set WORK}"
cd "$(dirname "$0")/.."
B=$WORK/refalloc-build
mkdir -p "$B" "$OUT"
# per-operation invariants and the engine's sanitizer hooks when ASan is on
extra="-DRA_DEBUG=1"
case " $CFLAGS " in *-fsanitize=address*) extra="$extra -DRA_ASAN=1";; esac
# the library through the project's own makefile (variant flags, then ours)
make --no-print-directory -f mk/build.mk V=release B="$B" CC="$CC" EXTRA_CFLAGS="$CFLAGS $extra -Wno-error" \
     -j"$(nproc)" lib >"$WORK/refalloc-make.log" 2>&1 || { tail -30 "$WORK/refalloc-make.log"; exit 1; }
common="-std=c11 -D_GNU_SOURCE -Iengine/include -Iengine/src $extra"
$CC $CFLAGS $common -c fuzz/fuzz_common.c -o "$B/fuzz_common.o"
$CC $CFLAGS $common -c fuzz/driver_libfuzzer.c -o "$B/driver_libfuzzer.o"
for t in $(awk '$1 !~ /^#/ && NF { print $1 }' fuzz/targets); do
  $CC $CFLAGS $common -c "fuzz/$t.c" -o "$B/$t.o"
  $CXX $CXXFLAGS "$B/$t.o" "$B/fuzz_common.o" "$B/driver_libfuzzer.o" "$B/librefalloc.a" $LIB_FUZZING_ENGINE \
       -lm -lpthread -ldl -o "$OUT/$t"
  rm -f "$OUT/${t}_seed_corpus.zip"
  (cd "corpus/$t" && zip -q -j "$OUT/${t}_seed_corpus.zip" ./*)
  for f in "fuzz/$t.dict" "fuzz/$t.options"; do [ ! -f "$f" ] || cp "$f" "$OUT/"; done
  echo "fuzz/build.sh: $OUT/$t ($(ls "corpus/$t" | wc -l) seeds)"
done
