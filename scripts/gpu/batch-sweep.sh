#!/usr/bin/env bash
# Batch size against throughput on the CUDA machine: model-only esrgan-thick x4 fp16 at
# 640x360 for batches 1, 2, 4, and the end-to-end 640x360 -> 2560x1440 job with the same
# batches (--stats), so the pipeline's default batch is chosen from a measurement.
#   usage (on the CUDA machine, repo root): scripts/gpu/batch-sweep.sh   (needs .gpu-kit, .gpu-carry)
set -uo pipefail
source .gpu-kit/activate.sh
tp=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
cmake -S . -B /tmp/b -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DCMAKE_PREFIX_PATH="$CMAKE_PREFIX_PATH;$tp" > /tmp/build.log 2>&1 &&
  cmake --build /tmp/b -j16 --target upscaled bench_model_throughput >> /tmp/build.log 2>&1 ||
  { tail -30 /tmp/build.log; exit 1; }
thick=$PWD/.gpu-carry/upscalerjs-esrgan-thick-1.0.0/package/models
for b in 1 2 4; do
  /tmp/b/bench/bench_model_throughput --model "$thick" --scale 4 --device cuda --precision fp16 --batch $b \
    --sizes 640x360 --warmup 3 --iterations 10 | grep -E "^640x360"
done
ffmpeg -v error -y -f lavfi -i testsrc2=size=640x360:rate=30 -f lavfi -i sine=frequency=440 -frames:v 300 -t 10 \
  -c:v libx264 -preset veryfast -c:a aac /tmp/bench360.mp4
for b in 1 2 4; do
  echo "--- e2e --batch $b"
  /tmp/b/app/upscaled file /tmp/bench360.mp4 -o /tmp/o.mp4 -m "$thick/x4/model.json" -s 4 --preset veryfast \
    --batch $b --overwrite --stats --no-progress 2>&1 | grep -E "^(upscale|encode|decode) |fps end to end"
done
