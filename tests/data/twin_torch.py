"""The PyTorch twin of the Keras model ``twin`` in ``tests/data/keras/twin.keras``.

A fixture, not a test: ``scripts/fixtures/make_onnx.py`` measures this module and exports it
as ``tests/data/onnx/twin.onnx``; ``scripts/fixtures/make_keras.py`` builds the Keras twin,
copies its weights here and checks that both give the same output.

Input 3×30×30 (``INPUT_SHAPE``). The one strided convolution sees a 15×15 map (30 after a
2×2 max pool), an odd size: there Keras' ``padding="same"`` with kernel 3 and stride 2 pads
(1, 1) on each axis, exactly PyTorch's symmetric ``padding=1`` (on an even size Keras would
pad (0, 1) instead: the same shapes and counts, but other numbers). Both give 8×8.

Convolutions carry no bias (each is followed by BatchNorm), as in the Keras twin
(``use_bias=False``); the Keras BatchNormalization layers use PyTorch's epsilon, 1e-5.
Module names match the Keras layer names, so rows can be paired by name.
"""

from __future__ import annotations

import torch
from torch import nn

INPUT_SHAPE = (3, 30, 30)
NUM_CLASSES = 10


class Twin(nn.Module):
    """conv 3→16 + BN + ReLU, a residual block (two 3×3 convs 16→16 with BN, identity
    shortcut, Add, ReLU), max pool 2, conv 16→32 stride 2 + BN + ReLU, global average
    pool, dense 10."""

    def __init__(self, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(16)
        self.stem_relu = nn.ReLU()
        self.block_conv1 = nn.Conv2d(16, 16, 3, padding=1, bias=False)
        self.block_bn1 = nn.BatchNorm2d(16)
        self.block_relu1 = nn.ReLU()
        self.block_conv2 = nn.Conv2d(16, 16, 3, padding=1, bias=False)
        self.block_bn2 = nn.BatchNorm2d(16)
        self.block_relu2 = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.down = nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False)
        self.down_bn = nn.BatchNorm2d(32)
        self.down_relu = nn.ReLU()
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(32, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem_relu(self.stem_bn(self.stem(x)))
        y = self.block_relu1(self.block_bn1(self.block_conv1(x)))
        y = self.block_bn2(self.block_conv2(y))
        x = self.block_relu2(x + y)  # Keras: Add (block_add), then block_relu2
        x = self.pool(x)
        x = self.down_relu(self.down_bn(self.down(x)))
        out: torch.Tensor = self.fc(self.flatten(self.gap(x)))
        return out


def build() -> Twin:
    """A fresh twin in eval mode (BatchNorm uses its running statistics)."""
    return Twin().eval()
