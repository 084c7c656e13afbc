#!/usr/bin/env bash
# Installs what is missing, then configures and builds aimc-vp (Release) in build/.
# Usage: scripts/build.sh [extra cmake args...]     BUILD_DIR overrides the build folder.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
"$ROOT/scripts/setup.sh"
cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release "$@" > /dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"
