"""refuzz.campaign — `make fuzz-campaign`: a long, parallel, resumable run.

  fuzz/campaign.py            env: DURATION=8h JOBS=$(nproc) ENGINE=afl|libfuzzer|both
                                   TARGETS="fuzz_engine ..." CAMPAIGN=name STATUS_EVERY=10
  fuzz/campaign.py --report   triage and report only (the campaign named by CAMPAIGN)
  FZ_MUTANT=n                 plant mutant n (fuzz/selftest.py's list) in every build

Targets take turns: each gets DURATION / (number of targets) of all JOBS
cores (give TARGETS=fuzz_engine to spend the night on one). During a
target's turn:
  AFL++      instance 0 is the main (-M main), 1 a CMPLOG secondary
             (-c build/cmplog/...), 2 a sanitizer secondary (the ASan
             build in build/aflasan), 3.. secondaries with power
             schedules fast, explore, coe, rare, exploit, lin, quad;
             all in one sync dir out/fuzz/<campaign>/afl/<target>/.
  libFuzzer  one -fork=N process (the ASan+UBSan build) on the corpus
             out/fuzz/<campaign>/lf/<target>/corpus, crashes ignored and
             kept as artifacts so the run goes on.
  both       half the jobs each; the AFL++ main imports libFuzzer's corpus
             (-F) and libFuzzer reads AFL++'s queue at start.
A status line (afl-whatsup style) is printed every STATUS_EVERY seconds
and appended to status.log; cov.tsv keeps coverage over time.

Resumable (refuzz.state): state/<target>.done holds the seconds each target
has had. Run the same command again (same CAMPAIGN) after a stop, a kill -9
or a reboot: the campaign keeps the parameters it started with
(campaign.env), finished targets are skipped, the current one resumes with
the time it had left (AFL_AUTORESUME keeps the queue; earlier crashes/
become crashes.<date>; libFuzzer's corpus and artifacts are files), and
stale instances of the old run are stopped first. At the end every crash is
triaged (refuzz.triage: signature, dedup, minimization, text reproducer)
and refuzz.report writes report.md, report.json and cov.png.

Exit: 0 when the campaign ran (findings are in the report, not the exit
code), 1 when a build fails, 64 for bad parameters, 65 when the saved
state cannot be read.
"""
import os
import re
import signal
import subprocess
import sys
import time

from . import targets as targets_mod
from .build import BuildError, Builds, make_or_fail
from .fuzzers import parse_fuzzer_stats, parse_lf_status, parse_plot_data, to_int
from .report import write_report
from .state import State, format_env, parse_duration, read_env
from .triage import ensure_asan, triage
from .util import (EX_FAIL, Log, UsageError, chdir_root, count_files, env_int, files_in, hms, nproc, read_text,
                   write_atomic)

ENGINES = ('afl', 'libfuzzer', 'both')
SCHEDS = ('fast', 'explore', 'coe', 'rare', 'exploit', 'lin', 'quad')
AFL_ENV = {'AFL_AUTORESUME': '1', 'AFL_NO_UI': '1', 'AFL_SKIP_CPUFREQ': '1', 'AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES': '1',
           'AFL_NO_AFFINITY': '1', 'AFL_SKIP_CRASHES': '1', 'AFL_NO_WARN_INSTABILITY': '1', 'AFL_IMPORT_FIRST': '1',
           'AFL_CMPLOG_ONLY_NEW': '1', 'ASAN_OPTIONS': 'detect_leaks=0:abort_on_error=1:symbolize=0'}
COV_HEADER = 'elapsed\ttarget\tengine\tedges\tlf_cov\tcorpus\texecs\texecs_per_sec\tcrashes\n'
_CAMPAIGN_NAME = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9._-]*$')


# === Parameters ===============================================================

