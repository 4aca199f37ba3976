#!/usr/bin/env python3
"""fuzz/report.py — the morning report of a campaign.

    fuzz/report.py out/fuzz/<campaign>

Reads campaign.env, state/<target>.stats and .seeds, cov.tsv and
findings/index.tsv; writes report.md, report.json and cov.png (coverage over
time, one line per target, rendered by gnuplot). Standard library only.
"""
import json
import os
import subprocess
import sys


def read_kv(path):
    d = {}
    try:
        with open(path) as f:
            for line in f:
                if '=' in line:
                    k, v = line.rstrip('\n').split('=', 1)
                    d[k] = v.strip("'\"")
    except OSError:
        pass
    return d


def num(s, default=0):
    try:
        return float(s) if '.' in str(s) else int(s)
    except (TypeError, ValueError):
        return default


def main():
    c = sys.argv[1]
    env = read_kv(os.path.join(c, 'campaign.env'))
    targets = env.get('TARGETS', '').split()
    rows = []
    for t in targets:
        st = read_kv(os.path.join(c, 'state', t + '.stats'))
        try:
            seeds = int(open(os.path.join(c, 'state', t + '.seeds')).read().strip())
        except (OSError, ValueError):
            seeds = 0
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
    findings = []
    idx = os.path.join(c, 'findings', 'index.tsv')
    if os.path.exists(idx):
        with open(idx) as f:
            next(f, None)
            for line in f:
                p = line.rstrip('\n').split('\t')
                if len(p) < 6:
                    continue
                d = os.path.join(c, 'findings', p[0])
                raw = ''
                try:
                    raw = open(os.path.join(d, 'signature.txt')).read().split('\n')[1]
                except (OSError, IndexError):
                    pass
                repro = os.path.join(d, 'repro.trace')
                nlines = 0
                try:
                    nlines = sum(1 for ln in open(repro) if ln.strip())
                except OSError:
                    pass
                findings.append({'id': p[0], 'target': p[1], 'class': p[2], 'signature': p[3], 'inputs': num(p[4]),
                                 'first_seen': p[5], 'first_line': raw, 'reproducer': repro,
                                 'reproducer_lines': nlines, 'readme': os.path.join(d, 'README'),
                                 'replay': ('build/asan%s/refalloc replay --fuzz %s' % (sfx, repro))
                                 if p[1] != 'fuzz_trace_text' else ('build/asan%s/fuzz/fuzz_trace_text-test %s' % (sfx, repro)),
                                 'harness_replay': 'build/asan%s/fuzz/%s-test %s' % (sfx, p[1], repro)})
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
    print('==> report: %s/report.md, report.json%s' % (c, ', cov.png' if plotted else ''))
    for r in rows:
        print('    %-16s %6ss %10s execs %7s execs/s  edges %s  corpus %s -> %s  crash inputs %s' % (
            r['target'], r['seconds'], r['execs'], r['execs_per_sec'], r['edges'] or r['libfuzzer_cov'],
            r['corpus_start'], r['corpus_end'], r['crash_inputs']))
    print('    %d unique finding(s)' % len(findings))
    for fd in findings:
        print('      %s %-16s %-22s %s' % (fd['id'], fd['target'], fd['class'], fd['first_line'][:90]))
        print('        %s' % fd['replay'])


if __name__ == '__main__':
    main()
