#!/usr/bin/python3
"""An architect's sweep: run `aimc run` over a grid of platform settings and tabulate accuracy,
energy, latency, throughput and area side by side, one row per point.

    /usr/bin/python3 scripts/sweep.py --vary tile.adc.bits=4,6,8 --vary tile.adc.kind=sar,ramp \\
        --limit 1000

Every --vary KEY=V1,V2,... is one axis; the points are every combination (the last axis varies
fastest), or, with --zip, the i-th values of every axis together (axes of equal length). --set
KEY=VALUE applies to every point (a `--set` of aimc run: keys in docs/platform-config.md); a point
may name several keys on one axis with --vary 'KEY1=a,b' --vary 'KEY2=c,d' --zip. Each point is
its own process; -j runs several at once. Prints a Markdown table on stdout (progress and errors
on stderr); --csv FILE and --json FILE keep the numbers. A point that fails is reported in its
row and makes the exit status 1; the other points still run.

Columns (units in the header): the axes' values, accuracy (platform, %; agreement with the float
model when the inputs have no labels), energy per inference (nJ) and the ADC's share of it (nJ),
latency of one image alone (ns), throughput (inferences/s), TOPS/W of the chip (host link
excluded), silicon area and the ADCs' part of it (mm2) and peak TOPS/mm2. README ("An architect's sweep") shows one.
"""
import argparse
import concurrent.futures
import csv
import itertools
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (header, unit, how to get it from a report)
COLUMNS = [
    ("accuracy", "%", lambda r: 100.0 * (r["accuracy"]["platform"] if r.get("accuracy")
                                         else r["agreement_with_float"]["top1"])),
    ("energy/inference", "nJ", lambda r: r["energy_j"]["per_inference"] * 1e9),
    ("adc", "nJ", lambda r: r["energy_j"]["by_component"].get("adc", 0.0) * 1e9),
    ("latency", "ns", lambda r: r["latency_ns"]["per_inference"]),
    ("throughput", "inf/s", lambda r: r["throughput_inferences_per_s"]),
    ("chip TOPS/W", "1e12 ops/J", lambda r: r["tops_per_w_chip"]),
    ("area", "mm2", lambda r: r["area_mm2"]["total"]),
    ("adc area", "mm2", lambda r: r["area_mm2"]["adc"]),
    ("peak TOPS/mm2", "1e12 ops/s/mm2", lambda r: r["peak_tops_per_mm2"]),
]


def die(msg):
    print("sweep: error: " + msg, file=sys.stderr)
    sys.exit(2)


def parse_axis(text):
    if "=" not in text:
        die(f"--vary {text!r}: expected KEY=V1,V2,... (e.g. tile.adc.bits=4,6,8)")
    key, values = text.split("=", 1)
    key = key.strip()
    vals = [v.strip() for v in values.split(",")]
    if not key or not vals or any(not v for v in vals):
        die(f"--vary {text!r}: expected a key and a comma-separated list of non-empty values")
    return key, vals


def points(axes, zipped):
    if zipped:
        lengths = {len(v) for _, v in axes}
        if len(lengths) != 1:
            die("--zip: every --vary needs the same number of values, got " +
                ", ".join(f"{k}: {len(v)}" for k, v in axes))
        return [list(zip([k for k, _ in axes], combo)) for combo in zip(*[v for _, v in axes])]
    keys = [k for k, _ in axes]
    return [list(zip(keys, combo)) for combo in itertools.product(*[v for _, v in axes])]


def run_point(args, point, workdir, index):
    report = os.path.join(workdir, f"point{index}.json")
    cmd = [args.aimc, "run", "--report", report]
    if args.platform:
        cmd += ["--platform", args.platform]
    if args.model:
        cmd += ["--model", args.model]
    if args.limit:
        cmd += ["--limit", str(args.limit)]
    if args.input:
        cmd += ["--input", args.input]
    for s in args.set:
        cmd += ["--set", s]
    for key, value in point:
        cmd += ["--set", f"{key}={value}"]
    env = dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE")
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    if proc.returncode != 0:
        lines = [l for l in proc.stderr.strip().splitlines() if l.strip()]
        return None, (lines[-1] if lines else f"aimc run exited with {proc.returncode}")
    with open(report) as f:
        return json.load(f), None


