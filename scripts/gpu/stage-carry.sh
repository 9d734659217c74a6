#!/usr/bin/env bash
# Prepares .gpu-carry (git-ignored) for scripts/gpu/verify.sh on a CUDA machine without
# network: the UpscalerJS packages' models and published samples (esrgan-thick: x4 only, to
# stay inside the 64 MiB a device call carries) and the real clip from ../shared/media.
#   usage: scripts/gpu/stage-carry.sh   (after scripts/fetch-test-models.sh build-test/test-models)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
src=${1:-build-test/test-models}
dst=.gpu-carry
grep -qxF "/$dst/" .git/info/exclude 2>/dev/null || echo "/$dst/" >> .git/info/exclude
rm -rf "$dst" && mkdir -p "$dst"
for s in slim medium; do
  mkdir -p "$dst/upscalerjs-esrgan-$s-1.0.0/package"
  cp -r "$src/upscalerjs-esrgan-$s-1.0.0/package/"{models,assets,package.json} "$dst/upscalerjs-esrgan-$s-1.0.0/package/"
done
t=upscalerjs-esrgan-thick-1.0.0/package
mkdir -p "$dst/$t/models" "$dst/$t/assets/samples"
cp -r "$src/$t/models/x4" "$dst/$t/models/"
cp "$src/$t/assets/fixture.png" "$dst/$t/assets/"
cp -r "$src/$t/assets/samples/4x" "$dst/$t/assets/samples/"
cp "$src/$t/package.json" "$dst/$t/"
cp ../shared/media/echo-hereweare.webm "$dst/"
du -sh "$dst"
