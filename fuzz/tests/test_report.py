"""The morning report from a fake campaign folder, `make fuzz`'s summary
helpers, and the programs' exit codes for bad usage and bad input."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from refuzz import report
from refuzz.fuzzers import lf_final_stats
from refuzz.quick import column_t
from refuzz.util import ROOT, read_text

SAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'samples')


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


class Report(unittest.TestCase):
    def setUp(self):
        self.c = tempfile.mkdtemp()
        write(os.path.join(self.c, 'campaign.env'),
              'DURATION="2m"\nJOBS="1"\nENGINE="afl"\nTARGETS="fuzz_slab fuzz_trace_text"\n'
              'STARTED="2024-01-01T00:00:00Z"\nFZ_MUTANT=""\n')
        write(os.path.join(self.c, 'state', 'fuzz_slab.stats'),
              'engine=afl\nexecs=1000\nexecs_per_sec=20\nedges=50\ntotal_edges=900\nlf_cov=0\nlf_ft=0\n'
              'corpus=12\ncrashes=2\nseconds=60\n')
        write(os.path.join(self.c, 'state', 'fuzz_slab.seeds'), '10\n')
        write(os.path.join(self.c, 'findings', 'index.tsv'),
              'id\ttarget\tclass\tsignature\tcount\tfirst_seen\n'
              'aaaaaaaaaaaa\tfuzz_trace_text\tparser\tfuzz_trace_text: x N\t2\t2024-01-01T00:01:00Z\n')
        write(os.path.join(self.c, 'findings', 'aaaaaaaaaaaa', 'signature.txt'),
              'parser\tfuzz_trace_text: x N\nfuzz_trace_text: x 3\n')
        write(os.path.join(self.c, 'findings', 'aaaaaaaaaaaa', 'repro.trace'), 'machine\n\nkmalloc 8\n')

    def tearDown(self):
        shutil.rmtree(self.c)

    def test_report(self):
        said = []
        report.write_report(self.c, say=said.append)
        md = read_text(os.path.join(self.c, 'report.md'))
        self.assertIn('| fuzz_slab | afl | 60 | 1000 | 17 | 50/900 | - | 10 → 12 | 2 |', md)
        self.assertIn('| fuzz_trace_text | afl | 0 | 0 | 0 | - | - | 0 → 0 | 0 |', md)
        self.assertIn('### aaaaaaaaaaaa — fuzz_trace_text, parser (2 inputs)', md)
        self.assertIn('fuzz_trace_text: x 3', md)
        repro = os.path.join(self.c, 'findings', 'aaaaaaaaaaaa', 'repro.trace')
        self.assertIn('Reproducer: `%s` (2 lines)' % repro, md)
        # a text target replays with its -test driver
        self.assertIn('build/asan/fuzz/fuzz_trace_text-test %s' % repro, md)
        self.assertIn('    1 unique finding(s)', said)

    def test_bad_index_is_an_error_naming_the_line(self):
        with open(os.path.join(self.c, 'findings', 'index.tsv'), 'a') as f:
            f.write('broken line\n')
        r = subprocess.run([sys.executable, os.path.join(ROOT, 'fuzz', 'report.py'), self.c],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 65)
        self.assertIn('index.tsv:3: want 6 tab-separated fields', r.stderr)
        self.assertNotIn('Traceback', r.stderr)


class Summary(unittest.TestCase):
    def test_column_t(self):
        rows = [['target', 'execs'], ['fuzz_engine', '12'], ['x', '123456']]
        self.assertEqual(column_t(rows), ['    target       execs', '    fuzz_engine  12', '    x            123456'])

    def test_libfuzzer_final_stats(self):
        log = 'stat::number_of_executed_units: 4321\nstat::average_exec_per_sec:     72\nstat::new_units_added: 3\n'
        self.assertEqual(lf_final_stats(log), ('4321', '72'))
        self.assertEqual(lf_final_stats(read_text(os.path.join(SAMPLES, 'libfuzzer-fork.log'))), (None, None))


class ExitCodes(unittest.TestCase):
    """Bad usage is 64 with a message, never a traceback; nothing runs."""

    def run_prog(self, prog, *args, env=None):
        return subprocess.run([sys.executable, os.path.join(ROOT, prog)] + list(args), capture_output=True, text=True,
                              env=dict(os.environ, **(env or {})), timeout=60)

    def test_usage(self):
        for prog, args, env, words in (
                ('fuzz/campaign.py', ['--bogus'], {}, 'usage: fuzz/campaign.py'),
                ('fuzz/campaign.py', [], {'CAMPAIGN': '../escape'}, "CAMPAIGN='../escape'"),
                ('fuzz/campaign.py', [], {'CAMPAIGN': 'x', 'STATUS_EVERY': 'often'}, 'STATUS_EVERY='),
                ('fuzz/selftest.py', ['99'], {}, 'N: a mutant, 1-16'),
                ('fuzz/triage.py', ['fuzz_nope', '/tmp/x', '/tmp/y'], {}, "unknown fuzz target 'fuzz_nope'"),
                ('fuzz/run.py', [], {'FUZZ_ENGINE': 'honggfuzz'}, 'FUZZ_ENGINE must be'),
                ('fuzz/run.py', [], {'FUZZ_TIME': '0'}, 'FUZZ_TIME=0: must be at least 1'),
                ('fuzz/run.py', [], {'FZ_MUTANT': 'x'}, "FZ_MUTANT='x': want the number"),
                ('fuzz/speed.py', ['soon'], {}, 'usage: fuzz/speed.py'),
                ('fuzz/corpus-merge.py', ['/nonexistent'], {}, 'no campaign folder')):
            r = self.run_prog(prog, *args, env=env)
            self.assertEqual(r.returncode, 64, (prog, args, r.stderr))
            self.assertIn(words, r.stderr)
            self.assertNotIn('Traceback', r.stderr)


if __name__ == '__main__':
    unittest.main()
