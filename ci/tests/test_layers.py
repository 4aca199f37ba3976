"""Tests of ci/layers.py on small trees made for the purpose."""
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import layers  # noqa: E402

LAYERS = """# lowest first
low:  low.h low.c
mid:  mid.h mid.c
top:  top.c
"""


def tree(files):
    root = tempfile.mkdtemp(prefix="layers-")
    for path, text in files.items():
        p = os.path.join(root, path)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w", encoding="utf-8") as f:
            f.write(text)
    return root


GOOD = {
    "engine/src/layers.txt": LAYERS,
    "engine/src/low.h": "#include <stdint.h>\n",
    "engine/src/low.c": '#include "low.h"\n',
    "engine/src/mid.h": '#include "low.h"\n',
    "engine/src/mid.c": '#include "mid.h"\n#include "refalloc/refalloc.h"\n',
    "engine/src/top.c": '#include "mid.h"\n#include "low.h"\n',
    "bench/b.c": '#include "refalloc/stats.h"\n',
}


class LayersTest(unittest.TestCase):
    def test_clean_tree(self):
        self.assertEqual(layers.check(tree(GOOD)), [])

    def test_lower_layer_including_higher_header_fails(self):
        files = dict(GOOD)
        files["engine/src/low.c"] = '#include "low.h"\n#include "mid.h"\n'
        self.assertEqual(layers.check(tree(files)), [
            "engine/src/low.c:2: error: layer 'low' includes \"mid.h\" of the higher layer 'mid'"])
        self.assertEqual(layers.main(["--root", tree(files)]), 1)

    def test_unlisted_file_and_unknown_header(self):
        files = dict(GOOD)
        files["engine/src/new.c"] = '#include "low.h"\n'
        files["engine/src/top.c"] = '#include "other.h"\n'
        self.assertEqual(layers.check(tree(files)), [
            "engine/src/new.c:1: error: not in engine/src/layers.txt: give it a layer",
            "engine/src/top.c:1: error: includes \"other.h\", which has no layer in layers.txt"])

    def test_outside_the_engine_only_public_headers(self):
        files = dict(GOOD)
        files["fuzz/f.c"] = '#include "refalloc/trace.h"\n#include "mid.h"\n'
        self.assertEqual(layers.check(tree(files)), [
            "fuzz/f.c:2: error: includes the engine-internal \"mid.h\": use the public headers in "
            "engine/include/refalloc"])

    def test_bad_layers_file(self):
        files = dict(GOOD)
        files["engine/src/layers.txt"] = "low: low.h\nthis line has no colon\n"
        with self.assertRaises(layers.LayersError) as e:
            layers.check(tree(files))
        self.assertIn("layers.txt:2: error: expected 'layer: files...'", str(e.exception))
        files["engine/src/layers.txt"] = "low: low.h\nmid: low.h\n"
        with self.assertRaises(layers.LayersError) as e:
            layers.check(tree(files))
        self.assertIn("layers.txt:2: error: low.h is already in layer 'low'", str(e.exception))
        self.assertEqual(layers.main(["--root", tree(files)]), 2)

    def test_the_real_engine_is_layered(self):
        root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
        inside = [p for p in layers.check(root) if p.startswith("engine/src")]
        self.assertEqual(inside, [])


if __name__ == "__main__":
    unittest.main()
