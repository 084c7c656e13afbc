#!/usr/bin/env bash
# Benchmark: `aimc run` over the Fashion-MNIST test set against a single-threaded PyTorch float
# forward of the same ONNX model, on this machine, in this script. Prints both times and ratios.
#
# Usage: scripts/bench.sh [--limit N] [--set KEY=VALUE ...] [--no-build] [--out DIR]
#   --limit N     only the first N test images (both sides; default: all 10,000)
#   --set K=V     passed through to `aimc run` (repeatable)
#   --no-build    skip scripts/build.sh (use the binary already in BUILD_DIR)
#   --out DIR     keep report.json, torch.json, aimc.log and bench.json here (default: a temp
#                 folder, removed at the end)
# Env: BUILD_DIR (build folder, default build/), PYTHON (default /usr/bin/python3).
# See bench/README.md for what the columns mean.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
PYTHON="${PYTHON:-/usr/bin/python3}"
AIMC="$BUILD_DIR/platforms/aimc"

usage() { sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { echo "bench: error: $*" >&2; exit 2; }

limit=""
build=1
out=""
sets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --limit) [ $# -ge 2 ] || die "--limit needs a number"; limit="$2"; shift 2 ;;
    --limit=*) limit="${1#--limit=}"; shift ;;
    --set) [ $# -ge 2 ] || die "--set needs KEY=VALUE"; sets+=(--set "$2"); shift 2 ;;
    --set=*) sets+=(--set "${1#--set=}"); shift ;;
    --no-build) build=0; shift ;;
    --out) [ $# -ge 2 ] || die "--out needs a folder"; out="$2"; shift 2 ;;
    --out=*) out="${1#--out=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
if [ -n "$limit" ] && ! [[ "$limit" =~ ^[1-9][0-9]*$ ]]; then die "--limit: not a positive number: $limit"; fi
[ -x "$PYTHON" ] || die "$PYTHON not found (needs torch, onnx, numpy; set PYTHON=...)"

if [ -n "$out" ]; then
  mkdir -p "$out"; work="$(cd "$out" && pwd)"
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/aimc-bench.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
fi

# ---- Build (installs what is missing; idempotent). Its output goes to stderr. ----
# torch, onnx and numpy for the baseline (Debian packages; idempotent).
"$ROOT/scripts/setup.sh" --python >&2 || die "could not install the Python packages"
if [ "$build" -eq 1 ]; then
  echo "bench: building into $BUILD_DIR (scripts/build.sh)" >&2
  if ! "$ROOT/scripts/build.sh" >&2; then
    die "build failed (someone mid-edit? retry later, or BUILD_DIR=... scripts/bench.sh)"
  fi
fi
[ -x "$AIMC" ] || die "$AIMC not found (build first, or drop --no-build)"

now() { date +%s.%N; }
limit_args=()
[ -n "$limit" ] && limit_args=(--limit "$limit")

# ---- aimc run, timed from outside (process start to exit). ----
echo "bench: aimc run ${limit_args[*]} ${sets[*]}" >&2
timecmd=()
if [ -x /usr/bin/time ]; then timecmd=(/usr/bin/time -f '%e %U %S %M' -o "$work/aimc.time"); fi
t0="$(now)"
if ! "${timecmd[@]}" "$AIMC" run --no-progress --report "$work/report.json" \
    "${limit_args[@]}" "${sets[@]}" > "$work/aimc.log" 2>&1; then
  cat "$work/aimc.log" >&2
  die "aimc run failed"
fi
t1="$(now)"
aimc_wall="$(echo "$t1 - $t0" | LC_ALL=C awk '{printf "%.6f", $1 - $3}')"

# ---- torch, single-threaded, same model and images. ----
echo "bench: torch float reference (scripts/bench_torch.py, 1 thread)" >&2
tt0="$(now)"
"$PYTHON" "$ROOT/scripts/bench_torch.py" "${limit_args[@]}" --json "$work/torch.json" >&2 \
  || die "scripts/bench_torch.py failed"
tt1="$(now)"
torch_proc="$(echo "$tt1 - $tt0" | LC_ALL=C awk '{printf "%.6f", $1 - $3}')"

# ---- Table. ----
AIMC_WALL="$aimc_wall" TORCH_PROC="$torch_proc" WORK="$work" AIMC_BIN="$AIMC" \
  "$PYTHON" - <<'EOF'
