#!/usr/bin/env bash
# Runs an example firmware against the platform and checks its output and exit code.
#
#   fw_test.sh CASE MODE FIRMWARE AIMC
#     CASE      hello | infer | calibrate | runner-options | isr | checkpoint
#     MODE      vp:     FIRMWARE is the in-VP build (runner options, then `--`, then firmware args)
#               rv32:   FIRMWARE is the <name>.rv32.elf, run on the RV32 core by
#                       `AIMC fw run FIRMWARE [platform options] -- firmware args`
#               same:   FIRMWARE is the in-VP build and RV32 (5th argument) the .rv32.elf: both
#                       run with the same arguments and must print the same results (lines that
#                       depend on the firmware's own run time, the chip's cycle and energy
#                       counters, are left out of the comparison)
#               remote: FIRMWARE is the -remote build; this script starts
#                       `AIMC serve --listen unix:$TMP/s.sock --once [platform options]` in the
#                       background, waits (bounded) for the socket, runs
#                       `FIRMWARE --connect unix:$TMP/s.sock firmware args`, and always stops the
#                       server.
#     FIRMWARE  the example binary
#     AIMC      the aimc tool (compile, run, serve)
# Exit 0 on pass, 77 (ctest SKIP_RETURN_CODE) when the data set is missing, 1 on failure.
set -u
CASE=$1 MODE=$2 FW=$3 AIMC=$4 RV32=${5:-}
DATA=${AIMC_DATA:-/usr/share/datasets/fashion-mnist}
export SC_COPYRIGHT_MESSAGE=DISABLE
TMP=$(mktemp -d "${TMPDIR:-/tmp}/aimc-fw-test.XXXXXX")
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  if [ -s "$TMP/out.txt" ]; then echo "--- firmware stdout" >&2; cat "$TMP/out.txt" >&2; fi
  if [ -s "$TMP/err.txt" ]; then echo "--- firmware stderr" >&2; cat "$TMP/err.txt" >&2; fi
  if [ -s "$TMP/server.log" ]; then echo "--- server log" >&2; cat "$TMP/server.log" >&2; fi
  exit 1
}

# Platform options, for the runner (vp) or for `aimc serve` (remote), and for `aimc compile`.
PLATFORM_ARGS=()
[ "$CASE" = calibrate ] && PLATFORM_ARGS=(--set tile.adc.offset_sigma_lsb=2)

