#!/usr/bin/env bash
# Fetches the UpscalerJS ESRGAN packages used by tests/model_tfjs with `npm pack`, checks
# each tarball against the sha512 integrity the npm registry published for it (recorded
# below from `npm view @upscalerjs/esrgan-<size>@1.0.0 dist.integrity`), and unpacks it to
# DIR/upscalerjs-esrgan-<size>-1.0.0/package. Then: UPSCALED_TEST_MODELS_DIR=DIR ctest ...
# Usage: scripts/fetch-test-models.sh DIR
set -euo pipefail

dir=${1:?usage: $0 DIR}
mkdir -p "$dir"
cd "$dir"

declare -A integrity=(
  [slim]=sha512-DXtwn5SE71+pZKluN/hGeLaZv6ZylyFQYSvMqU08kKCEA5Y9Q1cIIk4EvPTPZw8VqGi2C6F02c8OjhtId4BK2w==
  [medium]=sha512-Z8JnR87sgetPABKevasXST3FdnXhaoTu9zpXnu3KLaHYpYStVt0FD1VZS9c6jhSGMBC0H929gN9RbWl+MeisKA==
  [thick]=sha512-Xt7LAEa1WYVdU8teye1A2J3T2ylb3ihlU/x01x1ieM7zZh5FzTll6fwmeUC82mkztWloGZM65KdSEWOmhlXOdw==
)

for size in slim medium thick; do
  name="upscalerjs-esrgan-${size}-1.0.0"
  if [[ -f "$name/package/models/x2/model.json" && -f "$name/.verified" ]]; then
    echo "$name: already present"
    continue
  fi
  if [[ ! -f "$name.tgz" ]]; then
    npm pack --silent "@upscalerjs/esrgan-${size}@1.0.0" >/dev/null
  fi
  actual="sha512-$(openssl dgst -sha512 -binary "$name.tgz" | base64 -w0)"
  if [[ "$actual" != "${integrity[$size]}" ]]; then
    echo "error: $dir/$name.tgz: sha512 integrity mismatch (got $actual, expected ${integrity[$size]})" >&2
    rm -f "$name.tgz"
    exit 1
  fi
  rm -rf "$name"
  mkdir -p "$name"
  tar -xzf "$name.tgz" -C "$name"
  touch "$name/.verified"
  echo "$name: verified and unpacked"
done
