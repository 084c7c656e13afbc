#!/usr/bin/python3
"""Single-threaded PyTorch float forward of a workload of scripts/workloads.py, for
scripts/bench_mobilenet.sh.

Rebuilds the torch module the ONNX file was exported from (same topology, same seeded weights:
workloads.init_model with the seed workloads.py used), checks that it reproduces the reference
output workloads.py saved next to the ONNX file (so both sides run the same network), then times
forwards of ONE image with torch.set_num_threads(1) under torch.inference_mode():

  first_forward  the first forward after building the model (includes one-time allocations)
  forward        median of --reps forwards after --warmup warm-up forwards
  end_to_end     from the top of this script: importing torch + building the model + loading the
                 input + the first forward (what a user waits for; compare with aimc's whole run)

Prints a summary on stderr and, with --json FILE, writes the numbers as JSON.
"""
import time

T_START = time.perf_counter()  # before the heavy imports: they count towards end to end

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

T_IMPORTED = time.perf_counter()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workloads  # noqa: E402


def die(msg):
    print("bench_torch_cnn: error: " + msg, file=sys.stderr)
    sys.exit(2)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--workloads", required=True, help="folder written by scripts/workloads.py")
    ap.add_argument("--name", default="mobilenet_v1_224", help="workload name (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=1, help="the --seed given to workloads.py (default: 1)")
    ap.add_argument("--reps", type=int, default=5, help="timed forwards (default: %(default)s)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed forwards first (default: %(default)s)")
    ap.add_argument("--json", help="write the timings here")
    args = ap.parse_args()
    if args.reps < 1 or args.warmup < 0:
        die("--reps must be >= 1 and --warmup >= 0")

    byname = {wl.name: wl for wl in workloads.WORKLOADS}
    if args.name not in byname:
        die(f"unknown workload {args.name}; known: {', '.join(sorted(byname))}")
    wl = byname[args.name]
    ref_in = os.path.join(args.workloads, wl.name + ".input.npy")
    ref_out = os.path.join(args.workloads, wl.name + ".output.npy")
    for f in (ref_in, ref_out):
        if not os.path.exists(f):
            die(f"{f} not found (run scripts/workloads.py --only {wl.name} --out {args.workloads})")

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    # The seed workloads.py gives this workload (see its main()).
    model = workloads.init_model(wl, args.seed * 100 + workloads.WORKLOADS.index(wl))
    t_model = time.perf_counter() - t0
    x = torch.from_numpy(np.load(ref_in).astype(np.float32))
    y_ref = np.load(ref_out)
    with torch.inference_mode():
        t1 = time.perf_counter()
        y0 = model(x[:1])
        first = time.perf_counter() - t1
        t_end_to_end = time.perf_counter() - T_START
        # Same network as the ONNX file: the reference output of workloads.py, to float rounding.
        y_all = model(x).numpy()
        err = float(np.max(np.abs(y_all - y_ref)) / max(1e-12, float(np.max(np.abs(y_ref)))))
        if err > 1e-4:
            die(f"the rebuilt model does not reproduce {ref_out} (max |diff| / max |y| = {err:.2e}); "
                f"was it written with --seed {args.seed}?")
        for _ in range(args.warmup):
            model(x[:1])
        times = []
        for _ in range(args.reps):
            t = time.perf_counter()
            model(x[:1])
            times.append(time.perf_counter() - t)
    del y0
    macs = workloads.torch_counts(model, wl.input_shape)[2]
    res = {
        "workload": wl.name,
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "mkldnn": bool(torch.backends.mkldnn.is_available()),
        "macs_per_inference": int(macs),
        "import_s": T_IMPORTED - T_START,
        "model_s": t_model,
        "first_forward_s": first,
        "forward_s": statistics.median(times),
        "forward_all_s": times,
        "end_to_end_s": t_end_to_end,
        "reference_max_rel_diff": err,
    }
    print(f"torch {torch.__version__}, 1 thread: {wl.name} forward (batch 1) median "
          f"{res['forward_s'] * 1e3:.1f} ms over {args.reps}, first {first * 1e3:.1f} ms, "
          f"end to end {t_end_to_end:.2f} s", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
