#!/usr/bin/env python3
"""bench/report.py OUT_DIR — turn the results `refalloc bench run` wrote
(OUT_DIR/index.json, OUT_DIR/replay/*/, OUT_DIR/sweep/*/, and
OUT_DIR/hyperfine/*.json from `make bench-compare`) into OUT_DIR/report.md
with gnuplot pictures (SVG and PNG) under OUT_DIR/plots/.

Glue only: every number is measured and computed by the C code
(bench/*.c); this file arranges tables and draws.  Standard library only.
"""
import glob
import json
import math
import os
import subprocess
import sys

ORDER = ["engine", "refalloc", "glibc", "jemalloc", "mimalloc", "tcmalloc"]
COLOR = {"engine": "#7f7f7f", "refalloc": "#d62728", "glibc": "#1f77b4", "jemalloc": "#2ca02c",
         "mimalloc": "#9467bd", "tcmalloc": "#ff7f0e"}
LABEL = {"engine": "engine (simulated umalloc)", "refalloc": "refalloc (librefalloc_malloc.so)"}


def load(path):
    with open(path) as f:
        return json.load(f)


def fnum(v, digits=1):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "∞" if v is not None else "–"
    if isinstance(v, (int,)) or float(v).is_integer() and abs(v) >= 100:
        return f"{int(v):,}".replace(",", " ")
    return f"{v:.{digits}f}"


def mib(b):
    return "–" if b is None else f"{b / 1048576:.1f}"


def frag(v):
    if v is None:
        return "∞"
    return f"{100 * v:.0f}%" if abs(v) < 100 else f"{v:.0f}×"


def gnuplot(plotdir, name, body, width=900, height=480):
    """Render one picture as SVG and PNG; returns the PNG's path relative to the report."""
    gp = os.path.join(plotdir, name + ".gp")
    with open(gp, "w") as f:
        f.write(f"# made by bench/report.py; run: gnuplot {name}.gp\n")
        for term, ext in (("svg size %d,%d dynamic font 'Sans,11'" % (width, height), "svg"),
                          ("pngcairo size %d,%d font 'Sans,10'" % (width, height), "png")):
            f.write(f"set terminal {term}\nset termoption noenhanced\nset output '{name}.{ext}'\n{body}\nunset output\n")
    r = subprocess.run(["gnuplot", name + ".gp"], cwd=plotdir, capture_output=True, text=True)
    if r.returncode:
        sys.stderr.write(f"report: gnuplot {gp} failed:\n{r.stderr}\n")
    return f"plots/{name}.png", f"plots/{name}.svg"


def pic(md, alt, paths):
    png, svg = paths
    md.append(f"![{alt}]({png})  \n<sub>[SVG]({svg})</sub>\n")


def ok_mark(res):
    c = res.get("conform")
    return "✓" if c else ("✗" if c is False else "–")


def compared(res):
    return res.get("conform") is True


