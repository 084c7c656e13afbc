"""Writes small_cnn.onnx and small_cnn.ref.json: a tiny CNN exported by torch, and its outputs.

The fixture of test_graph.cpp's torch test. It covers what torch actually exports: Conv + BN +
ReLU, MaxPool, a depthwise conv with ReLU6 (Clip), a residual Add + ReLU, Concat, AveragePool
with padding (count_include_pad=False), GlobalAveragePool, x.view(x.size(0), -1) (Shape, Gather,
Unsqueeze, Concat, Reshape), Linear + BatchNorm1d + ReLU, Dropout. Run with /usr/bin/python3
(torch 1.13); the batch-norm statistics are random so that folding them is actually tested.
"""
import os

import torch
from torch import nn

from torch_ref import write_ref

torch.manual_seed(7)


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.pool1 = nn.MaxPool2d(2)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False)
        self.bn_dw = nn.BatchNorm2d(8)
        self.pw = nn.Conv2d(8, 8, 1, bias=False)
        self.bn_pw = nn.BatchNorm2d(8)
        self.side = nn.Conv2d(8, 4, 1)
        self.pool2 = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.fc1 = nn.Linear(12, 16)
        self.bn_fc = nn.BatchNorm1d(16)
        self.drop = nn.Dropout(0.5)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = self.pool1(torch.relu(self.bn1(self.conv1(x))))
        y = nn.functional.relu6(self.bn_dw(self.dw(x)))
        y = torch.relu(self.bn_pw(self.pw(y)) + x)
        z = torch.cat([y, self.side(y)], 1)
        z = nn.functional.adaptive_avg_pool2d(self.pool2(z), 1)
        z = z.view(z.size(0), -1)
        z = self.drop(torch.relu(self.bn_fc(self.fc1(z))))
        return self.fc2(z)


def main():
    model = SmallCNN()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    model.eval()
    here = os.path.dirname(os.path.abspath(__file__))
    x = torch.randn(2, 3, 12, 12)
    torch.onnx.export(model, x, os.path.join(here, "small_cnn.onnx"), opset_version=13,
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False,
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}})
    write_ref(os.path.join(here, "small_cnn.ref.json"), model, x)


if __name__ == "__main__":
    main()
