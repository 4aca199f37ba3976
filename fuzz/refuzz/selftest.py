"""refuzz.selftest — bug-finding power: `make fuzz-selftest`.

  fuzz/selftest.py [N...]     (default: every mutant; env LIMIT=60 s per fuzzing run, SCRATCH=0)
  fuzz/selftest.py --table    print the last run's table again (from out/fuzz/selftest/table.tsv)

Each mutant is a deliberately injected bug behind -DRA_MUTANT=n (the
`#if RA_MUTANT == n` blocks in engine/src/*.c and engine/umalloc/umalloc.c;
the default build never sees them). For each: build the AFL++ target into
build/mutant-n (a copy of build/afl with only the mutant's file rebuilt),
replay the seed corpus, then fuzz from it on one core until the first
crash or LIMIT seconds. The finding is replayed to name what caught it:
the engine's invariants, the oracle, the harness's policy properties, or a
crash (signal / sanitizer). A crash the unmutated engine shares (a finding
of its own) does not count. When a seed already catches the mutant, a
second run from a single blank input (SCRATCH=0 skips it) measures the
fuzzer on its own.

Prints a table, writes out/fuzz/selftest/table.md and .tsv. Exit: 0 when
every mutant was found, 1 when one survives (or a build fails), 64 for an
unknown mutant number or a bad LIMIT.
"""
import glob
import os
import re
import shutil
import signal
import subprocess
import time

from . import targets as targets_mod
from .build import make
from .fuzzers import AFL_QUIET_ENV
from .signature import run
from .util import InputError, UsageError, chdir_root, env_int, is_exe

OUT = os.path.join('out', 'fuzz', 'selftest')

# n, layer, target, description
MUTANTS = [
    (1, 'buddy', 'fuzz_buddy', 'wrong buddy: pfn ^ (2 << order)'),
    (2, 'buddy', 'fuzz_buddy', 'off-by-one split: expand() never puts the last half back'),
    (3, 'buddy', 'fuzz_buddy', 'lost page on merge: an order-0 buddy leaves its list unmerged'),
    (4, 'buddy', 'fuzz_buddy', 'free-list double insert of an unmerged order-2 block'),
    (5, 'pcp', 'fuzz_buddy', 'pcp count drift: an order>0 pcp allocation counts one page'),
    (6, 'watermarks', 'fuzz_buddy', 'watermark compared the wrong way (__zone_watermark_ok)'),
    (7, 'slab', 'fuzz_slab', 'slab freelist pointer past the slab (last object links past the end)'),
    (8, 'slab', 'fuzz_slab', 'slab double free not caught (allocation-map test skipped)'),
    (9, 'slab', 'fuzz_slab', 'one object too many per slab (runs past the slab)'),
    (10, 'vmalloc', 'fuzz_vmalloc', 'missing guard page'),
    (11, 'vmalloc', 'fuzz_vmalloc', 'vmap hole search off by one page (areas overlap)'),
    (12, 'mm', 'fuzz_umalloc', 'VMA overlap: get_unmapped_area() one page too high'),
    (13, 'umalloc', 'fuzz_umalloc', 'chunk size header off by 16 (chunk cut from top)'),
    (14, 'oom', 'fuzz_umalloc', 'wrong OOM victim (lowest badness instead of highest)'),
    (15, 'oom', 'fuzz_umalloc', 'oom_score_adj -1000 no longer exempts a task from the OOM killer'),
    (16, 'filemap', 'fuzz_pressure', "ftruncate leaves the disk block's tail past the new end"),
]

AFL_ENV = dict(AFL_QUIET_ENV, AFL_FAST_CAL='1')

TSV_HEADER = ['mutant', 'layer', 'target', 'description', 'detected_by', 'seconds', 'first_line', 'scratch_seconds']
MD_HEADER = ('| mutant | layer | description | detected by | seconds (from seeds) | seconds (from scratch) '
             '| the finding\'s first line |\n|---|---|---|---|---|---|---|\n')


# === What caught it ==========================================================

def classify_detection(log, rc):
    """(DETECTED_BY, LINE) of a mutant binary's replay of the crash input:
    its stderr and exit status."""
    m = re.search(r'^BUG: refalloc: (invariant|oracle|harness):.*$', log, re.M)
    if m:
        return m.group(1), m.group(0)
    for rx, by in ((r'ERROR: AddressSanitizer|runtime error', 'sanitizer'),
                   (r'refalloc: engine bug at', 'assertion'),
                   (r'invariants broken|refalloc fuzz: .*finding', 'invariant')):
        m = re.search(r'^.*(%s).*$' % rx, log, re.M)
        if m:
            return by, m.group(0)
    if rc == 124:
        return 'hang', 'no end in 5 s (an infinite loop)'
    if rc >= 128:
        try:
            name = signal.Signals(rc - 128).name[3:]
        except ValueError:
            name = '?'
        return 'crash', 'signal %d (%s)' % (rc - 128, name)
    return 'none', 'replay exit %d' % rc