class Report:
    def __init__(self, out):
        self.out = out
        self.plotdir = os.path.join(out, "plots")
        os.makedirs(self.plotdir, exist_ok=True)
        self.md = []
        self.index = load(os.path.join(out, "index.json")) if os.path.exists(os.path.join(out, "index.json")) else {}
        self.replays = []
        for name in self.index.get("replays", []) or sorted(os.listdir(os.path.join(out, "replay"))):
            d = os.path.join(out, "replay", name)
            if not os.path.exists(os.path.join(d, "summary.json")):
                continue
            s = load(os.path.join(d, "summary.json"))
            s["dir"] = d
            s["res"] = {}
            for a in s["allocs"]:
                p = os.path.join(d, a + ".json")
                if os.path.exists(p):
                    s["res"][a] = load(p)
            self.replays.append(s)
        self.conform = self.index.get("conform") or (self.replays[0]["conform"] if self.replays else {})

    # --- pieces -------------------------------------------------------

    def header(self):
        h = self.index.get("host") or (self.replays[0]["host"] if self.replays else {})
        md = self.md
        md.append("# refalloc bench report\n")
        if not self.index:
            state = "results of `refalloc bench replay` (no suite index)"
        elif self.index.get("finished"):
            state = "suite complete"
        elif self.index.get("interrupted"):
            state = "suite **interrupted** — the results below are the steps that finished"
        else:
            state = "suite still running or stopped — the results below are the steps that finished"
        runs = self.index.get("runs") or (self.replays[0].get("runs") if self.replays else "?")
        md.append(f"Machine: {h.get('arch', '?')}, {h.get('cpu', '?')}, {h.get('nproc', '?')} cpus; run "
                  f"{h.get('date', '?')}; {runs} run(s) per measurement (the median by wall "
                  f"time is shown); {state}.\n")
        timer = None
        for s in self.replays:
            for a, r in s["res"].items():
                if a != "engine" and r.get("timer"):
                    timer = r
                    break
            if timer:
                break
        if timer:
            md.append(f"Per-call latency: `{timer['timer']}` around each call, overhead of an empty measurement "
                      f"({timer['timer_overhead_ns']:.0f} ns, the minimum of 4095) subtracted, clock resolution "
                      f"{timer.get('timer_resolution_ns', 0):.0f} ns on this machine — calls faster than that read "
                      f"as 0 or one step.  \"op ms\" is the sum of the calls' times (the allocator's own time); "
                      f"\"wall ms\" includes the driver's work between calls and the hand-offs between threads.\n")
        md.append("Allocator memory for the real allocators is the process RSS above the replay driver's own, sampled "
                  "from /proc/self/statm (about 2000 samples per trace, plus one at each 2% growth of live memory); "
                  "for the engine it is the simulated RSS of the task, exact at every operation. The driver and "
                  "the engine write one byte per page of every block, so RSS means memory a program uses. "
                  "Fragmentation is Johnstone & Wilson's: (allocator memory − live requested bytes) / live, "
                  "#1 averaged over time (operations), #2 at peak live, #3 at peak allocator memory, #4 peak vs "
                  "peak.\n")

    def conformance(self):
        md = self.md
        md.append("## Conformance\n")
        md.append("Before an allocator is timed it runs `bench/conform` through the same LD_PRELOAD (for the "
                  "engine: the same checks as a trace on simulated tasks, then `refalloc replay --check=op`). An "
                  "allocator that fails is marked ✗ in every table and its numbers are not compared (no ratios, "
                  "not in the charts).\n")
        md.append("| allocator | result | what failed | reproduce |\n|---|---|---|---|")
        for a in ORDER:
            c = self.conform.get(a)
            if not c:
                continue
            if not c.get("available"):
                md.append(f"| {a} | not available | `{c.get('lib') or ''}` not found | |")
                continue
            res = "✓ passed" if c.get("ok") else ("✗ **failed**" if c.get("ok") is False else "not run")
            md.append(f"| {a} | {res} | {c.get('msg') or ''} | {'`' + c['repro'] + '`' if c.get('ok') is False else ''} |")
        md.append("")

    def user_tables(self):
        md = self.md
        users = [s for s in self.replays if s["kind"] == "user"]
        if not users:
            return
        md.append("## User-side traces: time, memory, fragmentation\n")
        self.compare_charts(users)
        for s in users:
            md.append(f"### {s['name']}\n")
            src = "recorded real program" if s["trace"].startswith("corpus/") else "generated workload"
            md.append(f"`{s['trace']}` ({src}), {s['trace_ops']:,} trace operations.\n".replace(",", " "))
            if s.get("note"):
                md.append(f"> {s['note']}\n")
            md.append("| allocator | ok | wall ms | op ms | Mops/s | p50 ns | p90 | p99 | p99.9 | max | peak MiB | "
                      "end MiB | faults | frag #1 | #2 | #3 | #4 |")
            md.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
            for a in ORDER:
                r = s["res"].get(a)
                if not r:
                    continue
                if not r.get("ops"):
                    md.append(f"| {a} | ✗ | failed: {r.get('conform_msg', '')} |" + " |" * 14)
                    continue
                L = r["lat_ns"]
                jw = r["jw"]
                name = a if compared(r) else f"~~{a}~~"
                md.append(f"| {name} | {ok_mark(r)} | {fnum(r['wall_ms'])} | {fnum(r['op_time_ms'])} | "
                          f"{fnum(r['alloc_throughput_mops'], 2)} | {fnum(L['p50'], 0)} | {fnum(L['p90'], 0)} | "
                          f"{fnum(L['p99'], 0)} | {fnum(L['p99.9'], 0)} | {fnum(L['max'], 0)} | "
                          f"{mib(jw['peak_foot'])} | {mib(r['end_foot'])} | {fnum(r['minflt'], 0)} | "
                          f"{frag(jw['avg'])} | {frag(jw['at_peak_live'])} | {frag(jw['at_peak_foot'])} | "
                          f"{frag(jw['peak_vs_peak'])} |")
            bad = [a for a in ORDER if a in s["res"] and s["res"][a].get("conform") is False]
            for a in bad:
                r = s["res"][a]
                md.append(f"\n✗ {a}: {r.get('conform_msg', '')} — reproduce: `{r.get('note', '')}`")
            md.append("")
            self.lat_cdf(s)
            self.mem_plot(s)
            if "engine" in s["res"] and s["name"].startswith(("trim", "server", "python3")):
                self.buddy_heat(s, "engine")

    def compare_charts(self, users):
        """mimalloc-bench style: time and peak RSS relative to glibc, per trace."""
        md = self.md
        rows = []
        for s in users:
            g = s["res"].get("glibc")
            if not g or not g.get("ops") or not g.get("op_time_ms"):
                continue
            row = [s["name"]]
            for a in ORDER:
                r = s["res"].get(a)
                if r and r.get("ops") and compared(r) and g["jw"]["peak_foot"]:
                    row.append((r["op_time_ms"] / g["op_time_ms"], r["jw"]["peak_foot"] / g["jw"]["peak_foot"]))
                else:
                    row.append(None)
            rows.append(row)
        if not rows:
            return
        allocs = [a for i, a in enumerate(ORDER) if any(r[i + 1] for r in rows)]
        tallocs = [a for a in allocs if a != "engine"]     # the engine's time is a simulation's
        dat = os.path.join(self.plotdir, "compare.dat")
        with open(dat, "w") as f:
            f.write("# trace " + " ".join(f"{a}_time {a}_rss" for a in allocs) + "\n")
            for r in rows:
                vals = []
                for a in allocs:
                    v = r[ORDER.index(a) + 1]
                    vals += [f"{v[0]:.4f}" if v else "NaN", f"{v[1]:.4f}" if v else "NaN"]
                f.write(r[0] + " " + " ".join(vals) + "\n")
        for k, what in ((0, "time"), (1, "rss")):
            cols = ", ".join(
                f"'compare.dat' using {2 + 2 * i + k}:xtic(1) title '{a}' lc rgb '{COLOR[a]}'"
                for i, a in enumerate(allocs) if k == 1 or a != "engine")
            body = f"""set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top left horizontal
set grid ytics
set logscale y 2
set yrange [0.125:*]
set xtics rotate by -30
set ylabel '{'allocator time (sum of calls)' if k == 0 else 'peak allocator memory'} / glibc (log scale)'
set title '{'Time' if k == 0 else 'Peak memory'} relative to glibc (lower is better; non-conforming allocators left out{"; the engine is a simulation: not timed here" if k == 0 else ""})'
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb '#444444'
plot {cols}"""
            pic(md, f"{what} relative to glibc", gnuplot(self.plotdir, f"compare-{what}", body, 1000, 440))
        # geometric means
        md.append("| allocator | time vs glibc (geo. mean) | peak memory vs glibc (geo. mean) | traces |\n|---|--:|--:|--:|")
        for a in allocs:
            vs = [r[ORDER.index(a) + 1] for r in rows if r[ORDER.index(a) + 1]]
            if not vs:
                continue
            gt = math.exp(sum(math.log(max(v[0], 1e-9)) for v in vs) / len(vs))
            gm = math.exp(sum(math.log(max(v[1], 1e-9)) for v in vs) / len(vs))
            md.append(f"| {a} | {'(simulation)' if a == 'engine' else f'{gt:.2f}'} | {gm:.2f} | {len(vs)} |")
        md.append("")

    def lat_cdf(self, s):
        lines = []
        for a in ORDER:
            p = os.path.join(s["dir"], a + ".cdf.dat")
            r = s["res"].get(a)
            if not r or not os.path.exists(p) or not r.get("ops"):
                continue
            t = a + ("" if compared(r) else " (✗ not conforming)")
            lw = 1.5 + 0.6 * (len(ORDER) - ORDER.index(a))
            lines.append(f"'{os.path.relpath(p, self.plotdir)}' using 1:2 with steps lw {lw:.1f} lc rgb '{COLOR[a]}' title '{t}'")
        if not lines:
            return
        body = f"""set logscale x
set xlabel 'latency per call (ns, log scale; calls below the clock resolution drawn at 1 ns)'
set ylabel 'fraction of calls'
set yrange [0:1.01]
set grid
set key bottom right
set title 'Latency CDF per allocator: {s["name"]}'
plot {', '.join(lines)}"""
        pic(self.md, f"latency CDF {s['name']}", gnuplot(self.plotdir, f"cdf-{s['name']}", body))

    def mem_plot(self, s):
        lines = []
        live_done = False
        for a in ORDER:
            p = os.path.join(s["dir"], a + ".mem.dat")
            r = s["res"].get(a)
            if not r or not os.path.exists(p) or not r.get("ops"):
                continue
            rp = os.path.relpath(p, self.plotdir)
            if not live_done:
                lines.append(f"'{rp}' using 1:($2/1048576) with lines lw 3 lc rgb 'black' dt 2 title 'live (requested)'")
                live_done = True
            # wider lines first, so allocators that coincide stay visible as bands
            lw = 1.5 + 0.9 * (len(ORDER) - ORDER.index(a))
            lines.append(f"'{rp}' using 1:($3/1048576) with lines lw {lw:.1f} lc rgb '{COLOR[a]}' title '{a}'")
        if not lines:
            return
        body = f"""set xlabel 'operation'
set ylabel 'MiB'
set grid
set key top left
set title 'Allocator memory vs live memory over time: {s["name"]}'
plot {', '.join(lines)}"""
        pic(self.md, f"footprint {s['name']}", gnuplot(self.plotdir, f"mem-{s['name']}", body))

    def buddy_heat(self, s, a):
        p = os.path.join(s["dir"], a + ".buddy.dat")
        if not os.path.exists(p):
            return
        rp = os.path.relpath(p, self.plotdir)
        body = f"""set xlabel 'sample (time →)'
set ylabel 'order'
set ytics 1
set yrange [-0.5:10.5]
set cblabel 'free blocks (log10(1+n))'
set xrange [-0.5:*]
set autoscale xfixmax
set palette defined (0 '#ffffff', 1 '#fee391', 2 '#fe9929', 3 '#cc4c02', 4 '#662506')
set title 'buddyinfo over time (all zones): {s["name"]}'
plot '{rp}' using 1:3:(log10(1+$4)) with image notitle"""
        pic(self.md, f"buddyinfo {s['name']}", gnuplot(self.plotdir, f"buddy-{s['name']}", body, 900, 360))

    def kernel(self):
        ks = [s for s in self.replays if s["kind"] == "kernel"]
        if not ks:
            return
        md = self.md
        md.append("## Kernel-side workloads (the engine)\n")
        md.append("Computed from the engine's structures at about 2000 points of each workload's timeline. "
                  "High-order: allocations of order ≥ 4 (above PAGE_ALLOC_COSTLY_ORDER). Unusable index and "
                  "fragmentation index (the kernel's `unusable_index`/`extfrag_index`) of the largest zone at the "
                  "end, order 9. Slab internal fragmentation: (slot bytes − requested bytes) / requested, over the "
                  "objects the workload allocated. Watermark: allocation attempts that failed a zone watermark "
                  "check, kswapd wake-ups, samples with a zone below its low watermark.\n")
        md.append("| workload | ops | high-order ok | unusable₉ | frag idx₉ | slab int. frag | slab pages max | "
                  "partial slabs max | vmalloc areas max | wmark fails | kswapd | below low | OOM kills | alloc fails |")
        md.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        for s in ks:
            r = s["res"].get("engine")
            if not r or "kernel" not in r:
                continue
            k = r["kernel"]
            ho = "–" if k["high_order_success_rate"] is None else \
                f"{100 * k['high_order_success_rate']:.0f}% of {k['high_order_attempts']}"
            sif = "–" if k["slab_internal_frag"] is None else f"{100 * k['slab_internal_frag']:.1f}%"
            md.append(f"| {s['name']} | {r['ops']:,} | {ho} | {k['unusable_index_end'][9]:.3f} | "
                      f"{k['fragmentation_index_end'][9]:.3f} | {sif} | {k['slab_pages_max']} | "
                      f"{k['partial_slabs_max']} | {k['vmalloc_areas_max']} | {k['watermark_check_failures']} | "
                      f"{k['kswapd_wakeups']} | {k['samples_below_low']}/{k['samples']} | {k['oom_kills']} | "
                      f"{k['alloc_failures']} |".replace(",", " "))
        md.append("")
        for s in ks:
            md.append(f"### {s['name']}\n")
            r = s["res"].get("engine")
            if r and "kernel" in r:
                k = r["kernel"]
                md.append("| order | " + " | ".join(str(o) for o in range(11)) + " |\n|---|" + "--:|" * 11)
                md.append("| free blocks (end) | " + " | ".join(str(v) for v in k["nr_free_end"]) + " |")
                md.append("| unusable index | " + " | ".join(f"{v:.3f}" for v in k["unusable_index_end"]) + " |")
                md.append("| fragmentation index | " + " | ".join(f"{v:.3f}" for v in k["fragmentation_index_end"]) + " |")
                md.append("")
            self.buddy_heat(s, "engine")
            self.kernel_timeline(s)

    def kernel_timeline(self, s):
        p = os.path.join(s["dir"], "engine.kernel.dat")
        if not os.path.exists(p):
            return
        rp = os.path.relpath(p, self.plotdir)
        body = f"""set xlabel 'operation'
set ylabel 'pages'
set y2label 'unusable index, order 9'
set y2tics
set ytics nomirror
set grid
set key top left
set title 'Kernel timeline: {s["name"]}'
plot '{rp}' using 1:2 with lines lw 2 lc rgb '#1f77b4' title 'free pages', \\
     '' using 1:5 with lines lw 2 lc rgb '#2ca02c' title 'slab pages', \\
     '' using 1:4 with lines lw 2 lc rgb '#ff7f0e' title 'user pages', \\
     '' using 1:26 axes x1y2 with lines lw 2 lc rgb '#d62728' title 'unusable index order 9 (right)'"""
        pic(self.md, f"kernel timeline {s['name']}", gnuplot(self.plotdir, f"ktime-{s['name']}", body, 900, 380))

    def sweeps(self):
        dirs = self.index.get("sweeps") or [os.path.relpath(d, self.out) for d in sorted(glob.glob(os.path.join(self.out, "sweep", "*")))]
        if not dirs:
            return
        md = self.md
        md.append("## Knob sweeps (the engine)\n")
        md.append("Each point is the same seeded workload on a fresh machine with the knobs set (boot-time knobs "
                  "such as slub_max_order through the environment before boot, so the kmalloc caches see them). "
                  "CSV and JSON of every point sit next to the pictures' data.\n")
        pick = {"highalloc": ["highorder_success", "unusable9_end"], "server": ["peak_foot_mib", "end_foot_mib"],
                "slabchurn": ["slab_internal_frag", "slab_pages_max"], "kmalloc": ["pcp_pages_max", "partial_slabs_max"],
                "trim": ["end_foot_mib", "frag_avg"]}
        for d in dirs:
            p = os.path.join(self.out, d, "results.json")
            if not os.path.exists(p):
                continue
            j = load(p)
            knobs = j["knobs"]
            md.append(f"### {j['workload']}: " + " × ".join(k["name"] for k in knobs) +
                      ("" if j.get("complete") else f" (interrupted: {j['points_done']} of {j['points_planned']} points)") + "\n")
            md.append(f"`{d}/results.csv`, `{d}/results.json`; seed {j['seed']}, scale {j['scale']}, "
                      f"{j['trace_ops']:,} operations per point.\n".replace(",", " "))
            metrics = [m for m in pick.get(j["workload"], ["peak_foot_mib", "frag_avg"]) if m in j["metrics"]]
            if len(knobs) == 2:
                for m in metrics:
                    self.heat(j, d, m)
            # the table: first knob rows, second knob columns, for the first metric
            if len(knobs) == 2 and metrics:
                for m in metrics:
                    k1, k2 = knobs
                    grid = {(p["knobs"][k1["name"]], p["knobs"][k2["name"]]): p["metrics"].get(m) for p in j["points"]}
                    md.append(f"{m}:\n")
                    md.append(f"| {k1['name']} \\\\ {k2['name']} | " + " | ".join(k2["values"]) + " |")
                    md.append("|---|" + "--:|" * len(k2["values"]))
                    for v1 in k1["values"]:
                        md.append(f"| {v1} | " + " | ".join(fnum(grid.get((v1, v2)), 3) if grid.get((v1, v2)) is not None
                                                            else "–" for v2 in k2["values"]) + " |")
                    md.append("")

    def heat(self, j, d, metric):
        k1, k2 = j["knobs"]
        dat = os.path.join(self.plotdir, f"sweep-{j['workload']}-{metric}.dat")
        with open(dat, "w") as f:
            f.write(f"# x={k2['name']} index, y={k1['name']} index, {metric}\n")
            for p in j["points"]:
                x = k2["values"].index(p["knobs"][k2["name"]])
                y = k1["values"].index(p["knobs"][k1["name"]])
                v = p["metrics"].get(metric)
                f.write(f"{x} {y} {'NaN' if v is None else v}\n")
        xt = ", ".join(f"'{v}' {i}" for i, v in enumerate(k2["values"]))
        yt = ", ".join(f"'{v}' {i}" for i, v in enumerate(k1["values"]))
        body = f"""set xtics ({xt})
set ytics ({yt})
set xlabel '{k2["name"]}'
set ylabel '{k1["name"]}'
set xrange [-0.5:{len(k2["values"]) - 0.5}]
set yrange [-0.5:{len(k1["values"]) - 0.5}]
set palette defined (0 '#313695', 1 '#74add1', 2 '#ffffbf', 3 '#f46d43', 4 '#a50026')
set cblabel '{metric}'
set title '{j["workload"]}: {metric}'
plot '{os.path.basename(dat)}' using 1:2:3 with image notitle, \\
     '' using 1:2:(sprintf('%.3g', $3)) with labels font ',10' notitle"""
        pic(self.md, f"sweep {j['workload']} {metric}",
            gnuplot(self.plotdir, f"sweep-{j['workload']}-{metric}", body, 640, 480))

    def hyperfine(self):
        files = sorted(glob.glob(os.path.join(self.out, "hyperfine", "*.json")))
        if not files:
            return
        md = self.md
        md.append("## Whole-process time (hyperfine, `make bench-compare`)\n")
        md.append("hyperfine times the replay driver process per allocator (start-up, replay, exit), like "
                  "mimalloc-bench's table; peak RSS is the driver's maxrss from the replay runs above. Relative "
                  "to glibc; ✗ marks an allocator that failed conformance (its ratio is not given).\n")
        md.append("| trace | allocator | mean ms | ± σ | time vs glibc | peak RSS MiB | RSS vs glibc |\n|---|---|--:|--:|--:|--:|--:|")
        rows = []
        for p in files:
            j = load(p)
            trace = os.path.basename(p)[:-5]
            s = next((x for x in self.replays if x["name"] == trace), None)
            res = {r["command"]: r for r in j["results"]}
            g = res.get("glibc")
            for a in ORDER:
                r = res.get(a)
                if not r:
                    continue
                rr = s["res"].get(a) if s else None
                ok = rr is None or compared(rr)
                rss = rr["peak_rss"] if rr and rr.get("peak_rss") else None
                grss = s["res"]["glibc"]["peak_rss"] if s and "glibc" in s["res"] else None
                tr = f"{r['mean'] / g['mean']:.2f}" if g and ok else ("✗" if not ok else "–")
                rr_ = f"{rss / grss:.2f}" if rss and grss and ok else ("✗" if not ok else "–")
                md.append(f"| {trace} | {a} | {1000 * r['mean']:.1f} | {1000 * r['stddev']:.1f} | {tr} | "
                          f"{mib(rss)} | {rr_} |")
                rows.append((trace, a, r["mean"]))
        md.append("")

    def footer(self):
        self.md.append("## Reproduce\n")
        self.md.append("```\nmake bench            # this report (refalloc bench run, then bench/report.py)\n"
                       "make bench-compare    # hyperfine per allocator, folded in here\n"
                       "make bench-check      # the regression gate against bench/baseline.json\n"
                       "build/release/refalloc bench replay corpus/real/python3.trace --alloc=glibc,jemalloc\n"
                       "build/release/refalloc bench sweep --workload highalloc --knob vm.min_free_kbytes=1024,16384 "
                       "--knob vm.watermark_scale_factor=10,500\n```\n")

    def write(self):
        self.header()
        self.conformance()
        self.user_tables()
        self.kernel()
        self.sweeps()
        self.hyperfine()
        self.footer()
        p = os.path.join(self.out, "report.md")
        with open(p + ".tmp", "w") as f:
            f.write("\n".join(self.md) + "\n")
        os.replace(p + ".tmp", p)
        return p


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "out/bench"
    if not os.path.isdir(out):
        sys.stderr.write(f"report: {out} does not exist (run refalloc bench run first)\n")
        return 1
    p = Report(out).write()
    print(f"report: {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
