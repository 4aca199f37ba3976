#!/usr/bin/env python3
"""leakcheck/leakcheck.py — `make leakcheck`: independent detectors must agree.

  1. leaks:    every corpus/leak trace under the engine's own report
               (--leaks=report), Valgrind memcheck and the ASan build's
               LeakSanitizer (--twins); each must find exactly the leaks
               the trace's "# expect-leaks: BLOCKS BYTES" line states.
  2. misuse:   every corpus/misuse trace under the ASan build (the report
               must name "# expect-asan: LINE") and under the engine's own
               debug checks (release build with ENGINE_DEBUG below: the
               first finding must be "# expect-engine: LINE CLASS").
  3. clean:    the harness itself: the whole regression corpus and every
               fuzz target's corpus (fuzz/targets) through the ASan+UBSan
               build and through Valgrind memcheck: no errors, no leaks of
               the engine, the tool or the drivers (the trace's own leaked
               objects are the leak table's business: under Valgrind they
               are suppressed by leakcheck/trace-objects.supp and must add
               up to the engine's leak report instead).
  4. examples: leakcheck/examples/check.sh, if it exists (real programs
               under LD_PRELOAD=librefalloc_malloc.so against Valgrind).

usage: leakcheck/leakcheck.py [--fast] [--no-build] [-j N]
  --fast      the subset ci/test.d/leak.sh runs in `make test`: leak and
              misuse corpora under the engine and ASan/LSan, a few leak
              traces and a sample of the regression corpus under Valgrind
  --no-build  use the binaries in build/release and build/asan as they are
  -j N        parallel jobs (default: nproc)
Environment: VG_FUZZ_MAX (40) fuzz inputs per target under Valgrind (0: all).
Exit status: 0 when every table agrees and every stage is clean; 1 when one
does not (or a build fails); 64 for bad usage. A trace with a malformed
annotation is a failed row naming its file and line, never a crash.
"""
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'fuzz'))
from refuzz import targets as targets_mod  # noqa: E402
from refuzz.signature import run  # noqa: E402
from refuzz.util import InputError, UsageError, nproc, run_main, which  # noqa: E402

REL = os.path.join(ROOT, 'build', 'release', 'refalloc')
ASN = os.path.join(ROOT, 'build', 'asan', 'refalloc')
SUPP = os.path.join(ROOT, 'leakcheck', 'trace-objects.supp')
# The engine's debug configuration for the misuse table: slub_debug on every
# cache, free pages out of the direct map, glibc's MALLOC_PERTURB_.
ENGINE_DEBUG = ['--slub-debug=FZPU', '--set', 'debug_pagealloc=1', '--set', 'M_PERTURB=0x6b']
VG = ['valgrind', '--leak-check=full', '--errors-for-leak-kinds=definite', '--error-exitcode=99']
# the fast form's Valgrind share of the leak table: one trace per user-side
# mechanism and the all-layer one
FAST_VG_LEAKS = ('mixed', 'fork', 'zero-size', 'clean-all-freed')
# golden traces that once were Valgrind errors (peek of unwritten memory,
# writes to free objects of a debug cache): always in the fast sample
FAST_VG_REGRESS = ('gfp-classes', 'slub-debug-P-validate', 'user-poke-peek', 'slab-kzalloc-reuse')
SLUB_DEBUG_GOLDEN = ('slub-debug-FZ-redzone', 'slub-debug-FP-poison', 'slub-debug-U-tracks')
SAN_ERROR = re.compile(r'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:')


# === Reading the detectors' reports ==========================================

def _num(s):
    return int(s.replace(',', ''))


def vg_counts(log, kind='definitely lost'):
    """(BLOCKS, BYTES) of Valgrind's last "KIND: X bytes in Y blocks" line
    (definitely lost, possibly lost, suppressed, ...); (0, 0) without one,
    as when "All heap blocks were freed"."""
    found = re.findall(r'%s: ([0-9,]+) bytes in ([0-9,]+) blocks' % re.escape(kind), log)
    if not found:
        return (0, 0)
    b, n = found[-1]
    return (_num(n), _num(b))


