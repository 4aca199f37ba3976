"""refuzz.triage — crash inputs to unique findings with text reproducers.

    fuzz/triage.py TARGET OUTDIR CRASH...

Each crash input is replayed for its signature (refuzz.signature). Inputs
with the same signature are one finding. For each new finding, in
OUTDIR/<sig-id>/:
  input            the smallest crash input of that signature
  min              the input minimized (afl-tmin on build/afl when that
                   build fails on it too, else libFuzzer -minimize_crash=1
                   on build/libfuzzer), kept only if it keeps the signature
  repro.trace      `refalloc trace decode --profile=P min` (text targets:
                   the input itself)
  signature.txt    class and normalized line, then the raw line
  replay.txt       the replay's report
  README           the exact commands that reproduce it
A finding already in OUTDIR only gains a count (and keeps the smaller
input). Prints one line per new finding; OUTDIR/index.tsv lists them all
(id, target, class, signature, count, first_seen).

Environment: FUZZ_MINTIME (60) seconds for each minimization; FZ_MUTANT=n
replays and minimizes with the builds of planted mutant n.
"""
import os
import shutil
import time

from . import targets as targets_mod
from .build import Builds
from .signature import run, signature
from .util import InputError, UsageError, chdir_root, read_input, env_int, is_exe, to_root, which

INDEX_HEADER = ['id', 'target', 'class', 'signature', 'count', 'first_seen']


class Index:
    """OUTDIR/index.tsv: one row per finding, in the order they were found."""

    def __init__(self, path):
        self.path = path
        self.rows = []
        text = read_input(path)
        if text is None:
            return
        lines = text.split('\n')
        for n, line in enumerate(lines, 1):
            if n == 1 or not line:
                continue
            p = line.split('\t')
            if len(p) != len(INDEX_HEADER):
                raise InputError(path, n, 'want %d tab-separated fields (%s), found %d'
                                 % (len(INDEX_HEADER), ' '.join(INDEX_HEADER), len(p)))
            try:
                p[4] = int(p[4])
            except ValueError:
                raise InputError(path, n, 'count %r is not a number' % p[4]) from None
            self.rows.append(p)

    def ids(self):
        return [r[0] for r in self.rows]

    def find(self, fid):
        return next((r for r in self.rows if r[0] == fid), None)

    def add(self, fid, target, cls, norm, when):
        self.rows.append([fid, target, cls, norm, 1, when])

    def bump(self, fid):
        self.find(fid)[4] += 1

    def save(self):
        tmp = self.path + '.tmp'
        with open(tmp, 'w') as f:
            f.write('\t'.join(INDEX_HEADER) + '\n')
            for r in self.rows:
                f.write('\t'.join(str(x) for x in r) + '\n')
        os.replace(tmp, self.path)


def _fails(binary, inp, timeout=60):
    """Does a fuzzer build (stdin input) fail on inp?"""
    with open(inp, 'rb') as f:
        rc, _, _ = run([binary], timeout=timeout, stdin=f)
    return rc != 0


def minimize(target, inp, d, key, builds, mintime, log_sig=None):
    """d/min: the input minimized, if the minimized one keeps the signature."""
    shutil.copyfile(inp, os.path.join(d, 'min'))
    try_ = os.path.join(d, 'min.try')
    afl, lf = builds.fuzzer('afl', target.name), builds.fuzzer('libfuzzer', target.name)
    try:
        if is_exe(afl) and which('afl-tmin') and _fails(afl, inp):
            run(['afl-tmin', '-i', inp, '-o', try_, '--', afl], timeout=mintime, env={'AFL_QUIET': '1'})
        elif is_exe(lf):
            run([os.path.abspath(lf), '-minimize_crash=1', '-runs=100000', '-max_total_time=%d' % max(1, mintime - 5),
                 '-exact_artifact_path=min.try', 'input'], timeout=mintime, env={'ASAN_OPTIONS': 'detect_leaks=0'}, cwd=d)
        if os.path.isfile(try_) and os.path.getsize(try_) > 0:
            if signature(target, try_, builds).key == key:
                os.replace(try_, os.path.join(d, 'min'))
    finally:
        if os.path.exists(try_):
            os.remove(try_)


