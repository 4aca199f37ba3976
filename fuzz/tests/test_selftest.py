"""The selftest's table (TSV in, terminal lines and markdown out, bad files
named by line), what-caught-it classification, and the mutant list agreeing
with the engine's #if RA_MUTANT blocks."""
import os
import unittest

from refuzz import selftest
from refuzz.util import ROOT, InputError

TSV = ('mutant\tlayer\ttarget\tdescription\tdetected_by\tseconds\tfirst_line\tscratch_seconds\n'
       '4\tbuddy\tfuzz_buddy\tfree-list double insert of an unmerged order-2 block\tassertion (seed)\t0.1\t'
       'refalloc: engine bug at engine/src/buddy.c:104: p->owner != PO_BUDDY || p->order != order (while executing '
       'fuzz:24)\t2.2\n'
       '15\toom\tfuzz_umalloc\toom_score_adj -1000 no longer exempts a task from the OOM killer\tharness\t20.7\t'
       'BUG: refalloc: harness: oom-victim: killed pid 2 although its oom_score_adj is -1000 [+1 crash(es) the '
       'unmutated engine shares, skipped]\t-\n'
       '16\tx\tfuzz_x\tnever found\tmissed\t>60\tnot found in 60 s\t-\n')


class Table(unittest.TestCase):
    def test_parse(self):
        rows = selftest.parse_table(TSV, 'table.tsv')
        self.assertEqual([r['mutant'] for r in rows], ['4', '15', '16'])
        self.assertEqual(rows[0]['detected_by'], 'assertion (seed)')
        self.assertEqual([selftest.is_found(r) for r in rows], [True, True, False])

    def test_markdown_as_before(self):
        md = selftest.render_md(selftest.parse_table(TSV, 'table.tsv')).splitlines()
        self.assertEqual(md[0], '| mutant | layer | description | detected by | seconds (from seeds) | '
                                'seconds (from scratch) | the finding\'s first line |')
        self.assertEqual(md[1], '|---|---|---|---|---|---|---|')
        # | in the line is escaped before it is cut at 140 characters
        self.assertEqual(md[2], '| 4 | buddy | free-list double insert of an unmerged order-2 block | assertion (seed) '
                                '| 0.1 | 2.2 | `refalloc: engine bug at engine/src/buddy.c:104: p->owner != PO_BUDDY '
                                '\\|\\| p->order != order (while executing fuzz:24)` |')
        self.assertTrue(md[3].endswith('| 20.7 | - | `BUG: refalloc: harness: oom-victim: killed pid 2 although its '
                                       'oom_score_adj is -1000 [+1 crash(es) the unmutated engine shares, skipped]` |'), md[3])
        # a longer line is cut at 140 characters
        long = dict(selftest.parse_table(TSV, 'table.tsv')[2], first_line='x' * 150)
        self.assertTrue(selftest.render_md([long]).endswith('| `' + 'x' * 140 + '` |\n'))

    def test_terminal_line(self):
        row = selftest.parse_table(TSV, 'table.tsv')[0]
        self.assertEqual(selftest.format_row(row),
                         '  mutant 4   buddy      fuzz_buddy    assertion (seed)    0.1s  scratch    2.2s  '
                         'refalloc: engine bug at engine/src/buddy.c:104: p->owner != PO_BUDDY || p->order != order ')

    def test_bad_tables(self):
        for text, line, words in (('mutant\tlayer\n', 1, 'not a selftest table'),
                                  (TSV + '17\tshort\n', 5, 'want 8 tab-separated fields, found 2'),
                                  (TSV.replace('\n4\t', '\nfour\t'), 2, "mutant 'four' is not a number")):
            with self.assertRaises(InputError) as cm:
                selftest.parse_table(text, 'out/fuzz/selftest/table.tsv')
            self.assertTrue(str(cm.exception).startswith('out/fuzz/selftest/table.tsv:%d: ' % line), str(cm.exception))
            self.assertIn(words, str(cm.exception))

    def test_cells_hold_no_tabs_or_newlines(self):
        self.assertEqual(selftest._cell('a\tb\nc'), 'a b c')


class Detection(unittest.TestCase):
    def test_classes(self):
        cases = [
            ('x\nBUG: refalloc: oracle: malloc_usable_size(0x1) = 56 < the 64 bytes asked (fuzz:4)\n', 134,
             ('oracle', 'BUG: refalloc: oracle: malloc_usable_size(0x1) = 56 < the 64 bytes asked (fuzz:4)')),
            ('==1==ERROR: AddressSanitizer: SEGV on unknown address\n', 134,
             ('sanitizer', '==1==ERROR: AddressSanitizer: SEGV on unknown address')),
            ('refalloc: engine bug at engine/src/buddy.c:104: x\n', 134,
             ('assertion', 'refalloc: engine bug at engine/src/buddy.c:104: x')),
            ('fuzz:3: invariants broken after kfree: 1 problem\n', 134,
             ('invariant', 'fuzz:3: invariants broken after kfree: 1 problem')),
            ('', 124, ('hang', 'no end in 5 s (an infinite loop)')),
            ('', 139, ('crash', 'signal 11 (SEGV)')),
            ('', 134, ('crash', 'signal 6 (ABRT)')),
            ('', 0, ('none', 'replay exit 0')),
        ]
        for log, rc, want in cases:
            self.assertEqual(selftest.classify_detection(log, rc), want)


class Mutants(unittest.TestCase):
    def test_every_mutant_has_its_block_and_target(self):
        cwd = os.getcwd()
        os.chdir(ROOT)
        try:
            from refuzz import targets
            names = targets.names()
            self.assertEqual([m[0] for m in selftest.MUTANTS], list(range(1, 17)))
            for n, _, tname, _ in selftest.MUTANTS:
                self.assertIsNotNone(selftest.mutant_file(n), 'mutant %d has an #if RA_MUTANT block' % n)
                self.assertIn(tname, names)
        finally:
            os.chdir(cwd)


if __name__ == '__main__':
    unittest.main()
