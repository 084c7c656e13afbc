#!/usr/bin/python3
"""Hardware-aware fine-tuning of the bundled Fashion-MNIST CNN for a platform (issue 20).

1. The bundled CNN (platforms/models/fashion_mnist_cnn.onnx) back in torch: scripts/
   train_fmnist_cnn.py's module with the ONNX file's weights, batch norms folded into their
   convolutions (as the compiler folds them, so that the noise lands on the weights the chip holds).
2. The platform's non-idealities as torch layers (platforms/python/aimc_hwa.py): DAC and ADC
   quantization, cell levels, read noise, and the weight error that `aimc run --at T` reports for
   this model (program-and-verify plus drift after T).
3. Fine-tuning with that noise drawn every step (--epochs, Adam), then export to ONNX.
4. Both networks on the platform: `aimc run --platform P --model M --at T --limit N`, accuracy.

    /usr/bin/python3 scripts/hwa_finetune.py                      # PCM preset, one day, drift-compensated
    /usr/bin/python3 scripts/hwa_finetune.py --platform platforms/membrain-3x4.yaml --at 1y
    /usr/bin/python3 scripts/hwa_finetune.py --aimc build/platforms/aimc --epochs 2 --limit 10000

Prints a table (float accuracy, platform accuracy at T, with and without fine-tuning) and writes
OUT/hwa.json and OUT/cnn_hwa.onnx.
"""
import argparse
import copy
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "platforms", "python"))

try:
    import numpy as np
    import onnx
    import onnx.numpy_helper
    import torch
    import torch.nn as nn
except ImportError as exc:  # pragma: no cover - depends on the interpreter
    sys.stderr.write(f"hwa_finetune.py: cannot import {exc.name!r}; run it with /usr/bin/python3\n")
    sys.exit(2)

import aimc_hwa  # noqa: E402
from train_fmnist import DATA_DIR, load_split  # noqa: E402
from train_fmnist_cnn import Cnn  # noqa: E402


def load_bundled(path):
    """train_fmnist_cnn's Cnn with the weights (and batch-norm statistics) of the ONNX file."""
    model = Cnn()
    init = {t.name: torch.from_numpy(onnx.numpy_helper.to_array(t).copy()) for t in onnx.load(path).graph.initializer}
    state = model.state_dict()
    missing = [k for k in state if k not in init and not k.endswith("num_batches_tracked")]
    if missing:
        raise SystemExit(f"hwa_finetune.py: {path} lacks {missing[:3]}... (not the bundled CNN?)")
    model.load_state_dict({k: init.get(k, v) for k, v in state.items()})
    return model.eval()


def fold_batch_norms(module):
    """Every Conv2d followed by a BatchNorm2d in a Sequential becomes one Conv2d (eval statistics)."""
    for child in module.children():
        fold_batch_norms(child)
    if isinstance(module, nn.Sequential):
        mods = list(module)
        for i in range(len(mods) - 1):
            if isinstance(mods[i], nn.Conv2d) and isinstance(mods[i + 1], nn.BatchNorm2d):
                module[i] = torch.nn.utils.fusion.fuse_conv_bn_eval(mods[i], mods[i + 1])
                module[i + 1] = nn.Identity()
    return module


def accuracy(model, x, y, batch=1000):
    model.eval()
    with torch.no_grad():
        return sum((model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
                   for i in range(0, len(x), batch)) / len(x)


def export(model, path):
    torch.onnx.export(model.eval(), torch.zeros(1, 1, 28, 28), path, opset_version=13, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})


