"""Hypothesis strategies for shapes and layers.

Two families:

* **valid cases**: a layer and an input shape it fits, small enough for a naive loop over
  output positions or a PyTorch run. Every hyper-parameter is drawn per axis and written
  as an int when the axes agree (half of the time), so both spellings get exercised.
* **loose arguments**: anything a caller could pass, nonsense included, for the fuzz that
  checks every failure is a `ConvCostError`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

from hypothesis import strategies as st

from convcost import (
    ACTIVATIONS,
    Activation,
    AdaptiveAvgPool,
    AdaptiveMaxPool,
    AvgPool,
    BatchNorm,
    Conv,
    ConvTranspose,
    DepthwiseSeparableConv,
    Dropout,
    Flatten,
    GlobalAvgPool,
    GlobalMaxPool,
    Linear,
    MaxPool,
    Shape,
    SpatiallySeparableConv,
    Upsample,
    ZeroPad,
)
from convcost.layers import BIAS_CONVENTIONS, MID_CHANNELS, Add, Concat, LayerBase
from convcost.shapes import IntOrTuple, Padding

# The largest spatial size drawn, per number of spatial axes: naive loops stay small.
MAX_SIZE: dict[int, int] = {1: 12, 2: 8, 3: 5}

Pairs = tuple[tuple[int, int], ...]


class Window(NamedTuple):
    """The per-axis geometry of a sliding window, and its padding as the layer is given it."""

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: Padding

    @property
    def ndim(self) -> int:
        return len(self.kernel)

    def spans(self) -> tuple[int, ...]:
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel, self.dilation))


def padding_pairs(padding: Padding, ndim: int) -> Pairs | None:
    """Explicit padding as (before, after) per axis; None for ``"same"``/``"same-pytorch"``."""
    if padding == "valid":
        return ((0, 0),) * ndim
    if isinstance(padding, str):
        return None
    if isinstance(padding, int):
        return ((padding, padding),) * ndim
    return tuple(item if isinstance(item, tuple) else (item, item) for item in padding)


def compact(draw: st.DrawFn, values: tuple[int, ...]) -> IntOrTuple:
    """`values` as one int when every axis agrees (half of the time), else the tuple."""
    if len(set(values)) == 1 and draw(st.booleans()):
        return values[0]
    return values


def per_axis(ndim: int, low: int, high: int) -> st.SearchStrategy[tuple[int, ...]]:
    return st.tuples(*[st.integers(low, high)] * ndim)


@st.composite
def paddings(
    draw: st.DrawFn,
    ndim: int,
    stride: tuple[int, ...],
    *,
    max_pad: int = 2,
    per_side: bool = True,
    modes: tuple[str, ...] = ("valid", "same", "same-pytorch"),
    same_stride_1: bool = False,
) -> Padding:
    """Any padding spelling: an int, per-axis ints, (before, after) pairs, or a mode name.

    ``"same-pytorch"`` is drawn only for stride 1, the one stride PyTorch accepts it with;
    with `same_stride_1`, so is ``"same"`` (for comparing with PyTorch).
    """
    unit_stride = set(stride) == {1}
    allowed = tuple(
        m for m in modes if unit_stride or m == "valid" or (m == "same" and not same_stride_1)
    )
    pad = st.integers(0, max_pad)
    item: st.SearchStrategy[int | tuple[int, int]] = pad | st.tuples(pad, pad) if per_side else pad
    options: list[st.SearchStrategy[Padding]] = [pad, st.tuples(*[item] * ndim)]
    if allowed:
        options.append(st.sampled_from(allowed))
    return draw(st.one_of(options))


@st.composite
def windows(
    draw: st.DrawFn,
    ndim: int,
    *,
    max_kernel: int = 4,
    max_stride: int = 3,
    max_dilation: int = 2,
    max_pad: int = 2,
    per_side: bool = True,
    modes: tuple[str, ...] = ("valid", "same", "same-pytorch"),
    same_stride_1: bool = False,
) -> Window:
    kernel = draw(per_axis(ndim, 1, max_kernel))
    stride = draw(per_axis(ndim, 1, max_stride))
    dilation = draw(per_axis(ndim, 1, max_dilation))
    padding = draw(
        paddings(
            ndim,
            stride,
            max_pad=max_pad,
            per_side=per_side,
            modes=modes,
            same_stride_1=same_stride_1,
        )
    )
    return Window(kernel, stride, dilation, padding)


@st.composite
def fitting_sizes(
    draw: st.DrawFn, window: Window, *, max_size: int | None = None
) -> tuple[int, ...]:
    """Spatial sizes that the window fits once padded (any size fits ``"same"``)."""
    top = MAX_SIZE[window.ndim] if max_size is None else max_size
    pairs = padding_pairs(window.padding, window.ndim)
    sizes = []
    for axis, span in enumerate(window.spans()):
        low = 1 if pairs is None else max(1, span - sum(pairs[axis]))
        sizes.append(draw(st.integers(low, max(low, top))))
    return tuple(sizes)


@st.composite
def shapes(
    draw: st.DrawFn,
    *,
    min_ndim: int = 0,
    max_ndim: int = 3,
    max_channels: int = 8,
    max_size: int | None = None,
) -> Shape:
    ndim = draw(st.integers(min_ndim, max_ndim))
    top = MAX_SIZE.get(ndim, 1) if max_size is None else max_size
    return Shape(draw(st.integers(1, max_channels)), draw(per_axis(ndim, 1, top)))


def window_kwargs(draw: st.DrawFn, window: Window) -> dict[str, Any]:
    return {
        "kernel_size": compact(draw, window.kernel),
        "stride": compact(draw, window.stride),
        "dilation": compact(draw, window.dilation),
        "padding": window.padding,
    }


class Case(NamedTuple):
    """A layer, an input shape it fits, and the per-axis geometry it was drawn from."""

    layer: Any
    shape: Shape
    window: Window


@st.composite
def conv_cases(
    draw: st.DrawFn,
    *,
    ndims: tuple[int, ...] = (1, 2, 3),
    max_groups: int = 3,
    max_pad: int = 2,
    per_side: bool = True,
    modes: tuple[str, ...] = ("valid", "same", "same-pytorch"),
    same_stride_1: bool = False,
) -> Case:
    """A `Conv` (any stride, padding, dilation, groups, bias) and an input it fits."""
    ndim = draw(st.sampled_from(ndims))
    window = draw(
        windows(
            ndim,
            max_kernel=4 if ndim < 3 else 3,
            max_pad=max_pad,
            per_side=per_side,
            modes=modes,
            same_stride_1=same_stride_1,
        )
    )
    groups = draw(st.integers(1, max_groups))
    in_channels = groups * draw(st.integers(1, 3))
    conv = Conv(
        out_channels=groups * draw(st.integers(1, 3)),
        groups=groups,
        bias=draw(st.booleans()),
        **window_kwargs(draw, window),
    )
    return Case(conv, Shape(in_channels, draw(fitting_sizes(window))), window)


def small_windows(
    ndims: tuple[int, ...],
    *,
    per_side: bool,
    modes: tuple[str, ...],
    same_stride_1: bool,
) -> st.SearchStrategy[Window]:
    """A window of 1 to 3 spatial axes, kernels up to 4 (3 in 3-D), for the separable layers."""
    return st.sampled_from(ndims).flatmap(
        lambda ndim: windows(
            ndim,
            max_kernel=4 if ndim < 3 else 3,
            per_side=per_side,
            modes=modes,
            same_stride_1=same_stride_1,
        )
    )


@st.composite
def depthwise_separable_cases(
    draw: st.DrawFn,
    *,
    ndims: tuple[int, ...] = (1, 2, 3),
    per_side: bool = True,
    modes: tuple[str, ...] = ("valid", "same", "same-pytorch"),
    same_stride_1: bool = False,
) -> Case:
    """A `DepthwiseSeparableConv` (any multiplier and bias convention) and an input it fits."""
    window = draw(small_windows(ndims, per_side=per_side, modes=modes, same_stride_1=same_stride_1))
    layer = DepthwiseSeparableConv(
        out_channels=draw(st.integers(1, 6)),
        depth_multiplier=draw(st.integers(1, 3)),
        bias=draw(st.sampled_from(BIAS_CONVENTIONS)),
        **window_kwargs(draw, window),
    )
    return Case(layer, Shape(draw(st.integers(1, 4)), draw(fitting_sizes(window))), window)


@st.composite
def spatially_separable_cases(
    draw: st.DrawFn,
    *,
    ndims: tuple[int, ...] = (2, 3),
    per_side: bool = True,
    modes: tuple[str, ...] = ("valid", "same", "same-pytorch"),
    same_stride_1: bool = False,
) -> Case:
    """A `SpatiallySeparableConv` (2-D or 3-D, optional mid channels) and an input it fits."""
    window = draw(small_windows(ndims, per_side=per_side, modes=modes, same_stride_1=same_stride_1))
    layer = SpatiallySeparableConv(
        out_channels=draw(st.integers(1, 5)),
        mid_channels=draw(st.sampled_from(MID_CHANNELS) | st.integers(1, 5)),
        bias=draw(st.sampled_from(BIAS_CONVENTIONS)),
        **window_kwargs(draw, window),
    )
    return Case(layer, Shape(draw(st.integers(1, 4)), draw(fitting_sizes(window))), window)


@st.composite
def conv_transpose_cases(
    draw: st.DrawFn,
    *,
    ndims: tuple[int, ...] = (1, 2, 3),
    modes: tuple[str, ...] = ("valid", "same"),
) -> Case:
    """A `ConvTranspose` with symmetric explicit padding or a Keras mode, and an input.

    Explicit padding is drawn no larger than half the uncropped output, so the output is
    never empty; output padding is smaller than the stride or the dilation, as PyTorch needs.
    """
    ndim = draw(st.sampled_from(ndims))
    kernel = draw(per_axis(ndim, 1, 4 if ndim < 3 else 3))
    stride = draw(per_axis(ndim, 1, 3))
    dilation = draw(per_axis(ndim, 1, 2))
    extra = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    sizes = draw(per_axis(ndim, 1, MAX_SIZE[ndim]))
    uncropped = tuple(
        (n - 1) * s + d * (k - 1) + e + 1
        for n, k, s, d, e in zip(sizes, kernel, stride, dilation, extra)
    )
    pads = tuple(draw(st.integers(0, (full - 1) // 2)) for full in uncropped)
    padding: Padding = draw(st.sampled_from([compact(draw, pads), *modes]))
    groups = draw(st.integers(1, 3))
    layer = ConvTranspose(
        out_channels=groups * draw(st.integers(1, 3)),
        groups=groups,
        bias=draw(st.booleans()),
        output_padding=compact(draw, extra),
        kernel_size=compact(draw, kernel),
        stride=compact(draw, stride),
        dilation=compact(draw, dilation),
        padding=padding,
    )
    shape = Shape(groups * draw(st.integers(1, 3)), sizes)
    return Case(layer, shape, Window(kernel, stride, dilation, padding))


@st.composite
def pool_cases(draw: st.DrawFn, *, ndims: tuple[int, ...] = (1, 2, 3)) -> Case:
    """Max or average pooling as PyTorch allows it: padding at most half the kernel.

    Stride defaults to the kernel (None) a third of the time; average pooling has no
    dilation in PyTorch, so it gets none here.
    """
    ndim = draw(st.sampled_from(ndims))
    kind = draw(st.sampled_from([MaxPool, AvgPool]))
    kernel = draw(per_axis(ndim, 1, 4 if ndim < 3 else 3))
    stride = draw(st.none() | per_axis(ndim, 1, 3))
    dilation = draw(per_axis(ndim, 1, 2)) if kind is MaxPool else (1,) * ndim
    pads = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    window = Window(kernel, kernel if stride is None else stride, dilation, compact(draw, pads))
    layer = kind(
        kernel_size=compact(draw, kernel),
        stride=None if stride is None else compact(draw, stride),
        dilation=compact(draw, dilation),
        padding=window.padding,
        ceil_mode=draw(st.booleans()),
    )
    # PyTorch's 3-D pools check the input against the kernel before padding it.
    fit = window if ndim < 3 else window._replace(padding=0)
    return Case(layer, Shape(draw(st.integers(1, 3)), draw(fitting_sizes(fit))), window)


# --- loose arguments, for the fuzz -------------------------------------------------------

# Anything at all: mostly values no field accepts, now and then one that happens to fit.
JUNK: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.binary(max_size=3),
    st.integers(-(2**70), 2**70),
    st.complex_numbers(max_magnitude=10),
    st.lists(st.integers(-3, 5), max_size=4),
    st.dictionaries(st.text(max_size=2), st.integers(0, 3), max_size=2),
    st.sets(st.integers(0, 3), max_size=2),
)

_LOOSE_INT: st.SearchStrategy[Any] = st.one_of(
    st.integers(-2, 6), st.sampled_from([0, 10**6, 2**63, -(2**63)]), st.booleans()
)
_LOOSE_INT_OR_TUPLE: st.SearchStrategy[Any] = st.one_of(
    _LOOSE_INT,
    st.lists(_LOOSE_INT, max_size=4).map(tuple),
    st.lists(_LOOSE_INT, max_size=4),
)
_LOOSE_PAD_ITEM: st.SearchStrategy[Any] = st.one_of(
    _LOOSE_INT, st.lists(_LOOSE_INT, min_size=1, max_size=3).map(tuple), st.text(max_size=2)
)
_LOOSE_PADDING: st.SearchStrategy[Any] = st.one_of(
    _LOOSE_INT_OR_TUPLE,
    st.sampled_from(["valid", "same", "same-pytorch", "full", "", "SAME"]),
    st.lists(_LOOSE_PAD_ITEM, max_size=4).map(tuple),
    st.lists(st.lists(_LOOSE_INT, max_size=3), max_size=3),
)
_LOOSE_BIAS: st.SearchStrategy[Any] = st.one_of(
    st.booleans(), st.sampled_from(["none", "pointwise", "both", "depthwise", "yes", ""])
)

_LOOSE: dict[str, st.SearchStrategy[Any]] = {
    "name": st.none() | st.text(max_size=4),
    "kernel_size": _LOOSE_INT_OR_TUPLE,
    "stride": st.none() | _LOOSE_INT_OR_TUPLE,
    "dilation": _LOOSE_INT_OR_TUPLE,
    "padding": _LOOSE_PADDING,
    "output_padding": _LOOSE_INT_OR_TUPLE,
    "output_size": _LOOSE_INT_OR_TUPLE,
    "scale_factor": _LOOSE_INT_OR_TUPLE,
    "out_channels": _LOOSE_INT,
    "out_features": _LOOSE_INT,
    "groups": _LOOSE_INT,
    "depth_multiplier": _LOOSE_INT,
    "mid_channels": st.sampled_from(["min", "out", "in", "max", None]) | _LOOSE_INT,
    "inputs": st.lists(st.text(max_size=3), max_size=2).map(tuple) | _LOOSE_INT,
    "bias": _LOOSE_BIAS,
    "function": st.sampled_from(sorted(ACTIVATIONS)) | st.sampled_from(["Relu", "mish", ""]),
    "p": st.floats(-0.5, 1.5) | st.sampled_from([0, 1, 0.5]),
}

# Values each field usually accepts, so that most drawn layers get as far as being costed.
_SMALL_INT = st.integers(1, 4)
# mostly ints: a tuple fixes the rank, and most drawn shapes would not match it
_SMALL_INT_OR_TUPLE = st.one_of(
    _SMALL_INT, _SMALL_INT, _SMALL_INT, st.lists(_SMALL_INT, min_size=1, max_size=3).map(tuple)
)
_PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "name": st.none() | st.sampled_from(["conv1", "block.2"]),
    "kernel_size": _SMALL_INT_OR_TUPLE,
    "stride": _SMALL_INT_OR_TUPLE,
    "dilation": st.integers(1, 2) | st.lists(st.integers(1, 2), min_size=1, max_size=3).map(tuple),
    "padding": st.one_of(
        st.integers(0, 2),
        st.integers(0, 2),
        st.sampled_from(["valid", "same", "same-pytorch"]),
        st.lists(
            st.integers(0, 2) | st.tuples(st.integers(0, 2), st.integers(0, 2)),
            min_size=1,
            max_size=3,
        ).map(tuple),
    ),
    "output_padding": st.integers(0, 1),
    "output_size": _SMALL_INT_OR_TUPLE,
    "scale_factor": _SMALL_INT_OR_TUPLE,
    "out_channels": st.integers(1, 8),
    "out_features": st.integers(1, 8),
    "groups": st.integers(1, 2),
    "depth_multiplier": st.integers(1, 3),
    "mid_channels": st.sampled_from(["min", "out", "in"]) | st.integers(1, 8),
    "inputs": st.just(()),
    "bias": st.booleans(),
    "function": st.sampled_from(sorted(ACTIVATIONS)),
    "p": st.floats(0, 0.9),
}
_SEPARABLE_BIAS = st.sampled_from(["none", "pointwise", "both"])

LAYER_TYPES: tuple[type[LayerBase], ...] = (
    Conv,
    ConvTranspose,
    DepthwiseSeparableConv,
    SpatiallySeparableConv,
    MaxPool,
    AvgPool,
    AdaptiveAvgPool,
    AdaptiveMaxPool,
    GlobalAvgPool,
    GlobalMaxPool,
    Linear,
    BatchNorm,
    Activation,
    Flatten,
    Dropout,
    ZeroPad,
    Upsample,
    Add,
    Concat,
)


@st.composite
def loose_layer_arguments(draw: st.DrawFn) -> tuple[type[LayerBase], dict[str, Any]]:
    """A layer type and keyword arguments for it: plausible, wrong or nonsensical.

    Up to three fields are spoilt (given a wrong value or junk), none a third of the time;
    the others get a value their field usually accepts, or their default, so that many
    layers get as far as being costed.
    Required fields are always given: leaving one out is a `TypeError` in the caller's
    code, not bad input.
    """
    layer_type = draw(st.sampled_from(LAYER_TYPES))
    fields = dataclasses.fields(layer_type)
    names = [field.name for field in fields]
    count = min(len(names), draw(st.sampled_from([0, 1, 0, 1, 2, 3])))
    spoilt = draw(st.sets(st.sampled_from(names), min_size=count, max_size=count))
    kwargs: dict[str, Any] = {}
    for field in fields:
        required = field.default is dataclasses.MISSING
        if field.name in spoilt:
            kwargs[field.name] = draw(st.one_of(_LOOSE.get(field.name, JUNK), JUNK))
        elif required or draw(st.booleans()):
            plausible = _PLAUSIBLE.get(field.name, st.booleans())
            if field.name == "bias" and layer_type in (
                DepthwiseSeparableConv,
                SpatiallySeparableConv,
            ):
                plausible = _SEPARABLE_BIAS
            kwargs[field.name] = draw(plausible)
    return layer_type, kwargs
