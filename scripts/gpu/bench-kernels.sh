#!/usr/bin/env bash
# Kernels-only GPU check in one call: builds kernels_test and bench_kernels without libtorch,
# runs the kernels tests (CUDA vs CPU oracle) and `bench_kernels --gpu --runs 20`.
# Everything is written under $OUT (the device tool returns at most 8 files from there).
#
#   usage (on the CUDA machine, repo root): scripts/gpu/bench-kernels.sh [options]
#     --prebuilt DIR   use kernels_test and bench_kernels from DIR (built elsewhere for
#                      sm_90) when they start there; build from source otherwise
#     --base SRC       also build SRC (another checkout, e.g. the previous commit) and run its
#                      bench_kernels first, for before/after figures from one machine and run
#     --base-prebuilt DIR   the same with a prebuilt bench_kernels of the other checkout
#     --ncu ROWS       also profile the bench rows whose names contain one of the comma-separated
#                      ROWS with Nsight Compute (both builds): executed instructions, time, SM and
#                      DRAM throughput per kernel and grid, in ncu.txt
#   needs: the GPU kit (.gpu-kit or ../.gpu-kit: activate.sh puts FFmpeg, GoogleTest etc. on
#          the search paths).
# Files: summary.txt (machine, build, test counts, bench tables), tests.txt, bench.txt,
# bench.json, bench-base.txt, build.log.
set -uo pipefail
root=$PWD
out=${OUT:-$root/gpu-results}
mkdir -p "$out"
summary=$out/summary.txt
say() { echo "== $*" | tee -a "$summary"; }

prebuilt="" base="" base_prebuilt="" ncu_rows=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --prebuilt) prebuilt=$2; shift 2 ;;
    --base) base=$2; shift 2 ;;
    --base-prebuilt) base_prebuilt=$2; shift 2 ;;
    --ncu) ncu_rows=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

for kit in .gpu-kit ../.gpu-kit; do
  if [[ -f $kit/activate.sh ]]; then source "$kit/activate.sh"; break; fi
done
say "machine: $(nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader) / $(nproc) cores"

# A prebuilt binary is used when it starts (its libraries resolve on this machine).
usable() { [[ -x $1 ]] && ! ldd "$1" 2>/dev/null | grep -q "not found" && "$1" "${@:2}" > /dev/null 2>&1; }

build_tree() {  # build_tree SRC BUILD_DIR TARGETS...
  local src=$1 dir=$2
  shift 2
  cmake -S "$src" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DUPSCALED_TORCH=OFF -DUPSCALED_WERROR=ON \
    -DCMAKE_CUDA_ARCHITECTURES=90 > "$dir.log" 2>&1 &&
    cmake --build "$dir" -j16 --target "$@" >> "$dir.log" 2>&1
}

t0=$(date +%s)
test_bin="" bench_bin="" base_bench=""
if [[ -n $prebuilt ]] && usable "$prebuilt/kernels_test" --gtest_list_tests &&
  ! ldd "$prebuilt/bench_kernels" 2> /dev/null | grep -q "not found"; then
  test_bin=$prebuilt/kernels_test bench_bin=$prebuilt/bench_kernels
  say "using prebuilt binaries from $prebuilt"
fi
if [[ -n $base_prebuilt ]] && ! ldd "$base_prebuilt/bench_kernels" 2>/dev/null | grep -q "not found"; then
  base_bench=$base_prebuilt/bench_kernels
fi
pids=()
if [[ -z $test_bin ]]; then
  build_tree "$root" /tmp/build-kernels kernels_test bench_kernels &
  pids+=($!)
fi
if [[ -n $base && -z $base_bench ]]; then
  build_tree "$base" /tmp/build-kernels-base bench_kernels &
  pids+=($!)
fi
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
[[ -z $test_bin ]] && test_bin=/tmp/build-kernels/tests/kernels/kernels_test bench_bin=/tmp/build-kernels/bench/bench_kernels
[[ -n $base && -z $base_bench ]] && base_bench=/tmp/build-kernels-base/bench/bench_kernels
cat /tmp/build-kernels*.log > "$out/build.log" 2> /dev/null
say "build rc=$rc in $(($(date +%s) - t0)) s"
if [[ $rc -ne 0 ]]; then grep -E "error|FAILED" "$out/build.log" | head -40 | tee -a "$summary"; fi