def vg_other_errors(log, kinds=('definitely',)):
    """Error contexts of a Valgrind log that are not leak records of the
    given kinds (the kinds its --errors-for-leak-kinds counted)."""
    ctx = re.findall(r'ERROR SUMMARY: [0-9,]+ errors from ([0-9,]+) contexts', log)
    leaks = len(re.findall(r'are (%s) lost in loss record' % '|'.join(kinds), log))
    return (_num(ctx[-1]) if ctx else 0) - leaks


def engine_leaks(out):
    """(BLOCKS, BYTES) of the engine's "LEAK SUMMARY: definitely lost: X
    bytes in Y blocks" (the last one), None when it printed none."""
    found = re.findall(r'^LEAK SUMMARY: definitely lost: ([0-9,]+) bytes in ([0-9,]+) blocks', out, re.M)
    if not found:
        return None
    b, n = found[-1]
    return (_num(n), _num(b))


def lsan_leaks(err):
    """(ALLOCATIONS, BYTES) of LeakSanitizer's summary; (0, 0) without one."""
    found = re.findall(r'^SUMMARY: AddressSanitizer: ([0-9]+) byte\(s\) leaked in ([0-9]+) allocation\(s\)\.',
                       err, re.M)
    if not found:
        return (0, 0)
    b, n = found[-1]
    return (int(n), int(b))


def asan_report(err, fname):
    """(KIND, LINE) of an ASan report while replaying fname: the first
    "ERROR: AddressSanitizer: KIND" and the trace line the engine's hook
    names; either is None when missing."""
    m = re.search(r'ERROR: AddressSanitizer: ([a-z-]+)', err)
    ln = re.search(r'^refalloc: AddressSanitizer report while replaying %s:([0-9]+)$' % re.escape(fname), err, re.M)
    return (m.group(1) if m else None, int(ln.group(1)) if ln else None)


def first_bug(err):
    m = re.search(r'^BUG: refalloc: .*$', err, re.M)
    return m.group(0) if m else None


def bug_summary(bug):
    """"CLASS (line N)" of an engine BUG line, or the line itself."""
    m = re.match(r'^BUG: refalloc: ([a-z-]*) .*\(.*:([0-9]*)\)$', bug)
    return '%s (line %s)' % m.groups() if m else bug


def peeked_bytes(out):
    """The bytes of the hex dumps in a replay's output ("ffff888001000090: 6b 6b ...")."""
    return ' '.join(re.findall(r'^[0-9a-f]{16}: (.*)$', out, re.M)).split()


def commas(n):
    return '{:,}'.format(n)


def fmt_bb(bb):
    """"BLOCKS / BYTES" with thousands separators; "none" for None."""
    return 'none' if bb is None else '%s / %s' % (commas(bb[0]), commas(bb[1]))


# === Trace annotations =======================================================

class Expect:
    """The "# expect-...:" lines of a trace, checked."""

    def __init__(self, path, text):
        self.path = path
        self.leaks = self.lsan_bytes = self.asan_line = self.engine = None
        for n, line in enumerate(text.splitlines(), 1):
            m = re.match(r'^# (expect-[a-z-]+):(.*)$', line)
            if not m:
                continue
            key, val = m.group(1), m.group(2).split()
            if key == 'expect-leaks' and self.leaks is None:
                if len(val) != 2 or not all(v.isdigit() for v in val):
                    raise InputError(path, n, "'%s': want '# expect-leaks: BLOCKS BYTES'" % line)
                self.leaks = (int(val[0]), int(val[1]))
            elif key == 'expect-lsan-bytes' and self.lsan_bytes is None:
                if len(val) != 1 or not val[0].isdigit():
                    raise InputError(path, n, "'%s': want '# expect-lsan-bytes: BYTES'" % line)
                self.lsan_bytes = int(val[0])
            elif key == 'expect-asan' and self.asan_line is None:
                if len(val) != 1 or not val[0].isdigit():
                    raise InputError(path, n, "'%s': want '# expect-asan: LINE'" % line)
                self.asan_line = int(val[0])
            elif key == 'expect-engine' and self.engine is None:
                if len(val) not in (2, 3) or not val[0].isdigit() or (val[1] == 'poison-read') != (len(val) == 3) \
                        or (len(val) == 3 and not re.fullmatch(r'[0-9a-f]{2}', val[2])):
                    raise InputError(path, n, "'%s': want '# expect-engine: LINE CLASS' "
                                              "or '# expect-engine: LINE poison-read BYTE' (BYTE: two hex digits)" % line)
                self.engine = (int(val[0]), val[1], val[2] if len(val) == 3 else None)


