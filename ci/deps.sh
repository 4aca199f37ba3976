#!/usr/bin/env bash
# Install the Debian packages refalloc needs, only those that are missing.
# Idempotent: a second run with everything present does nothing and prints one line.
# Usage: ci/deps.sh [--check]   (--check: report what is missing, install nothing; exit 1 if any)
set -euo pipefail

# package -> a file it provides, so presence is checked without dpkg's slow query
declare -A PROBE=(
  [gcc]=/usr/bin/gcc
  [make]=/usr/bin/make
  [clang]=/usr/bin/clang
  [llvm]=/usr/bin/llvm-profdata
  [libclang-rt-14-dev]=/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a
  [afl++]=/usr/bin/afl-fuzz
  [valgrind]=/usr/bin/valgrind
  [hyperfine]=/usr/bin/hyperfine
  [gnuplot-nox]=/usr/bin/gnuplot
  [libjemalloc-dev]=/usr/include/jemalloc/jemalloc.h
  [libmimalloc-dev]=/usr/include/mimalloc.h
  [libgoogle-perftools-dev]=/usr/include/gperftools/tcmalloc.h
  [python3]=/usr/bin/python3
  [zip]=/usr/bin/zip
  [unzip]=/usr/bin/unzip
  [sqlite3]=/usr/bin/sqlite3
)

missing=()
for pkg in "${!PROBE[@]}"; do
  [ -e "${PROBE[$pkg]}" ] || missing+=("$pkg")
done
# stable order for the message
IFS=$'\n' missing=($(printf '%s\n' "${missing[@]:-}" | sed '/^$/d' | sort)); unset IFS

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all packages present"
  exit 0
fi
if [ "${1:-}" = "--check" ]; then
  echo "deps: missing: ${missing[*]}"
  exit 1
fi
echo "deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "deps: not root and no sudo; install as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${missing[*]}"
