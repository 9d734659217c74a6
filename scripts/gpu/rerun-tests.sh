#!/usr/bin/env bash
# A short follow-up to verify.sh on the CUDA machine: build only the app and the test
# binaries, run the tests matching REGEX and the service smoke test. Logs under $OUT.
#   usage (on the CUDA machine, repo root): scripts/gpu/rerun-tests.sh REGEX
#   needs: .gpu-kit and .gpu-carry, as verify.sh
set -uo pipefail
regex=${1:?usage: rerun-tests.sh REGEX}
out=${OUT:-$PWD/gpu-results}
mkdir -p "$out"
source .gpu-kit/activate.sh
tp=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
t0=$(date +%s)
cmake -S . -B /tmp/b -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DCMAKE_PREFIX_PATH="$CMAKE_PREFIX_PATH;$tp" > "$out/build.log" 2>&1 &&
  cmake --build /tmp/b -j16 --target upscaled test_cli_file test_model_tfjs >> "$out/build.log" 2>&1 ||
  { tail -30 "$out/build.log"; exit 1; }
echo "build $(( $(date +%s) - t0 )) s"
export UPSCALED_TEST_MODELS_DIR=$PWD/.gpu-carry
(cd /tmp/b && ctest -j4 --output-on-failure -R "$regex") > "$out/ctest.log" 2>&1
grep -E "Passed|Failed|tests passed" "$out/ctest.log" | cut -c1-200
bash scripts/gpu/service-smoke.sh /tmp/b/app/upscaled \
  "$PWD/.gpu-carry/upscalerjs-esrgan-slim-1.0.0/package/models/x4/model.json" > "$out/service.txt" 2>&1
head -30 "$out/service.txt" | cut -c1-220
