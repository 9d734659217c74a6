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

# gpu_model_only SETTING: model only (bench_model_throughput, thick x4 fp16 from $thick) at
# 640x360 batch 4 and 1280x720 batch 1 under SETTING (A=B pairs, comma-separated), one line
# each to the summary. Needs say's $log (scripts/gpu/summary.sh).
gpu_model_only() {
  local setting=$1 cfg
  for cfg in "4 640x360" "1 1280x720"; do
    set -- $cfg
    # shellcheck disable=SC2086 # a setting may hold several A=B pairs, comma-separated
    env ${setting//,/ } timeout 60 /tmp/b/bench/bench_model_throughput --model "$thick" --scale 4 --device cuda \
      --precision fp16 --batch "$1" --sizes "$2" --warmup 3 --iterations 10 2>&1 | grep -m1 -E "^$2" |
      sed "s/^/model only $setting batch $1: /" | tee -a "$log"
  done
}

# gpu_bench_clip: /tmp/bench360.mp4, 640x360 30 fps, 300 frames of H.264 + AAC.
gpu_bench_clip() {
  [[ -f /tmp/bench360.mp4 ]] || ffmpeg -v error -y -f lavfi -i testsrc2=size=640x360:rate=30 \
    -f lavfi -i sine=frequency=440 -frames:v 300 -t 10 -c:v libx264 -preset veryfast -c:a aac /tmp/bench360.mp4
}

# gpu_e2e_job FILE BIN SETTING: the issue #5 clip through thick x4 ($thick) with --stats and
# --log-level debug, under SETTING (A=B pairs, comma-separated), output to FILE; sets e2e_rc and
# e2e_wall (the process's wall time, s).
gpu_e2e_job() {
  local file=$1 bin=$2 setting=$3 started
  # DROP_CACHES=1 in a setting: the job starts with an empty page cache (the first job after a
  # boot or an install reads the libraries from disk). Needs root; says so when it fails.
  if [[ $setting == *DROP_CACHES=1* ]]; then
    sync
    echo 3 2>/dev/null > /proc/sys/vm/drop_caches || echo "DROP_CACHES: cannot write /proc/sys/vm/drop_caches" >&2
  fi
  started=$(date +%s%N)
  # shellcheck disable=SC2086 # a setting may hold several A=B pairs, comma-separated
  env ${setting//,/ } timeout 60 "$bin" --log-level debug file /tmp/bench360.mp4 -o /tmp/o.mp4 \
    -m "$thick/x4/model.json" -s 4 --preset veryfast --overwrite --stats --no-progress > "$file" 2>&1
  e2e_rc=$?
  e2e_wall=$(awk -v a="$started" -v b="$(date +%s%N)" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
}

# gpu_e2e_report LABEL FILE PATTERN: the job's rates, start-up line and the debug lines that
# match PATTERN, into the summary (needs say and $log, scripts/gpu/summary.sh).
gpu_e2e_report() {
  local label=$1 file=$2 pattern=$3
  say "e2e $label rc=$e2e_rc: $(grep -E 'fps end to end' "$file" | tail -1) / $(grep -E '^steady state' "$file" |
    tail -1) / process wall $e2e_wall s"
  grep -E "^start-up" "$file" | tee -a "$log"
  grep -E "$pattern" "$file" | cut -c12-400 | sed -E 's#/[^ ]*/model.json#MODEL#g' | cut -c1-260 | tee -a "$log"
}
