#!/usr/bin/env bash
# Command-line tests of `aimc` (each call is its own process, as SystemC requires).
#   cli_test.sh AIMC refuses REGEX ARGS...   aimc ARGS must exit non-zero with REGEX on stderr
#   cli_test.sh AIMC same-seed                the same seed gives identical reports, another not
#   cli_test.sh AIMC bad-files                bad platform YAML and bad ONNX files are refused
set -uo pipefail
AIMC="$1"; shift
MODE="$1"; shift
export SC_COPYRIGHT_MESSAGE=DISABLE
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

refuses() {  # refuses REGEX ARGS...
  local regex="$1"; shift
  "$AIMC" "$@" >"$TMP/out" 2>"$TMP/err"
  local rc=$?
  [ "$rc" -ne 0 ] || fail "aimc $* exited 0; expected a refusal"
  grep -Eq -- "$regex" "$TMP/err" || { cat "$TMP/err" >&2; fail "aimc $*: stderr does not match /$regex/"; }
  echo "ok: aimc $* -> exit $rc, $(head -c 200 "$TMP/err" | tr '\n' ' ')"
}

case "$MODE" in
  refuses)
    refuses "$@"
    ;;
  bad-files)
    SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
    # A platform with a bad value on a known line.
    sed 's/^\(\s*\)bits: 8\(.*\)$/\1bits: 40\2/' "$SRC/platforms/membrain-3x4.yaml" > "$TMP/bad.yaml"
    line=$(grep -n "bits: 40" "$TMP/bad.yaml" | head -1 | cut -d: -f1)
    [ -n "$line" ] || fail "test setup: no 'bits: 8' line in the preset"
    refuses "bad.yaml:$line: tile\.[a-z]+\.bits" run --platform "$TMP/bad.yaml" --limit 10
    # An unknown key.
    printf 'name: x\ngrid: {rows: 1, cols: 1}\ntile:\n  adcc: {bits: 8}\n' > "$TMP/unknown.yaml"
    refuses "unknown.yaml:4: .*tile\.adcc" run --platform "$TMP/unknown.yaml" --limit 10
    # YAML syntax error.
    printf 'name: x\ngrid: [1, \n' > "$TMP/syntax.yaml"
    refuses "syntax.yaml" run --platform "$TMP/syntax.yaml" --limit 10
    # A bad override.
    refuses "tile\.adc\.bitz" run --set tile.adc.bitz=6 --limit 10
    refuses "tile\.adc\.bits" run --set tile.adc.bits=abc --limit 10
    # Not an ONNX file.
    head -c 4096 /dev/urandom > "$TMP/random.onnx"
    refuses "random\.onnx" run --model "$TMP/random.onnx" --limit 10
    # A missing file.
    refuses "nonexistent\.onnx" run --model "$TMP/nonexistent.onnx" --limit 10
    # A bad option value.
    refuses "limit" run --limit -3
    ;;
  same-seed)
    for run in a b; do
      "$AIMC" run --limit 100 --seed 5 --no-progress --report "$TMP/$run.json" -q > /dev/null || fail "run $run"
    done
    "$AIMC" run --limit 100 --seed 6 --no-progress --report "$TMP/c.json" -q > /dev/null || fail "run c"
    strip() { grep -v '"wall_seconds"' "$1"; }
    diff <(strip "$TMP/a.json") <(strip "$TMP/b.json") > /dev/null || fail "seed 5 twice gave different reports"
    if diff <(strip "$TMP/a.json") <(strip "$TMP/c.json") > /dev/null; then
      fail "seeds 5 and 6 gave identical reports: the seed does not reach the noise"
    fi
    echo "ok: identical reports for seed 5, different for seed 6"
    ;;
  *)
    fail "unknown mode $MODE"
    ;;
esac
