#!/usr/bin/env bash
# The GPU machine's verification run, in one call: build with CUDA and libtorch, run the
# whole test suite (CUDA tests included), doctor, the kernel and model benchmarks and the
# end-to-end benchmark. Results go to $OUT (at most 8 files, as the device tool returns).
#   usage (on the CUDA machine, repo root): scripts/gpu/verify.sh
#   needs: .gpu-kit (../shared/gpu-kit/stage.sh .gpu-kit) and .gpu-carry with the UpscalerJS
#          packages' models/assets and echo-hereweare.webm (scripts/gpu/stage-carry.sh).
set -uo pipefail
root=$PWD
out=${OUT:-$root/gpu-results}
mkdir -p "$out"
carry=$root/.gpu-carry
build=/tmp/build-gpu
summary=$out/summary.txt
say() { echo "== $*" | tee -a "$summary"; }

source .gpu-kit/activate.sh
source scripts/gpu/cudnn-env.sh
torch_prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
say "machine: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader) / $(nproc) cores"
t0=$(date +%s)
cmake -S . -B $build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 $CUDNN_CMAKE_ARGS \
  -DCMAKE_PREFIX_PATH="$CMAKE_PREFIX_PATH;$torch_prefix" > "$out/build.log" 2>&1 &&
  cmake --build $build -j16 -- -k 0 >> "$out/build.log" 2>&1
rc=$?
say "build rc=$rc in $(( $(date +%s) - t0 )) s; $(grep -E 'cuDNN executor' "$out/build.log")"
if [[ $rc -ne 0 ]]; then grep -E "error|FAILED" "$out/build.log" | head -40 | tee -a "$summary"; fi
[[ -x $build/app/upscaled ]] || exit 1
bin=$build/app/upscaled

export UPSCALED_TEST_MODELS_DIR=$carry UPSCALED_TEST_MEDIA=$carry
say "doctor"
$bin doctor > "$out/doctor.txt" 2>&1; echo "rc=$?" >> "$out/doctor.txt"
$bin doctor --json >> "$out/doctor.txt" 2>&1
echo "--- CUDA_VISIBLE_DEVICES= (hidden GPU)" >> "$out/doctor.txt"
CUDA_VISIBLE_DEVICES= $bin doctor >> "$out/doctor.txt" 2>&1; echo "rc=$?" >> "$out/doctor.txt"
CUDA_VISIBLE_DEVICES= $bin doctor --require-gpu >> "$out/doctor.txt" 2>&1; echo "require-gpu rc=$?" >> "$out/doctor.txt"

say "benchmarks"
{
  $build/bench/bench_kernels --gpu --runs 20
  thick=$carry/upscalerjs-esrgan-thick-1.0.0/package/models
  for ex in eager fused; do
    echo "--- executor $ex"
    UPSCALED_NETWORK_EXECUTOR=$ex $build/bench/bench_model_throughput --model "$thick" --scale 4 --device cuda \
      --precision fp16 --sizes 640x360,1280x720 --warmup 3 --iterations 15
  done
} > "$out/bench.txt" 2>&1

say "end to end"
thick_x4=$carry/upscalerjs-esrgan-thick-1.0.0/package/models/x4/model.json
{
  ffmpeg -v error -y -f lavfi -i testsrc2=size=640x360:rate=30 -f lavfi -i sine=frequency=440 -frames:v 300 -t 10 \
    -c:v libx264 -preset veryfast -c:a aac /tmp/bench360.mp4
  for decode in auto cpu; do
    echo "--- --decode $decode: 640x360 300 frames, esrgan-thick x4 fp16 -> 2560x1440 libx264 veryfast"
    $bin file /tmp/bench360.mp4 -o /tmp/bench-out.mp4 -m "$thick_x4" -s 4 --preset veryfast --decode $decode \
      --overwrite --stats --no-progress
  done
  echo "--- echo-hereweare.webm, esrgan-thick x4 -> 1920x1080 libx264 veryfast"
  $bin file "$carry/echo-hereweare.webm" -o /tmp/echo-up.mkv -m "$thick_x4" -s 4 --preset veryfast --overwrite --stats --no-progress
  echo "--- GPU path vs CPU path on the same clip (PSNR of the video)"
  ffmpeg -v error -y -f lavfi -i testsrc2=size=96x64:rate=25 -f lavfi -i sine -frames:v 8 -t 0.32 -c:v libx264 -c:a aac /tmp/small.mp4
  slim=$carry/upscalerjs-esrgan-slim-1.0.0/package/models/x2/model.json
  $bin file /tmp/small.mp4 -o /tmp/small-gpu.mkv -m "$slim" -s 2 --crf 0 --overwrite --no-progress
  $bin file /tmp/small.mp4 -o /tmp/small-cpu.mkv -m "$slim" -s 2 --crf 0 --device cpu --overwrite --no-progress
  ffmpeg -v info -i /tmp/small-gpu.mkv -i /tmp/small-cpu.mkv -lavfi psnr -f null - 2>&1 | grep -E "PSNR"
  for f in /tmp/small-gpu.mkv /tmp/small-cpu.mkv; do
    ffprobe -v error -select_streams v -show_entries frame=pts_time -of csv=p=0 $f | md5sum
    ffmpeg -v error -i $f -map 0:a -c copy -f streamhash -hash md5 -
  done
  echo "--- service: gpus = [0], jobs_per_gpu = 2, six clips"
  bash scripts/gpu/service-smoke.sh "$bin" "$carry/upscalerjs-esrgan-slim-1.0.0/package/models/x4/model.json"
} > "$out/e2e.txt" 2>&1

say "tests"
# The call has a 10-minute limit: GPU-relevant tests first, then the rest in what is left.
left() { echo $(( ${VERIFY_BUDGET_S:-560} - ($(date +%s) - t0) )); }
(cd $build && timeout $(left) ctest -j8 --timeout 300 --output-on-failure -R "Cuda|Gpu|Published|Tiling|Doctor|doctor|Tfjs|Pth|Safetensors|Torch|MemoryPlan|Nvdec|HwCodec|GpuGeometry") > "$out/ctest.log" 2>&1
say "gpu-relevant ctest rc=$? $(grep -E 'tests passed|tests failed' "$out/ctest.log")"
(cd $build && timeout $(left) ctest -j8 --timeout 200 --output-on-failure -E "Cuda|Gpu|Published|Tiling|Doctor|doctor|Tfjs|Pth|Safetensors|Torch|MemoryPlan|Nvdec|HwCodec|GpuGeometry") >> "$out/ctest.log" 2>&1
say "other ctest rc=$? $(grep -E 'tests passed|tests failed' "$out/ctest.log" | tail -1)"
grep -E "\*\*\*Failed|Skipped\)|Not Run|Timeout" "$out/ctest.log" | head -60 >> "$summary"
say "total $(( $(date +%s) - t0 )) s"
