#!/usr/bin/env python3
"""bench/gate.py — the comparison half of bench/gate.sh: current figures vs
bench/baseline.json, one line per figure, exit 1 on a regression beyond the
tolerance the baseline states.  --update writes the current figures in.
Standard library only."""
import argparse
import datetime
import json
import os
import platform
import sys

# direction of each deterministic figure: -1 lower is better, +1 higher is
# better, 0 reported but never fails (a change of behaviour, not a quality)
DIRECTION = {
    "peak_foot_mib": -1, "end_foot_mib": -1, "frag_avg": -1, "frag_at_peak_live": -1,
    "frag_at_peak_foot": -1, "frag_peak_vs_peak": -1, "alloc_fail": -1, "highorder_success": +1,
    "unusable9_end": -1, "fragindex9_end": 0, "slab_internal_frag": -1, "slab_pages_max": -1,
    "partial_slabs_max": -1, "vmalloc_areas_max": 0, "wmark_fail": -1, "kswapd_wake": -1,
    "samples_below_low": -1, "oom_kills": 0, "pcp_pages_max": 0, "free_pages_min": +1, "ops": 0,
}
DEFAULT_TOL = {"ir_pct": 3.0, "ir_per_op_pct": 3.0, "figure_rel_pct": 2.0, "figure_abs": 0.01}


def load(p):
    with open(p) as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", required=True)
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--ir", required=True)
    ap.add_argument("--figures", required=True)
    ap.add_argument("--bin", default="")
    ap.add_argument("--cc", default="")
    ap.add_argument("--update", action="store_true")
    a = ap.parse_args()

    ir = load(a.ir)
    boot = ir.get("boot", {}).get("ir", 0)
    cur_ir = {}
    for name, v in ir.items():
        e = {"ir": v["ir"], "ops": v["ops"]}
        if name != "boot" and v["ops"]:
            e["ir_per_op"] = round((v["ir"] - boot) / v["ops"], 1)
        cur_ir[name] = e
    current = {"ir": cur_ir, "figures": load(a.figures)}

    base = load(a.baseline) if os.path.exists(a.baseline) else {}
    tol = dict(DEFAULT_TOL, **base.get("tolerance", {}))
    if a.update:
        base.setdefault("about", "Reference figures of the regression gate (bench/gate.sh). Instructions: callgrind Ir, from main() on in an empty "
                        "environment, of `refalloc replay --check=off` on fixed traces, built as the release variant; ir_per_op "
                        "takes away the boot of an empty machine measured in the same run. Figures: `refalloc bench "
                        "figures`, deterministic. Update with bench/gate.sh [--fast] --update after an intended change.")
        base["tolerance"] = tol
        base[a.mode] = current
        base.setdefault("made_with", {})[a.mode] = {
            "cc": a.cc, "bin": a.bin, "host": platform.machine(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
        with open(a.baseline + ".tmp", "w") as f:
            json.dump(base, f, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(a.baseline + ".tmp", a.baseline)
        print(f"gate: {a.baseline} [{a.mode}] updated ({len(cur_ir)} instruction counts, "
              f"{sum(len(v) for v in current['figures'].values())} figures)")
        return 0
    if a.mode not in base:
        print(f"gate: {a.baseline} has no '{a.mode}' figures; make them with bench/gate.sh "
              f"{'--fast ' if a.mode == 'fast' else ''}--update", file=sys.stderr)
        return 2
    ref = base[a.mode]
    made = base.get("made_with", {}).get(a.mode, {})
    if made.get("cc") and a.cc and made["cc"] != a.cc:
        print(f"gate: note: the baseline was made with '{made['cc']}', this is '{a.cc}': instruction counts may differ")

    bad, better, rows = [], [], []

    def verdict(kind, key, b, c, worse, improved):
        change = (c - b) / b * 100 if b else (0.0 if c == b else float("inf"))
        v = "REGRESSION" if worse else ("better" if improved else ("changed" if c != b else "ok"))
        rows.append((kind, key, b, c, change, v))
        if worse:
            bad.append(f"{kind} {key}: {b} -> {c} ({change:+.1f}%)")
        elif improved:
            better.append(f"{kind} {key}")

    for name, e in ref["ir"].items():
        c = current["ir"].get(name)
        if c is None:
            bad.append(f"instructions {name}: missing from this run")
            continue
        for k, t in (("ir", tol["ir_pct"]), ("ir_per_op", tol["ir_per_op_pct"])):
            if k not in e:
                continue
            b, v = e[k], c.get(k)
            verdict("Ir" if k == "ir" else "Ir/op", name, b, v, v > b * (1 + t / 100), v < b * (1 - t / 100))
    for wname, figs in ref["figures"].items():
        cf = current["figures"].get(wname)
        if cf is None:
            bad.append(f"figures {wname}: missing from this run")
            continue
        for k, b in figs.items():
            c = cf.get(k)
            if c is None:
                bad.append(f"{wname} {k}: missing from this run")
                continue
            d = DIRECTION.get(k, 0)
            slack = max(abs(b) * tol["figure_rel_pct"] / 100, tol["figure_abs"])
            worse = d != 0 and (c - b) * d < -slack
            improved = d != 0 and (c - b) * d > slack
            verdict(wname, k, b, c, worse, improved)

    w = max(len(f"{r[0]} {r[1]}") for r in rows) if rows else 20
    print(f"gate [{a.mode}]: tolerance: instructions +{tol['ir_pct']}%, figures {tol['figure_rel_pct']}% "
          f"relative or {tol['figure_abs']} absolute")
    for kind, key, b, c, ch, v in rows:
        if v == "ok" and kind not in ("Ir", "Ir/op"):
            continue          # unchanged deterministic figures: one summary line below
        fb = f"{b:,}" if isinstance(b, int) else f"{b:.6g}"
        fc = f"{c:,}" if isinstance(c, int) else f"{c:.6g}"
        print(f"  {(kind + ' ' + key):<{w}}  {fb:>16} -> {fc:<16} {ch:+7.2f}%  {v}")
    same = sum(1 for r in rows if r[5] == "ok" and r[0] not in ("Ir", "Ir/op"))
    print(f"  ({same} deterministic figures unchanged)")
    if better:
        print(f"gate: {len(better)} figure(s) better than the baseline; after an intended change: "
              f"bench/gate.sh {'--fast ' if a.mode == 'fast' else ''}--update")
    if bad:
        print(f"gate: FAILED: {len(bad)} regression(s) beyond the tolerance:")
        for b in bad:
            print("  " + b)
        print(f"  (if the change is intended: bench/gate.sh {'--fast ' if a.mode == 'fast' else ''}--update, and "
              f"commit bench/baseline.json)")
        return 1
    print("gate: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
