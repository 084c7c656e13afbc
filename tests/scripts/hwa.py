#!/usr/bin/python3
"""platforms/python/aimc_hwa.py, the hardware-aware training layers (issue 20).

- The weight noise in training mode has the std the chip model says: weight_error_std x max|W|
  (read noise off), within 5 % (20,000 samples: the std's relative standard error is 0.5 %), and
  its mean; read noise adds rel x g / (g_max - g_min) per device.
- In eval mode the weights take at most 2 (2^bits - 1) + 1 values (the cell levels), no noise.
- Inputs are quantized to 2^dac_bits - 1 steps, outputs to the ADC's; gradients pass through.
- convert then strip gives back plain layers with the weights; the fine-tuning moved them.
- ChipModel.from_platform reads the converters of a preset (`aimc config`) and the weight error of
  a run (`aimc run`): the PCM preset's after a day, larger than right after programming.

    hwa.py AIMC
"""
import os
import sys

import torch
import torch.nn as nn

from checks import check, finish

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "platforms", "python"))
import aimc_hwa  # noqa: E402


def main():
    aimc = sys.argv[1]
    torch.manual_seed(3)
    chip = aimc_hwa.ChipModel(dac_bits=8, adc_bits=8, bits_per_cell=4, read_noise_rel=0.0, g_min_over_g_max=0.01,
                              weight_error_std=0.05, weight_error_mean=0.01)
    lin = aimc_hwa.AnalogLinear(nn.Linear(200, 100), chip)
    w = lin.weight.detach()
    w_max = float(w.abs().max())
    lin.eval()
    wq = lin.analog_weight(lin.weight).detach()
    levels = torch.unique(torch.round(wq / w_max * 15))
    check(len(torch.unique(wq)) <= 31 and float(levels.abs().max()) <= 15,
          f"eval weights take {len(torch.unique(wq))} values, at most 31 expected")
    check(float((wq - w).abs().max()) <= w_max / 15 / 2 + 1e-6, "eval weights are not the nearest levels")
    lin.train()
    d = (lin.analog_weight(lin.weight).detach() - wq) / w_max
    std, mean = float(d.std()), float(d.mean())
    print(f"programming-error noise: std {std:.4f} (want 0.05), mean {mean:.4f} (want 0.01) of max|W|")
    check(abs(std - 0.05) <= 0.05 * 0.05, f"noise std {std:.4f}, expected 0.05 within 5 %")
    check(abs(mean - 0.01) <= 4 * 0.05 / (d.numel() ** 0.5), f"noise mean {mean:.4f}, expected 0.01")
    chip.weight_error_std = chip.weight_error_mean = 0.0
    chip.read_noise_rel = 0.02
    d = (lin.analog_weight(lin.weight).detach() - wq) / w_max
    g = chip.g_ratio + (1 - chip.g_ratio) * wq.abs() / w_max  # the active device; the other at g_min
    want = 0.02 * torch.sqrt(g ** 2 + chip.g_ratio ** 2) / (1 - chip.g_ratio)
    ratio = float((d / want).std())
    print(f"read noise: std / expected {ratio:.4f}")
    check(abs(ratio - 1.0) <= 0.05, f"read noise std is {ratio:.3f} x the expected")

    # Inputs on the DAC's 255 steps; gradients straight through the quantizers.
    x = torch.rand(64, 200, requires_grad=True)
    y = lin(x)
    y.sum().backward()
    check(x.grad is not None and float(x.grad.abs().sum()) > 0, "no gradient through the quantizers")
    xs = float(lin.x_max - lin.x_min) / 255
    xq = aimc_hwa.quantize(x.detach(), lin.x_min, lin.x_max, 8)
    check(float(((xq - lin.x_min) / xs - torch.round((xq - lin.x_min) / xs)).abs().max()) < 1e-3,
          "inputs are not on the DAC's steps")

    # convert / strip on a small CNN; a few steps of training move the weights.
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    before = [p.detach().clone() for p in net.parameters()]
    aimc_hwa.convert(net, chip)
    check(isinstance(net[0], aimc_hwa.AnalogConv2d) and isinstance(net[3], aimc_hwa.AnalogLinear), "convert")
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(3):
        loss = nn.functional.cross_entropy(net(torch.rand(8, 1, 8, 8)), torch.randint(0, 3, (8,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    aimc_hwa.strip(net)
    check(type(net[0]) is nn.Conv2d and type(net[3]) is nn.Linear, "strip")
    moved = any(float((a - b).abs().max()) > 0 for a, b in zip(before, net.parameters()))
    check(moved, "training did not move the weights")

    # From a preset: the converters of `aimc config`, the weight error of `aimc run`.
    pcm = os.path.join(ROOT, "platforms", "pcm-3x4.yaml")
    now = aimc_hwa.ChipModel.from_platform(pcm, exe=aimc)
    day = aimc_hwa.ChipModel.from_platform(pcm, at="1d", exe=aimc)
    print(f"{now}\n{day}")
    check(now.dac_bits == 8 and now.bits_per_cell == 4 and abs(now.g_ratio - 0.01) < 1e-9, "pcm-3x4's converters")
    check(0 < now.weight_error_std < day.weight_error_std, "the weight error after a day is not larger")
    sys.exit(finish("hwa"))


if __name__ == "__main__":
    main()
