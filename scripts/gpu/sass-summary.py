#!/usr/bin/env python3
"""Summarise Nsight Compute's source page per SASS instruction (the CSV that
`ncu -i REPORT --page source --csv --print-source sass` writes; scripts/gpu/dense-conv.sh and
kernels-env-ab.sh with NCU_SASS=1). For one profiled kernel of the file: its executed warp
instructions, the stall reasons summed over all instructions, the instructions with the most
warp-stall samples and the share of samples and of executed instructions per opcode.

usage: sass-summary.py FILE.csv [KERNEL_INDEX (default 0)] [TOP (default 25)]
"""
import collections
import csv
import sys


def kernels(path):
    """The file's kernels: a list of (name line, CSV lines that follow it)."""
    out = []
    for line in open(path, encoding="utf-8", errors="replace").read().split("\n"):
        if line.startswith('"Kernel Name"'):
            out.append((line, []))
        elif out:
            out[-1][1].append(line)
    return out


def num(text):
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return 0.0


def main():
    path = sys.argv[1]
    which = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 25
    found = kernels(path)
    print(f"{len(found)} kernels in {path}; kernel {which}:")
    name, lines = found[which]
    print(" ", name[:240])
    rows = list(csv.reader(lines))
    header = rows[0]
    col = {h: i for i, h in enumerate(header)}
    data = [r for r in rows[1:] if len(r) == len(header)]
    samples_col, inst_col = "Warp Stall Sampling (All Samples)", "Instructions Executed"
    samples = sum(num(r[col[samples_col]]) for r in data) or 1.0
    inst = sum(num(r[col[inst_col]]) for r in data) or 1.0
    print(f"  {len(data)} SASS instructions, {inst:.0f} warp instructions executed, {samples:.0f} stall samples")
    stalls = [h for h in header if h.startswith("stall_") and "Not Issued" not in h]
    totals = collections.Counter({h[6:]: sum(num(r[col[h]]) for r in data) for h in stalls})
    print("  stall reasons (% of samples):",
          ", ".join(f"{k} {v / samples * 100:.1f}" for k, v in totals.most_common(8)))
    print(f"  top {top} instructions by samples:")
    for r in sorted(data, key=lambda r: -num(r[col[samples_col]]))[:top]:
        reasons = sorted(((num(r[col[h]]), h[6:]) for h in stalls), reverse=True)[:2]
        print(f"    {num(r[col[samples_col]]) / samples * 100:5.1f}%  executed {num(r[col[inst_col]]):>10.0f}  "
              f"{r[col['Source']].strip()[:64]:64s}  {', '.join(f'{n} {v:.0f}' for v, n in reasons)}")
    by_samples, by_inst = collections.Counter(), collections.Counter()
    for r in data:
        words = r[col["Source"]].split()
        if not words:
            continue
        op = words[1] if words[0].startswith("@") and len(words) > 1 else words[0]
        op = op.split(".")[0]
        by_samples[op] += num(r[col[samples_col]])
        by_inst[op] += num(r[col[inst_col]])
    print("  by opcode: % of samples, % of executed instructions")
    for op, v in by_samples.most_common(16):
        print(f"    {op:12s} {v / samples * 100:5.1f}  {by_inst[op] / inst * 100:5.1f}")


if __name__ == "__main__":
    main()