import datetime, json, os, platform, subprocess

work = os.environ["WORK"]
rep = json.load(open(os.path.join(work, "report.json")))
tor = json.load(open(os.path.join(work, "torch.json")))
aimc_wall = float(os.environ["AIMC_WALL"])
n = int(rep["images"])
if n != tor["images"]:
    raise SystemExit(f"bench: image counts differ: aimc {n}, torch {tor['images']}")
cpu = ""
tf = os.path.join(work, "aimc.time")
if os.path.exists(tf):
    try:
        e, u, s, m = open(tf).read().split()[-4:]
        cpu = f"  (CPU user {float(u):.2f} s + sys {float(s):.2f} s, max RSS {int(m) / 1024:.0f} MB)"
    except ValueError:
        pass
model_name = "?"
try:
    model_name = open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(" :\t")
except (OSError, IndexError):
    pass

rows = [
    ("aimc run (wall, measured by this script)", aimc_wall),
    ("torch batched forward (median of reps)", tor["batched_s"]),
    ("torch per-image forward loop (batch 1)", tor["per_image_s"]),
    ("torch end to end incl. import + loading", tor["end_to_end_s"]),
]
if tor.get("onednn"):
    rows += [
        ("torch+oneDNN batched forward", tor["onednn"]["batched_s"]),
        ("torch+oneDNN per-image loop", tor["onednn"]["per_image_s"]),
    ]
print()
print(f"aimc-vp benchmark, {datetime.date.today().isoformat()}, {n} images, "
      f"{os.cpu_count()} CPUs ({model_name}), torch {tor['torch_version']} {tor['threads']} thread")
print(f"  {'':44s} {'seconds':>9s} {'images/s':>10s} {'aimc/this':>10s}")
for name, s in rows:
    print(f"  {name:44s} {s:9.3f} {n / s:10.0f} {aimc_wall / s:9.2f}x")
print()
print(f"  aimc wall_seconds (from the report)          {rep['wall_seconds']:9.3f}{cpu}")
print(f"  torch process, start to exit (all timings)   {float(os.environ['TORCH_PROC']):9.3f}")
print(f"  torch parts: import {tor['import_s']:.3f} s, model {tor['load_model_s']:.3f} s, "
      f"data {tor['load_data_s']:.3f} s")
macs = int(rep["macs_per_inference"])
if macs != tor["macs_per_inference"]:
    print(f"  warning: MACs per inference differ: aimc {macs}, torch {tor['macs_per_inference']}")
print(f"  simulated MACs per wall second (aimc)        {macs * n / aimc_wall:9.3e}"
      f"  ({macs} MACs/inference x {n} / {aimc_wall:.3f} s)")
acc_ok = abs(tor["accuracy"] - rep["accuracy"]["float"]) < 1e-9
print(f"  accuracy: torch float {100 * tor['accuracy']:.2f} %, aimc float "
      f"{100 * rep['accuracy']['float']:.2f} %, aimc platform "
      f"{100 * rep['accuracy']['platform']:.2f} %" + ("" if acc_ok else "  (FLOAT MISMATCH)"))
head = aimc_wall / tor["per_image_s"]
print()
print(f"  HEADLINE  aimc wall / torch per-image loop = {head:.2f}x  "
      f"(goal: at most 10x -> {'met' if head <= 10 else 'NOT met'})")

summary = {
    "date": datetime.datetime.now().isoformat(timespec="seconds"),
    "host": platform.node(), "cpus": os.cpu_count(), "cpu_model": model_name,
    "images": n, "aimc_wall_s": aimc_wall, "aimc_report_wall_seconds": rep["wall_seconds"],
    "torch": tor, "headline_ratio": head,
    "ratios": {name: aimc_wall / s for name, s in rows[1:]},
    "simulated_macs_per_wall_second": macs * n / aimc_wall,
    "accuracy": {"torch_float": tor["accuracy"], "aimc_float": rep["accuracy"]["float"],
                 "aimc_platform": rep["accuracy"]["platform"]},
}
with open(os.path.join(work, "bench.json"), "w") as f:
    json.dump(summary, f, indent=2)
    f.write("\n")
EOF
[ -n "$out" ] && echo "bench: results kept in $work" >&2
exit 0
