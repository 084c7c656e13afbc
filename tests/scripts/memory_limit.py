#!/usr/bin/python3
"""Platforms larger than the machine's memory (issue 17, "Hardening" 8): the validator allows a
64 x 64 grid of 400 x 400 tiles, which needs ~28 GB; it died in std::bad_alloc after 25 s. Now
aimc run and aimc serve estimate the memory a platform needs when they load it and refuse it with
exit 2, naming the keys, the estimate and the limit (MemAvailable, or AIMC_MEMORY_LIMIT_MB), in
well under 5 s. The 64 x 64 runs are held to a 2 GB address space, so that on the code before the
fix they fail fast (bad_alloc, exit 1) instead of taking the machine's memory.

- 64 x 64 grid with AIMC_MEMORY_LIMIT_MB=16000: refused (run and serve);
- 64 x 64 grid at the default limit: refused when MemAvailable is below its estimate (else skipped),
  and 64 x 64 tiles of 1024 x 1024 cells (~180 GB) likewise;
- AIMC_MEMORY_LIMIT_MB=1 refuses the default preset; the default limit and AIMC_MEMORY_LIMIT_MB=0
  accept it; a malformed AIMC_MEMORY_LIMIT_MB is refused naming it;
- aimc compile elaborates no chip and is not checked: it compiles for the 64 x 64 grid under
  AIMC_MEMORY_LIMIT_MB=1.

    memory_limit.py AIMC
"""
import os
import resource
import subprocess
import sys
import tempfile
import time

from checks import ROOT, check, failures, finish

GRID_64 = ["--set", "grid.rows=64", "--set", "grid.cols=64"]
ARRAY_1024 = ["--set", "tile.array.rows=1024", "--set", "tile.array.cols=1024"]
# Per cell pair, 42 B (model/config/memory_estimate.h): a lower bound of the estimates, to skip the
# default-limit cases on a machine that has the memory.
BYTES_PER_PAIR = 42


def mem_available():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return None


def aimc_call(aimc, args, limit_mb=None, timeout=60):
    """aimc ARGS with AIMC_MEMORY_LIMIT_MB=limit_mb (unset when None) and at most 2 GB of address
    space (not under AddressSanitizer): (exit code or None on a timeout, stderr, seconds)."""
    env = dict(os.environ)
    env.pop("AIMC_MEMORY_LIMIT_MB", None)
    if limit_mb is not None:
        env["AIMC_MEMORY_LIMIT_MB"] = str(limit_mb)

    def limit():
        if "ASAN_OPTIONS" not in os.environ:
            resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    start = time.monotonic()
    try:
        p = subprocess.run([aimc, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                           env=env, preexec_fn=limit, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return None, f"timed out after {timeout} s; {e.stderr or ''}", time.monotonic() - start
    return p.returncode, p.stderr, time.monotonic() - start


def refused(aimc, what, args, needles, limit_mb=None):
    before = len(failures)
    rc, err, seconds = aimc_call(aimc, args, limit_mb, timeout=20)
    msg = err.strip().replace("\n", " | ")[:600]
    check(rc == 2, f"{what}: exit {rc}, expected 2: {msg}")
    for n in needles:
        check(n in err, f"{what}: the message does not say '{n}': {msg}")
    check(seconds < 5, f"{what}: took {seconds:.1f} s")
    if len(failures) == before:
        print(f"ok: {what}: exit {rc} in {seconds:.2f} s: {msg[:300]}")


def accepted(aimc, what, args, limit_mb=None):
    rc, err, seconds = aimc_call(aimc, args, limit_mb, timeout=120)
    if rc == 0:
        print(f"ok: {what}: exit {rc} in {seconds:.2f} s")
    check(rc == 0, f"{what}: exit {rc}, expected 0: {err.strip()[:600]}")


def main():
    aimc = sys.argv[1]
    keys = ["grid.rows x grid.cols = 64 x 64 = 4096 tiles",
            "tile.array.rows x tile.array.cols = 400 x 400 cell pairs", "membrain-3x4.yaml",
            "the platform needs about", "set AIMC_MEMORY_LIMIT_MB to change the limit"]
    run = ["run", "--limit", "10", "--no-progress", "-q"]

    refused(aimc, "run, 64 x 64 grid, AIMC_MEMORY_LIMIT_MB=16000", run + GRID_64,
            keys + ["more than the 16.0 GB available (AIMC_MEMORY_LIMIT_MB=16000"], limit_mb=16000)
    with tempfile.TemporaryDirectory() as d:
        refused(aimc, "serve, 64 x 64 grid, AIMC_MEMORY_LIMIT_MB=16000",
                ["serve", "--once", "--listen", "unix:" + os.path.join(d, "s.sock")] + GRID_64,
                keys, limit_mb=16000)

    avail = mem_available()
    for what, extra, pairs in (("64 x 64 grid", [], 400 * 400), ("64 x 64 grid of 1024 x 1024 arrays",
                                                                    ARRAY_1024, 1024 * 1024)):
        need = 4096 * pairs * BYTES_PER_PAIR
        if avail is not None and avail > need:
            print(f"skipped: run, {what}, default limit: MemAvailable {avail / 1e9:.1f} GB > {need / 1e9:.1f} GB")
            continue
        want = ["available (MemAvailable in /proc/meminfo"]
        want += keys if not extra else ["grid.rows x grid.cols = 64 x 64 = 4096 tiles",
                                         "tile.array.rows x tile.array.cols = 1024 x 1024 cell pairs"]
        refused(aimc, f"run, {what}, default limit", run + GRID_64 + extra, want)

    refused(aimc, "run, default preset, AIMC_MEMORY_LIMIT_MB=1", run,
            ["membrain-3x4.yaml: the platform needs about", "grid.rows x grid.cols = 3 x 4 = 12 tiles",
             "more than the 1.0 MB available (AIMC_MEMORY_LIMIT_MB=1"], limit_mb=1)
    refused(aimc, "run, AIMC_MEMORY_LIMIT_MB=lots", run, ["AIMC_MEMORY_LIMIT_MB: expected a whole number of MB"],
            limit_mb="lots")
    accepted(aimc, "run, default preset, default limit", run)
    accepted(aimc, "run, default preset, AIMC_MEMORY_LIMIT_MB=0 (no limit)", run, limit_mb=0)
    with tempfile.TemporaryDirectory() as d:
        accepted(aimc, "compile, 64 x 64 grid, AIMC_MEMORY_LIMIT_MB=1",
                 ["compile", "-o", os.path.join(d, "m.aimg")] + GRID_64, limit_mb=1)
    return finish("memory_limit")


if __name__ == "__main__":
    sys.exit(main())
