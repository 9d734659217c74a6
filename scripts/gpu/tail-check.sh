#!/usr/bin/env bash
# The networks' last two layers in one pass (model/cudnn/shuffle_conv.h) against eager libtorch
# (UPSCALED_FUSED_TAIL=0): its kernel tests, the executor tests of every carried model, then
# model only and end to end with the default model (esrgan-slim x2) and thick x4, the two
# settings alternating. Logs under $OUT.
#   usage (on the CUDA machine, repo root, carrying .gpu-kit, .gpu-carry, .cudnn-headers):
#   scripts/gpu/tail-check.sh
set -uo pipefail
source scripts/gpu/summary.sh
carry=$PWD/.gpu-carry
source scripts/gpu/lib.sh
say "machine: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader) / $(nproc) cores"
gpu_build_or_stop "$out/build.log" upscaled test_model_tfjs bench_model_throughput test_shuffle_conv
export UPSCALED_TEST_MODELS_DIR=$carry
(cd /tmp/b && ctest -j4 --timeout 200 --output-on-failure \
  -R "ShuffleConvCuda|UpsampleConvCuda|FusedExecutor.CudaFloat16MatchesEager|PublishedOutput.CudaFloat16") > "$out/ctest.log" 2>&1
say "ctest rc=$? $(grep -E 'tests passed|tests failed' "$out/ctest.log")"
grep -E "\*\*\*Failed|\(Failed\)|Timeout" "$out/ctest.log" | head -20 | tee -a "$log"
grep -E " vs eager" /tmp/b/Testing/Temporary/LastTest.log | sed -E 's#/[^ ]*/model.json#MODEL#g' | cut -c1-160 >> "$log"
pkg() { echo "$carry/upscalerjs-esrgan-$1-1.0.0/package/models"; }
for round in 1 2; do
  for tail in 0 1; do
    for cfg in "slim 2 1 1920x1080" "slim 2 4 640x360" "medium 4 4 640x360" "thick 4 4 640x360"; do
      set -- $cfg
      UPSCALED_FUSED_TAIL=$tail timeout 60 /tmp/b/bench/bench_model_throughput --model "$(pkg "$1")" --scale "$2" \
        --device cuda --precision fp16 --batch "$3" --sizes "$4" --warmup 3 --iterations 10 2>&1 | grep -m1 -E "^$4" |
        sed "s/^/round $round tail $tail $1 x$2 batch $3: /" | tee -a "$log"
    done
  done
done
gpu_bench_clip
for round in 1 2; do
  for tail in 0 1; do
    e2e=$out/e2e-slim-$round-$tail.txt
    UPSCALED_FUSED_TAIL=$tail timeout 60 /tmp/b/app/upscaled file /tmp/bench360.mp4 -o /tmp/o.mp4 \
      -m "$(pkg slim)/x2/model.json" -s 2 --preset veryfast --overwrite --stats --no-progress > "$e2e" 2>&1
    say "e2e slim x2 round $round tail $tail rc=$?: $(grep -E 'fps end to end' "$e2e") / $(grep -E '^steady' "$e2e")"
    grep -E "^(infer|encode|bottleneck)" "$e2e" | tee -a "$log"
  done
done
say "done"
