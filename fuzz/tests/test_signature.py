"""Finding signatures and dedup: classification of replay reports, the
normalization that makes one bug's inputs compare equal (and equal to what
the shell version computed, so ids of existing findings still match), and
triage's index and dedup with a stand-in for the replay."""
import os
import shutil
import tempfile
import unittest

from refuzz import triage
from refuzz.build import Builds
from refuzz.signature import Signature, classify, normalize, parse_signature_file, top_frame
from refuzz.targets import Target
from refuzz.util import InputError, read_text

SAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'samples')


def sample(name):
    return read_text(os.path.join(SAMPLES, name))


class Classify(unittest.TestCase):
    def test_invariant_names_the_validator_line(self):
        cls, line = classify(sample('replay-invariant.txt'), 134)
        self.assertEqual(cls, 'invariant')
        self.assertTrue(line.startswith('BUG: refalloc: invariant: meminfo: MemTotal 65536 kB'), line)

    def test_asan_kind_and_frame(self):
        out = sample('replay-asan.txt')
        # the first frame is the libc interceptor: the first of ours names the spot
        self.assertEqual(top_frame(out), 'kaccess')
        cls, line = classify(out, 1)
        self.assertEqual(cls, 'asan:use-after-poison')
        self.assertTrue(line.endswith(' | kaccess'), line)
        self.assertEqual(normalize(line), 'ERROR: AddressSanitizer: use-after-poison on address # | kaccess')

    def test_asan_frame_with_file(self):
        out = ('==1==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x6020\n'
               '    #0 0x4f in slab_free_hook /src/engine/src/slab.c:120:5\n')
        self.assertEqual(top_frame(out), 'slab_free_hook slab.c')

    def test_order_and_classes(self):
        cases = [
            ('x.c:3:5: runtime error: signed integer overflow\n', 1, 'ubsan'),
            ('refalloc: engine bug at engine/src/buddy.c:104: p->order != order\n', 134, 'assertion'),
            ('BUG: refalloc: oracle: lost contents\nBUG: refalloc: invariant: x\n', 134, 'oracle'),
            ('BUG: refalloc: harness: oom-victim: killed pid 2\n', 134, 'harness'),
            ('refalloc fuzz: fuzz_slab: finding: replay exit 2 (0 oracle failures)\n', 134, 'finding'),
            ('', 124, 'timeout'),
            ('\nsomething odd\n', 139, 'crash'),
            ('', 70, 'crash'),
            ('all fine\n', 0, 'none'),
            ('BUG: refalloc: double-free in kmalloc-64\n', 1, 'none'),   # a modelled outcome
        ]
        for out, rc, want in cases:
            self.assertEqual(classify(out, rc)[0], want, out)
        self.assertEqual(classify('\nsomething odd\n', 139)[1], 'replay exit 139: something odd')

    def test_invariants_broken_takes_the_validators_words(self):
        out = 'BUG: refalloc: heap-corruption in task 2: malloc(): corrupted top size\nx: invariants broken: 1 problem\n'
        self.assertEqual(classify(out, 134), ('invariant', 'BUG: refalloc: heap-corruption in task 2: malloc(): '
                                                           'corrupted top size'))

    def test_parser_class_only_for_a_text_target(self):
        out = 'fuzz_trace_text: print does not round-trip:\n'
        self.assertEqual(classify(out, 134, parser='fuzz_trace_text')[0], 'parser')
        self.assertEqual(classify(out, 134)[0], 'crash')


class Normalize(unittest.TestCase):
    # expected values computed by the shell version's sed chain
    CASES = [
        ("BUG: refalloc: oracle: new object 0x7ffff6fc0000+65536 overlaps live 'm6' at 0x7ffff6fcf010+200000 (fuzz:22)",
         "BUG: refalloc: oracle: new object #+N overlaps live '?' at #+N"),
        ("==4136==ERROR: AddressSanitizer: use-after-poison on address 0x7fba19400008 at pc 0x7fba1e647681 "
         "bp 0x7ffe39dba950 sp 0x7ffe39dba100 | ra_poke mm.c",
         "ERROR: AddressSanitizer: use-after-poison on address # | ra_poke mm.c"),
        ("BUG: refalloc: harness: oom-victim: killed pid 2 (109 pages, oom_score_adj -500) but pid 3 has more "
         "(7863 pages, oom_score_adj 1000)",
         "BUG: refalloc: harness: oom-victim: killed pid? (N pages, oom_score_adj -N) but pid? has more "
         "(N pages, oom_score_adj N)"),
        ("refalloc: engine bug at engine/src/buddy.c:104: p->owner != PO_BUDDY || p->order != order "
         "(while executing fuzz:24)",
         "refalloc: engine bug at engine/src/buddy.c:N: p->owner != PO_BUDDY || p->order != order"),
        ("engine/src/slab.c:812:9: runtime error: load of misaligned address 0x000000000003 for type 'int', "
         "thread T12\t trailing   ",
         "engine/src/slab.c:N:N: runtime error: load of misaligned address # for type '?', thread T? trailing"),
    ]

    def test_as_the_shell_version(self):
        for raw, want in self.CASES:
            self.assertEqual(normalize(raw), want)

    def test_id_as_the_shell_version(self):
        s = Signature('invariant', 'BUG: refalloc: invariant: zone Normal cpu 0: pcp count 7 but its lists hold '
                                   '4 pages (fuzz:7)')
        self.assertEqual(s.id('fuzz_buddy'), '15ea0edf2ec7')

    def test_same_bug_other_input_same_id(self):
        a = Signature('oracle', "BUG: refalloc: oracle: new object 0x1000+64 overlaps live 'a' at 0x1010+8 (fuzz:3)")
        b = Signature('oracle', "BUG: refalloc: oracle: new object 0x9000+128 overlaps live 'k2' at 0x9010+8 (x:44)")
        self.assertEqual(a.id('fuzz_slab'), b.id('fuzz_slab'))
        self.assertNotEqual(a.id('fuzz_slab'), a.id('fuzz_engine'))

    def test_signature_file(self):
        s = Signature('ubsan', 'a.c:1:2: runtime error: x')
        self.assertEqual(parse_signature_file(s.text()), ('ubsan', 'a.c:N:N: runtime error: x',
                                                          'a.c:1:2: runtime error: x'))
        self.assertEqual(parse_signature_file(''), ('', '', ''))


