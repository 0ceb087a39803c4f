"""Agreement with PyTorch: the same layer built in torch has our output shape, parameters
and MACs.

For each drawn layer the matching torch module runs on ``torch.zeros(1, *shape)`` under
`FlopCounterMode`, which counts 2 FLOPs per multiply-accumulate of a convolution or a
matrix product, and nothing for bias, normalisation or pooling: so its total is exactly
2 × our MACs. Skipped when torch is not installed.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from strategies import (
    Case,
    Window,
    conv_cases,
    conv_transpose_cases,
    depthwise_separable_cases,
    padding_pairs,
    per_axis,
    pool_cases,
    shapes,
    spatially_separable_cases,
)

from convcost import (
    AdaptiveAvgPool,
    AdaptiveMaxPool,
    AvgPool,
    BatchNorm,
    Conv,
    ConvTranspose,
    DepthwiseSeparableConv,
    Flatten,
    LayerCost,
    Linear,
    MaxPool,
    Shape,
    SpatiallySeparableConv,
    Upsample,
    ZeroPad,
    layer_cost,
)

with warnings.catch_warnings():
    # torch warns at import when NumPy is missing; nothing here needs NumPy.
    warnings.filterwarnings("ignore", message="Failed to initialize NumPy", category=UserWarning)
    torch = pytest.importorskip("torch")
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

# The tensors here are tiny: extra threads only add overhead.
torch.set_num_threads(1)

pytestmark = [
    pytest.mark.torch,
    # torch notes that an even kernel with "same" padding copies the input; costs are unaffected
    pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths:UserWarning"),
]

# Untyped on purpose: torch's hints want an int or a tuple of exactly N ints per module.
CONV: dict[int, Any] = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
CONV_TRANSPOSE: dict[int, Any] = {
    1: nn.ConvTranspose1d,
    2: nn.ConvTranspose2d,
    3: nn.ConvTranspose3d,
}
ZERO_PAD: dict[int, Any] = {1: nn.ZeroPad1d, 2: nn.ZeroPad2d, 3: nn.ZeroPad3d}
BATCH_NORM: dict[int, Any] = {
    0: nn.BatchNorm1d,
    1: nn.BatchNorm1d,
    2: nn.BatchNorm2d,
    3: nn.BatchNorm3d,
}
MAX_POOL: dict[int, Any] = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}
AVG_POOL: dict[int, Any] = {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}
ADAPTIVE: dict[type, dict[int, Any]] = {
    AdaptiveAvgPool: {1: nn.AdaptiveAvgPool1d, 2: nn.AdaptiveAvgPool2d, 3: nn.AdaptiveAvgPool3d},
    AdaptiveMaxPool: {1: nn.AdaptiveMaxPool1d, 2: nn.AdaptiveMaxPool2d, 3: nn.AdaptiveMaxPool3d},
}
# The biases of the parts of a separable layer, per convention: (first parts, last part).
BIASES = {"none": (False, False), "pointwise": (False, True), "both": (True, True)}


def run(module: Any, shape: Shape, *, batch: int = 1) -> tuple[tuple[int, ...], int]:
    """The output shape (without the batch axis) and the FLOPs torch counts."""
    module.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        output = module(torch.zeros(batch, shape.channels, *shape.spatial))
    return tuple(output.shape[1:]), counter.get_total_flops()


def trainable(module: Any) -> int:
    return sum(p.numel() for p in module.parameters())


def agrees(module: Any, cost: LayerCost) -> None:
    output_shape, flops = run(module, cost.input_shape)
    assert output_shape == (cost.output_shape.channels, *cost.output_shape.spatial)
    assert trainable(module) == cost.params
    assert flops == 2 * cost.macs


def padded(padding: Any, ndim: int) -> tuple[list[Any], Any]:
    """Torch's spelling of a padding: the conv's own argument, or a ZeroPad in front of it.

    PyTorch convolutions take one symmetric amount per axis; (before, after) pairs that
    differ become an `nn.ZeroPadNd` (last axis first, as `F.pad` orders them).
    """
    if isinstance(padding, str):
        return [], "valid" if padding == "valid" else "same"
    pairs = padding_pairs(padding, ndim)
    assert pairs is not None
    if all(lo == hi for lo, hi in pairs):
        return [], tuple(lo for lo, _ in pairs)
    sides = tuple(side for pair in reversed(pairs) for side in pair)
    return [ZERO_PAD[ndim](sides)], 0


def torch_conv(conv: Conv, shape: Shape, window: Window) -> Any:
    front, padding = padded(window.padding, shape.ndim)
    return nn.Sequential(
        *front,
        CONV[shape.ndim](
            shape.channels,
            conv.out_channels,
            window.kernel,
            stride=window.stride,
            padding=padding,
            dilation=window.dilation,
            groups=conv.groups,
            bias=conv.bias,
        ),
    )


def torch_depthwise_separable(layer: DepthwiseSeparableConv, shape: Shape, window: Window) -> Any:
    front, padding = padded(window.padding, shape.ndim)
    first_bias, last_bias = BIASES[layer.bias]
    mid = shape.channels * layer.depth_multiplier
    return nn.Sequential(
        *front,
        CONV[shape.ndim](
            shape.channels,
            mid,
            window.kernel,
            stride=window.stride,
            padding=padding,
            dilation=window.dilation,
            groups=shape.channels,
            bias=first_bias,
        ),
        CONV[shape.ndim](mid, layer.out_channels, 1, bias=last_bias),
    )


def torch_spatially_separable(layer: SpatiallySeparableConv, shape: Shape, window: Window) -> Any:
    ndim = shape.ndim
    first_bias, last_bias = BIASES[layer.bias]
    rules = {"min": min(shape.channels, layer.out_channels), "out": layer.out_channels,
             "in": shape.channels}  # fmt: skip
    mid = layer.mid_channels if isinstance(layer.mid_channels, int) else rules[layer.mid_channels]
    pairs = padding_pairs(window.padding, ndim)
    modules: list[Any] = []
    channels = shape.channels
    for axis in range(ndim):

        def only(values: Sequence[Any], rest: Any, axis: int = axis) -> tuple[Any, ...]:
            return tuple(value if i == axis else rest for i, value in enumerate(values))

        last = axis == ndim - 1
        out = layer.out_channels if last else mid
        front, padding = padded(window.padding if pairs is None else only(pairs, (0, 0)), ndim)
        modules += [
            *front,
            CONV[ndim](
                channels,
                out,
                only(window.kernel, 1),
                stride=only(window.stride, 1),
                padding=padding,
                dilation=only(window.dilation, 1),
                bias=last_bias if last else first_bias,
            ),
        ]
        channels = out
    return nn.Sequential(*modules)


# --- convolutions -----------------------------------------------------------------------

# More examples than the profile's default for the layers with the most hyper-parameters
# (the "thorough" profile raises both).
PROFILE_EXAMPLES = settings.default.max_examples if settings.default else 0
MANY = max(200, PROFILE_EXAMPLES)
SOME = max(150, PROFILE_EXAMPLES)

TORCH_CONVS = conv_cases(modes=("valid", "same", "same-pytorch"), same_stride_1=True)


@settings(max_examples=MANY)
@given(TORCH_CONVS)
@example(
    Case(
        Conv(out_channels=3, kernel_size=3, dilation=2, padding=2),
        Shape(2, (5, 6)),
        Window((3, 3), (1, 1), (2, 2), 2),
    )
)
@example(
    Case(
        Conv(out_channels=2, kernel_size=(3, 2), padding=((2, 0), (0, 1)), stride=2),
        Shape(1, (5, 4)),
        Window((3, 2), (2, 2), (1, 1), ((2, 0), (0, 1))),
    )
)
@example(
    Case(
        Conv(out_channels=4, kernel_size=3, groups=2, padding="same"),
        Shape(2, (4, 3)),
        Window((3, 3), (1, 1), (1, 1), "same"),
    )
)
@example(
    Case(
        Conv(out_channels=6, kernel_size=3, groups=3, stride=2, padding=1),
        Shape(3, (3, 4, 5)),
        Window((3, 3, 3), (2, 2, 2), (1, 1, 1), 1),
    )
)
@example(
    Case(
        Conv(out_channels=2, kernel_size=2, dilation=3, padding="same"),
        Shape(1, (4,)),
        Window((2,), (1,), (3,), "same"),
    )
)
def test_conv_agrees_with_torch(case: Case) -> None:
    """Conv1d/2d/3d: output shape, parameters and MACs (FLOPs / 2) equal PyTorch's.

    Domain: kernel, stride, int/per-axis padding, per-side pairs (through ZeroPadNd),
    "valid", "same" at stride 1, dilation, groups, bias; small inputs.
    """
    conv, shape, window = case
    agrees(torch_conv(conv, shape, window), layer_cost(conv, shape))


@settings(max_examples=SOME)
@given(depthwise_separable_cases(same_stride_1=True))
@example(
    Case(
        DepthwiseSeparableConv(
            out_channels=5, kernel_size=3, depth_multiplier=2, bias="both", padding=1
        ),
        Shape(3, (6, 6)),
        Window((3, 3), (1, 1), (1, 1), 1),
    )
)
@example(
    Case(
        DepthwiseSeparableConv(out_channels=4, kernel_size=3, padding=((0, 1), (0, 1)), stride=2),
        Shape(2, (6, 6)),
        Window((3, 3), (2, 2), (1, 1), ((0, 1), (0, 1))),
    )
)
def test_depthwise_separable_agrees_with_torch(case: Case) -> None:
    """A depthwise separable layer equals nn.Sequential(grouped conv, 1×1 conv) in torch.

    Domain: 1-D to 3-D, depth multiplier 1 to 3, every bias convention, any stride,
    padding (pairs through ZeroPadNd, "same" at stride 1) and dilation.
    """
    layer, shape, window = case
    agrees(torch_depthwise_separable(layer, shape, window), layer_cost(layer, shape))


@settings(max_examples=SOME)
@given(spatially_separable_cases(same_stride_1=True))
@example(
    Case(
        SpatiallySeparableConv(out_channels=1, kernel_size=3, bias="none"),
        Shape(1, (15, 15)),
        Window((3, 3), (1, 1), (1, 1), 0),
    )
)
@example(
    Case(
        SpatiallySeparableConv(
            out_channels=2, kernel_size=3, mid_channels=4, padding=((1, 0), 2, (0, 1))
        ),
        Shape(2, (4, 4, 4)),
        Window((3, 3, 3), (1, 1, 1), (1, 1, 1), ((1, 0), 2, (0, 1))),
    )
)
def test_spatially_separable_agrees_with_torch(case: Case) -> None:
    """A spatially separable layer equals one single-axis conv per axis, in sequence.

    Domain: 2-D and 3-D, mid channels, every bias convention, any stride, padding (each
    part pads only its own axis) and dilation. The first example is seed 002's Sobel
    filter: 585 + 507 MACs.
    """
    layer, shape, window = case
    agrees(torch_spatially_separable(layer, shape, window), layer_cost(layer, shape))


@settings(max_examples=SOME)
@given(conv_transpose_cases(modes=()))
@example(
    Case(
        ConvTranspose(
            out_channels=4, kernel_size=3, stride=2, padding=1, output_padding=1, groups=2
        ),
        Shape(2, (4, 4)),
        Window((3, 3), (2, 2), (1, 1), 1),
    )
)
def test_conv_transpose_agrees_with_torch(case: Case) -> None:
    """ConvTranspose1d/2d/3d: output shape, parameters and MACs equal PyTorch's.

    Domain: kernel, stride, dilation, symmetric explicit padding (PyTorch has no string
    modes for transposed convolutions; convcost's "valid" and "same" follow Keras), output
    padding below max(stride, dilation), groups, bias.
    """
    layer, shape, window = case
    padding = 0 if window.padding == "valid" else window.padding
    module = CONV_TRANSPOSE[shape.ndim](
        shape.channels,
        layer.out_channels,
        window.kernel,
        stride=window.stride,
        padding=padding,
        output_padding=layer.output_padding,
        groups=layer.groups,
        bias=layer.bias,
        dilation=window.dilation,
    )
    agrees(module, layer_cost(layer, shape))


# --- other layers -------------------------------------------------------------------------


@given(st.integers(1, 64), st.integers(1, 64), st.booleans())
def test_linear_agrees_with_torch(in_features: int, out_features: int, bias: bool) -> None:
    """nn.Linear: parameters and MACs. Domain: any sizes, with or without bias."""
    layer = Linear(out_features=out_features, bias=bias)
    agrees(nn.Linear(in_features, out_features, bias=bias), layer_cost(layer, Shape(in_features)))


@given(shapes(max_channels=16), st.booleans(), st.booleans())
def test_batch_norm_agrees_with_torch(shape: Shape, affine: bool, track: bool) -> None:
    """BatchNorm1d/2d/3d: γ, β are parameters; running mean and variance the non-trainable.

    Domain: flat to 3-D inputs, with and without affine and running statistics. Runs on a
    batch of 2 (torch needs two values per channel to normalise without running stats).
    """
    cost = layer_cost(BatchNorm(affine=affine, track_running_stats=track), shape)
    module: Any = BATCH_NORM[shape.ndim](shape.channels, affine=affine, track_running_stats=track)
    output_shape, flops = run(module, shape, batch=2)
    assert output_shape == (shape.channels, *shape.spatial)
    assert trainable(module) == cost.params
    statistics = [module.running_mean, module.running_var] if track else []
    assert sum(buffer.numel() for buffer in statistics) == cost.non_trainable_params
    assert flops == 2 * cost.macs == 0


@settings(max_examples=SOME)
@given(pool_cases())
@example(
    Case(
        MaxPool(kernel_size=2, ceil_mode=True), Shape(1, (5, 5)), Window((2, 2), (2, 2), (1, 1), 0)
    )
)
@example(
    Case(
        AvgPool(kernel_size=3, stride=2, padding=1, ceil_mode=True),
        Shape(1, (6,)),
        Window((3,), (2,), (1,), 1),
    )
)
def test_pool_agrees_with_torch(case: Case) -> None:
    """MaxPool/AvgPool 1d-3d: output shape (ceil_mode included), no parameters, no MACs.

    Domain: PyTorch's: padding at most half the kernel, dilation for max pooling only.
    """
    layer, shape, window = case
    ndim = shape.ndim
    if isinstance(layer, MaxPool):
        module = MAX_POOL[ndim](
            window.kernel, window.stride, window.padding, window.dilation, ceil_mode=layer.ceil_mode
        )
    else:
        module = AVG_POOL[ndim](
            window.kernel, window.stride, window.padding, ceil_mode=layer.ceil_mode
        )
    agrees(module, layer_cost(layer, shape))


@given(
    st.sampled_from([AdaptiveAvgPool, AdaptiveMaxPool]),
    shapes(min_ndim=1),
    st.data(),
)
def test_adaptive_pool_agrees_with_torch(
    kind: type[AdaptiveAvgPool | AdaptiveMaxPool], shape: Shape, data: st.DataObject
) -> None:
    """Adaptive pooling to any output size (smaller or larger than the input)."""
    output_size = data.draw(per_axis(shape.ndim, 1, 6))
    module = ADAPTIVE[kind][shape.ndim](output_size)
    agrees(module, layer_cost(kind(output_size=output_size), shape))


@given(shapes(min_ndim=1), st.data())
def test_reshapes_agree_with_torch(shape: Shape, data: st.DataObject) -> None:
    """ZeroPad (per-side pairs), nearest Upsample and Flatten: shapes; no params or MACs."""
    pairs = data.draw(st.tuples(*[st.tuples(st.integers(0, 2), st.integers(0, 2))] * shape.ndim))
    sides = tuple(side for pair in reversed(pairs) for side in pair)
    agrees(ZERO_PAD[shape.ndim](sides), layer_cost(ZeroPad(padding=pairs), shape))
    factors = data.draw(per_axis(shape.ndim, 1, 3))
    upsample = nn.Upsample(scale_factor=tuple(float(f) for f in factors), mode="nearest")
    agrees(upsample, layer_cost(Upsample(scale_factor=factors), shape))
    agrees(nn.Flatten(), layer_cost(Flatten(), shape))
