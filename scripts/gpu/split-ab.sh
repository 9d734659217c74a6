#!/usr/bin/env bash
# A/B of the executor's split convolutions (UPSCALED_CUDNN_SPLIT, model/cudnn/cudnn_graph.h)
# on thick x4 fp16: the executor tests against eager, model-only ms at 640x360 batch 4 and 1
# and 1280x720 batch 1, the per-call profile, and end to end on the issue #5 clip with the
# start-up broken down (--stats, --log-level debug). Logs under $OUT.
#   usage (on the CUDA machine, repo root, carrying .gpu-kit, .gpu-carry, .cudnn-headers):
#   scripts/gpu/split-ab.sh
set -uo pipefail
source scripts/gpu/summary.sh
carry=$PWD/.gpu-carry
source scripts/gpu/lib.sh
gpu_build_or_stop "$out/build.log" upscaled test_model_tfjs bench_model_throughput test_channel_epilogue
thick=$carry/upscalerjs-esrgan-thick-1.0.0/package/models
export UPSCALED_TEST_MODELS_DIR=$carry
(cd /tmp/b && ctest -j4 --timeout 200 --output-on-failure -R 'FusedExecutor|ChannelEpilogueCuda') > "$out/ctest.log" 2>&1
say "ctest rc=$? $(grep -E 'tests passed|tests failed' "$out/ctest.log")"
grep -E "\*\*\*Failed|\(Failed\)|Timeout" "$out/ctest.log" | head -20 | tee -a "$log"
grep -E "split vs eager|fused vs eager|PSNR" "$out/ctest.log" | head -20 >> "$log"

say "model only, thick x4 fp16 (ms per frame), split off / on, alternating"
for round in 1 2; do
  for split in 0 1; do
    for cfg in "4 640x360" "1 640x360" "1 1280x720"; do
      set -- $cfg
      UPSCALED_CUDNN_SPLIT=$split timeout 60 /tmp/b/bench/bench_model_throughput --model "$thick" --scale 4 \
        --device cuda --precision fp16 --batch "$1" --sizes "$2" --warmup 3 --iterations 10 2>&1 |
        grep -m1 -E "^$2" | sed "s/^/round $round split=$split batch $1: /" | tee -a "$log"
    done
  done
done

for split in 0 1; do
  for cfg in "1 1280x720" "4 640x360"; do
    set -- $cfg
    UPSCALED_CUDNN_SPLIT=$split UPSCALED_CUDNN_PROFILE=1 timeout 60 /tmp/b/bench/bench_model_throughput \
      --model "$thick" --scale 4 --device cuda --precision fp16 --batch "$1" --sizes "$2" --warmup 2 \
      --iterations 3 > "$out/profile-$2-$split.log" 2>&1
    say "profile $2 batch $1 split=$split (last run):"
    tac "$out/profile-$2-$split.log" | awk '/^cudnn executor profile/{print; exit} {print}' | tac | tee -a "$log"
  done
done

gpu_bench_clip
for split in 0 1 0 1; do
  e2e=$out/e2e-split$split.txt
  echo "--- split=$split" >> "$e2e"
  UPSCALED_CUDNN_SPLIT=$split timeout 60 /tmp/b/app/upscaled --log-level debug file /tmp/bench360.mp4 -o /tmp/o.mp4 \
    -m "$thick/x4/model.json" -s 4 --preset veryfast --overwrite --stats --no-progress >> "$e2e" 2>&1
  echo "rc=$?" >> "$e2e"
  say "e2e split=$split: $(grep -E 'fps end to end' "$e2e" | tail -1) / $(grep -E '^steady state' "$e2e" | tail -1)"
  grep -E "^start-up" "$e2e" | tail -1 | tee -a "$log"
done
say "done"