def read_expect(path):
    with open(path, errors='replace') as f:
        return Expect(os.path.relpath(path, ROOT), f.read())


# === Workers: one row each, run in parallel ==================================

def worker_leak(trace, valgrind=True):
    """(name, expected, engine, valgrind, lsan, agree, notes) of one leak trace."""
    name = os.path.basename(trace)[:-len('.trace')]
    try:
        exp = read_expect(trace)
    except InputError as e:
        return (name, '-', '-', '-', '-', 'FAIL', str(e))
    if exp.leaks is None:
        return (name, '-', '-', '-', '-', 'FAIL', 'no "# expect-leaks: BLOCKS BYTES" line')
    d, f = os.path.dirname(trace), os.path.basename(trace)
    ok, notes = True, []
    # the engine's own report
    erc, eout, eerr = run([REL, 'replay', '--leaks=report', f], cwd=d)
    eng = engine_leaks(eout)
    if erc != 0:
        ok = False
        notes.append('engine replay exit %d: %s' % (erc, (eerr.splitlines() or [''])[0]))
    # Valgrind: the tool's own exit is 0; Valgrind's is 99 when it counted a leak
    vg = None
    if valgrind:
        # Valgrind's lost figure is definitely + possibly lost: a block no
        # pointer to whose start survives. A possibly lost one has some word
        # pointing inside it, and under Valgrind ld.so's relocate_time (a
        # cycle count) falls in the range of its heap now and then
        # (leakcheck/README.md); noted, not a disagreement.
        tmp = tempfile.mkdtemp(prefix='leakcheck.')
        try:
            log = os.path.join(tmp, 'vg.log')
            vrc, _, _ = run(VG + ['--errors-for-leak-kinds=definite,possible', '--log-file=' + log, REL, 'replay', f],
                            cwd=d)
            with open(log, errors='replace') as fh:
                vlog = fh.read()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        dl, pl = vg_counts(vlog), vg_counts(vlog, 'possibly lost')
        vg = (dl[0] + pl[0], dl[1] + pl[1])
        if pl != (0, 0):
            notes.append('valgrind: %s possibly lost, counted as lost' % fmt_bb(pl))
        want = 99 if exp.leaks[0] else 0
        if vrc != want:
            ok = False
            notes.append('valgrind exit %d, expected %d' % (vrc, want))
        other = vg_other_errors(vlog, ('definitely', 'possibly'))
        if other:
            ok = False
            notes.append('valgrind: %d non-leak error contexts' % other)
    # LeakSanitizer through host-heap twins: exit 0, or 23 when it found leaks
    lrc, _, lerr = run([ASN, 'replay', '--twins', f], cwd=d,
                       env={'ASAN_OPTIONS': 'detect_leaks=1', 'LSAN_OPTIONS': 'exitcode=23'})
    lsan = lsan_leaks(lerr)
    if re.search(r'ERROR: AddressSanitizer|runtime error:', lerr):
        ok = False
        notes.append('ASan/UBSan error in the --twins run')
    elif lrc != (0 if exp.leaks[0] == 0 else 23):
        ok = False
        notes.append("asan replay exit %d (LeakSanitizer's is 23)" % lrc)
    exp_lsan = (exp.leaks[0], exp.lsan_bytes if exp.lsan_bytes is not None else exp.leaks[1])
    ok = ok and eng == exp.leaks and (vg is None or vg == exp.leaks) and lsan == exp_lsan
    lcol = fmt_bb(lsan) + (' (+1/zero-size block)' if exp.lsan_bytes is not None else '')
    return (name, fmt_bb(exp.leaks), fmt_bb(eng), 'skipped' if vg is None else fmt_bb(vg), lcol,
            'yes' if ok else 'NO', ';'.join(notes))


