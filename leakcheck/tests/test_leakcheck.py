"""leakcheck.py's reading of what each detector printed (captured outputs
of the engine, Valgrind memcheck, LeakSanitizer and ASan in samples/), the
trace annotations with errors naming file and line, and the tables."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import leakcheck as lc

SAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'samples')


def sample(name):
    with open(os.path.join(SAMPLES, name)) as f:
        return f.read()


class Valgrind(unittest.TestCase):
    def test_leaks_of_a_leaking_trace(self):
        log = sample('valgrind-mixed.log')          # corpus/leak/mixed.trace
        self.assertEqual(lc.vg_counts(log), (10, 1375583))
        self.assertEqual(lc.vg_counts(log, 'possibly lost'), (0, 0))
        # its 8 error contexts are all definite leak records
        self.assertEqual(lc.vg_other_errors(log), 0)
        self.assertEqual(lc.vg_other_errors(log, ('definitely', 'possibly')), 0)

    def test_all_heap_blocks_freed(self):
        log = sample('valgrind-clean.log')
        self.assertIn('All heap blocks were freed', log)
        self.assertEqual(lc.vg_counts(log), (0, 0))
        self.assertEqual(lc.vg_other_errors(log), 0)

    def test_errors_possible_and_definite(self):
        log = sample('valgrind-errors.log')          # a use after free, one possibly and one definitely lost
        self.assertEqual(lc.vg_counts(log), (1, 40))
        self.assertEqual(lc.vg_counts(log, 'possibly lost'), (1, 100))
        # 3 contexts: the invalid read is the one that is no leak record
        self.assertEqual(lc.vg_other_errors(log, ('definitely', 'possibly')), 1)
        self.assertEqual(lc.vg_other_errors(log), 2)

    def test_suppressed_trace_objects(self):
        log = sample('valgrind-suppressed.log')      # gfp-classes.trace with trace-objects.supp
        self.assertEqual(lc.vg_counts(log, 'suppressed'), (9, 4718592))
        self.assertEqual(lc.vg_counts(log), (0, 0))
        self.assertEqual(lc.engine_leaks(sample('engine-gfp-classes.out')), (9, 4718592))


class EngineAndSanitizers(unittest.TestCase):
    def test_engine_leak_summary(self):
        self.assertEqual(lc.engine_leaks(sample('engine-mixed.out')), (10, 1375583))
        self.assertEqual(lc.engine_leaks('LEAK SUMMARY: definitely lost: 0 bytes in 0 blocks\n'), (0, 0))
        self.assertIsNone(lc.engine_leaks('no report at all\n'))

    def test_lsan_summary(self):
        self.assertEqual(lc.lsan_leaks(sample('lsan-mixed.err')), (10, 1375583))
        # LSan counts a zero-size block as one byte: zero-size.trace leaks 16 bytes, LSan says 19
        self.assertEqual(lc.lsan_leaks(sample('lsan-zero-size.err')), (4, 19))
        self.assertEqual(lc.lsan_leaks(''), (0, 0))

    def test_asan_report_names_the_trace_line(self):
        err = sample('asan-kmalloc-uaf-write.err')
        self.assertEqual(lc.asan_report(err, 'kmalloc-uaf-write.trace'), ('use-after-poison', 14))
        self.assertEqual(lc.asan_report(err, 'other.trace'), ('use-after-poison', None))
        self.assertEqual(lc.asan_report('', 'x.trace'), (None, None))

    def test_engine_bug_line(self):
        bug = lc.first_bug(sample('engine-debug-kmalloc-uaf-write.err'))
        self.assertTrue(bug.startswith('BUG: refalloc: poison-overwritten in kmalloc-64: '))
        self.assertTrue(bug.endswith('(kmalloc-uaf-write.trace:15)'))
        self.assertEqual(lc.bug_summary(bug), 'poison-overwritten (line 15)')
        self.assertEqual(lc.bug_summary('BUG: refalloc: odd'), 'BUG: refalloc: odd')
        self.assertIsNone(lc.first_bug('nothing\n'))

    def test_poison_read(self):
        got = lc.peeked_bytes(sample('engine-debug-kmalloc-uaf-read.out'))
        self.assertEqual(got, ['6b'] * 16)
        self.assertEqual(lc.peeked_bytes('some output\n'), [])

    def test_formatting(self):
        self.assertEqual(lc.fmt_bb((10, 1375583)), '10 / 1,375,583')
        self.assertEqual(lc.fmt_bb(None), 'none')


class Annotations(unittest.TestCase):
    def test_good(self):
        e = lc.Expect('t.trace', '# header\n# expect-leaks: 8 430184\n# expect-lsan-bytes: 19\n'
                                 '# expect-asan: 19\n# expect-engine: 20 heap-corruption\nmachine\n')
        self.assertEqual((e.leaks, e.lsan_bytes, e.asan_line, e.engine),
                         ((8, 430184), 19, 19, (20, 'heap-corruption', None)))
        e = lc.Expect('t.trace', '# expect-engine: 14 poison-read 6b\n# expect-engine: 99 ignored\n')
        self.assertEqual(e.engine, (14, 'poison-read', '6b'))

    def test_bad_lines_name_file_and_line(self):
        for text, line, words in (('x\n# expect-leaks: 8\n', 2, 'BLOCKS BYTES'),
                                  ('# expect-leaks: eight 100\n', 1, 'BLOCKS BYTES'),
                                  ('\n\n# expect-asan: line 5\n', 3, 'expect-asan: LINE'),
                                  ('# expect-engine: 14 poison-read\n', 1, 'poison-read BYTE'),
                                  ('# expect-engine: 14 poison-read 6bb\n', 1, 'two hex digits'),
                                  ('# expect-engine: 14 page-fault 6b\n', 1, 'LINE CLASS'),
                                  ('# expect-lsan-bytes:\n', 1, 'expect-lsan-bytes: BYTES')):
            with self.assertRaises(lc.InputError) as cm:
                lc.Expect('corpus/leak/t.trace', text)
            self.assertTrue(str(cm.exception).startswith('corpus/leak/t.trace:%d: ' % line), str(cm.exception))
            self.assertIn(words, str(cm.exception))

    def test_a_bad_trace_is_a_failed_row_not_a_crash(self):
        d = tempfile.mkdtemp()
        try:
            p = os.path.join(d, 'bad.trace')
            with open(p, 'w') as f:
                f.write('# expect-leaks: lots\nmachine\n')
            row = lc.worker_leak(p)
            self.assertEqual(row[0], 'bad')
            self.assertEqual(row[5], 'FAIL')
            self.assertIn('bad.trace:1: ', row[6])
            with open(p, 'w') as f:
                f.write('machine\n')
            self.assertEqual(lc.worker_leak(p)[6], 'no "# expect-leaks: BLOCKS BYTES" line')
            self.assertEqual(lc.worker_misuse(p)[3], 'FAIL')
        finally:
            shutil.rmtree(d)


class Table(unittest.TestCase):
    def test_as_the_shell_version(self):
        # the shell version's awk table, for this input
        self.assertEqual(lc.table(['trace', 'agree'], [['mixed', 'yes'], ['zero-size', 'NO']]),
                         ['  trace     | agree', '  ----------+------', '  mixed     | yes', '  zero-size | NO'])

    def test_empty_last_cells_trimmed(self):
        self.assertEqual(lc.table(['a', 'b'], [['x', '']]), ['  a | b', '  --+--', '  x'])


class Usage(unittest.TestCase):
    def test_bad_usage_is_64_and_runs_nothing(self):
        prog = os.path.join(lc.ROOT, 'leakcheck', 'leakcheck.py')
        for args, words in ((['-j', 'x'], '-j wants a number'), (['-j'], '-j wants a number'),
                            (['-j0'], '-j wants a number >= 1'), (['--slow'], 'usage: leakcheck/leakcheck.py')):
            r = subprocess.run([sys.executable, prog] + args, capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 64, args)
            self.assertIn(words, r.stderr)
            self.assertNotIn('Traceback', r.stderr)
            self.assertEqual(r.stdout, '')

    def test_options(self):
        self.assertEqual(lc.parse_args(['--fast', '--no-build', '-j', '3']), (True, False, 3))
        self.assertEqual(lc.parse_args(['-j4'])[2], 4)


if __name__ == '__main__':
    unittest.main()
