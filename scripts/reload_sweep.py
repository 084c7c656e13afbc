#!/usr/bin/python3
"""Weight reload against batch size: run `aimc run --batch K` for several K and tabulate what the
reload costs per inference (the trade-off of Bowen et al., arXiv:2302.06417; see
/work/shared/reference-chips.md section 7 and README "Weight reload and batching").

A network whose weights do not fit on the chip runs in segments; every batch of K images pays one
reprogramming of each segment the tiles do not hold, so the reload time and energy per inference
fall as 1/K until the inference itself dominates. The first image of a run goes alone (it measures
the latency), so --images 1 + a multiple of every K keeps the batches full.

    /usr/bin/python3 scripts/reload_sweep.py --model build/workloads/mobilenet_v1_025_96.onnx \\
        --set grid.rows=1 --set grid.cols=1 --batches 1,4,16,32 --images 65

Prints a Markdown table on stdout (progress on stderr); --json FILE keeps every report's numbers.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def die(msg):
    print("reload_sweep: error: " + msg, file=sys.stderr)
    sys.exit(2)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--aimc", default=os.path.join(os.environ.get("BUILD_DIR", os.path.join(ROOT, "build")),
                                                    "platforms", "aimc"),
                    help="the aimc binary (default: $BUILD_DIR/platforms/aimc, BUILD_DIR=build)")
    ap.add_argument("--model", required=True, help="ONNX model")
    ap.add_argument("--input", default="random", help="random (default) or FILE.npy, as aimc run --input")
    ap.add_argument("--images", type=int, default=65, help="images per run (default: %(default)s)")
    ap.add_argument("--batches", default="1,4,16", help="comma-separated K values (default: %(default)s)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="platform override (repeatable)")
    ap.add_argument("--platform", help="platform YAML (default: aimc's)")
    ap.add_argument("--json", help="write the numbers of every run here")
    args = ap.parse_args()
    try:
        ks = [int(k) for k in args.batches.split(",") if k.strip()]
    except ValueError:
        die(f"--batches: expected comma-separated integers, got {args.batches!r}")
    if not ks or min(ks) < 1:
        die("--batches: every K must be >= 1")
    if args.images < 1:
        die("--images must be >= 1")
    if not os.access(args.aimc, os.X_OK):
        die(f"{args.aimc} not found (build first: scripts/build.sh)")

    rows = []
    env = dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE")
    with tempfile.TemporaryDirectory() as tmp:
        for k in ks:
            rep_path = os.path.join(tmp, f"k{k}.json")
            cmd = [args.aimc, "run", "--no-progress", "-q", "--model", args.model, "--input", args.input,
                   "--limit", str(args.images), "--batch", str(k), "--report", rep_path]
            if args.platform:
                cmd += ["--platform", args.platform]
            for s in args.set:
                cmd += ["--set", s]
            print("reload_sweep: " + " ".join(cmd), file=sys.stderr)
            p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if p.returncode != 0:
                sys.stderr.write(p.stdout)
                die(f"aimc run --batch {k} failed (exit {p.returncode})")
            r = json.load(open(rep_path))
            rl = r["reload"]
            n = r["images"]
            rows.append({
                "K": k,
                "K_used": r["batch"],  # --batch capped by max_batch (SRAM) and by the images
                "max_batch": r["max_batch"],
                "images": n,
                "segments": rl["segments"],
                "weight_loads": rl["weight_loads"],
                "reload_s_per_inference": rl["time_ns"] * 1e-9 / n,
                "reload_mj_per_inference": rl["energy_j_per_inference"] * 1e3,  # static included
                "reload_static_mj_per_inference": rl["energy_j_static"] * 1e3 / n,
                "energy_mj_per_inference": r["energy_j"]["per_inference"] * 1e3,
                "time_s_per_inference": r["latency_ns"]["amortized_per_inference"] * 1e-9,
                "compute_latency_ms": r["latency_ns"]["per_inference_compute"] * 1e-6,
                "latency_s": r["latency_ns"]["per_inference"] * 1e-9,  # reloads between segments included
                "throughput_per_s": r["throughput_inferences_per_s"],
                "cells_reprogrammed": rl["cells_programmed"],
                "wall_s": r["wall_seconds"],
            })
    if not rows or rows[0]["segments"] < 2:
        print("reload_sweep: note: the network fits the chip (one segment): nothing is reloaded", file=sys.stderr)
    print("| K (images per weight load) | weight loads | reload time / inference (s) | reload energy / inference (mJ) "
          "| of which static (mJ) | energy / inference (mJ) | time / inference (s) | inferences/s |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for w in rows:
        k = str(w["K"])
        if w["K_used"] != w["K"]:
            k += f" ({w['K_used']}: {'SRAM' if w['K_used'] == w['max_batch'] else 'images'})"
        print(f"| {k} | {w['weight_loads']} | {w['reload_s_per_inference']:.3f} | {w['reload_mj_per_inference']:.3f} "
              f"| {w['reload_static_mj_per_inference']:.3f} | {w['energy_mj_per_inference']:.3f} "
              f"| {w['time_s_per_inference']:.3f} | {w['throughput_per_s']:.3g} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
