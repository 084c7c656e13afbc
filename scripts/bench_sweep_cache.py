#!/usr/bin/python3
"""The caches of `aimc sweep` (docs/sweeps.md): a periphery sweep of the bundled CNN (ADC kind x
columns per ADC: nothing the compiler or the programming reads) run twice into fresh folders, with
the caches (the default) and with --no-cache, on the same pool; prints both wall times, the ratio,
the caches' hits, and checks that the two tables are identical.

--reload sweeps a chip too small for the model instead (the MLP on 2 tiles of 256 columns, one
image per weight load): every image reprograms both tiles, and the programming cache's hits replace
those program-and-verify calls from the second point on.

    /usr/bin/python3 scripts/bench_sweep_cache.py [--aimc build/platforms/aimc] [-j 2] [--limit 50]
    /usr/bin/python3 scripts/bench_sweep_cache.py --reload [--limit 100]
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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--aimc", default=os.path.join(os.environ.get("BUILD_DIR", os.path.join(ROOT, "build")),
                                                   "platforms", "aimc"))
    ap.add_argument("-j", type=int, default=2, help="runs at once (default 2)")
    ap.add_argument("--limit", type=int, default=50, help="test images per run (default 50)")
    ap.add_argument("--model", default=None, help="bundled model (default the CNN; with --reload the MLP)")
    ap.add_argument("--reload", action="store_true",
                    help="the MLP reloading its weights for every image (grid 1 x 2, 256 columns, batch 1)")
    a = ap.parse_args()
    if a.model is None:
        a.model = "fashion_mnist_mlp.onnx" if a.reload else "fashion_mnist_cnn.onnx"
    if not os.access(a.aimc, os.X_OK):
        sys.exit("bench_sweep_cache: no aimc at %s (build it, or --aimc PATH)" % a.aimc)
    tmp = tempfile.mkdtemp(prefix="aimc-bench-sweep-")
    try:
        spec = os.path.join(tmp, "periphery.yaml")
        with open(spec, "w") as f:
            f.write("models: [%s]\nlimit: %d\naxes:\n  tile.adc.kind: [sar, cco, flash]\n"
                    "  tile.adc.share: [1, 2, 4, 8]\n" % (a.model, a.limit))
            if a.reload:
                f.write("set:\n  grid.rows: 1\n  grid.cols: 2\n  tile.array.cols: 256\n"
                        "options: [--batch, 1]\n")
        env = dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE")
        times, outs = {}, {}
        for mode, extra in (("no cache", ["--no-cache"]), ("cache", [])):
            out = os.path.join(tmp, mode.replace(" ", "_"))
            t0 = time.monotonic()
            p = subprocess.run([a.aimc, "sweep", spec, "-o", out, "-j", str(a.j), "--no-progress", *extra],
                               capture_output=True, text=True, env=env)
            times[mode] = time.monotonic() - t0
            if p.returncode != 0:
                sys.exit("bench_sweep_cache: the sweep (%s) failed:\n%s" % (mode, p.stderr))
            outs[mode] = out
        meta = json.load(open(os.path.join(outs["cache"], "sweep.json")))
        same = all(open(os.path.join(outs["cache"], t), "rb").read() == open(os.path.join(outs["no cache"], t), "rb").read()
                   for t in ("results.csv", "summary.csv"))
        runs = meta["runs"]
        print("periphery sweep of %s: %d runs (tile.adc.kind x tile.adc.share), --limit %d, -j %d"
              % (a.model, runs, a.limit, a.j))
        print("  without the cache  %7.1f s  (%.2f s per run)" % (times["no cache"], times["no cache"] / runs))
        print("  with the caches    %7.1f s  (%.2f s per run; compile: %d hits, %d compiles; "
              "program-and-verify: %d calls reused, %d programmed)"
              % (times["cache"], times["cache"] / runs, meta["compile_cache"]["hits"], meta["compile_cache"]["misses"],
                 meta["program_cache"]["hits"], meta["program_cache"]["misses"]))
        print("  speed-up           %7.2f x" % (times["no cache"] / times["cache"]))
        print("  tables identical   %s" % ("yes" if same else "NO"))
        return 0 if same else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