class Params:
    """A campaign's parameters: from campaign.env when it exists (a resumed
    campaign keeps them), else from the environment, then saved."""

    def __init__(self, duration, jobs, engine, targets, started, mutant):
        self.duration, self.jobs, self.engine = duration, jobs, engine
        self.targets, self.started, self.mutant = targets, started, mutant
        self.total = parse_duration(duration)
        self.per = self.total // len(targets)
        self.nafl, self.nlf = {'afl': (jobs, 0), 'libfuzzer': (0, jobs),
                               'both': ((jobs + 1) // 2, jobs // 2)}[engine]

    def env(self):
        return {'DURATION': self.duration, 'JOBS': str(self.jobs), 'ENGINE': self.engine,
                'TARGETS': ' '.join(t.name for t in self.targets), 'STARTED': self.started,
                'FZ_MUTANT': self.mutant or ''}


def check_params(get, error):
    """Validate parameters read through get(KEY); error(KEY, what) makes the
    exception (a UsageError for the environment, an InputError naming the
    line for campaign.env). Returns (duration, jobs, engine, targets)."""
    duration = get('DURATION')
    total = parse_duration(duration)
    if total is None or total <= 0:
        raise error('DURATION', 'DURATION=%r: want a time such as 8h, 30m, 90s or 1h30m' % duration)
    engine = get('ENGINE')
    if engine not in ENGINES:
        raise error('ENGINE', 'ENGINE must be afl, libfuzzer or both (not %r)' % engine)
    try:
        jobs = int(get('JOBS'))
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise error('JOBS', 'JOBS must be >= 1 (not %r)' % get('JOBS'))
    names = get('TARGETS').split()
    if not names:
        raise error('TARGETS', 'TARGETS names no target')
    known = {t.name: t for t in targets_mod.load()}
    bad = [n for n in names if n not in known]
    if bad:
        raise error('TARGETS', 'unknown fuzz target(s) %s (fuzz/targets lists: %s)' % (' '.join(bad), ' '.join(known)))
    if total < len(names):
        raise error('DURATION', 'DURATION=%s gives %d targets less than a second each' % (duration, len(names)))
    return duration, jobs, engine, [known[n] for n in names]


def load_params(cdir, environ):
    """(Params, resumed) of the campaign in cdir, creating campaign.env."""
    envf = os.path.join(cdir, 'campaign.env')
    saved = read_env(envf)
    if saved is not None:
        missing = [k for k in ('DURATION', 'JOBS', 'ENGINE', 'TARGETS') if k not in saved]
        if missing:
            raise saved.error(None, 'no %s line (the campaign\'s parameters)' % ', '.join(missing))
        d, j, e, t = check_params(lambda k: saved.get(k, ''), saved.error)
        return Params(d, j, e, t, saved.get('STARTED', ''), saved.get('FZ_MUTANT') or None), True
    defaults = {'DURATION': '8h', 'JOBS': str(nproc()), 'ENGINE': 'afl',
                'TARGETS': ' '.join(targets_mod.names())}
    d, j, e, t = check_params(lambda k: environ.get(k) or defaults[k], lambda k, what: UsageError(what))
    mutant = environ.get('FZ_MUTANT') or None
    Builds(mutant)          # a bad FZ_MUTANT is refused before anything is saved
    p = Params(d, j, e, t, time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), mutant)
    os.makedirs(cdir, exist_ok=True)
    write_atomic(envf, format_env(p.env()))
    return p, False


# === Status ===================================================================

class AflStats:
    def __init__(self):
        self.instances = self.execs = self.eps = self.edges = self.total_edges = self.corpus = self.crashes = 0


def afl_crash_inputs(sync_dir):
    """Every crash input of every instance (resumed runs' crashes.<date>/ too)."""
    out = []
    for inst in files_or_dirs(sync_dir):
        for sub in files_or_dirs(inst):
            if os.path.basename(sub).startswith('crashes'):
                out += [f for f in files_in(sub) if os.path.basename(f).startswith('id:')]
    return out


def files_or_dirs(folder):
    try:
        return [os.path.join(folder, n) for n in sorted(os.listdir(folder)) if os.path.isdir(os.path.join(folder, n))]
    except OSError:
        return []


def afl_stats(sync_dir):
    """AFL++ over every instance of a sync dir: executions and execs/s
    summed, the best edge count, the main's corpus, every crash input. Live
    numbers come from plot_data (written every 5 s; fuzzer_stats only every
    minute), total_edges from the main's fuzzer_stats."""
    a = AflStats()
    for inst in files_or_dirs(sync_dir):
        plot = os.path.join(inst, 'plot_data')
        if not os.path.exists(plot):
            continue
        a.instances += 1
        row = parse_plot_data(read_text(plot))
        if row:
            rt, e, g, q = (to_int(row[k]) for k in ('relative_time', 'total_execs', 'edges_found', 'corpus_count'))
            s = to_int(row.get('execs_per_sec')) or 0
        else:   # no plot line yet: the first fuzzer_stats
            st = parse_fuzzer_stats(read_text(os.path.join(inst, 'fuzzer_stats')))
            rt, e, g, q = (to_int(st.get(k)) or 0 for k in ('run_time', 'execs_done', 'edges_found', 'corpus_count'))
            s = 0
        # AFL++'s own figure is the speed of the last stretch, and the first
        # one after the dry run of a big corpus is absurd (millions of
        # execs/s): the run's average, execs over its seconds, instead
        if rt > 0:
            s = e // rt
        a.execs += e
        a.eps += s
        a.edges = max(a.edges, g)
        if os.path.basename(inst) == 'main':
            a.corpus = q
    st = parse_fuzzer_stats(read_text(os.path.join(sync_dir, 'main', 'fuzzer_stats')))
    a.total_edges = to_int(st.get('total_edges')) or 0
    a.crashes = len(afl_crash_inputs(sync_dir))
    return a


class LfStats:
    def __init__(self, run_execs, prev, eps, cov, ft, corpus, crashes):
        self.run_execs, self.execs = run_execs, prev + run_execs
        self.eps, self.cov, self.ft, self.corpus, self.crashes = eps, cov, ft, corpus, crashes


def lf_crash_inputs(lf_dir):
    return [f for f in files_in(os.path.join(lf_dir, 'artifacts')) if os.path.basename(f).startswith('crash-')]


def lf_stats(lf_dir, prev_execs):
    d = parse_lf_status(read_text(os.path.join(lf_dir, 'log')))
    corpus = sum(len(fs) for _, _, fs in os.walk(os.path.join(lf_dir, 'corpus')))
    return LfStats(d['n'], prev_execs, d['eps'], d['cov'], d['ft'], corpus, len(lf_crash_inputs(lf_dir)))


# === Instances =================================================================

def _proc_pgrp(pid):
    """The process group of a process (None when it is gone)."""
    try:
        with open('/proc/%s/stat' % pid) as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rfind(')') + 2:].split()   # after "pid (comm)": state ppid pgrp ...
    return int(fields[2]) if len(fields) > 2 else None


