"""refuzz.state — what a campaign keeps on disk, so that it can resume.

out/fuzz/<campaign>/
  campaign.env        the campaign's parameters, fixed when it starts:
                      DURATION, JOBS, ENGINE, TARGETS, STARTED, FZ_MUTANT
                      (KEY="VALUE" lines)
  state/elapsed       seconds the campaign has run, over all its runs
  state/<t>.done      seconds target t has had of its share
  state/<t>.seeds     corpus/<t> inputs when t first started
  state/<t>.lfexecs   libFuzzer executions of t's earlier runs (each
                      libFuzzer process counts from zero)
  state/<t>.stats     the last status of t (key=value lines) for the report

Numbers are written whole in one step (a temporary file renamed), so a
kill -9 at any moment leaves the old value or the new one. A file that
holds something else is an error naming it; an empty one (a kill of an
older version while it wrote) counts as 0, with a note.
"""
import os
import re
import sys

from .util import InputError, read_input, write_atomic

ENV_KEYS = ('DURATION', 'JOBS', 'ENGINE', 'TARGETS', 'STARTED', 'FZ_MUTANT')
_ENV_LINE = re.compile(r'^([A-Za-z_][A-Za-z0-9_]*)=(.*)$')


def _unquote(v):
    v = v.strip()
    if len(v) >= 2 and v[0] == v[-1] and v[0] in '"\'':
        return v[1:-1]
    return v


class Env(dict):
    """The KEY="VALUE" pairs of a file (campaign.env); .lines[KEY] is the
    line each came from, so a bad value can be pointed at."""

    def __init__(self, path):
        super().__init__()
        self.path, self.lines = path, {}

    def error(self, key, what):
        return InputError(self.path, self.lines.get(key, 0), what)


def parse_env(text, path):
    """The Env of a KEY="VALUE" file's text."""
    d = Env(path)
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith('#'):
            continue
        m = _ENV_LINE.match(s)
        if not m:
            raise InputError(path, n, "'%s' is not KEY=\"VALUE\"" % s)
        d[m.group(1)] = _unquote(m.group(2))
        d.lines[m.group(1)] = n
    return d


def format_env(d):
    return ''.join('%s="%s"\n' % (k, d.get(k, '')) for k in ENV_KEYS)


def read_env(path):
    text = read_input(path)
    return None if text is None else parse_env(text, path)


def parse_kv(text):
    """key=value lines (state/<t>.stats); anything else is skipped."""
    d = {}
    for line in text.splitlines():
        if '=' in line:
            k, v = line.split('=', 1)
            d[k.strip()] = _unquote(v)
    return d


def parse_duration(s):
    """Seconds of a DURATION: 8h, 30m, 90s, 120 (plain seconds), or a sum
    such as 1h30m. None when it is none of these."""
    s = str(s).strip()
    if re.fullmatch(r'[0-9]+', s):
        return int(s)
    m = re.fullmatch(r'(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?', s)
    if not s or not m:
        return None
    h, mi, se = (int(x) if x else 0 for x in m.groups())
    return h * 3600 + mi * 60 + se


class State:
    """The state/ folder of a campaign."""

    def __init__(self, campaign_dir):
        self.dir = os.path.join(campaign_dir, 'state')

    def path(self, name):
        return os.path.join(self.dir, name)

    def get_int(self, name, default=0):
        p = self.path(name)
        text = read_input(p)
        if text is None:
            return default
        s = text.strip()
        if s == '':
            print('campaign: %s is empty (killed while it was written?): counting %d' % (p, default), file=sys.stderr)
            return default
        if not re.fullmatch(r'-?[0-9]+', s):
            raise InputError(p, 1, 'want a whole number, found %r' % s[:40])
        return int(s)

    def has(self, name):
        return os.path.exists(self.path(name))

    def set_int(self, name, value):
        os.makedirs(self.dir, exist_ok=True)
        write_atomic(self.path(name), '%d\n' % value)

    def get_kv(self, name):
        try:
            with open(self.path(name)) as f:
                return parse_kv(f.read())
        except (OSError, UnicodeDecodeError):
            return {}

    def set_kv(self, name, d):
        os.makedirs(self.dir, exist_ok=True)
        write_atomic(self.path(name), ''.join('%s=%s\n' % (k, v) for k, v in d.items()))
