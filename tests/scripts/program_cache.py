#!/usr/bin/python3
"""aimc run --program-cache (issue 18): program-and-verify outcomes reused across runs.

- A run that reloads its weights for every image (the MLP on 2 tiles of 256 columns, batch 1)
  programs through an empty cache: every call misses and is stored, one file per call.
- The same run again: every call hits, none programs; the report and the trace are the same bytes
  as without any cache (the report's cache and wall-clock fields aside).
- A run at another ADC resolution (what programming does not read) hits every call too; another
  seed (the tiles' programming streams) misses every call.
- A damaged entry is not taken: that call programs again, with the same results.
- --program-cache-max-mb 0 stores nothing (every call unstored), and the results do not move.

    program_cache.py AIMC
"""
import json
import os
import sys
import tempfile

from checks import check, finish, run_aimc

RELOAD = ["--set", "grid.rows=1", "--set", "grid.cols=2", "--set", "tile.array.cols=256", "--batch", "1",
          "--limit", "6"]
VOLATILE = ("cache", "wall_seconds", "wall_seconds_by_phase", "trace_file")


def run(aimc, d, name, extra):
    r, err = run_aimc(aimc, os.path.join(d, name + ".json"),
                      [*RELOAD, "--trace", os.path.join(d, name + ".trace.json"), *extra])
    check(r is not None, f"{name}: aimc failed: {err}")
    return r


def stable(r):
    return {k: v for k, v in r.items() if k not in VOLATILE}


def trace_bytes(d, name):
    with open(os.path.join(d, name + ".trace.json"), "rb") as f:
        return f.read()


def program(r):
    return (r or {}).get("cache", {}).get("program", {})


def main():
    aimc = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="aimc_program_cache_") as d:
        cache = os.path.join(d, "cache")
        plain = run(aimc, d, "plain", [])
        first = run(aimc, d, "first", ["--program-cache", cache])
        second = run(aimc, d, "second", ["--program-cache", cache])
        if not (plain and first and second):
            return finish("program_cache")
        check("cache" not in plain, f"a run without --program-cache has a cache field: {plain.get('cache')}")
        calls = program(first).get("misses", 0)
        # 6 images, one reload of both tiles each, plus the deploy's programming of both tiles.
        check(calls >= 12, f"first: {program(first)}: fewer misses than reloads")
        check(program(first).get("hits") == 0 and program(first).get("unstored") == 0,
              f"first: {program(first)}")
        entries = [n for n in os.listdir(cache) if n.endswith(".pv")]
        check(len(entries) == calls, f"{len(entries)} files in the cache for {calls} stored calls")
        check(program(second) == {"hits": calls, "misses": 0, "unstored": 0, "bypassed": 0},
              f"second: {program(second)}, expected {calls} hits")
        for name, r in (("first", first), ("second", second)):
            check(stable(r) == stable(plain), f"{name}: the report differs from the run without the cache")
            check(trace_bytes(d, name) == trace_bytes(d, "plain"), f"{name}: the trace differs from the plain run's")

        # What programming does not read keeps the hits; the seed does not.
        adc = run(aimc, d, "adc", ["--program-cache", cache, "--set", "tile.adc.bits=6"])
        check(program(adc).get("hits") == calls and program(adc).get("misses") == 0,
              f"another ADC resolution: {program(adc)}, expected {calls} hits")
        seed = run(aimc, d, "seed", ["--program-cache", cache, "--seed", "7"])
        check(program(seed).get("hits") == 0 and program(seed).get("misses") == calls,
              f"another seed: {program(seed)}, expected {calls} misses")

        # A damaged entry: truncated by one byte, it is not taken, and the results stay.
        victim = os.path.join(cache, sorted(entries)[0])
        with open(victim, "rb") as f:
            data = f.read()
        with open(victim, "wb") as f:
            f.write(data[:-1])
        damaged = run(aimc, d, "damaged", ["--program-cache", cache])
        check(program(damaged).get("misses") == 1 and program(damaged).get("hits") == calls - 1,
              f"one damaged entry: {program(damaged)}")
        check(damaged and stable(damaged) == stable(plain), "damaged: the report differs")
        with open(victim, "rb") as f:
            check(f.read() == data, "the damaged entry was not written again whole")

        # A limit of 0 MiB stores nothing.
        empty = os.path.join(d, "empty")
        limited = run(aimc, d, "limited", ["--program-cache", empty, "--program-cache-max-mb", "0"])
        check(program(limited).get("unstored") == calls and program(limited).get("misses") == 0,
              f"--program-cache-max-mb 0: {program(limited)}")
        check(not os.path.isdir(empty) or not os.listdir(empty), "--program-cache-max-mb 0 wrote entries")
        check(limited and stable(limited) == stable(plain), "limited: the report differs")
    return finish("program_cache")


if __name__ == "__main__":
    sys.exit(main())
