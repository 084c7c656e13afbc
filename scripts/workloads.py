#!/usr/bin/python3
"""Build the benchmark workloads of aimc-vp as ONNX files, with counts and torch references.

Models (random weights from a fixed seed; see docs/workloads.md for topology choices):

    ds_cnn               MLPerf Tiny KWS DS-CNN, input [N,1,49,10] (MFCC)
    resnet8              MLPerf Tiny IC ResNet-8 (16/32/64 filters), input [N,3,32,32]
    fc_autoencoder       MLPerf Tiny AD, DCASE2020 baseline 640-128x4-8-128x4-640, input [N,640]
    mobilenet_v1_025_96  MLPerf Tiny VWW MobileNet-v1 0.25, 2 classes, input [N,3,96,96]
    mobilenet_v1_224     MobileNet-v1 1.0 (TF-slim), 1000 classes, input [N,3,224,224]
    mobilenet_v2_224     MobileNetV2 1.0, 1000 classes, input [N,3,224,224] (counts not checked:
                         reference-chips section 8 has no row for it)
    kws_conv1d           Conv1d keyword spotting on MFCC frames, input [N,40,49] (not checked)
    autoencoder_sigmoid  640-128-8-128-640 autoencoder with a Sigmoid output, input [N,640] (not checked)
    mbconv_se            MBConv block with squeeze-excitation and SiLU, input [N,3,32,32] (not checked)

Every file is ONNX opset 13, input "input", output "output", dynamic batch axis, float32, with
the BatchNormalization nodes kept (the C++ importer folds them). For each model the script also
writes NAME.input.npy (a seeded uniform [0, 1) input of batch 2) and NAME.output.npy (torch's
float output for it), and DIR/manifest.json.

Counts: params = conv/linear weights + biases; "+BN" adds 4 numbers per BN channel (gamma, beta,
running mean and variance); MACs = conv + depthwise + linear multiply-accumulates per inference
(no BN, pooling or Add). They are counted on the torch modules and again on the exported ONNX
graph, and compared with section 8 of the reference-chips table: exit status 1 when any count is
off by more than 0.5 %.

    /usr/bin/python3 scripts/workloads.py                      # all, into build/workloads
    /usr/bin/python3 scripts/workloads.py --check              # counts only, no files
    /usr/bin/python3 scripts/workloads.py --only ds_cnn,resnet8 --out /tmp/w
    /usr/bin/python3 scripts/workloads.py --verify             # also run the ONNX files in numpy
"""
import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

try:
    import numpy as np
    import onnx
    import onnx.numpy_helper
    import onnx.shape_inference
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as exc:  # pragma: no cover - depends on the interpreter used
    sys.stderr.write(
        f"workloads.py: cannot import {exc.name!r} with {sys.executable}.\n"
        "Run it with the Debian interpreter, which has torch, onnx and numpy:\n"
        "    /usr/bin/python3 scripts/workloads.py\n")
    sys.exit(2)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPSET = 13
TOLERANCE = 0.005
# What the compiler's importer is meant to accept; an exported graph outside it is an error here.
ALLOWED_OPS = {"Conv", "BatchNormalization", "Relu", "Clip", "MaxPool", "AveragePool",
               "GlobalAveragePool", "Add", "Concat", "Flatten", "Reshape", "Gemm", "MatMul",
               "Softmax", "Sigmoid", "ReduceMean", "Mul"}


# ---------------------------------------------------------------------------------------------
# Topologies
# ---------------------------------------------------------------------------------------------

def conv_bn(cin, cout, k, stride=1, padding=None, groups=1, bias=True, act=nn.ReLU):
    """Conv + BN (+ activation). padding defaults to k // 2: Keras 'same' for stride 1 and odd
    k; for stride 2 on an even input it gives the same output size as 'same' (whose padding is
    asymmetric, one more row/column at the bottom/right), hence the same MACs."""
    if padding is None:
        padding = k // 2 if isinstance(k, int) else tuple(d // 2 for d in k)
    layers = [nn.Conv2d(cin, cout, k, stride=stride, padding=padding, groups=groups, bias=bias),
              nn.BatchNorm2d(cout)]
    if act is not None:
        layers.append(act())
    return layers


