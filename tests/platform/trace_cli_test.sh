#!/usr/bin/env bash
# Command-line tests of the trace formats (traces/README.md).
#   trace_cli_test.sh AIMC HELLO refusals   unknown extensions and formats are refused (exit 2) before
#                                           anything runs, by aimc run, aimc serve and the firmware runner
#   trace_cli_test.sh AIMC HELLO cnn        a CNN run (--limit 2) written as .json, .vcd and .csv (and
#                                           csv by --trace-format): the three agree span for span
#   trace_cli_test.sh AIMC HELLO firmware   the firmware runner writes VCD and CSV (irq, power state)
# HELLO is the example firmware firmware_stubs/examples/hello, linked with the in-VP runner.
set -uo pipefail
AIMC="$1"; HELLO="$2"; MODE="$3"
export SC_COPYRIGHT_MESSAGE=DISABLE
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PY=/usr/bin/python3
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
FORMATS='chrome \(\.json\), vcd \(\.vcd\), csv \(\.csv\)'

refuses() {  # refuses REGEX PROGRAM ARGS...: exit 2, REGEX on stderr, no trace and no report written
  local regex="$1"; shift
  "$@" >"$TMP/out" 2>"$TMP/err"
  local rc=$?
  [ "$rc" -eq 2 ] || { cat "$TMP/err" >&2; fail "$* exited $rc; expected 2"; }
  grep -Eq -- "$regex" "$TMP/err" || { cat "$TMP/err" >&2; fail "$*: stderr does not match /$regex/"; }
  [ -e "$TMP/r.json" ] && fail "$*: a report was written, so the run started"
  ls "$TMP"/t.* >/dev/null 2>&1 && fail "$*: a trace file was written"
  echo "ok: $(basename "$1") ${*:2} -> exit 2: $(head -c 160 "$TMP/err" | tr '\n' ' ')"
}

case "$MODE" in
  refusals)
    refuses "--trace $TMP/t\.txt: the extension '\.txt' names no trace format; use one of $FORMATS" \
      "$AIMC" run --limit 2 --no-progress --report "$TMP/r.json" --trace "$TMP/t.txt"
    refuses "no file extension" "$AIMC" run --limit 2 --report "$TMP/r.json" --trace "$TMP/t"
    refuses "--trace-format: unknown format 'fst'; the formats are $FORMATS" \
      "$AIMC" run --limit 2 --report "$TMP/r.json" --trace "$TMP/t.json" --trace-format fst
    refuses "--trace-format needs --trace FILE" "$AIMC" run --limit 2 --report "$TMP/r.json" --trace-format vcd
    refuses "names no trace format" "$AIMC" serve --listen "unix:$TMP/s.sock" --once --trace "$TMP/t.txt"
    [ -e "$TMP/s.sock" ] && fail "aimc serve listened before refusing the trace format"
    refuses "unknown format 'gtkwave'" "$AIMC" serve --listen "unix:$TMP/s.sock" --trace "$TMP/t.vcd" \
      --trace-format gtkwave
    refuses "names no trace format.*$FORMATS" "$HELLO" --report "$TMP/r.json" --trace "$TMP/t.txt"
    refuses "unknown format 'xml'" "$HELLO" --report "$TMP/r.json" --trace "$TMP/t.vcd" --trace-format xml
    refuses "--trace-format needs --trace FILE" "$HELLO" --trace-format csv
    # The help is captured first: grep -q closing the pipe early would fail it under pipefail.
    run_help="$("$AIMC" run --help)"
    grep -q -- "--trace-format" <<<"$run_help" || fail "aimc run --help does not name --trace-format"
    tr -s ' \n' ' ' <<<"$run_help" | grep -Eq "$FORMATS" || fail "aimc run --help lists no formats"
    runner_help="$("$HELLO" --help)"
    grep -q -- "--trace-format" <<<"$runner_help" || fail "runner --help does not name --trace-format"
    ;;

  cnn)
    MODEL="$SRC/platforms/models/fashion_mnist_cnn.onnx"
    for t in cnn.json cnn.vcd cnn.csv; do
      "$AIMC" run --model "$MODEL" --limit 2 --seed 3 --no-progress -q --report "$TMP/$t.report.json" \
        --trace "$TMP/$t" > /dev/null || fail "aimc run --trace $t"
    done
    "$AIMC" run --model "$MODEL" --limit 2 --seed 3 --no-progress -q --report "$TMP/opt.report.json" \
      --trace "$TMP/cnn.table" --trace-format csv > /dev/null || fail "aimc run --trace-format csv"
    cmp -s "$TMP/cnn.csv" "$TMP/cnn.table" || fail "--trace-format csv differs from the .csv extension"
    "$PY" - "$TMP" <<'EOF' || fail "the CNN traces disagree (see above)"
