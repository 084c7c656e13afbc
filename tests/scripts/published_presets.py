#!/usr/bin/python3
"""The presets of published chips on a mesh (ibm-speech, mythic-m1076; issue 16, "Done when": the
new presets load and run the bundled workloads): each runs the bundled MLP and
- keeps the float model's accuracy within 3 points (the preset's cells and converters serve a
  real network, not only its calibration target);
- runs on its 2D mesh: the report's interconnect is a mesh with every link of its grid listed
  (2 (rows (cols - 1) + cols (rows - 1)) between neighbours, 2 to the port: the grids 2 x 17 and
  4 x 19 of 34 and 76 tiles) and its energy under noc.

    published_presets.py AIMC
"""
import os
import sys
import tempfile

from checks import ROOT, check, finish, run_aimc

PRESETS = {"ibm-speech": (2, 17), "mythic-m1076": (4, 19)}


def main():
    aimc = sys.argv[1]
    with tempfile.TemporaryDirectory() as d:
        for name, (rows, cols) in PRESETS.items():
            r, err = run_aimc(aimc, os.path.join(d, name + ".json"),
                              ["--platform", os.path.join(ROOT, "platforms", name + ".yaml"), "--limit", "100"])
            check(r is not None, f"{name}: aimc failed: {err}")
            if r is None:
                continue
            check(r["platform"] == name, f"{name}: the report names {r['platform']}")
            acc, fl = r["accuracy"]["platform"], r["accuracy"]["float"]
            check(acc >= fl - 0.03, f"{name}: accuracy {100 * acc:.1f} % against {100 * fl:.1f} % float")
            ic = r["interconnect"]
            check(ic["kind"] == "mesh", f"{name}: interconnect {ic['kind']}")
            n_links = 2 * (rows * (cols - 1) + cols * (rows - 1)) + 2
            check(len(ic["links"]) == n_links, f"{name}: {len(ic['links'])} links, expected {n_links}")
            check(r["energy_j"]["by_component"].get("noc", 0) > 0, f"{name}: no noc energy")
            print(f"{name}: accuracy {100 * acc:.1f} % (float {100 * fl:.1f} %), "
                  f"{r['time_ns']['infer'] / r['images']:.1f} ns and "
                  f"{1e9 * r['energy_j']['per_inference']:.1f} nJ per inference, peak {r['peak_tops']:.2f} TOPS, "
                  f"bottleneck {r['bottleneck']['resource']} {100 * r['bottleneck']['utilization']:.1f} %")
    return finish("published_presets")


if __name__ == "__main__":
    sys.exit(main())
