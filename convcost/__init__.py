"""convcost: exact parameter and multiply-add counts for convolutional networks.

Shapes in, exact integers out; no deep-learning framework needed.

>>> from convcost import Conv, Shape, layer_cost
>>> conv = Conv(out_channels=32, kernel_size=3, padding=1, bias=False)
>>> cost = layer_cost(conv, Shape(16, (128, 128)))
>>> cost.params, cost.macs
(4608, 75497472)

The names below are loaded when first used, so that ``import convcost`` (and the
command line's start-up) costs almost nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"  # the one version source (pyproject.toml reads it)

__all__ = [
    "ACTIVATIONS",
    "BIAS_CONVENTIONS",
    "FAMILIES",
    "KINDS",
    "Activation",
    "AdaptiveAvgPool",
    "AdaptiveMaxPool",
    "Add",
    "AvgPool",
    "BatchNorm",
    "BiasConvention",
    "Comparison",
    "ComparisonReport",
    "Concat",
    "Conv",
    "ConvCostError",
    "ConvTranspose",
    "ConventionError",
    "Counting",
    "DType",
    "DepthwiseSeparableConv",
    "Device",
    "DeviceError",
    "DeviceFileError",
    "Dropout",
    "Family",
    "FieldError",
    "FileError",
    "Flatten",
    "GlobalAvgPool",
    "GlobalMaxPool",
    "Kind",
    "Layer",
    "LayerCost",
    "LayerError",
    "LayerReport",
    "Linear",
    "MaxPool",
    "MemoryEstimate",
    "MidChannels",
    "ModelFileError",
    "Multiply",
    "Network",
    "NetworkCost",
    "NotCounted",
    "Operator",
    "Parallel",
    "PresetError",
    "ProfileFileError",
    "Report",
    "Reshape",
    "Residual",
    "RewriteStats",
    "Rewriting",
    "Row",
    "Select",
    "Sequential",
    "Shape",
    "ShapeError",
    "ShapeMismatchError",
    "SpatiallySeparableConv",
    "SpecError",
    "Summary",
    "Term",
    "Totals",
    "Upsample",
    "ZeroPad",
    "__version__",
    "build_preset",
    "compare",
    "compare_families",
    "compare_layer",
    "count",
    "dump_spec",
    "flops",
    "from_keras",
    "from_onnx",
    "from_torch",
    "get_device",
    "join_cost",
    "layer_cost",
    "load_device",
    "load_network",
    "load_profile",
    "load_spec",
    "memory_estimate",
    "network_cost",
    "parse_shape",
    "pyramid",
    "rewrite",
    "summary",
]

# The modules the public names come from, searched in this order when a name is first used.
_MODULES: tuple[str, ...] = (
    "convcost.costs",
    "convcost.errors",
    "convcost.layers",
    "convcost.memory",
    "convcost.network",
    "convcost.report",
    "convcost.shapes",
    "convcost.presets",
    "convcost.sources",
    "convcost.specs",
    "convcost.conventions",
    "convcost.devices",
    "convcost.onnx",
    "convcost.keras",
    "convcost.pytorch",
)


def __getattr__(name: str) -> Any:
    """Import a public name's module when the name is first used (PEP 562)."""
    if name in __all__:
        for module in _MODULES:
            value = getattr(importlib.import_module(module), name, _MISSING)
            if value is not _MISSING:
                globals()[name] = value
                return value
    raise AttributeError(f"module 'convcost' has no attribute {name!r}")


_MISSING = object()


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:  # what type checkers and editors see
    from convcost.conventions import count, load_profile
    from convcost.costs import KINDS, Kind, LayerCost, Term, flops, join_cost, layer_cost
    from convcost.devices import Device, get_device, load_device
    from convcost.errors import (
        ConvCostError,
        ConventionError,
        DeviceError,
        DeviceFileError,
        FieldError,
        FileError,
        LayerError,
        ModelFileError,
        PresetError,
        ProfileFileError,
        ShapeError,
        ShapeMismatchError,
        SpecError,
    )
    from convcost.keras import from_keras
    from convcost.layers import (
        ACTIVATIONS,
        BIAS_CONVENTIONS,
        Activation,
        AdaptiveAvgPool,
        AdaptiveMaxPool,
        Add,
        AvgPool,
        BatchNorm,
        BiasConvention,
        Concat,
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
        MidChannels,
        Multiply,
        NotCounted,
        Operator,
        Reshape,
        Select,
        SpatiallySeparableConv,
        Upsample,
        ZeroPad,
    )
    from convcost.memory import DType, MemoryEstimate, memory_estimate
    from convcost.network import (
        FAMILIES,
        Comparison,
        Family,
        Network,
        NetworkCost,
        Parallel,
        Residual,
        RewriteStats,
        Row,
        Sequential,
        Totals,
        compare,
        network_cost,
        rewrite,
    )
    from convcost.onnx import from_onnx
    from convcost.presets import build_preset, pyramid
    from convcost.pytorch import from_torch
    from convcost.report import (
        ComparisonReport,
        Counting,
        LayerReport,
        Report,
        Rewriting,
        Summary,
        compare_families,
        compare_layer,
        summary,
    )
    from convcost.shapes import Shape, parse_shape
    from convcost.sources import load_network
    from convcost.specs import dump_spec, load_spec