import csv, json, sys
tmp = sys.argv[1]
# The reference: the Chrome JSON, spans in integer picoseconds (ts, dur are exact decimals of us).
doc = json.load(open(f"{tmp}/cnn.json"))
tracks = {e["tid"]: e["args"]["name"] for e in doc["traceEvents"] if e.get("name") == "thread_name"}
to_ps = lambda us: int(round(float(us) * 1e6))
spans = [(tracks[e["tid"]], e["name"], to_ps(e["ts"]), to_ps(e["dur"]), e.get("args", {}))
         for e in doc["traceEvents"] if e["ph"] == "X"]
assert spans, "no spans in the JSON trace"
for name in ("cnn.json", "cnn.vcd", "cnn.csv"):  # the store is the same whatever the writer
    r = json.load(open(f"{tmp}/{name}.report.json"))
    assert r["trace_events"] == len([e for e in doc["traceEvents"] if e["ph"] != "M"]), name

# CSV: one row per span, same order, same times and arguments.
rows = list(csv.DictReader(open(f"{tmp}/cnn.csv", newline="")))
span_rows = [r for r in rows if r["kind"] == "span"]
assert len(span_rows) == len(spans), (len(span_rows), len(spans))
for r, (track, name, t, dur, args) in zip(span_rows, spans):
    assert (r["track"], r["name"], int(r["t_begin_ps"]), int(r["dur_ps"])) == (track, name, t, dur), (r, track, name, t, dur)
    for k, v in args.items():
        assert r[k] != "" and (r[k] == v if isinstance(v, str) else float(r[k]) == float(v)), (k, v, r)
mvm_rows = [r for r in span_rows if r["track"] == "tile0" and r["name"] == "mvm"]
assert len(mvm_rows) == sum(1 for s in spans if s[0] == "tile0" and s[1] == "mvm") > 0
assert {"signal", "counter", "span"} <= {r["kind"] for r in rows}, {r["kind"] for r in rows}
assert any(r["kind"] == "signal" and r["name"] == "irq" and r["value"] == "1" for r in rows)

# VCD: header, time order, every variable used, tile0 busy exactly where tile0 spans are open.
text = open(f"{tmp}/cnn.vcd").read()
assert "$timescale 1ps $end" in text and "$date" not in text
head, body = text.split("$enddefinitions $end\n")
ids, scope = {}, []
for line in head.splitlines():
    tok = line.split()
    if tok[:1] == ["$scope"]: scope.append(tok[2])
    elif tok[:1] == ["$upscope"]: scope.pop()
    elif tok[:1] == ["$var"]: ids[tok[3]] = scope[-1] + "." + tok[4]
for want in ("tile0.busy", "bus.busy", "bus.bytes_in_flight", "sram.busy", "host.irq", "host.power_state"):
    assert want in ids.values(), (want, sorted(ids.values()))
waves, now, times = {i: [] for i in ids}, 0, []
tokens = iter(body.split())
for tok in tokens:
    if tok.startswith("#"):
        now = int(tok[1:])
        times.append(now)
    elif tok.startswith("$"):
        continue  # $dumpvars / $end
    elif tok[0] in "rb":
        waves[next(tokens)].append((now, tok[1:]))
    else:
        waves[tok[1:]].append((now, tok[0]))
