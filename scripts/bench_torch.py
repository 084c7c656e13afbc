#!/usr/bin/python3
"""Single-threaded PyTorch float reference for scripts/bench.sh.

Rebuilds the bundled ONNX MLP (Flatten -> Gemm -> Relu -> ... -> Gemm) as a torch nn.Sequential
from the ONNX initializers (torch cannot import ONNX), loads the same Fashion-MNIST test images
that `aimc run` uses (gzip IDX, pixels / 255, no normalization), and times the float forward with
torch.set_num_threads(1):

  batched    one forward of all N images at once; median of --reps repetitions after a warm-up
  per_image  N forwards of batch 1 (one pass, after a warm-up)
  onednn     the same two timings with the Linear layers converted to oneDNN (MKL-DNN) ones,
             for context: Debian's torch calls the slow reference BLAS from nn.Linear
  end_to_end interpreter work from the top of this script: importing torch + loading the model +
             loading the data + the per-image pass + scoring (what a user waits for, comparable
             to `aimc run`, whose wall time includes loading and compiling)

Prints a human summary on stderr and, with --json FILE, writes the numbers as JSON.
"""
import time

T_START = time.perf_counter()  # before the heavy imports: they count towards end to end

import argparse  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnx.numpy_helper  # noqa: E402
import torch  # noqa: E402

T_IMPORTED = time.perf_counter()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODEL = os.path.join(ROOT, "platforms", "models", "fashion_mnist_mlp.onnx")
DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"


def die(msg):
    print("bench_torch: error: " + msg, file=sys.stderr)
    sys.exit(2)


def load_model(path):
    """The ONNX graph as an nn.Sequential; only Flatten(axis=1)/Gemm/Relu chains are accepted."""
    m = onnx.load(path)
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in m.graph.initializer}
    layers = []
    cur = m.graph.input[0].name if m.graph.input else None
    for node in m.graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if not node.input or node.input[0] != cur:
            die(f"{path}: node {node.name or node.op_type} does not consume the previous output "
                f"(only a straight Flatten/Gemm/Relu chain is supported)")
        if node.op_type == "Flatten":
            if attrs.get("axis", 1) != 1:
                die(f"{path}: Flatten with axis={attrs['axis']} (only axis=1 is supported)")
            layers.append(torch.nn.Flatten(1))
        elif node.op_type == "Gemm":
            if attrs.get("transA", 0) != 0:
                die(f"{path}: Gemm with transA=1 is not supported")
            if len(node.input) < 2 or node.input[1] not in inits:
                die(f"{path}: Gemm weight {node.input[1:2]} is not an initializer")
            w = inits[node.input[1]].astype(np.float32)
            if attrs.get("transB", 0) == 0:
                w = w.T  # ONNX B is [in, out]; torch Linear wants [out, in]
            w = w * float(attrs.get("alpha", 1.0))
            out_f, in_f = w.shape
            lin = torch.nn.Linear(in_f, out_f, bias=True)
            if len(node.input) >= 3 and node.input[2]:
                if node.input[2] not in inits:
                    die(f"{path}: Gemm bias {node.input[2]} is not an initializer")
                b = inits[node.input[2]].astype(np.float32).reshape(-1)
                b = b * float(attrs.get("beta", 1.0))
                if b.size == 1:
                    b = np.full(out_f, b[0], dtype=np.float32)
                if b.size != out_f:
                    die(f"{path}: Gemm bias of size {b.size} for {out_f} outputs")
            else:
                b = np.zeros(out_f, dtype=np.float32)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(w)))
                lin.bias.copy_(torch.from_numpy(np.ascontiguousarray(b)))
            layers.append(lin)
        elif node.op_type == "Relu":
            layers.append(torch.nn.ReLU())
        else:
            die(f"{path}: unsupported op {node.op_type} (this reference handles only "
                f"Flatten/Gemm/Relu; extend bench_torch.py for other models)")
        cur = node.output[0]
    if not m.graph.output or m.graph.output[0].name != cur:
        die(f"{path}: the graph output is not the end of the Flatten/Gemm/Relu chain")
    macs = sum(l.in_features * l.out_features for l in layers if isinstance(l, torch.nn.Linear))
    return torch.nn.Sequential(*layers).eval(), macs


def open_idx(data_dir, stem):
    for name in (stem + ".gz", stem):
        p = os.path.join(data_dir, name)
        if os.path.exists(p):
            with (gzip.open(p, "rb") if name.endswith(".gz") else open(p, "rb")) as f:
                return f.read()
    die(f"no {stem}[.gz] in {data_dir}")


