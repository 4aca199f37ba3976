"""refuzz.quick — `make fuzz`: a short run of every target, one after another.

  fuzz/run.py [TARGET...]     env: FUZZ_TIME=60 (seconds per target), FUZZ_ENGINE=libfuzzer|afl,
                                   FUZZ_OUT=out/fuzz/quick

Each target fuzzes a working copy of its seed corpus (corpus/<target> is
left alone: `make corpus-merge FROM=out/fuzz/quick` folds new inputs in)
on one core: libFuzzer (ASan+UBSan, every check on) or AFL++ (persistent
mode). Prints per target execs/s, coverage (libFuzzer cov/ft, AFL++
edges), corpus size and findings; crashes are triaged into text
reproducers under FUZZ_OUT/findings. Findings of earlier runs stay there
and are counted, not listed again.

Exit: 0 when no target hit a crash, 1 when one did (or a build failed), 64
for a bad FUZZ_TIME, FUZZ_ENGINE or target name.
"""
import os
import shutil

from . import targets as targets_mod
from .build import BuildError, Builds, make_or_fail
from .fuzzers import AFL_QUIET_ENV, lf_final_stats, parse_fuzzer_stats, parse_lf_status
from .signature import run
from .triage import Index, ensure_asan, triage
from .util import UsageError, chdir_root, count_files, env_int, files_in, read_text, to_root

SUMMARY_HEADER = ['target', 'engine', 'seconds', 'execs', 'execs_per_s', 'coverage', 'corpus_start', 'corpus_end',
                  'crashes', 'findings']


def column_t(rows, indent='    '):
    """Rows of cells as `column -t` aligns them: each column as wide as its
    widest cell, two blanks between columns."""
    widths = [max(len(r[i]) if i < len(r) else 0 for r in rows) for i in range(max(len(r) for r in rows))]
    return [(indent + '  '.join(c.ljust(widths[i]) for i, c in enumerate(r))).rstrip() for r in rows]


def copy_new(src_files, dest):
    """cp -n: copy files that dest does not hold yet."""
    os.makedirs(dest, exist_ok=True)
    for f in src_files:
        d = os.path.join(dest, os.path.basename(f))
        if not os.path.exists(d):
            shutil.copyfile(f, d)


def fuzz_one(t, engine, secs, out, builds):
    """Fuzz one Target; (execs, eps, coverage, corpus before, after, crash inputs)."""
    w = os.path.join(out, t.name)
    corpus = os.path.join(w, 'corpus')
    shutil.rmtree(os.path.join(w, 'crashes'), ignore_errors=True)   # an earlier run's were triaged into findings/
    os.makedirs(os.path.join(w, 'crashes'))
    copy_new(files_in(os.path.join('corpus', t.name)), corpus)
    n0 = count_files(corpus)
    log = os.path.join(w, 'log')
    if engine == 'afl':
        shutil.rmtree(os.path.join(w, 'afl'), ignore_errors=True)
        cmd = ['afl-fuzz', '-i', corpus, '-o', os.path.join(w, 'afl'), '-V', str(secs)]
        if os.path.exists(os.path.join('fuzz', t.name + '.dict')):
            cmd += ['-x', os.path.join('fuzz', t.name + '.dict')]
        _, so, se = run(cmd + ['--', builds.fuzzer('afl', t.name)], timeout=secs + 60, env=AFL_QUIET_ENV)
        with open(log, 'w') as f:
            f.write(so + se)
        st = parse_fuzzer_stats(read_text(os.path.join(w, 'afl', 'default', 'fuzzer_stats')))
        execs, eps = st.get('execs_done', '0'), st.get('execs_per_sec', '0')
        cov = 'edges %s/%s' % (st.get('edges_found', ''), st.get('total_edges', ''))
        queue = [f for f in files_in(os.path.join(w, 'afl', 'default', 'queue')) if os.path.basename(f).startswith('id:')]
        copy_new(queue, corpus)
        crashes = [f for f in files_in(os.path.join(w, 'afl', 'default', 'crashes'))
                   if os.path.basename(f).startswith('id:')]
    else:
        cmd = ([builds.fuzzer('libfuzzer', t.name)] + targets_mod.libfuzzer_flags(t.name) +
               ['-max_total_time=%d' % secs, '-print_final_stats=1',
                '-artifact_prefix=%s/' % os.path.join(w, 'crashes'), corpus])
        _, so, se = run(cmd, timeout=secs + 60, env={'ASAN_OPTIONS': 'detect_leaks=0:abort_on_error=0'})
        text = so + se
        with open(log, 'w') as f:
            f.write(text)
        execs, eps = lf_final_stats(text)
        last = parse_lf_status(text)
        cov = 'cov %s ft %s' % (last['cov'] or '', last['ft'] or '')
        crashes = [f for f in files_in(os.path.join(w, 'crashes'))
                   if os.path.basename(f).split('-')[0] in ('crash', 'leak', 'timeout', 'oom')]
    return execs or '0', eps or '0', cov, n0, count_files(corpus), crashes