# run_fw ARGS...: runs the firmware in MODE with PLATFORM_ARGS; output in $TMP/out.txt and
# $TMP/err.txt, exit code in $RC.
run_fw() {
  if [ "$MODE" = same ]; then  # both builds; the checks below look at the in-VP one's output
    MODE=rv32 FW_SAVED=$FW
    FW=$RV32 run_fw "$@"
    [ "$RC" -eq 0 ] || fail "the RV32 build exited with $RC"
    mv "$TMP/out.txt" "$TMP/out.rv32.txt"
    mv "$TMP/err.txt" "$TMP/err.rv32.txt"
    MODE=vp
    run_fw "$@"
    MODE=same
    # What depends on how long the firmware itself ran (the chip's cycle, time and energy
    # counters, the runner's summary) differs between a host CPU and the core; the rest must not.
    local filter='^  (cycles|energy|time|busy|bus bytes|static)|firmware returned|^aimc fw run'
    grep -Ev "$filter" "$TMP/out.txt" >"$TMP/cmp.vp.txt"
    grep -Ev "$filter" "$TMP/out.rv32.txt" >"$TMP/cmp.rv32.txt"
    diff "$TMP/cmp.vp.txt" "$TMP/cmp.rv32.txt" >"$TMP/diff.txt" ||
      { cat "$TMP/diff.txt" >&2; fail "the RV32 build printed other results than the in-VP build"; }
    echo "same results: $(wc -l <"$TMP/cmp.vp.txt") lines of output compared"
    return
  fi
  if [ "$MODE" = rv32 ]; then
    "$AIMC" fw run "$FW" "${PLATFORM_ARGS[@]}" -- "$@" >"$TMP/out.txt" 2>"$TMP/err.txt"
    RC=$?
    return
  fi
  if [ "$MODE" = vp ]; then
    "$FW" "${PLATFORM_ARGS[@]}" -- "$@" >"$TMP/out.txt" 2>"$TMP/err.txt"
    RC=$?
    return
  fi
  local sock="$TMP/s.sock"
  rm -f "$sock"
  "$AIMC" serve --listen "unix:$sock" --once "${PLATFORM_ARGS[@]}" >"$TMP/server.log" 2>&1 &
  SERVER_PID=$!
  local i
  for i in $(seq 1 100); do  # up to 10 s
    [ -S "$sock" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || fail "aimc serve exited before listening"
    sleep 0.1
  done
  [ -S "$sock" ] || fail "aimc serve did not create $sock within 10 s"
  "$FW" --connect "unix:$sock" "$@" >"$TMP/out.txt" 2>"$TMP/err.txt"
  RC=$?
  # --once: the server ends when the firmware disconnects; give it 10 s, then stop it.
  for i in $(seq 1 100); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=
    fail "aimc serve --once still running 10 s after the firmware disconnected"
  fi
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
}

expect_out() {  # expect_out PATTERN: a line of stdout matches the extended regex
  grep -Eq -- "$1" "$TMP/out.txt" || fail "stdout has no line matching '$1'"
}

compile_image() {
  "$AIMC" compile "${PLATFORM_ARGS[@]}" -o "$TMP/model.aimg" >"$TMP/compile.txt" 2>&1 ||
    { cat "$TMP/compile.txt" >&2; fail "aimc compile failed"; }
}

need_data() {
  if [ ! -e "$DATA/t10k-images-idx3-ubyte.gz" ] && [ ! -e "$DATA/t10k-images-idx3-ubyte" ]; then
    echo "SKIP: no Fashion-MNIST in $DATA (package dataset-fashion-mnist)"
    exit 77
  fi
}

unpack() {  # unpack BASE: the uncompressed IDX file in $TMP
  if [ -e "$DATA/$1.gz" ]; then gzip -dc "$DATA/$1.gz" >"$TMP/$1"; else cp "$DATA/$1" "$TMP/$1"; fi
}

# cut_idx N: the test images and labels in $TMP, only the first N, with the counts in the headers
# made N: infer reads its files whole, and on the RV32 core reading 7.8 MB through semihosting and
# picolibc's stdio is most of the run (the same files in every mode, so the results compare).
cut_idx() {
  unpack t10k-images-idx3-ubyte
  unpack t10k-labels-idx1-ubyte
  /usr/bin/python3 - "$TMP" "$1" <<'PY' || fail "cannot cut the IDX files"
import struct, sys
tmp, n = sys.argv[1], int(sys.argv[2])
for name, head, item in (("t10k-images-idx3-ubyte", 16, 784), ("t10k-labels-idx1-ubyte", 8, 1)):
    data = open(f"{tmp}/{name}", "rb").read()
    out = data[:4] + struct.pack(">I", n) + data[8:head] + data[head:head + n * item]
    open(f"{tmp}/{name}", "wb").write(out)
PY
}

case "$CASE" in
  hello)
    run_fw
    [ "$RC" -eq 0 ] || fail "hello exited with $RC"
    expect_out '^  ID +0x41494D43'
    expect_out '^  tiles +[0-9]+'
    expect_out 'DMA loopback .*: ok$'
    expect_out 'self-test passed'
    ;;

  infer)
    need_data
    N=200
    compile_image
    cut_idx $N
    run_fw "$TMP/model.aimg" --images "$TMP/t10k-images-idx3-ubyte" \
      --labels "$TMP/t10k-labels-idx1-ubyte" --limit $N --entries 8
    [ "$RC" -eq 0 ] || fail "infer exited with $RC"
    expect_out "^vectors +$N "
    expect_out "^programmed +[0-9]+ cells, [0-9.]+ pulses/cell, [0-9]+ outside tolerance"
    expect_out "^die temperature +25.000 C"
    acc=$(sed -n 's/^accuracy *\([0-9.]*\) %.*/\1/p' "$TMP/out.txt")
    [ -n "$acc" ] || fail "no accuracy printed"
    mvms=$(sed -n 's/^  MVMs *\([0-9]*\)$/\1/p' "$TMP/out.txt")
    [ "${mvms:-0}" -gt 0 ] || fail "perf counter MVMs is ${mvms:-missing}"
    preds=$(sed -n '/^predictions/,/^vectors/p' "$TMP/out.txt" | grep -E '^  [0-9]' | wc -w)
    [ "$preds" -eq $N ] || fail "$preds predictions printed, expected $N"
    # The software (float) accuracy of the same images, from aimc run's report.
    "$AIMC" run --limit $N --no-progress -q --report "$TMP/run.json" >"$TMP/run.txt" 2>&1 ||
      { cat "$TMP/run.txt" >&2; fail "aimc run failed"; }
    float=$(tr -d ' \n' <"$TMP/run.json" | sed -n 's/.*"accuracy":{"float":\([0-9.e+-]*\).*/\1/p')
    [ -n "$float" ] || fail "no accuracy.float in aimc run's report"
    echo "firmware accuracy $acc %, float accuracy $(awk -v f="$float" 'BEGIN{printf "%.2f", 100*f}') % on $N images"
    awk -v a="$acc" -v f="$float" 'BEGIN{d = a - 100*f; if (d < 0) d = -d; exit !(d <= 2.0)}' ||
      fail "firmware accuracy $acc % is more than 2 points from the float accuracy ($float)"
    ;;

  calibrate)
    compile_image
    run_fw "$TMP/model.aimg"
    [ "$RC" -eq 0 ] || fail "calibrate exited with $RC"
    line=$(grep -E '^max \|offset\| before' "$TMP/out.txt") || fail "no summary line"
    before=$(echo "$line" | sed -n 's/.*before \([0-9.]*\) LSB.*/\1/p')
    after=$(echo "$line" | sed -n 's/.*after \([0-9.]*\) LSB.*/\1/p')
    echo "max |offset| before $before LSB, after $after LSB"
    awk -v b="$before" -v a="$after" 'BEGIN{exit !(a <= 0.5 && b > 0.5 && b > a)}' ||
      fail "expected max |offset| after <= 0.5 LSB and before > 0.5 LSB (sigma 2 LSB)"
    ;;

  checkpoint)  # save the array state, restore it in another process (rv32: aimc fw run; remote: aimc serve)
    [ "$MODE" = rv32 ] || [ "$MODE" = remote ] || fail "checkpoint is an rv32 or a remote case"
    need_data
    N=40
    compile_image
    cut_idx $N
    IMGS=("$TMP/model.aimg" --images "$TMP/t10k-images-idx3-ubyte" --labels "$TMP/t10k-labels-idx1-ubyte" --limit $N --entries 8)
    REPORT=()
    [ "$MODE" = rv32 ] && REPORT=(--report "$TMP/a.json")
    PLATFORM_ARGS=(--checkpoint "$TMP/chip.ckpt" "${REPORT[@]}")
    run_fw "${IMGS[@]}"
    [ "$RC" -eq 0 ] || fail "the programming run exited with $RC"
    [ -s "$TMP/chip.ckpt" ] || fail "no checkpoint written"
    sed -n '/^predictions/,/^vectors/p' "$TMP/out.txt" >"$TMP/pred.a"
    acc_a=$(sed -n 's/^accuracy *\([0-9.]*\) %.*/\1/p' "$TMP/out.txt")
    # Restored, a day later, warmer: nothing programmed, the die at 40 C, the same weights.
    [ "$MODE" = rv32 ] && REPORT=(--report "$TMP/b.json")
    PLATFORM_ARGS=(--restore "$TMP/chip.ckpt" --at 1d --temp-c 40 "${REPORT[@]}")
    run_fw "${IMGS[@]}" --attach
    [ "$RC" -eq 0 ] || fail "the restored run exited with $RC"
    expect_out '^programmed +0 cells'
    expect_out '^die temperature +40.000 C'
    acc_b=$(sed -n 's/^accuracy *\([0-9.]*\) %.*/\1/p' "$TMP/out.txt")
    sed -n '/^predictions/,/^vectors/p' "$TMP/out.txt" >"$TMP/pred.b"
    differ=$(/usr/bin/python3 -c 'import sys; a, b = (open(p).read().split() for p in sys.argv[1:]); print(sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b)))' "$TMP/pred.a" "$TMP/pred.b")
    echo "accuracy $acc_a % programmed, $acc_b % restored a day later at 40 C; $differ of $N predictions differ"
    # Flash barely moves in a day; 40 C shifts the read currents a little: at most 2 of N.
    [ "$differ" -le 2 ] || fail "$differ of $N predictions differ after the restore"
    if [ "$MODE" = remote ]; then
      grep -q "restored from .*chip.ckpt" "$TMP/server.log" || fail "the server does not say it restored"
      grep -Eq "die temperature +40.000 C" "$TMP/server.log" || fail "the server does not report the die at 40 C"
    else
      /usr/bin/python3 - "$TMP/a.json" "$TMP/b.json" <<'PY' || fail "the reports do not show the restore"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["checkpoint_file"].endswith("chip.ckpt"), a.get("checkpoint_file")
