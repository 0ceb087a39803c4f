"""The pyramid builder: stage i has base·2**i channels at 1/2**i resolution.

The invariants are checked on the costed network (rows and their shapes), not on the
builder's own loop; seed 000's VGG-block CIFAR model is one instance, checked against
both Keras summaries of the seed.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcost import (
    Activation,
    AdaptiveAvgPool,
    BatchNorm,
    Conv,
    FieldError,
    Flatten,
    Linear,
    MaxPool,
    Shape,
    parse_shape,
)
from convcost.builders import pyramid
from convcost.network import compare, network_cost

SEED_000 = "seed 000 (000_62c80d1e414757ec.txt)"


def conv_rows(network: Any) -> list[Any]:
    return [row for row in network_cost(network).rows if isinstance(row.cost.layer, Conv)]


@given(
    base=st.integers(1, 64),
    stages=st.integers(1, 5),
    convs=st.integers(1, 3),
    kernel=st.sampled_from([1, 2, 3, 5, 7]),
    downsample=st.sampled_from(["pool", "stride"]),
    channels=st.integers(1, 8),
    multiple=st.integers(1, 3),
)
def test_stage_i_has_base_times_2_to_the_i_channels_at_a_2_to_the_i_th(
    base: int, stages: int, convs: int, kernel: int, downsample: Any, channels: int, multiple: int
) -> None:
    """Any base, 1-5 stages, 1-3 convs, kernel 1-7, both downsampling modes; the input side
    is a multiple of 2**stages, so every halving is exact.

    Every convolution of stage i outputs base·2**i channels at side/2**i, and each stage's
    first convolution reads the previous stage's channels (the input's for stage 0).
    """
    side = multiple * 2**stages
    network = pyramid(
        input_shape=Shape(channels, (side, side)),
        base_channels=base,
        stages=stages,
        convs_per_stage=convs,
        kernel_size=kernel,
        downsample=downsample,
    )
    rows = conv_rows(network)
    assert len(rows) == stages * convs
    for index, row in enumerate(rows):
        stage, position = divmod(index, convs)
        size = side // 2**stage
        assert row.group == f"stage{stage + 1}"
        assert row.cost.output_shape == Shape(base * 2**stage, (size, size))
        if position == 0:
            previous = channels if stage == 0 else base * 2 ** (stage - 1)
            assert row.cost.input_shape.channels == previous
    output = network_cost(network).output_shape
    last = base * 2 ** (stages - 1)
    final_side = side // 2**stages if downsample == "pool" else side // 2 ** (stages - 1)
    assert output == Shape(last, (final_side, final_side))


@given(side=st.integers(1, 40), stages=st.integers(1, 4))
def test_stride_downsampling_rounds_up(side: int, stages: int) -> None:
    """Any side 1-40: stride-2 "same" convolutions give ceil(side / 2**i), as Keras does."""
    network = pyramid(input_shape=Shape(3, (side, side)), stages=stages, downsample="stride")
    for stage, row in enumerate(conv_rows(network)):
        expected = -(-side // 2**stage)
        assert row.cost.output_shape.spatial == (expected, expected)


@given(side=st.integers(1, 40), stages=st.integers(1, 4))
def test_pool_downsampling_rounds_down(side: int, stages: int) -> None:
    """Any side 1-40: 2×2 pooling floors; a pyramid deeper than the input can halve is
    refused when it is built, naming `stages` and the deepest that fits."""
    kwargs: dict[str, Any] = {"input_shape": Shape(3, (side, side)), "stages": stages}
    if side < 2**stages:
        deepest = side.bit_length() - 1
        with pytest.raises(FieldError, match=f"stages must be at most {deepest} "):
            pyramid(**kwargs)
        return
    for stage, row in enumerate(conv_rows(pyramid(**kwargs))):
        assert row.cost.output_shape.spatial == (side // 2**stage,) * 2


@pytest.mark.parametrize(
    ("options", "tail"),
    [
        pytest.param({"head": "none"}, [MaxPool], id="no-head"),
        pytest.param({"head": "flatten"}, [MaxPool, Flatten, Linear], id="flatten-head"),
        pytest.param({"head": "global"}, [MaxPool, AdaptiveAvgPool, Flatten, Linear],
                     id="global-head"),
        pytest.param({"downsample": "stride", "head": "global"},
                     [Conv, AdaptiveAvgPool, Flatten, Linear], id="stride-global-head"),
        pytest.param({"batch_norm": True, "activation": "relu"},
                     [Conv, BatchNorm, Activation, MaxPool], id="bn-relu"),
    ],
)  # fmt: skip
def test_layers_and_heads(options: dict[str, Any], tail: list[type]) -> None:
    """The last layers of a 2-stage pyramid, by option."""
    network = pyramid(stages=2, classes=7, **options)
    cost = network_cost(network)
    types = [type(row.cost.layer) for row in cost.rows]
    assert types[-len(tail) :] == tail
    if options.get("head", "none") != "none":
        assert cost.output_shape == Shape(7)
    if options.get("batch_norm"):
        assert types.count(BatchNorm) == types.count(Conv) == types.count(Activation) == 2


def test_seed_001_defaults() -> None:
    """The defaults are seed 001's Figure 4 setting (the article's lines 195-199): a
    64×128×128 input, one 3×3 unbiased conv per stage, 64→128→256→512→1024 at 128, 64,
    32 and 16 pixels.
    """
    rows = conv_rows(pyramid())
    assert [str(row.cost.input_shape) for row in rows] == [
        "64x128x128", "128x64x64", "256x32x32", "512x16x16",
    ]  # fmt: skip
    assert [row.cost.output_shape.channels for row in rows] == [128, 256, 512, 1024]
    assert [row.cost.params for row in rows] == [73_728, 294_912, 1_179_648, 4_718_592]
    assert all(row.cost.layer.bias is False for row in rows)


SEED_000_MODEL: dict[str, Any] = {
    "input_shape": parse_shape("hwc:32x32x3"),
    "base_channels": 64,
    "stages": 3,
    "convs_per_stage": 2,
    "head": "flatten",
    "classes": 10,
    "bias": True,
}
# (Keras output shape, Conv2D params, SeparableConv2D params), seed 000 lines 101 and 113
SEED_000_LAYERS = [
    ((32, 32, 64), 1_792, 283),
    ((32, 32, 64), 36_928, 4_736),
    ((16, 16, 128), 73_856, 8_896),
    ((16, 16, 128), 147_584, 17_664),
    ((8, 8, 256), 295_168, 34_176),
    ((8, 8, 256), 590_080, 68_096),
    ((10,), 40_970, 40_970),
]


def test_seed_000_vgg_model() -> None:
    """Seed 000's VGG-block CIFAR model, both Keras summaries, layer by layer (lines 101, 113).

    Keras `Conv2D` has a bias; `SeparableConv2D` has one bias, on the pointwise part
    (``bias="pointwise"``). Max-pool outputs (16, 8, 4 pixels) and the 4,096-wide flatten
    are in the summaries too.
    """
    network = pyramid(**SEED_000_MODEL)
    comparison = compare(network, ("depthwise_separable",), bias="pointwise")
    regular, separable = comparison.costs
    weighted = [
        (row.cost.output_shape.channels_last(), row.cost.params, other.cost.params)
        for row, other in zip(regular.rows, separable.rows)
        if row.cost.params
    ]
    assert weighted == SEED_000_LAYERS, SEED_000
    assert regular.totals.params == 1_186_378, SEED_000
    assert separable.totals.params == 174_821, SEED_000
    pools = [
        row.cost.output_shape.channels_last() for row in regular.rows if row.cost.kind == "pool"
    ]
    assert pools == [(16, 16, 64), (8, 8, 128), (4, 4, 256)], SEED_000
    assert [row.cost.output_shape for row in regular.rows if row.name == "flatten"] == [Shape(4096)]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("base_channels", 0, id="base-0"),
        pytest.param("stages", 0, id="stages-0"),
        pytest.param("stages", True, id="stages-bool"),
        pytest.param("convs_per_stage", -1, id="convs-negative"),
        pytest.param("kernel_size", 0, id="kernel-0"),
        pytest.param("kernel_size", 3.0, id="kernel-float"),
        pytest.param("downsample", "avg", id="downsample-unknown"),
        pytest.param("head", "dense", id="head-unknown"),
        pytest.param("activation", "mish", id="activation-unknown"),
        pytest.param("classes", 0, id="classes-0"),
    ],
)
def test_invalid_arguments(field: str, value: Any) -> None:
    """Each bad argument is a `FieldError` naming the argument."""
    with pytest.raises(FieldError) as caught:
        pyramid(**{field: value})
    assert caught.value.field == field
    assert repr(value) in str(caught.value)
