#!/usr/bin/env bash
# An A/B of environment settings on the kernels (issue #4) in one call: builds kernels_test and
# bench_kernels without libtorch, benchmarks the rows matching FILTER under each setting in turn
# (ROUNDS rounds, default 2; each setting in its own process), runs the CUDA kernel tests under
# each setting, and with NCU=1 profiles the rows once per setting with Nsight Compute (the
# metrics of bench-kernels.sh --ncu; NCU_FILTER narrows the rows profiled; NCU_SASS=1 adds a
# `--set full` profile of those rows with Nsight Compute's source page, per SASS instruction,
# for scripts/gpu/sass-summary.py). Files under $OUT: summary.txt, bench-*.txt, tests-*.txt,
# ncu.txt, build.log (with NCU_SASS: sass.csv, ncu-details.txt, ncu-sass.log).
#   usage (on the CUDA machine, repo root, carrying .gpu-kit):
#   scripts/gpu/kernels-env-ab.sh "A=0 A=1" "x2 up,x2 down" ["KernelsCuda.*Resize*"]
set -uo pipefail
settings=$1 filter=$2 tests=${3:-KernelsCuda.*}
root=$PWD
out=${OUT:-$root/gpu-results}
mkdir -p "$out"
summary=$out/summary.txt
say() { echo "== $*" | tee -a "$summary"; }
for kit in .gpu-kit ../.gpu-kit; do
  if [[ -f $kit/activate.sh ]]; then source "$kit/activate.sh"; break; fi
done
say "machine: $(nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader) / $(nproc) cores"
t0=$(date +%s)
cmake -S "$root" -B /tmp/bk -G Ninja -DCMAKE_BUILD_TYPE=Release -DUPSCALED_TORCH=OFF -DUPSCALED_WERROR=ON \
  -DCMAKE_CUDA_ARCHITECTURES=90 > "$out/build.log" 2>&1 &&
  cmake --build /tmp/bk -j16 --target kernels_test bench_kernels >> "$out/build.log" 2>&1
rc=$?
say "build rc=$rc in $(($(date +%s) - t0)) s"
[[ $rc -ne 0 ]] && { grep -E "error|FAILED" "$out/build.log" | head -40 | tee -a "$summary"; exit 1; }
for round in $(seq "${ROUNDS:-2}"); do
  for e in $settings; do
    f=$out/bench-$round-${e//[^A-Za-z0-9_]/_}.txt
    # shellcheck disable=SC2086 # a setting may hold several A=B pairs, comma-separated
    env ${e//,/ } /tmp/bk/bench/bench_kernels --gpu --runs 20 --filter "$filter" > "$f" 2>&1
    say "bench round $round $e"
    grep -E "3840|2160" "$f" | tee -a "$summary"
  done
done
for e in $settings; do
  f=$out/tests-${e//[^A-Za-z0-9_]/_}.txt
  # shellcheck disable=SC2086
  env ${e//,/ } /tmp/bk/tests/kernels/kernels_test --gtest_filter="$tests" > "$f" 2>&1
  say "tests $e rc=$?: $(grep -E '^\[  (PASSED|FAILED|SKIPPED) ' "$f" | tr '\n' ' ')"
  grep -E "^\[  FAILED" "$f" | head -10 | tee -a "$summary"
done
ncu_bin=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null || true)
if [[ ${NCU:-0} == 1 && -n $ncu_bin ]]; then
  for e in $settings; do
    label=${e//[^A-Za-z0-9_]/_}
    for metrics in gpu__time_duration.sum,smsp__inst_executed.sum,sm__throughput.avg.pct_of_peak_sustained_elapsed,dram__throughput.avg.pct_of_peak_sustained_elapsed,launch__registers_per_thread \
      smsp__issue_active.avg.pct_of_peak_sustained_active,sm__inst_executed_pipe_lsu.avg.pct_of_peak_sustained_active,sm__warps_active.avg.pct_of_peak_sustained_active,l1tex__throughput.avg.pct_of_peak_sustained_active,l1tex__data_pipe_lsu_wavefronts_mem_shared.sum,l1tex__t_sectors_pipe_lsu_mem_global_op_ld.sum; do
      # shellcheck disable=SC2086
      env ${e//,/ } "$ncu_bin" --csv --metrics "$metrics" /tmp/bk/bench/bench_kernels --gpu --runs 1 --filter "${NCU_FILTER:-$filter}" \
        > /tmp/ncu-$label.csv 2> /tmp/ncu-$label.err
      python3 scripts/gpu/ncu-summary.py "$label" /tmp/ncu-$label.csv >> "$out/ncu.txt" 2>&1 ||
        tail -5 /tmp/ncu-$label.err >> "$out/ncu.txt"
    done
  done
  cat "$out/ncu.txt" >> "$summary"
  if [[ ${NCU_SASS:-0} == 1 ]]; then  # per-instruction counts and stall samples, first setting only
    e=${settings%% *}
    # shellcheck disable=SC2086
    env ${e//,/ } timeout 300 "$ncu_bin" --set full --import-source no -f -o /tmp/kernels-sass /tmp/bk/bench/bench_kernels \
      --gpu --runs 1 --filter "${NCU_FILTER:-$filter}" > "$out/ncu-sass.log" 2>&1
    say "ncu --set full rc=$?"
    "$ncu_bin" -i /tmp/kernels-sass.ncu-rep --page source --csv --print-source sass > "$out/sass.csv" 2>&1
    say "ncu source page rc=$? ($(wc -l < "$out/sass.csv") lines)"
    "$ncu_bin" -i /tmp/kernels-sass.ncu-rep --page details > "$out/ncu-details.txt" 2>&1
  fi
fi
say "done in $(($(date +%s) - t0)) s"
