#!/usr/bin/env bash
# The whole test suite, twice, then the fuzzers: installs what is missing, builds if needed, runs
# ctest in the Release build (GCC), then builds the project with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer (AIMC_SANITIZE, cmake/AimcSanitize.cmake) and the libFuzzer targets
# (AIMC_FUZZ) in a second folder, runs the whole suite there and then each fuzz target for a
# bounded time (scripts/fuzz.sh, docs/fuzzing.md). Any sanitizer report fails the run, also one
# from a process whose exit status a test script does not look at (every report goes to a log
# file, checked at the end), and so does any fuzzer finding.
#
# Usage: scripts/test.sh [ctest args...]     e.g. scripts/test.sh -R numerics  (both passes; with
#                                            ctest args the fuzzers do not run)
# Environment:
#   BUILD_DIR             the Release build folder (default build/)
#   ASAN_BUILD_DIR        the sanitizer build folder (default build-asan/)
#   AIMC_SKIP_SANITIZERS  1: the Release pass only (a quicker local loop; CI runs both)
#   AIMC_FUZZ_SECONDS     how long each fuzz target runs (default 15; 0: no fuzzing)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
ASAN_BUILD_DIR="${ASAN_BUILD_DIR:-$ROOT/build-asan}"
# float-cast-overflow is not part of GCC's `undefined`; it catches a NaN or out-of-range float
# converted to an integer (a code), the way a bad scale shows up in this simulator.
SANITIZERS="address,undefined,float-cast-overflow"
export SC_COPYRIGHT_MESSAGE=DISABLE

echo "== test.sh [${SECONDS} s]: Release build and suite in $BUILD_DIR"
# setup.sh installs gdb-multiarch: the GDB stub's tests must run, not skip (AIMC_REQUIRE_GDB);
# and Slurm, whose test starts daemons as root: required when this runs as root.
REQUIRE_SLURM=OFF
if [ "$(id -u)" -eq 0 ]; then REQUIRE_SLURM=ON; fi
BUILD_DIR="$BUILD_DIR" "$ROOT/scripts/build.sh" -DAIMC_REQUIRE_GDB=ON -DAIMC_REQUIRE_SLURM="$REQUIRE_SLURM"
echo "== test.sh [${SECONDS} s]: Release suite"
(cd "$BUILD_DIR" && ctest --output-on-failure -j "$(nproc)" "$@")

if [ "${AIMC_SKIP_SANITIZERS:-0}" = "1" ]; then
  echo "== test.sh [${SECONDS} s]: sanitizer pass skipped (AIMC_SKIP_SANITIZERS=1)"
  exit 0
fi

echo "== test.sh [${SECONDS} s]: clang -fsanitize=$SANITIZERS build (with the fuzz targets) and suite in $ASAN_BUILD_DIR"
# The sanitizer pass is built with clang (libFuzzer is clang's): a folder configured by an older
# version of this script with another compiler is started afresh.
if [ -f "$ASAN_BUILD_DIR/CMakeCache.txt" ] &&
   ! grep -q '^CMAKE_CXX_COMPILER:.*clang++' "$ASAN_BUILD_DIR/CMakeCache.txt"; then
  echo "== test.sh [${SECONDS} s]: $ASAN_BUILD_DIR was configured with another compiler; building it afresh"
  rm -rf "$ASAN_BUILD_DIR"
fi
CC=clang CXX=clang++ BUILD_DIR="$ASAN_BUILD_DIR" "$ROOT/scripts/build.sh" \
  -DAIMC_SANITIZE="$SANITIZERS" -DAIMC_FUZZ=ON -DAIMC_REQUIRE_GDB=ON
echo "== test.sh [${SECONDS} s]: sanitizer suite"
LOGS="$ASAN_BUILD_DIR/sanitizer-logs"
rm -rf "$LOGS"
mkdir -p "$LOGS"
# halt_on_error with -fno-sanitize-recover=all: the first report ends the process with an error.
# log_path: reports also from children of test scripts (aimc serve, firmware) land in $LOGS.
# Leak detection stays on (LeakSanitizer scans at exit, after SystemC has switched back to the
# main stack); see cmake/AimcSanitize.cmake for why stack instrumentation is off under SystemC.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:log_path=$LOGS/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$LOGS/ubsan"
status=0
# Tests labelled release_only run in the Release pass only: end-to-end scripts that start dozens
# of aimc processes (sweeps, the RV32 examples' whole inference) or only Python, whose code paths
# the sanitizer pass covers in smaller tests, and which would take minutes under ASan.
(cd "$ASAN_BUILD_DIR" && ctest --output-on-failure -j "$(nproc)" -LE release_only "$@") || status=$?
# A log may hold only ASan's warning about a coroutine stack switch (google/sanitizers#189),
# which is no finding; every ERROR or runtime error is one.
reports=$(grep -l -E "ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:" "$LOGS"/* 2>/dev/null || true)
if [ -n "$reports" ]; then
  echo "== test.sh [${SECONDS} s]: sanitizer reports (each fails the run):"
  for f in $reports; do
    echo "--- $f"
    cat "$f"
  done
  status=1
fi

# Each fuzz target for a bounded time over its committed seeds (the whole suite only: ctest args
# select a part of it). A finding leaves its input in $ASAN_BUILD_DIR/findings/ and fails the run.
FUZZ_SECONDS="${AIMC_FUZZ_SECONDS:-15}"
if [ $# -eq 0 ] && [ "$FUZZ_SECONDS" != "0" ]; then
  echo "== test.sh [${SECONDS} s]: each fuzz target for ${FUZZ_SECONDS} s (scripts/fuzz.sh)"
  BUILD_DIR="$ASAN_BUILD_DIR" "$ROOT/scripts/fuzz.sh" --seconds "$FUZZ_SECONDS" --parallel "$(nproc)" || status=1
fi
echo "== test.sh [${SECONDS} s]: done, status $status"
exit "$status"