def _proc_cmdline(pid):
    try:
        with open('/proc/%s/cmdline' % pid, 'rb') as f:
            return f.read().replace(b'\0', b' ').decode(errors='replace')
    except OSError:
        return ''


def group_members(pgid):
    return [int(p) for p in os.listdir('/proc') if p.isdigit() and _proc_pgrp(p) == pgid]


class Instances:
    """The fuzzer processes of a campaign. Each runs in its own process
    group (a new session), recorded by id in run/*.pid: stopping a group
    reaches the fuzzer's children too (AFL++'s fork server and persistent
    child, libFuzzer's fork-mode jobs), also after a kill -9 of the campaign
    or of the fuzzer left them orphaned. A recorded group is signalled only
    while it still runs something of this campaign (its folder or a fuzz
    build on the command line), never a stranger that got the id since."""

    def __init__(self, cdir):
        self.cdir = cdir
        self.run = os.path.join(cdir, 'run')
        self.procs = []
        os.makedirs(self.run, exist_ok=True)
        self._ours = re.compile('(%s|%s)/|build/[A-Za-z0-9_.-]*/fuzz/' %
                                (re.escape(cdir.rstrip('/')), re.escape(os.path.abspath(cdir))))

    def _pidfiles(self):
        return [f for f in files_in(self.run) if f.endswith('.pid')]

    def ours(self, pgid):
        return any(self._ours.search(_proc_cmdline(p)) for p in group_members(pgid))

    def _recorded(self):
        out = []
        for f in self._pidfiles():
            s = read_text(f).strip()
            if s.isdigit():
                out.append(int(s))
        return out

    def _groups(self):
        """Groups to stop: this run's own instances while they run (their
        ids are theirs for sure), and recorded ones running something of ours."""
        mine = [p.pid for p in self.procs if p.poll() is None]
        return mine + [pg for pg in self._recorded() if pg not in mine and self.ours(pg)]

    def stop(self, sig=signal.SIGINT):
        for pg in self._groups():
            try:
                os.killpg(pg, sig)
            except OSError:
                pass

    def wait(self, grace=20):
        """Until no group of ours runs (SIGKILL after grace seconds)."""
        t0 = time.time()
        while self._groups():
            if time.time() - t0 >= grace:
                self.stop(signal.SIGKILL)
                time.sleep(0.5)
                break
            time.sleep(0.2)
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.procs = []
        for f in self._pidfiles():
            os.remove(f)

    def start(self, name, cmd, log, env):
        with open(log, 'ab') as lf:
            p = subprocess.Popen(cmd, stdout=lf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 env=dict(os.environ, **env), start_new_session=True)
        self.procs.append(p)
        write_atomic(os.path.join(self.run, name + '.pid'), '%d\n' % p.pid)

    def alive(self):
        return any(p.poll() is None for p in self.procs)