def main(argv):
    for a in argv:
        if a.startswith('-'):
            raise UsageError('usage: fuzz/run.py [TARGET...]   (env FUZZ_TIME, FUZZ_ENGINE, FUZZ_OUT)')
    secs = env_int('FUZZ_TIME', 60, 1)
    engine = os.environ.get('FUZZ_ENGINE') or 'libfuzzer'
    if engine not in ('libfuzzer', 'afl'):
        raise UsageError('FUZZ_ENGINE must be libfuzzer or afl (not %r)' % engine)
    out = to_root(os.environ.get('FUZZ_OUT') or 'out/fuzz/quick')
    chdir_root()
    tlist = targets_mod.select(argv)
    builds = Builds.from_env()
    os.makedirs(os.path.join(out, 'findings'), exist_ok=True)
    if engine == 'libfuzzer':     # a bad options file stops the run before anything starts
        for t in tlist:
            targets_mod.libfuzzer_flags(t.name)
    print('==> make fuzz: %s, %ds per target: %s' % (engine, secs, ' '.join(t.name for t in tlist)), flush=True)
    try:
        builds.build_or_fail(engine, 'lib', 'fuzz-bins')
        make_or_fail(['V=release', 'lib', 'tool'])
        builds.build_or_fail('asan', 'fuzz-tests')
    except BuildError:
        return 1
    builds.build('asan', 'tool', quiet_fail=True)

    # findings of earlier runs stay in findings/; this run's are listed and
    # decide the exit status
    idx_path = os.path.join(out, 'findings', 'index.tsv')
    known = set(Index(idx_path).ids())
    summary = os.path.join(out, 'summary.tsv')
    rows = [SUMMARY_HEADER]
    rc = 0
    for t in tlist:
        print('--> %s' % t.name, flush=True)
        execs, eps, cov, n0, n1, crashes = fuzz_one(t, engine, secs, out, builds)
        nf = 0
        if crashes:
            ensure_asan(t, builds)
            nf = len(triage(t, os.path.join(out, 'findings'), crashes, builds))
            rc = 1
        rows.append([t.name, engine, str(secs), execs, eps, cov, str(n0), str(n1), str(len(crashes)), str(nf)])
        with open(summary, 'w') as f:
            f.write(''.join('\t'.join(r) + '\n' for r in rows))
        print('    %s execs, %s execs/s, %s, corpus %d -> %d, %d crash input(s), %d new finding(s)'
              % (execs, eps, cov, n0, n1, len(crashes), nf), flush=True)
    print()
    print('==> make fuzz summary (%s)' % summary)
    for line in column_t(rows):
        print(line)
    rows_idx = Index(idx_path).rows
    new = [r for r in rows_idx if r[0] not in known]
    if new:
        print('    findings of this run (%s/findings/<id>/README tells how to reproduce each):' % out)
        for fid, tgt, cls, sig, count, _ in new:
            print('      %s %-16s %-9s x%-3s %s' % (fid, tgt, cls, count, sig[:100]))
    if known:
        print('    (%d finding(s) of earlier runs in %s)' % (len(known), idx_path))
    return rc

