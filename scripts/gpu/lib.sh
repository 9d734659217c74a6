# Sourced by the scripts in scripts/gpu (on the CUDA machine, repo root): the GPU kit's
# environment and cuDNN, one configure of the Release build in /tmp/b, and the benchmark clip
# of issue #5. Each function writes its output to the log file it is given.
source .gpu-kit/activate.sh
source scripts/gpu/cudnn-env.sh

# gpu_configure LOG: CMake for /tmp/b (Ninja, Release, sm_90, libtorch from the kit's python,
# cuDNN as cudnn-env.sh found it). Re-running it on a warm machine keeps the build.
gpu_configure() {
  local tp
  tp=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
  # shellcheck disable=SC2086 # CUDNN_CMAKE_ARGS holds several arguments
  cmake -S . -B /tmp/b -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 $CUDNN_CMAKE_ARGS \
    -DCMAKE_PREFIX_PATH="$CMAKE_PREFIX_PATH;$tp" > "$1" 2>&1
}

# gpu_build LOG TARGET...: configure, then build the targets with every core.
gpu_build() {
  local log=$1
  shift
  gpu_configure "$log" && cmake --build /tmp/b -j"$(nproc)" --target "$@" >> "$log" 2>&1
}

# gpu_build_or_stop LOG TARGET...: gpu_build, then say the result (and whether the cuDNN
# executor is in the build); on failure the first errors go to the summary and the script
# exits. Needs say and $log (scripts/gpu/summary.sh).
gpu_build_or_stop() {
  local build_log=$1 rc
  gpu_build "$@"
  rc=$?
  say "build rc=$rc; $(grep -E 'cuDNN executor' "$build_log")"
  if [[ $rc -ne 0 ]]; then
    grep -E "error|FAILED" "$build_log" | head -30 | tee -a "$log"
    exit 1
  fi
}

# gpu_bench_clip: /tmp/bench360.mp4, 640x360 30 fps, 300 frames of H.264 + AAC.
gpu_bench_clip() {
  [[ -f /tmp/bench360.mp4 ]] || ffmpeg -v error -y -f lavfi -i testsrc2=size=640x360:rate=30 \
    -f lavfi -i sine=frequency=440 -frames:v 300 -t 10 -c:v libx264 -preset veryfast -c:a aac /tmp/bench360.mp4
}
