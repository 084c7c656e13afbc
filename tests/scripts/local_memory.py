#!/usr/bin/python3
"""Local activation memory per tile (issue 16): tile.local_memory_kib on the default platform's mesh.

- The maps only move elsewhere: the platform's outputs are the same with and without it.
- The hidden layers' maps go from tile to tile instead of through the shared SRAM: the SRAM's
  energy per inference drops, the tiles' memories (component local_mem) spend some, and the
  report's area has them: 12 tiles x 64 KiB x sram.area_um2_per_kib.
- A memory that does not fit a tile's 1 MiB address window is refused, naming the key.

    local_memory.py AIMC
"""
import os
import subprocess
import sys
import tempfile

from checks import ROOT, check, finish, run_case


def main():
    aimc = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as d:
        base = run_case(aimc, d, "sram", ["interconnect.kind=mesh"])
        local = run_case(aimc, d, "local", ["interconnect.kind=mesh", "tile.local_memory_kib=64"])
        if base and local:
            check(base["agreement_with_float"] == local["agreement_with_float"], "the local memory changed the outputs")
            eb, el = base["energy_j"]["by_component"], local["energy_j"]["by_component"]
            check(el.get("local_mem", 0) > 0, "no energy under local_mem")
            check("local_mem" not in eb, "local_mem energy without a local memory")
            check(el["sram"] < eb["sram"], f"SRAM energy {el['sram']} J with local memories, not below {eb['sram']} J")
            area = local["area_mm2"]["local_mem"]
            want = 12 * 64 * 6550.0 * 1e-6  # membrain-3x4's sram.area_um2_per_kib
            check(abs(area - want) <= 1e-9 * want, f"local_mem area {area} mm2, expected {want}")
            check(base["area_mm2"]["local_mem"] == 0, "local_mem area without a local memory")
            print(f"SRAM {1e9 * eb['sram']:.3f} -> {1e9 * el['sram']:.3f} nJ/inference, local_mem "
                  f"{1e9 * el['local_mem']:.3f} nJ, area {area:.3f} mm2")
        p = subprocess.run([aimc, "run", "--limit", "1", "--set", "tile.local_memory_kib=2000", "--report", "",
                            "--no-progress", "-q"], capture_output=True, text=True, cwd=ROOT)
        check(p.returncode != 0 and "tile.local_memory_kib" in p.stderr,
              f"a 2000 KiB local memory: exit {p.returncode}, {p.stderr.strip()[:200]}")
    return finish("local_memory")


if __name__ == "__main__":
    sys.exit(main())