def worker_misuse(trace):
    """(name, ASan column, engine column, ok, notes) of one misuse trace."""
    name = os.path.basename(trace)[:-len('.trace')]
    try:
        exp = read_expect(trace)
    except InputError as e:
        return (name, '-', '-', 'FAIL', str(e))
    if exp.asan_line is None or exp.engine is None:
        return (name, '-', '-', 'FAIL', 'needs "# expect-asan: LINE" and "# expect-engine: LINE CLASS"')
    d, f = os.path.dirname(trace), os.path.basename(trace)
    ok, notes = True, []
    # ASan: the report names the trace line
    arc, _, aerr = run([ASN, 'replay', f], cwd=d, env={'ASAN_OPTIONS': 'detect_leaks=0'})
    kind, line = asan_report(aerr, f)
    if kind and line == exp.asan_line and arc != 0:
        acol = '%s (line %d)' % (kind, line)
    else:
        ok = False
        acol = (kind or 'not caught') + (' (line %d)' % line if line else '')
        notes.append('ASan: expected a report at line %d, exit %d' % (exp.asan_line, arc))
    # the engine's own checks
    eline, eclass, ebyte = exp.engine
    erc, eout, eerr = run([REL, 'replay'] + ENGINE_DEBUG + [f], cwd=d)
    if eclass == 'poison-read':
        # a read cannot be refused: the bytes it returns are the finding
        got = peeked_bytes(eout)
        if got and all(b == ebyte for b in got) and not first_bug(eerr):
            ecol = 'reads poison 0x%s (line %d)' % (ebyte, eline)
        else:
            ok = False
            ecol = 'no poison read'
            notes.append('engine: the peek at line %d did not return 0x%s only' % (eline, ebyte))
    else:
        bug = first_bug(eerr)
        if bug and bug.startswith('BUG: refalloc: %s in ' % eclass) and bug.endswith('(%s:%d)' % (f, eline)) \
                and erc == 1:
            ecol = '%s (line %d)' % (eclass, eline)
        else:
            ok = False
            ecol = bug_summary(bug) if bug else 'not caught'
            notes.append('engine: expected %s at line %d, exit %d' % (eclass, eline, erc))
    return (name, acol, ecol, 'yes' if ok else 'NO', ';'.join(notes))


def _exit_line(trace):
    """The exit code a golden trace's "# exit: N" line promises (0 without one)."""
    with open(trace, errors='replace') as f:
        m = re.search(r'^# exit: *([0-9]+)', f.read(), re.M)
    return int(m.group(1)) if m else 0


def worker_regress(mode, trace):
    """(name, ok|FAIL|skip, note) of one golden trace under ASan or Valgrind."""
    name, d = os.path.basename(trace), os.path.dirname(trace)
    want = _exit_line(trace)
    if mode == 'asan':
        rc, _, err = run([ASN, 'replay', '--check=full', name], cwd=d, env={'ASAN_OPTIONS': 'detect_leaks=1'})
        m = re.search(r'^.*(ERROR: |runtime error:).*$', err, re.M)
        if SAN_ERROR.search(err):
            return (name, 'FAIL', m.group(0) if m else 'sanitizer error')
        if rc != want:
            return (name, 'FAIL', 'exit %d, expected %d' % (rc, want))
        return (name, 'ok', '')
    # the tool's own exit code is the trace's (0, 1 or 2); Valgrind's is 99
    tmp = tempfile.mkdtemp(prefix='leakcheck.')
    try:
        log = os.path.join(tmp, 'vg.log')
        rc, out, err = run(VG + ['--suppressions=' + SUPP, '--log-file=' + log, REL, 'replay', '--leaks=report', name],
                           cwd=d)
        with open(log, errors='replace') as fh:
            vlog = fh.read()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    other = vg_other_errors(vlog)
    eng = engine_leaks(out)
    sup = vg_counts(vlog, 'suppressed')
    if rc == 70 and 'cannot reserve host memory' in err:
        m = re.search(r'a [0-9]* MiB machine', err)
        return (name, 'skip', "Valgrind cannot map this machine's RAM (%s)" % (m.group(0) if m else '?'))
    if rc == 99 or other != 0 or vg_counts(vlog) != (0, 0):
        dl = vg_counts(vlog)
        return (name, 'FAIL', "Valgrind: %d error contexts, definitely lost %d %d (not the trace's)"
                % (other, dl[0], dl[1]))
    if rc != want:
        return (name, 'FAIL', 'exit %d, expected %d' % (rc, want))
    if eng is not None and eng != sup:
        return (name, 'FAIL', 'trace objects: Valgrind %d %d, engine %d %d' % (sup + eng))
    return (name, 'ok', 'trace objects %d %d' % eng if eng else '')


