#!/usr/bin/python3
"""The chip's global digital unit (issue 16): gdpu.lanes on the bundled CNN, whose max-pooling ops
are digital ops.

- The outputs do not move: the same kernels run, elsewhere.
- The digital ops' energy leaves the tiles' digital units (component digital) for the GDPU
  (component gdpu); the GDPU is a resource of the bottleneck list, and its area is gdpu.lanes x
  tile.digital.lane_area_um2 (16 x 1200 um^2 on the default platform).
- Without lanes there is no gdpu anywhere in the report but its zero area.

    gdpu.py AIMC
"""
import os
import sys
import tempfile

from checks import MODELS, check, finish, run_aimc


def run(aimc, d, name, sets):
    args = ["--model", os.path.join(MODELS, "fashion_mnist_cnn.onnx"), "--limit", "50"]
    for s in sets:
        args += ["--set", s]
    r, err = run_aimc(aimc, os.path.join(d, name + ".json"), args)
    check(r is not None, f"{name}: aimc failed: {err}")
    return r


def main():
    aimc = sys.argv[1]
    with tempfile.TemporaryDirectory() as d:
        tiles = run(aimc, d, "tiles", [])
        gdpu = run(aimc, d, "gdpu", ["gdpu.lanes=16", "gdpu.clock_mhz=400"])
        if tiles and gdpu:
            check(tiles["agreement_with_float"] == gdpu["agreement_with_float"], "the GDPU changed the outputs")
            et, eg = tiles["energy_j"]["by_component"], gdpu["energy_j"]["by_component"]
            check("gdpu" not in et, "gdpu energy without a GDPU")
            check(eg.get("gdpu", 0) > 0, "no energy under gdpu")
            check(eg["digital"] < et["digital"], f"tiles' digital energy {eg['digital']} J not below {et['digital']} J")
            resources = [x["resource"] for x in gdpu["bottleneck"]["by_resource"]]
            check("gdpu" in resources, "the GDPU is not among the bottleneck's resources")
            check("gdpu" not in [x["resource"] for x in tiles["bottleneck"]["by_resource"]], "a gdpu resource without one")
            want = 16 * 1200.0 * 1e-6
            check(abs(gdpu["area_mm2"]["gdpu"] - want) <= 1e-12, f"gdpu area {gdpu['area_mm2']['gdpu']} mm2, expected {want}")
            check(tiles["area_mm2"]["gdpu"] == 0, "gdpu area without one")
            print(f"digital ops: tiles' units {1e9 * et['digital']:.4f} nJ/inference -> {1e9 * eg['digital']:.4f} "
                  f"+ gdpu {1e9 * eg['gdpu']:.4f} nJ")
    return finish("gdpu")


if __name__ == "__main__":
    sys.exit(main())
