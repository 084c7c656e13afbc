"""Hardware-aware training for aimc-vp: the forward non-idealities of a platform as torch layers.

    import aimc_hwa
    chip = aimc_hwa.ChipModel.from_platform("platforms/pcm-3x4.yaml", at="1d", model="net.onnx")
    noisy = aimc_hwa.convert(model, chip)       # Conv2d / Linear -> AnalogConv2d / AnalogLinear
    ... train noisy as usual (noise is drawn every forward pass in training mode) ...
    aimc_hwa.strip(noisy)                       # back to plain Conv2d / Linear, for torch.onnx.export

What a layer models (docs/compiler.md, "Hardware-aware training"), each from the platform:

- input quantization: the DAC codes, `tile.dac.bits`, over [min(0, x), max(0, x)] (running, as the
  compiler's zero point);
- weight quantization: `2^bits_per_cell - 1` levels per sign over max |W| (the compiler's
  per-tensor scale, `weight_percentile` 100);
- programming error and drift: Gaussian weight error with the std and mean the platform itself
  reports (`aimc run ... --at T`: the report's `weight_error_at_inference`, fractions of the
  full-scale weight), so that the controller, the device physics and the time are the platform's;
- read noise: `tile.device.read_noise_rel` of each cell's conductance, drawn every read;
- output quantization: `tile.adc.bits` over +-running max of the layer's outputs (the ADC sees
  partial sums of at most `tile.array.rows` inputs; one range per layer here).

Gradients pass the quantizers straight through. In eval mode the layers quantize but add no noise.
Debian's torch (/usr/bin/python3); the platform is read with `aimc config` and measured with
`aimc run` (the executable: $AIMC_EXE, else `aimc` on PATH, else the one passed).
"""
import json
import os
import shutil
import subprocess
import tempfile

import torch
import torch.nn as nn
import yaml


def _aimc(exe=None):
    exe = exe or os.environ.get("AIMC_EXE") or shutil.which("aimc")
    if not exe:
        raise RuntimeError("aimc_hwa: no aimc executable (set $AIMC_EXE or pass exe=)")
    return exe


class ChipModel:
    """The numbers a noise layer needs, taken from one platform (and one run of it)."""

    def __init__(self, dac_bits, adc_bits, bits_per_cell, read_noise_rel, g_min_over_g_max,
                 weight_error_std=0.0, weight_error_mean=0.0, name="custom"):
        self.dac_bits = int(dac_bits)
        self.adc_bits = int(adc_bits)
        self.bits_per_cell = int(bits_per_cell)
        self.read_noise_rel = float(read_noise_rel)
        self.g_ratio = float(g_min_over_g_max)
        self.weight_error_std = float(weight_error_std)    # fraction of the full-scale weight
        self.weight_error_mean = float(weight_error_mean)  # fraction of the full-scale weight
        self.name = name

    @classmethod
    def from_platform(cls, platform, at=None, model=None, exe=None, overrides=(), seed=1, limit=1, drift_comp=False):
        """The platform's converters and cells (`aimc config`), and its weight error after
        programming `model` (default: aimc's default model) and waiting `at` (e.g. "1d"), with the
        firmware's drift compensation if drift_comp (aimc run --drift-comp)."""
        exe = _aimc(exe)
        sets = [a for kv in overrides for a in ("--set", kv)]
        env = dict(os.environ, SC_COPYRIGHT_MESSAGE="DISABLE")
        out = subprocess.run([exe, "config", "--platform", platform, *sets], capture_output=True, text=True, env=env)
        if out.returncode != 0:
            raise RuntimeError(f"aimc config --platform {platform}: {out.stderr.strip()}")
        cfg = yaml.safe_load(out.stdout)
        t = cfg["tile"]
        chip = cls(t["dac"]["bits"], t["adc"]["bits"], t["device"]["bits_per_cell"], t["device"]["read_noise_rel"],
                   t["device"]["g_min_ns"] / t["device"]["g_max_ns"], name=cfg.get("name", platform))
        with tempfile.TemporaryDirectory() as work:
            report = os.path.join(work, "r.json")
            cmd = [exe, "run", "--platform", platform, "--limit", str(limit), "--seed", str(seed), "--report", report,
                   "--no-progress", "-q", *sets]
            if model:
                cmd += ["--model", model]
            if at:
                cmd += ["--at", at]
            if drift_comp:
                cmd.append("--drift-comp")
            r = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if r.returncode != 0:
                raise RuntimeError(f"aimc run (measuring the weight error): {r.stderr.strip()}")
            with open(report) as f:
                w = json.load(f)["weight_error_at_inference"]
        chip.weight_error_std, chip.weight_error_mean = w["std"], w["mean"]
        return chip

    def __repr__(self):
        return (f"ChipModel({self.name}: dac {self.dac_bits} b, adc {self.adc_bits} b, {self.bits_per_cell} b/cell, "
                f"read noise {self.read_noise_rel:.3g}, weight error std {self.weight_error_std:.4g} "
                f"mean {self.weight_error_mean:.4g} of full scale)")


