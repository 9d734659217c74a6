#!/usr/bin/env bash
# Installs upscaled's build and test dependencies on Debian 12 / Ubuntu 24.04 with apt.
# Idempotent: packages already present are left alone, and apt-get update runs only when
# something is missing. Run as root or with sudo available.
#   usage: scripts/install-deps.sh [--with-fixtures]   (--with-fixtures adds python3-torch,
#          needed only to regenerate tests/fixtures with scripts/gen_pth_fixtures.py)
set -euo pipefail

pkgs=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libavfilter-dev
  ffmpeg
  libtorch-dev
  libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev
  libsqlite3-dev libsystemd-dev
  libssl-dev libcurl4-openssl-dev
  libffmpeg-nvenc-dev
  python3
  clang-format
)
if [[ "${1:-}" == "--with-fixtures" ]]; then pkgs+=(python3-torch python3-numpy); fi
# npm fetches the UpscalerJS model packages. A machine that already has Node.js from
# elsewhere (NodeSource bundles npm) must not get Debian's npm, which conflicts with it.
if ! command -v npm >/dev/null 2>&1; then pkgs+=(nodejs npm); fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#pkgs[@]} packages already installed"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
