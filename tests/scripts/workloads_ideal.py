#!/usr/bin/python3
"""The issue-20 workloads of scripts/workloads.py on the default platform with ideal devices track
torch: the Conv1d keyword spotter (sequences [N, C, L], ReduceMean over time) and the autoencoder
with a Sigmoid output.

Each is built by workloads.py (seed 1, as its manifest records), run through `aimc run --input
FILE.npy --set tile.device.type=ideal --dump-outputs` on 32 seeded inputs, and compared with the
same torch model: correlation of all outputs >= 0.99 (8-bit activations and 4-bit cells through
5 layers); the classifier's top-1 agreement is printed.

    workloads_ideal.py AIMC
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

from checks import check, finish

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NAMES = ["kws_conv1d", "autoencoder_sigmoid", "mbconv_se"]
IMAGES = 32


def main():
    aimc = sys.argv[1]
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import workloads  # noqa: E402 (the script's own models and seeds)

    with tempfile.TemporaryDirectory() as work:
        p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "workloads.py"), "--only", ",".join(NAMES),
                            "--out", work], capture_output=True, text=True)
        check(p.returncode == 0, f"workloads.py failed: {p.stderr[-2000:]}")
        if p.returncode != 0:
            sys.exit(finish("workloads_ideal"))
        with open(os.path.join(work, "manifest.json")) as f:
            manifest = {m["name"]: m for m in json.load(f)["models"]}
        for name in NAMES:
            wl = next(w for w in workloads.WORKLOADS if w.name == name)
            model = workloads.init_model(wl, manifest[name]["seed"])
            x = np.random.default_rng(7).random((IMAGES, *wl.input_shape), dtype=np.float32)
            with torch.no_grad():
                want = model(torch.from_numpy(x)).numpy()
            inputs, outputs = os.path.join(work, name + ".x.npy"), os.path.join(work, name + ".y.npy")
            np.save(inputs, x)
            r = subprocess.run([aimc, "run", "--model", os.path.join(work, manifest[name]["file"]), "--input", inputs,
                                "--set", "tile.device.type=ideal", "--dump-outputs", outputs, "--report",
                                os.path.join(work, name + ".json"), "--no-progress", "-q"],
                               capture_output=True, text=True)
            check(r.returncode == 0, f"{name}: aimc run exit {r.returncode}: {r.stderr[-2000:]}")
            if r.returncode != 0:
                continue
            got = np.load(outputs).reshape(want.shape)
            corr = float(np.corrcoef(got.ravel(), want.ravel())[0, 1])
            line = f"{name}: ideal devices vs torch over {IMAGES} inputs: correlation {corr:.4f}"
            if wl.classifier:
                line += f", top-1 agreement {100 * float(np.mean(got.argmax(1) == want.argmax(1))):.1f} %"
            print(line)
            check(corr >= 0.99, f"{name}: correlation with torch {corr:.4f} < 0.99")
            if name == "autoencoder_sigmoid":  # the Sigmoid output stays in [0, 1] on the chip
                check(got.min() >= 0.0 and got.max() <= 1.0 + 1e-6, f"{name}: outputs outside [0, 1]")
    sys.exit(finish("workloads_ideal"))


if __name__ == "__main__":
    main()
