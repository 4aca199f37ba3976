"""refuzz.merge — `make corpus-merge`: fold a campaign's inputs back into
the seed corpora.

  fuzz/corpus-merge.py [FROM]     FROM: out/fuzz/<campaign> or out/fuzz/quick
                                  (default: the newest folder under out/fuzz)

For each target with new inputs (AFL++ queues of every instance,
libFuzzer's corpus, make fuzz's working corpus), libFuzzer -merge=1 keeps
only the inputs that add coverage over corpus/<target>/ (afl-cmin when the
libFuzzer build is missing). Kept inputs are renamed to the sha1 of their
bytes, so merging twice adds nothing. Crash inputs are never merged: they
live in the campaign's findings/ (and, fixed, in corpus/regression).

Exit: 0 (a target whose merge fails is reported and skipped), 64 when
there is no such folder.
"""
import glob
import os
import shutil
import tempfile

from . import targets as targets_mod
from .build import make
from .signature import run
from .util import UsageError, chdir_root, count_files, files_in, is_exe, sha1_file, to_root


def newest_run():
    """The most recently changed folder under out/fuzz, the selftest's aside."""
    dirs = [d for d in glob.glob('out/fuzz/*/') if 'selftest' not in d]
    return max(dirs, key=os.path.getmtime).rstrip('/') if dirs else None


def sources(frm, t):
    """The folders of a run that hold inputs of target t."""
    cands = sorted(glob.glob(os.path.join(frm, 'afl', t, '*', 'queue'))) + [
        os.path.join(frm, 'lf', t, 'corpus'), os.path.join(frm, t, 'corpus'),
        os.path.join(frm, t, 'afl', 'default', 'queue')]
    return [d for d in cands if os.path.isdir(d)]


def _copy_all(folders, dest):
    os.makedirs(dest, exist_ok=True)
    for d in folders:
        for f in files_in(d):
            if not os.path.basename(f).startswith('.'):
                shutil.copyfile(f, os.path.join(dest, os.path.basename(f)))


def main(argv):
    if len(argv) > 1 or (argv and argv[0].startswith('-')):
        raise UsageError('usage: fuzz/corpus-merge.py [FROM]')
    frm = to_root(argv[0]).rstrip('/') if argv and argv[0] else None
    chdir_root()
    frm = frm or newest_run()
    if not frm or not os.path.isdir(frm):
        raise UsageError('no campaign folder (give FROM=out/fuzz/<campaign>)')
    print('==> corpus-merge from %s' % frm, flush=True)
    make(['V=libfuzzer', 'lib', 'fuzz-bins'])
    total = 0
    tmp = tempfile.mkdtemp(prefix='corpus-merge.')
    try:
        for t in targets_mod.load():
            srcs = sources(frm, t.name)
            if not srcs:
                continue
            corpus = os.path.join('corpus', t.name)
            os.makedirs(corpus, exist_ok=True)
            before = count_files(corpus)
            kept = os.path.join(tmp, t.name)
            lf = 'build/libfuzzer/fuzz/' + t.name
            if is_exe(lf):
                # merge into a scratch copy of the corpus: libFuzzer adds to the first dir
                _copy_all([corpus], kept)
                maxlen = targets_mod.libfuzzer_opt(t.name, 'max_len')
                cmd = [lf, '-merge=1'] + (['-max_len=' + maxlen] if maxlen else []) + ['-timeout=10', kept] + srcs
                rc, so, se = run(cmd, timeout=1800, env={'ASAN_OPTIONS': 'detect_leaks=0'})
                what = 'libFuzzer -merge failed (see below)'
            else:
                _copy_all(srcs + [corpus], kept + '.in')
                rc, so, se = run(['afl-cmin', '-i', kept + '.in', '-o', kept, '--', 'build/afl/fuzz/' + t.name],
                                 timeout=1800, env={'AFL_SKIP_BIN_CHECK': '1'})
                what = 'afl-cmin failed'
            if rc != 0:
                print('corpus-merge: %s: %s' % (t.name, what))
                for line in (so + se).splitlines()[-5:]:
                    print(line)
                continue
            added = 0
            for f in files_in(kept):
                h = os.path.join(corpus, sha1_file(f))
                if not os.path.exists(h):
                    shutil.copyfile(f, h)
                    added += 1
            total += added
            print('    %s: corpus %d -> %d files (+%d from %d folder(s))'
                  % (t.name, before, count_files(corpus), added, len(srcs)), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print('corpus-merge: %d input(s) added; check them in with the corpus (they replay in make test)' % total)
    return 0

