"""refuzz.speed — single-core execs/s of every target, for the README.

  fuzz/speed.py [SECONDS]        (default 30 per target and engine)

libFuzzer (ASan+UBSan, oracle, per-operation invariants, full walk at the
end: every check on) and AFL++ persistent mode (RA_DEBUG, no sanitizer),
each on a fresh copy of the target's seed corpus, one process each; the
two engines run side by side on two cores, never two of one engine.

Exit: 0; 1 when a build fails; 64 for a bad SECONDS.
"""
import os
import shutil
import subprocess
import tempfile

from . import targets as targets_mod
from .build import make
from .fuzzers import AFL_QUIET_ENV, lf_final_stats, parse_fuzzer_stats
from .signature import run
from .util import UsageError, chdir_root, files_in, read_text


def afl_average(stats_text):
    """execs_done / run_time of a fuzzer_stats, rounded ('' without one)."""
    st = parse_fuzzer_stats(stats_text)
    try:
        e, r = float(st['execs_done']), float(st['run_time'])
    except (KeyError, ValueError):
        return ''
    return '%.0f' % (e / r) if r else ''


def main(argv):
    if len(argv) > 1 or (argv and not argv[0].isdigit()) or (argv and int(argv[0]) < 1):
        raise UsageError('usage: fuzz/speed.py [SECONDS]   (a whole number of seconds >= 1)')
    secs = int(argv[0]) if argv else 30
    chdir_root()
    if not make(['V=libfuzzer', 'lib', 'fuzz-bins']) or not make(['V=afl', 'lib', 'fuzz-bins']):
        return 1
    tmp = tempfile.mkdtemp(prefix='speed.')
    try:
        print('%-16s %14s %14s' % ('target', 'libFuzzer e/s', 'AFL++ e/s'), flush=True)
        for t in targets_mod.load():
            w = os.path.join(tmp, t.name)
            for sub in ('lf', 'in'):
                os.makedirs(os.path.join(w, sub))
                for f in files_in(os.path.join('corpus', t.name)):
                    shutil.copyfile(f, os.path.join(w, sub, os.path.basename(f)))
            with open(os.path.join(w, 'lf.log'), 'wb') as log:
                lf = subprocess.Popen(
                    ['timeout', str(secs + 60), 'build/libfuzzer/fuzz/' + t.name] + targets_mod.libfuzzer_flags(t.name) +
                    ['-max_total_time=%d' % secs, '-print_final_stats=1', '-artifact_prefix=%s/' % w,
                     os.path.join(w, 'lf')], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    env=dict(os.environ, ASAN_OPTIONS='detect_leaks=0'))
            cmd = ['afl-fuzz', '-i', os.path.join(w, 'in'), '-o', os.path.join(w, 'afl'), '-V', str(secs)]
            if os.path.exists('fuzz/%s.dict' % t.name):
                cmd += ['-x', 'fuzz/%s.dict' % t.name]
            run(cmd + ['--', 'build/afl/fuzz/' + t.name], timeout=secs + 60, env=AFL_QUIET_ENV)
            lf.wait()
            lfs = lf_final_stats(read_text(os.path.join(w, 'lf.log')))[1]
            afl = afl_average(read_text(os.path.join(w, 'afl', 'default', 'fuzzer_stats')))
            print('%-16s %14s %14s' % (t.name, lfs or '?', afl or '?'), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0

