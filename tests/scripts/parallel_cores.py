#!/usr/bin/python3
"""A 64-core preset runs its cores' MVMs in parallel (issue 16, "Done when").

hermes-64 (8 x 8 cores of 256 x 256) runs one full-array MVM per core: a Linear 256 -> 64 x 256
(scripts/validation_workloads.py full_array) whose 64 column blocks read the same input vector.
On the preset's point-to-point links, which relay the input to every core along one tree
(links.multicast), all 64 cores' MVM spans in the trace are in flight at once. On one shared bus
(--set interconnect.kind=shared_bus) each core gets its own copy of the input in turn, so at most
a couple overlap: the parallelism comes from the interconnect, not from the report's arithmetic.

    parallel_cores.py AIMC
"""
import json
import os
import subprocess
import sys
import tempfile

from checks import ROOT, check, finish


def peak_concurrent_mvms(trace_path):
    """(number of MVM spans, distinct tracks, the most in flight at one instant) in a chrome trace."""
    with open(trace_path) as f:
        t = json.load(f)
    events = t["traceEvents"] if isinstance(t, dict) else t
    spans = [(e["ts"], e["ts"] + e["dur"], e.get("tid")) for e in events if e.get("ph") == "X" and e.get("name") == "mvm"]
    edges = sorted([(s, 1) for s, _, _ in spans] + [(e, -1) for _, e, _ in spans], key=lambda x: (x[0], x[1]))
    now = peak = 0
    for _, d in edges:
        now += d
        peak = max(peak, now)
    return len(spans), len({tid for *_, tid in spans}), peak


def run(aimc, d, name, model, sets):
    trace, report = os.path.join(d, name + ".json"), os.path.join(d, name + ".report.json")
    cmd = [aimc, "run", "--platform", os.path.join(ROOT, "platforms", "hermes-64.yaml"), "--model", model,
           "--input", "random", "--limit", "1", "--trace", trace, "--report", report, "--no-progress", "-q"]
    for s in sets:
        cmd += ["--set", s]
    p = subprocess.run(cmd, capture_output=True, text=True)
    check(p.returncode == 0, f"{name}: aimc failed: {p.stderr}")
    return peak_concurrent_mvms(trace) if p.returncode == 0 else None


def main():
    aimc = sys.argv[1]
    with tempfile.TemporaryDirectory() as d:
        model = os.path.join(d, "full_array.onnx")
        p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "validation_workloads.py"), "full_array",
                            "--out", model], capture_output=True, text=True)
        check(p.returncode == 0, f"validation_workloads.py failed: {p.stderr}")
        if p.returncode != 0:
            return finish("parallel_cores")
        links = run(aimc, d, "links", model, [])
        bus = run(aimc, d, "bus", model, ["interconnect.kind=shared_bus"])
        if links:
            spans, tiles, peak = links
            check(spans == 64 and tiles == 64, f"links: {spans} MVM spans on {tiles} tracks, not one per core")
            check(peak == 64, f"links: at most {peak} MVMs in flight at once, not all 64")
            print(f"hermes-64 on its links: 64 MVMs, {peak} in flight at once")
        if bus:
            spans, tiles, peak = bus
            check(spans == 64 and tiles == 64, f"bus: {spans} MVM spans on {tiles} tracks")
            check(peak <= 2, f"bus: {peak} MVMs in flight at once; one shared bus should serialize the inputs")
            print(f"hermes-64 on one shared bus: {peak} in flight at once")
    return finish("parallel_cores")


if __name__ == "__main__":
    sys.exit(main())