assert times == sorted(set(times)), "time stamps not strictly increasing"
assert all(w and w[0][0] == 0 for w in waves.values()), "a variable without an initial value"
# Every variable changes after #0, but the power state: aimc run keeps the chip ACTIVE.
unused = [ids[i] for i, w in waves.items() if len(w) < 2]
assert unused in ([], ["host.power_state"]), f"variables that never change: {unused}"
# Every track's busy: exactly the union of its spans of positive length; bytes_in_flight: the
# sum of `bytes` of the open spans. Both recomputed here from the JSON.
def collapse(points):  # [(t, value)] in time order, last value at a time, changes only
    out = []
    for t, v in points:
        if out and out[-1][0] == t: out.pop()
        if not out or out[-1][1] != v: out.append((t, v))
    return out
scope = lambda track: "".join(c if c.isalnum() or c == "_" else "_" for c in track)
checked = {}
for track in sorted({s[0] for s in spans}):
    mine = [s for s in spans if s[0] == track]
    edges = sorted([(t, 1, a.get("bytes", 0)) for _, _, t, d, a in mine] +
                   [(t + d, -1, -a.get("bytes", 0)) for _, _, t, d, a in mine])
    busy, flight, n_open, total = [(0, "0")], [(0, 0.0)], 0, 0.0
    for i, (t, o, b) in enumerate(edges):
        n_open += o; total += b
        if i + 1 < len(edges) and edges[i + 1][0] == t: continue
        busy.append((t, "1" if n_open > 0 else "0")); flight.append((t, total if n_open else 0.0))
    ids_of = {n: i for i, n in ids.items()}
    got = collapse(waves[ids_of[scope(track) + ".busy"]])
    assert got == collapse(busy), (track, "busy", got[:6], collapse(busy)[:6])
    if any("bytes" in a for *_, a in mine):
        got = collapse([(t, float(v)) for t, v in waves[ids_of[scope(track) + ".bytes_in_flight"]]])
        assert got == collapse(flight), (track, "bytes", got[:6], collapse(flight)[:6])
    checked[track] = len(got)
assert "tile0" in checked and "bus" in checked
irq = next(i for i, n in ids.items() if n == "host.irq")
assert [v for _, v in waves[irq]].count("1") >= 1 and [v for _, v in waves[irq]].count("0") >= 2
print(f"ok: {len(spans)} spans; CSV rows {len(rows)}; busy and bytes in flight of {len(checked)} "
      f"tracks as the JSON's spans say; {len(ids)} VCD variables, {len(times)} time stamps")
EOF
    ;;

  firmware)
    "$HELLO" --trace "$TMP/o/h.vcd" -q > /dev/null 2>"$TMP/err" || { cat "$TMP/err"; fail "hello --trace .vcd"; }
    "$HELLO" --trace "$TMP/o/h.out" --trace-format csv -q > /dev/null 2>"$TMP/err" ||
      { cat "$TMP/err"; fail "hello --trace-format csv"; }
    grep -q '^\$var wire 1 . irq \$end$' "$TMP/o/h.vcd" || fail "no irq wire in the VCD"
    grep -q '^\$var wire 2 . power_state \$end$' "$TMP/o/h.vcd" || fail "no power_state in the VCD"
    grep -q '^  firmware: ' "$TMP/o/h.vcd" || fail "no firmware metadata in the VCD header"
    head -1 "$TMP/o/h.out" | grep -q '^kind,track,name,t_begin_ps,dur_ps,' || fail "no CSV header"
    grep -q '^signal,host,irq,' "$TMP/o/h.out" || fail "no irq changes in the CSV"
    echo "ok: the firmware runner writes VCD and CSV"
    ;;

  *)
    fail "unknown mode $MODE"
    ;;
esac
