#!/usr/bin/env bash
# Batch size and --batch-queue against throughput on the CUDA machine: model-only
# esrgan-thick x4 fp16 at 640x360 for batches 1, 2, 4, 8, and the end-to-end 640x360 ->
# 2560x1440 job (--stats) for several batch / batch-queue pairs, so that the defaults are
# chosen from a measurement. Logs under $OUT.
#   usage (on the CUDA machine, repo root): scripts/gpu/batch-sweep.sh   (needs .gpu-kit, .gpu-carry)
set -uo pipefail
out=${OUT:-$PWD/gpu-results}
mkdir -p "$out"
log=$out/batch-sweep.txt
source scripts/gpu/lib.sh
gpu_build "$out/build-sweep.log" upscaled bench_model_throughput || { tail -30 "$out/build-sweep.log"; exit 1; }
thick=$PWD/.gpu-carry/upscalerjs-esrgan-thick-1.0.0/package/models
for b in 1 2 4 8; do
  /tmp/b/bench/bench_model_throughput --model "$thick" --scale 4 --device cuda --precision fp16 --batch $b \
    --sizes 640x360 --warmup 3 --iterations 10 | grep -E "^640x360" | sed "s/^/model only batch $b: /" | tee -a "$log"
done
gpu_bench_clip
for cfg in "4 1" "4 2" "4 3" "8 1" "8 2" "2 2"; do
  set -- $cfg
  echo "--- e2e --batch $1 --batch-queue $2" | tee -a "$log"
  timeout 60 /tmp/b/app/upscaled file /tmp/bench360.mp4 -o /tmp/o.mp4 -m "$thick/x4/model.json" -s 4 \
    --preset veryfast --batch "$1" --batch-queue "$2" --overwrite --stats --no-progress 2>&1 |
    grep -E "^(infer|encode) |fps end to end|^steady state|reserved" | tee -a "$log"
done