# === The campaign =============================================================

class Campaign:
    def __init__(self, name, params, resumed, builds, status_every):
        self.name, self.p, self.resumed, self.b = name, params, resumed, builds
        self.c = os.path.join('out', 'fuzz', name)
        self.state = State(self.c)
        self.inst = Instances(self.c)
        self.status_every = status_every
        self.log = Log(os.path.join(self.c, 'status.log'))
        self.stopping = False
        for d in ('state', 'run', 'findings'):
            os.makedirs(os.path.join(self.c, d), exist_ok=True)

    # --- instances of one target's turn ---

    def start_afl(self, t, left):
        p, b = self.p, self.b
        sync = os.path.join(self.c, 'afl', t.name)
        os.makedirs(sync, exist_ok=True)
        dict_ = os.path.join('fuzz', t.name + '.dict')
        for k in range(p.nafl):
            binary = b.fuzzer('afl', t.name)
            if k == 0:
                name, extra = 'main', ['-M', 'main']
                if p.engine == 'both':
                    extra += ['-F', os.path.join(self.c, 'lf', t.name, 'corpus')]
            elif k == 1:
                name, extra = 'cmplog', ['-S', 'cmplog', '-c', b.fuzzer('cmplog', t.name)]
            elif k == 2:
                name, extra = 'asan', ['-S', 'asan', '-m', 'none']
                binary = b.fuzzer('aflasan', t.name)
            else:
                name, extra = 's%d' % k, ['-S', 's%d' % k, '-p', SCHEDS[(k - 3) % len(SCHEDS)]]
            cmd = ['afl-fuzz', '-i', os.path.join('corpus', t.name), '-o', sync] + extra + ['-V', str(left)]
            if os.path.exists(dict_):
                cmd += ['-x', dict_]
            self.inst.start('%s-afl-%s' % (t.name, name), cmd + ['--', binary],
                            os.path.join(self.c, 'run', '%s-%s.log' % (t.name, name)), AFL_ENV)

    def start_lf(self, t, left):
        d = os.path.join(self.c, 'lf', t.name)
        corpus = os.path.join(d, 'corpus')
        os.makedirs(corpus, exist_ok=True)
        os.makedirs(os.path.join(d, 'artifacts'), exist_ok=True)
        if not os.listdir(corpus):
            for f in files_in(os.path.join('corpus', t.name)):
                with open(f, 'rb') as src, open(os.path.join(corpus, os.path.basename(f)), 'wb') as dst:
                    dst.write(src.read())
        more = []
        queue = os.path.join(self.c, 'afl', t.name, 'main', 'queue')
        if self.p.engine == 'both' and os.path.isdir(queue):
            more = [queue]
        cmd = ([self.b.fuzzer('libfuzzer', t.name)] + targets_mod.libfuzzer_flags(t.name) +
               ['-fork=%d' % self.p.nlf, '-ignore_crashes=1', '-ignore_timeouts=1', '-ignore_ooms=1',
                '-max_total_time=%d' % left, '-artifact_prefix=%s/' % os.path.join(d, 'artifacts'), corpus] + more)
        self.inst.start('%s-lf' % t.name, cmd, os.path.join(d, 'log'), {'ASAN_OPTIONS': 'detect_leaks=0'})

    # --- status ---

    def status(self, t, i, done, left):
        p = self.p
        elapsed = self.state.get_int('elapsed')
        line = '[%s] %s (%d/%d)' % (hms(elapsed), t.name, i, len(p.targets))
        edges = corpus = execs = eps = crashes = 0
        a, lf = AflStats(), None
        if p.nafl:
            a = afl_stats(os.path.join(self.c, 'afl', t.name))
            line += (' | afl x%d: %d execs/s, %d execs, edges %d/%d, corpus %d, crashes %d'
                     % (a.instances, a.eps, a.execs, a.edges, a.total_edges, a.corpus, a.crashes))
            edges, corpus, execs, eps, crashes = a.edges, a.corpus, a.execs, a.eps, a.crashes
        if p.nlf:
            lf = lf_stats(os.path.join(self.c, 'lf', t.name), self.state.get_int(t.name + '.lfexecs'))
            line += (' | libfuzzer -fork=%d: %d execs/s, %d execs, cov %d ft %d, corpus %d, crashes %d'
                     % (p.nlf, lf.eps, lf.execs, lf.cov, lf.ft, lf.corpus, lf.crashes))
            execs, eps, crashes = execs + lf.execs, eps + lf.eps, crashes + lf.crashes
            if not p.nafl:
                edges, corpus = lf.cov, lf.corpus
        line += ' | %s left' % hms(left)
        self.log(line)
        with open(os.path.join(self.c, 'cov.tsv'), 'a') as f:
            f.write('\t'.join(str(x) for x in (elapsed, t.name, p.engine, edges, lf.cov if lf else 0, corpus, execs,
                                               eps, crashes)) + '\n')
        self.state.set_kv(t.name + '.stats', {
            'engine': p.engine, 'execs': execs, 'execs_per_sec': eps, 'edges': edges, 'total_edges': a.total_edges,
            'lf_cov': lf.cov if lf else 0, 'lf_ft': lf.ft if lf else 0, 'corpus': corpus, 'crashes': crashes,
            'seconds': done})

    # --- the run ---

    def build(self):
        self.log('==> building')
        b, p = self.b, self.p
        if b.mutant:
            self.log('    planted: mutant %s (-DRA_MUTANT=%s) in every build (%s, ...)' % (b.mutant, b.mutant, b.afl))
        b.build_or_fail('afl', 'lib', 'fuzz-bins')          # afl-tmin minimizes with it
        if p.nafl >= 2:
            b.build_or_fail('cmplog', 'lib', 'fuzz-bins')
        if p.nafl >= 3:
            b.build_or_fail('aflasan')
        b.build_or_fail('libfuzzer', 'lib', 'fuzz-bins')
        make_or_fail(['V=release', 'lib', 'tool'])
        b.build_or_fail('asan', 'fuzz-tests')
        b.build('asan', 'tool', quiet_fail=True)

    def _sleep(self, secs):
        end = time.time() + secs
        while not self.stopping and time.time() < end:
            time.sleep(min(0.25, max(0.0, end - time.time())))

    def turn(self, i, t):
        p, st = self.p, self.state
        done = st.get_int(t.name + '.done')
        left = p.per - done
        if left <= 0:
            self.log('--> %s: done earlier (%d s)' % (t.name, done))
            return
        if not st.has(t.name + '.seeds'):
            st.set_int(t.name + '.seeds', count_files(os.path.join('corpus', t.name)))
        self.log('--> %s: %s, %d s: afl x%d, libfuzzer x%d' % (
            t.name, 'resuming after %d s' % done if done > 0 else 'starting', left, p.nafl, p.nlf))
        lfd = os.path.join(self.c, 'lf', t.name)
        if p.nlf and os.path.exists(os.path.join(lfd, 'log')):
            # libFuzzer's count restarts with each process: keep the earlier runs'
            st.set_int(t.name + '.lfexecs', lf_stats(lfd, st.get_int(t.name + '.lfexecs')).execs)
            os.replace(os.path.join(lfd, 'log'), os.path.join(lfd, 'log.%d' % int(time.time())))
        if p.nafl:
            self.start_afl(t, left)
        if p.nlf:
            self.start_lf(t, left)
        last = int(time.time())
        while not self.stopping:
            self._sleep(self.status_every)
            now = int(time.time())
            d, last = now - last, now
            done += d
            st.set_int(t.name + '.done', done)
            st.set_int('elapsed', st.get_int('elapsed') + d)
            left = p.per - done
            self.status(t, i, done, max(left, 0))
            if left <= 0:
                break
            if not self.inst.alive():
                if left > self.status_every:
                    self.log('    %s: every fuzzer instance ended with %d s left (their logs: %s/run/, %s/lf/)'
                             % (t.name, left, self.c, self.c))
                break
        self.inst.stop(signal.SIGINT)
        self.inst.wait()
        if not self.stopping:
            st.set_int(t.name + '.done', p.per)

    def run(self):
        p = self.p
        self.log('==> campaign %s (%s): %s; DURATION=%s (%d s, %d s per target) JOBS=%d ENGINE=%s' % (
            self.name, self.c, 'resumed' if self.resumed else 'new', p.duration, p.total, p.per, p.jobs, p.engine))
        self.log('    targets: %s' % ' '.join(t.name for t in p.targets))
        if p.nlf:      # a bad options file stops the campaign before anything starts
            for t in p.targets:
                targets_mod.libfuzzer_flags(t.name)
        self.inst.stop(signal.SIGINT)
        self.inst.wait()
        self.build()
        covf = os.path.join(self.c, 'cov.tsv')
        if not os.path.exists(covf):
            with open(covf, 'w') as f:
                f.write(COV_HEADER)
        try:
            for i, t in enumerate(p.targets, 1):
                if self.stopping:
                    break
                self.turn(i, t)
        finally:
            if self.inst.procs:       # an error in the loop: leave no fuzzer behind
                self.inst.stop(signal.SIGINT)
                self.inst.wait()
        if self.stopping:
            self.log('==> stopped: run the same command again to resume')
        self.finish()

    def finish(self):
        self.log('==> triage: deduplicating, minimizing and decoding every crash')
        for t in self.p.targets:
            crashes = (afl_crash_inputs(os.path.join(self.c, 'afl', t.name)) +
                       lf_crash_inputs(os.path.join(self.c, 'lf', t.name)))
            if not crashes:
                continue
            self.log('    %s: %d crash input(s)' % (t.name, len(crashes)))
            ensure_asan(t, self.b)
            triage(t, os.path.join(self.c, 'findings'), crashes, self.b, say=self.log)
        write_report(self.c, say=self.log)


