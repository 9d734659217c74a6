#!/usr/bin/env bash
# Where an end-to-end job's start-up goes (issue #5: whole job against model only): the
# issue #5 clip through thick x4 with --stats and --log-level debug, three times, the
# set-up steps and the debug timings (cuDNN handle, memory measurement runs, first batches)
# pulled out of each log; then model only at the clip's size. Builds in /tmp/b (a warm
# machine keeps it). Logs under $OUT.
#   usage (on the CUDA machine, repo root, carrying .gpu-kit, .gpu-carry, .cudnn-headers):
#   scripts/gpu/startup.sh [extra ctest regex]
#   env: STARTUP_ENVS="A=1 A=0": an A/B of environment settings, one run of each in turn
#        (ROUNDS rounds, default 2) instead of three runs of the defaults; "A=1,B=0" sets two.
#        PRIME=1: one run of the defaults first, reported but not part of the comparison (the
#        first job after a build pays one-off costs, e.g. cuDNN's first load from disk, and
#        it fills the caches that later runs read).
#        BENCH_ENVS="A=1 A=0": model only once per setting (default: the defaults only).
#        CTEST_REGEX: the tests to run instead of the executor's and the extra ones.
#        ECHO=1: also ../shared/media's echo-hereweare.webm (carried in .gpu-carry) once, --stats;
#        ECHO_ENVS="A=1 A=0" and ECHO_ROUNDS=N: once per setting, N rounds.
set -uo pipefail
extra_tests=${1:-}
source scripts/gpu/summary.sh
carry=$PWD/.gpu-carry
source scripts/gpu/lib.sh
gpu_build_or_stop "$out/build.log" upscaled test_model_tfjs bench_model_throughput test_channel_epilogue test_cudnn_prime kernels_test \
  test_shuffle_conv test_cli_file model_formats_test core_unit_tests test_dense_conv test_cudnn_graph_plan
thick=$carry/upscalerjs-esrgan-thick-1.0.0/package/models
gpu_bench_clip
runs=()
if [[ -n ${STARTUP_ENVS:-} ]]; then
  for round in $(seq "${ROUNDS:-2}"); do for e in $STARTUP_ENVS; do runs+=("$round:$e"); done; done
else
  runs=(1:default 2:default 3:default)
fi
[[ ${PRIME:-0} == 1 ]] && runs=("0:default" "${runs[@]}")
for r in "${runs[@]}"; do
  run=${r%%:*} setting=${r#*:}
  e2e=$out/e2e-$run-${setting//[^A-Za-z0-9_]/_}.txt
  [[ $setting == default ]] && setting=UPSCALED_STARTUP_DEFAULTS=1
  gpu_e2e_job "$e2e" /tmp/b/app/upscaled "$setting"
  gpu_e2e_report "$run $setting" "$e2e" "library prefetch|main entered|command done|job returned|job released|startup check took|GPU warm-up|primed for|primed [0-9]+ shapes|: on cuda|first call at|loaded RRDN|handle created|measured in|measured by|first run at|infer: batch|GPU batches of|Reinit context.*cuda|reserved on|decode: first frame|decode: NVDEC|frame operations|kernels of|kernels load|encode: first frame sent|encode: flushed|postprocess: first batch|wrote "
done
if [[ ${ECHO:-0} == 1 ]]; then  # issue #5's second clip with the defaults, or per ECHO_ENVS setting
  for round in $(seq "${ECHO_ROUNDS:-1}"); do for setting in ${ECHO_ENVS:-UPSCALED_STARTUP_DEFAULTS=1}; do
    echo_log=$out/echo-$round-${setting//[^A-Za-z0-9_]/_}.txt
    # shellcheck disable=SC2086 # a setting may hold several A=B pairs, comma-separated
    env ${setting//,/ } timeout 60 /tmp/b/app/upscaled file "$carry/echo-hereweare.webm" -o /tmp/echo-up.mkv \
      -m "$thick/x4/model.json" -s 4 --preset veryfast --overwrite --stats --no-progress > "$echo_log" 2>&1
    say "echo $round $setting rc=$?: $(grep -E 'fps end to end' "$echo_log" | tail -1) / $(grep -E '^steady state' "$echo_log" | tail -1)"
  done; done
fi
for setting in ${BENCH_ENVS:-UPSCALED_STARTUP_DEFAULTS=1}; do
  gpu_model_only "$setting"
done
export UPSCALED_TEST_MODELS_DIR=$carry
(cd /tmp/b && ctest -j4 --timeout 200 --output-on-failure \
  -R "${CTEST_REGEX:-FusedExecutor|ChannelEpilogueCuda${extra_tests:+|$extra_tests}}") > "$out/ctest.log" 2>&1
say "ctest rc=$? $(grep -E 'tests passed|tests failed' "$out/ctest.log")"
grep -E "\*\*\*Failed|\(Failed\)|Timeout" "$out/ctest.log" | head -20 | tee -a "$log"
grep -E " vs eager" /tmp/b/Testing/Temporary/LastTest.log | sed -E 's#/[^ ]*/model.json#MODEL#g; s#/work/main/[^ :]*##g' |
  cut -c1-200 >> "$log"
say "done"
