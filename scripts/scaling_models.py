#!/usr/bin/python3
"""The problem of the scaling study (docs/scaling-study.md): an N x N weight matrix applied twice,
input [batch, N] -> Gemm N->N -> Relu -> Gemm N->N -> output, as an ONNX file per N.

    /usr/bin/python3 scripts/scaling_models.py build/scaling            # scaling-512.onnx
    /usr/bin/python3 scripts/scaling_models.py build/scaling --sizes 128,512

Two layers, so that a chip that holds one layer at a time must reprogram its tiles between them
(weight reload; README "Weight reload and batching"), and the same file runs resident on a chip of
twice the tiles. No bias (a bias would take a row of the array with --compile-option
bias_in_array, and add digital work otherwise), so each layer is exactly N x N weights: the
compiler cuts it into (N/M)^2 blocks of an M x M array when M divides N.

Weights are N(0, 1/N) from numpy's PCG64 with a fixed seed per size, written with the onnx helper
(opset 13, like the bundled models), so the same command writes the same bytes. Exit status 0, or
2 on a bad argument.
"""
import argparse
import os
import sys

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError as exc:  # pragma: no cover - depends on the interpreter
    sys.stderr.write(f"scaling_models.py: cannot import {exc.name!r} with {sys.executable}; run it with "
                     "/usr/bin/python3 (Debian's python3-onnx and python3-numpy)\n")
    sys.exit(2)

OPSET = 13
SEED = 20230213  # arXiv:2302.06417's date; any fixed value


def model_name(n):
    return f"scaling-{n}.onnx"


def build(n, seed=SEED):
    """The ModelProto of the two-layer N x N problem."""
    rng = np.random.default_rng(seed + n)
    w1 = (rng.standard_normal((n, n)) / np.sqrt(n)).astype(np.float32)
    w2 = (rng.standard_normal((n, n)) / np.sqrt(n)).astype(np.float32)
    nodes = [
        helper.make_node("Gemm", ["input", "w1"], ["h1"], name="layer1", transB=1),
        helper.make_node("Relu", ["h1"], ["a1"], name="relu1"),
        helper.make_node("Gemm", ["a1", "w2"], ["output"], name="layer2", transB=1),
    ]
    graph = helper.make_graph(
        nodes, f"scaling_{n}",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", n])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", n])],
        initializer=[numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")])
    model = helper.make_model(graph, producer_name="aimc-vp scripts/scaling_models.py",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 7  # what opset 13 needs; newer onnx packages would write a newer default
    onnx.checker.check_model(model)
    return model


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", metavar="DIR", help="the folder to write scaling-N.onnx into (made if missing)")
    ap.add_argument("--sizes", default="512", help="comma-separated N (default: %(default)s)")
    args = ap.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        ap.error(f"--sizes: expected comma-separated integers, got {args.sizes!r}")
    if not sizes or min(sizes) < 1:
        ap.error("--sizes: every N must be >= 1")
    os.makedirs(args.out, exist_ok=True)
    for n in sizes:
        path = os.path.join(args.out, model_name(n))
        data = build(n).SerializeToString()
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