def main(argv):
    report_only = False
    for a in argv:
        if a == '--report':
            report_only = True
        else:
            raise UsageError('usage: fuzz/campaign.py [--report]   (parameters in the environment: DURATION, JOBS, '
                             'ENGINE, TARGETS, CAMPAIGN, STATUS_EVERY, FZ_MUTANT)')
    chdir_root()
    name = os.environ.get('CAMPAIGN') or 'campaign'
    if not _CAMPAIGN_NAME.match(name) or name in ('.', '..'):
        raise UsageError('CAMPAIGN=%r: a name of letters, digits, ".", "_" and "-"' % name)
    cdir = os.path.join('out', 'fuzz', name)
    status_every = env_int('STATUS_EVERY', 10, 1)
    if report_only and read_env(os.path.join(cdir, 'campaign.env')) is None:
        raise UsageError('no campaign %s to report on (%s/campaign.env is missing)' % (name, cdir))
    params, resumed = load_params(cdir, os.environ)
    camp = Campaign(name, params, resumed, Builds(params.mutant), status_every)
    if report_only:
        camp.finish()
        return 0

    def on_signal(signum, frame):
        if camp.stopping and signum == signal.SIGINT:
            raise KeyboardInterrupt      # a second Ctrl-C: stop now
        camp.stopping = True
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        camp.run()
    except BuildError as e:
        print('campaign: build failed: %s' % e, file=sys.stderr)
        return EX_FAIL
    return 0

