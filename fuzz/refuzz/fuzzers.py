"""refuzz.fuzzers — reading what AFL++ and libFuzzer write: AFL++'s
fuzzer_stats and plot_data, libFuzzer's status lines and final stats. The
fuzzers write these while they run, so a half-written row is skipped, never
an error.
"""
import re

# afl-fuzz without its screen, quiet, on a shared machine, going on over
# crashes and unstable inputs (make fuzz, the selftest, speed)
AFL_QUIET_ENV = {'AFL_NO_UI': '1', 'AFL_SKIP_CPUFREQ': '1', 'AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES': '1',
                 'AFL_NO_AFFINITY': '1', 'AFL_QUIET': '1', 'AFL_SKIP_CRASHES': '1', 'AFL_NO_WARN_INSTABILITY': '1'}


def to_int(s):
    try:
        return int(float(s))
    except (TypeError, ValueError):
        return None


def parse_fuzzer_stats(text):
    """AFL++'s fuzzer_stats ("key : value" lines) as a dict of strings."""
    d = {}
    for line in text.splitlines():
        if ':' in line:
            k, v = line.split(':', 1)
            d[k.strip()] = v.strip()
    return d


PLOT_COLUMNS = ('relative_time', 'cycles_done', 'cur_item', 'corpus_count', 'pending_total', 'pending_favs',
                'map_size', 'saved_crashes', 'saved_hangs', 'max_depth', 'execs_per_sec', 'total_execs',
                'edges_found')


def parse_plot_data(text):
    """The last complete row of AFL++'s plot_data as {column: value}, the
    columns named by its "# relative_time, ..." header (AFL++ 4's order
    without one); None when there is no row yet. A row being written (too
    few fields, not numbers) is skipped for the one before it."""
    cols = PLOT_COLUMNS
    rows = []
    for line in text.splitlines():
        s = line.replace(' ', '')
        if not s:
            continue
        if s.startswith('#'):
            names = s.lstrip('#').split(',')
            if 'relative_time' in names and 'total_execs' in names:
                cols = tuple(names)
            continue
        rows.append(s.split(','))
    for f in reversed(rows):
        if len(f) < len(cols):
            continue
        row = dict(zip(cols, f))
        if all(to_int(row.get(k)) is not None for k in ('relative_time', 'total_execs', 'edges_found', 'corpus_count')):
            return row
    return None


_LF_STATUS = re.compile(r'^#([0-9]+)')


def parse_lf_status(text):
    """The last libFuzzer status line ("#N: cov: C ft: F corp: K exec/s: E
    ..."): {'n', 'cov', 'ft', 'eps'}, zeros when there is none."""
    last = None
    for line in text.splitlines():
        if _LF_STATUS.match(line):
            last = line
    d = {'n': 0, 'cov': 0, 'ft': 0, 'eps': 0}
    if last:
        d['n'] = int(_LF_STATUS.match(last).group(1))
        for key, rx in (('cov', r' cov: ([0-9]+)'), ('ft', r' ft: ([0-9]+)'), ('eps', r' exec/s:? ([0-9]+)')):
            m = re.search(rx, last)
            if m:
                d[key] = int(m.group(1))
    return d


def lf_final_stats(log):
    """(execs, execs/s) from libFuzzer's -print_final_stats=1 lines."""
    execs = eps = None
    for line in log.splitlines():
        if line.startswith('stat::number_of_executed_units:'):
            execs = line.split(':', 3)[-1].strip()
        elif line.startswith('stat::average_exec_per_sec:'):
            eps = line.split(':', 3)[-1].strip()
    return execs, eps
