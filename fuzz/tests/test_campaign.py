"""Campaign state and resume: campaign.env, the state/ numbers, the
fuzzers' status files, and a killed campaign picking up where it was, on a
fake campaign folder with stand-ins for the fuzzers."""
import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from refuzz import campaign, state
from refuzz import targets as targets_mod
from refuzz.build import Builds
from refuzz.fuzzers import parse_fuzzer_stats, parse_lf_status, parse_plot_data
from refuzz.util import InputError, UsageError, read_text

SAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'samples')


def sample(name):
    with open(os.path.join(SAMPLES, name)) as f:
        return f.read()


class Env(unittest.TestCase):
    def test_round_trip(self):
        d = {'DURATION': '2m', 'JOBS': '1', 'ENGINE': 'afl', 'TARGETS': 'fuzz_engine fuzz_slab',
             'STARTED': '2024-01-01T00:00:00Z', 'FZ_MUTANT': ''}
        self.assertEqual(dict(state.parse_env(state.format_env(d), 'c.env')), d)

    def test_quotes_comments_and_lines(self):
        e = state.parse_env("# saved\nA='x y'\n\nB=plain\nC=\"q\"\n", 'c.env')
        self.assertEqual(dict(e), {'A': 'x y', 'B': 'plain', 'C': 'q'})
        self.assertEqual(e.lines['B'], 4)

    def test_bad_line_names_file_and_line(self):
        with self.assertRaises(InputError) as cm:
            state.parse_env('A="1"\nthis is not it\n', 'out/fuzz/c/campaign.env')
        self.assertTrue(str(cm.exception).startswith('out/fuzz/c/campaign.env:2: '))

    def test_duration(self):
        for s, v in (('8h', 28800), ('2m', 120), ('90s', 90), ('120', 120), ('1h30m', 5400), (' 5m ', 300)):
            self.assertEqual(state.parse_duration(s), v, s)
        for s in ('', 'h', '2x', '1.5h', '-3', 'm2'):
            self.assertIsNone(state.parse_duration(s), s)


class StateFiles(unittest.TestCase):
    def setUp(self):
        self.c = tempfile.mkdtemp()
        self.st = state.State(self.c)

    def tearDown(self):
        shutil.rmtree(self.c)

    def test_numbers(self):
        self.assertEqual(self.st.get_int('t.done'), 0)
        self.st.set_int('t.done', 42)
        self.assertEqual(self.st.get_int('t.done'), 42)
        self.assertEqual(read_text(self.st.path('t.done')), '42\n')
        self.assertEqual([f for f in os.listdir(self.st.dir) if '.tmp' in f], [])

    def test_written_by_the_shell_version(self):
        os.makedirs(self.st.dir)
        with open(self.st.path('elapsed'), 'w') as f:
            f.write('1234\n')
        self.assertEqual(self.st.get_int('elapsed'), 1234)

    def test_empty_counts_zero_garbage_is_an_error(self):
        os.makedirs(self.st.dir)
        open(self.st.path('t.done'), 'w').close()
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            self.assertEqual(self.st.get_int('t.done'), 0)
        self.assertIn('t.done is empty (killed while it was written?): counting 0', err.getvalue())
        with open(self.st.path('t.done'), 'w') as f:
            f.write('12 seconds\n')
        with self.assertRaises(InputError) as cm:
            self.st.get_int('t.done')
        self.assertIn('t.done:1: want a whole number', str(cm.exception))

    def test_kv(self):
        self.st.set_kv('t.stats', {'engine': 'afl', 'execs': 10})
        self.assertEqual(self.st.get_kv('t.stats'), {'engine': 'afl', 'execs': '10'})
        self.assertEqual(self.st.get_kv('missing.stats'), {})