c = b["conditions"]
assert c["restored_from"].endswith("chip.ckpt") and c["temp_c"] == 40 and c["at_s"] == 86400, c
ages = c["restored_header"]["age_s"]
assert any(x > 0 for x in ages), ages  # the saved ages of the programmed tiles
# Restoring programs nothing: the deploy energy of the first run is missing from the second.
ea, eb = a["energy_j"]["total"], b["energy_j"]["total"]
assert eb < ea / 2, (ea, eb)
PY
    fi
    # The checkpoint belongs to this chip, and to the firmware that programmed it (no model).
    if [ "$MODE" = rv32 ]; then
      "$AIMC" fw run "$FW" --restore "$TMP/chip.ckpt" --set tile.device.bits_per_cell=5 -- "${IMGS[@]}" \
        >"$TMP/out.txt" 2>"$TMP/err.txt" && fail "a checkpoint of another chip was accepted"
    else
      timeout 60 "$AIMC" serve --listen "unix:$TMP/other.sock" --once --restore "$TMP/chip.ckpt" \
        --set tile.device.bits_per_cell=5 >"$TMP/out.txt" 2>"$TMP/err.txt" && fail "a checkpoint of another chip was accepted"
    fi
    grep -q -- '--restore: .*saved for a different chip' "$TMP/err.txt" || fail "no message for another chip's checkpoint"
    "$AIMC" run --limit 5 --no-progress -q --restore "$TMP/chip.ckpt" >"$TMP/out.txt" 2>"$TMP/err.txt" &&
      fail "aimc run accepted a checkpoint without a model"
    grep -q 'saved without a model' "$TMP/err.txt" || fail "aimc run's refusal does not say why"
    : >"$TMP/out.txt"; : >"$TMP/err.txt"
    ;;

  isr)  # interrupt-driven firmware on the RV32 core (rv32 only)
    [ "$MODE" = rv32 ] || fail "isr is an rv32 case"
    compile_image
    "$AIMC" fw run "$FW" --report "$TMP/isr.json" -- "$TMP/model.aimg" --vectors 12 \
      >"$TMP/out.txt" 2>"$TMP/err.txt"
    RC=$?
    [ "$RC" -eq 0 ] || fail "isr exited with $RC"
    expect_out '^isr: interrupt-driven predictions agree with the synchronous driver'"'"'s$'
    expect_out '^interrupts +14 handled \(DMA_DONE 2, CQ_DONE 12\)'
    expect_out '^asleep in wfi +[1-9][0-9]* ns waiting for DMA, [1-9][0-9]* ns waiting for the queue'
    # The core slept (clock-gated) in wfi: the VP says so too, and the cpu's energy is below what
    # the same time awake would have cost.
    /usr/bin/python3 - "$TMP/isr.json" <<'PY' || fail "the report shows no sleep, or no saving from it"