def _chunks(seq, n=500):
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def corpus_files(target):
    out = []
    for dp, _, fs in os.walk(os.path.join(ROOT, 'corpus', target)):
        out += [os.path.join(dp, f) for f in fs]
    return sorted(out)


def worker_fuzz(mode, target):
    """(target, ok|FAIL|skip, note) of one fuzz target's corpus under the ASan
    -test driver, the libFuzzer build in one process (LSan), or Valgrind."""
    cdir = os.path.join(ROOT, 'corpus', target)
    if not os.path.isdir(cdir):
        return (target, 'skip', 'no corpus/%s' % target)
    files = corpus_files(target)
    n = str(len(files))
    tmp = tempfile.mkdtemp(prefix='leakcheck.')
    try:
        if mode == 'asan':
            b = os.path.join(ROOT, 'build', 'asan', 'fuzz', target + '-test')
            if not os.access(b, os.X_OK):
                return (target, 'FAIL', '%s missing (build failed?)' % os.path.relpath(b, ROOT))
            rc, out, err = run([b, cdir], env={'ASAN_OPTIONS': 'detect_leaks=1'})
            vgerr = ''
        elif mode == 'lsan':
            # the -test drivers run each input in a child that _exits, where
            # LeakSanitizer never looks; the libFuzzer build runs files given
            # on its command line in-process, and LSan checks at its exit
            b = os.path.join(ROOT, 'build', 'libfuzzer', 'fuzz', target)
            if not os.access(b, os.X_OK):
                return (target, 'FAIL', '%s missing (build failed?)' % os.path.relpath(b, ROOT))
            rc, err = 0, ''
            for part in _chunks(files, 1000):
                r, _, e = run([b, '-artifact_prefix=%s/' % tmp] + part, env={'ASAN_OPTIONS': 'detect_leaks=1'})
                err += e
                rc = rc or r
            m = re.search(r'^.*(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:).*$', err, re.M)
            if rc == 0 and not m:
                return (target, 'ok', '%s inputs in one process' % n)
            running = re.findall(r'^Running: (.*)$', err, re.M)
            why = re.sub(r'^==[0-9]*==', '', m.group(0) if m else 'no sanitizer report')
            return (target, 'FAIL', 'exit %d after %s: %s' % (rc, running[-1] if running else '', why[:100]))
        else:
            b = os.path.join(ROOT, 'build', 'release', 'fuzz', target + '-test')
            if not os.access(b, os.X_OK):
                return (target, 'FAIL', '%s missing (build failed?)' % os.path.relpath(b, ROOT))
            # the driver forks one child per input; Valgrind follows each. At
            # ~0.5 s an input, a campaign-sized corpus is a sample: every k-th
            # file by name, at most VG_FUZZ_MAX (0: all)
            mx = vg_fuzz_max()
            k = 1
            if mx > 0 and len(files) > mx:
                k = (len(files) + mx - 1) // mx
            sample = files[::k]
            if len(sample) != len(files):
                n = '%d of %d' % (len(sample), len(files))
            rc, out, err = 0, '', ''
            for part in _chunks(sample):
                r, o, e = run(VG + ['--suppressions=' + SUPP, '--log-file=%s/vg.%%p.log' % tmp, b] + part)
                out, err, rc = out + o, err + e, rc or r
            vgerr = ''
            for lf in sorted(os.listdir(tmp)):
                with open(os.path.join(tmp, lf), errors='replace') as fh:
                    vgerr += fh.read()
        fails = re.findall(r'^FAIL .*$', out, re.M)
        if rc == 0 and not SAN_ERROR.search(err):
            return (target, 'ok', '%s inputs' % n)
        why = fails[0] if fails else ''
        if mode == 'valgrind':
            m = re.search(r'^.*(Invalid|uninitialised|definitely lost in).*$', vgerr, re.M)
            why += '; ' + (re.sub(r'^==[0-9]*== ', '', m.group(0)) if m else '')
        return (target, 'FAIL', '%d of %s inputs failed (exit %d): %s' % (len(fails), n, rc, why))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def vg_fuzz_max():
    raw = os.environ.get('VG_FUZZ_MAX', '')
    return int(raw) if raw.isdigit() else 40