def _fails(binary, inp, timeout):
    with open(inp, 'rb') as f:
        rc, _, _ = run([binary], timeout=timeout, stdin=f)
    return rc != 0


def detect(binary, inp, log_path):
    with open(inp, 'rb') as f:
        rc, _, err = run([binary], timeout=5, stdin=f)
    with open(log_path, 'w') as f:
        f.write(err)
    return classify_detection(err, rc)


# === The table ===============================================================

def _cell(s):
    return str(s).replace('\t', ' ').replace('\n', ' ')


def format_row(row):
    """The terminal's line of one table row (a dict of TSV_HEADER)."""
    return '  mutant %-3s %-10s %-13s %-16s %6ss  scratch %6ss  %s' % (
        row['mutant'], row['layer'], row['target'], row['detected_by'], row['seconds'], row['scratch_seconds'],
        row['first_line'][:90])


def parse_table(text, path):
    """The rows of a table.tsv as dicts; InputError names a bad line."""
    lines = text.split('\n')
    if not lines or lines[0].split('\t') != TSV_HEADER:
        raise InputError(path, 1, 'not a selftest table: the header must be %s' % ' '.join(TSV_HEADER))
    rows = []
    for n, line in enumerate(lines[1:], 2):
        if not line:
            continue
        f = line.split('\t')
        if len(f) != len(TSV_HEADER):
            raise InputError(path, n, 'want %d tab-separated fields, found %d' % (len(TSV_HEADER), len(f)))
        if not f[0].isdigit():
            raise InputError(path, n, 'mutant %r is not a number' % f[0])
        rows.append(dict(zip(TSV_HEADER, f)))
    return rows


def render_md(rows):
    out = MD_HEADER
    for r in rows:
        first = r['first_line'].replace('|', '\\|')[:140]
        out += '| %s | %s | %s | %s | %s | %s | `%s` |\n' % (
            r['mutant'], r['layer'], r['description'], r['detected_by'], r['seconds'], r['scratch_seconds'], first)
    return out


def is_found(row):
    return not row['detected_by'].startswith('missed')


def read_table(path):
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise InputError(path, 0, 'cannot read: %s' % e.strerror) from None
    return parse_table(text, path)


# === One mutant ==============================================================

def mutant_file(n):
    """The source holding `#if RA_MUTANT == n` (or !=)."""
    rx = re.compile(r'RA_MUTANT [!=]= %d( |\))' % n)
    for f in sorted(glob.glob('engine/src/*.c')) + ['engine/umalloc/umalloc.c']:
        with open(f, errors='replace') as fh:
            if rx.search(fh.read()):
                return f
    return None


class Fuzzing:
    """AFL++ on one core from a seed folder until a crash or hang the
    mutant has and the unmutated engine has not, or LIMIT seconds."""

    def __init__(self, binary, base, dict_, limit):
        self.binary, self.base, self.dict, self.limit = binary, base, dict_, limit

    def caught(self, inp):
        # a detection is an input the mutant fails on (5 s without an end
        # counts, as a fuzzer's timeout) and the unmutated engine passes
        return _fails(self.binary, inp, 5) and not _fails(self.base, inp, 60)

    def until_caught(self, seeds, out):
        """(the input that caught it or None, crashes the base shares)."""
        cmd = ['afl-fuzz', '-i', seeds, '-o', out, '-V', str(self.limit)]
        if os.path.exists(self.dict):
            cmd += ['-x', self.dict]
        seen, basefind, hit = set(), 0, None
        with open(out + '.log', 'wb') as log:
            p = subprocess.Popen(cmd + ['--', self.binary], stdout=log, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, env=dict(os.environ, **AFL_ENV))
        try:
            while hit is None:
                ended = p.poll() is not None
                if not ended:
                    time.sleep(0.5)
                for c in sorted(glob.glob(os.path.join(out, 'default', 'crashes', 'id:*')) +
                                glob.glob(os.path.join(out, 'default', 'hangs', 'id:*'))):
                    if c in seen:
                        continue
                    seen.add(c)
                    if self.caught(c):
                        hit = c
                        break
                    basefind += 1
                if ended:
                    break
        finally:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return hit, basefind