def platform_accuracy(aimc, platform, model, at, drift_comp, limit, seed, work, tag):
    report = os.path.join(work, f"{tag}.report.json")
    cmd = [aimc, "run", "--platform", platform, "--model", model, "--limit", str(limit), "--seed", str(seed),
           "--report", report, "--no-progress", "-q"] + (["--at", at] if at else [])
    if drift_comp:
        cmd.append("--drift-comp")
    p = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE"))
    if p.returncode != 0:
        raise SystemExit(f"hwa_finetune.py: {' '.join(cmd)} failed:\n{p.stderr}")
    with open(report) as f:
        acc = json.load(f)["accuracy"]
    return acc["float"], acc["platform"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--aimc", default=os.path.join(REPO, "build", "platforms", "aimc"), help="the built aimc tool")
    ap.add_argument("--platform", default=os.path.join(REPO, "platforms", "pcm-3x4.yaml"))
    ap.add_argument("--model", default=os.path.join(REPO, "platforms", "models", "fashion_mnist_cnn.onnx"))
    ap.add_argument("--at", default="1d", help="evaluate this long after programming (aimc run --at)")
    ap.add_argument("--no-drift-comp", action="store_true",
                    help="without the firmware's drift compensation (aimc run --drift-comp, on by default)")
    ap.add_argument("--epochs", type=float, default=1.0, help="fine-tuning epochs (fractions allowed)")
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--limit", type=int, default=2000, help="test images run on the platform")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default=DATA_DIR)
    ap.add_argument("--out", default=os.path.join(REPO, "out", "hwa"))
    args = ap.parse_args()
    if not os.path.isfile(args.aimc):
        ap.error(f"--aimc {args.aimc}: no such file (build first: scripts/build.sh)")
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    t0 = time.time()

    x_train, y_train = load_split(args.data, "train")
    x_test, y_test = load_split(args.data, "t10k")
    base = fold_batch_norms(load_bundled(args.model))
    base_onnx = os.path.join(args.out, "cnn_base.onnx")
    export(base, base_onnx)

    drift_comp = not args.no_drift_comp
    chip = aimc_hwa.ChipModel.from_platform(args.platform, at=args.at, model=args.model, exe=args.aimc,
                                            seed=args.seed, drift_comp=drift_comp)
    print(f"chip: {chip}")
    tuned = aimc_hwa.convert(copy.deepcopy(base), chip)
    opt = torch.optim.Adam(tuned.parameters(), lr=args.lr)
    steps = int(args.epochs * len(x_train) / 128)
    perm = torch.randperm(len(x_train))
    tuned.train()
    for s in range(steps):
        idx = perm[(s * 128) % len(x_train):][:128]
        loss = nn.functional.cross_entropy(tuned(x_train[idx]), y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    aimc_hwa.strip(tuned)
    tuned_onnx = os.path.join(args.out, "cnn_hwa.onnx")
    export(tuned, tuned_onnx)

    rows = {}
    for tag, model, net in (("without fine-tuning", base_onnx, base), ("noise-aware fine-tuned", tuned_onnx, tuned)):
        f_acc, p_acc = platform_accuracy(args.aimc, args.platform, model, args.at, drift_comp, args.limit, args.seed,
                                         args.out, tag.split()[0])
        rows[tag] = {"torch_float_10k": accuracy(net, x_test, y_test), "float": f_acc, "platform": p_acc}
    print(f"{os.path.basename(args.platform)}, {args.at} after programming"
          f"{' with drift compensation' if drift_comp else ''}, first {args.limit} test images "
          f"(seed {args.seed}; {args.epochs:g} epoch(s) of fine-tuning, {time.time() - t0:.0f} s):")
    print(f"  {'':24s} {'float (10k)':>12s} {'float':>8s} {'platform':>9s}")
    for tag, r in rows.items():
        print(f"  {tag:24s} {100 * r['torch_float_10k']:11.2f} % {100 * r['float']:7.2f} % {100 * r['platform']:8.2f} %")
    with open(os.path.join(args.out, "hwa.json"), "w") as f:
        json.dump({"platform": args.platform, "at": args.at, "limit": args.limit, "seed": args.seed,
                   "epochs": args.epochs, "chip": vars(chip), "results": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
