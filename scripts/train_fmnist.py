#!/usr/bin/python3
"""Train the example network of aimc-vp: an MLP 784-256-128-10 (ReLU) on Fashion-MNIST.

Writes the ONNX model the compiler imports (opset 13, input "input" [N,1,28,28], Flatten then
three Gemm layers, dynamic batch), a README with the float test accuracy, and a small reference
file with float logits the compiler tests compare against.

Inputs are raw pixels scaled to [0, 1] with NO mean/std normalization: the chip's DACs are
unsigned, so the network input must stay non-negative for layer 0 to be quantized without an
offset.

    /usr/bin/python3 scripts/train_fmnist.py            # defaults: 10 epochs, seed 1 (~3.5 min on 2 cores)
    /usr/bin/python3 scripts/train_fmnist.py --epochs 3 --out /tmp/m.onnx
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import onnx  # noqa: F401  (the exporter needs it; fail early with a clear message)
except ImportError as exc:  # pragma: no cover - depends on the interpreter used
    sys.stderr.write(
        f"train_fmnist.py: cannot import {exc.name!r} with {sys.executable}.\n"
        "This script needs torch, onnx and numpy. On this machine they are installed for the\n"
        "Debian interpreter: run it as\n"
        "    /usr/bin/python3 scripts/train_fmnist.py\n"
        "(the python3 first on PATH may be another interpreter without them).\n")
    sys.exit(2)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx(path, expected_magic):
    """Read a gzipped (or plain) IDX file into a numpy array; checks the magic number and size."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    if magic != expected_magic:
        raise ValueError(f"{path}: bad IDX magic 0x{magic:08x}, expected 0x{expected_magic:08x}")
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    payload = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if payload.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {payload.size} data bytes, header says {dims}")
    return payload.reshape(dims)


def load_split(data_dir, prefix):
    images = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"), 0x00000803)
    labels = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"), 0x00000801)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{prefix}: {images.shape[0]} images but {labels.shape[0]} labels")
    # [0,1] pixels, shape [N,1,28,28]: no normalization (unsigned DAC codes downstream).
    x = torch.from_numpy(images.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        # nn.Flatten exports as an ONNX Flatten node: the importer's Flatten path is exercised.
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 256), nn.ReLU(),
            nn.Linear(256, 128), nn.ReLU(),
            nn.Linear(128, 10))

    def forward(self, x):
        return self.net(x)


def accuracy(model, x, y, batch=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    return correct / x.shape[0]


def write_reference(model, x_test, y_test, out, seed, epochs, acc):
    """Writes OUT's .ref.json next to it: the float logits of the first 16 test images and the
    predictions of the first 500 (computed by torch on the exported weights' source), for the
    C++ importer tests."""
    stem = os.path.splitext(out)[0]
    with torch.no_grad():
        logits16 = model(x_test[:16]).numpy().astype(np.float64)
        pred500 = model(x_test[:500]).argmax(1).numpy()
    ref = {
        "model": os.path.basename(out),
        "seed": seed,
        "epochs": epochs,
        "test_accuracy": acc,
        "first16_logits": logits16.tolist(),
        "first500_predictions": pred500.tolist(),
        "first500_accuracy": float((pred500 == y_test[:500].numpy()).mean()),
    }
    with open(stem + ".ref.json", "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    print(f"wrote {stem}.ref.json")
    return stem, ref


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--data", default=DATA_DIR, help="folder with the gzipped IDX files")
    ap.add_argument("--out", default=os.path.join(REPO, "platforms/models/fashion_mnist_mlp.onnx"))
    args = ap.parse_args()

    # Determinism: one seed, deterministic kernels, a seeded generator for the shuffling.
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(2)

    t0 = time.time()
    x_train, y_train = load_split(args.data, "train")
    x_test, y_test = load_split(args.data, "t10k")

    model = Mlp()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    # Halve the step size towards the end: a few points of accuracy for free in few epochs.
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=max(1, args.epochs // 2), gamma=0.3)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(args.seed)
    n = x_train.shape[0]
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        total = 0.0
        for i in range(0, n, args.batch):
            idx = perm[i:i + args.batch]
            opt.zero_grad()
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
            total += loss.item() * idx.shape[0]
        sched.step()
        print(f"epoch {epoch + 1}/{args.epochs}: loss {total / n:.4f}, "
              f"test acc {accuracy(model, x_test, y_test):.4f} ({time.time() - t0:.0f} s)",
              flush=True)

    acc = accuracy(model, x_test, y_test)
    print(f"float test accuracy over {x_test.shape[0]} images: {acc * 100:.2f} %")

    out = os.path.abspath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    model.eval()
    torch.onnx.export(
        model, torch.zeros(1, 1, 28, 28), out, opset_version=13,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
        do_constant_folding=True)
    onnx.checker.check_model(onnx.load(out))
    print(f"wrote {out}")

    stem, ref = write_reference(model, x_test, y_test, out, args.seed, args.epochs, acc)

    readme = os.path.join(os.path.dirname(out), "README.md")
    with open(readme, "w") as f:
        f.write(f"""# Example models

## {os.path.basename(out)}

An MLP 784-256-128-10 with ReLU, trained on Fashion-MNIST by `scripts/train_fmnist.py`.

| item | value |
|---|---|
| graph | input `input` [N,1,28,28] -> Flatten -> Gemm 784x256 -> Relu -> Gemm 256x128 -> Relu -> Gemm 128x10 -> `logits` [N,10] |
| ONNX opset | 13, dynamic batch axis |
| input | raw pixels / 255, in [0, 1], **no mean/std normalization** (the chip's DACs are unsigned) |
| training | Adam lr {args.lr}, batch {args.batch}, {args.epochs} epochs, step decay x0.3 at half way, seed {args.seed}, deterministic |
| **float test accuracy** | **{acc * 100:.2f} %** over the 10,000 Fashion-MNIST test images |
| first 500 test images | {ref['first500_accuracy'] * 100:.2f} % |
| parameters | {sum(p.numel() for p in model.parameters())} |
| MACs per inference | {784 * 256 + 256 * 128 + 128 * 10} |

Reproduce (about 3.5 minutes on 2 cores with the Debian torch, which uses a generic BLAS;
bit-identical with the same seed on the same torch build; about 20 s per epoch, so `--epochs N` trades accuracy for time):

    /usr/bin/python3 scripts/train_fmnist.py --epochs {args.epochs} --seed {args.seed}

`{os.path.basename(stem)}.ref.json` holds the float logits of the first 16 test images and the
predictions of the first 500; `tests/compiler` checks the C++ importer against them.
""")
    print(f"wrote {readme} ({time.time() - t0:.0f} s total)")


if __name__ == "__main__":
    main()
