#!/usr/bin/python3
"""Train the example CNN of aimc-vp on Fashion-MNIST and export it for the compiler.

Graph (every conv is followed by BatchNormalization, kept in the ONNX file: the importer folds
it itself):

    input [N,1,28,28]
    conv 3x3 1->16 + BN + ReLU, MaxPool 2          -> [N,16,14,14]
    conv 3x3 16->32 + BN + ReLU, MaxPool 2         -> [N,32,7,7]
    depthwise-separable: dw 3x3 (32) + BN + ReLU, pw 1x1 32->64 + BN + ReLU
    residual depthwise-separable: dw 3x3 (64) + BN + ReLU, pw 1x1 64->64 + BN, Add(skip), ReLU
    GlobalAveragePool, Flatten, Gemm 64->10        -> logits [N,10]

It exercises on a trained net what the random-weight workloads (scripts/workloads.py) exercise
only numerically: MaxPool, grouped (depthwise) Conv, a residual Add and GlobalAveragePool.

Inputs are raw pixels / 255 in [0, 1], NO mean/std normalization (the chip's DACs are unsigned).
Data loading is shared with scripts/train_fmnist.py.

    /usr/bin/python3 scripts/train_fmnist_cnn.py                # defaults: 10 epochs, seed 1 (~3 min on 2 cores)
    /usr/bin/python3 scripts/train_fmnist_cnn.py --epochs 2 --out /tmp/c.onnx
"""
import argparse
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# train_fmnist checks the torch/onnx/numpy imports and tells which interpreter to use.
from train_fmnist import DATA_DIR, REPO, accuracy, load_split, write_reference  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402


def conv_bn_relu(cin, cout, k, groups=1, relu=True):
    layers = [nn.Conv2d(cin, cout, k, padding=k // 2, groups=groups), nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU())
    return layers


class ResidualDs(nn.Module):
    """dw 3x3 + BN + ReLU, pw 1x1 + BN, then Add with the block input and ReLU."""

    def __init__(self, ch):
        super().__init__()
        self.body = nn.Sequential(*conv_bn_relu(ch, ch, 3, groups=ch),
                                  *conv_bn_relu(ch, ch, 1, relu=False))
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(x + self.body(x))


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            *conv_bn_relu(1, 16, 3), nn.MaxPool2d(2),
            *conv_bn_relu(16, 32, 3), nn.MaxPool2d(2),
            *conv_bn_relu(32, 32, 3, groups=32), *conv_bn_relu(32, 64, 1),
            ResidualDs(64),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            nn.Linear(64, 10))

    def forward(self, x):
        return self.net(x)


def count_macs(model, shape):
    """Conv + Linear multiply-accumulates per inference (no BN, pooling or Add)."""
    macs = []

    def hook(mod, _inp, out):
        if isinstance(mod, nn.Conv2d):
            macs.append(out[0].numel() * mod.weight[0].numel())
        else:
            macs.append(mod.weight.numel())

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, *shape))
    model.train(was_training)
    for h in handles:
        h.remove()
    return sum(macs)


