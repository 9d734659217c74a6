#!/usr/bin/env bash
# One command from a fresh Debian 12 / Ubuntu 24.04 checkout to a passing test suite:
# installs the dependencies, builds with warnings as errors, fetches the UpscalerJS model
# packages the network tests compare against (npm pack, integrity checked) and runs ctest.
# CUDA tests report themselves skipped on a machine without a GPU.
#   usage: scripts/test.sh [ctest args...]
#   env:   BUILD_DIR (build-test), JOBS (nproc), CUDA_ARCHS (90: one architecture keeps the
#          test build short; the kernels are compiled for every listed one)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
export BUILD_DIR=${BUILD_DIR:-build-test}
scripts/build.sh -DUPSCALED_WERROR=ON -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCHS:-90}"
models_dir="$PWD/$BUILD_DIR/test-models"
scripts/fetch-test-models.sh "$models_dir"
export UPSCALED_TEST_MODELS_DIR="$models_dir"
cd "$BUILD_DIR"
ctest --output-on-failure -j"${JOBS:-$(nproc)}" "$@"
