#!/usr/bin/env bash
# The executor's own 3x3 convolution (model/cudnn/dense_conv.h, issue #3) on the CUDA machine:
# builds bench_cudnn_dense and test_dense_conv into /tmp/b (lib.sh's configure), runs the
# kernel's tests, then the RRDN body with the kernel (`own-fused`) beside cuDNN's modes at
# 1280x720 batch 1 and 640x360 batch 4, with one convolution of each kind alone. Optional
# Nsight Compute on the kernel (NCU=1). Logs under $OUT.
#   usage (on the CUDA machine, repo root, carrying .gpu-kit, .gpu-carry, .cudnn-headers):
#   scripts/gpu/dense-conv.sh [extra build targets]
#   env: SETTINGS="A=1 A=0,B=2" (one process per setting; commas join several variables),
#        DENSE_SIZES="1:1280x720 4:640x360" (batch:size, the default) for bench_cudnn_dense,
#        NCU=1 with NCU_ENV="A=1 A=0" for one profile per setting (NCU_ARGS: more ncu
#        arguments, e.g. --metrics), MODEL=1: also the product's model only (thick x4 fp16,
#        640x360 batch 4 and 1280x720 batch 1) and the executor's GPU tests (FusedExecutor,
#        PublishedOutput) under each setting (builds the product: libtorch from the kit),
#        PROFILE=1 (with MODEL=1): the executor's per-call GPU times (UPSCALED_CUDNN_PROFILE) at
#        1280x720 under each setting, NCU_SASS=1 (with NCU=1): the first NCU_SASS_COUNT (1)
#        launches' per-instruction counts and stall samples (Nsight Compute's source page, SASS;
#        scripts/gpu/sass-summary.py reads it) per setting,
#        CTEST=0 (with MODEL=1): no executor tests; CTEST_REGEX: other tests than the executor's.
#   The device tool brings back at most 8 files from $OUT: with several settings, run this with
#   OUT=/tmp/r and tar /tmp/r into the real $OUT afterwards.
set -uo pipefail
source scripts/gpu/summary.sh
source scripts/gpu/lib.sh
say "machine: $(nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader) / $(nproc) cores"
targets=(bench_cudnn_dense test_dense_conv)
[[ ${MODEL:-0} == 1 ]] && targets+=(bench_model_throughput test_model_tfjs)
gpu_build_or_stop "$out/build.log" "${targets[@]}" "$@"
thick=$PWD/.gpu-carry/upscalerjs-esrgan-thick-1.0.0/package/models
# SETTINGS="A=1 A=0": kernel variants by environment, tests and bench under each.
for setting in ${SETTINGS:-UPSCALED_DENSE_CONV_DEFAULTS=1}; do
  tag=${setting//[^A-Za-z0-9_]/_}
  # shellcheck disable=SC2086 # a setting may hold several A=B pairs, comma-separated
  env ${setting//,/ } /tmp/b/tests/model_cudnn/test_dense_conv > "$out/test-$tag.txt" 2>&1
  say "$setting test_dense_conv rc=$?: $(grep -E '^\[  (PASSED|FAILED|SKIPPED)' "$out/test-$tag.txt" | tr '\n' ' ')"
  grep -E "Failure|against|changed" "$out/test-$tag.txt" | head -20 | tee -a "$log"
  for cfg in ${DENSE_SIZES:-1:1280x720 4:640x360}; do
    set -- ${cfg/:/ }
    # shellcheck disable=SC2086 # as above
    env ${setting//,/ } timeout 240 /tmp/b/bench/bench_cudnn_dense --nhwc-only --batch "$1" --sizes "$2" --iterations 10 \
      > "$out/dense-$tag-b$1-$2.txt" 2>&1
    say "$setting bench_cudnn_dense batch $1 $2 rc=$?"
    grep -E "own|split-convs|^convs|check" "$out/dense-$tag-b$1-$2.txt" | tee -a "$log"
  done
  [[ ${MODEL:-0} == 1 ]] || continue
  gpu_model_only "$setting"
  if [[ ${PROFILE:-0} == 1 ]]; then
    # shellcheck disable=SC2086 # as above
    env ${setting//,/ } UPSCALED_CUDNN_PROFILE=1 timeout 60 /tmp/b/bench/bench_model_throughput --model "$thick" \
      --scale 4 --device cuda --precision fp16 --batch 1 --sizes 1280x720 --warmup 3 --iterations 2 \
      > "$out/profile-$tag.txt" 2>&1
    say "$setting executor profile rc=$? (last run)"
    tac "$out/profile-$tag.txt" | awk '/cudnn executor profile/ {print; exit} {print}' | tac | tee -a "$log"
  fi
  [[ ${CTEST:-1} == 1 ]] || continue
  (export UPSCALED_TEST_MODELS_DIR=$PWD/.gpu-carry; cd /tmp/b && env ${setting//,/ } ctest -j4 --timeout 200 \
    --output-on-failure -R "${CTEST_REGEX:-FusedExecutor|PublishedOutput}" > "$out/ctest-$tag.log" 2>&1)
  say "$setting ctest rc=$? $(grep -E 'tests passed|tests failed' "$out/ctest-$tag.log")"
  grep -E "\*\*\*Failed|\(Failed\)|Timeout" "$out/ctest-$tag.log" | head -20 | tee -a "$log"
  grep -E " vs eager|dB" /tmp/b/Testing/Temporary/LastTest.log | grep -iv "skip" | cut -c1-160 | head -12 >> "$log"
done
if [[ ${NCU:-0} == 1 ]]; then  # NCU_ENV="A=1 A=0": one profile per setting
  ncu_bin=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null)
  for setting in ${NCU_ENV:-UPSCALED_DENSE_CONV_DEFAULTS=1}; do
    tag=${setting//[^A-Za-z0-9_]/_}
    # shellcheck disable=SC2086 # a setting may hold several A=B pairs, comma-separated
    env ${setting//,/ } timeout 240 "$ncu_bin" -k "regex:dense_conv_(wgmma_|stacked_)?kernel" -c 3 --section SpeedOfLight \
      --section Occupancy --section LaunchStats --section WarpStateStats --section ComputeWorkloadAnalysis \
      --section MemoryWorkloadAnalysis ${NCU_ARGS:-} /tmp/b/bench/bench_cudnn_dense --nhwc-only --sizes 1280x720 --iterations 1 \
      > "$out/ncu-$tag.txt" 2>&1
    say "ncu $setting rc=$?"
    if [[ ${NCU_SASS:-0} == 1 ]]; then
      # shellcheck disable=SC2086 # as above
      env ${setting//,/ } timeout 240 "$ncu_bin" -k "regex:dense_conv_(wgmma_)?kernel" -c ${NCU_SASS_COUNT:-1} --set full \
        --import-source no -f -o "/tmp/sass-$tag" /tmp/b/bench/bench_cudnn_dense --nhwc-only --sizes 1280x720 \
        --iterations 1 > "$out/ncu-sass-$tag.log" 2>&1 &&
        "$ncu_bin" -i "/tmp/sass-$tag.ncu-rep" --page source --csv --print-source sass > "$out/sass-$tag.csv" 2>&1
      say "ncu source page $setting rc=$? ($(wc -l < "$out/sass-$tag.csv") lines)"
    fi
    grep -E "dense_conv_|Duration|Registers|Achieved Occupancy|Theoretical Occupancy|Compute \(SM\) Throughput|Memory Throughput|Issue Slots Busy|Stall|Shared Memory|Executed Ipc|Mem Busy|Max Bandwidth|Mem Pipes Busy|stalled" \
      "$out/ncu-$tag.txt" | head -90 | tee -a "$log"
  done
fi
say "done"
