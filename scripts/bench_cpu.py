#!/usr/bin/env python3
"""Speed of the RV32 core beside the chip (issue 19): instructions per second between
memory-mapped accesses, and chip register accesses per second through the core.

    /usr/bin/python3 scripts/bench_cpu.py [--aimc build/platforms/aimc] [--passes 400]
                                          [--accesses 400000] [--repeat 3] [--json FILE]

Builds bench/fw/compute.c and bench/fw/mmio.c for the core with riscv64-unknown-elf-gcc and
picolibc (the kit's flags), and compute.c natively with the host's cc -O2 as the baseline, in a
temporary folder. Each figure is the best of --repeat runs; the fixed cost of a run (starting the
VP, elaborating the chip, loading the ELF) is measured by the same firmware doing no work and
subtracted. Prints a table with units; exit 2 when a tool is missing, 1 when a run fails.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RV_FLAGS = ["-march=rv32imac", "-mabi=ilp32", "-misa-spec=2.2", "-O2", "--specs=picolibc.specs",
            "--oslib=semihost", "--crt0=semihost", "-Wl,--defsym=__flash=0x20000000",
            "-Wl,--defsym=__flash_size=0x100000", "-Wl,--defsym=__ram=0x80000000",
            "-Wl,--defsym=__ram_size=0x4000000", "-Wl,--defsym=__stack_size=0x10000"]


def run(cmd, env=None):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"bench_cpu: {' '.join(cmd)} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
    return dt, p.stdout


def best(cmd, repeat, env=None):
    times, out = [], ""
    for _ in range(repeat):
        dt, out = run(cmd, env)
        times.append(dt)
    return min(times), out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--aimc", default=os.path.join(ROOT, "build", "platforms", "aimc"))
    ap.add_argument("--passes", type=int, default=400, help="CRC passes over 16 KiB (compute)")
    ap.add_argument("--accesses", type=int, default=400000, help="SCRATCH write/read pairs (mmio)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", help="also write the figures here")
    a = ap.parse_args()
    for tool in ("riscv64-unknown-elf-gcc", "cc"):
        if not shutil.which(tool):
            print(f"bench_cpu: {tool} not found (scripts/setup.sh installs it)", file=sys.stderr)
            return 2
    if not os.access(a.aimc, os.X_OK):
        print(f"bench_cpu: {a.aimc} is not an executable (build first, or --aimc)", file=sys.stderr)
        return 2
    env = dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE")
    with tempfile.TemporaryDirectory() as tmp:
        inc = ["-I", os.path.join(ROOT, "firmware_stubs", "include")]
        for name in ("compute", "mmio"):
            run(["riscv64-unknown-elf-gcc", *RV_FLAGS, *inc, "-o", f"{tmp}/{name}.elf",
                 f"{ROOT}/bench/fw/{name}.c"])
        run(["cc", "-O2", "-o", f"{tmp}/compute.native", f"{ROOT}/bench/fw/compute.c"])

        def core(name, arg):
            rep = f"{tmp}/{name}.json"
            dt, out = best([a.aimc, "fw", "run", f"{tmp}/{name}.elf", "--report", rep, "-q",
                            "--", str(arg)], a.repeat, env)
            with open(rep) as f:
                return dt, json.load(f)["cpu"], out

        t0_c, cpu0_c, _ = core("compute", 0)
        t_c, cpu_c, out_c = core("compute", a.passes)
        t0_n, _ = best([f"{tmp}/compute.native", "0"], a.repeat)
        t_n, out_n = best([f"{tmp}/compute.native", str(a.passes)], a.repeat)
        if out_c.strip() != out_n.strip():
            sys.exit(f"bench_cpu: the core and the native build disagree:\n{out_c}{out_n}")
        t0_m, cpu0_m, _ = core("mmio", 0)
        t_m, cpu_m, _ = core("mmio", a.accesses)

    instr = cpu_c["instructions"] - cpu0_c["instructions"]
    work_c, work_n, work_m = t_c - t0_c, t_n - t0_n, t_m - t0_m
    accesses = cpu_m["chip_accesses"] - cpu0_m["chip_accesses"]
    fig = {
        "compute_instructions": instr,
        "compute_core_s": work_c,
        "compute_native_s": work_n,
        "instructions_per_s": instr / work_c,
        "slowdown_vs_native": work_c / work_n,
        "mmio_accesses": accesses,
        "mmio_core_s": work_m,
        "chip_accesses_per_s": accesses / work_m,
        "fixed_cost_s": t0_c,
    }
    print(f"RV32 core speed (best of {a.repeat}; fixed cost {t0_c:.3f} s per run subtracted)")
    print(f"  compute: {instr:,} instructions in {work_c:.3f} s   "
          f"{fig['instructions_per_s'] / 1e6:.1f} M instructions/s (goal >= 50)")
    print(f"           native -O2 baseline {work_n * 1e3:.1f} ms: the core is "
          f"{fig['slowdown_vs_native']:.1f}x slower than the host running the same C")
    print(f"  mmio:    {accesses:,} chip register accesses in {work_m:.3f} s   "
          f"{fig['chip_accesses_per_s'] / 1e6:.2f} M accesses/s (goal >= 1)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(fig, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
