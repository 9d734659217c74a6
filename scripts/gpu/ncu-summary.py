#!/usr/bin/env python3
"""Summarises an Nsight Compute --csv metrics dump (scripts/gpu/bench-kernels.sh --ncu): one line
per kernel and grid with the median of each metric over its launches.
usage: ncu-summary.py LABEL FILE.csv"""
import csv
import re
import statistics
import sys
from collections import defaultdict

label, path = sys.argv[1], sys.argv[2]
with open(path, newline="") as f:
    lines = [line for line in f if line.startswith('"')]  # ncu prints its own notes before the table
rows = list(csv.DictReader(lines))
values = defaultdict(lambda: defaultdict(list))
for r in rows:
    name = re.sub(r"\(upscaled.*|^void ", "", r["Kernel Name"])  # drop the return type and parameters
    name = re.sub(r"upscaled::kernels::|\(anonymous namespace\)::|cudadetail::", "", name)
    key = (name, r["Grid Size"])
    try:
        values[key][r["Metric Name"]].append(float(r["Metric Value"].replace(",", "")))
    except ValueError:
        pass
short = {
    "gpu__time_duration.sum": "ns",
    "smsp__inst_executed.sum": "warp-inst",
    "sm__throughput.avg.pct_of_peak_sustained_elapsed": "SM%",
    "dram__throughput.avg.pct_of_peak_sustained_elapsed": "DRAM%",
    "launch__registers_per_thread": "regs",
    "smsp__issue_active.avg.pct_of_peak_sustained_active": "issue%",
    "sm__inst_executed_pipe_alu.avg.pct_of_peak_sustained_active": "alu%",
    "sm__inst_executed_pipe_fma.avg.pct_of_peak_sustained_active": "fma%",
    "sm__inst_executed_pipe_lsu.avg.pct_of_peak_sustained_active": "lsu%",
    "sm__warps_active.avg.pct_of_peak_sustained_active": "occupancy%",
    "l1tex__throughput.avg.pct_of_peak_sustained_active": "L1%",
}
for (name, grid), metrics in sorted(values.items()):
    parts = [f"{short.get(m, m)}={statistics.median(v):.0f}" for m, v in sorted(metrics.items())]
    print(f"{label} {name} grid{grid} n={len(next(iter(metrics.values())))} " + " ".join(parts))
