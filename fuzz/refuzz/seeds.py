"""refuzz.seeds — turn the hand-written text seeds into the seed corpora.

  fuzz/seeds.py [TOOL]        (TOOL: a refalloc binary; default build/release/refalloc)

fuzz/seeds/<target>/*.trace are the sources. For a binary target each is
encoded with the target's profile (`refalloc trace encode --profile=P`);
the target with the engine profile also takes every other binary target's
seeds (its profile expresses them all). A text target takes every seed as
it is, plus the regression corpus (syntax errors included) and the
examples. Each binary input is checked to replay cleanly the way the fuzz
target replays it (`refalloc replay --fuzz` on the decoded trace: exit 0,
or 3 for a modelled panic) and stored as corpus/<target>/<sha1 of its
bytes>. Existing corpus files (minimized ones from campaigns) are kept.

Exit: 0; 1 when a target's own seed does not encode or replay, or the tool
is not built.
"""
import glob
import os
import shutil
import sys
import tempfile

from . import targets as targets_mod
from .signature import run
from .util import UsageError, chdir_root, count_files, is_exe, sha1_file, to_root


def add(f, target, counter):
    """Copy f into corpus/<target>/<sha1> unless it is there already."""
    d = os.path.join('corpus', target)
    os.makedirs(d, exist_ok=True)
    dest = os.path.join(d, sha1_file(f))
    if not os.path.exists(dest):
        shutil.copyfile(f, dest)
        counter[0] += 1


def seed_files(t):
    return sorted(glob.glob(os.path.join('fuzz', 'seeds', t, '*.trace')))


def main(argv):
    if len(argv) > 1 or (argv and argv[0].startswith('-')):
        raise UsageError('usage: fuzz/seeds.py [TOOL]')
    tool = to_root(argv[0]) if argv else 'build/release/refalloc'
    chdir_root()
    if not is_exe(tool):
        print('seeds: %s not built (make -f mk/build.mk V=release lib tool)' % tool, file=sys.stderr)
        return 1
    tool = os.path.abspath(tool)
    tl = targets_mod.load()
    binary = [t for t in tl if not t.text]
    bad = 0
    tmp = tempfile.mkdtemp(prefix='seeds.')
    try:
        inb, dec = os.path.join(tmp, 'in.bin'), os.path.join(tmp, 'dec.trace')
        for t in binary:
            added, n = [0], 0
            srcs = seed_files(t.name)
            if t.profile == 'engine':
                for o in binary:
                    if o is not t:
                        srcs += seed_files(o.name)
            for src in srcs:
                rc, _, err = run([tool, 'trace', 'encode', '--profile=' + t.profile, src, inb], timeout=60)
                if rc != 0:
                    # another target's seed the engine profile cannot express is fine; an own seed is not
                    if os.path.basename(os.path.dirname(src)) == t.name:
                        print('seeds: %s: %s' % (t.name, err.strip()), file=sys.stderr)
                        bad = 1
                    continue
                run([tool, 'trace', 'decode', '--profile=' + t.profile, inb, dec], timeout=60)
                rc, _, _ = run([tool, 'replay', '--fuzz', '--quiet', dec], timeout=60)
                if rc not in (0, 3):
                    print('seeds: %s: %s: decoded trace fails replay --fuzz (exit %d)' % (t.name, src, rc),
                          file=sys.stderr)
                    bad = 1
                    continue
                add(inb, t.name, added)
                n += 1
            print('seeds: %s: %d seeds (%d new), corpus now %d files'
                  % (t.name, n, added[0], count_files(os.path.join('corpus', t.name))), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    texts = sorted(glob.glob('fuzz/seeds/*/*.trace')) + sorted(glob.glob('corpus/regression/*.trace')) + \
        sorted(glob.glob('corpus/examples/*.trace'))
    for t in tl:
        if not t.text:
            continue
        added = [0]
        for src in texts:
            add(src, t.name, added)
        print('seeds: %s: %d seeds (%d new), corpus now %d files'
              % (t.name, len(texts), added[0], count_files(os.path.join('corpus', t.name))))
    return bad

