#!/usr/bin/env bash
# Regenerates firmware_stubs/include/aimc_regs.h and docs/registers.md from the register table.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$BUILD_DIR" --target aimc-regs > /dev/null
"$BUILD_DIR/platforms/aimc-regs" header "$ROOT/firmware_stubs/include/aimc_regs.h"
"$BUILD_DIR/platforms/aimc-regs" doc "$ROOT/docs/registers.md"
echo "regenerated firmware_stubs/include/aimc_regs.h and docs/registers.md"
