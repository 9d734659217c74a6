#!/usr/bin/env bash
# The esrgan-thick scales that do not fit in final-check's carry
# (x2 and x3 together, x8 alone: 28-29 MB each against 64 MiB a call), and with `profile`
# instead the executor's GPU time per kind of call (thick x4: 1280x720 batch 1, 640x360
# batch 4; pass .gpu-carry). Builds in /tmp/b; a second call on a machine still warm from
# the first reuses that build and the .gpu-kit carried then, so it can carry models alone.
# Logs under $OUT.
#   usage: scripts/gpu/thick-scales.sh CARRY_DIR [profile]
#   CARRY_DIR: a folder holding upscalerjs-esrgan-thick-1.0.0/package with some scales
#   (scripts/gpu/stage-thick.sh packs x2 and x3, or x8, small enough to carry beside the kit)
set -uo pipefail
carry=$(realpath "$1")
source scripts/gpu/summary.sh
if [[ ! -f .gpu-kit/activate.sh ]]; then say "no .gpu-kit here: carry it (or run on a machine still warm from a call that did)"; exit 3; fi
source scripts/gpu/lib.sh
gpu_build "$out/build.log" test_channel_epilogue test_model_tfjs bench_model_throughput
say "build rc=$? ($(ls "$carry"/upscalerjs-esrgan-thick-1.0.0/package/models | tr '\n' ' '))"
(cd /tmp/b && ./tests/model_cudnn/test_channel_epilogue --gtest_repeat=3 2>&1 | tail -3) | tee -a "$log"
export UPSCALED_TEST_MODELS_DIR=$carry
if [[ ${2:-} != profile ]]; then
  (cd /tmp/b && ctest -j4 --timeout 300 --output-on-failure -R 'Cuda.*thick|FusedExecutor.*thick') > "$out/ctest.log" 2>&1
  say "ctest rc=$? $(grep -E 'tests passed|tests failed' "$out/ctest.log")"
  grep -E "Test +#.*(Passed|Failed|Skipped)" "$out/ctest.log" | sed -E 's/ +/ /g' | tee -a "$log"
fi
if [[ ${2:-} == profile ]]; then
  # The executor's own per-call GPU times (UPSCALED_CUDNN_PROFILE, model/cudnn/cudnn_graph.cpp):
  # the last timed run of each size.
  thick=$carry/upscalerjs-esrgan-thick-1.0.0/package/models
  scale=$(ls "$thick" | head -1 | tr -d x)
  for cfg in "1 1280x720 0" "4 640x360 0" "1 1280x720 1" "4 640x360 1"; do
    set -- $cfg
    UPSCALED_CUDNN_SPLIT=$3 UPSCALED_CUDNN_PROFILE=1 /tmp/b/bench/bench_model_throughput --model "$thick" --scale "$scale" --device cuda \
      --precision fp16 --batch "$1" --sizes "$2" --warmup 2 --iterations 3 > "$out/profile-$2-$3.log" 2>&1
    say "profile thick x$scale $2 batch $1, UPSCALED_CUDNN_SPLIT=$3 (last run):"
    tac "$out/profile-$2-$3.log" | awk '/^cudnn executor profile/{print; exit} {print}' | tac | tee -a "$log"
    grep -m1 -E "^$2" "$out/profile-$2-$3.log" | tee -a "$log"
  done
fi
