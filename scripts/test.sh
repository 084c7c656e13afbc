#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds from scratch if needed, runs ctest.
# Usage: scripts/test.sh [ctest args...]     e.g. scripts/test.sh -R numerics
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
"$ROOT/scripts/build.sh"
export SC_COPYRIGHT_MESSAGE=DISABLE
cd "$BUILD_DIR"
ctest --output-on-failure -j "$(nproc)" "$@"
