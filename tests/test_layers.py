"""Layer specs: valid from birth, frozen, keyword-only; bad arguments raise ConvCostError."""

from __future__ import annotations

import dataclasses
from math import prod
from typing import Any

import pytest
from hypothesis import example, given, settings
from strategies import loose_layer_arguments, shapes

from convcost import (
    KINDS,
    Activation,
    AdaptiveAvgPool,
    AvgPool,
    BatchNorm,
    Conv,
    ConvCostError,
    ConvTranspose,
    DepthwiseSeparableConv,
    Dropout,
    FieldError,
    Linear,
    MaxPool,
    Shape,
    SpatiallySeparableConv,
    Upsample,
    ZeroPad,
    layer_cost,
)
from convcost.layers import Add, LayerBase

# What each layer type needs besides the field under test.
REQUIRED: dict[type[LayerBase], dict[str, Any]] = {
    Conv: {"out_channels": 8, "kernel_size": 3},
    ConvTranspose: {"out_channels": 8, "kernel_size": 3},
    DepthwiseSeparableConv: {"out_channels": 8, "kernel_size": 3},
    SpatiallySeparableConv: {"out_channels": 8, "kernel_size": 3},
    MaxPool: {"kernel_size": 2},
    AvgPool: {"kernel_size": 2},
    Linear: {"out_features": 10},
}

FIELD_ERRORS = [
    pytest.param(Conv, {"kernel_size": 0}, "kernel_size", id="kernel-zero"),
    pytest.param(Conv, {"kernel_size": -3}, "kernel_size", id="kernel-negative"),
    pytest.param(Conv, {"kernel_size": (3, 0)}, "kernel_size", id="kernel-tuple-zero"),
    pytest.param(Conv, {"kernel_size": 3.0}, "kernel_size", id="kernel-float"),
    pytest.param(Conv, {"kernel_size": True}, "kernel_size", id="kernel-bool"),
    pytest.param(Conv, {"kernel_size": "3"}, "kernel_size", id="kernel-text"),
    pytest.param(Conv, {"kernel_size": ()}, "kernel_size", id="kernel-empty"),
    pytest.param(Conv, {"kernel_size": (3, 3, 3, 3)}, "kernel_size", id="kernel-4d"),
    pytest.param(Conv, {"stride": 0}, "stride", id="stride-zero"),
    pytest.param(Conv, {"stride": (1, -2)}, "stride", id="stride-negative"),
    pytest.param(Conv, {"dilation": 0}, "dilation", id="dilation-zero"),
    pytest.param(Conv, {"padding": -1}, "padding", id="padding-negative"),
    pytest.param(Conv, {"padding": (1, -1)}, "padding", id="padding-axis-negative"),
    pytest.param(Conv, {"padding": ((1, -1),)}, "padding", id="padding-side-negative"),
    pytest.param(Conv, {"padding": ((1, 2, 3),)}, "padding", id="padding-triple"),
    pytest.param(Conv, {"padding": "full"}, "padding", id="padding-full"),
    pytest.param(Conv, {"padding": "SAME"}, "padding", id="padding-upper-case"),
    pytest.param(Conv, {"out_channels": 0}, "out_channels", id="out-channels-zero"),
    pytest.param(Conv, {"groups": 0}, "groups", id="groups-zero"),
    pytest.param(Conv, {"out_channels": 9, "groups": 2}, "groups", id="groups-not-dividing-out"),
    pytest.param(Conv, {"bias": "yes"}, "bias", id="conv-bias-text"),
    pytest.param(Conv, {"name": ""}, "name", id="name-empty"),
    pytest.param(ConvTranspose, {"out_channels": 9, "groups": 2}, "groups", id="transpose-groups"),
    pytest.param(
        ConvTranspose, {"padding": "same-pytorch"}, "padding", id="transpose-same-pytorch"
    ),
    pytest.param(
        Conv, {"padding": "same-pytorch", "stride": (1, 2)}, "padding", id="same-pytorch-stride"
    ),
    pytest.param(MaxPool, {"padding": "same-pytorch"}, "padding", id="pool-same-pytorch"),
    pytest.param(ConvTranspose, {"output_padding": -1}, "output_padding", id="output-padding"),
    pytest.param(DepthwiseSeparableConv, {"depth_multiplier": 0}, "depth_multiplier", id="dm-zero"),
    pytest.param(DepthwiseSeparableConv, {"depth_multiplier": -2}, "depth_multiplier", id="dm-neg"),
    pytest.param(DepthwiseSeparableConv, {"bias": "depthwise"}, "bias", id="bias-unknown"),
    pytest.param(DepthwiseSeparableConv, {"bias": True}, "bias", id="bias-bool-not-convention"),
    pytest.param(SpatiallySeparableConv, {"mid_channels": 0}, "mid_channels", id="mid-zero"),
    pytest.param(SpatiallySeparableConv, {"mid_channels": -4}, "mid_channels", id="mid-negative"),
    pytest.param(SpatiallySeparableConv, {"bias": "all"}, "bias", id="spatial-bias-unknown"),
    pytest.param(MaxPool, {"kernel_size": 0}, "kernel_size", id="pool-kernel-zero"),
    pytest.param(AvgPool, {"ceil_mode": 1}, "ceil_mode", id="pool-ceil-mode-int"),
    pytest.param(AdaptiveAvgPool, {"output_size": 0}, "output_size", id="adaptive-zero"),
    pytest.param(Linear, {"out_features": 0}, "out_features", id="linear-zero"),
    pytest.param(BatchNorm, {"affine": "yes"}, "affine", id="batchnorm-flag"),
    pytest.param(Activation, {"function": "mish"}, "function", id="activation-unknown"),
    pytest.param(Dropout, {"p": 1.0}, "p", id="dropout-one"),
    pytest.param(ZeroPad, {"padding": "same"}, "padding", id="zeropad-mode"),
    pytest.param(Upsample, {"scale_factor": 0}, "scale_factor", id="upsample-zero"),
    pytest.param(Add, {"inputs": 1}, "inputs", id="add-one-input"),
]


