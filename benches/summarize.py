#!/usr/bin/env python3
"""Print the math bench as a table: median ns per call, Strike vs f64, and the ratio.

    cargo bench -p strike-benches --bench math && python3 benches/summarize.py

Reads criterion's estimates from target/criterion/<function>/{strike,f64}/new/.
"""
import json
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "criterion")
# Targets for the median on the 2-core reference machine, in ns (issue 23: "faster exact
# kernels"; exp's is over the stdlib's arguments, |x| <= 40, which the bench's inputs are).
TARGETS = {"sqrt": 15, "exp": 15, "ln": 25, "npdf": 20, "ncdf": 40, "inv_ncdf": 120, "pow": 60,
           "div": 8, "mul": 3}
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
