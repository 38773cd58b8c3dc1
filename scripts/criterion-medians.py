#!/usr/bin/env python3
"""Prints the median of every criterion benchmark of the last `cargo bench`,
and each group's ratios to its `bare_tract_loop`, as a Markdown table."""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
rows = {}
for est in sorted(root.glob("*/*/new/estimates.json")):
    group, bench = est.parts[-4], est.parts[-3]
    rows.setdefault(group, {})[bench] = json.loads(est.read_text())["median"]["point_estimate"]

print("| group | bench | median | vs bare_tract_loop |")
print("|---|---|---|---|")
for group, benches in rows.items():
    base = benches.get("bare_tract_loop")
    for bench, ns in benches.items():
        unit = (1e6, "ms") if ns >= 1e6 else (1e3, "us")
        ratio = f"{(ns / base - 1) * 100:+.2f}%" if base and bench != "bare_tract_loop" else ""
        print(f"| {group} | {bench} | {ns / unit[0]:.3f} {unit[1]} | {ratio} |")
