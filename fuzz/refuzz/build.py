"""refuzz.build — the build folders a fuzzing job uses, and quiet builds.

A planted mutant (FZ_MUTANT=n, or a campaign that was started with one)
gets its own folders for every variant (build/afl-mutant-n, ...) built with
-DRA_MUTANT=n, so that a planted bug can be watched coming back as a
reproducer without touching the normal builds.

Builds go through mk/build.mk with FUZZ_JOBS parallel jobs (default: the
number of cores); their output is kept out of sight unless they fail, when
the command and the last 20 lines are shown.
"""
import os
import subprocess
import sys
import tempfile

from .util import UsageError, env_int, nproc


class BuildError(Exception):
    """A build failed (its output has been shown)."""


def make(args, jobs=None, quiet_fail=False):
    """make -f mk/build.mk ARGS...; True when it succeeds."""
    jobs = jobs or env_int('FUZZ_JOBS', nproc(), 1)
    cmd = ['make', '--no-print-directory', '-f', 'mk/build.mk', '-j%d' % jobs] + list(args)
    with tempfile.TemporaryFile() as log:
        rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if rc == 0:
            return True
        if not quiet_fail:
            log.seek(0)
            tail = log.read().decode(errors='replace').splitlines()[-20:]
            print('fuzz: build failed: make -f mk/build.mk %s' % ' '.join(args), file=sys.stderr)
            for line in tail:
                print(line, file=sys.stderr)
    return False


def make_or_fail(args, jobs=None):
    if not make(args, jobs):
        raise BuildError('make -f mk/build.mk %s' % ' '.join(args))


class Builds:
    """The folders of each variant, with a planted mutant's suffix."""

    def __init__(self, mutant=None):
        self.mutant = str(mutant) if mutant not in (None, '') else None
        if self.mutant is not None and not self.mutant.isdigit():
            raise UsageError('FZ_MUTANT=%r: want the number of a planted mutant (fuzz/selftest.py lists them)'
                             % self.mutant)
        sfx = '-mutant-%s' % self.mutant if self.mutant else ''
        self.xcflags = '-DRA_MUTANT=%s' % self.mutant if self.mutant else ''
        self.afl = 'build/afl' + sfx
        self.cmplog = 'build/cmplog' + sfx
        self.aflasan = 'build/aflasan' + sfx
        self.lf = 'build/libfuzzer' + sfx
        self.asan = 'build/asan' + sfx
        self.sfx = sfx

    @classmethod
    def from_env(cls):
        return cls(os.environ.get('FZ_MUTANT') or None)

    def folder(self, variant):
        return {'afl': self.afl, 'cmplog': self.cmplog, 'aflasan': self.aflasan,
                'libfuzzer': self.lf, 'asan': self.asan}[variant]

    def args(self, variant, *goals):
        """mk/build.mk's arguments to build goals of a variant into its folder."""
        x = 'EXTRA_CFLAGS=%s' % self.xcflags
        if variant == 'aflasan':
            return ['fuzz-aflasan', 'AFLASAN_B=%s' % self.aflasan, x]
        return ['V=%s' % variant, 'B=%s' % self.folder(variant), x] + list(goals)

    def build(self, variant, *goals, quiet_fail=False):
        return make(self.args(variant, *goals), quiet_fail=quiet_fail)

    def build_or_fail(self, variant, *goals):
        if not self.build(variant, *goals):
            raise BuildError('%s build (%s)' % (variant, ' '.join(goals) or 'fuzz-aflasan'))

    def fuzzer(self, variant, target):
        return os.path.join(self.folder(variant), 'fuzz', target)

    def test_driver(self, target, variant='asan'):
        return os.path.join(self.folder(variant), 'fuzz', target + '-test')

    @property
    def asan_tool(self):
        return os.path.join(self.asan, 'refalloc')
