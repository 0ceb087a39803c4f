"""The cost of one layer: output shape, parameters and multiply-accumulates.

The counting convention, stated once (the README's "Conventions" section has worked
examples):

* A **MAC** is one multiply-accumulate, ``y += w * x`` ("mult-adds" in the MobileNet paper
  and torchinfo). FLOPs are ``2 × MACs`` (optionally plus one per bias addition).
* Counts are **per sample** (batch 1) and exact Python ints.
* A convolution costs ``output positions × out_channels × (in_channels / groups) ×
  kernel taps`` MACs, every tap counted, padded ones included (as PyTorch's
  `FlopCounterMode` counts). A transposed convolution costs ``input positions ×
  in_channels × (out_channels / groups) × kernel taps``. A dense layer costs
  ``in_features × out_features``.
* **Bias additions are not MACs**: they are counted apart, in `bias_adds` (one per output
  element of a biased layer).
* Batch norm, pooling, activations, reshapes and additions cost **0 MACs** here, as in
  papers and as torchinfo counts pooling and activations. Tools that count them differently
  are reproduced by the counting profiles of `convcost.conventions`.
* An `Operator` read from a model file costs ``output elements × contraction`` MACs: a
  matrix product sums over an axis of that length (as a dense layer does), any other
  operator has a contraction of 0. A `NotCounted` operator's MACs are unknown: its row
  is flagged, never taken for a layer that costs nothing.
* **Parameters** are trainable weights and biases; batch norm's running mean and variance
  are **non-trainable** parameters (Keras reports them so; PyTorch keeps them as buffers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from math import prod
from typing import Any, Final, Literal, TypeAlias, TypeVar, get_args

from convcost.checks import check_bool, is_int
from convcost.errors import FieldError, ShapeMismatchError
from convcost.layers import (
    Activation,
    AdaptiveAvgPool,
    AdaptiveMaxPool,
    Add,
    AvgPool,
    BatchNorm,
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
    Multiply,
    NotCounted,
    Operator,
    Reshape,
    Select,
    SpatiallySeparableConv,
    Upsample,
    ZeroPad,
)
from convcost.limits import MAX_SIZE
from convcost.shapes import Shape, expand, resolve_padding, unchecked_shape, window_output_size

__all__ = [
    "KINDS",
    "Kind",
    "LayerCost",
    "Term",
    "conv_kind",
    "flops",
    "join_cost",
    "layer_cost",
    "mid_channels",
]

Kind: TypeAlias = Literal[
    "regular",  # a k×k convolution with groups = 1: what the family rewrites replace
    "asymmetric",  # a convolution whose kernel is 1 on every axis but one (k×1, 1×k)
    "pointwise",  # a 1×1 convolution, groups = 1
    "depthwise",  # groups = in_channels
    "grouped",  # any other grouping
    "transposed",
    "depthwise_separable",  # depthwise then pointwise: a family
    "spatially_separable",  # k×1 then 1×k: a family
    "dense",
    "norm",
    "pool",
    "activation",
    "reshape",  # flatten, dropout, padding, upsampling, reshapes, selections: no weights, no MACs
    "add",  # element-wise sum of inputs (residual connections)
    "multiply",  # element-wise product of inputs (gates)
    "concat",
    "operator",  # a model file's operator with no family and no contraction (LayerNorm, Div)
    "not_counted",  # an operator convcost does not know: its MACs are not counted
]
"""What a layer is, for tables and breakdowns. The three convolution families are kinds
too: ``regular`` is what `convcost.network.rewrite` replaces by the other two."""
KINDS: Final[tuple[str, ...]] = get_args(Kind)

Term: TypeAlias = tuple[str, int]
"""A named factor of a product, e.g. ``("k_h", 3)``: what `--explain` prints."""


@dataclass(frozen=True, kw_only=True, slots=True)
class LayerCost:
    """What one layer costs on one input shape.

    `params` are trainable parameters, `bias` the part of them that is biases (so the
    weight tensor holds ``params - bias``), `non_trainable_params` running statistics.
    `macs` is the product of `macs_terms` when they are given; the weight tensor holds the
    product of `weight_terms`. `parts` are the sub-layers of a composite layer (the
    depthwise and pointwise convolutions of a separable one), whose costs add up to this.
    `inputs` is the number of input tensors (several for a join); a join records all
    their shapes in `input_shapes` (the first is `input_shape`).
    """

    layer: Layer
    kind: Kind
    input_shape: Shape
    output_shape: Shape
    params: int = 0
    bias: int = 0
    non_trainable_params: int = 0
    macs: int = 0
    bias_adds: int = 0
    macs_terms: tuple[Term, ...] = ()
    weight_terms: tuple[Term, ...] = ()
    parts: tuple[LayerCost, ...] = ()
    inputs: int = 1
    input_shapes: tuple[Shape, ...] = ()

    @property
    def total_params(self) -> int:
        """Trainable plus non-trainable parameters (Keras's "Total params")."""
        return self.params + self.non_trainable_params

    @property
    def weights(self) -> int:
        """Elements of the weight tensor (trainable parameters that are not biases)."""
        return self.params - self.bias


def flops(macs: int, bias_adds: int = 0, *, count_bias: bool = False) -> int:
    """FLOPs: two per MAC, plus one per bias addition when `count_bias`.

    >>> flops(45_630), flops(45_630, 1_690, count_bias=True)
    (91260, 92950)
    """
    for field, value in (("macs", macs), ("bias_adds", bias_adds)):
        if not is_int(value) or value < 0:
            raise FieldError(field, value, "a non-negative integer")
    check_bool("count_bias", count_bias)
    return 2 * macs + (bias_adds if count_bias else 0)


_L = TypeVar("_L")
_CostFunction: TypeAlias = Callable[[Any, Shape], LayerCost]
_REGISTRY: dict[type, _CostFunction] = {}


def _costs(*layer_types: type) -> Callable[[Callable[[_L, Shape], LayerCost]], Any]:
    def register(function: Callable[[_L, Shape], LayerCost]) -> Callable[[_L, Shape], LayerCost]:
        for layer_type in layer_types:
            _REGISTRY[layer_type] = function
        return function

    return register


def layer_cost(layer: Layer, input_shape: Shape) -> LayerCost:
    """The cost of `layer` applied to one sample of `input_shape`.

    A join (`Add`, `Multiply`, `Concat`) reads several inputs: see `join_cost`.
    """
    try:
        cost_of = _REGISTRY[type(layer)]
    except (KeyError, TypeError):
        if isinstance(layer, (Add, Multiply, Concat)):
            raise FieldError("layer", layer, "a layer of one input (use join_cost)") from None
        raise FieldError("layer", layer, "a convcost layer") from None
    if not isinstance(input_shape, Shape):
        raise FieldError("input_shape", input_shape, "a Shape (see parse_shape)")
    return cost_of(layer, input_shape)


def join_cost(layer: Add | Multiply | Concat, input_shapes: tuple[Shape, ...]) -> LayerCost:
    """The cost of joining `input_shapes` (two or more) with `layer`.

    `Add` needs equal shapes; `Multiply` equal shapes, or a gate of C×1×1 (or a flat C) on
    a C×H×W input; `Concat` equal spatial sizes, and sums the channels.
    """
    if not isinstance(layer, (Add, Multiply, Concat)):
        raise FieldError("layer", layer, "Add, Multiply or Concat")
    if not isinstance(input_shapes, tuple) or not all(
        isinstance(shape, Shape) for shape in input_shapes
    ):
        raise FieldError("input_shapes", input_shapes, "a tuple of Shapes")
    if len(input_shapes) < 2:
        raise ShapeMismatchError(f"{type(layer).__name__} joins two or more inputs, "
                                 f"got {len(input_shapes)}")  # fmt: skip
    shown = ", ".join(map(str, input_shapes))
    if isinstance(layer, Concat):
        first = input_shapes[0]
        if any(shape.spatial != first.spatial for shape in input_shapes):
            raise ShapeMismatchError(f"cannot concatenate inputs of different sizes: {shown}")
        output = Shape(sum(shape.channels for shape in input_shapes), first.spatial)
        kind: Kind = "concat"
    elif isinstance(layer, Add):
        output = input_shapes[0]
        if any(shape != output for shape in input_shapes):
            raise ShapeMismatchError(f"cannot add inputs of different shapes: {shown}")
        kind = "add"
    else:
        output = max(input_shapes, key=lambda shape: shape.numel)
        for shape in input_shapes:
            gate = shape.channels == output.channels and all(size == 1 for size in shape.spatial)
            if shape != output and not gate:
                raise ShapeMismatchError(
                    f"cannot multiply inputs of shapes {shown}: each must equal the largest "
                    "or be one value per channel"
                )
        kind = "multiply"
    return LayerCost(
        layer=layer, kind=kind, input_shape=input_shapes[0], output_shape=output,
        inputs=len(input_shapes), input_shapes=input_shapes,
    )  # fmt: skip


def _product(terms: tuple[Term, ...]) -> int:
    return prod(value for _, value in terms)


def _axis_names(ndim: int) -> tuple[str, ...]:
    return ("D", "H", "W")[-ndim:] if ndim else ()


# Names of the factors `--explain` prints, per number of spatial axes.
_KERNEL_NAMES: Final = {n: tuple(f"k_{a.lower()}" for a in _axis_names(n)) for n in (1, 2, 3)}
_OUT_NAMES: Final = {n: tuple(f"{a}_out" for a in _axis_names(n)) for n in (1, 2, 3)}
_IN_NAMES: Final = {n: tuple(f"{a}_in" for a in _axis_names(n)) for n in (1, 2, 3)}


def _spatial_input(layer: Layer, shape: Shape) -> None:
    if shape.ndim == 0:
        raise ShapeMismatchError(
            f"{type(layer).__name__} needs an input with spatial sizes, got a flat vector "
            f"of {shape.channels} features"
        )


def _window_output(
    layer: Conv | MaxPool | AvgPool, shape: Shape, *, ceil_mode: bool = False
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The kernel and the output spatial sizes of a sliding-window layer."""
    sizes = shape.spatial
    ndim = len(sizes)
    if not ndim:
        _spatial_input(layer, shape)
    kernel = expand("kernel_size", layer.kernel_size, ndim)
    stride = expand("stride", layer.stride, ndim)  # type: ignore[arg-type]
    dilation = expand("dilation", layer.dilation, ndim)
    pads = resolve_padding(layer.padding, sizes, kernel, stride, dilation)
    ceil = (ceil_mode,) * ndim
    return kernel, tuple(map(window_output_size, sizes, kernel, stride, dilation, pads, ceil))


def conv_kind(kernel: tuple[int, ...], groups: int, in_channels: int) -> Kind:
    """Classify a convolution by its kernel and grouping.

    >>> conv_kind((3, 3), 1, 16), conv_kind((3, 1), 1, 16), conv_kind((3, 3), 16, 16)
    ('regular', 'asymmetric', 'depthwise')
    """
    if groups > 1:
        return "depthwise" if groups == in_channels else "grouped"
    wide_axes = len(kernel) - kernel.count(1)
    if wide_axes == 0:
        return "pointwise"
    if wide_axes == 1 and len(kernel) > 1:
        return "asymmetric"
    return "regular"


def _check_groups(groups: int, in_channels: int) -> None:
    if in_channels % groups:
        raise ShapeMismatchError(f"groups={groups} does not divide in_channels={in_channels}")


@_costs(Conv)
def _conv(layer: Conv, x: Shape, kind: Kind | None = None) -> LayerCost:
    kernel, out_sizes = _window_output(layer, x)
    groups = layer.groups
    in_channels = x.channels
    _check_groups(groups, in_channels)
    out_channels = layer.out_channels
    ndim = len(out_sizes)
    in_per_group = in_channels // groups
    weight_terms = (
        *zip(_KERNEL_NAMES[ndim], kernel),
        ("C_in/groups" if groups > 1 else "C_in", in_per_group),
        ("C_out", out_channels),
    )
    weights = prod(kernel) * in_per_group * out_channels
    positions = prod(out_sizes)
    bias = out_channels if layer.bias else 0
    return LayerCost(
        layer=layer,
        kind=kind or conv_kind(kernel, groups, in_channels),
        input_shape=x,
        output_shape=unchecked_shape(out_channels, out_sizes),
        params=weights + bias,
        bias=bias,
        macs=weights * positions,
        bias_adds=out_channels * positions if layer.bias else 0,
        macs_terms=(*weight_terms, *zip(_OUT_NAMES[ndim], out_sizes)),
        weight_terms=weight_terms,
    )


def _keras_transposed_size(
    size: int, kernel: int, stride: int, dilation: int, output_padding: int, padding: str
) -> int:
    """Keras's ``deconv_output_length``: without output padding, ``"valid"`` gives
    ``in·stride + max(span − stride, 0)`` and ``"same"`` gives ``in·stride``; with it,
    ``(in − 1)·stride + span − 2·pad + output_padding``, pad = 0 or ``span // 2``."""
    span = dilation * (kernel - 1) + 1
    if not output_padding:
        return size * stride + (max(span - stride, 0) if padding == "valid" else 0)
    pad = 0 if padding == "valid" else span // 2
    return (size - 1) * stride + span - 2 * pad + output_padding


@_costs(ConvTranspose)
def _conv_transpose(layer: ConvTranspose, x: Shape) -> LayerCost:
    _spatial_input(layer, x)
    _check_groups(layer.groups, x.channels)
    ndim = x.ndim
    kernel = expand("kernel_size", layer.kernel_size, ndim)
    stride = expand("stride", layer.stride, ndim)
    dilation = expand("dilation", layer.dilation, ndim)
    extra = expand("output_padding", layer.output_padding, ndim)
    for e, s, d in zip(extra, stride, dilation):
        if e >= max(s, d):
            raise ShapeMismatchError(
                f"output_padding={layer.output_padding!r} must be smaller than stride or dilation"
            )
    if isinstance(layer.padding, str):
        out_sizes = tuple(map(_keras_transposed_size, x.spatial, kernel, stride, dilation, extra,
                              (layer.padding,) * ndim))  # fmt: skip
    else:
        zero = (0,) * ndim
        pads = resolve_padding(layer.padding, x.spatial, zero, zero, zero)
        out_sizes = tuple(
            (size - 1) * s - lo - hi + d * (k - 1) + e + 1
            for size, k, s, d, e, (lo, hi) in zip(x.spatial, kernel, stride, dilation, extra, pads)
        )
    if min(out_sizes) < 1:
        raise ShapeMismatchError(
            f"padding={layer.padding!r} crops input {x} to an empty output {out_sizes!r}"
        )
    y = Shape(layer.out_channels, out_sizes)
    weight_terms = (
        *zip(_KERNEL_NAMES[ndim], kernel),
        ("C_in", x.channels),
        ("C_out/groups" if layer.groups > 1 else "C_out", layer.out_channels // layer.groups),
    )
    macs_terms = (*weight_terms, *zip(_IN_NAMES[ndim], x.spatial))
    bias = layer.out_channels if layer.bias else 0
    return LayerCost(
        layer=layer,
        kind="transposed",
        input_shape=x,
        output_shape=y,
        params=_product(weight_terms) + bias,
        bias=bias,
        macs=_product(macs_terms),
        bias_adds=y.numel if layer.bias else 0,
        macs_terms=macs_terms,
        weight_terms=weight_terms,
    )


def _composite(
    layer: DepthwiseSeparableConv | SpatiallySeparableConv,
    x: Shape,
    kind: Kind,
    parts: tuple[tuple[Conv, Kind | None], ...],
) -> LayerCost:
    """A layer made of convolutions in a row, each costed as the kind of its role (or as
    its kernel and grouping say, when the role is None)."""
    costs = []
    shape = x
    for part, part_kind in parts:
        cost = _conv(part, shape, part_kind)  # on 1 channel a depthwise part is still one
        costs.append(cost)
        shape = cost.output_shape
    return LayerCost(
        layer=layer,
        kind=kind,
        input_shape=x,
        output_shape=shape,
        params=sum(cost.params for cost in costs),
        bias=sum(cost.bias for cost in costs),
        macs=sum(cost.macs for cost in costs),
        bias_adds=sum(cost.bias_adds for cost in costs),
        parts=tuple(costs),
    )


_CONV_FIELDS: Final = tuple((item.name, item.default) for item in fields(Conv))


def _part(**values: Any) -> Conv:
    """``Conv(**values)`` without `__post_init__`'s checks, for a part of a separable
    layer: every value is the checked layer's own, or a kernel of 1, or a count no larger
    than a checked one. Building the parts took a third of the cost of these layers."""
    part: Conv = object.__new__(Conv)
    for name, default in _CONV_FIELDS:
        object.__setattr__(part, name, values.get(name, default))
    return part


@_costs(DepthwiseSeparableConv)
def _depthwise_separable(layer: DepthwiseSeparableConv, x: Shape) -> LayerCost:
    _spatial_input(layer, x)
    too_wide = x.channels * layer.depth_multiplier > MAX_SIZE  # for the checks to refuse
    depthwise = (Conv if too_wide else _part)(
        name="depthwise",
        out_channels=x.channels * layer.depth_multiplier,
        kernel_size=layer.kernel_size,
        stride=layer.stride,
        padding=layer.padding,
        dilation=layer.dilation,
        groups=x.channels,
        bias=layer.bias == "both",
    )
    pointwise = _part(
        name="pointwise",
        out_channels=layer.out_channels,
        kernel_size=1,
        bias=layer.bias != "none",
    )
    return _composite(
        layer, x, "depthwise_separable", ((depthwise, "depthwise"), (pointwise, "pointwise"))
    )


@_costs(SpatiallySeparableConv)
def _spatially_separable(layer: SpatiallySeparableConv, x: Shape) -> LayerCost:
    _spatial_input(layer, x)
    ndim = x.ndim
    if ndim < 2:
        raise ShapeMismatchError(
            "a spatially separable convolution needs 2 or 3 spatial dimensions, "
            f"got input {x} with {ndim}"
        )
    kernel = expand("kernel_size", layer.kernel_size, ndim)
    stride = expand("stride", layer.stride, ndim)
    dilation = expand("dilation", layer.dilation, ndim)
    padding = layer.padding
    per_axis_padding = (
        expand("padding", padding, ndim) if not isinstance(padding, str) else None  # type: ignore[arg-type]
    )
    mid = mid_channels(layer, x.channels)
    parts: list[tuple[Conv, Kind | None]] = []
    for axis in range(ndim):
        last = axis == ndim - 1

        def on_axis(values: tuple[Any, ...], rest: Any, axis: int = axis) -> tuple[Any, ...]:
            return tuple(value if i == axis else rest for i, value in enumerate(values))

        part_kernel = on_axis(kernel, 1)
        parts.append((
            _part(
                name="x".join(map(str, part_kernel)),
                out_channels=layer.out_channels if last else mid,
                kernel_size=part_kernel,
                stride=on_axis(stride, 1),
                dilation=on_axis(dilation, 1),
                padding=padding if per_axis_padding is None else on_axis(per_axis_padding, 0),
                bias=layer.bias == "both" or (last and layer.bias == "pointwise"),
            ),
            None,
        ))  # fmt: skip
    return _composite(layer, x, "spatially_separable", tuple(parts))


def mid_channels(layer: SpatiallySeparableConv, in_channels: int) -> int:
    """The channels between the parts of `layer` on an input of `in_channels`.

    >>> mid_channels(SpatiallySeparableConv(out_channels=128, kernel_size=3), 64)
    64
    """
    rule = layer.mid_channels
    if rule == "min":
        return min(in_channels, layer.out_channels)
    if rule == "in":
        return in_channels
    if rule == "out":
        return layer.out_channels
    return rule


def _no_weights(layer: Layer, x: Shape, y: Shape, kind: Kind) -> LayerCost:
    return LayerCost(layer=layer, kind=kind, input_shape=x, output_shape=y)


@_costs(MaxPool, AvgPool)
def _pool(layer: MaxPool | AvgPool, x: Shape) -> LayerCost:
    kernel, out_sizes = _window_output(layer, x, ceil_mode=layer.ceil_mode)
    if not isinstance(layer.padding, str):
        dilation = expand("dilation", layer.dilation, x.ndim)
        stride = expand("stride", layer.stride, x.ndim)  # type: ignore[arg-type]
        pads = resolve_padding(layer.padding, x.spatial, kernel, stride, dilation)
        for k, d, (before, after) in zip(kernel, dilation, pads):
            half = (d * (k - 1) + 1) // 2
            if max(before, after) > half:
                raise ShapeMismatchError(
                    f"padding={layer.padding!r} is more than half the pooling window "
                    f"({half} for kernel {k}, dilation {d}), which PyTorch forbids"
                )
    return _no_weights(layer, x, unchecked_shape(x.channels, out_sizes), "pool")


@_costs(AdaptiveAvgPool, AdaptiveMaxPool)
def _adaptive_pool(layer: AdaptiveAvgPool | AdaptiveMaxPool, x: Shape) -> LayerCost:
    _spatial_input(layer, x)
    out_sizes = expand("output_size", layer.output_size, x.ndim)
    return _no_weights(layer, x, Shape(x.channels, out_sizes), "pool")


@_costs(GlobalAvgPool, GlobalMaxPool)
def _global_pool(layer: GlobalAvgPool | GlobalMaxPool, x: Shape) -> LayerCost:
    _spatial_input(layer, x)
    y = Shape(x.channels, (1,) * x.ndim if layer.keepdims else ())
    return _no_weights(layer, x, y, "pool")


@_costs(Linear)
def _linear(layer: Linear, x: Shape) -> LayerCost:
    if x.ndim:
        raise ShapeMismatchError(
            f"Linear needs a flat input (add a Flatten or global pooling first), got {x}"
        )
    weight_terms = (("in_features", x.channels), ("out_features", layer.out_features))
    return LayerCost(
        layer=layer,
        kind="dense",
        input_shape=x,
        output_shape=Shape(layer.out_features),
        params=_product(weight_terms) + (layer.out_features if layer.bias else 0),
        bias=layer.out_features if layer.bias else 0,
        macs=_product(weight_terms),
        bias_adds=layer.out_features if layer.bias else 0,
        macs_terms=weight_terms,
        weight_terms=weight_terms,
    )


@_costs(BatchNorm)
def _batch_norm(layer: BatchNorm, x: Shape) -> LayerCost:
    per_channel = 2 * x.channels  # (γ, β) trainable; (mean, variance) running statistics
    return LayerCost(
        layer=layer,
        kind="norm",
        input_shape=x,
        output_shape=x,
        params=per_channel if layer.affine else 0,
        non_trainable_params=per_channel if layer.track_running_stats else 0,
    )


@_costs(Activation)
def _activation(layer: Activation, x: Shape) -> LayerCost:
    return _no_weights(layer, x, x, "activation")


@_costs(Dropout)
def _dropout(layer: Dropout, x: Shape) -> LayerCost:
    return _no_weights(layer, x, x, "reshape")


@_costs(Flatten)
def _flatten(layer: Flatten, x: Shape) -> LayerCost:
    return _no_weights(layer, x, Shape(x.numel), "reshape")


@_costs(ZeroPad)
def _zero_pad(layer: ZeroPad, x: Shape) -> LayerCost:
    _spatial_input(layer, x)
    ones = (1,) * x.ndim
    pads = resolve_padding(layer.padding, x.spatial, ones, ones, ones)
    sizes = tuple(size + lo + hi for size, (lo, hi) in zip(x.spatial, pads))
    return _no_weights(layer, x, Shape(x.channels, sizes), "reshape")


@_costs(Upsample)
def _upsample(layer: Upsample, x: Shape) -> LayerCost:
    _spatial_input(layer, x)
    factors = expand("scale_factor", layer.scale_factor, x.ndim)
    sizes = tuple(size * factor for size, factor in zip(x.spatial, factors))
    return _no_weights(layer, x, Shape(x.channels, sizes), "reshape")


@_costs(Reshape)
def _reshape(layer: Reshape, x: Shape) -> LayerCost:
    y = layer.output_shape
    if y.numel != x.numel:
        raise ShapeMismatchError(
            f"cannot reshape {x} ({x.numel:,} elements) to {y} ({y.numel:,} elements)"
        )
    return _no_weights(layer, x, y, "reshape")


@_costs(Select)
def _select(layer: Select, x: Shape) -> LayerCost:
    y = layer.output_shape
    if y.numel > x.numel:
        raise ShapeMismatchError(
            f"cannot select {y} ({y.numel:,} elements) from {x} ({x.numel:,} elements)"
        )
    return _no_weights(layer, x, y, "reshape")


@_costs(Operator)
def _operator(layer: Operator, x: Shape) -> LayerCost:
    y = layer.output_shape
    macs_terms: tuple[Term, ...] = (
        (("output elements", y.numel), ("contraction", layer.contraction))
        if layer.contraction
        else ()
    )
    return LayerCost(
        layer=layer,
        kind="dense" if layer.contraction else "operator",
        input_shape=x,
        output_shape=y,
        params=layer.weights + layer.bias,
        bias=layer.bias,
        non_trainable_params=layer.non_trainable_params,
        macs=y.numel * layer.contraction,
        bias_adds=y.numel if layer.bias else 0,
        macs_terms=macs_terms,
        inputs=layer.operands,
    )


@_costs(NotCounted)
def _not_counted(layer: NotCounted, x: Shape) -> LayerCost:
    return LayerCost(
        layer=layer,
        kind="not_counted",
        input_shape=x,
        output_shape=layer.output_shape,
        params=layer.params,
    )
