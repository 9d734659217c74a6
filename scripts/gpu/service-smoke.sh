#!/usr/bin/env bash
# The watch-folder service on the GPU machine: one GPU listed (gpus = [0]) with two jobs at
# once sharing its memory through the ledger; six clips dropped in; every output must come
# out, each job must have run on cuda:0 and reserved its share.
#   usage: scripts/gpu/service-smoke.sh UPSCALED_BINARY MODEL_JSON   (writes to stdout)
set -uo pipefail
bin=$1
model=$2
work=$(mktemp -d /tmp/service-smoke.XXXXXX)
mkdir -p "$work"/{in,out,failed,done,state}
cat > "$work/upscaled.toml" <<TOML
[service]
state_dir = "$work/state"
settle_seconds = 0.5
gpus = [0]
jobs_per_gpu = 2
gpu_memory_mb = 4096
[[watch]]
input = "$work/in"
output = "$work/out"
failed_dir = "$work/failed"
on_done = "move"
done_dir = "$work/done"
model = "$model"
scale = 4
preset = "veryfast"
TOML
"$bin" serve --config "$work/upscaled.toml" > "$work/serve.log" 2>&1 &
pid=$!
for i in 1 2 3 4 5 6; do
  # Different lengths: the journal skips a file whose content it has already processed.
  ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=320x180:rate=25" -frames:v $((20 + i)) -c:v libx264 \
    "$work/clip$i.mp4"
  mv "$work/clip$i.mp4" "$work/in/"
done
for _ in $(seq 1 240); do
  [[ $(ls "$work/out" | grep -c '^clip') -ge 6 ]] && break
  sleep 0.5
done
kill -TERM $pid
wait $pid
echo "serve exit code: $?"
echo "outputs: $(ls "$work/out" | grep -c '^clip') of 6; failed: $(ls "$work/failed" | wc -l)"
for f in "$work"/out/clip*; do
  echo "$(basename "$f"): $(ffprobe -v error -select_streams v -count_frames -show_entries stream=width,height,nb_read_frames -of csv=p=0 "$f")"
done
"$bin" status --config "$work/upscaled.toml" 2>&1 | head -20
echo "--- serve log (device and memory lines)"
grep -E "cuda|GPU memory|reserved|error|warn" "$work/serve.log" | head -30
