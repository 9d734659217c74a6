#!/usr/bin/env bash
# The esrgan-thick scales that do not fit in final-check's carry
# (x2 and x3 together, x8 alone: 28-29 MB each against 64 MiB a call), then a kernel-time
# profile of the executor at 1280x720 when nsys is installed. Builds /tmp/b when it is not
# there; a second call on a machine still warm from the first reuses it (and the .gpu-kit
# carried then), so that call can carry models alone. Logs under $OUT.
#   usage: scripts/gpu/thick-scales.sh CARRY_DIR [profile]
#   CARRY_DIR: a folder holding upscalerjs-esrgan-thick-1.0.0/package with some scales
set -uo pipefail
carry=$(realpath "$1")
out=${OUT:-$PWD/gpu-results}
mkdir -p "$out"
log=$out/summary.txt
t0=$(date +%s)
say() { echo "== [$(($(date +%s) - t0)) s] $*" | tee -a "$log"; }
if [[ ! -f .gpu-kit/activate.sh ]]; then say "no .gpu-kit here: carry it (or run on a machine still warm from a call that did)"; exit 3; fi
source .gpu-kit/activate.sh
source scripts/gpu/cudnn-env.sh
if [[ ! -f /tmp/b/build.ninja ]]; then
  tp=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
  cmake -S . -B /tmp/b -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 $CUDNN_CMAKE_ARGS \
    -DCMAKE_PREFIX_PATH="$CMAKE_PREFIX_PATH;$tp" > "$out/configure.log" 2>&1
fi
cmake --build /tmp/b -j16 --target test_channel_epilogue test_model_tfjs bench_model_throughput > "$out/build.log" 2>&1
say "build rc=$? ($(ls "$carry"/upscalerjs-esrgan-thick-1.0.0/package/models | tr '\n' ' '))"
(cd /tmp/b && ./tests/model_cudnn/test_channel_epilogue --gtest_repeat=3 2>&1 | tail -3) | tee -a "$log"
export UPSCALED_TEST_MODELS_DIR=$carry
(cd /tmp/b && ctest -j4 --timeout 300 --output-on-failure -R 'Cuda.*thick|FusedExecutor.*thick') > "$out/ctest.log" 2>&1
say "ctest rc=$? $(grep -E 'tests passed|tests failed' "$out/ctest.log")"
grep -E "Test +#.*(Passed|Failed|Skipped)" "$out/ctest.log" | sed -E 's/ +/ /g' | tee -a "$log"
grep -E "PSNR|dB" "$out/ctest.log" | head -20 >> "$log"
if [[ ${2:-} == profile ]]; then
  nsys=$(command -v nsys || ls /usr/local/cuda/bin/nsys /opt/nvidia/nsight-systems/*/bin/nsys 2>/dev/null | head -1)
  if [[ -z $nsys ]]; then say "nsys not installed: no profile"; exit 0; fi
  thick=$carry/upscalerjs-esrgan-thick-1.0.0/package/models
  scale=$(ls "$thick" | head -1 | tr -d x)
  "$nsys" profile -o /tmp/prof --force-overwrite true -t cuda /tmp/b/bench/bench_model_throughput --model "$thick" \
    --scale "$scale" --device cuda --precision fp16 --batch 1 --sizes 1280x720 --warmup 2 --iterations 5 > "$out/nsys.log" 2>&1
  "$nsys" stats --report cuda_gpu_kern_sum --format csv /tmp/prof.nsys-rep > "$out/kernels.csv" 2>>"$out/nsys.log"
  say "profile (thick x$scale, 1280x720, batch 1) rc=$?; top kernels:"
  head -12 "$out/kernels.csv" | cut -c1-220 | tee -a "$log"
fi
