#!/usr/bin/env python3
"""Print the math bench as a table: median ns per call, Strike vs f64, and the ratio.

    cargo bench -p strike-benches --bench math && python3 benches/summarize.py

Reads criterion's estimates from target/criterion/<function>/{strike,f64}/new/.
"""
import json
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "criterion")
# Design targets for the median on the 2-core reference machine (issue 2), in ns.
TARGETS = {"sqrt": 60, "exp": 120, "ln": 120, "npdf": 120, "ncdf": 200, "inv_ncdf": 400, "pow": 250}
ORDER = ["exp", "ln", "sqrt", "pow", "npdf", "ncdf", "inv_ncdf", "mul", "mul_down", "div", "mul_div"]


def median_ns(group, engine):
    path = os.path.join(ROOT, group, engine, "new", "estimates.json")
    with open(path) as fh:
        return json.load(fh)["median"]["point_estimate"]


def main():
    rows = []
    for g in ORDER:
        try:
            s, f = median_ns(g, "strike"), median_ns(g, "f64")
        except FileNotFoundError:
            continue
        target = TARGETS.get(g)
        verdict = "" if target is None else ("ok" if s <= target else "OVER")
        rows.append((g, s, f, s / f, f"{target}" if target else "-", verdict))
    if not rows:
        sys.exit("no criterion results: run `cargo bench -p strike-benches --bench math` first")
    print("| function | Strike (ns) | f64 (ns) | Strike / f64 | target (ns) | |")
    print("|---|---:|---:|---:|---:|---|")
    for g, s, f, r, t, v in rows:
        print(f"| {g} | {s:.1f} | {f:.1f} | {r:.1f}x | {t} | {v} |")


if __name__ == "__main__":
    main()
