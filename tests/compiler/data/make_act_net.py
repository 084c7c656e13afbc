"""Writes act_net_o11.onnx, act_net_o13.onnx, act_net_o17.onnx (dynamic batch), act_net_o13_b2.onnx
(fixed batch 2) and act_net.ref.json: a small CNN with every activation the importer knows, as
torch 1.13 exports it at each opset, and its outputs.

The fixture of test_graph.cpp's activation test (issue 20). What torch writes differs by opset:
SiLU is Sigmoid + Mul; HardSwish is HardSigmoid + Mul before opset 14 and HardSwish from 14 on;
GELU is the chain Div, Erf, Add, Mul, Mul; a squeeze-excitation gate multiplies a map by one value
per channel, and another branch adds one; PReLU's slope is [C, 1, 1]; F.pad is ConstantOfShape,
Concat, Reshape, Slice (step -1), Transpose, Reshape, Cast feeding Pad. The input is normalised in
the graph ((x - 0.5) / 0.25: Sub and Div by constants). Run with /usr/bin/python3 (torch 1.13):

    /usr/bin/python3 tests/compiler/data/make_act_net.py
"""
import os

import torch
from torch import nn
import torch.nn.functional as F

from torch_ref import write_ref

torch.manual_seed(11)


class ActNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False)
        self.bn_dw = nn.BatchNorm2d(8)
        self.pw = nn.Conv2d(8, 8, 1)
        self.prelu = nn.PReLU(8)
        self.conv2 = nn.Conv2d(8, 8, 3)
        self.conv3 = nn.Conv2d(8, 12, 1)
        self.se = nn.Conv2d(12, 12, 1)
        self.shift = nn.Conv2d(12, 12, 1)
        self.conv4 = nn.Conv2d(12, 12, 1)
        self.fc = nn.Linear(12, 6)

    def forward(self, x):
        x = (x - 0.5) / 0.25
        x = F.silu(self.bn1(self.conv1(x)))              # SiLU folded into conv1
        x = F.max_pool2d(x, 2)                            # 8 x 8
        y = F.hardswish(self.bn_dw(self.dw(x)))           # HardSwish folded into the depthwise conv
        y = self.prelu(self.pw(y))                        # per-channel PReLU folded into pw
        z = F.gelu(y + x)                                 # GELU folded into the Add
        z = torch.tanh(self.conv2(F.pad(z, (1, 1, 2, 0))))  # F.pad's export chain; Tanh
        z = F.leaky_relu(F.max_pool2d(z, 2), 0.1)         # after a MaxPool: an Activation op
        z = F.elu(self.conv3(z), alpha=0.7)               # Elu
        z = z * torch.sigmoid(self.se(F.adaptive_avg_pool2d(z, 1)))  # squeeze-excitation: Mul by a gate
        z = z + self.shift(F.adaptive_avg_pool2d(z, 1))  # Add of one value per channel
        z = torch.sigmoid(torch.relu(self.conv4(z)))      # Relu, then Sigmoid: clamp moved after f
        z = F.hardsigmoid(z * 3.0 - 1.0)                  # Mul, Sub by constants; HardSigmoid
        z = F.adaptive_avg_pool2d(z, 1).flatten(1)
        return self.fc(z)


def main():
    model = ActNet()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
        model.prelu.weight.uniform_(-0.3, 0.5)  # negative slopes too: PReLU is not monotone then
    model.eval()
    here = os.path.dirname(os.path.abspath(__file__))
    x = torch.rand(2, 3, 16, 16)
    for opset in (11, 13, 17):
        torch.onnx.export(model, x, os.path.join(here, f"act_net_o{opset}.onnx"), opset_version=opset,
                          input_names=["image"], output_names=["logits"],
                          dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}})
    torch.onnx.export(model, x, os.path.join(here, "act_net_o13_b2.onnx"), opset_version=13,
                      input_names=["image"], output_names=["logits"])
    write_ref(os.path.join(here, "act_net.ref.json"), model, x)


if __name__ == "__main__":
    main()
