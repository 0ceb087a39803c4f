"""convcost: exact parameter and multiply-add counts for convolutional networks.

Shapes in, exact integers out; no deep-learning framework needed.

>>> from convcost import Conv, Shape, layer_cost
>>> conv = Conv(out_channels=32, kernel_size=3, padding=1, bias=False)
>>> cost = layer_cost(conv, Shape(16, (128, 128)))
>>> cost.params, cost.macs
(4608, 75497472)
"""

from convcost.costs import KINDS, Kind, LayerCost, Term, flops, layer_cost
from convcost.errors import ConvCostError, FieldError, LayerError, ShapeError, ShapeMismatchError
from convcost.layers import (
    ACTIVATIONS,
    BIAS_CONVENTIONS,
    Activation,
    AdaptiveAvgPool,
    AdaptiveMaxPool,
    AvgPool,
    BatchNorm,
    BiasConvention,
    Conv,
    ConvTranspose,
    DepthwiseSeparableConv,
    Dropout,
    Flatten,
    GlobalAvgPool,
    GlobalMaxPool,
    Layer,
    Linear,
    MaxPool,
    SpatiallySeparableConv,
    Upsample,
    ZeroPad,
)
from convcost.shapes import Shape, parse_shape

__version__ = "0.1.0"  # the one version source (pyproject.toml reads it)

__all__ = [
    "ACTIVATIONS",
    "BIAS_CONVENTIONS",
    "KINDS",
    "Activation",
    "AdaptiveAvgPool",
    "AdaptiveMaxPool",
    "AvgPool",
    "BatchNorm",
    "BiasConvention",
    "Conv",
    "ConvCostError",
    "ConvTranspose",
    "DepthwiseSeparableConv",
    "Dropout",
    "FieldError",
    "Flatten",
    "GlobalAvgPool",
    "GlobalMaxPool",
    "Kind",
    "Layer",
    "LayerCost",
    "LayerError",
    "Linear",
    "MaxPool",
    "Shape",
    "ShapeError",
    "ShapeMismatchError",
    "SpatiallySeparableConv",
    "Term",
    "Upsample",
    "ZeroPad",
    "__version__",
    "flops",
    "layer_cost",
    "parse_shape",
]