class Params(unittest.TestCase):
    def setUp(self):
        self.c = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.c)

    def test_new_then_resumed_keeps_its_parameters(self):
        p, resumed = campaign.load_params(self.c, {'DURATION': '6m', 'JOBS': '3', 'ENGINE': 'both',
                                                   'TARGETS': 'fuzz_slab fuzz_buddy'})
        self.assertFalse(resumed)
        self.assertEqual((p.total, p.per, p.nafl, p.nlf), (360, 180, 2, 1))
        # the second run's environment differs: the campaign keeps its own
        p2, resumed = campaign.load_params(self.c, {'DURATION': '8h', 'JOBS': '1', 'ENGINE': 'afl'})
        self.assertTrue(resumed)
        self.assertEqual((p2.duration, p2.jobs, p2.engine), ('6m', 3, 'both'))
        self.assertEqual([t.name for t in p2.targets], ['fuzz_slab', 'fuzz_buddy'])

    def test_defaults(self):
        p, _ = campaign.load_params(self.c, {})
        self.assertEqual((p.duration, p.engine), ('8h', 'afl'))
        # every target of fuzz/targets, the one list
        self.assertEqual([t.name for t in p.targets], [t.name for t in targets_mod.load()])

    def test_bad_environment_is_usage_and_saves_nothing(self):
        for env, words in (({'ENGINE': 'honggfuzz'}, 'ENGINE must be'), ({'JOBS': '0'}, 'JOBS must be >= 1'),
                           ({'JOBS': 'many'}, 'JOBS must be'), ({'DURATION': 'soon'}, 'DURATION='),
                           ({'TARGETS': 'fuzz_nope'}, 'unknown fuzz target(s) fuzz_nope'),
                           ({'DURATION': '3s'}, 'less than a second each'),
                           ({'FZ_MUTANT': '13a'}, "FZ_MUTANT='13a'")):
            with self.assertRaises(UsageError) as cm:
                campaign.load_params(self.c, env)
            self.assertIn(words, str(cm.exception))
            self.assertFalse(os.path.exists(os.path.join(self.c, 'campaign.env')))

    def test_bad_saved_parameters_name_the_line(self):
        with open(os.path.join(self.c, 'campaign.env'), 'w') as f:
            f.write('DURATION="2m"\nJOBS="2"\nENGINE="afl"\nTARGETS="fuzz_slab fuzz_gone"\n')
        with self.assertRaises(InputError) as cm:
            campaign.load_params(self.c, {})
        self.assertTrue(str(cm.exception).startswith(os.path.join(self.c, 'campaign.env') + ':4: '))
        with open(os.path.join(self.c, 'campaign.env'), 'w') as f:
            f.write('DURATION="2m"\nENGINE="afl"\n')
        with self.assertRaises(InputError) as cm:
            campaign.load_params(self.c, {})
        self.assertIn('no JOBS, TARGETS line', str(cm.exception))


