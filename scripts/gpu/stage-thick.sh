#!/usr/bin/env bash
# Packs esrgan-thick scales for scripts/gpu/thick-scales.sh into .gpu-thickNN/t.tar.xz (git-ignored):
# each scale's float32 weights are 28-29 MB, and xz at -9e takes about 7% off, which is what lets
# two scales (x2 and x3: 53 MB) travel beside .gpu-kit and .cudnn-headers inside a device call's
# 64 MiB. On the CUDA machine: mkdir -p /tmp/t && tar xJf .gpu-thickNN/t.tar.xz -C /tmp/t &&
# scripts/gpu/thick-scales.sh /tmp/t
#   usage: scripts/gpu/stage-thick.sh SCALE...   (e.g. 2 3, or 8; after scripts/fetch-test-models.sh)
#   env: MODELS=folder holding upscalerjs-esrgan-thick-1.0.0 (default build-test/test-models)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
[[ $# -gt 0 ]] || { echo "usage: $0 SCALE..." >&2; exit 2; }
src=${MODELS:-build-test/test-models}
pkg=upscalerjs-esrgan-thick-1.0.0/package
[[ -d $src/$pkg/models ]] || { echo "$src/$pkg/models: not found (run scripts/fetch-test-models.sh)" >&2; exit 1; }
dst=.gpu-thick$(printf '%s' "$@")
grep -qxF "/$dst/" .git/info/exclude 2>/dev/null || echo "/$dst/" >> .git/info/exclude
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$pkg/models" "$stage/$pkg/assets/samples"
cp "$src/$pkg/package.json" "$stage/$pkg/"
cp "$src/$pkg/assets/fixture.png" "$stage/$pkg/assets/"
for s in "$@"; do
  cp -r "$src/$pkg/models/x$s" "$stage/$pkg/models/"
  [[ -d $src/$pkg/assets/samples/${s}x ]] && cp -r "$src/$pkg/assets/samples/${s}x" "$stage/$pkg/assets/samples/"
done
rm -rf "$dst" && mkdir -p "$dst"
tar -C "$stage" -cf - upscalerjs-esrgan-thick-1.0.0 | xz -9e -T2 > "$dst/t.tar.xz"
du -sb "$dst" .gpu-kit .cudnn-headers 2>/dev/null | awk '{ s += $1; print } END { printf "%d bytes in all (64 MiB = 67108864)\n", s }'