def count_params(model):
    weights = sum(p.numel() for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))
                  for p in m.parameters())
    bn = sum(4 * m.num_features for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    return weights, bn


def update_readme(readme, section):
    """Replace (or append) the '## fashion_mnist_cnn.onnx' section, leave the rest alone."""
    text = open(readme).read() if os.path.exists(readme) else "# Example models\n"
    title = section.splitlines()[0]
    pattern = re.compile(r"^" + re.escape(title) + r"\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(readme, "w") as f:
        f.write(text.rstrip("\n") + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (one-cycle)")
    ap.add_argument("--data", default=DATA_DIR, help="folder with the gzipped IDX files")
    ap.add_argument("--out", default=os.path.join(REPO, "platforms/models/fashion_mnist_cnn.onnx"))
    ap.add_argument("--no-readme", action="store_true", help="do not touch the models README")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(2)

    t0 = time.time()
    x_train, y_train = load_split(args.data, "train")
    x_test, y_test = load_split(args.data, "t10k")

    model = Cnn()
    n = x_train.shape[0]
    steps = args.epochs * ((n + args.batch - 1) // args.batch)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    # One-cycle: warm up then anneal; reaches ~91 % in a handful of epochs without augmentation.
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(args.seed)
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
            sched.step()
            total += loss.item() * idx.shape[0]
        print(f"epoch {epoch + 1}/{args.epochs}: loss {total / n:.4f}, "
              f"test acc {accuracy(model, x_test, y_test):.4f} ({time.time() - t0:.0f} s)",
              flush=True)
    train_s = time.time() - t0

    acc = accuracy(model, x_test, y_test)
    print(f"float test accuracy over {x_test.shape[0]} images: {acc * 100:.2f} %")

    out = os.path.abspath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    model.eval()
    # PRESERVE (with the model in eval mode) and no constant folding keep the
    # BatchNormalization nodes: the exporter's eval peephole would fold them into the convs.
    torch.onnx.export(
        model, torch.zeros(1, 1, 28, 28), out, opset_version=13,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
        training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    m = onnx.load(out)
    onnx.checker.check_model(m)
    ops = sorted({node.op_type for node in m.graph.node})
    n_bn = sum(node.op_type == "BatchNormalization" for node in m.graph.node)
    print(f"wrote {out} ({os.path.getsize(out)} bytes; ops {', '.join(ops)}; {n_bn} BN nodes)")

    stem, ref = write_reference(model, x_test, y_test, out, args.seed, args.epochs, acc)

    if args.no_readme:
        return
    weights, bn = count_params(model)
    macs = count_macs(model, (1, 28, 28))
    name = os.path.basename(out)
    section = f"""## {name}

A small CNN with a depthwise-separable block and a residual depthwise-separable block, trained
on Fashion-MNIST by `scripts/train_fmnist_cnn.py`.

| item | value |
|---|---|
| graph | input `input` [N,1,28,28] -> Conv 3x3 1->16 -> BatchNormalization -> Relu -> MaxPool 2 -> Conv 3x3 16->32 -> BN -> Relu -> MaxPool 2 -> Conv dw 3x3 (group 32) -> BN -> Relu -> Conv 1x1 32->64 -> BN -> Relu -> [Conv dw 3x3 (group 64) -> BN -> Relu -> Conv 1x1 64->64 -> BN] + skip (Add) -> Relu -> GlobalAveragePool -> Flatten -> Gemm 64x10 -> `logits` [N,10] |
| ONNX opset | 13, dynamic batch axis; BatchNormalization kept as nodes (exported with `TrainingMode.PRESERVE`, no constant folding) for the importer to fold |
| ops | {', '.join(ops)} |
| input | raw pixels / 255, in [0, 1], **no mean/std normalization** (the chip's DACs are unsigned) |
| training | AdamW (weight decay 1e-4), one-cycle lr peak {args.lr}, batch {args.batch}, {args.epochs} epochs, no augmentation, seed {args.seed}, deterministic |
| **float test accuracy** | **{acc * 100:.2f} %** over the 10,000 Fashion-MNIST test images |
| first 500 test images | {ref['first500_accuracy'] * 100:.2f} % |
| parameters | {weights} conv/Gemm weights and biases, {weights + bn} with BN (4 per channel) |
| MACs per inference | {macs} (conv + depthwise + Gemm) |
| file size | {os.path.getsize(out) // 1024} KB |

Reproduce (this run: {train_s / 60:.1f} minutes on 2 cores with the Debian torch, {train_s / args.epochs:.0f} s per
epoch; about 17 s per epoch on idle cores; bit-identical with the same seed on the same torch build):

    /usr/bin/python3 scripts/train_fmnist_cnn.py --epochs {args.epochs} --seed {args.seed}

`{os.path.basename(stem)}.ref.json` has the same layout as the MLP's: the float logits of the
first 16 test images and the predictions of the first 500.

Note: `scripts/train_fmnist.py` rewrites this whole README; re-run this script afterwards (or
restore this section) if you retrain the MLP.
"""
    readme = os.path.join(os.path.dirname(out), "README.md")
    update_readme(readme, section)
    print(f"updated {readme} ({time.time() - t0:.0f} s total)")


if __name__ == "__main__":
    main()
