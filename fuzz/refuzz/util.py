"""refuzz.util — what every program of the package shares: the checkout's
root, the two kinds of error a user can cause (bad usage, bad input data,
each with its exit code), a log that goes to the terminal and a file, and
small helpers for files and processes.
"""
import hashlib
import os
import sys

# Exit codes (sysexits.h): usage and data errors are the user's to fix.
EX_OK = 0
EX_FAIL = 1
EX_USAGE = 64
EX_DATAERR = 65

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class UsageError(Exception):
    """A bad command line or environment variable (exit 64)."""


class InputError(Exception):
    """Bad input data: a file the program reads is malformed (exit 65).

    The message names the file and, when known, the line:
    "fuzz/fuzz_slab.options:3: 'max_len 1024' is neither [section] nor KEY = VALUE".
    """

    def __init__(self, path, line, what):
        self.path, self.line, self.what = path, line, what
        where = '%s:%d' % (path, line) if line else str(path)
        super().__init__('%s: %s' % (where, what))


def read_input(path):
    """An input file's text, or None when there is no such file; any other
    failure to read it is an InputError naming the file (read_text, below,
    is for logs, where any failure reads as the default)."""
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(path, 0, 'cannot read: %s' % e) from None


def run_main(prog, main, argv=None):
    """Run main(argv) and turn the package's errors into messages and exit
    codes: nothing a user gives crashes with a traceback."""
    try:
        rc = main(sys.argv[1:] if argv is None else argv)
    except UsageError as e:
        print('%s: %s' % (prog, e), file=sys.stderr)
        return EX_USAGE
    except InputError as e:
        print('%s: %s' % (prog, e), file=sys.stderr)
        return EX_DATAERR
    except KeyboardInterrupt:
        print('%s: interrupted' % prog, file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EX_FAIL
    return EX_OK if rc is None else rc


class Log:
    """Lines to stdout (unless echo is off) and, when given, appended to a
    file (status.log)."""

    def __init__(self, path=None, echo=True):
        self.path, self.echo = path, echo

    def __call__(self, line=''):
        if self.echo:
            print(line, flush=True)
        if self.path:
            with open(self.path, 'a') as f:
                f.write(line + '\n')


def sha1_id(text):
    """The 12-hex-digit id of a string (a finding's signature)."""
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def sha1_file(path):
    h = hashlib.sha1()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 16), b''):
            h.update(block)
    return h.hexdigest()


def hms(secs):
    secs = max(0, int(secs))
    return '%02d:%02d:%02d' % (secs // 3600, secs % 3600 // 60, secs % 60)


def files_in(folder):
    """The regular files of a folder, sorted by name ([] when it is missing)."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [os.path.join(folder, n) for n in names if os.path.isfile(os.path.join(folder, n))]


def count_files(folder):
    return len(files_in(folder))


def read_text(path, default=''):
    try:
        with open(path, errors='replace') as f:
            return f.read()
    except OSError:
        return default


def write_atomic(path, text):
    """Replace a file's content in one step, so that a kill at any moment
    leaves the old content or the new one, never half of it."""
    tmp = '%s.tmp.%d' % (path, os.getpid())
    with open(tmp, 'w') as f:
        f.write(text)
    os.replace(tmp, path)


def env_int(name, default, minimum=None):
    """An integer environment variable; UsageError names it when it is not one."""
    raw = os.environ.get(name, '')
    if raw == '':
        return default
    try:
        v = int(raw)
    except ValueError:
        raise UsageError('%s=%r is not a whole number' % (name, raw)) from None
    if minimum is not None and v < minimum:
        raise UsageError('%s=%d: must be at least %d' % (name, v, minimum))
    return v


def nproc():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def which(name):
    for d in os.environ.get('PATH', '').split(os.pathsep):
        p = os.path.join(d, name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


def to_root(path):
    """A path the user gave (relative to where they are) as seen from the
    checkout's root, where the programs work: relative when inside it."""
    a = os.path.abspath(path)
    return os.path.relpath(a, ROOT) if a == ROOT or a.startswith(ROOT + os.sep) else a


def chdir_root():
    os.chdir(ROOT)


def is_exe(path):
    return os.path.isfile(path) and os.access(path, os.X_OK)
