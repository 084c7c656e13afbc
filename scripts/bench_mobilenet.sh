#!/usr/bin/env bash
# Benchmark: one MobileNet-v1 1.0 (224 px) inference on the default platform against a
# single-threaded PyTorch float forward of the same network, on this machine, in this script.
# Prints both times, their ratios and the simulated MACs per wall-clock second.
#
# Usage: scripts/bench_mobilenet.sh [--set KEY=VALUE ...] [--runs N] [--no-build] [--out DIR]
#                                   [--workloads DIR]
#   --set K=V         passed through to `aimc run` (repeatable), e.g. --set tile.device.type=ideal
#   --runs N          run `aimc run` N times (default 3) and report the run with the median infer
#                     phase (torch's side is the median of its own repetitions)
#   --no-build        skip scripts/build.sh (use the binary already in BUILD_DIR)
#   --out DIR         keep report.json, torch.json, aimc.log and bench.json here (default: a temp
#                     folder, removed at the end)
#   --workloads DIR   reuse the ONNX file and reference input of scripts/workloads.py in DIR
#                     (default: build them into the work folder, ~3 s)
# Env: BUILD_DIR (build folder, default build/), PYTHON (default /usr/bin/python3).
# See bench/README.md for what the rows mean.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
PYTHON="${PYTHON:-/usr/bin/python3}"
AIMC="$BUILD_DIR/platforms/aimc"
NAME=mobilenet_v1_224

usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { echo "bench_mobilenet: error: $*" >&2; exit 2; }

build=1
runs=3
out=""
wl=""
sets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --set) [ $# -ge 2 ] || die "--set needs KEY=VALUE"; sets+=(--set "$2"); shift 2 ;;
    --set=*) sets+=(--set "${1#--set=}"); shift ;;
    --no-build) build=0; shift ;;
    --runs) [ $# -ge 2 ] || die "--runs needs a number"; runs="$2"; shift 2 ;;
    --runs=*) runs="${1#--runs=}"; shift ;;
    --out) [ $# -ge 2 ] || die "--out needs a folder"; out="$2"; shift 2 ;;
    --out=*) out="${1#--out=}"; shift ;;
    --workloads) [ $# -ge 2 ] || die "--workloads needs a folder"; wl="$2"; shift 2 ;;
    --workloads=*) wl="${1#--workloads=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
case "$runs" in ''|*[!0-9]*) die "--runs: expected a positive integer, got '$runs'" ;; esac
[ "$runs" -ge 1 ] || die "--runs: expected a positive integer, got '$runs'"
[ -x "$PYTHON" ] || die "$PYTHON not found (needs torch, onnx, numpy; set PYTHON=...)"

if [ -n "$out" ]; then
  mkdir -p "$out"; work="$(cd "$out" && pwd)"
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/aimc-bench-mobilenet.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
fi

# ---- Build (installs what is missing; idempotent). Its output goes to stderr. ----
"$ROOT/scripts/setup.sh" --python >&2 || die "could not install the Python packages"
if [ "$build" -eq 1 ]; then
  echo "bench_mobilenet: building into $BUILD_DIR (scripts/build.sh)" >&2
  "$ROOT/scripts/build.sh" >&2 || die "build failed (retry, or BUILD_DIR=... scripts/bench_mobilenet.sh)"
fi
[ -x "$AIMC" ] || die "$AIMC not found (build first, or drop --no-build)"

# ---- The network: ONNX file, reference input and torch output (scripts/workloads.py). ----
if [ -z "$wl" ]; then
  wl="$work/workloads"
  echo "bench_mobilenet: building $NAME with scripts/workloads.py" >&2
  "$PYTHON" "$ROOT/scripts/workloads.py" --only "$NAME" --out "$wl" >&2 || die "scripts/workloads.py failed"
fi
for f in "$wl/$NAME.onnx" "$wl/$NAME.input.npy"; do
  [ -f "$f" ] || die "$f not found (scripts/workloads.py --only $NAME --out $wl)"
done

now() { date +%s.%N; }

# ---- aimc run: one inference, timed from outside (process start to exit), $runs times. ----
walls=()
for i in $(seq 1 "$runs"); do
  echo "bench_mobilenet: aimc run --model $NAME.onnx --input $NAME.input.npy --limit 1 ${sets[*]} (run $i of $runs)" >&2
  t0="$(now)"
  if ! "$AIMC" run --no-progress --model "$wl/$NAME.onnx" --input "$wl/$NAME.input.npy" --limit 1 \
      --report "$work/report.$i.json" "${sets[@]}" > "$work/aimc.$i.log" 2>&1; then
    cat "$work/aimc.$i.log" >&2
    die "aimc run failed"
  fi
  t1="$(now)"
  walls+=("$(echo "$t1 - $t0" | LC_ALL=C awk '{printf "%.6f", $1 - $3}')")
done

# ---- torch, single-threaded, the same network and input. ----
echo "bench_mobilenet: torch float forward (scripts/bench_torch_cnn.py, 1 thread)" >&2
"$PYTHON" "$ROOT/scripts/bench_torch_cnn.py" --workloads "$wl" --name "$NAME" --json "$work/torch.json" >&2 \
  || die "scripts/bench_torch_cnn.py failed"

# ---- Table. ----
AIMC_WALLS="${walls[*]}" WORK="$work" "$PYTHON" - <<'EOF'
import datetime, json, os, platform, shutil