def run_mutant(n, layer, tname, desc, limit, scratch_on):
    """Build, replay the seeds, fuzz; the table row (a dict)."""
    target = targets_mod.get(tname)
    b = 'build/mutant-%d' % n
    src = mutant_file(n)
    if not src:
        raise InputError('engine/src', 0, "mutant %d: no '#if RA_MUTANT == %d' block in the engine" % (n, n))
    # a copy of the base build with the mutant's object(s) removed: only they rebuild
    shutil.rmtree(b, ignore_errors=True)
    shutil.copytree('build/afl', b, symlinks=True)
    if src == 'engine/umalloc/umalloc.c':
        for o in glob.glob(os.path.join(b, 'engine', 'umalloc', '*.o')):
            os.remove(o)
    else:
        o = os.path.join(b, src[:-2] + '.o')
        if os.path.exists(o):
            os.remove(o)
    for f in (os.path.join(b, 'fuzz', tname), os.path.join(b, 'librefalloc.a')):
        if os.path.exists(f):
            os.remove(f)
    binary = os.path.join(b, 'fuzz', tname)
    if not make(['V=afl', 'B=%s' % b, 'EXTRA_CFLAGS=-DRA_MUTANT=%d' % n, binary]):
        return None
    work = os.path.join(OUT, 'mutant-%d' % n)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    fz = Fuzzing(binary, os.path.join('build/afl/fuzz', tname), os.path.join('fuzz', tname + '.dict'), limit)

    # 1. the seeds themselves
    t0, hit, how, basefind = time.time(), None, 'seed', 0
    seeds = os.path.join('corpus', tname)
    for s in sorted(glob.glob(os.path.join(seeds, '*'))):
        if fz.caught(s):
            hit = s
            break
    # 2. fuzz from the seeds, one core, until a crash the base does not share
    if hit is None:
        how = 'fuzz'
        t0 = time.time()     # the fuzzing's own time (afl-fuzz's dry run of the seeds included)
        hit, basefind = fz.until_caught(seeds, os.path.join(work, 'afl'))
    if hit:
        # time to detection: the crash file's time from the start of the run
        secs = '%.1f' % ((os.path.getmtime(hit) if how == 'fuzz' else time.time()) - t0)
        crash = os.path.join(work, 'crash.bin')
        shutil.copyfile(hit, crash)
        by, line = detect(binary, crash, os.path.join(work, 'replay.log'))
        if target.profile and is_exe('build/release/refalloc'):
            run(['build/release/refalloc', 'trace', 'decode', '--profile=' + target.profile, crash,
                 os.path.join(work, 'crash.trace')], timeout=60)
    else:
        by, secs, line = 'missed', '>%d' % limit, 'not found in %d s' % limit
    if how == 'seed':
        by += ' (seed)'
    if basefind:
        line += ' [+%d crash(es) the unmutated engine shares, skipped]' % basefind
    # 3. from scratch: when a seed caught it, how long the fuzzer takes from
    # a single blank input (two header bytes: a 16 MiB machine, no
    # operation) — the fuzzer's own power
    scratch = '-'
    if how == 'seed' and hit and scratch_on:
        blank = os.path.join(work, 'blank')
        os.makedirs(blank)
        with open(os.path.join(blank, 'blank'), 'wb') as f:
            f.write(b'\0\0')
        t0 = time.time()
        shit, _ = fz.until_caught(blank, os.path.join(work, 'scratch'))
        scratch = '%.1f' % (os.path.getmtime(shit) - t0) if shit else '>%d' % limit
    return {'mutant': str(n), 'layer': layer, 'target': tname, 'description': desc, 'detected_by': by,
            'seconds': secs, 'first_line': _cell(line), 'scratch_seconds': scratch}


def main(argv):
    if argv == ['--table']:
        chdir_root()
        print(render_md(read_table(os.path.join(OUT, 'table.tsv'))), end='')
        return 0
    known = {m[0]: m for m in MUTANTS}
    want = []
    for a in argv:
        if not a.isdigit() or int(a) not in known:
            raise UsageError('usage: fuzz/selftest.py [N...] | --table   (N: a mutant, 1-%d; not %r)'
                             % (len(MUTANTS), a))
        want.append(int(a))
    limit = env_int('LIMIT', 60, 1)
    scratch_on = os.environ.get('SCRATCH', '1') == '1'
    chdir_root()
    os.makedirs(OUT, exist_ok=True)
    print('==> fuzz-selftest: building the AFL++ base (build/afl)', flush=True)
    if not make(['V=afl', 'lib', 'fuzz-bins']):
        return 1
    tsv = os.path.join(OUT, 'table.tsv')
    with open(tsv, 'w') as f:
        f.write('\t'.join(TSV_HEADER) + '\n')
    t_all = time.time()
    found = total = 0
    for n, layer, tname, desc in MUTANTS:
        if want and n not in want:
            continue
        total += 1
        row = run_mutant(n, layer, tname, desc, limit, scratch_on)
        if row is None:
            return 1
        found += is_found(row)
        with open(tsv, 'a') as f:
            f.write('\t'.join(_cell(row[k]) for k in TSV_HEADER) + '\n')
        print(format_row(row), flush=True)
    md = render_md(read_table(tsv))
    with open(os.path.join(OUT, 'table.md'), 'w') as f:
        f.write(md)
    print()
    print(md)
    print('fuzz-selftest: %d of %d mutants found in %d s (table: %s/table.md)'
          % (found, total, time.time() - t_all, OUT))
    return 0 if found == total else 1

