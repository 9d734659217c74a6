#!/usr/bin/env bash
# The network executor on the CUDA machine in one short call: builds only the model targets,
# runs the CUDA network tests (fused executor vs eager, published outputs, tiling, memory
# plan) and the model-only benchmark with the eager and the fused executor side by side, then
# the cuDNN dense-block experiment. Logs under $OUT.
#   usage (on the CUDA machine, repo root): scripts/gpu/network-check.sh [CTEST_REGEX]
#   needs: .gpu-kit and .gpu-carry (as verify.sh); cuDNN's headers come from pip's
#          nvidia-cudnn package beside torch, or from .cudnn-headers if it lacks them.
set -uo pipefail
regex=${1:-"FusedExecutor|PublishedOutput.*Cuda|Tiling.*Cuda|MemoryPlanCuda"}
out=${OUT:-$PWD/gpu-results}
mkdir -p "$out"
source .gpu-kit/activate.sh
source scripts/gpu/cudnn-env.sh
tp=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
t0=$(date +%s)
cmake -S . -B /tmp/bn -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 $CUDNN_CMAKE_ARGS \
  -DCMAKE_PREFIX_PATH="$CMAKE_PREFIX_PATH;$tp" > "$out/build.log" 2>&1 &&
  cmake --build /tmp/bn -j16 --target test_model_tfjs bench_model_throughput bench_cudnn_dense >> "$out/build.log" 2>&1 ||
  { grep -E "error|FAILED" "$out/build.log" | head -30; }
grep -E "cuDNN executor" "$out/build.log"
echo "build $(( $(date +%s) - t0 )) s"
export UPSCALED_TEST_MODELS_DIR=$PWD/.gpu-carry
thick=$PWD/.gpu-carry/upscalerjs-esrgan-thick-1.0.0/package/models
for ex in eager fused; do
  echo "--- model only, executor $ex"
  UPSCALED_NETWORK_EXECUTOR=$ex /tmp/bn/bench/bench_model_throughput --model "$thick" --scale 4 --device cuda \
    --precision fp16 --sizes 640x360,1280x720 --warmup 3 --iterations 15 2>&1 | tail -4
done | tee "$out/bench.txt"
(cd /tmp/bn && ctest -j4 --output-on-failure -R "$regex") > "$out/ctest.log" 2>&1
grep -E "tests passed|tests failed|\*\*\*Failed|Skipped\)" "$out/ctest.log" | head -20
grep -hE "fused vs eager|CUDA fp16: PSNR" /tmp/bn/Testing/Temporary/LastTest.log | head -20 | tee "$out/psnr.txt"
/tmp/bn/bench/bench_cudnn_dense --graph > "$out/cudnn_dense.txt" 2>&1
grep -vE "^  n" "$out/cudnn_dense.txt" | head -30