# === The driver ==============================================================

def table(header, rows):
    """Aligned columns: "a | b | c" with a "--+--" line under the header."""
    rows = [list(header)] + [list(r) for r in rows]
    nf = max(len(r) for r in rows)
    w = [max(len(r[i]) if i < len(r) else 0 for r in rows) for i in range(nf)]
    out = []
    for n, r in enumerate(rows):
        cells = [(r[i] if i < len(r) else '') for i in range(nf)]
        line = ''.join(('%-*s | ' % (w[i], c)) if i < nf - 1 else c for i, c in enumerate(cells))
        out.append('  ' + re.sub(r'[ |]+$', '', line))
        if n == 0:
            out.append('  ' + '-+-'.join('-' * x for x in w))
    return out


def parse_args(argv):
    fast = no_build = False
    jobs = nproc()
    i = 0
    usage = 'usage: leakcheck/leakcheck.py [--fast] [--no-build] [-j N]'
    while i < len(argv):
        a = argv[i]
        if a == '--fast':
            fast = True
        elif a == '--no-build':
            no_build = True
        elif a == '-j' or (a.startswith('-j') and len(a) > 2):
            if a == '-j':
                i += 1
                if i >= len(argv):
                    raise UsageError(usage + ' (-j wants a number)')
                a = argv[i]
            else:
                a = a[2:]
            if not a.isdigit() or int(a) < 1:
                raise UsageError(usage + ' (-j wants a number >= 1, not %r)' % a)
            jobs = int(a)
        else:
            raise UsageError(usage)
        i += 1
    return fast, not no_build, jobs


