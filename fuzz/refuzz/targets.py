"""refuzz.targets — which fuzz targets there are, and their options.

fuzz/targets is the one list (make, the shell stages and OSS-Fuzz read it
too): one target per line, "NAME PROFILE", PROFILE being the binary-trace
profile its inputs decode with or "-" for a target fed text traces; "#"
starts a comment.

fuzz/<target>.options is the INI-like file libFuzzer's and OSS-Fuzz's
conventions use:

    # a comment
    [libfuzzer]
    max_len = 1024
    dict = fuzz_engine.dict      ; a path beside the options file

Sections hold KEY = VALUE lines; "#" or ";" at the start of a line, or
after a blank inside one, starts a comment. Anything else is an error that
names the file and the line.
"""
import os
import re

from .util import ROOT, InputError, UsageError, read_input

TARGETS_FILE = os.path.join(ROOT, 'fuzz', 'targets')

_NAME = re.compile(r'^[A-Za-z0-9_]+$')
_KEY = re.compile(r'^[A-Za-z0-9_.-]+$')


class Target:
    """A fuzz target: its name and its binary profile (None: text inputs)."""

    def __init__(self, name, profile):
        self.name, self.profile = name, profile

    @property
    def text(self):
        return self.profile is None

    def __repr__(self):
        return 'Target(%r, %r)' % (self.name, self.profile)

    def __eq__(self, other):
        return isinstance(other, Target) and (self.name, self.profile) == (other.name, other.profile)


def _strip_comment(line, marks='#'):
    """The line without its comment: a mark at the start, or after a blank."""
    for i, ch in enumerate(line):
        if ch in marks and (i == 0 or line[i - 1] in ' \t'):
            return line[:i]
    return line


def parse_targets(text, path='fuzz/targets'):
    """The Target list of fuzz/targets' text (InputError on a bad line)."""
    out, seen = [], {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw).strip()
        if not line:
            continue
        f = line.split()
        if len(f) != 2:
            raise InputError(path, n, "'%s': want two fields, NAME PROFILE (PROFILE '-' for a text target)" % line)
        name, prof = f
        if not _NAME.match(name):
            raise InputError(path, n, "target name '%s' may hold only letters, digits and '_'" % name)
        if prof != '-' and not _NAME.match(prof):
            raise InputError(path, n, "profile '%s' of %s may hold only letters, digits and '_' (or be '-')" % (prof, name))
        if name in seen:
            raise InputError(path, n, '%s is listed twice (first at line %d)' % (name, seen[name]))
        seen[name] = n
        out.append(Target(name, None if prof == '-' else prof))
    if not out:
        raise InputError(path, 0, 'lists no fuzz target')
    return out


def _shown(path):
    """A path as messages show it: relative to the checkout when inside it."""
    return os.path.relpath(path, ROOT) if os.path.abspath(path).startswith(ROOT + os.sep) else path


def load(path=None):
    """Every target, in the file's order."""
    path = path or TARGETS_FILE
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise InputError(_shown(path), 0, 'cannot read the target list: %s' % e.strerror) from None
    except UnicodeDecodeError as e:
        raise InputError(_shown(path), 0, 'not text: %s' % e) from None
    return parse_targets(text, _shown(path))


def names(path=None):
    return [t.name for t in load(path)]


def get(name, path=None):
    """One target by name; UsageError lists the known ones otherwise."""
    for t in load(path):
        if t.name == name:
            return t
    raise UsageError('unknown fuzz target %r (fuzz/targets lists: %s)' % (name, ' '.join(names(path))))


def select(wanted, path=None):
    """The targets named in wanted (all when empty), each checked."""
    if not wanted:
        return load(path)
    return [get(w, path) for w in wanted]


# === Options files ==========================================================

def parse_options(text, path):
    """{section: {key: value}} of an options file's text, in file order."""
    sections, where = {}, {}
    cur = None
    for n, raw in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw, '#;').strip()
        if not line:
            continue
        if line.startswith('['):
            if not line.endswith(']'):
                raise InputError(path, n, "'%s': a section header ends with ']'" % line)
            name = line[1:-1].strip()
            if not _NAME.match(name):
                raise InputError(path, n, "'%s': bad section name" % line)
            if name in sections:
                raise InputError(path, n, '[%s] appears twice (first at line %d)' % (name, where[(name, None)]))
            sections[name], where[(name, None)] = {}, n
            cur = name
            continue
        if '=' not in line:
            raise InputError(path, n, "'%s' is neither [section] nor KEY = VALUE" % line)
        key, value = (p.strip() for p in line.split('=', 1))
        if not key or not _KEY.match(key):
            raise InputError(path, n, "'%s': bad key %r" % (line, key))
        if cur is None:
            raise InputError(path, n, "'%s' comes before any [section]" % line)
        if not value:
            raise InputError(path, n, '%s has no value' % key)
        if key in sections[cur]:
            raise InputError(path, n, '%s is given twice in [%s] (first at line %d)' % (key, cur, where[(cur, key)]))
        sections[cur][key], where[(cur, key)] = value, n
    return sections


def options_path(target):
    return os.path.join('fuzz', target + '.options')


def read_options(path):
    """An options file's sections; {} when there is no such file."""
    text = read_input(path)
    if text is None:
        return {}
    return parse_options(text, path)


def libfuzzer_flags(target, path=None):
    """libFuzzer's flags from the [libfuzzer] section: ['-max_len=1024',
    '-dict=fuzz/fuzz_engine.dict', ...]; the dict is a file beside the
    options file."""
    path = path or options_path(target)
    flags = []
    for k, v in read_options(path).get('libfuzzer', {}).items():
        if k == 'dict':
            v = os.path.join(os.path.dirname(path), v)
        flags.append('-%s=%s' % (k, v))
    return flags


def libfuzzer_opt(target, key, path=None):
    """One libFuzzer option of a target (None when it has none)."""
    return read_options(path or options_path(target)).get('libfuzzer', {}).get(key)