def fmt(v):
    if isinstance(v, str):
        return v
    if v == 0 or 0.01 <= abs(v) < 1e6:
        return f"{v:.4g}" if abs(v) < 100 else f"{v:.0f}"
    return f"{v:.3g}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--aimc", default=os.path.join(os.environ.get("BUILD_DIR", os.path.join(ROOT, "build")),
                                                    "platforms", "aimc"),
                    help="the aimc binary (default: $BUILD_DIR/platforms/aimc, BUILD_DIR=build)")
    ap.add_argument("--vary", action="append", default=[], metavar="KEY=V1,V2,...",
                    help="one axis of the sweep (repeatable)")
    ap.add_argument("--zip", action="store_true", help="pair the axes' values instead of combining them")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="platform override for every point (repeatable)")
    ap.add_argument("--platform", help="platform YAML (default: aimc's)")
    ap.add_argument("--model", help="ONNX model (default: aimc's, the bundled MLP)")
    ap.add_argument("--input", help="as aimc run --input (default: the Fashion-MNIST test set)")
    ap.add_argument("--limit", type=int, default=1000, help="images per point (default: %(default)s)")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="points run at once (default: %(default)s)")
    ap.add_argument("--csv", help="also write the table as CSV here")
    ap.add_argument("--json", help="also write every point's settings and numbers here")
    args = ap.parse_args()
    if not args.vary:
        die("nothing to sweep: give at least one --vary KEY=V1,V2,...")
    if args.limit < 1:
        die(f"--limit: expected an integer >= 1, got {args.limit}")
    if args.jobs < 1:
        die(f"-j: expected an integer >= 1, got {args.jobs}")
    if not os.access(args.aimc, os.X_OK):
        die(f"{args.aimc}: no aimc binary there (build first: scripts/build.sh, or give --aimc)")
    axes = [parse_axis(a) for a in args.vary]
    if len({k for k, _ in axes}) != len(axes):
        die("--vary: a key appears on two axes")
    pts = points(axes, args.zip)

    rows, failed = [], 0
    with tempfile.TemporaryDirectory(prefix="aimc-sweep.") as work:
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = [pool.submit(run_point, args, p, work, i) for i, p in enumerate(pts)]
            for i, (p, fut) in enumerate(zip(pts, futures)):
                report, error = fut.result()
                label = ", ".join(f"{k}={v}" for k, v in p)
                print(f"sweep: [{i + 1}/{len(pts)}] {label}: " + ("ok" if error is None else "FAILED: " + error),
                      file=sys.stderr)
                values = {}
                if error is None:
                    for name, unit, get in COLUMNS:
                        values[f"{name} ({unit})"] = get(report)
                else:
                    failed += 1
                rows.append({"point": dict(p), "values": values, "error": error})

    headers = [k for k, _ in axes] + [f"{n} ({u})" for n, u, _ in COLUMNS]
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for row in rows:
        cells = [row["point"][k] for k, _ in axes]
        if row["error"] is None:
            cells += [fmt(row["values"][h]) for h in headers[len(axes):]]
        else:
            cells += ["failed: " + row["error"]] + [""] * (len(COLUMNS) - 1)
        print("| " + " | ".join(str(c) for c in cells) + " |")
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(headers + ["error"])
            for row in rows:
                w.writerow([row["point"][k] for k, _ in axes] +
                           [row["values"].get(h, "") for h in headers[len(axes):]] + [row["error"] or ""])
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"axes": [k for k, _ in axes], "set": args.set, "limit": args.limit, "rows": rows}, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