# Benchmarks first (nothing else on the GPU meanwhile), then the tests.
if [[ -n $base_bench && -x $base_bench ]]; then
  say "bench (base)"
  "$base_bench" --gpu --runs 20 > "$out/bench-base.txt" 2>&1
  echo "rc=$?" >> "$out/bench-base.txt"
fi
if [[ -x $bench_bin ]]; then
  say "bench"
  "$bench_bin" --gpu --runs 20 --json "$out/bench.json" > "$out/bench.txt" 2>&1
  echo "rc=$?" >> "$out/bench.txt"
fi
ncu_bin=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null || true)
if [[ -n $ncu_rows && -n $ncu_bin ]]; then
  say "ncu ($ncu_rows)"
  for b in ${base_bench:+base:$base_bench} new:$bench_bin; do
    "$ncu_bin" --csv --metrics gpu__time_duration.sum,smsp__inst_executed.sum,sm__throughput.avg.pct_of_peak_sustained_elapsed,dram__throughput.avg.pct_of_peak_sustained_elapsed,launch__registers_per_thread \
      "${b#*:}" --gpu --runs 1 --filter "$ncu_rows" > "/tmp/ncu-${b%%:*}.csv" 2> "/tmp/ncu-${b%%:*}.err"
    python3 scripts/gpu/ncu-summary.py "${b%%:*}" "/tmp/ncu-${b%%:*}.csv" >> "$out/ncu.txt" 2>&1 ||
      tail -5 "/tmp/ncu-${b%%:*}.err" >> "$out/ncu.txt"
    # Where the issue slots go: pipe use, issue activity, occupancy (a second pass, so that a
    # metric this ncu does not know costs only these lines).
    "$ncu_bin" --csv --metrics smsp__issue_active.avg.pct_of_peak_sustained_active,sm__inst_executed_pipe_alu.avg.pct_of_peak_sustained_active,sm__inst_executed_pipe_fma.avg.pct_of_peak_sustained_active,sm__inst_executed_pipe_lsu.avg.pct_of_peak_sustained_active,sm__warps_active.avg.pct_of_peak_sustained_active,l1tex__throughput.avg.pct_of_peak_sustained_active \
      "${b#*:}" --gpu --runs 1 --filter "$ncu_rows" > "/tmp/ncu2-${b%%:*}.csv" 2> "/tmp/ncu2-${b%%:*}.err"
    python3 scripts/gpu/ncu-summary.py "${b%%:*}" "/tmp/ncu2-${b%%:*}.csv" >> "$out/ncu.txt" 2>&1 ||
      tail -5 "/tmp/ncu2-${b%%:*}.err" >> "$out/ncu.txt"
  done
  cat "$out/ncu.txt" >> "$summary"
elif [[ -n $ncu_rows ]]; then
  say "no ncu on this machine"
fi
# Machine code of both builds' kernels, for instruction-level comparisons (no SASS tools on
# the development machines).
cuobjdump_bin=$(command -v cuobjdump || ls /usr/local/cuda/bin/cuobjdump 2> /dev/null || true)
if [[ -n $cuobjdump_bin ]]; then
  for b in ${base_bench:+base:$base_bench} new:$bench_bin; do
    "$cuobjdump_bin" -sass "${b#*:}" 2> /dev/null | gzip > "$out/sass-${b%%:*}.txt.gz"
  done
fi
if [[ -x $test_bin ]]; then
  say "tests"
  t1=$(date +%s)
  "$test_bin" --gtest_color=no > "$out/tests.txt" 2>&1
  trc=$?
  say "kernels_test rc=$trc in $(($(date +%s) - t1)) s: $(grep -E '^\[  (PASSED|FAILED|SKIPPED) ' "$out/tests.txt" | tr '\n' ' ')"
  grep -E '^\[ +(OK|FAILED|SKIPPED) +\] KernelsCuda' "$out/tests.txt" | tee -a "$summary"
fi
for f in bench-base.txt bench.txt; do
  [[ -f $out/$f ]] && { echo "--- $f"; grep -E "GB/s" "$out/$f"; } >> "$summary"
done
cat "$summary"