def _readme(target, fid, sig, d, builds):
    head = '%s finding %s: %s\n  %s\n\n' % (target.name, fid, sig.cls, sig.raw)
    a = builds.asan
    if target.profile:
        return head + (
            'reproduce (text trace; the engine\'s view, then the harness\'s):\n'
            '  {a}/refalloc replay --fuzz {d}/repro.trace\n'
            '  {a}/fuzz/{t}-test {d}/repro.trace\n'
            'the minimized binary input (libFuzzer / AFL++ builds):\n'
            '  {lf}/fuzz/{t} {d}/min\n'
            '  {afl}/fuzz/{t} < {d}/min\n'
            'decode it again: build/release/refalloc trace decode --profile={p} {d}/min\n'
        ).format(a=a, d=d, t=target.name, lf=builds.lf, afl=builds.afl, p=target.profile)
    return head + (
        'reproduce (the input is a text trace):\n'
        '  {a}/fuzz/{t}-test {d}/repro.trace\n'
        '  {a}/refalloc replay --fuzz {d}/repro.trace\n'
    ).format(a=a, d=d, t=target.name)


def ensure_asan(target, builds):
    """The ASan -test driver (and the tool, when it links) to replay with."""
    builds.build('asan', builds.test_driver(target.name))
    if not is_exe(builds.asan_tool):
        builds.build('asan', 'tool', quiet_fail=True)


def triage(target, out, crashes, builds, say=print, mintime=None):
    """Triage crash inputs of a Target into out/; the ids of new findings."""
    mintime = mintime if mintime is not None else env_int('FUZZ_MINTIME', 60, 1)
    os.makedirs(out, exist_ok=True)
    idx = Index(os.path.join(out, 'index.tsv'))
    if not os.path.exists(idx.path):
        idx.save()
    new = []
    for inp in crashes:
        if not os.path.isfile(inp) or os.path.getsize(inp) == 0:
            continue
        sig = signature(target, inp, builds)
        if sig.cls == 'none':      # does not reproduce outside the fuzzer: counted by the caller
            continue
        fid = sig.id(target.name)
        d = os.path.join(out, fid)
        if os.path.isdir(d) and idx.find(fid):
            idx.bump(fid)
            idx.save()
            kept = os.path.join(d, 'input')
            if not os.path.exists(kept) or os.path.getsize(inp) < os.path.getsize(kept):
                shutil.copyfile(inp, kept)
            continue
        os.makedirs(d, exist_ok=True)
        shutil.copyfile(inp, os.path.join(d, 'input'))
        with open(os.path.join(d, 'signature.txt'), 'w') as f:
            f.write(sig.text())
        minimize(target, inp, d, sig.key, builds, mintime)
        mn, repro = os.path.join(d, 'min'), os.path.join(d, 'repro.trace')
        if target.profile:
            tool = 'build/release/refalloc' if is_exe('build/release/refalloc') else builds.asan_tool
            # the decoder is part of what is fuzzed: if it is what fails, say
            # so in the reproducer's place and go on with the other inputs
            rc, _, err = run([tool, 'trace', 'decode', '--profile=' + target.profile, mn, repro], timeout=120)
            with open(os.path.join(d, 'decode.err'), 'w') as f:
                f.write(err)
            if rc != 0:
                with open(repro, 'w') as f:
                    f.write('# refalloc trace decode failed on this input (exit %d): the decoder is the finding;\n'
                            '# see decode.err and signature.txt, and run the binary input with the -test driver\n' % rc)
        else:
            shutil.copyfile(mn, repro)
        signature(target, mn, builds, log=os.path.join(d, 'replay.txt'))
        with open(os.path.join(d, 'README'), 'w') as f:
            f.write(_readme(target, fid, sig, d, builds))
        idx.add(fid, target.name, sig.cls, sig.norm, time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()))
        idx.save()
        new.append(fid)
        with open(repro, 'rb') as f:
            nlines = sum(1 for ln in f if ln.strip())
        say('  new finding %s (%s, %s): %s' % (fid, target.name, sig.cls, sig.raw[:150]))
        say('    reproducer: %s (%d lines; input %d -> %d bytes)' % (repro, nlines, os.path.getsize(inp),
                                                                      os.path.getsize(mn)))
    return new


def main(argv):
    if len(argv) < 2 or argv[0].startswith('-'):
        raise UsageError('usage: fuzz/triage.py TARGET OUTDIR CRASH...')
    out, crashes = to_root(argv[1]), [to_root(c) for c in argv[2:]]
    chdir_root()
    target = targets_mod.get(argv[0])
    builds = Builds.from_env()
    ensure_asan(target, builds)
    triage(target, out, crashes, builds)
    return 0

