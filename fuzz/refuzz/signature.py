"""refuzz.signature — what deduplicates crashes.

A crash input's signature is its failure class and the first line that
names the failure, with numbers, addresses and handle names taken out, so
the same bug found through different inputs compares equal:

    CLASS   invariant, oracle, harness, asan:<kind>, ubsan, assertion,
            parser, finding, timeout, crash; none when it does not reproduce
    LINE    e.g. "BUG: refalloc: invariant: zone Normal cpu N: pcp count N ..."

The input is replayed with the ASan tool (`refalloc replay --fuzz` on the
decoded trace); a text target, or a missing tool, replays with the ASan
-test driver of the target (the target's own abort message). The harness's
own properties (oom-victim, spurious-fail) are not the tool's: when the
tool's replay shows nothing, the -test driver replays the input too.

A finding's id is the sha1 of "TARGET CLASS<TAB>LINE" (12 hex digits).
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile

from .util import is_exe, sha1_id

SAN_ENV = {'ASAN_OPTIONS': 'detect_leaks=0:abort_on_error=1:symbolize=1', 'UBSAN_OPTIONS': 'print_stacktrace=1'}
REPLAY_TIMEOUT = 120


def run(cmd, timeout=None, env=None, stdin=None, cwd=None):
    """Run a command: (exit, stdout, stderr) as text; a signal is 128+N as
    the shell shows it. With a timeout the command runs in its own process
    group, and when the time is up the whole group is killed (forked
    children included) and the exit is 124, as timeout(1) says; without one
    it stays in ours, so that a Ctrl-C reaches it too."""
    full_env = dict(os.environ, **(env or {}))
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env, cwd=cwd,
                          stdin=stdin if stdin is not None else subprocess.DEVNULL,
                          start_new_session=timeout is not None) as p:
        try:
            out, err = p.communicate(timeout=timeout)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            out, err = p.communicate()
            rc = 124
    if rc < 0:
        rc = 128 - rc
    return rc, out.decode(errors='replace'), err.decode(errors='replace')


# === Classification =========================================================

_SAN_OR_ENGINE = re.compile(r'AddressSanitizer|runtime error|engine bug|^BUG: refalloc: (invariant|oracle):|invariants broken',
                            re.M)
_LIBC_FRAME = re.compile(r' in (__|_asan|malloc|free|calloc|realloc|mem|str)')
_FRAME = re.compile(r'^ *#[0-9]+ ')


def _first(pattern, text, flags=0):
    m = re.search(pattern, text, flags | re.M)
    if not m:
        return None
    start = text.rfind('\n', 0, m.start()) + 1
    end = text.find('\n', m.end())
    return text[start:end if end >= 0 else len(text)]


def top_frame(out):
    """The ASan report's first frame in the project's code: "function file"
    (or the function alone when only a later frame qualifies)."""
    first = _first(r'^ *#[0-9]+ .* in [a-z_]+', out)
    if first and not _LIBC_FRAME.search(first):
        return re.sub(r'^.* in ([A-Za-z0-9_]+) ([^ ]*/)?([^/ :]+):?([0-9]*).*$', r'\1 \3', first)
    for line in out.splitlines():
        if _FRAME.match(line) and not _LIBC_FRAME.search(line):
            return re.sub(r'^.* in ([A-Za-z0-9_]+).*$', r'\1', line)
    return ''


def classify(out, rc, parser=None):
    """(CLASS, LINE) of a replay's combined output and exit status; parser:
    the name of a text target, whose own messages ("fuzz_trace_text: ...")
    are the parser's findings."""
    line = _first(r'ERROR: AddressSanitizer: [a-z-]+', out)
    if line:
        kind = re.sub(r'^.*AddressSanitizer: ([a-zA-Z-]+).*$', r'\1', line)
        return 'asan:' + kind, '%s | %s' % (line, top_frame(out))
    line = _first(r'runtime error:', out)
    if line:
        return 'ubsan', line
    line = _first(r'refalloc: engine bug at', out)
    if line:
        return 'assertion', line
    line = _first(r'^BUG: refalloc: (invariant|oracle|harness):', out)
    if line:
        return re.match(r'^BUG: refalloc: ([a-z]+):', line).group(1), line
    line = _first(r'invariants broken', out)
    if line:
        # the validator's own words (a heap check reports as heap
        # corruption) name the problem better than the count
        return 'invariant', _first(r'^BUG: refalloc: ', out) or line
    line = parser and _first('^%s: ' % re.escape(parser), out)
    if line:
        return 'parser', line
    line = _first(r'refalloc fuzz: .*finding', out)
    if line:
        return 'finding', line
    if rc == 124:
        return 'timeout', 'replay did not finish in %d s' % REPLAY_TIMEOUT
    if rc >= 128 or rc in (70, 2):
        first = next((ln for ln in out.splitlines() if ln != ''), '')
        return 'crash', 'replay exit %d: %s' % (rc, first)
    return 'none', 'does not reproduce (replay exit %d)' % rc