@pytest.mark.parametrize(("layer_type", "kwargs", "field"), FIELD_ERRORS)
def test_field_errors(layer_type: type[LayerBase], kwargs: dict[str, Any], field: str) -> None:
    """A value outside its field's domain raises FieldError naming the field and the value."""
    value = kwargs[field]
    with pytest.raises(FieldError) as info:
        layer_type(**{**REQUIRED.get(layer_type, {}), **kwargs})
    assert (info.value.field, info.value.value) == (field, value)
    assert field in str(info.value)
    assert repr(value) in str(info.value)


def test_activation_unhashable_function_is_a_field_error() -> None:
    """Regression: `function` was checked by membership in a frozenset, which hashes the
    value first, so an unhashable value escaped as a TypeError."""
    with pytest.raises(FieldError):
        Activation(function={"name": "relu"})  # type: ignore[arg-type]


def test_lists_become_tuples() -> None:
    """Specs read from JSON/TOML/YAML carry lists; they are stored as tuples (hashable)."""
    conv = Conv(out_channels=8, kernel_size=[3, 1], padding=[[1, 1], 0])  # type: ignore[arg-type]
    assert conv.kernel_size == (3, 1)
    assert conv.padding == ((1, 1), 0)
    assert hash(conv) == hash(Conv(out_channels=8, kernel_size=(3, 1), padding=((1, 1), 0)))


def test_layers_are_frozen_and_keyword_only() -> None:
    conv = Conv(out_channels=8, kernel_size=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        conv.out_channels = 16  # type: ignore[misc]
    positional: Any = Conv
    with pytest.raises(TypeError):
        positional(8, 3)


def test_pool_stride_defaults_to_kernel() -> None:
    """As in PyTorch, a pool without a stride steps by its kernel size."""
    assert MaxPool(kernel_size=(2, 3)).stride == (2, 3)
    assert layer_cost(AvgPool(kernel_size=2), Shape(4, (8, 8))).output_shape == Shape(4, (4, 4))


def check_valid_cost(layer: LayerBase, shape: Shape) -> None:
    """Cost `layer` on `shape`: a coherent LayerCost, or a ConvCostError."""
    try:
        cost = layer_cost(layer, shape)  # type: ignore[arg-type]
    except ConvCostError:
        return
    assert cost.layer is layer
    assert cost.input_shape == shape
    assert isinstance(cost.output_shape, Shape)
    assert cost.kind in KINDS
    for count in (cost.params, cost.non_trainable_params, cost.macs, cost.bias_adds):
        assert type(count) is int
        assert count >= 0
    if cost.macs_terms:
        assert cost.macs == prod(value for _, value in cost.macs_terms)
    if cost.parts:
        assert cost.macs == sum(part.macs for part in cost.parts)
        assert cost.params == sum(part.params for part in cost.parts)


@settings(max_examples=max(200, settings.default.max_examples if settings.default else 0))
@given(loose_layer_arguments(), shapes(max_size=10))
@example((Conv, {"out_channels": 4, "kernel_size": 10**6}), Shape(3, (8, 8)))
@example((Conv, {"out_channels": 4, "kernel_size": 3, "padding": 2**63}), Shape(3, (8, 8, 8)))
@example((ConvTranspose, {"out_channels": 4, "kernel_size": 3, "padding": 10**6}), Shape(3, (8,)))
@example((SpatiallySeparableConv, {"out_channels": 4, "kernel_size": (3, 3)}), Shape(3, (8,)))
@example(
    (
        DepthwiseSeparableConv,
        {"out_channels": 4, "kernel_size": 3, "padding": "same-pytorch", "stride": 2},
    ),
    Shape(3, (8, 8)),
)
@example((ZeroPad, {"padding": ((1, 2), 3)}), Shape(3, (8, 8)))
@example((Add, {}), Shape(3, (8, 8)))
def test_any_arguments_give_a_cost_or_a_convcost_error(
    arguments: tuple[type[LayerBase], dict[str, Any]], shape: Shape
) -> None:
    """Construction and costing never raise anything but ConvCostError.

    Domain: every layer type, with each field plausible, wrong (zero, negative, huge,
    bool, wrong tuple length, groups not dividing, unknown names) or junk (None, floats,
    text, bytes, lists, dicts, sets), on any valid input shape (flat to 3-D).
    """
    layer_type, kwargs = arguments
    try:
        layer = layer_type(**kwargs)
    except ConvCostError:
        return
    check_valid_cost(layer, shape)
