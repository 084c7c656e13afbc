#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs `aimc run` with its defaults (the
# bundled Fashion-MNIST model on platforms/membrain-3x4.yaml over the full test set).
# Any arguments are passed to `aimc run`, e.g. scripts/run.sh --limit 500 --trace run.json
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
"$ROOT/scripts/build.sh"
cd "$ROOT"
export SC_COPYRIGHT_MESSAGE=DISABLE
exec "$BUILD_DIR/platforms/aimc" run "$@"
