#!/usr/bin/env bash
# A short whole-product check on the CUDA machine, for the end of a session with little device
# time left: one build, end to end (thick x4 640x360 -> 2560x1440 and the real clip, --stats),
# model-only fps with the fused executor and eager in the same call (640x360 batch 4 and 1,
# 1280x720 batch 1), then the GPU tests (executor epilogue, fused executor, published outputs,
# tiling, memory plan, GPU path, NVDEC, kernels, the GPU warm-up, the depth_to_space + convolution
# pass) in the time left. The 640x360 job runs four
# more times (cache hits and forced misses of the model's memory cost, alternating) with the
# start-up breakdown. Logs under $OUT.
#   usage (on the CUDA machine, repo root): scripts/gpu/final-check.sh [BUDGET_S]
#   needs: .gpu-kit and .gpu-carry (as verify.sh); cuDNN as scripts/gpu/cudnn-env.sh finds it.
set -uo pipefail
budget=${1:-300}
source scripts/gpu/summary.sh
carry=$PWD/.gpu-carry
left() { echo $((budget - ($(date +%s) - t0))); }

source scripts/gpu/lib.sh
say "machine: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader) / $(nproc) cores"
gpu_build_or_stop "$out/build.log" upscaled test_cli_file test_model_tfjs kernels_test bench_model_throughput \
  test_channel_epilogue test_shuffle_conv test_cudnn_prime model_formats_test
bin=/tmp/b/app/upscaled
thick=$carry/upscalerjs-esrgan-thick-1.0.0/package/models
e2e=$out/e2e.txt

gpu_bench_clip
echo "--- 640x360 300 frames -> thick x4 fp16 -> 2560x1440 libx264 veryfast, defaults" >> "$e2e"
timeout 60 $bin --log-level debug file /tmp/bench360.mp4 -o /tmp/o.mp4 -m "$thick/x4/model.json" -s 4 \
  --preset veryfast --overwrite --stats --no-progress >> "$e2e" 2>&1
echo "rc=$?" >> "$e2e"
say "e2e: $(grep -E 'fps end to end' "$e2e" | tail -1) / $(grep -E '^steady state' "$e2e" | tail -1)"
grep -m1 -oE "cuDNN fused executor[^)]*" "$e2e" | tee -a "$log"
grep -E "^start-up" "$e2e" | tail -1 | tee -a "$log"
grep -E "handle created|measured|primed for|first run at|first run \(|decode: first|infer: batch|warm-up" "$e2e" | cut -c12-300 |
  sed -E 's#/[^ ]*/model.json#MODEL#g' | tee -a "$log"
grep -E "^(stage|demux|decode|preprocess|infer|postprocess|encode|mux|bottleneck)" "$e2e" | head -12 >> "$log"
# Four more runs of the same job: the memory cost from the cache the first run wrote
# (core/memory_cost_cache.h), alternating with runs given an empty cache folder (measured
# again); their start-up breakdown and debug timings.
for run in 2 3 4 5; do
  e2e_n=$out/e2e-$run.txt
  cache=$HOME/.cache/upscaled
  [[ $((run % 2)) -eq 1 ]] && cache=$(mktemp -d)
  UPSCALED_CACHE_DIR=$cache timeout 60 $bin --log-level debug file /tmp/bench360.mp4 -o /tmp/o.mp4 \
    -m "$thick/x4/model.json" -s 4 \
    --preset veryfast --overwrite --stats --no-progress > "$e2e_n" 2>&1
  say "e2e run $run (cache $cache) rc=$?: $(grep -E 'fps end to end' "$e2e_n" | tail -1) / $(grep -E '^steady state' "$e2e_n" | tail -1)"
  grep -E "^start-up" "$e2e_n" | tail -1 | tee -a "$log"
  grep -E "handle created|measured|primed for|first run at|first run \(|decode: first|infer: batch|warm-up" "$e2e_n" | cut -c12-300 |
    sed -E 's#/[^ ]*/model.json#MODEL#g' | tee -a "$log"
done
echo "--- echo-hereweare.webm -> 1920x1080" >> "$e2e"
timeout 40 $bin file "$carry/echo-hereweare.webm" -o /tmp/echo-up.mkv -m "$thick/x4/model.json" -s 4 \
  --preset veryfast --overwrite --stats --no-progress >> "$e2e" 2>&1
echo "rc=$?" >> "$e2e"
say "echo: $(grep -E 'fps end to end' "$e2e" | tail -1) / $(grep -E '^steady state' "$e2e" | tail -1)"

say "model only (640x360, fp16)"
# fused-tail0: the executor with the network's last two layers in eager libtorch
# (UPSCALED_FUSED_TAIL=0, model/cudnn/shuffle_conv.h) for the comparison.
for variant in fused fused-tail0 eager; do
  ex=${variant%-tail0} tail=1
  [[ $variant == *-tail0 ]] && tail=0
  for b in 4 1; do
    UPSCALED_FUSED_TAIL=$tail UPSCALED_NETWORK_EXECUTOR=$ex timeout 40 /tmp/b/bench/bench_model_throughput --model "$thick" --scale 4 \
      --device cuda --precision fp16 --batch $b --sizes 640x360 --warmup 3 --iterations 10 2>&1 |
      grep -E "^640x360" | sed "s/^/$variant batch $b: /" | tee -a "$log"
  done
  UPSCALED_FUSED_TAIL=$tail UPSCALED_NETWORK_EXECUTOR=$ex timeout 60 /tmp/b/bench/bench_model_throughput --model "$thick" --scale 4 \
    --device cuda --precision fp16 --batch 1 --sizes 1280x720 --warmup 3 --iterations 10 2>&1 |
    grep -E "^1280x720" | sed "s/^/$variant batch 1: /" | tee -a "$log"
done

say "GPU tests ($(left) s left)"
export UPSCALED_TEST_MODELS_DIR=$carry
(cd /tmp/b && timeout $(($(left) - 5)) ctest -j6 --timeout 120 --output-on-failure \
  -R 'ChannelEpilogueCuda|ShuffleConvCuda|UpsampleConvCuda|CudnnPrime|FusedExecutor|PublishedOutput.*Cuda|Tiling.*Cuda|MemoryPlanCuda|GpuPath|GpuGeometry|Nvdec|KernelsCuda|FileCancel|WarmUp') > "$out/ctest.log" 2>&1
say "ctest rc=$? $(grep -E 'tests passed|tests failed' "$out/ctest.log")"
grep -E "\*\*\*Failed|\(Failed\)|Timeout|Skipped\)" "$out/ctest.log" | head -20 | tee -a "$log"
say "done"
