#!/usr/bin/env bash
# Command-line tests of `aimc` (each call is its own process, as SystemC requires).
#   cli_test.sh AIMC refuses REGEX ARGS...   aimc ARGS must exit non-zero with REGEX on stderr
#   cli_test.sh AIMC same-seed                the same seed gives identical reports, another not
#   cli_test.sh AIMC bad-files                bad platform YAML and bad ONNX files are refused
#   cli_test.sh AIMC conditions               --at / --temp-c / --drift-comp reach the report; bad values are refused
#   cli_test.sh AIMC checkpoint               save, restore in another process, refuse bad checkpoints
#   cli_test.sh AIMC export                   the programming-sequence CSV has one line per cell
#   cli_test.sh AIMC inputs                   --input FILE.npy / random and --dump-outputs (numpy round trip)
#   cli_test.sh AIMC help                     the help texts describe what the tool does today
#   cli_test.sh AIMC compile-options          --compile-option: refusals (exit 2), effect, record, --help
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
  compile-options)
    exit_2() {  # exit_2 REGEX ARGS...: refused with exit code 2 (the user's to fix)
      local regex="$1"; shift
      "$AIMC" "$@" >"$TMP/out" 2>"$TMP/err"
      local rc=$?
      [ "$rc" -eq 2 ] || { cat "$TMP/err" >&2; fail "aimc $*: exit $rc, expected 2"; }
      grep -Eq -- "$regex" "$TMP/err" || { cat "$TMP/err" >&2; fail "aimc $*: stderr does not match /$regex/"; }
      echo "ok: aimc $* -> exit 2, $(head -c 200 "$TMP/err" | tr '\n' ' ')"
    }
    exit_2 "unknown compile option 'adc_pct' \(keys: .*adc_percentile" run --compile-option adc_pct=1 --limit 10
    exit_2 "compile option adc_percentile = '150': expected \(0, 100\]" run --compile-option adc_percentile=150 --limit 10
    exit_2 "calibration_vectors = 'many': expected integer in \[1, 2147483647\]" \
      compile --compile-option calibration_vectors=many -o "$TMP/x.aimg"
    exit_2 "expected KEY=VALUE" compile --compile-option replicate -o "$TMP/x.aimg"
    "$AIMC" run --help > "$TMP/help" || fail "run --help"
    for key in calibration_vectors activation_percentile adc_percentile weight_percentile \
               calibration_patch_elements depthwise replicate; do
      grep -q "$key = " "$TMP/help" || fail "aimc run --help does not list $key"
    done
    # Explicit defaults give the default image, byte for byte; other values reach META.
    "$AIMC" compile -o "$TMP/default.aimg" > /dev/null || fail "compile with defaults"
    "$AIMC" compile -o "$TMP/explicit.aimg" --compile-option adc_percentile=99.99 \
      --compile-option calibration_vectors=512 --compile-option replicate=false > /dev/null ||
      fail "compile with explicit defaults"
    cmp -s "$TMP/default.aimg" "$TMP/explicit.aimg" || fail "explicit default options changed the image"
    "$AIMC" compile -o "$TMP/opt.aimg" --summary "$TMP/s.json" --compile-option adc_percentile=99.5 \
      --compile-option calibration_vectors=64 > /dev/null || fail "compile with options"
    /usr/bin/python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
