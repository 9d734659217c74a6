# shellcheck shell=bash
# Sourced first by the scripts in scripts/gpu that keep a summary (it needs nothing from the
# GPU kit, so a script can report a missing kit with it): $out ($OUT, else ./gpu-results,
# created), $log ($out/summary.txt), $t0 (the start, epoch seconds) and `say MESSAGE`, which
# prints "== [seconds since the start] MESSAGE" and appends it to $log.
out=${OUT:-$PWD/gpu-results}
mkdir -p "$out"
log=$out/summary.txt
t0=$(date +%s)
say() { echo "== [$(($(date +%s) - t0)) s] $*" | tee -a "$log"; }
