#!/usr/bin/env bash
# One device call for the staged GPU upscale path (issue #5): build the app, the CLI tests and
# the model benchmark; end to end 640x360 -> 2560x1440 (esrgan-thick x4 fp16, --stats) with
# the defaults, batch 2, two batches per queue, --decode cpu, model-only fps in the same call, the real
# clip, then the GPU tests in the time left. Logs under $OUT.
#   usage (on the CUDA machine): scripts/gpu/pipeline-stages.sh KIT CARRY [BUDGET_S]
#   KIT, CARRY: the .gpu-kit and .gpu-carry folders (see verify.sh)
set -uo pipefail
kit=${1:?usage: pipeline-stages.sh KIT CARRY [BUDGET_S]}
carry=$(cd "${2:?usage: pipeline-stages.sh KIT CARRY [BUDGET_S]}" && pwd)
budget=${3:-300}
out=${OUT:-$PWD/gpu-results}
mkdir -p "$out"
t0=$(date +%s)
left() { echo $((budget - ($(date +%s) - t0))); }
log=$out/summary.txt
say() { echo "== [$(($(date +%s) - t0)) s] $*" | tee -a "$log"; }

source "$kit/activate.sh"
tp=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
say "machine: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader) / $(nproc) cores"
cmake -S . -B /tmp/b -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DCMAKE_PREFIX_PATH="$CMAKE_PREFIX_PATH;$tp" > "$out/build.log" 2>&1 &&
  cmake --build /tmp/b -j16 --target upscaled test_cli_file bench_model_throughput >> "$out/build.log" 2>&1
rc=$?
say "build rc=$rc"
if [[ $rc -ne 0 ]]; then grep -E "error|FAILED" "$out/build.log" | head -30 | tee -a "$log"; exit 1; fi
bin=/tmp/b/app/upscaled
thick=$carry/upscalerjs-esrgan-thick-1.0.0/package/models
e2e=$out/e2e.txt

ffmpeg -v error -y -f lavfi -i testsrc2=size=640x360:rate=30 -f lavfi -i sine=frequency=440 -frames:v 300 -t 10 \
  -c:v libx264 -preset veryfast -c:a aac /tmp/bench360.mp4
job() {  # label, extra args...
  local label=$1
  shift
  echo "--- $label" >> "$e2e"
  timeout 60 $bin file /tmp/bench360.mp4 -o /tmp/o.mp4 -m "$thick/x4/model.json" -s 4 --preset veryfast \
    --overwrite --stats --no-progress "$@" >> "$e2e" 2>&1
  echo "rc=$?" >> "$e2e"
  say "$label: $(grep -E 'fps end to end' "$e2e" | tail -1) / $(grep -E '^steady state' "$e2e" | tail -1)"
}
job "e2e default batch and --batch-queue, --decode auto"
job "e2e --batch 2" --batch 2
job "e2e --batch-queue 2" --batch-queue 2
job "e2e --decode cpu" --decode cpu
grep -E "^(stage|demux|decode|preprocess|infer|postprocess|encode|mux|bottleneck)" "$e2e" | head -12 >> "$log"

say "model only"
for b in 4 2 1; do
  timeout 40 /tmp/b/bench/bench_model_throughput --model "$thick" --scale 4 --device cuda --precision fp16 \
    --batch $b --sizes 640x360 --warmup 3 --iterations 10 2>&1 | grep -E "^640x360" | sed "s/^/batch $b: /" | tee -a "$log"
done

echo "--- echo-hereweare.webm -> 1920x1080" >> "$e2e"
timeout 40 $bin file "$carry/echo-hereweare.webm" -o /tmp/echo-up.mkv -m "$thick/x4/model.json" -s 4 \
  --preset veryfast --overwrite --stats --no-progress >> "$e2e" 2>&1
echo "rc=$?" >> "$e2e"
say "echo: $(grep -E 'fps end to end' "$e2e" | tail -1) / $(grep -E '^steady state' "$e2e" | tail -1)"

say "GPU tests ($(left) s left)"
export UPSCALED_TEST_MODELS_DIR=$carry
(cd /tmp/b && timeout $(($(left) - 5)) ctest -j6 --timeout 120 --output-on-failure \
  -R 'GpuPath|GpuGeometry|Nvdec|HwCodec') > "$out/ctest.log" 2>&1
say "ctest rc=$? $(grep -E 'tests passed|tests failed' "$out/ctest.log")"
grep -E "\*\*\*Failed|\(Failed\)|Timeout" "$out/ctest.log" | head -20 | tee -a "$log"
