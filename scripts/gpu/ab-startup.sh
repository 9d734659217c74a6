#!/usr/bin/env bash
# Before/after of the whole job's start-up (issue #5): the working tree and another checkout
# (a `git archive` of the commit to compare, unpacked into an ignored folder and carried),
# both built, then the issue #5 clip through thick x4 with --stats and --log-level debug,
# the two binaries alternating for ROUNDS rounds (default 3) after one unreported run of
# each (the first job after a build pays one-off costs). Then model only once and the GPU
# tests named by the regex. Logs under $OUT.
#   usage (on the CUDA machine, repo root, carrying .gpu-kit, .gpu-carry, .cudnn-headers and
#   the base folder): scripts/gpu/ab-startup.sh BASE_DIR [ctest regex]
#   env: NEW_ENVS="A=1 B=0": the working tree's build once per setting each round, after the
#        base (default: once, as it is); "A=1,B=0" sets two. BASE_ENVS: the same for the base.
#        ECHO=1: also the real clip (.gpu-carry/echo-hereweare.webm) through the new build.
#   make the base here: mkdir .kbase && git archive COMMIT | tar -x -C .kbase
set -uo pipefail
base=$1
tests=${2:-}
source scripts/gpu/summary.sh
carry=$PWD/.gpu-carry
source scripts/gpu/lib.sh
gpu_build_or_stop "$out/build.log" upscaled bench_model_throughput test_cli_file test_cudnn_prime model_formats_test test_model_tfjs test_shuffle_conv
tp=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
# shellcheck disable=SC2086 # CUDNN_CMAKE_ARGS holds several arguments
(cmake -S "$base" -B /tmp/b0 -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 $CUDNN_CMAKE_ARGS \
  -DCMAKE_PREFIX_PATH="$CMAKE_PREFIX_PATH;$tp" && cmake --build /tmp/b0 -j"$(nproc)" --target upscaled) \
  > "$out/build-base.log" 2>&1 || { say "base build failed"; tail -20 "$out/build-base.log" | tee -a "$log"; exit 1; }
say "both built"
thick=$carry/upscalerjs-esrgan-thick-1.0.0/package/models
gpu_bench_clip
sides=()
for e in ${BASE_ENVS:-UPSCALED_AB_DEFAULTS=1}; do sides+=("base:$e"); done
for e in ${NEW_ENVS:-UPSCALED_AB_DEFAULTS=1}; do sides+=("new:$e"); done
for round in 0 $(seq "${ROUNDS:-3}"); do
  for side in "${sides[@]}"; do
    bin=/tmp/b/app/upscaled setting=${side#*:}
    [[ $side == base:* ]] && bin=/tmp/b0/app/upscaled
    e2e=$out/e2e-$round-${side//[^A-Za-z0-9_]/_}.txt
    gpu_e2e_job "$e2e" "$bin" "$setting"
    [[ $round == 0 ]] && continue
    gpu_e2e_report "$round $side" "$e2e" "GPU warm-up steps|loaded RRDN|: on cuda|primed for|primed [0-9]+ shapes|first call at|first run at [0-9]x360|infer: batch 1|GPU batches of|reserved on|decode: first frame"
  done
done
timeout 60 /tmp/b/bench/bench_model_throughput --model "$thick" --scale 4 --device cuda --precision fp16 --batch 4 \
  --sizes 640x360 --warmup 3 --iterations 10 2>&1 | grep -m1 -E "^640x360" | sed "s/^/model only batch 4: /" | tee -a "$log"
if [[ ${ECHO:-0} == 1 ]]; then  # the real clip through the working tree's build, as issue #5 asks
  timeout 60 /tmp/b/app/upscaled file "$carry/echo-hereweare.webm" -o /tmp/echo-up.mkv -m "$thick/x4/model.json" \
    -s 4 --preset veryfast --overwrite --stats --no-progress > "$out/echo.txt" 2>&1
  say "echo clip rc=$?: $(grep -E 'fps end to end' "$out/echo.txt" | tail -1) / $(grep -E '^steady state' "$out/echo.txt")"
  grep -E "^(stage|infer|encode|decode) " "$out/echo.txt" | tee -a "$log"
fi
if [[ -n $tests ]]; then
  export UPSCALED_TEST_MODELS_DIR=$carry
  (cd /tmp/b && ctest -j4 --timeout 200 --output-on-failure -R "$tests") > "$out/ctest.log" 2>&1
  say "ctest rc=$? $(grep -E 'tests passed|tests failed' "$out/ctest.log")"
  grep -E "\*\*\*Failed|\(Failed\)|Timeout" "$out/ctest.log" | head -20 | tee -a "$log"
fi
say "done"
