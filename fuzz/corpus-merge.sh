#!/usr/bin/env bash
# fuzz/corpus-merge.sh — `make corpus-merge`: fold a campaign's inputs back
# into the seed corpora.
#
#   fuzz/corpus-merge.sh [FROM]      FROM: out/fuzz/<campaign> or out/fuzz/quick
#                                    (default: the newest folder under out/fuzz)
#
# For each target with new inputs (AFL++ queues of every instance,
# libFuzzer's corpus, make fuzz's working corpus), libFuzzer -merge=1 keeps
# only the inputs that add coverage over corpus/<target>/ (afl-cmin when the
# libFuzzer build is missing). Kept inputs are renamed to the sha1 of their
# bytes, so merging twice adds nothing. Crash inputs are never merged: they
# live in the campaign's findings/ (and, fixed, in corpus/regression).
set -euo pipefail
cd "$(dirname "$0")/.."
. fuzz/lib.sh
FROM=${1:-$(ls -dt out/fuzz/*/ 2>/dev/null | grep -v selftest | head -1 || true)}
FROM=${FROM%/}
[ -n "$FROM" ] && [ -d "$FROM" ] || { echo "corpus-merge: no campaign folder (give FROM=out/fuzz/<campaign>)" >&2; exit 64; }
echo "==> corpus-merge from $FROM"
fz_build V=libfuzzer lib fuzz-bins || true
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
total=0
for t in $FUZZ_ALL_TARGETS; do
  srcs=()
  for d in "$FROM"/afl/"$t"/*/queue "$FROM/lf/$t/corpus" "$FROM/$t/corpus" "$FROM/$t/afl/default/queue"; do
    [ -d "$d" ] && srcs+=("$d")
  done
  [ ${#srcs[@]} -gt 0 ] || continue
  mkdir -p "corpus/$t" "$tmp/$t"
  before=$(ls "corpus/$t" | wc -l)
  maxlen=$(fz_lf_opt "$t" max_len)
  if [ -x "build/libfuzzer/fuzz/$t" ]; then
    # merge into a scratch copy of the corpus: libFuzzer adds to the first dir
    cp "corpus/$t"/* "$tmp/$t/" 2>/dev/null || true
    ASAN_OPTIONS=detect_leaks=0 timeout 1800 "build/libfuzzer/fuzz/$t" -merge=1 ${maxlen:+-max_len=$maxlen} \
      -timeout=10 "$tmp/$t" "${srcs[@]}" >"$tmp/$t.log" 2>&1 ||
      { echo "corpus-merge: $t: libFuzzer -merge failed (see below)"; tail -5 "$tmp/$t.log"; continue; }
  else
    mkdir -p "$tmp/$t.in"
    for d in "${srcs[@]}" "corpus/$t"; do cp "$d"/* "$tmp/$t.in/" 2>/dev/null || true; done
    rm -rf "$tmp/$t"
    AFL_SKIP_BIN_CHECK=1 timeout 1800 afl-cmin -i "$tmp/$t.in" -o "$tmp/$t" -- "build/afl/fuzz/$t" >"$tmp/$t.log" 2>&1 ||
      { echo "corpus-merge: $t: afl-cmin failed"; tail -5 "$tmp/$t.log"; continue; }
  fi
  added=0
  for f in "$tmp/$t"/*; do
    [ -f "$f" ] || continue
    h=$(sha1sum "$f" | cut -c1-40)
    [ -e "corpus/$t/$h" ] || { cp "$f" "corpus/$t/$h"; added=$((added + 1)); }
  done
  total=$((total + added))
  echo "    $t: corpus $before -> $(ls "corpus/$t" | wc -l) files (+$added from ${#srcs[@]} folder(s))"
done
echo "corpus-merge: $total input(s) added; check them in with the corpus (they replay in make test)"
