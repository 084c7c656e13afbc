#!/usr/bin/env bash
# Command-line tests of `aimc` (each call is its own process, as SystemC requires).
#   cli_test.sh AIMC refuses REGEX ARGS...   aimc ARGS must exit non-zero with REGEX on stderr
#   cli_test.sh AIMC same-seed                the same seed gives identical reports, another not
#   cli_test.sh AIMC bad-files                bad platform YAML and bad ONNX files are refused
#   cli_test.sh AIMC conditions               --at / --temp-c / --drift-comp reach the report; bad values are refused
#   cli_test.sh AIMC checkpoint               save, restore in another process, refuse bad checkpoints
#   cli_test.sh AIMC export                   the programming-sequence CSV has one line per cell
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
  conditions)
    J=/usr/bin/python3
    refuses "--at: expected a duration" run --at 3parsecs --limit 10
    refuses "--at: the duration must be >= 0" run --at -1h --limit 10
    refuses "--temp-c: expected a die temperature in \[-55, 150\] C" run --temp-c 500 --limit 10
    "$AIMC" run --limit 50 --no-progress --at 30d --temp-c 85 --drift-comp --report "$TMP/c.json" \
      > "$TMP/out" || fail "run with conditions"
    grep -q "30 d after programming, 85.0 C (sensor 85.000 C), drift compensation on" "$TMP/out" ||
      { cat "$TMP/out" >&2; fail "summary does not show the conditions"; }
    "$J" - "$TMP/c.json" <<'PY' || fail "report conditions"
import json, sys
r = json.load(open(sys.argv[1]))
c = r["conditions"]
assert abs(c["at_s"] - 30 * 86400) < 1e-6, c
assert c["time_since_programming_s"] >= 30 * 86400, c
assert c["temp_c"] == 85 and c["temp_sensor_c"] == 85, c
assert c["drift_compensation"] and c["drift_compensated_tiles"] > 0, c
d = r["deploy"]
assert d["cells"] > 0 and d["pulses"] > d["cells"] and 0.9 < d["yield"] <= 1, d
assert sum(d["iteration_histogram"]) == d["cells"], d
h = d["weight_error"]["histogram"]
assert sum(h["counts"]) + h["below"] + h["above"] == d["cells"], h
PY
    echo "ok: conditions and the deploy section in the report"
    ;;
  checkpoint)
    "$AIMC" run --limit 200 --no-progress --at 1h --checkpoint "$TMP/chip.ckpt" --report "$TMP/a.json" -q \
      > /dev/null || fail "run with --checkpoint"
    [ -s "$TMP/chip.ckpt" ] || fail "no checkpoint written"
    "$AIMC" run --limit 200 --no-progress --restore "$TMP/chip.ckpt" --at 1d --report "$TMP/b.json" \
      > "$TMP/out" || fail "run with --restore"
    grep -q "restored from" "$TMP/out" || fail "summary does not say the chip was restored"
    /usr/bin/python3 - "$TMP/a.json" "$TMP/b.json" <<'PY' || fail "restored run differs"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert b["deploy"]["restored_from_checkpoint"] and b["deploy"]["cells"] == 0, b["deploy"]
assert b["time_ns"]["deploy"] < a["time_ns"]["deploy"] / 100, (a["time_ns"], b["time_ns"])
# The restored chip continues aging from the saved age: 1 h (+ the first run) + 1 d.
age_a, age_b = a["conditions"]["time_since_programming_s"], b["conditions"]["time_since_programming_s"]
assert abs(age_b - (age_a + 86400)) < 1.0, (age_a, age_b)
# Same cells, same weights: the same weight error (flash barely moves in a day) and accuracy
# within one image of 200.
ea, eb = a["weight_error_at_inference"]["std"], b["weight_error_at_inference"]["std"]
assert abs(ea - eb) < 0.01 * ea, (ea, eb)
assert abs(a["accuracy"]["platform"] - b["accuracy"]["platform"]) <= 1 / 200 + 1e-9, (a["accuracy"], b["accuracy"])
PY
    refuses "saved for a different chip" run --limit 10 --restore "$TMP/chip.ckpt" --set tile.device.bits_per_cell=5
    head -c 1000 "$TMP/chip.ckpt" > "$TMP/short.ckpt"
    refuses "checksum mismatch|truncated" run --limit 10 --restore "$TMP/short.ckpt"
    printf 'not a checkpoint at all' > "$TMP/text.ckpt"
    refuses "not an aimc checkpoint" run --limit 10 --restore "$TMP/text.ckpt"
    refuses "export-programming: nothing is programmed" run --limit 10 --restore "$TMP/chip.ckpt" --export-programming "$TMP/seq.csv"
    echo "ok: checkpoint saved, restored in another process, bad files refused"
    ;;
  export)
    "$AIMC" run --limit 10 --no-progress --set tile.device.type=ideal --export-programming "$TMP/seq.csv" \
      --report "$TMP/r.json" -q > /dev/null || fail "run with --export-programming"
    /usr/bin/python3 - "$TMP/seq.csv" "$TMP/r.json" <<'PY' || fail "programming sequence"
import csv, json, sys
r = json.load(open(sys.argv[2]))
rows = [l for l in open(sys.argv[1]) if not l.startswith("#")]
data = list(csv.DictReader(rows))
assert len(data) == r["deploy"]["cells"] == r["programming_sequence_cells"], (len(data), r["deploy"]["cells"])
pulses = sum(int(d["pulses"]) for d in data)
assert pulses == r["deploy"]["pulses"], (pulses, r["deploy"]["pulses"])
for d in data[:1000]:
    n = int(d["pulses"])
    assert len(d["verify_ns"].split(";")) == n + 1, d
    assert (d["pulse_values"] == "") == (n == 0), d
    assert d["side"] in ("pos", "neg") and d["converged"] == "1", d
PY
    echo "ok: one CSV line per programmed cell, pulses and verify reads consistent with the report"
    ;;
  *)
    fail "unknown mode $MODE"
    ;;
esac
