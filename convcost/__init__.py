"""convcost: exact parameter and multiply-add counts for convolutional networks.

Shapes in, exact integers out; no deep-learning framework needed. Presets, spec files and
counting profiles live in `convcost.presets`, `convcost.specs` and `convcost.conventions`.

>>> from convcost import Conv, Shape, layer_cost
>>> conv = Conv(out_channels=32, kernel_size=3, padding=1, bias=False)
>>> cost = layer_cost(conv, Shape(16, (128, 128)))
>>> cost.params, cost.macs
(4608, 75497472)
"""

from convcost.builders import pyramid
from convcost.costs import KINDS, Kind, LayerCost, Term, flops, layer_cost
from convcost.errors import (
    ConvCostError,
    ConventionError,
    FieldError,
    LayerError,
    PresetError,
    ShapeError,
    ShapeMismatchError,
    SpecError,
)
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
from convcost.memory import MemoryEstimate, memory_estimate
from convcost.network import (
    FAMILIES,
    Comparison,
    Family,
    Network,
    NetworkCost,
    Parallel,
    Residual,
    Row,
    Sequential,
    Totals,
    compare,
    network_cost,
    rewrite,
)
from convcost.shapes import Shape, parse_shape

__version__ = "0.1.0"  # the one version source (pyproject.toml reads it)

__all__ = [
    "ACTIVATIONS",
    "BIAS_CONVENTIONS",
    "FAMILIES",
    "KINDS",
    "Activation",
    "AdaptiveAvgPool",
    "AdaptiveMaxPool",
    "AvgPool",
    "BatchNorm",
    "BiasConvention",
    "Comparison",
    "Conv",
    "ConvCostError",
    "ConvTranspose",
    "ConventionError",
    "DepthwiseSeparableConv",
    "Dropout",
    "Family",
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
    "MemoryEstimate",
    "Network",
    "NetworkCost",
    "Parallel",
    "PresetError",
    "Residual",
    "Row",
    "Sequential",
    "Shape",
    "ShapeError",
    "ShapeMismatchError",
    "SpatiallySeparableConv",
    "SpecError",
    "Term",
    "Totals",
    "Upsample",
    "ZeroPad",
    "__version__",
    "compare",
    "flops",
    "layer_cost",
    "memory_estimate",
    "network_cost",
    "parse_shape",
    "pyramid",
    "rewrite",
]