_NORMALIZE = [
    (re.compile(r' at pc 0x[0-9a-f]+ bp 0x[0-9a-f]+ sp 0x[0-9a-f]+'), '', 1),
    (re.compile(r'\([^()]*:[0-9]+\)'), '', 0),
    (re.compile(r'0x[0-9a-fA-F]+'), '#', 0),
    (re.compile(r"'[^']*'"), "'?'", 0),
    (re.compile(r'==[0-9]+=='), '', 0),
    (re.compile(r'\b(pid|thread|T)[ :]?[0-9]+'), r'\1?', 0),
    (re.compile(r'[0-9]+'), 'N', 0),
    (re.compile(r'\s+'), ' ', 0),
    (re.compile(r' +$'), '', 0),
]


def normalize(line):
    """A failure line with what differs between inputs of one bug taken out:
    trace positions "(file:N)", addresses, quoted handle names, pids, numbers."""
    for rx, rep, count in _NORMALIZE:
        line = rx.sub(rep, line, count=count)
    return line


class Signature:
    def __init__(self, cls, raw, log=''):
        self.cls, self.raw, self.log = cls, raw, log
        self.norm = normalize(raw)

    @property
    def key(self):
        return '%s\t%s' % (self.cls, self.norm)

    def id(self, target):
        return sha1_id('%s %s' % (target, self.key))

    def text(self):
        """signature.txt: "CLASS<TAB>NORMALIZED", then the raw line."""
        return '%s\n%s\n' % (self.key, self.raw)

    def __repr__(self):
        return 'Signature(%r, %r)' % (self.cls, self.raw)


def parse_signature_file(text):
    """(CLASS, NORMALIZED, RAW) of a signature.txt ('' for what is missing)."""
    lines = text.split('\n')
    key = lines[0] if lines else ''
    cls, _, norm = key.partition('\t')
    return cls, norm, lines[1] if len(lines) > 1 else ''


# === Replay ==================================================================

def signature(target, inp, builds, log=None):
    """The Signature of one crash input of a Target; its log is the
    replay's combined report."""
    work = tempfile.mkdtemp(prefix='refuzz-sig.')
    try:
        out, rc = '', 0
        tool, driver = builds.asan_tool, builds.test_driver(target.name)
        trace = os.path.join(work, 't.trace')
        if target.profile and is_exe(tool):
            run([tool, 'trace', 'decode', '--profile=' + target.profile, inp, trace], timeout=REPLAY_TIMEOUT)
            rc, _, out = run([tool, 'replay', '--fuzz', trace], timeout=REPLAY_TIMEOUT, env=SAN_ENV)
        elif is_exe(driver):
            rc, so, se = run([driver, inp], timeout=REPLAY_TIMEOUT,
                             env=dict(SAN_ENV, ASAN_OPTIONS='detect_leaks=0:abort_on_error=1'))
            out = se + so
        else:
            out, rc = 'fuzz: no %s nor %s to replay with\n' % (tool, driver), 99
        if target.profile and is_exe(driver) and not _SAN_OR_ENGINE.search(out):
            rc2, _, se = run([driver, inp], timeout=REPLAY_TIMEOUT,
                             env=dict(SAN_ENV, ASAN_OPTIONS='detect_leaks=0:abort_on_error=1'))
            out += se
            if rc2 != 0:
                rc = rc2
        cls, line = classify(out, rc, target.name if target.text else None)
        line = line.replace(trace, 'repro.trace')
        if log:
            with open(log, 'w') as f:
                f.write(out)
        return Signature(cls, line, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
