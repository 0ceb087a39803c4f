"""Per-layer costs: closed forms against naive loops, and the laws the families obey."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction
from math import prod
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from strategies import (
    Case,
    Window,
    conv_cases,
    conv_transpose_cases,
    depthwise_separable_cases,
    padding_pairs,
    per_axis,
    spatially_separable_cases,
)

from convcost import (
    AdaptiveAvgPool,
    BatchNorm,
    Conv,
    ConvTranspose,
    DepthwiseSeparableConv,
    Layer,
    LayerCost,
    Linear,
    MaxPool,
    Shape,
    ShapeMismatchError,
    SpatiallySeparableConv,
    layer_cost,
)

# --- oracles ------------------------------------------------------------------------------


def naive_conv(
    in_channels: int, sizes: tuple[int, ...], out_channels: int, groups: int, window: Window
) -> tuple[tuple[int, ...], int]:
    """Output sizes and MACs of a convolution, by enumeration.

    Along each padded axis, window starts are 0, stride, 2·stride, ... while the last tap
    (start + dilation·(kernel - 1)) stays inside; "same" has ceil(size / stride) outputs.
    Each output position, for each kernel tap, does (in_channels / groups) × out_channels
    multiply-accumulates.
    """
    pairs = padding_pairs(window.padding, len(sizes))
    starts: list[list[int]] = []
    for axis, size in enumerate(sizes):
        k, s, d = window.kernel[axis], window.stride[axis], window.dilation[axis]
        if pairs is None:
            starts.append(list(range(0, s * -(-size // s), s)))
            continue
        padded = size + sum(pairs[axis])
        axis_starts = []
        start = 0
        while start + d * (k - 1) < padded:
            axis_starts.append(start)
            start += s
        starts.append(axis_starts)
    macs = 0
    for _position in itertools.product(*starts):
        for _tap in itertools.product(*(range(k) for k in window.kernel)):
            macs += (in_channels // groups) * out_channels
    return tuple(map(len, starts)), macs


def naive_conv_transpose(
    in_channels: int, sizes: tuple[int, ...], layer: ConvTranspose, window: Window
) -> tuple[tuple[int, ...], int]:
    """Output sizes and MACs of a transposed convolution, by scattering.

    Every input position sends each kernel tap to output index i·stride + j·dilation, each
    write costing in_channels × (out_channels / groups) MACs. With explicit padding the
    output spans the writes plus `output_padding`, less the padding cropped from both ends
    (PyTorch). The Keras modes, from Keras's `deconv_output_length`: without output padding
    "valid" spans the writes but at least size × stride, and "same" is size × stride; with
    it, both span the writes plus the output padding, "same" less span // 2 at each end.
    """
    ndim = len(sizes)
    extra = layer.output_padding
    extra_axes = (extra,) * ndim if isinstance(extra, int) else extra
    reach = [0] * ndim
    macs = 0
    for position in itertools.product(*(range(n) for n in sizes)):
        for tap in itertools.product(*(range(k) for k in window.kernel)):
            for axis in range(ndim):
                index = position[axis] * window.stride[axis] + tap[axis] * window.dilation[axis]
                reach[axis] = max(reach[axis], index + 1)
            macs += in_channels * (layer.out_channels // layer.groups)
    if isinstance(window.padding, str):
        out = []
        for n, s, k, d, r, e in zip(
            sizes, window.stride, window.kernel, window.dilation, reach, extra_axes
        ):
            crop = (d * (k - 1) + 1) // 2 if window.padding == "same" else 0
            if e:
                out.append(r + e - 2 * crop)
            else:
                out.append(n * s if window.padding == "same" else max(r, n * s))
        return tuple(out), macs
    pairs = padding_pairs(window.padding, ndim)
    assert pairs is not None
    return tuple(r + e - lo - hi for r, e, (lo, hi) in zip(reach, extra_axes, pairs)), macs


def costs_agree(actual: LayerCost, expected: LayerCost) -> None:
    """The numbers of two costs agree (their layers may differ, e.g. by name)."""
    assert actual.output_shape == expected.output_shape
    assert actual.params == expected.params
    assert actual.macs == expected.macs
    assert actual.bias_adds == expected.bias_adds
    assert actual.macs_terms == expected.macs_terms
    assert actual.weight_terms == expected.weight_terms
    assert actual.kind == expected.kind


# The biases each part has, per convention: (first parts, last part).
BIASES: dict[str, tuple[bool, bool]] = {
    "none": (False, False),
    "pointwise": (False, True),
    "both": (True, True),
}


def depthwise_then_pointwise(layer: DepthwiseSeparableConv, channels: int) -> tuple[Conv, Conv]:
    """A depthwise separable layer built by hand as two convolutions."""
    first_bias, last_bias = BIASES[layer.bias]
    depthwise = Conv(
        out_channels=channels * layer.depth_multiplier,
        groups=channels,
        kernel_size=layer.kernel_size,
        stride=layer.stride,
        padding=layer.padding,
        dilation=layer.dilation,
        bias=first_bias,
    )
    return depthwise, Conv(out_channels=layer.out_channels, kernel_size=1, bias=last_bias)


def one_axis_convs(layer: SpatiallySeparableConv, window: Window, in_channels: int) -> list[Conv]:
    """A spatially separable layer built by hand: one k×1 (or k×1×1, ...) conv per axis,
    the middle width by its rule (min, out, in) or as given."""
    ndim = window.ndim
    pairs = padding_pairs(window.padding, ndim)
    first_bias, last_bias = BIASES[layer.bias]
    rules = {"min": min(in_channels, layer.out_channels), "out": layer.out_channels}
    mid = rules.get(str(layer.mid_channels), in_channels if layer.mid_channels == "in" else 0)
    mid = layer.mid_channels if isinstance(layer.mid_channels, int) else mid
    parts = []
    for axis in range(ndim):

        def only(values: tuple[Any, ...], rest: Any, axis: int = axis) -> tuple[Any, ...]:
            return tuple(value if i == axis else rest for i, value in enumerate(values))

        last = axis == ndim - 1
        parts.append(
            Conv(
                out_channels=layer.out_channels if last else mid,
                kernel_size=only(window.kernel, 1),
                stride=only(window.stride, 1),
                dilation=only(window.dilation, 1),
                padding=window.padding if pairs is None else only(pairs, (0, 0)),
                bias=last_bias if last else first_bias,
            )
        )
    return parts


def chain(parts: list[Conv] | tuple[Conv, ...], shape: Shape) -> list[LayerCost]:
    costs = []
    for part in parts:
        costs.append(layer_cost(part, shape))
        shape = costs[-1].output_shape
    return costs


def bias_count(layer: Layer) -> int:
    if isinstance(layer, Linear):
        return layer.out_features if layer.bias else 0
    if isinstance(layer, (Conv, ConvTranspose)):
        return layer.out_channels if layer.bias else 0
    raise TypeError(layer)


def check_terms(cost: LayerCost) -> None:
    """`macs` is the product of `macs_terms`; `params` that of `weight_terms` plus biases."""
    if cost.macs_terms:
        assert cost.macs == prod(value for _, value in cost.macs_terms)
    if cost.weight_terms:
        weights = prod(value for _, value in cost.weight_terms)
        assert cost.params == weights + bias_count(cost.layer)
    if cost.parts:
        assert cost.params == sum(part.params for part in cost.parts)
        assert cost.macs == sum(part.macs for part in cost.parts)
        assert cost.bias_adds == sum(part.bias_adds for part in cost.parts)
        assert cost.output_shape == cost.parts[-1].output_shape
    for part in cost.parts:
        check_terms(part)


any_conv_family = st.one_of(conv_cases(), depthwise_separable_cases(), spatially_separable_cases())


# --- closed forms against naive loops -------------------------------------------------------


@given(conv_cases())
@example(
    Case(
        Conv(out_channels=2, kernel_size=3, dilation=2, padding=1),
        Shape(1, (5,)),
        Window((3,), (1,), (2,), 1),
    )
)
@example(
    Case(
        Conv(out_channels=4, kernel_size=(2, 3), padding=((0, 1), (2, 0)), stride=(2, 1)),
        Shape(2, (4, 3)),
        Window((2, 3), (2, 1), (1, 1), ((0, 1), (2, 0))),
    )
)
@example(
    Case(
        Conv(out_channels=4, kernel_size=2, stride=3, padding="same", groups=2),
        Shape(2, (7, 5, 2)),
        Window((2, 2, 2), (3, 3, 3), (1, 1, 1), "same"),
    )
)
def test_conv_matches_naive_loop(case: Case) -> None:
    """Output shape and MACs equal the enumeration of output positions and kernel taps.

    Domain: 1-D, 2-D and 3-D convolutions on small inputs, any stride, padding (int,
    per-axis, per-side pairs, "valid", "same", "same-pytorch" with stride 1), dilation,
    groups and bias.
    """
    conv, shape, window = case
    sizes, macs = naive_conv(shape.channels, shape.spatial, conv.out_channels, conv.groups, window)
    cost = layer_cost(conv, shape)
    assert cost.output_shape == Shape(conv.out_channels, sizes)
    assert cost.macs == macs


@given(depthwise_separable_cases())
def test_depthwise_separable_matches_naive_loops(case: Case) -> None:
    """A depthwise separable layer costs what two enumerated convolutions cost.

    Domain: 1-D to 3-D inputs, any multiplier, stride, padding and dilation.
    """
    layer, shape, window = case
    mid = shape.channels * layer.depth_multiplier
    sizes, depthwise = naive_conv(shape.channels, shape.spatial, mid, shape.channels, window)
    pointwise_window = Window((1,) * window.ndim, (1,) * window.ndim, (1,) * window.ndim, 0)
    _, pointwise = naive_conv(mid, sizes, layer.out_channels, 1, pointwise_window)
    cost = layer_cost(layer, shape)
    assert cost.output_shape == Shape(layer.out_channels, sizes)
    assert [part.macs for part in cost.parts] == [depthwise, pointwise]


@given(conv_transpose_cases())
@example(
    Case(
        ConvTranspose(out_channels=2, kernel_size=3, stride=2, padding=1, output_padding=1),
        Shape(1, (4,)),
        Window((3,), (2,), (1,), 1),
    )
)
def test_conv_transpose_matches_scatter_loop(case: Case) -> None:
    """Output size and MACs of a transposed convolution equal a naive scatter.

    Domain: 1-D to 3-D, any stride and dilation, output padding below max(stride,
    dilation), symmetric explicit padding that leaves a non-empty output, "valid", "same".
    """
    layer, shape, window = case
    sizes, macs = naive_conv_transpose(shape.channels, shape.spatial, layer, window)
    cost = layer_cost(layer, shape)
    assert cost.output_shape == Shape(layer.out_channels, sizes)
    assert cost.macs == macs


@given(conv_transpose_cases(modes=()))
def test_conv_transpose_output_size_is_pytorchs(case: Case) -> None:
    """Explicit padding follows PyTorch's documented ConvTranspose output size.

    out = (in − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1.
    Domain: symmetric int or per-axis padding ("valid" is 0), any stride and dilation.
    The MACs are input positions × C_in × C_out/groups × kernel taps.
    """
    layer, shape, window = case
    pads = (
        (0,) * window.ndim
        if window.padding == "valid"
        else padding_pairs(window.padding, window.ndim)
    )
    assert pads is not None
    extra = layer.output_padding
    extras = (extra,) * window.ndim if isinstance(extra, int) else extra
    expected = tuple(
        (n - 1) * s - 2 * (p[0] if isinstance(p, tuple) else p) + d * (k - 1) + e + 1
        for n, s, p, d, k, e in zip(
            shape.spatial, window.stride, pads, window.dilation, window.kernel, extras
        )
    )
    cost = layer_cost(layer, shape)
    assert cost.output_shape.spatial == expected
    taps = prod(window.kernel)
    assert (
        cost.macs == shape.positions * shape.channels * (layer.out_channels // layer.groups) * taps
    )


# --- laws ------------------------------------------------------------------------------


@given(
    channels=st.integers(1, 64),
    out_channels=st.integers(1, 64),
    kernel=st.integers(1, 7),
    sizes=st.integers(1, 3).flatmap(lambda ndim: per_axis(ndim, 1, 40)),
)
@example(channels=512, out_channels=512, kernel=3, sizes=(14, 14))  # the MobileNet paper's
@example(channels=3, out_channels=5, kernel=4, sizes=(7, 2))  # even kernel, non-square
def test_mobilenet_ratio(
    channels: int, out_channels: int, kernel: int, sizes: tuple[int, ...]
) -> None:
    """Depthwise separable / regular MACs == 1/N + 1/K² exactly (MobileNet, section 3.1).

    Domain: stride 1, "same" padding, no bias, depth multiplier 1, any C, N, K (odd or
    even) and spatial sizes, square or not; the K² is K^ndim off two dimensions, so the
    law is stated for 2-D inputs and checked as 1/N + 1/K^ndim on 1-D and 3-D ones.
    """
    shape = Shape(channels, sizes)
    regular = layer_cost(
        Conv(out_channels=out_channels, kernel_size=kernel, padding="same", bias=False), shape
    )
    separable = layer_cost(
        DepthwiseSeparableConv(
            out_channels=out_channels, kernel_size=kernel, padding="same", bias="none"
        ),
        shape,
    )
    ratio = Fraction(separable.macs, regular.macs)
    assert ratio == Fraction(1, out_channels) + Fraction(1, kernel ** len(sizes))
    if len(sizes) == 2:
        assert ratio == Fraction(1, out_channels) + Fraction(1, kernel * kernel)


@given(any_conv_family, st.data())
def test_params_do_not_depend_on_spatial_size(case: Case, data: st.DataObject) -> None:
    """Parameters depend on channels and kernels only, never on the input's sizes.

    Domain: every convolution family; a larger input of the same rank and channels.
    """
    layer, shape, _ = case
    bigger = Shape(shape.channels, tuple(n + data.draw(st.integers(0, 5)) for n in shape.spatial))
    assert layer_cost(layer, bigger).params == layer_cost(layer, shape).params


@given(conv_cases(max_groups=1), st.integers(1, 9), st.integers(1, 9))
def test_conv_is_linear_in_out_channels(case: Case, first: int, second: int) -> None:
    """params(a + b) == params(a) + params(b), and the same for MACs and bias additions.

    Domain: convolutions with groups = 1 (with groups, out_channels must stay divisible).
    """
    conv, shape, _ = case
    costs = [
        layer_cost(replace(conv, out_channels=n), shape) for n in (first, second, first + second)
    ]
    for field in ("params", "macs", "bias_adds"):
        a, b, both = (getattr(cost, field) for cost in costs)
        assert both == a + b, field


@given(depthwise_separable_cases())
@example(
    Case(
        DepthwiseSeparableConv(out_channels=3, kernel_size=3, depth_multiplier=2, bias="both"),
        Shape(2, (5, 5)),
        Window((3, 3), (1, 1), (1, 1), 0),
    )
)
def test_depthwise_separable_is_depthwise_then_pointwise(case: Case) -> None:
    """The layer equals a grouped Conv (groups = C, out = C·d) then a 1×1 Conv, built by hand.

    Each part equals the hand-built Conv's cost (params, MACs, output shape, terms), and
    the whole is their sum; the parts are kinds "depthwise" and "pointwise" even on one
    channel, where a hand-built groups = C = 1 Conv classifies as regular. Domain: every
    bias convention and depth multiplier, 1-D to 3-D, any stride, padding and dilation.
    """
    layer, shape, _ = case
    cost = layer_cost(layer, shape)
    by_hand = chain(depthwise_then_pointwise(layer, shape.channels), shape)
    assert len(cost.parts) == 2
    for part, expected in zip(cost.parts, by_hand):
        costs_agree(replace(part, kind=expected.kind), expected)
    assert cost.params == sum(c.params for c in by_hand)
    assert cost.macs == sum(c.macs for c in by_hand)
    assert cost.output_shape == by_hand[-1].output_shape
    assert cost.parts[0].kind == "depthwise"
    assert cost.parts[1].kind in ("pointwise", "regular" if shape.ndim == 0 else "pointwise")


@given(spatially_separable_cases())
@example(
    Case(
        SpatiallySeparableConv(out_channels=2, kernel_size=3, padding=((1, 2), (0, 1))),
        Shape(1, (5, 5)),
        Window((3, 3), (1, 1), (1, 1), ((1, 2), (0, 1))),
    )
)
@example(
    Case(
        SpatiallySeparableConv(out_channels=2, kernel_size=(3, 2), stride=2, padding="same"),
        Shape(1, (5, 4)),
        Window((3, 2), (2, 2), (1, 1), "same"),
    )
)
def test_spatially_separable_is_one_conv_per_axis(case: Case) -> None:
    """The layer equals its k×1 and 1×k convolutions (k×1×1, 1×k×1, 1×1×k in 3-D) in a row.

    Its output shape equals the regular convolution's with the same hyper-parameters.
    Domain: 2-D and 3-D, any stride, explicit or "same" padding, dilation, mid channels
    and bias convention.
    """
    layer, shape, window = case
    cost = layer_cost(layer, shape)
    by_hand = chain(one_axis_convs(layer, window, shape.channels), shape)
    assert len(cost.parts) == len(by_hand) == shape.ndim
    for part, expected in zip(cost.parts, by_hand):
        costs_agree(part, expected)
    assert cost.params == sum(c.params for c in by_hand)
    assert cost.macs == sum(c.macs for c in by_hand)
    regular = Conv(
        out_channels=layer.out_channels,
        kernel_size=layer.kernel_size,
        stride=layer.stride,
        padding=layer.padding,
        dilation=layer.dilation,
    )
    assert cost.output_shape == layer_cost(regular, shape).output_shape


@given(any_conv_family, st.data())
def test_macs_grow_with_input_size(case: Case, data: st.DataObject) -> None:
    """A larger input never costs fewer MACs.

    Domain: every convolution family, valid, explicit and "same" padding, any stride and
    dilation; one axis grown by 1 to 4.
    """
    layer, shape, _ = case
    axis = data.draw(st.integers(0, shape.ndim - 1))
    grown = list(shape.spatial)
    grown[axis] += data.draw(st.integers(1, 4))
    assert (
        layer_cost(layer, Shape(shape.channels, tuple(grown))).macs >= layer_cost(layer, shape).macs
    )


@given(
    st.one_of(
        conv_cases(),
        conv_transpose_cases(),
        depthwise_separable_cases(),
        spatially_separable_cases(),
        st.builds(
            Case,
            st.builds(Linear, out_features=st.integers(1, 50), bias=st.booleans()),
            st.builds(Shape, st.integers(1, 50)),
            st.just(Window((), (), (), 0)),
        ),
    )
)
def test_terms_multiply_to_the_totals(case: Case) -> None:
    """macs == ∏ macs_terms, params == ∏ weight_terms + biases, composites sum their parts.

    Domain: every layer with weights (convolutions of each family, transposed, dense).
    """
    check_terms(layer_cost(case.layer, case.shape))


@pytest.mark.parametrize(
    ("layer", "shape", "params", "non_trainable"),
    [
        pytest.param(BatchNorm(), Shape(64, (8, 8)), 128, 128, id="batchnorm"),
        pytest.param(BatchNorm(affine=False), Shape(64, (8, 8)), 0, 128, id="no-affine"),
        pytest.param(BatchNorm(track_running_stats=False), Shape(64), 128, 0, id="no-stats"),
    ],
)
def test_batch_norm_parameters(layer: Layer, shape: Shape, params: int, non_trainable: int) -> None:
    """γ and β are trainable; the running mean and variance are not (Keras's convention)."""
    cost = layer_cost(layer, shape)
    assert (cost.params, cost.non_trainable_params, cost.macs) == (params, non_trainable, 0)
    assert cost.total_params == params + non_trainable
    assert cost.output_shape == shape


# --- errors at cost time -----------------------------------------------------------------

COST_ERRORS: list[Any] = [
    pytest.param(
        lambda: layer_cost(Conv(out_channels=8, kernel_size=5), Shape(3, (3, 3))),
        ["kernel 5", "padded size of 3"],
        id="window-too-large",
    ),
    pytest.param(
        lambda: layer_cost(Conv(out_channels=8, kernel_size=3, dilation=3), Shape(3, (6, 6))),
        ["window of 7", "dilation 3", "6"],
        id="dilated-window-too-large",
    ),
    pytest.param(
        lambda: layer_cost(MaxPool(kernel_size=4), Shape(3, (3, 3))),
        ["kernel 4", "padded size of 3"],
        id="pool-too-large",
    ),
    pytest.param(
        lambda: layer_cost(Conv(out_channels=4, kernel_size=3, groups=2), Shape(3, (8, 8))),
        ["groups=2", "in_channels=3"],
        id="groups-not-dividing-in",
    ),
    pytest.param(
        lambda: layer_cost(Conv(out_channels=4, kernel_size=(3, 3)), Shape(3, (8,))),
        ["kernel_size=(3, 3)", "input has 1"],
        id="kernel-2d-on-1d",
    ),
    pytest.param(
        lambda: layer_cost(Conv(out_channels=4, kernel_size=(3, 3)), Shape(3, (8, 8, 8))),
        ["kernel_size=(3, 3)", "input has 3"],
        id="kernel-2d-on-3d",
    ),
    pytest.param(
        lambda: layer_cost(Conv(out_channels=4, kernel_size=3, stride=(1, 2)), Shape(3, (8,))),
        ["stride=(1, 2)", "input has 1"],
        id="stride-2d-on-1d",
    ),
    pytest.param(
        lambda: layer_cost(
            Conv(out_channels=4, kernel_size=3, padding=(1, 1, 1)), Shape(3, (8, 8))
        ),
        ["padding=(1, 1, 1)", "input has 2"],
        id="padding-3d-on-2d",
    ),
    pytest.param(
        lambda: layer_cost(Conv(out_channels=4, kernel_size=3), Shape(3)),
        ["Conv", "flat", "3 features"],
        id="conv-on-flat",
    ),
    pytest.param(
        lambda: layer_cost(Linear(out_features=10), Shape(3, (4, 4))),
        ["Linear", "flat", "3x4x4"],
        id="linear-on-map",
    ),
    pytest.param(
        lambda: layer_cost(SpatiallySeparableConv(out_channels=4, kernel_size=3), Shape(3, (8,))),
        ["2 or 3 spatial", "3x8"],
        id="spatially-separable-1d",
    ),
    pytest.param(
        lambda: layer_cost(
            DepthwiseSeparableConv(out_channels=4, kernel_size=(3, 3)), Shape(3, (8,))
        ),
        ["kernel_size=(3, 3)", "input has 1"],
        id="separable-2d-on-1d",
    ),
    pytest.param(
        lambda: layer_cost(
            ConvTranspose(out_channels=4, kernel_size=3, stride=2, output_padding=2), Shape(3, (8,))
        ),
        ["output_padding=2", "stride"],
        id="output-padding-too-large",
    ),
    pytest.param(
        lambda: layer_cost(ConvTranspose(out_channels=4, kernel_size=1, padding=1), Shape(3, (2,))),
        ["padding=1", "3x2", "empty"],
        id="transpose-cropped-empty",
    ),
    pytest.param(
        lambda: layer_cost(AdaptiveAvgPool(output_size=(2, 2)), Shape(3, (8,))),
        ["output_size=(2, 2)", "input has 1"],
        id="adaptive-wrong-rank",
    ),
]


@pytest.mark.parametrize(("compute", "words"), COST_ERRORS)
def test_cost_errors(compute: Callable[[], LayerCost], words: list[str]) -> None:
    """A layer that does not fit its input raises ShapeMismatchError naming what and why."""
    with pytest.raises(ShapeMismatchError) as info:
        compute()
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        pytest.param(
            Conv(out_channels=8, kernel_size=3, stride=2, padding="same"),
            Shape(3, (224, 224)),
            id="conv",
        ),
        pytest.param(
            MaxPool(kernel_size=3, stride=2, padding="same"), Shape(8, (224, 224)), id="pool"
        ),
    ],
)
def test_same_with_stride_2_is_tensorflow_same(layer: Conv | MaxPool, shape: Shape) -> None:
    """Padding "same" with stride 2 is allowed (TensorFlow/Keras): 224 → 112, padding (0, 1).

    It costs exactly what the explicit padding ((0, 1), (0, 1)) costs.
    """
    cost = layer_cost(layer, shape)
    assert cost.output_shape.spatial == (112, 112)
    explicit = layer_cost(replace(layer, padding=((0, 1), (0, 1))), shape)
    assert (explicit.output_shape, explicit.macs) == (cost.output_shape, cost.macs)
