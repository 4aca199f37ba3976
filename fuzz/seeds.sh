#!/usr/bin/env bash
# fuzz/seeds.sh — turn the hand-written text seeds into the seed corpora.
#
#   fuzz/seeds.sh [TOOL]        (TOOL: a refalloc binary; default build/release/refalloc)
#
# fuzz/seeds/<target>/*.trace are the sources. For a binary target each is
# encoded with the target's profile (`refalloc trace encode --profile=P`);
# fuzz_engine also takes every other target's seeds (its profile expresses
# them all). fuzz_trace_text takes the text as is, plus the regression
# corpus (syntax errors included). Each input is checked to replay cleanly
# the way the fuzz target replays it (`refalloc replay --fuzz` on the
# decoded trace) and stored as corpus/<target>/<sha1 of its bytes>.
# Existing corpus files (minimized ones from campaigns) are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOL=${1:-build/release/refalloc}
[ -x "$TOOL" ] || { echo "seeds: $TOOL not built (make -f mk/build.mk V=release lib tool)" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

profile_of() { echo "${1#fuzz_}"; }
add() {   # add FILE TARGET -> corpus/TARGET/<sha1>
  local f=$1 t=$2 h
  h=$(sha1sum "$f" | cut -c1-40)
  mkdir -p "corpus/$t"
  if [ ! -e "corpus/$t/$h" ]; then cp "$f" "corpus/$t/$h"; added=$((added+1)); fi
}

bad=0
for t in fuzz_engine fuzz_buddy fuzz_slab fuzz_vmalloc fuzz_umalloc; do
  p=$(profile_of "$t")
  added=0 n=0
  srcs=(fuzz/seeds/"$t"/*.trace)
  [ "$t" = fuzz_engine ] && srcs+=(fuzz/seeds/fuzz_{buddy,slab,vmalloc,umalloc}/*.trace)
  for src in "${srcs[@]}"; do
    if ! "$TOOL" trace encode --profile="$p" "$src" "$tmp/in.bin" 2>"$tmp/err"; then
      # another target's seed the engine profile cannot express is fine; an own seed is not
      if [ "$(basename "$(dirname "$src")")" = "$t" ]; then echo "seeds: $t: $(cat "$tmp/err")" >&2; bad=1; fi
      continue
    fi
    "$TOOL" trace decode --profile="$p" "$tmp/in.bin" "$tmp/dec.trace"
    if ! timeout 60 "$TOOL" replay --fuzz --quiet "$tmp/dec.trace" >/dev/null 2>&1; then
      rc=$?
      [ $rc -eq 3 ] || { echo "seeds: $t: $src: decoded trace fails replay --fuzz (exit $rc)" >&2; bad=1; continue; }
    fi
    add "$tmp/in.bin" "$t"; n=$((n+1))
  done
  echo "seeds: $t: $n seeds ($added new), corpus now $(ls "corpus/$t" | wc -l) files"
done

added=0 n=0
for src in fuzz/seeds/*/*.trace corpus/regression/*.trace corpus/examples/*.trace; do
  add "$src" fuzz_trace_text; n=$((n+1))
done
echo "seeds: fuzz_trace_text: $n seeds ($added new), corpus now $(ls corpus/fuzz_trace_text | wc -l) files"
exit $bad
