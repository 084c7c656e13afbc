#!/usr/bin/python3
"""Build the ONNX workloads of the calibration targets (reference-chips section 10).

    full_array   one full-array MVM per core: a Linear IN -> CORES x COLS without bias (one input
                 vector, CORES column blocks of IN x COLS, one per core). HERMES Table I: 256 ->
                 64 x 256 = 16,384; one tile of the IBM speech chip: --rows 512 --cols 512
                 --cores 1; one Mythic M1076 tile: --rows 1024 --cols 1024 --cores 1.
    mnist_mlp    the 784-64-10 MLP of Merrikh-Bayat et al. (TNNLS 2018; reference-chips sections
                 1 and 8), with biases, trained briefly on binarized 28 x 28 Fashion-MNIST images
                 (MNIST is not on this machine; the cell count depends on the shape alone).

Every file: ONNX opset 13, input "input", output "output", dynamic batch, float32.

    /usr/bin/python3 scripts/validation_workloads.py full_array --out /tmp/fa.onnx
    /usr/bin/python3 scripts/validation_workloads.py mnist_mlp --out /tmp/mlp.onnx [--epochs 1]
"""
import argparse
import gzip
import os
import struct
import sys

try:
    import numpy as np
    import onnx
    import torch
    import torch.nn as nn
except ImportError as exc:  # pragma: no cover - depends on the interpreter used
    sys.stderr.write(f"validation_workloads.py: cannot import {exc.name!r} with {sys.executable}; "
                     "run it with /usr/bin/python3 (Debian's torch, onnx, numpy)\n")
    sys.exit(2)

OPSET = 13
FASHION = "/usr/share/datasets/fashion-mnist"


def export(model, in_shape, path):
    model.eval()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    torch.onnx.export(model, torch.zeros(1, *in_shape), path, opset_version=OPSET,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}}, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))


def full_array(path, rows=256, cols=256, cores=64, seed=1):
    """Linear rows -> cores x cols, no bias, uniform weights in [-1, 1): the mapper cuts it into
    `cores` column blocks of rows x cols, each a full array of one core, all fed the same vector."""
    torch.manual_seed(seed)
    lin = nn.Linear(rows, cores * cols, bias=False)
    with torch.no_grad():
        lin.weight.uniform_(-1.0, 1.0)
    export(lin, (rows,), path)
    return {"params": rows * cores * cols, "macs": rows * cores * cols}


def read_idx(path, magic):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    if struct.unpack(">I", data[:4])[0] != magic:
        raise ValueError(f"{path}: not an IDX file of magic 0x{magic:08x}")
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def fashion(split):
    x = read_idx(os.path.join(FASHION, f"{split}-images-idx3-ubyte.gz"), 0x803)
    y = read_idx(os.path.join(FASHION, f"{split}-labels-idx1-ubyte.gz"), 0x801)
    return x, y


def mnist_mlp(path, epochs=1, seed=1, hidden=64):
    """784-hidden-10 MLP (ReLU), biases on, on binary inputs (pixel > 127 -> 1), as the paper's
    28 x 28 binary images. Trained for `epochs` on Fashion-MNIST if it is installed, else left at
    its seeded initialisation. Returns the counts and the float test accuracy (or None)."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    acc = None
    if epochs > 0 and os.path.isdir(FASHION):
        torch.set_num_threads(min(2, torch.get_num_threads()))
        x, y = fashion("train")
        xt = torch.from_numpy((x > 127).astype(np.float32)).reshape(-1, 1, 28, 28)
        yt = torch.from_numpy(y.astype(np.int64))
        opt = torch.optim.Adam(net.parameters(), lr=5e-3)
        gen = torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            perm = torch.randperm(len(xt), generator=gen)
            for i in range(0, len(xt), 512):   # large batches: a few seconds per epoch on 2 cores
                idx = perm[i:i + 512]
                opt.zero_grad()
                nn.functional.cross_entropy(net(xt[idx]), yt[idx]).backward()
                opt.step()
        xs, ys = fashion("t10k")
        with torch.no_grad():
            pred = net(torch.from_numpy((xs > 127).astype(np.float32)).reshape(-1, 1, 28, 28)).argmax(1)
        acc = float((pred.numpy() == ys).mean())
    export(net, (1, 28, 28), path)
    w = 784 * hidden + hidden * 10
    return {"params": w + hidden + 10, "macs": w, "float_accuracy": acc}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("workload", choices=["full_array", "mnist_mlp"])
    ap.add_argument("--out", required=True, help="ONNX file to write")
    ap.add_argument("--rows", type=int, default=256, help="full_array: inputs (array rows)")
    ap.add_argument("--cols", type=int, default=256, help="full_array: columns per core")
    ap.add_argument("--cores", type=int, default=64, help="full_array: column blocks (cores)")
    ap.add_argument("--epochs", type=int, default=1, help="mnist_mlp: training epochs (0: untrained)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.workload == "full_array":
        info = full_array(a.out, a.rows, a.cols, a.cores, a.seed)
    else:
        info = mnist_mlp(a.out, a.epochs, a.seed)
    print(f"{a.workload}: wrote {a.out} " + ", ".join(f"{k} {v}" for k, v in info.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