def load_test_set(data_dir, limit):
    raw = open_idx(data_dir, "t10k-images-idx3-ubyte")
    magic, n, rows, cols = np.frombuffer(raw[:16], dtype=">u4")
    if magic != 2051:
        die(f"bad image IDX magic {magic}")
    images = np.frombuffer(raw[16:], dtype=np.uint8, count=int(n * rows * cols))
    raw = open_idx(data_dir, "t10k-labels-idx1-ubyte")
    magic, nl = np.frombuffer(raw[:8], dtype=">u4")
    if magic != 2049 or nl != n:
        die(f"bad label IDX (magic {magic}, {nl} labels for {n} images)")
    labels = np.frombuffer(raw[8:], dtype=np.uint8, count=int(nl))
    if limit:
        n = min(int(n), limit)
    x = torch.from_numpy(images[: n * rows * cols].astype(np.float32) / 255.0)
    x = x.reshape(int(n), 1, int(rows), int(cols)).contiguous()
    y = torch.from_numpy(labels[:n].astype(np.int64))
    return x, y


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--limit", type=int, default=0, help="only the first N images (0 = all)")
    ap.add_argument("--reps", type=int, default=5, help="batched repetitions (median reported)")
    ap.add_argument("--no-onednn", dest="onednn", action="store_false",
                    help="skip the extra timings through oneDNN linear layers")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()

    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass

    t0 = time.perf_counter()
    model, macs = load_model(args.model)
    t1 = time.perf_counter()
    x, y = load_test_set(args.data, args.limit)
    t2 = time.perf_counter()
    n = x.shape[0]

    with torch.inference_mode():
        # (b) per image, batch 1, one pass after a short warm-up. Done first so that the end-to-end
        # figure (imports + loading + this pass + scoring) is one contiguous stretch of the script.
        for i in range(min(n, 200)):
            model(x[i:i + 1])
        outs = [None] * n
        tp0 = time.perf_counter()
        for i in range(n):
            outs[i] = model(x[i:i + 1])
        tp1 = time.perf_counter()
        pred_each = torch.cat(outs).argmax(1)
        correct_each = int((pred_each == y).sum())
        t_e2e = time.perf_counter()
        del outs

        # (a) all N images in one forward: warm-up, then the median of --reps repetitions.
        model(x)
        reps = []
        for _ in range(max(1, args.reps)):
            tb0 = time.perf_counter()
            logits = model(x)
            reps.append(time.perf_counter() - tb0)
        pred = logits.argmax(1)

        # The same two timings through oneDNN (MKL-DNN) linear layers instead of the BLAS that
        # nn.Linear calls. Debian's torch links the reference (netlib) BLAS, which is slow; oneDNN
        # ships inside torch and shows what an optimized float GEMM does on this machine.
        onednn = None
        if args.onednn and torch.backends.mkldnn.is_available():
            from torch.utils import mkldnn as mkldnn_utils
            mm = mkldnn_utils.to_mkldnn(model)
            xf = x.flatten(1)
            run = lambda t: mm(t.to_mkldnn()).to_dense()  # noqa: E731
            for i in range(min(n, 200)):
                run(xf[i:i + 1])
            outs = [None] * n
            to0 = time.perf_counter()
            for i in range(n):
                outs[i] = run(xf[i:i + 1])
            to1 = time.perf_counter()
            pred_o_each = torch.cat(outs).argmax(1)
            del outs
            run(xf)
            oreps = []
            for _ in range(max(1, args.reps)):
                tb0 = time.perf_counter()
                ologits = run(xf)
                oreps.append(time.perf_counter() - tb0)
            onednn = {
                "batched_s": statistics.median(oreps),
                "batched_reps_s": oreps,
                "per_image_s": to1 - to0,
                "accuracy": int((ologits.argmax(1) == y).sum()) / n,
                "accuracy_per_image": int((pred_o_each == y).sum()) / n,
            }
    correct = int((pred == y).sum())
    mismatch = int((pred != pred_each).sum())

    r = {
        "images": n,
        "threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "macs_per_inference": macs,
        "accuracy": correct / n,
        "accuracy_per_image": correct_each / n,
        "per_image_vs_batched_mismatches": mismatch,
        "import_s": T_IMPORTED - T_START,
        "load_model_s": t1 - t0,
        "load_data_s": t2 - t1,
        "batched_s": statistics.median(reps),
        "batched_reps_s": reps,
        "per_image_s": tp1 - tp0,
        "end_to_end_s": t_e2e - T_START,
        "onednn": onednn,
        "script_s": time.perf_counter() - T_START,
    }
    print(f"bench_torch: {n} images, {r['threads']} thread, torch {torch.__version__}: "
          f"accuracy {100 * r['accuracy']:.2f} %, batched {r['batched_s']:.4f} s (median of "
          f"{len(reps)}), per-image {r['per_image_s']:.3f} s, end to end {r['end_to_end_s']:.3f} s "
          f"(import {r['import_s']:.3f} s, model {r['load_model_s']:.3f} s, "
          f"data {r['load_data_s']:.3f} s)", file=sys.stderr)
    if onednn:
        print(f"bench_torch: oneDNN linear layers: accuracy {100 * onednn['accuracy']:.2f} %, "
              f"batched {onednn['batched_s']:.4f} s, per-image {onednn['per_image_s']:.3f} s",
              file=sys.stderr)
    if mismatch:
        print(f"bench_torch: warning: {mismatch} per-image predictions differ from the batched "
              f"ones", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(r, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
