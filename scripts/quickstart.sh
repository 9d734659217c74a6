#!/usr/bin/env bash
# One command from a fresh Debian 12 / Ubuntu 24.04 checkout to an upscaled video:
# installs the dependencies (apt), builds, fetches the default model (npm pack, checksums
# verified) and upscales a sample with it.
#   usage: scripts/quickstart.sh [INPUT [OUTPUT]]
# INPUT defaults to the first 2 s of ../shared/media/echo-hereweare.webm when that exists,
# else to a 2 s clip generated with ffmpeg. The default model runs on the GPU when there is
# one and on the CPU (slowly) otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
scripts/build.sh
bin=${BUILD_DIR:-build}/app/upscaled
"$bin" models fetch "$("$bin" models list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["default_model"])')"
"$bin" doctor || true   # reports what will run where; the job below works either way

mkdir -p out
input=${1:-}
if [[ -z "$input" ]]; then
  input=out/sample.mkv
  if [[ -f ../shared/media/echo-hereweare.webm ]]; then
    ffmpeg -v error -y -i ../shared/media/echo-hereweare.webm -t 2 -map 0 -c copy "$input"
  else
    ffmpeg -v error -y -f lavfi -i testsrc2=size=320x180:rate=25:duration=2 -f lavfi -i sine=duration=2 \
      -c:v libx264 -c:a aac "$input"
  fi
fi
output=${2:-out/$(basename "${input%.*}").upscaled.mkv}
"$bin" file "$input" -o "$output" --overwrite
echo "upscaled: wrote $output"