class DsCnn(nn.Module):
    """mlcommons/tiny v0.1 keyword_spotting/keras_model.py 'ds_cnn' (dropout omitted)."""

    def __init__(self, classes=12, filters=64):
        super().__init__()
        # Keras 'same' for a 10x4 kernel, stride 2 on 49x10 pads rows 4 (top) + 5 (bottom) and
        # columns 1 + 1 -> 25x5. Symmetric (5, 1) gives the same 25x5 output (see conv_bn).
        layers = conv_bn(1, filters, (10, 4), stride=2, padding=(5, 1))
        for _ in range(4):
            layers += conv_bn(filters, filters, 3, groups=filters)   # depthwise 3x3
            layers += conv_bn(filters, filters, 1)                   # pointwise 1x1
        # The reference pools with AveragePooling2D(pool_size=(49 // 2, 10 // 2)) = (24, 5) on
        # the 25x5 map: one output that averages the first 24 rows only (not a global pool).
        # count_include_pad=False: without padding it changes nothing, but with the default the
        # exporter puts an all-zero Pad node in front of the AveragePool.
        layers += [nn.AvgPool2d((24, 5), count_include_pad=False), nn.Flatten(),
                   nn.Linear(filters, classes)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class ResBlock(nn.Module):
    """resnet_v1_eembc stack: conv3x3(stride) BN ReLU conv3x3 BN, + identity or 1x1(stride)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.body = nn.Sequential(*conv_bn(cin, cout, 3, stride=stride),
                                  *conv_bn(cout, cout, 3, act=None))
        # The reference's 1x1 projection has a bias and no BN.
        self.shortcut = (nn.Conv2d(cin, cout, 1, stride=stride)
                         if stride != 1 or cin != cout else nn.Identity())
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.shortcut(x) + self.body(x))


class ResNet8(nn.Module):
    """mlcommons/tiny image_classification resnet_v1_eembc with num_filters = 16."""

    def __init__(self, classes=10):
        super().__init__()
        self.net = nn.Sequential(
            *conv_bn(3, 16, 3),
            ResBlock(16, 16, 1), ResBlock(16, 32, 2), ResBlock(32, 64, 2),
            # AveragePooling2D(pool_size=8) on the 8x8 map == global average pool.
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, classes))

    def forward(self, x):
        return self.net(x)


class FcAutoencoder(nn.Module):
    """DCASE2020 task 2 baseline keras_model.py: Dense + BN + ReLU hidden layers, linear out."""

    def __init__(self, dim=640, hidden=128, bottleneck=8):
        super().__init__()
        widths = [dim] + [hidden] * 4 + [bottleneck] + [hidden] * 4
        layers = []
        for cin, cout in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(cin, cout), nn.BatchNorm1d(cout), nn.ReLU()]
        layers.append(nn.Linear(hidden, dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


# (pointwise output channels at alpha 1, depthwise stride) for the 13 separable blocks.
MOBILENET_V1_BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
                       (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]


class MobileNetV1(nn.Module):
    """MobileNet-v1: conv 3x3/2, 13 depthwise-separable blocks, global average pool, FC.

    Convolutions have no bias (BN follows), as in TF-slim and keras.applications; the
    classifier has one. act: nn.ReLU6 for TF-slim, nn.ReLU for the MLPerf Tiny VWW model."""

    def __init__(self, alpha=1.0, classes=1000, act=nn.ReLU6):
        super().__init__()
        ch = int(32 * alpha)
        layers = conv_bn(3, ch, 3, stride=2, bias=False, act=act)
        for cout, stride in MOBILENET_V1_BLOCKS:
            cout = int(cout * alpha)
            layers += conv_bn(ch, ch, 3, stride=stride, groups=ch, bias=False, act=act)
            layers += conv_bn(ch, cout, 1, bias=False, act=act)
            ch = cout
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(ch, classes)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class KwsConv1d(nn.Module):
    """Keyword spotting with 1-D (temporal) convolutions over MFCC frames, the layout of TC-ResNet
    (Choi et al. 2019) without its residuals: the 40 coefficients are the channels, the 49 frames
    the sequence [N, 40, 49]; four Conv1d + BN + ReLU (64 channels, kernel 3, the second with
    stride 2), the mean over time (ReduceMean), a 12-way classifier."""

    def __init__(self, coeffs=40, channels=64, classes=12):
        super().__init__()
        layers, cin = [], coeffs
        for i in range(4):
            layers += [nn.Conv1d(cin, channels, 3, stride=2 if i == 1 else 1, padding=1, bias=False),
                       nn.BatchNorm1d(channels), nn.ReLU()]
            cin = channels
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(channels, classes)

    def forward(self, x):
        return self.fc(self.body(x).mean(dim=2))


class MbConvSe(nn.Module):
    """An EfficientNet-B0 style network in small: stem conv 3x3/2 (16), one MBConv block (1x1
    expansion to 64, depthwise 3x3, squeeze-excitation 64 -> 8 -> 64 with a Sigmoid gate,
    1x1 projection to 24), a 1x1 head (64), global average pool, 10 classes; SiLU throughout
    (Tan & Le 2019's MBConv6 with squeeze-excitation)."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(3, 16, 3, stride=2, bias=False, act=nn.SiLU))
        self.expand = nn.Sequential(*conv_bn(16, 64, 1, bias=False, act=nn.SiLU))
        self.dw = nn.Sequential(*conv_bn(64, 64, 3, groups=64, bias=False, act=nn.SiLU))
        self.se_reduce = nn.Conv2d(64, 8, 1)
        self.se_expand = nn.Conv2d(8, 64, 1)
        self.project = nn.Sequential(*conv_bn(64, 24, 1, bias=False, act=None))
        self.head = nn.Sequential(*conv_bn(24, 64, 1, bias=False, act=nn.SiLU))
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.dw(self.expand(self.stem(x)))
        s = F.adaptive_avg_pool2d(x, 1)
        s = torch.sigmoid(self.se_expand(F.silu(self.se_reduce(s))))
        x = self.head(self.project(x * s))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


class SigmoidAutoencoder(nn.Module):
    """An autoencoder of frames in [0, 1]: 640-128-8-128-640 with BN and ReLU in the hidden layers
    and a Sigmoid on the output (reconstructions in [0, 1]), the shape of the DCASE baseline's
    first and last layers."""

    def __init__(self, dim=640, hidden=128, bottleneck=8):
        super().__init__()
        widths = [dim, hidden, bottleneck, hidden]
        layers = []
        for cin, cout in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(cin, cout), nn.BatchNorm1d(cout), nn.ReLU()]
        layers += [nn.Linear(hidden, dim), nn.Sigmoid()]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


# MobileNetV2 (Sandler et al. 2018, Table 2): (expansion t, output channels c, repeats n, stride s).
MOBILENET_V2_BLOCKS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                       (6, 160, 3, 2), (6, 320, 1, 1)]


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expansion (ReLU6), 3x3 depthwise (ReLU6), 1x1 linear projection;
    the input is added back when the block keeps the size and the channels."""

    def __init__(self, cin, cout, stride, t):
        super().__init__()
        hidden = cin * t
        layers = [] if t == 1 else conv_bn(cin, hidden, 1, bias=False, act=nn.ReLU6)
        layers += conv_bn(hidden, hidden, 3, stride=stride, groups=hidden, bias=False, act=nn.ReLU6)
        layers += conv_bn(hidden, cout, 1, bias=False, act=None)
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.body(x) if self.residual else self.body(x)


class MobileNetV2(nn.Module):
    """MobileNetV2 1.0 (torchvision's layout): conv 3x3/2 (32), 17 inverted residual blocks,
    conv 1x1 (1280), global average pool, FC; batch-normalised convolutions without bias."""

    def __init__(self, classes=1000):
        super().__init__()
        layers = conv_bn(3, 32, 3, stride=2, bias=False, act=nn.ReLU6)
        ch = 32
        for t, c, n, s in MOBILENET_V2_BLOCKS:
            for i in range(n):
                layers.append(InvertedResidual(ch, c, s if i == 0 else 1, t))
                ch = c
        layers += conv_bn(ch, 1280, 1, bias=False, act=nn.ReLU6)
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1280, classes)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


@dataclass
class Workload:
    name: str
    build: Callable[[], nn.Module]
    input_shape: Tuple[int, ...]      # without the batch axis
    target_params: Optional[float]     # section 8 of reference-chips.md (None: no row there)
    target_params_bn: Optional[float]
    target_macs: Optional[float]
    classifier: bool
    calib_batch: int                   # batch used to set the BN running statistics
    source: str


WORKLOADS = [
    Workload("ds_cnn", DsCnn, (1, 49, 10), 22.6e3, 24.9e3, 2.66e6, True, 64,
             "mlcommons/tiny v0.1 keyword_spotting/keras_model.py (ds_cnn)"),
    Workload("resnet8", ResNet8, (3, 32, 32), 77.7e3, 78.7e3, 12.5e6, True, 32,
             "mlcommons/tiny image_classification resnet_v1_eembc (16/32/64 filters)"),
    Workload("fc_autoencoder", FcAutoencoder, (640,), 265.9e3, 270.0e3, 0.264e6, False, 256,
             "DCASE2020 task 2 baseline keras_model.py (MLPerf Tiny AD)"),
    Workload("mobilenet_v1_025_96", lambda: MobileNetV1(0.25, 2, nn.ReLU), (3, 96, 96),
             208e3, 219e3, 7.49e6, True, 16,
             "MLPerf Tiny VWW MobileNet-v1 0.25 (ReLU), convs without bias"),
    Workload("mobilenet_v1_224", lambda: MobileNetV1(1.0, 1000, nn.ReLU6), (3, 224, 224),
             4.21e6, 4.25e6, 568.7e6, True, 4,
             "TF-slim mobilenet_v1 1.0 224 (ReLU6)"),
    # No section-8 row: the counts are printed, not checked (the paper gives 3.4M parameters and
    # 300M multiply-adds; this layout counts 3.47M weights and biases, 3.54M with BN, 300.8M MACs).
    Workload("mobilenet_v2_224", lambda: MobileNetV2(1000), (3, 224, 224), None, None, None, True, 4,
             "MobileNetV2 1.0 224 (Sandler et al. 2018, torchvision layout)"),
    Workload("kws_conv1d", KwsConv1d, (40, 49), None, None, None, True, 64,
             "Conv1d keyword spotting on MFCC frames (TC-ResNet layout without residuals)"),
    Workload("autoencoder_sigmoid", SigmoidAutoencoder, (640,), None, None, None, False, 256,
             "640-128-8-128-640 autoencoder with a Sigmoid output"),
    Workload("mbconv_se", MbConvSe, (3, 32, 32), None, None, None, True, 32,
             "EfficientNet-B0 style MBConv block with squeeze-excitation and SiLU"),
]


# ---------------------------------------------------------------------------------------------
# Counting
# ---------------------------------------------------------------------------------------------

def torch_counts(model, input_shape):
    """(params, params + BN, MACs) of one inference, from the modules and a batch-1 forward."""
    weights = sum(p.numel() for m in model.modules() if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear))
                  for p in m.parameters())
    bn = sum(4 * m.num_features for m in model.modules()
             if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)))
    macs = []

    def hook(mod, _inp, out):
        # Each output element of a conv costs one MAC per weight of its filter.
        per_output = mod.weight[0].numel() if isinstance(mod, (nn.Conv1d, nn.Conv2d)) else mod.in_features
        macs.append(out[0].numel() * per_output)

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, *input_shape))
    for h in handles:
        h.remove()
    return weights, weights + bn, sum(macs)


def onnx_counts(model_proto):
    """The same counts read back from the ONNX graph (shape inference gives the conv outputs)."""
    inferred = onnx.shape_inference.infer_shapes(model_proto)
    g = inferred.graph
    init = {t.name: tuple(t.dims) for t in g.initializer}
    shapes = {}
    for vi in list(g.value_info) + list(g.output) + list(g.input):
        shapes[vi.name] = tuple(d.dim_value if d.HasField("dim_value") else None
                                for d in vi.type.tensor_type.shape.dim)
    params = bn = macs = 0
    for node in g.node:
        if node.op_type == "Conv":
            w = init[node.input[1]]
            params += int(np.prod(w)) + (w[0] if len(node.input) > 2 and node.input[2] else 0)
            out = shapes[node.output[0]]
            macs += int(np.prod(out[1:])) * int(np.prod(w[1:]))
        elif node.op_type == "Gemm":
            w = init[node.input[1]]
            params += int(np.prod(w)) + (int(np.prod(init[node.input[2]]))
                                         if len(node.input) > 2 and node.input[2] else 0)
            macs += int(np.prod(w))
        elif node.op_type == "MatMul" and node.input[1] in init:
            w = init[node.input[1]]
            params += int(np.prod(w))
            macs += int(np.prod(w))
        elif node.op_type == "BatchNormalization":
            bn += 4 * init[node.input[1]][0]
    return params, params + bn, macs


# ---------------------------------------------------------------------------------------------
# Weights, export and reference
# ---------------------------------------------------------------------------------------------

def init_model(wl, seed):
    """Seeded default init, then non-trivial BN: random gamma/beta, and running statistics
    measured on a seeded uniform [0, 1) calibration batch, so that BN folding changes numbers
    and activations stay O(1) through deep stacks."""
    torch.manual_seed(seed)
    model = wl.build()
    gen = torch.Generator().manual_seed(seed + 1000)
    bns = [m for m in model.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
    with torch.no_grad():
        for bn in bns:
            bn.weight.copy_(0.5 + torch.rand(bn.num_features, generator=gen))
            bn.bias.copy_(0.2 * torch.randn(bn.num_features, generator=gen))
            bn.reset_running_stats()
            bn.momentum = None            # cumulative average: the stats of this batch exactly
        model.train()
        model(torch.rand(wl.calib_batch, *wl.input_shape, generator=gen))
        for bn in bns:
            bn.momentum = 0.1
    return model.eval()


def constants_to_initializers(model_proto):
    """Turn Constant nodes (the exporter emits them for Clip's min/max) into initializers, so the
    graph holds only compute nodes."""
    g = model_proto.graph
    keep = []
    for node in g.node:
        if node.op_type == "Constant" and len(node.attribute) == 1 and node.attribute[0].name == "value":
            t = onnx.TensorProto()
            t.CopyFrom(node.attribute[0].t)
            t.name = node.output[0]
            g.initializer.append(t)
        else:
            keep.append(node)
    del g.node[:]
    g.node.extend(keep)


def export(model, wl, path, softmax):
    net = nn.Sequential(model, nn.Softmax(dim=1)) if softmax and wl.classifier else model
    net.eval()
    torch.onnx.export(
        net, torch.zeros(1, *wl.input_shape), path, opset_version=OPSET,
        input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
        training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    proto = onnx.load(path)
    constants_to_initializers(proto)
    onnx.checker.check_model(proto)
    onnx.save(proto, path)
    return net, proto


def check_graph(proto, model):
    """Ops within what the importer supports, and every BN of the torch model kept as a node."""
    ops = [n.op_type for n in proto.graph.node]
    bad = sorted(set(ops) - ALLOWED_OPS)
    n_bn = sum(isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) for m in model.modules())
    problems = []
    if bad:
        problems.append(f"ops outside the supported set: {', '.join(bad)}")
    if ops.count("BatchNormalization") != n_bn:
        problems.append(f"{ops.count('BatchNormalization')} BatchNormalization nodes, "
                        f"torch model has {n_bn}")
    return sorted(set(ops)), problems


# ---------------------------------------------------------------------------------------------
# A small numpy ONNX evaluator (--verify): the exported graph, run without torch
# ---------------------------------------------------------------------------------------------

def _pads(node, spatial):
    a = _attrs(node)
    pads = a.get("pads", [0] * (2 * spatial))
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise NotImplementedError(f"{node.name}: auto_pad")
    return pads[:spatial], pads[spatial:]


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _windows(x, kernel, strides, begin, end, fill):
    x = np.pad(x, [(0, 0), (0, 0)] + list(zip(begin, end)), constant_values=fill)
    w = np.lib.stride_tricks.sliding_window_view(x, kernel, axis=(2, 3))
    return w[:, :, ::strides[0], ::strides[1]]          # [N, C, OH, OW, kh, kw]


def _conv(node, x, w, b):
    a = _attrs(node)
    if any(d != 1 for d in a.get("dilations", [1, 1])):
        raise NotImplementedError("dilated Conv")
    begin, end = _pads(node, 2)
    win = _windows(x, w.shape[2:], a.get("strides", [1, 1]), begin, end, 0.0)
    groups = a.get("group", 1)
    cg, mg = w.shape[1], w.shape[0] // groups
    if cg == 1 and mg == 1:                              # depthwise
        y = np.einsum("nchwij,cij->nchw", win, w[:, 0])
    else:
        y = np.concatenate([
            np.einsum("nchwij,mcij->nmhw", win[:, g * cg:(g + 1) * cg], w[g * mg:(g + 1) * mg])
            for g in range(groups)], axis=1)
    return y + b[None, :, None, None] if b is not None else y


def run_onnx(proto, x):
    g = proto.graph
    env = {t.name: onnx.numpy_helper.to_array(t).astype(np.float64) for t in g.initializer}
    env[g.input[0].name] = x.astype(np.float64)
    for node in g.node:
        i = [env[n] if n else None for n in node.input]
        a = _attrs(node)
        op = node.op_type
        if op == "Conv" and i[0].ndim == 3:               # 1-D: a k x 1 kernel on [N, C, L, 1]
            node2 = onnx.helper.make_node("Conv", node.input, node.output, group=a.get("group", 1),
                                          pads=[a.get("pads", [0, 0])[0], 0, a.get("pads", [0, 0])[1], 0],
                                          strides=[a.get("strides", [1])[0], 1])
            y = _conv(node2, i[0][..., None], i[1][..., None], i[2] if len(i) > 2 else None)[..., 0]
        elif op == "Conv":
            y = _conv(node, i[0], i[1], i[2] if len(i) > 2 else None)
        elif op == "BatchNormalization":
            shape = (1, -1) + (1,) * (i[0].ndim - 2)
            scale = i[1] / np.sqrt(i[4] + a.get("epsilon", 1e-5))
            y = (i[0] - i[3].reshape(shape)) * scale.reshape(shape) + i[2].reshape(shape)
        elif op == "Relu":
            y = np.maximum(i[0], 0.0)
        elif op == "Clip":
            y = np.clip(i[0], i[1] if len(i) > 1 and i[1] is not None else -np.inf,
                        i[2] if len(i) > 2 and i[2] is not None else np.inf)
        elif op in ("MaxPool", "AveragePool"):
            begin, end = _pads(node, 2)
            k = a["kernel_shape"]
            win = _windows(i[0], k, a.get("strides", [1, 1]), begin, end,
                           -np.inf if op == "MaxPool" else 0.0)
            if op == "AveragePool" and any(begin + end) and not a.get("count_include_pad", 0):
                raise NotImplementedError("padded AveragePool without count_include_pad")
            y = win.max(axis=(4, 5)) if op == "MaxPool" else win.mean(axis=(4, 5))
        elif op == "GlobalAveragePool":
            y = i[0].mean(axis=(2, 3), keepdims=True)
        elif op == "ReduceMean":
            y = i[0].mean(axis=tuple(a["axes"]), keepdims=bool(a.get("keepdims", 1)))
        elif op == "Mul":
            y = i[0] * i[1]
        elif op == "Sigmoid":
            y = 1.0 / (1.0 + np.exp(-i[0]))
        elif op == "Add":
            y = i[0] + i[1]
        elif op == "Flatten":
            ax = a.get("axis", 1)
            y = i[0].reshape(int(np.prod(i[0].shape[:ax])), -1)
        elif op == "Gemm":
            m = i[0].T if a.get("transA", 0) else i[0]
            w = i[1].T if a.get("transB", 0) else i[1]
            y = a.get("alpha", 1.0) * (m @ w)
            if len(i) > 2 and i[2] is not None:
                y = y + a.get("beta", 1.0) * i[2]
        elif op == "MatMul":
            y = i[0] @ i[1]
        elif op == "Softmax":
            e = np.exp(i[0] - i[0].max(axis=a.get("axis", -1), keepdims=True))
            y = e / e.sum(axis=a.get("axis", -1), keepdims=True)
        else:
            raise NotImplementedError(op)
        env[node.output[0]] = y
    return env[g.output[0].name]


# ---------------------------------------------------------------------------------------------

def rel(measured, target):
    return (measured - target) / target


def fmt(n):
    return f"{n / 1e6:.3f}M" if n >= 1e6 else f"{n / 1e3:.1f}k"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "build", "workloads"),
                    help="output folder (default: build/workloads)")
    ap.add_argument("--only", help="comma-separated model names")
    ap.add_argument("--list", action="store_true", help="list the models and exit")
    ap.add_argument("--check", action="store_true", help="counts only, write nothing")
    ap.add_argument("--verify", action="store_true",
                    help="run each exported ONNX file with a numpy evaluator and compare to torch")
    ap.add_argument("--softmax", action="store_true",
                    help="end classifiers with Softmax (default: raw logits, a sharper comparison)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    if args.list:
        for wl in WORKLOADS:
            print(f"{wl.name:22s} input [N,{','.join(map(str, wl.input_shape))}]  {wl.source}")
        return 0
    selected = WORKLOADS
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        known = {wl.name for wl in WORKLOADS}
        unknown = [n for n in names if n not in known]
        if unknown:
            ap.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        selected = [wl for wl in WORKLOADS if wl.name in names]

    torch.set_num_threads(min(2, torch.get_num_threads()))
    t0 = time.time()
    if not args.check:
        os.makedirs(args.out, exist_ok=True)
    rows, failures, manifest = [], [], []
    for wl in selected:
        seed = args.seed * 100 + WORKLOADS.index(wl)
        model = init_model(wl, seed)
        counts = torch_counts(model, wl.input_shape)
        targets = (wl.target_params, wl.target_params_bn, wl.target_macs)
        diffs = [rel(c, t) if t else None for c, t in zip(counts, targets)]
        for what, c, t, d in zip(("params", "params+BN", "MACs"), counts, targets, diffs):
            if d is not None and abs(d) > TOLERANCE:
                failures.append(f"{wl.name}: {what} {c} vs section 8 {fmt(t)} ({d * 100:+.2f} %)")
        rows.append((wl.name, counts, targets, diffs))
        if args.check:
            continue

        path = os.path.join(args.out, wl.name + ".onnx")
        net, proto = export(model, wl, path, args.softmax)
        ops, problems = check_graph(proto, model)
        failures += [f"{wl.name}: {p}" for p in problems]
        if onnx_counts(proto) != counts:
            failures.append(f"{wl.name}: ONNX graph counts {onnx_counts(proto)} != torch {counts}")
        gen = torch.Generator().manual_seed(seed + 2000)
        x = torch.rand(2, *wl.input_shape, generator=gen)
        with torch.no_grad():
            y = net(x).numpy().astype(np.float32)
        np.save(os.path.join(args.out, wl.name + ".input.npy"), x.numpy().astype(np.float32))
        np.save(os.path.join(args.out, wl.name + ".output.npy"), y)
        if args.verify:
            y_np = run_onnx(proto, x.numpy())
            err = float(np.max(np.abs(y_np - y)) / max(1e-12, float(np.max(np.abs(y)))))
            print(f"verify {wl.name}: numpy ONNX vs torch, max |diff| / max |y| = {err:.2e}")
            if err > 1e-4:
                failures.append(f"{wl.name}: numpy evaluation of the ONNX file differs ({err:.2e})")
        manifest.append({
            "name": wl.name,
            "file": wl.name + ".onnx",
            "input": "input",
            "input_shape": ["N", *wl.input_shape],
            "output": "output",
            "output_shape": ["N", *y.shape[1:]],
            "softmax": bool(args.softmax and wl.classifier),
            "params": counts[0],
            "params_with_bn": counts[1],
            "macs": counts[2],
            "ops": ops,
            "reference_input": wl.name + ".input.npy",
            "reference_output": wl.name + ".output.npy",
            "seed": seed,
            "source": wl.source,
            "bytes": os.path.getsize(path),
        })

    print(f"{'model':22s} {'params':>10s} {'+BN':>10s} {'MACs':>12s}   "
          f"{'section 8 (params / +BN / MACs)':34s} {'rel. diff':>24s}")
    for name, counts, targets, diffs in rows:
        print(f"{name:22s} {counts[0]:10d} {counts[1]:10d} {counts[2]:12d}   "
              f"{' / '.join(fmt(t) if t else 'n/a' for t in targets):34s} "
              f"{' '.join(f'{d * 100:+.2f}%' if d is not None else 'n/a' for d in diffs):>24s}")

    if not args.check:
        with open(os.path.join(args.out, "manifest.json"), "w") as f:
            json.dump({"opset": OPSET, "models": manifest}, f, indent=1)
            f.write("\n")
        print(f"wrote {len(manifest)} models, references and manifest.json to {args.out}")
    print(f"({time.time() - t0:.1f} s)")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
