#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang, AddressSanitizer and UndefinedBehavior-
# Sanitizer in build-fuzz/ and runs each one over its seed corpus (tests/fuzz/corpus/NAME) and a
# working corpus kept between runs (build-fuzz/corpus/NAME). A crash, sanitizer report, leak,
# timeout or out-of-memory stops that target, leaves its input in build-fuzz/findings/NAME/ and
# fails the script. docs/fuzzing.md says what each target checks.
#
# Usage: scripts/fuzz.sh [--minutes N | --seconds N | --runs N] [--parallel N] [--target NAME ...]
#   --minutes N / --seconds N  run each target that long (default: 1 minute)
#   --runs N                   run each target for N inputs instead
#   --parallel N               run up to N targets at once (default 1; scripts/test.sh uses one
#                              per core); each target still gets its whole time or run count
#   --target NAME              only this target (repeatable): npy, config, image, onnx,
#                              image_driver, protocol, device
# Environment: BUILD_DIR (default build-fuzz/; a folder configured with AIMC_FUZZ=ON is used as it
# is, e.g. build-asan/ after scripts/test.sh), JOBS (parallel build jobs, default nproc).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-fuzz}"
TARGETS_ALL=(npy config image onnx image_driver protocol device)
TARGETS=()
LIMIT=(-max_total_time=60)
PARALLEL=1
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) LIMIT=(-max_total_time=$(( ${2:?--minutes needs a number} * 60 ))); shift 2 ;;
    --seconds) LIMIT=(-max_total_time="${2:?--seconds needs a number}"); shift 2 ;;
    --runs) LIMIT=(-runs="${2:?--runs needs a number}"); shift 2 ;;
    --parallel)
      case "${2:-}" in ''|*[!0-9]*|0) echo "fuzz.sh: --parallel needs a number of targets >= 1" >&2; exit 2 ;; esac
      PARALLEL="$2"; shift 2 ;;
    --target)
      case " ${TARGETS_ALL[*]} " in *" ${2:-} "*) TARGETS+=("$2") ;;
        *) echo "fuzz.sh: unknown target '${2:-}' (targets: ${TARGETS_ALL[*]})" >&2; exit 2 ;; esac
      shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fuzz.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${TARGETS_ALL[@]}")
command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ is needed (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }

export SC_COPYRIGHT_MESSAGE=DISABLE
# A folder already configured with AIMC_FUZZ=ON (scripts/test.sh's sanitizer pass) is used as it is.
if ! grep -q '^AIMC_FUZZ:BOOL=ON$' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null; then
  mkdir -p "$BUILD_DIR"
  CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DAIMC_FUZZ=ON -DAIMC_SANITIZE=address,undefined > "$BUILD_DIR/configure.log" 2>&1 ||
    { cat "$BUILD_DIR/configure.log"; exit 1; }
fi
cmake --build "$BUILD_DIR" -j "${JOBS:-$(nproc)}" --target "${TARGETS[@]/#/fuzz_}"

# One target: its log in $BUILD_DIR/fuzz_NAME.log, its verdict (the lines printed below, in the
# targets' order once all have run) in $BUILD_DIR/fuzz_NAME.verdict; exit status 1 on a finding.
fuzz_one() {
  local t="$1" corpus="$BUILD_DIR/corpus/$1" findings="$BUILD_DIR/findings/$1"
  local log="$BUILD_DIR/fuzz_$1.log" verdict="$BUILD_DIR/fuzz_$1.verdict" runs
  mkdir -p "$corpus" "$findings"
  # -rss_limit_mb / -malloc_limit_mb: an input that makes a reader take more is a finding (an
  # unbounded allocation); -timeout: one input longer than 10 s is a hang.
  if ASAN_OPTIONS="detect_leaks=1:halt_on_error=1" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
     "$BUILD_DIR/tests/fuzz/fuzz_$t" "${LIMIT[@]}" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 \
       -max_len=65536 -print_final_stats=1 -artifact_prefix="$findings/" \
       "$corpus" "$ROOT/tests/fuzz/corpus/$t" > "$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    echo "   $t: $runs inputs, no finding (corpus $corpus)" > "$verdict"
    return 0
  fi
  { echo "   $t: FINDING (input in $findings/):"
    grep -E "ERROR|runtime error|escaped|differs|disagree|fuzz_[a-z_]*:|SUMMARY" "$log" | head -20; } > "$verdict"
  return 1
}

echo "== fuzz.sh: ${TARGETS[*]} (${LIMIT[*]}, up to $PARALLEL at once)"
status=0
running=0
for t in "${TARGETS[@]}"; do
  rm -f "$BUILD_DIR/fuzz_$t.verdict"
  if [ "$running" -ge "$PARALLEL" ]; then
    wait -n || status=1
    running=$((running - 1))
  fi
  fuzz_one "$t" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || status=1
  running=$((running - 1))
done
for t in "${TARGETS[@]}"; do
  cat "$BUILD_DIR/fuzz_$t.verdict" 2>/dev/null || { echo "   $t: no verdict (the fuzzer did not finish)"; status=1; }
done
exit "$status"