class _RoundSte(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.round(x)

    @staticmethod
    def backward(ctx, g):
        return g


def quantize(x, lo, hi, bits):
    """x on 2^bits - 1 steps over [lo, hi], clipped; the gradient passes straight through."""
    steps = float(2 ** bits - 1)
    scale = (hi - lo).clamp_min(1e-12) / steps
    return _RoundSte.apply((x.clamp(lo, hi) - lo) / scale) * scale + lo


class _Analog(nn.Module):
    """What AnalogLinear and AnalogConv2d share: the chip's numbers and running input/output ranges."""

    def _setup(self, chip, momentum=0.1):
        self.chip = chip
        self.momentum = momentum
        self.register_buffer("x_min", torch.zeros(()))
        self.register_buffer("x_max", torch.zeros(()))
        self.register_buffer("y_max", torch.zeros(()))
        self.register_buffer("seen", torch.zeros((), dtype=torch.bool))

    def _track(self, buf, value):
        if self.training:
            buf.copy_(value if not self.seen else (1 - self.momentum) * buf + self.momentum * value)

    def analog_weight(self, w):
        chip = self.chip
        w_max = w.detach().abs().max().clamp_min(1e-12)
        lm = float(2 ** chip.bits_per_cell - 1)
        wq = _RoundSte.apply(w / w_max * lm).clamp(-lm, lm) / lm * w_max
        if not self.training:
            return wq
        # Programming error and drift (the platform's measured distribution), then read noise of
        # the pair's two devices, each relative to its conductance (g_min + level share of the range).
        noise = chip.weight_error_mean + chip.weight_error_std * torch.randn_like(wq)
        g_span = 1.0 - chip.g_ratio
        g_pos = chip.g_ratio + g_span * (wq.detach().clamp_min(0) / w_max)
        g_neg = chip.g_ratio + g_span * ((-wq.detach()).clamp_min(0) / w_max)
        read = chip.read_noise_rel * torch.sqrt(g_pos ** 2 + g_neg ** 2) / g_span * torch.randn_like(wq)
        return wq + (noise + read) * w_max

    def analog_forward(self, x, op):
        # The DAC codes: unsigned over [min(0, x), max(0, x)] (a zero point when x has negatives).
        self._track(self.x_min, x.detach().min().clamp_max(0))
        self._track(self.x_max, x.detach().max().clamp_min(0))
        xq = quantize(x, self.x_min, torch.maximum(self.x_max, self.x_min + 1e-12), self.chip.dac_bits)
        y = op(xq, self.analog_weight(self.weight))
        self._track(self.y_max, y.detach().abs().max())
        if self.training:
            self.seen.fill_(True)
        if self.y_max.item() > 0:
            y = quantize(y, -self.y_max, self.y_max, self.chip.adc_bits)
        return y + (self.bias.view(1, -1, *([1] * (y.dim() - 2))) if self.bias is not None else 0)


class AnalogLinear(nn.Linear, _Analog):
    def __init__(self, lin, chip):
        nn.Linear.__init__(self, lin.in_features, lin.out_features, lin.bias is not None)
        self.load_state_dict(lin.state_dict())
        self._setup(chip)

    def forward(self, x):
        return self.analog_forward(x, lambda xq, w: nn.functional.linear(xq, w))


class AnalogConv2d(nn.Conv2d, _Analog):
    def __init__(self, conv, chip):
        nn.Conv2d.__init__(self, conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                           conv.dilation, conv.groups, conv.bias is not None)
        self.load_state_dict(conv.state_dict())
        self._setup(chip)

    def forward(self, x):
        return self.analog_forward(x, lambda xq, w: self._conv_forward(xq, w, None))


def convert(model, chip):
    """Replaces every nn.Linear and nn.Conv2d of model (in place) by its analog version; returns model."""
    for name, child in model.named_children():
        if isinstance(child, nn.Linear) and not isinstance(child, AnalogLinear):
            setattr(model, name, AnalogLinear(child, chip))
        elif isinstance(child, nn.Conv2d) and not isinstance(child, AnalogConv2d):
            setattr(model, name, AnalogConv2d(child, chip))
        else:
            convert(child, chip)
    return model


def strip(model):
    """The inverse of convert: plain nn.Linear / nn.Conv2d with the trained weights (for export)."""
    for name, child in model.named_children():
        if isinstance(child, AnalogLinear):
            lin = nn.Linear(child.in_features, child.out_features, child.bias is not None)
            lin.load_state_dict({k: v for k, v in child.state_dict().items() if k in ("weight", "bias")})
            setattr(model, name, lin)
        elif isinstance(child, AnalogConv2d):
            conv = nn.Conv2d(child.in_channels, child.out_channels, child.kernel_size, child.stride, child.padding,
                             child.dilation, child.groups, child.bias is not None)
            conv.load_state_dict({k: v for k, v in child.state_dict().items() if k in ("weight", "bias")})
            setattr(model, name, conv)
        else:
            strip(child)
    return model