import json, sys
r = json.load(open(sys.argv[1]))
cpu, led = r["cpu"], r["energy_j"]["ledger"]
cpu_j = led["by_component"]["cpu"]
awake_j = r["time_ns"] * 1e-9 * cpu["clock_mhz"] * 1e6 / cpu["cpi"] * 33.4e-12
print(f"cpu asleep {cpu['sleep_ns']:.0f} of {r['time_ns']:.0f} ns; cpu energy {cpu_j * 1e9:.1f} nJ, "
      f"{awake_j * 1e9:.1f} nJ if never asleep")
sys.exit(0 if cpu["sleep_ns"] > 0 and cpu_j < awake_j else 1)
PY
    ;;

  runner-options)  # the in-VP runner: bad options, platform errors, report and trace
    [ "$MODE" = vp ] || fail "runner-options is a vp case"
    "$FW" --set not-a-pair >"$TMP/out.txt" 2>"$TMP/err.txt"
    [ $? -eq 2 ] || fail "--set without '=': expected exit 2"
    grep -q "KEY=VALUE" "$TMP/err.txt" || fail "--set without '=': no message"
    "$FW" --platform "$TMP/missing.yaml" >"$TMP/out.txt" 2>"$TMP/err.txt"
    [ $? -eq 2 ] || fail "missing platform file: expected exit 2"
    grep -q "missing.yaml" "$TMP/err.txt" || fail "missing platform file: message names no file"
    "$FW" --set tile.adc.bitz=6 >"$TMP/out.txt" 2>"$TMP/err.txt"
    [ $? -eq 2 ] || fail "unknown --set key: expected exit 2"
    "$FW" --trace-registers >"$TMP/out.txt" 2>"$TMP/err.txt"
    [ $? -eq 2 ] || fail "--trace-registers without --trace: expected exit 2"
    "$FW" --platform >"$TMP/out.txt" 2>"$TMP/err.txt"
    [ $? -eq 2 ] || fail "--platform without a value: expected exit 2"
    # A platform larger than the memory limit is refused before the chip is elaborated
    # (issue 17, defect 8): a 64 x 64 grid under 16 GB, the preset under 1 MB. At most 2 GB of
    # address space (not under AddressSanitizer), so that without the check it fails fast.
    (if [ -z "${ASAN_OPTIONS:-}" ]; then ulimit -v 2097152; fi
     AIMC_MEMORY_LIMIT_MB=16000 exec "$FW" --set grid.rows=64 --set grid.cols=64) >"$TMP/out.txt" 2>"$TMP/err.txt"
    [ $? -eq 2 ] || fail "64 x 64 grid over AIMC_MEMORY_LIMIT_MB=16000: expected exit 2"
    grep -q "grid.rows x grid.cols = 64 x 64 = 4096 tiles" "$TMP/err.txt" &&
      grep -q "AIMC_MEMORY_LIMIT_MB=16000" "$TMP/err.txt" || fail "64 x 64 grid: message names no keys or limit"
    AIMC_MEMORY_LIMIT_MB=1 "$FW" >"$TMP/out.txt" 2>"$TMP/err.txt"
    [ $? -eq 2 ] || fail "AIMC_MEMORY_LIMIT_MB=1: expected exit 2"
    "$FW" --help >"$TMP/out.txt" 2>"$TMP/err.txt"
    [ $? -eq 0 ] && grep -q -- "--platform FILE" "$TMP/out.txt" || fail "--help"
    # The firmware's own exit code comes through: hello refuses arguments with 2.
    "$FW" -- --bogus >"$TMP/out.txt" 2>"$TMP/err.txt"
    [ $? -eq 2 ] || fail "firmware argument error: expected the firmware's exit code 2"
    # Report, trace with register accesses, summary.
    "$FW" --report "$TMP/o/r.json" --trace "$TMP/o/t.json" --trace-registers \
      >"$TMP/out.txt" 2>"$TMP/err.txt"
    [ $? -eq 0 ] || fail "hello with --report/--trace failed"
    grep -Eq 'firmware returned 0; simulated [0-9.]+ ns, energy [0-9.]+ nJ' "$TMP/err.txt" ||
      fail "no summary on stderr"
    grep -q '"exit_code": 0' "$TMP/o/r.json" || fail "report has no exit_code 0"
    grep -q '"ledger"' "$TMP/o/r.json" || fail "report has no energy ledger"
    grep -q '"wr SCRATCH"' "$TMP/o/t.json" || fail "trace has no register writes"
    ;;

  *)
    fail "unknown case $CASE"
    ;;
esac
echo "PASS: $CASE ($MODE)"
