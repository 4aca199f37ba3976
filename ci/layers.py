#!/usr/bin/env python3
"""Check the engine's include layering (engine/src/layers.txt).

  ci/layers.py [--root DIR]

Two rules:
  1. Inside engine/src, a file includes only headers of its own layer or of
     layers listed before it in layers.txt; every file of engine/src is
     listed exactly once.
  2. Outside the engine (bench/, fuzz/, engine/tool/, leakcheck/), no file
     includes an engine-internal header: only engine/include/refalloc/*.
     The engine's own white-box tests (engine/tests, engine/umalloc) may.

Each violation is printed as FILE:LINE: error: ...; exit 0 when clean, 1 on
violations, 2 when layers.txt itself cannot be read.
"""
import argparse
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
OUTSIDE = ("bench", "fuzz", os.path.join("engine", "tool"), "leakcheck")


class LayersError(Exception):
    pass


def read_layers(path):
    """Return (ordered layer names, {file: layer index})."""
    names, rank = [], {}
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except OSError as e:
        raise LayersError(f"{path}: cannot read: {e.strerror}")
    for no, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if ":" not in line:
            raise LayersError(f"{path}:{no}: error: expected 'layer: files...'")
        name, files = line.split(":", 1)
        name = name.strip()
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or name in names:
            raise LayersError(f"{path}:{no}: error: bad or repeated layer name '{name}'")
        names.append(name)
        for fn in files.split():
            if fn in rank:
                raise LayersError(f"{path}:{no}: error: {fn} is already in layer '{names[rank[fn]]}'")
            rank[fn] = len(names) - 1
    if not names:
        raise LayersError(f"{path}: error: no layers")
    return names, rank


def includes(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        for no, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if m:
                yield no, m.group(1)


def check(root):
    src = os.path.join(root, "engine", "src")
    names, rank = read_layers(os.path.join(src, "layers.txt"))
    problems = []
    here = sorted(f for f in os.listdir(src) if f.endswith((".c", ".h")))
    for fn in here:
        if fn not in rank:
            problems.append(f"engine/src/{fn}:1: error: not in engine/src/layers.txt: give it a layer")
    for fn in sorted(rank):
        if fn.endswith((".c", ".h")) and fn not in here and not os.path.exists(
                os.path.join(root, "engine", "umalloc", fn)):
            problems.append(f"engine/src/layers.txt:1: error: {fn} is listed but does not exist")
    for fn in here:
        if fn not in rank:
            continue
        for no, inc in includes(os.path.join(src, fn)):
            if inc.startswith("refalloc/"):
                continue
            base = os.path.basename(inc)
            if base not in rank:
                problems.append(f"engine/src/{fn}:{no}: error: includes \"{inc}\", which has no layer in layers.txt")
            elif rank[base] > rank[fn]:
                problems.append(f"engine/src/{fn}:{no}: error: layer '{names[rank[fn]]}' includes \"{inc}\" "
                                f"of the higher layer '{names[rank[base]]}'")
    internal = {f for f in rank if f.endswith(".h")}
    for top in OUTSIDE:
        d = os.path.join(root, top)
        for dirpath, _, files in os.walk(d):
            for fn in sorted(files):
                if not fn.endswith((".c", ".h")):
                    continue
                p = os.path.join(dirpath, fn)
                for no, inc in includes(p):
                    if not inc.startswith("refalloc/") and os.path.basename(inc) in internal:
                        problems.append(f"{os.path.relpath(p, root)}:{no}: error: includes the engine-internal "
                                        f"\"{inc}\": use the public headers in engine/include/refalloc")
    return problems


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    a = ap.parse_args(argv)
    try:
        problems = check(os.path.normpath(a.root))
    except LayersError as e:
        print(e, file=sys.stderr)
        return 2
    for p in problems:
        print(p)
    if problems:
        print(f"layers: {len(problems)} violation{'s' if len(problems) != 1 else ''}")
        return 1
    print("layers: clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