class Leakcheck:
    def __init__(self, fast, jobs):
        self.fast, self.jobs = fast, jobs
        self.failed = []
        self.have_vg = which('valgrind') is not None
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)

    def par(self, fn, items):
        return list(self.pool.map(fn, items))

    def build(self):
        print('==> building release and asan (lib, tool, fuzz -test drivers)', flush=True)
        mk = ['make', '--no-print-directory', '-s', '-f', 'mk/build.mk', '-j%d' % self.jobs]
        for v in ('release', 'asan'):
            rc, out, err = run(mk + ['V=' + v, 'lib', 'tool'], cwd=ROOT)
            if rc != 0:
                print(out + err, end='')
                print('leakcheck: the %s build failed' % v)
                return False
            if not self.fast:
                rc, out, err = run(mk + ['V=' + v, 'fuzz-tests'], cwd=ROOT)
                if rc != 0:
                    print('\n'.join((out + err).splitlines()[-5:]))
                    print('leakcheck: the %s fuzz drivers did not build (their stage fails)' % v)
        if not self.fast and which('clang'):
            rc, out, err = run(mk + ['V=libfuzzer', 'lib', 'fuzz-bins'], cwd=ROOT)
            if rc != 0:
                print('\n'.join((out + err).splitlines()[-5:]))
                print('leakcheck: the libFuzzer targets did not build (their stage fails)')
        return True

    def leak_table(self):
        t = time.time()
        leaks = sorted(os.path.join(ROOT, 'corpus', 'leak', f) for f in os.listdir(os.path.join(ROOT, 'corpus', 'leak'))
                       if f.endswith('.trace'))
        print()
        print('==> leak cross-check: corpus/leak (%d traces; engine --leaks=report, Valgrind memcheck, ASan/LSan --twins)'
              % len(leaks), flush=True)

        def one(tr):
            vg = self.have_vg and (not self.fast or os.path.basename(tr)[:-6] in FAST_VG_LEAKS)
            return worker_leak(tr, vg)
        rows = sorted(self.par(one, leaks))
        for line in table(['trace', 'expected blocks / bytes', 'engine', 'valgrind', 'lsan', 'agree'],
                          [r[:6] for r in rows]):
            print(line)
        for r in rows:
            if r[6]:
                print('    %s: %s' % (r[0], r[6]))
        bad = sum(1 for r in rows if r[5] != 'yes')
        print('  leak table: %d traces, %d disagreeing (%ds)' % (len(rows), bad, time.time() - t), flush=True)
        if bad:
            self.failed.append('leak table')
        if not self.have_vg:
            self.failed.append('leak table (no valgrind)')

    def misuse_table(self):
        t = time.time()
        print()
        print("==> misuse: corpus/misuse under ASan (report names the trace line) and the engine's checks (%s)"
              % ' '.join(ENGINE_DEBUG), flush=True)
        mdir = os.path.join(ROOT, 'corpus', 'misuse')
        rows = sorted(self.par(worker_misuse, sorted(os.path.join(mdir, f) for f in os.listdir(mdir)
                                                     if f.endswith('.trace'))))
        for line in table(['trace', 'ASan caught (line)', 'engine caught (line)', 'ok'], [r[:4] for r in rows]):
            print(line)
        for r in rows:
            if r[4]:
                print('    %s: %s' % (r[0], r[4]))
        bad = sum(1 for r in rows if r[3] != 'yes')
        print('  misuse table: %d traces, %d not caught by both (%ds)' % (len(rows), bad, time.time() - t), flush=True)
        if bad:
            self.failed.append('misuse table')

    def slub_debug_option(self):
        """--slub-debug is the boot parameter: a golden trace whose
        slub_debug line is blanked out (a comment keeps the line numbers),
        replayed with --slub-debug, must print exactly the same."""
        t = time.time()
        ok = True
        reg = os.path.join(ROOT, 'corpus', 'regression')
        for g in SLUB_DEBUG_GOLDEN:
            tr = os.path.join(reg, g + '.trace')
            try:
                with open(tr) as f:
                    text = f.read()
            except OSError:
                ok = False
                print('  --slub-debug: corpus/regression/%s.trace is missing' % g)
                continue
            m = re.search(r'^slub_debug *(.*)$', text, re.M)
            if not m:
                ok = False
                print('  --slub-debug: corpus/regression/%s.trace has no slub_debug line' % g)
                continue
            spec = m.group(1)
            d = tempfile.mkdtemp(prefix='leakcheck.')
            try:
                with open(os.path.join(d, g + '.trace'), 'w') as f:
                    f.write(re.sub(r'^slub_debug .*$', '# (slub_debug: given as --slub-debug)', text, flags=re.M))
                rc, out, err = run([REL, 'replay', '--check=full', '--slub-debug=' + spec, g + '.trace'], cwd=d)
                rrc, rout, rerr = run([REL, 'replay', '--check=full', g + '.trace'], cwd=reg)
            finally:
                shutil.rmtree(d, ignore_errors=True)
            if (out, err, rc) != (rout, rerr, rrc):
                ok = False
                print("  --slub-debug=%s differs from the trace's slub_debug line on %s" % (spec, g))
        print('  --slub-debug=LETTERS[,cache] equals a leading slub_debug line: %s (%ds)'
              % ('yes' if ok else 'NO', time.time() - t), flush=True)
        if not ok:
            self.failed.append('--slub-debug option')

    def harness_clean(self):
        print()
        print('==> harness-clean: the engine, the tool and the fuzz drivers under ASan+UBSan and Valgrind memcheck',
              flush=True)
        reg = os.path.join(ROOT, 'corpus', 'regression')
        regress = sorted(os.path.join(reg, f) for f in os.listdir(reg) if f.endswith('.trace'))
        if self.fast:
            # every 6th golden trace under Valgrind, and those that once were
            # Valgrind errors; ASan runs the whole corpus in make test already
            vgregress = [p for i, p in enumerate(regress)
                         if i % 6 == 0 or os.path.basename(p)[:-6] in FAST_VG_REGRESS]
            asanregress = []
        else:
            vgregress = asanregress = regress
        rows, notes = [], []

        def stage(name, fn, items):
            t = time.time()
            res = self.par(fn, items)
            nok = sum(1 for r in res if r[1] == 'ok')
            nskip = sum(1 for r in res if r[1] == 'skip')
            nfail = sum(1 for r in res if r[1] == 'FAIL')
            rows.append([name, str(len(res)), str(nok), str(nskip), str(nfail), 'ok' if nfail == 0 else 'FAILED',
                         '%ds' % (time.time() - t)])
            notes.extend('    %s %s: %s' % (r[1], r[0], r[2]) for r in res if r[1] != 'ok')
            if nfail:
                self.failed.append('harness-clean: ' + name)
        if asanregress:
            stage('regression corpus, ASan+UBSan+LSan', lambda p: worker_regress('asan', p), asanregress)
        if self.have_vg:
            stage('regression corpus%s, Valgrind' % (' (a sample)' if self.fast else ''),
                  lambda p: worker_regress('valgrind', p), vgregress)
        else:
            self.failed.append('harness-clean: no valgrind')
        if not self.fast:
            tl = targets_mod.names()
            stage('fuzz corpora, ASan+UBSan (-test drivers)', lambda t: worker_fuzz('asan', t), tl)
            if which('clang'):
                stage('fuzz corpora, ASan+UBSan+LSan (libFuzzer, in-process)', lambda t: worker_fuzz('lsan', t), tl)
            if self.have_vg:
                stage('fuzz corpora, Valgrind (-test drivers)', lambda t: worker_fuzz('valgrind', t), tl)
        if rows:
            for line in table(['corpus, detector', 'runs', 'ok', 'skipped', 'failed', 'result', 'time'], rows):
                print(line)
        for line in notes:
            print(line)
        sys.stdout.flush()

    def examples(self):
        check = os.path.join(ROOT, 'leakcheck', 'examples', 'check.sh')
        if self.fast or not os.path.isfile(check):
            return
        print()
        print('==> real programs: leakcheck/examples/check.sh (LD_PRELOAD=librefalloc_malloc.so vs Valgrind)',
              flush=True)
        t = time.time()
        rc = subprocess.call(['bash', check, '--jobs', str(self.jobs)], cwd=ROOT)
        if rc == 0:
            print('  examples: ok (%ds)' % (time.time() - t))
        else:
            print('  examples: FAILED (%ds)' % (time.time() - t))
            self.failed.append('leakcheck/examples/check.sh')


def main(argv):
    fast, build, jobs = parse_args(argv)
    os.environ.setdefault('ASAN_OPTIONS', 'detect_leaks=1')
    os.environ.setdefault('UBSAN_OPTIONS', 'print_stacktrace=1')
    os.chdir(ROOT)
    lc = Leakcheck(fast, jobs)
    if not lc.have_vg:
        print('leakcheck: valgrind not installed (make deps): its columns are skipped and count as failures')
    t0 = time.time()
    if build and not lc.build():
        return 1
    try:
        lc.leak_table()
        lc.misuse_table()
        lc.slub_debug_option()
        lc.harness_clean()
        lc.examples()
    finally:
        lc.pool.shutdown(cancel_futures=True)
    print()
    if lc.failed:
        for f in lc.failed:
            print('leakcheck: FAILED: %s' % f)
        print('leakcheck: %ds' % (time.time() - t0))
        return 1
    print('leakcheck: every detector agrees, the harness is clean (%ds)' % (time.time() - t0))
    return 0


if __name__ == '__main__':
    sys.exit(run_main('leakcheck', main))
