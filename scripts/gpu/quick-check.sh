#!/usr/bin/env bash
# A short GPU check after a small change: builds upscaled and test_cli_file, runs the issue #5
# clip three times (the 64x64 first run twice: measured, then after a cache hit; then the
# defaults) and the GpuPath tests. Logs under $OUT.
#   usage (on the CUDA machine, repo root, carrying .gpu-kit, .gpu-carry, .cudnn-headers):
#   bash scripts/gpu/quick-check.sh
set -uo pipefail
source scripts/gpu/summary.sh; carry=$PWD/.gpu-carry; source scripts/gpu/lib.sh
gpu_build_or_stop "$out/build.log" upscaled test_cli_file
thick=$carry/upscalerjs-esrgan-thick-1.0.0/package/models; gpu_bench_clip
for s in UPSCALED_FIRST_RUN=small UPSCALED_FIRST_RUN=small UPSCALED_STARTUP_DEFAULTS=1; do gpu_e2e_job $out/e.txt /tmp/b/app/upscaled $s; say "$s rc=$e2e_rc $(grep -E 'fps end to end' $out/e.txt) / $(grep -oE 'first run \(64x64\) beside[^)]*|primed for [^ ]*' $out/e.txt | head -1) / $(grep -oE 'first frame [0-9.]+ s' $out/e.txt)"; done
export UPSCALED_TEST_MODELS_DIR=$carry; (cd /tmp/b && ctest -j4 --timeout 120 -R GpuPath) > $out/ctest.log 2>&1; say "ctest rc=$? $(grep -E 'tests passed|tests failed' $out/ctest.log)"