class FuzzerFiles(unittest.TestCase):
    def test_plot_data(self):
        row = parse_plot_data(sample('afl-plot_data'))
        self.assertEqual(row['relative_time'], '65')
        self.assertEqual(row['total_execs'], '242223')
        self.assertEqual(row['edges_found'], '2205')

    def test_plot_data_half_written_row_and_header_only(self):
        text = sample('afl-plot_data') + '70, 0, 0, 1'
        self.assertEqual(parse_plot_data(text)['relative_time'], '65')
        self.assertIsNone(parse_plot_data(sample('afl-plot_data').splitlines()[0] + '\n'))

    def test_plot_data_columns_by_header(self):
        text = '# total_execs, relative_time, edges_found, corpus_count\n500, 10, 7, 3\n'
        row = parse_plot_data(text)
        self.assertEqual((row['total_execs'], row['relative_time']), ('500', '10'))

    def test_fuzzer_stats(self):
        st = parse_fuzzer_stats(sample('afl-fuzzer_stats'))
        self.assertEqual(st['execs_done'], '242223')
        self.assertEqual(st['total_edges'], '10840')

    def test_libfuzzer_status(self):
        d = parse_lf_status(sample('libfuzzer-fork.log'))
        self.assertEqual(d, {'n': 11335, 'cov': 14031, 'ft': 12490, 'eps': 318})
        self.assertEqual(parse_lf_status('INFO: nothing yet\n'), {'n': 0, 'cov': 0, 'ft': 0, 'eps': 0})

    def test_afl_stats_over_instances(self):
        sync = tempfile.mkdtemp()
        try:
            for inst in ('main', 'cmplog'):
                os.makedirs(os.path.join(sync, inst, 'crashes'))
                shutil.copy(os.path.join(SAMPLES, 'afl-plot_data'), os.path.join(sync, inst, 'plot_data'))
                shutil.copy(os.path.join(SAMPLES, 'afl-fuzzer_stats'), os.path.join(sync, inst, 'fuzzer_stats'))
            # a resumed run's crashes (crashes.<date>/) count too; README files do not
            os.makedirs(os.path.join(sync, 'main', 'crashes.2024-01-01-00:00:00'))
            for f in ('main/crashes/id:000000,sig:06', 'main/crashes/README.txt',
                      'main/crashes.2024-01-01-00:00:00/id:000000,sig:11', 'cmplog/crashes/id:000001,sig:06'):
                open(os.path.join(sync, f), 'w').close()
            # an instance without a plot line yet reads its fuzzer_stats
            os.makedirs(os.path.join(sync, 's3'))
            with open(os.path.join(sync, 's3', 'plot_data'), 'w') as f:
                f.write(sample('afl-plot_data').splitlines()[0] + '\n')
            with open(os.path.join(sync, 's3', 'fuzzer_stats'), 'w') as f:
                f.write('run_time : 10\nexecs_done : 1000\nedges_found : 5000\ncorpus_count : 9\n')
            a = campaign.afl_stats(sync)
            self.assertEqual((a.instances, a.execs, a.eps, a.edges, a.total_edges, a.corpus, a.crashes),
                             (3, 2 * 242223 + 1000, 2 * (242223 // 65) + 100, 5000, 10840, 2337, 3))
        finally:
            shutil.rmtree(sync)

    def test_lf_stats(self):
        d = tempfile.mkdtemp()
        try:
            os.makedirs(os.path.join(d, 'corpus', 'sub'))
            os.makedirs(os.path.join(d, 'artifacts'))
            for f in ('corpus/a', 'corpus/sub/b', 'artifacts/crash-1', 'artifacts/timeout-2'):
                open(os.path.join(d, f), 'w').close()
            shutil.copy(os.path.join(SAMPLES, 'libfuzzer-fork.log'), os.path.join(d, 'log'))
            lf = campaign.lf_stats(d, 1000)
            self.assertEqual((lf.run_execs, lf.execs, lf.cov, lf.corpus, lf.crashes), (11335, 12335, 14031, 2, 1))
        finally:
            shutil.rmtree(d)


# === Resume, with stand-ins for the fuzzers ==================================

class FakeCampaign(campaign.Campaign):
    """A campaign whose fuzzers are `sleep`s and that builds and triages
    nothing: what is left is the state handling under test."""
    ticks_before_stop = None

    def build(self):
        self.log('==> building (skipped)')

    def finish(self):
        self.log('==> finish (skipped)')

    def start_afl(self, t, left):
        self.inst.start('%s-afl-main' % t.name, ['sleep', str(left + 30)],
                        os.path.join(self.c, 'run', '%s-main.log' % t.name), {})

    def status(self, t, i, done, left):
        super().status(t, i, done, left)
        if self.ticks_before_stop is not None:
            self.ticks_before_stop -= 1
            if self.ticks_before_stop == 0:
                self.stopping = True      # as a SIGINT or SIGTERM would


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    with open('/proc/%d/stat' % pid) as f:
        return f.read().split(')')[-1].split()[0] != 'Z'


class Resume(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp()
        self.cwd = os.getcwd()
        os.chdir(self.root)           # the campaign works in out/fuzz/<name> from here
        os.makedirs('corpus/fuzz_slab')
        os.makedirs('corpus/fuzz_buddy')
        for i in range(3):
            open('corpus/fuzz_buddy/seed%d' % i, 'w').close()
        self.c = os.path.join('out', 'fuzz', 'fake')
        os.makedirs(self.c)

    def tearDown(self):
        os.chdir(self.cwd)
        shutil.rmtree(self.root)

    def make(self, env=None):
        p, resumed = campaign.load_params(self.c, env or {})
        camp = FakeCampaign('fake', p, resumed, Builds(), status_every=1)
        camp.log = campaign.Log(os.path.join(self.c, 'status.log'), echo=False)
        return camp

    def log_text(self):
        with open(os.path.join(self.c, 'status.log')) as f:
            return f.read()

    def test_killed_campaign_resumes(self):
        # as a killed run leaves it: the first target finished, the second
        # 1 s into its 2 s, and a fuzzer of the old run still going (its own
        # group, recorded in run/), plus a recorded group that is not ours
        camp = self.make({'DURATION': '4s', 'JOBS': '1', 'ENGINE': 'afl', 'TARGETS': 'fuzz_slab fuzz_buddy'})
        st = camp.state
        st.set_int('fuzz_slab.done', 2)
        st.set_int('fuzz_buddy.done', 1)
        st.set_int('elapsed', 3)
        os.makedirs(os.path.join(self.c, 'run'), exist_ok=True)
        stale = subprocess.Popen([sys.executable, '-c', 'import signal, time; '
                                  'signal.signal(signal.SIGINT, signal.SIG_DFL); time.sleep(60)',
                                  os.path.join(self.c, 'afl', 'fuzz_buddy')], start_new_session=True)
        stranger = subprocess.Popen(['sleep', '60'], start_new_session=True)
        try:
            with open(os.path.join(self.c, 'run', 'fuzz_buddy-afl-main.pid'), 'w') as f:
                f.write('%d\n' % stale.pid)
            with open(os.path.join(self.c, 'run', 'fuzz_buddy-afl-s3.pid'), 'w') as f:
                f.write('%d\n' % stranger.pid)
            camp = self.make({'DURATION': '1h'})       # resumed: its own 4 s stand
            self.assertTrue(camp.resumed)
            t0 = time.time()
            camp.run()
            stale.wait(timeout=5)                      # stopped by the new run
            self.assertTrue(pid_alive(stranger.pid), 'a stranger that got a recorded id is left alone')
        finally:
            for p in (stale, stranger):
                if p.poll() is None:
                    p.kill()
                p.wait()
        # well under the 60 s the stale fuzzer would sleep: it was stopped, not
        # waited for (loose, for a loaded machine)
        self.assertLess(time.time() - t0, 50)
        log = self.log_text()
        self.assertIn('campaign fake (out/fuzz/fake): resumed; DURATION=4s (4 s, 2 s per target)', log)
        self.assertIn('--> fuzz_slab: done earlier (2 s)', log)
        self.assertIn('--> fuzz_buddy: resuming after 1 s, 1 s: afl x1, libfuzzer x0', log)
        self.assertEqual(st.get_int('fuzz_buddy.done'), 2)
        self.assertGreaterEqual(st.get_int('elapsed'), 4)
        self.assertEqual(st.get_int('fuzz_buddy.seeds'), 3)
        self.assertEqual(os.listdir(os.path.join(self.c, 'run')), [x for x in os.listdir(os.path.join(self.c, 'run'))
                                                                  if not x.endswith('.pid')])
        self.assertEqual(st.get_kv('fuzz_buddy.stats')['engine'], 'afl')
        cov = read_text(os.path.join(self.c, 'cov.tsv')).splitlines()
        self.assertEqual(cov[0], campaign.COV_HEADER.strip())
        self.assertEqual(cov[1].split('\t')[1], 'fuzz_buddy')

    def test_stopped_campaign_keeps_the_time_it_had(self):
        camp = self.make({'DURATION': '20s', 'JOBS': '1', 'ENGINE': 'afl', 'TARGETS': 'fuzz_slab fuzz_buddy'})
        camp.ticks_before_stop = 1
        camp.run()
        done = camp.state.get_int('fuzz_slab.done')
        self.assertTrue(1 <= done < 10, done)           # not marked finished
        self.assertFalse(camp.state.has('fuzz_buddy.done'))
        self.assertIn('==> stopped: run the same command again to resume', self.log_text())
        self.assertFalse(camp.inst.alive())
        # and the next run resumes it with the time it had left
        camp = self.make()
        camp.ticks_before_stop = 1
        camp.run()
        self.assertIn('--> fuzz_slab: resuming after %d s, %d s' % (done, 10 - done), self.log_text())

    def test_instances_that_end_early_end_the_turn(self):
        camp = self.make({'DURATION': '60s', 'JOBS': '1', 'ENGINE': 'afl', 'TARGETS': 'fuzz_slab'})
        camp.start_afl = lambda t, left: camp.inst.start('x', ['true'], os.path.join(self.c, 'run', 'x.log'), {})
        t0 = time.time()
        camp.run()
        # well under the 60 s the stale fuzzer would sleep: it was stopped, not
        # waited for (loose, for a loaded machine)
        self.assertLess(time.time() - t0, 50)
        self.assertIn('every fuzzer instance ended with', self.log_text())
        self.assertEqual(camp.state.get_int('fuzz_slab.done'), 60)

    def test_bad_options_file_stops_it_before_anything_starts(self):
        os.makedirs('fuzz')
        with open('fuzz/fuzz_slab.options', 'w') as f:
            f.write('[libfuzzer]\nmax_len 1024\n')
        camp = self.make({'DURATION': '20s', 'JOBS': '1', 'ENGINE': 'libfuzzer', 'TARGETS': 'fuzz_slab'})
        with self.assertRaises(InputError) as cm:
            camp.run()
        self.assertTrue(str(cm.exception).startswith('fuzz/fuzz_slab.options:2: '))
        self.assertNotIn('building', self.log_text())
        self.assertEqual(camp.inst.procs, [])


class StopSignal(unittest.TestCase):
    def test_group_members_and_ours(self):
        d = tempfile.mkdtemp()
        try:
            inst = campaign.Instances(os.path.join(d, 'c'))
            p = subprocess.Popen([sys.executable, '-c', 'import signal, time; '
                                  'signal.signal(signal.SIGINT, signal.SIG_DFL); time.sleep(30)',
                                  os.path.join(d, 'c', 'x')],
                                 start_new_session=True)
            try:
                time.sleep(0.2)
                self.assertIn(p.pid, campaign.group_members(p.pid))
                self.assertTrue(inst.ours(p.pid))
                os.killpg(p.pid, signal.SIGINT)
                p.wait(timeout=5)
                self.assertFalse(inst.ours(p.pid))
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        finally:
            shutil.rmtree(d)


if __name__ == '__main__':
    unittest.main()
