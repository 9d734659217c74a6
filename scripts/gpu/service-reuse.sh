#!/usr/bin/env bash
# Models kept loaded between the service's jobs ([service] keep_models): the same six
# 640x360 30 fps clips (FRAMES + 1 .. FRAMES + 6 frames, default 60; with AUDIO=1 an AAC
# track as the issue #5 clip has) through `upscaled serve` on one GPU, one job at a time,
# with keep_models = true and = false in turn; per job the pipeline's own line (frames,
# seconds, first frame after, whether the model was kept loaded), and the wall time from the
# first file dropped to the last output.
#   usage: scripts/gpu/service-reuse.sh UPSCALED_BINARY MODEL_JSON [ROUNDS]   (to stdout)
#   env: GPUS="[]" on a machine without one (a dry run of the script itself); STATE_DIR: one
#        state folder for every service start (its memory-cost file then carries over, so
#        only the first start measures the model; the journal stays per start), else a fresh
#        one per start
set -uo pipefail
bin=$1
model=$2
rounds=${3:-1}
clips=$(mktemp -d /tmp/service-reuse-clips.XXXXXX)
for i in 1 2 3 4 5 6; do
  # Different lengths: the journal skips a file whose content it has already processed.
  n=$((${FRAMES:-60} - 2 + i))
  if [[ ${AUDIO:-0} == 1 ]]; then
    ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=640x360:rate=30" -f lavfi -i sine=frequency=440 \
      -frames:v $n -t "$(awk -v n=$n 'BEGIN { print n / 30 }')" -c:v libx264 -preset veryfast -c:a aac "$clips/clip$i.mp4"
  else
    ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=640x360:rate=30" -frames:v $n -c:v libx264 \
      -preset veryfast "$clips/clip$i.mp4"
  fi
done
run_once() {
  local keep=$1 work
  work=$(mktemp -d /tmp/service-reuse.XXXXXX)
  mkdir -p "$work"/{in,out,failed,state}
  cat > "$work/upscaled.toml" <<TOML
[service]
state_dir = "${STATE_DIR:-$work/state}"
journal = "$work/state/journal.sqlite3"
settle_seconds = 0.2
gpus = ${GPUS:-[0]}
jobs_per_gpu = 1
keep_models = $keep
[[watch]]
input = "$work/in"
output = "$work/out"
failed_dir = "$work/failed"
model = "$model"
scale = 4
preset = "veryfast"
TOML
  "$bin" serve --config "$work/upscaled.toml" > "$work/serve.log" 2>&1 &
  local pid=$! start end
  sleep 2  # the service's own start-up (startup check, journal) is not a job's
  start=$(date +%s.%N)
  cp "$clips"/clip*.mp4 "$work/in/"
  for _ in $(seq 1 2400); do
    [[ $(ls "$work/out" | grep -c '^clip') -ge 6 ]] && break
    sleep 0.05
  done
  end=$(date +%s.%N)
  kill -TERM $pid
  wait $pid
  echo "keep_models=$keep: $(ls "$work/out" | grep -c '^clip') of 6 outputs, $(ls "$work/failed" | wc -l) failed;" \
    "first drop to last output $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }') s"
  grep -E "frames in .* s, first frame after" "$work/serve.log" | sed -E 's/^.{24}//; s#/tmp/service-reuse[^/]*/in/##'
  rm -rf "$work"
}
for _ in $(seq "$rounds"); do
  run_once true
  run_once false
done
