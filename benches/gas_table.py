#!/usr/bin/env python3
"""Gas calibration table from `cargo bench -p strike-benches --bench gas`.

Per opcode: ns per instruction = (median ns of its case - baseline) / 64, gas per
instruction = (gas_used of its case - baseline's) / 64 (static and dynamic, exactly as
charged), ns per gas, and the ratio to the median ns per gas. Exits 1 if any opcode lies
outside [median / 2, median * 2]. Prints the markdown table for spec/gas.md.
"""
import json
import os
import statistics
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "criterion", "gas")
COPIES = 64


def median_ns(name):
    # criterion's directory names replace characters such as '^' with '_'.
    folder = "".join(c if c.isalnum() or c in "@._-" else "_" for c in name)
    with open(os.path.join(ROOT, folder, "new", "estimates.json")) as fh:
        return json.load(fh)["median"]["point_estimate"]


def main():
    try:
        with open(os.path.join(ROOT, "gas_used.tsv")) as fh:
            used = dict((n, int(g)) for n, g in (line.split("\t") for line in fh.read().split("\n") if line))
    except FileNotFoundError:
        sys.exit("run `cargo bench -p strike-benches --bench gas` first")
    rows, worst, missing = [], [], []
    for name, g in used.items():
        if name.startswith("baseline"):
            continue
        try:
            median_ns(name)
        except FileNotFoundError:
            missing.append(name)  # not measured by a filtered run
            continue
        # Cases on empty state (the storage worst cases) run against the empty program
        # on empty state; the others against the baseline.
        base = "baseline@fresh" if name.endswith("@cold") else "baseline"
        # REVERT ends its transaction, so it runs once, in place of the baseline's RET: its
        # row is the difference (REVERT - RET) in time and in gas.
        copies = 1 if name == "REVERT" else COPIES
        ns = (median_ns(name) - median_ns(base)) / copies
        gas = (g - used[base]) / copies
        row = (name + (" (minus RET)" if copies == 1 else ""), ns, gas, ns / gas if gas else float("inf"))
        (worst if "@" in name else rows).append(row)
    med = statistics.median(r[3] for r in rows)
    # Calibration: every opcode's typical case within 2x of the median either way. Safety:
    # every worst case at most 2x the median (a cheaper one is only overpriced).
    bad = [r for r in rows if not (med / 2 <= r[3] <= med * 2)] + [r for r in worst if r[3] > med * 2]
    print(f"median {med:.3f} ns per gas; band [{med / 2:.3f}, {med * 2:.3f}]\n")
    print("| opcode | ns / instruction | gas / instruction | ns / gas | / median |")
    print("|---|---:|---:|---:|---:|")
    for name, ns, gas, npg in rows:
        flag = "" if med / 2 <= npg <= med * 2 else " **out of band**"
        print(f"| {name} | {ns:.2f} | {gas:g} | {npg:.3f} | {npg / med:.2f}{flag} |")
    print("\nWorst cases (each opcode's slowest operands found; must stay at most 2x the median):\n")
    print("| case | ns / instruction | gas / instruction | ns / gas | / median |")
    print("|---|---:|---:|---:|---:|")
    for name, ns, gas, npg in worst:
        flag = "" if npg <= med * 2 else " **over 2x**"
        print(f"| {name} | {ns:.2f} | {gas:g} | {npg:.3f} | {npg / med:.2f}{flag} |")
    top = max(rows + worst, key=lambda r: r[3])
    print(f"\nworst of all: {top[0]} at {top[3]:.3f} ns per gas, {top[3] / med:.2f}x the median")
    if missing:
        print(f"\nnot measured (a filtered run?): {', '.join(missing)}", file=sys.stderr)
    if bad or missing:
        print(f"\n{len(bad)} cases outside the band: {', '.join(r[0] for r in bad)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