class Index(unittest.TestCase):
    def setUp(self):
        self.d = tempfile.mkdtemp()
        self.p = os.path.join(self.d, 'index.tsv')

    def tearDown(self):
        shutil.rmtree(self.d)

    def test_add_bump_save_load(self):
        idx = triage.Index(self.p)
        idx.add('abc', 'fuzz_slab', 'oracle', 'BUG: x N', '2024-01-01T00:00:00Z')
        idx.bump('abc')
        idx.save()
        self.assertEqual(read_text(self.p), 'id\ttarget\tclass\tsignature\tcount\tfirst_seen\n'
                                            'abc\tfuzz_slab\toracle\tBUG: x N\t2\t2024-01-01T00:00:00Z\n')
        self.assertEqual(triage.Index(self.p).rows, [['abc', 'fuzz_slab', 'oracle', 'BUG: x N', 2,
                                                      '2024-01-01T00:00:00Z']])

    def test_bad_rows_name_the_line(self):
        with open(self.p, 'w') as f:
            f.write('id\ttarget\tclass\tsignature\tcount\tfirst_seen\nabc\tfuzz_slab\toracle\n')
        with self.assertRaises(InputError) as cm:
            triage.Index(self.p)
        self.assertTrue(str(cm.exception).startswith(self.p + ':2: want 6 tab-separated fields'))
        with open(self.p, 'w') as f:
            f.write('header\nabc\tt\tc\ts\tmany\twhen\n')
        with self.assertRaises(InputError) as cm:
            triage.Index(self.p)
        self.assertIn(":2: count 'many' is not a number", str(cm.exception))


class Dedup(unittest.TestCase):
    """triage() with the replay, the minimizer and the decoder stood in for."""

    def setUp(self):
        self.d = tempfile.mkdtemp()
        self.saved = (triage.signature, triage.minimize)
        # the input's content says which bug it hits
        triage.signature = lambda t, inp, b, log=None: Signature(
            *read_text(inp).split('|', 1)) if '|' in read_text(inp) else Signature('none', 'no')
        triage.minimize = lambda t, inp, d, key, b, mintime: shutil.copyfile(inp, os.path.join(d, 'min'))

    def tearDown(self):
        triage.signature, triage.minimize = self.saved
        shutil.rmtree(self.d)

    def crash(self, name, text):
        p = os.path.join(self.d, name)
        with open(p, 'w') as f:
            f.write(text)
        return p

    def test_one_finding_per_signature_smallest_input_kept(self):
        a1 = self.crash('a1', 'oracle|BUG: refalloc: oracle: lost contents of 0x100000 (fuzz:5)')
        a2 = self.crash('a2', 'oracle|BUG: refalloc: oracle: lost contents of 0x2 (x:9)')
        b1 = self.crash('b1', 'ubsan|x.c:1:1: runtime error: y')
        none = self.crash('n', 'does not reproduce')
        empty = self.crash('e', '')
        out = os.path.join(self.d, 'findings')
        said = []
        text_target = Target('fuzz_text', None)
        new = triage.triage(text_target, out, [a1, a2, b1, none, empty], Builds(), say=said.append)
        self.assertEqual(len(new), 2)
        rows = triage.Index(os.path.join(out, 'index.tsv')).rows
        self.assertEqual([(r[2], r[4]) for r in rows], [('oracle', 2), ('ubsan', 1)])
        fa = os.path.join(out, rows[0][0])
        self.assertEqual(read_text(os.path.join(fa, 'input')), read_text(a2))      # the smaller one
        self.assertEqual(read_text(os.path.join(fa, 'repro.trace')), read_text(a1))  # text: the input itself
        self.assertIn('oracle', read_text(os.path.join(fa, 'signature.txt')).split('\n')[0])
        self.assertIn('fuzz_text-test %s/repro.trace' % fa, read_text(os.path.join(fa, 'README')))
        self.assertEqual(len([s for s in said if 'new finding' in s]), 2)
        # a second triage of the same inputs only counts
        self.assertEqual(triage.triage(text_target, out, [a1, b1], Builds(), say=said.append), [])
        rows = triage.Index(os.path.join(out, 'index.tsv')).rows
        self.assertEqual([r[4] for r in rows], [3, 2])


if __name__ == '__main__':
    unittest.main()
