"""refuzz.report — the morning report of a campaign.

    fuzz/report.py out/fuzz/<campaign>

Reads campaign.env, state/<target>.stats and .seeds, cov.tsv and
findings/index.tsv; writes report.md, report.json and cov.png (coverage over
time, one line per target, rendered by gnuplot). The campaign calls it at
its end; fuzz/report.py runs it alone.
"""
import json
import os
import subprocess

from . import targets as targets_mod
from .signature import parse_signature_file
from .state import State, read_env
from .triage import Index
from .util import InputError, UsageError, chdir_root, read_text, to_root


def num(s, default=0):
    try:
        return float(s) if '.' in str(s) else int(s)
    except (TypeError, ValueError):
        return default


def _text_targets():
    try:
        return {t.name for t in targets_mod.load() if t.text}
    except InputError:
        return set()


def write_report(c, say=print):
    """Write c/report.md, report.json (and cov.png) and print the summary."""
    env = read_env(os.path.join(c, 'campaign.env'))
    if env is None:
        raise UsageError('%s is no campaign (no campaign.env)' % c)
    targets = env.get('TARGETS', '').split()
    state = State(c)
    rows = []
    for t in targets:
        st = state.get_kv(t + '.stats')
        seeds = state.get_int(t + '.seeds')
        secs = num(st.get('seconds', 0))
        execs = num(st.get('execs', 0))
        rows.append({
            'target': t, 'engine': st.get('engine', env.get('ENGINE', '')), 'seconds': secs, 'execs': execs,
            'execs_per_sec': round(execs / secs) if secs else 0,
            'execs_per_sec_last': num(st.get('execs_per_sec', 0)),
            'edges': num(st.get('edges', 0)), 'total_edges': num(st.get('total_edges', 0)),
            'libfuzzer_cov': num(st.get('lf_cov', 0)), 'libfuzzer_ft': num(st.get('lf_ft', 0)),
            'corpus_start': seeds, 'corpus_end': num(st.get('corpus', 0)),
            'crash_inputs': num(st.get('crashes', 0)),
        })
    sfx = ('-mutant-' + env['FZ_MUTANT']) if env.get('FZ_MUTANT') else ''
    text_targets = _text_targets()
    findings = []
    for fid, tgt, cls, sig, count, first_seen in Index(os.path.join(c, 'findings', 'index.tsv')).rows:
        d = os.path.join(c, 'findings', fid)
        raw = parse_signature_file(read_text(os.path.join(d, 'signature.txt')))[2]
        repro = os.path.join(d, 'repro.trace')
        nlines = sum(1 for ln in read_text(repro).splitlines() if ln.strip())
        findings.append({'id': fid, 'target': tgt, 'class': cls, 'signature': sig, 'inputs': count,
                         'first_seen': first_seen, 'first_line': raw, 'reproducer': repro,
                         'reproducer_lines': nlines, 'readme': os.path.join(d, 'README'),
                         'replay': ('build/asan%s/fuzz/%s-test %s' % (sfx, tgt, repro)) if tgt in text_targets
                         else ('build/asan%s/refalloc replay --fuzz %s' % (sfx, repro)),
                         'harness_replay': 'build/asan%s/fuzz/%s-test %s' % (sfx, tgt, repro)})
    # coverage over time
    cov = {}
    covf = os.path.join(c, 'cov.tsv')
    if os.path.exists(covf):
        with open(covf) as f:
            next(f, None)
            for line in f:
                p = line.rstrip('\n').split('\t')
                if len(p) >= 6:
                    if num(p[3]):
                        cov.setdefault(p[1] + ' AFL++ edges', []).append((num(p[0]), num(p[3])))
                    if num(p[4]):
                        cov.setdefault(p[1] + ' libFuzzer cov', []).append((num(p[0]), num(p[4])))
    png = os.path.join(c, 'cov.png')
    plotted = False
    if cov:
        datf = os.path.join(c, 'cov.dat')
        with open(datf, 'w') as f:
            for t, pts in cov.items():
                f.write('# %s\n' % t)
                for x, y in pts:
                    f.write('%s %s\n' % (x / 60.0, y))
                f.write('\n\n')
        plots = ', '.join("'%s' index %d using 1:2 with linespoints lw 2 pt 7 ps 0.4 title '%s'" % (datf, i, t)
                          for i, t in enumerate(cov))
        script = ("set terminal png size 900,500 noenhanced\nset output '%s'\nset title 'refalloc campaign %s: coverage over time'\n"
                  "set xlabel 'campaign minutes'\nset ylabel 'edges (AFL++) / cov (libFuzzer)'\nset key outside right top\n"
                  "set grid\nplot %s\n" % (png, os.path.basename(c.rstrip('/')), plots))
        try:
            subprocess.run(['gnuplot'], input=script.encode(), check=True, timeout=60,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            plotted = True
        except (OSError, subprocess.SubprocessError):
            plotted = False
    rep = {'campaign': os.path.basename(c.rstrip('/')), 'dir': c, 'duration': env.get('DURATION'),
           'jobs': num(env.get('JOBS')), 'engine': env.get('ENGINE'), 'started': env.get('STARTED'),
           'planted_mutant': env.get('FZ_MUTANT') or None,
           'targets': rows, 'findings': findings, 'coverage_plot': png if plotted else None}
    with open(os.path.join(c, 'report.json'), 'w') as f:
        json.dump(rep, f, indent=2)
    md = ['# Fuzz campaign `%s`' % rep['campaign'], '',
          'Started %s; DURATION=%s, JOBS=%s, ENGINE=%s%s. Resume or extend with the same command and '
          '`CAMPAIGN=%s`.' % (rep['started'], rep['duration'], rep['jobs'], rep['engine'],
                              (', planted mutant %s (-DRA_MUTANT=%s)' % (env['FZ_MUTANT'], env['FZ_MUTANT']))
                              if env.get('FZ_MUTANT') else '', rep['campaign']), '',
          '## Targets', '',
          '| target | engine | seconds | execs | execs/s | edges (AFL++) | cov/ft (libFuzzer) | corpus seeds → end | crash inputs |',
          '|---|---|---|---|---|---|---|---|---|']
    for r in rows:
        md.append('| %s | %s | %s | %s | %s | %s | %s | %s → %s | %s |' % (
            r['target'], r['engine'], r['seconds'], r['execs'], r['execs_per_sec'],
            ('%s/%s' % (r['edges'], r['total_edges'])) if r['total_edges'] else '-',
            ('%s/%s' % (r['libfuzzer_cov'], r['libfuzzer_ft'])) if r['libfuzzer_cov'] else '-',
            r['corpus_start'], r['corpus_end'], r['crash_inputs']))
    md += ['', '## Unique findings (%d)' % len(findings), '']
    if not findings:
        md.append('None.')
    for fd in findings:
        md += ['### %s — %s, %s (%d input%s)' % (fd['id'], fd['target'], fd['class'], fd['inputs'],
                                                  '' if fd['inputs'] == 1 else 's'), '',
               '```', fd['first_line'], '```', '',
               'Reproducer: `%s` (%d lines). Replay:' % (fd['reproducer'], fd['reproducer_lines']), '',
               '```', fd['replay'], fd['harness_replay'], '```', '']
    if plotted:
        md += ['## Coverage over time', '', '![coverage](cov.png)', '']
    with open(os.path.join(c, 'report.md'), 'w') as f:
        f.write('\n'.join(md) + '\n')
    say('==> report: %s/report.md, report.json%s' % (c, ', cov.png' if plotted else ''))
    for r in rows:
        say('    %-16s %6ss %10s execs %7s execs/s  edges %s  corpus %s -> %s  crash inputs %s' % (
            r['target'], r['seconds'], r['execs'], r['execs_per_sec'], r['edges'] or r['libfuzzer_cov'],
            r['corpus_start'], r['corpus_end'], r['crash_inputs']))
    say('    %d unique finding(s)' % len(findings))
    for fd in findings:
        say('      %s %-16s %-22s %s' % (fd['id'], fd['target'], fd['class'], fd['first_line'][:90]))
        say('        %s' % fd['replay'])


def main(argv):
    if len(argv) != 1 or argv[0].startswith('-'):
        raise UsageError('usage: fuzz/report.py out/fuzz/<campaign>')
    c = to_root(argv[0]).rstrip('/') or '/'
    chdir_root()
    write_report(c)
    return 0

