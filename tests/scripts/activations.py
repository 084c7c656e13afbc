#!/usr/bin/python3
"""Activations end to end (issue 20): a CNN with every activation the importer knows (SiLU,
HardSwish, PReLU, GELU, Tanh, LeakyReLU after a MaxPool, Elu, Sigmoid after a Relu, HardSigmoid,
input normalisation by Sub and Div) compiled for the default platform and run with ideal devices
tracks torch, and each activation costs the digital unit its float operations.

- The platform's outputs against torch's on 64 seeded images: correlation >= 0.99 and the top-1
  agreement printed (8-bit activations through 12 layers; the tolerance is the quantization's).
- The same network with its Tanh taken out: the digital units' dynamic energy per inference falls
  by exactly the Tanh's operations, 8 x 8 x 8 outputs x 1 float operation x tile.digital.e_float_op_pj
  (pinned here at 2.3 pJ), within 0.5 % (the rest of the digital work is the same counts).

    activations.py AIMC
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

from checks import check, finish

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "compiler", "data", "make_act_net.py")
E_FLOAT_OP_PJ = 2.3
IMAGES = 64


def load_fixture():
    sys.path.insert(0, os.path.dirname(FIXTURE))  # make_act_net imports torch_ref beside it
    spec = importlib.util.spec_from_file_location("make_act_net", FIXTURE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def build(mod, no_tanh, path):
    torch.manual_seed(11)
    model = mod.ActNet()
    model.eval()
    if no_tanh:
        original = torch.tanh
        forward = model.forward

        def forward_without_tanh(x):
            torch.tanh = lambda t: t
            try:
                return forward(x)
            finally:
                torch.tanh = original
        model.forward = forward_without_tanh
    x = torch.rand(1, 3, 16, 16)
    torch.onnx.export(model, x, path, opset_version=13, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}})
    return model


def run(aimc, model, inputs, work, tag):
    report = os.path.join(work, f"{tag}.json")
    out = os.path.join(work, f"{tag}.out.npy")
    cmd = [aimc, "run", "--model", model, "--input", inputs, "--set", "tile.device.type=ideal",
           "--set", f"tile.digital.e_float_op_pj={E_FLOAT_OP_PJ}", "--report", report, "--dump-outputs", out,
           "--no-progress", "-q"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    check(p.returncode == 0, f"{tag}: aimc run exit {p.returncode}: {p.stderr[-2000:]}")
    if p.returncode != 0:
        return None, None
    with open(report) as f:
        return json.load(f), np.load(out)


def main():
    aimc = sys.argv[1]
    mod = load_fixture()
    with tempfile.TemporaryDirectory() as work:
        full = os.path.join(work, "act_net.onnx")
        plain = os.path.join(work, "act_net_no_tanh.onnx")
        model = build(mod, False, full)
        build(mod, True, plain)
        rng = np.random.default_rng(20)
        x = rng.random((IMAGES, 3, 16, 16), dtype=np.float32)
        inputs = os.path.join(work, "inputs.npy")
        np.save(inputs, x)
        with torch.no_grad():
            want = model(torch.from_numpy(x)).numpy()

        rep, got = run(aimc, full, inputs, work, "full")
        if rep is not None:
            check(got.shape == want.shape, f"outputs {got.shape}, torch {want.shape}")
            corr = float(np.corrcoef(got.ravel(), want.ravel())[0, 1])
            top1 = float(np.mean(got.argmax(1) == want.argmax(1)))
            print(f"ideal devices vs torch: correlation {corr:.5f}, top-1 agreement {100 * top1:.1f} % "
                  f"over {IMAGES} images")
            check(corr >= 0.99, f"correlation with torch {corr:.5f} < 0.99")
            check(top1 >= 0.85, f"top-1 agreement with torch {100 * top1:.1f} % < 85 %")

        rep_plain, _ = run(aimc, plain, inputs, work, "no_tanh")
        if rep is not None and rep_plain is not None:
            def digital(r):
                return r["energy_j"]["by_component_static_dynamic"]["digital"]["dynamic"]
            diff_nj = (digital(rep) - digital(rep_plain)) * 1e9
            want_nj = 8 * 8 * 8 * 1 * E_FLOAT_OP_PJ * 1e-3
            print(f"digital dynamic energy per inference: {digital(rep) * 1e9:.3f} nJ with Tanh, "
                  f"{digital(rep_plain) * 1e9:.3f} nJ without: {diff_nj:.4f} nJ (Tanh's operations: {want_nj:.4f} nJ)")
            check(abs(diff_nj - want_nj) <= 0.005 * want_nj,
                  f"the Tanh costs {diff_nj:.4f} nJ, expected {want_nj:.4f} nJ")
    sys.exit(finish("activations"))


if __name__ == "__main__":
    main()