work = os.environ["WORK"]
walls = [float(w) for w in os.environ["AIMC_WALLS"].split()]
reports = [json.load(open(os.path.join(work, f"report.{i + 1}.json"))) for i in range(len(walls))]
infers = [r["wall_seconds_by_phase"]["infer"] for r in reports]
# The run with the median infer phase (the lower middle one for an even count) is the one shown.
pick = sorted(range(len(infers)), key=lambda i: infers[i])[(len(infers) - 1) // 2]
rep = reports[pick]
shutil.copyfile(os.path.join(work, f"report.{pick + 1}.json"), os.path.join(work, "report.json"))
shutil.copyfile(os.path.join(work, f"aimc.{pick + 1}.log"), os.path.join(work, "aimc.log"))
tor = json.load(open(os.path.join(work, "torch.json")))
aimc_wall = walls[pick]
ph = rep["wall_seconds_by_phase"]
macs = int(rep["macs_per_inference"])
if macs != tor["macs_per_inference"]:
    print(f"  warning: MACs per inference differ: aimc {macs}, torch {tor['macs_per_inference']}")
infer = ph["infer"]
reload_s = ph["infer_programming"]
compute = infer - reload_s
fwd = tor["forward_s"]
model_name = "?"
try:
    model_name = open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(" :\t")
except (OSError, IndexError):
    pass
rl = rep["reload"]
print()
print(f"aimc-vp MobileNet-v1 1.0 224 benchmark, {datetime.date.today().isoformat()}, "
      f"{os.cpu_count()} CPUs ({model_name}), platform {rep['platform']}, torch {tor['torch_version']} "
      f"{tor['threads']} thread")
print(f"  network: {macs:,} MACs, {rep['params']:,} parameters; on the chip: {rl['segments']} segments "
      f"(weight loads per pass), {rl['weight_loads']} reloads for this inference, "
      f"{rl['cells_programmed']:,} cells reprogrammed")
print()
print(f"  aimc runs: {len(infers)}; the median one shown (infer phase over the runs: "
      f"{min(infers):.3f} to {max(infers):.3f} s)")
print()
print(f"  {'wall-clock seconds':62s} {'seconds':>9s} {'/ torch':>9s}")
rows = [
    ("torch forward, batch 1 (median of reps)", fwd, None),
    ("aimc: simulated inference, its reloads included (median run)", infer, infer / fwd),
    ("  of which program-and-verify of the reloaded cells", reload_s, reload_s / fwd),
    ("  the rest: the inference itself (tiles, bus, SRAM, digital)", compute, compute / fwd),
    ("aimc: deploy (programming segment 0)", ph["deploy"], None),
    ("aimc: prepare (import, compile, float reference)", ph["prepare"], None),
    ("aimc: whole process (measured by this script)", aimc_wall, aimc_wall / tor["end_to_end_s"]),
    ("torch: end to end (import, build, first forward)", tor["end_to_end_s"], None),
]
for name, s, r in rows:
    print(f"  {name:62s} {s:9.3f} " + (f"{r:8.2f}x" if r is not None else f"{'':9s}"))
print()
print(f"  simulated MACs per wall second: {macs / infer:.3e} over the infer phase, "
      f"{macs / compute:.3e} without the reload programming, {macs / aimc_wall:.3e} over the whole run")
print(f"  simulated chip: latency {rep['latency_ns']['per_inference_compute'] / 1e6:.3f} ms of compute, "
      f"{rep['latency_ns']['per_inference'] / 1e9:.3f} s with the reloads between segments, "
      f"{rep['latency_ns']['per_inference_with_dma'] / 1e9:.3f} s with DMA; "
      f"{rep['energy_j']['per_inference'] * 1e3:.3f} mJ per inference "
      f"({rl['energy_j_per_inference'] * 1e3:.3f} mJ of it the reload: "
      f"{rl['energy_j_dynamic'] * 1e3 / rep['images']:.3f} mJ programming, "
      f"{rl['energy_j_static'] * 1e3 / rep['images']:.3f} mJ static power)")
agree = rep.get("agreement_with_float", {})
if agree:
    print(f"  outputs vs float: rms error {100 * agree.get('output_rms_error_relative', float('nan')):.1f} % of the float outputs' rms")
head_all = infer / fwd
head_compute = compute / fwd
print()
print(f"  HEADLINE  simulated inference / torch forward = {head_all:.2f}x incl. the weight reloads, "
      f"{head_compute:.2f}x for the inference itself (goal: at most 3x)")

summary = {
    "date": datetime.datetime.now().isoformat(timespec="seconds"),
    "host": platform.node(), "cpus": os.cpu_count(), "cpu_model": model_name,
    "aimc_wall_s": aimc_wall, "aimc_wall_seconds_by_phase": ph, "torch": tor,
    "aimc_runs": len(infers), "aimc_infer_s_by_run": infers,
    "ratio_infer_over_torch": head_all, "ratio_infer_without_reload_over_torch": head_compute,
    "ratio_process_over_torch_end_to_end": aimc_wall / tor["end_to_end_s"],
    "simulated_macs_per_wall_second": {"infer": macs / infer, "infer_without_reload": macs / compute,
                                       "process": macs / aimc_wall},
    "reload": rl,
}
with open(os.path.join(work, "bench.json"), "w") as f:
    json.dump(summary, f, indent=2)
    f.write("\n")
EOF
[ -n "$out" ] && echo "bench_mobilenet: results kept in $work" >&2
exit 0
