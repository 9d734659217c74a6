#!/usr/bin/env bash
# Fails when a C++/CUDA source differs from .clang-format's layout (CI runs this).
#   usage: scripts/check-format.sh   (scripts/install-deps.sh installs clang-format)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bad=()
while IFS= read -r f; do
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done < <(git ls-files '*.cpp' '*.h' '*.cu' '*.cuh')
if [[ ${#bad[@]} -gt 0 ]]; then
  echo "not formatted per .clang-format (run clang-format -i): ${bad[*]}" >&2
  exit 1
fi
echo "check-format: all sources formatted"
