#!/usr/bin/python3
"""scripts/scaling_study.sh end to end on cut-down copies of the study's sweep files (the two
smallest problems, the two largest arrays, a few inputs, one seed, K = 1 only), and the slopes the
physics predicts, with tolerances from the full study's values (docs/scaling-study.md):

- the problem's size on one chip (scaling-problem): energy per operation ~ 1/N; slope -1.01
  between N = 64 and 128 in the full study; here in [-1.15, -0.85];
- weights resident, tiles of M x M (scaling-resident), M = 256 -> 512: the energy per operation
  falls (slope < 0; -0.04 in the full study, the host link's constant share dominating) and the
  chip's own TOPS/W rises (slope > 0.3; +0.55 there);
- weights reloaded for every input (scaling-reload, K = 1), M = 256 -> 512: the advantage is lost,
  e_op = O(1): |slope| < 0.2 (-0.08 in the full study: the static power over the reprogramming
  time and the sector erases, which do not scale), the chip's TOPS/W slope at least 0.25 below the
  resident chip's (+0.08 against +0.55), and the energy per operation over 1000x the resident one
  (3.0e4x in the full study).

    scaling_study_smoke.py AIMC
"""
import csv
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

from checks import ROOT, check, finish

SCRIPT = os.path.join(ROOT, "scripts", "scaling_study.sh")
SWEEPS = os.path.join(ROOT, "platforms", "sweeps")


def cut_down(src, dst):
    """A copy of sweep file src at dst with two sizes (the two smallest models, the two largest
    arrays), few inputs, one seed and K = 1."""
    with open(src) as f:
        spec = yaml.safe_load(f)
    spec["seeds"] = 1
    if "zip" in spec:  # the two largest arrays: the reload costs the same at any M (512^2 weights)
        spec["zip"] = {k: v[-2:] for k, v in spec["zip"].items()}
    if len(spec.get("models", [])) > 1:
        spec["models"] = spec["models"][:2]
    if "run.batch" in spec.get("axes", {}):
        spec["axes"]["run.batch"] = [1]
        spec["limit"] = 3  # the first image loads 1 segment, then 2 loads per image: 5 loads
    else:
        spec["limit"] = 9
    with open(dst, "w") as f:
        yaml.safe_dump(spec, f, sort_keys=False)


def slopes(text):
    """{(section, figure, line): slope} from slopes.md."""
    out, section, figure = {}, None, None
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        m = re.match(r"Log-log fit of (\S+) ", line)
        if m:
            figure = m.group(1)
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 5:
            try:
                out[(section, figure, cells[0])] = float(cells[1])
            except ValueError:
                pass
    return out


def main():
    aimc = os.path.abspath(sys.argv[1])
    build = os.path.dirname(os.path.dirname(aimc))
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="aimc-scaling-smoke.") as tmp:
        sweeps = os.path.join(tmp, "platforms", "sweeps")
        os.makedirs(sweeps)
        for name in ("problem", "resident", "reload"):
            cut_down(os.path.join(SWEEPS, f"scaling-{name}.yaml"), os.path.join(sweeps, f"scaling-{name}.yaml"))
        out = os.path.join(tmp, "out")
        env = dict(os.environ, SCALING_SWEEPS=sweeps, SCALING_OUT=out, SCALING_JOBS="2",
                   SC_COPYRIGHT_MESSAGE="DISABLE")
        p = subprocess.run(["bash", SCRIPT, build], env=env, capture_output=True, text=True)
        check(p.returncode == 0, f"scaling_study.sh exited {p.returncode}: {p.stderr[-2000:]}")
        md = os.path.join(out, "slopes.md")
        text = open(md).read() if os.path.isfile(md) else ""
        check(text.strip() == p.stdout.strip(), "the slopes printed are those in slopes.md")
        s = slopes(text)
        eop = "energy_j.per_inference/macs_per_inference"

        def get(section, figure, line):
            v = s.get((section, figure, line))
            check(v is not None, f"no slope for {section} {figure} {line} in {md}: {text}")
            return v if v is not None else float("nan")

        v = get("problem", eop, "all")
        check(-1.15 <= v <= -0.85, f"problem size on one chip: e_op slope {v}, expected ~-1 (1/N)")
        v = get("resident", eop, "all")
        check(v < 0, f"weights resident: e_op slope {v}, expected < 0")
        resident_chip = get("resident", "tops_per_w_chip", "all")
        check(resident_chip > 0.3, f"weights resident: chip TOPS/W slope {resident_chip}, expected > 0.3")
        v = get("reload", eop, "1")
        check(abs(v) < 0.2, f"reload every input: e_op slope {v}, expected near 0 (|b| < 0.2)")
        reload_chip = get("reload", "tops_per_w_chip", "1")
        check(resident_chip - reload_chip > 0.25, f"chip TOPS/W slopes: resident {resident_chip}, reload "
              f"{reload_chip}: the reload should lose the resident chip's gain with M")
        plots_dir = os.path.join(out, "plots")
        plots = sorted(os.listdir(plots_dir)) if os.path.isdir(plots_dir) else []
        for name in ("problem-eop", "problem-adc", "resident-eop", "resident-tops-per-w-chip", "resident-energy",
                     "reload-eop", "reload-eop-vs-k", "reload-energy"):
            check(f"scaling-{name}.png" in plots, f"scaling-{name}.png drawn: {plots}")

        def eop_at(name, rows):
            with open(os.path.join(out, name, "summary.csv"), newline="") as f:
                for r in csv.DictReader(f):
                    if r["tile.array.rows"] == rows:
                        return float(r["energy_j.per_inference.mean"]) / float(r["macs_per_inference.mean"]) / 2
            return float("nan")
        ratio = eop_at("reload", "512") / eop_at("resident", "512")
        check(ratio > 1000, f"reload every input / resident at M = 512: {ratio:.3g}x, expected > 1000x")
        shutil.rmtree(out, ignore_errors=True)
    elapsed = time.monotonic() - t0
    print(f"scaling_study_smoke: {elapsed:.1f} s")
    return finish("scaling_study_smoke")


if __name__ == "__main__":
    sys.exit(main())