o = s["compile_options"]
assert o["adc_percentile"] == 99.5 and o["calibration_vectors"] == 64, o
assert s["calibration"]["vectors_used"] == 64, s["calibration"]' "$TMP/s.json" || fail "options not in the summary"
    echo "ok: compile options are validated, listed in --help, and reach the image and summary"
    ;;
  help)
    # The help describes what the tool does today: CNN ops, own inputs, traces, every subcommand.
    "$AIMC" run --help > "$TMP/help" || fail "run --help"
    for what in "Conv (grouped, depthwise)" "MaxPool" "Sigmoid" "--input" "--trace-format" "--compile-option" \
                "weight reload"; do
      grep -q -- "$what" "$TMP/help" || fail "aimc run --help does not mention '$what'"
    done
    grep -q "an MLP" "$TMP/help" && fail "aimc run --help still says the model is an MLP"
    for cmd in compile config serve; do
      "$AIMC" "$cmd" --help > "$TMP/help_$cmd" || fail "$cmd --help"
      grep -q -- "--platform" "$TMP/help_$cmd" || fail "aimc $cmd --help has no --platform"
    done
    grep -q "base:" "$TMP/help_config" || fail "aimc config --help does not explain base:"
    echo "ok: the help texts describe today's tool"
    ;;
  same-seed)
    for run in a b; do
      "$AIMC" run --limit 100 --seed 5 --no-progress --report "$TMP/$run.json" -q > /dev/null || fail "run $run"
    done
    "$AIMC" run --limit 100 --seed 6 --no-progress --report "$TMP/c.json" -q > /dev/null || fail "run c"
    # Everything but the wall-clock times (wall_seconds, wall_seconds_by_phase).
    strip() {
      /usr/bin/python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
r.pop("wall_seconds"); r.pop("wall_seconds_by_phase")
print(json.dumps(r, indent=1, sort_keys=True))' "$1"
    }
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
  inputs)
    # N x C x H x W float32 made with numpy, and the same images as N x 784 float64: same outputs.
    /usr/bin/python3 - "$TMP" <<'PY' || fail "test setup: numpy"
import numpy as np, sys
x = np.random.default_rng(7).random((40, 1, 28, 28)).astype(np.float32)
np.save(sys.argv[1] + "/x4.npy", x)
np.save(sys.argv[1] + "/x2.npy", x.reshape(40, 784).astype(np.float64))
np.save(sys.argv[1] + "/wrong.npy", np.zeros((3, 100), np.float32))
PY
    "$AIMC" run --input "$TMP/x4.npy" --no-progress --dump-outputs "$TMP/o4.npy" --report "$TMP/r4.json" \
      > "$TMP/out" || fail "run --input x4.npy"
    grep -q "(no labels)" "$TMP/out" || fail "summary does not say the inputs have no labels"
    "$AIMC" run --input "$TMP/x2.npy" --no-progress --dump-outputs "$TMP/o2.npy" --report "$TMP/r2.json" -q \
      > /dev/null || fail "run --input x2.npy"
    "$AIMC" run --input random --limit 25 --seed 3 --no-progress --dump-outputs "$TMP/ra.npy" --report '' -q > /dev/null || fail "random a"
    "$AIMC" run --input random --limit 25 --seed 3 --no-progress --dump-outputs "$TMP/rb.npy" --report '' -q > /dev/null || fail "random b"
    "$AIMC" run --input random --limit 25 --seed 4 --no-progress --dump-outputs "$TMP/rc.npy" --report '' -q > /dev/null || fail "random c"
    /usr/bin/python3 - "$TMP" <<'PY' || fail "outputs"
import json, sys, numpy as np
t = sys.argv[1]
o4, o2 = np.load(t + "/o4.npy"), np.load(t + "/o2.npy")
assert o4.shape == (40, 10) and o4.dtype == np.float32, (o4.shape, o4.dtype)
assert np.array_equal(o4, o2), "the same images as N x C x H x W and as N x 784 gave different outputs"
r = json.load(open(t + "/r4.json"))
assert r["accuracy"] is None and r["images"] == 40, r["accuracy"]
assert 0.9 <= r["agreement_with_float"]["top1"] <= 1.0, r["agreement_with_float"]
assert r["params"] == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10, r["params"]
assert r["macs_per_inference"] == 784 * 256 + 256 * 128 + 128 * 10
assert r["throughput_inferences_per_s"] > 0
u = r["utilization"]
assert abs(u["by_tile"][0]["utilization"] - 392 * 256 / 160000) < 1e-12, u["by_tile"][0]
assert len(r["placement_map"]) == 12
a, b, c = (np.load(t + f"/r{k}.npy") for k in "abc")
assert a.shape == (25, 10) and np.array_equal(a, b), "same seed, different random inputs or outputs"
assert not np.array_equal(a, c), "another seed gave the same random inputs"
PY
    refuses "--input: .*wrong\.npy has 100 values per item, the model takes 784" run --input "$TMP/wrong.npy"
    refuses "--input: .*missing\.npy: cannot open" run --input "$TMP/missing.npy"
    echo "ok: --input npy (4-D and 2-D agree) and random (seeded), --dump-outputs readable by numpy"
    ;;
  *)
    fail "unknown mode $MODE"
    ;;
esac
