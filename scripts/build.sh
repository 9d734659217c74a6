#!/usr/bin/env bash
# Configures and builds upscaled into BUILD_DIR (default: build). CUDA is used when a
# toolkit is found; libtorch from Torch_DIR/CMAKE_PREFIX_PATH, python3's torch, or Debian's.
#   usage: scripts/build.sh [extra cmake args...]
#   env:   BUILD_DIR, BUILD_TYPE (Release), JOBS (nproc)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build_dir=${BUILD_DIR:-build}
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" "$@"
else
  cmake -S . -B "$build_dir" "$@" >/dev/null
fi
cmake --build "$build_dir" -j"${JOBS:-$(nproc)}"
