"""Counting profiles: every peer tool's measured figure, hand counts, and the laws they obey."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcost.conventions import (
    ACTIVATION_FUNCTIONS,
    OPERATION_TYPES,
    PROFILES,
    RULE_KEYS,
    UNITS,
    ConventionError,
    Profile,
    ProfileCount,
    Rule,
    compare_profiles,
    count,
    describe_rule,
    get_profile,
    profile_from_mapping,
    profile_names,
    profile_to_mapping,
    rule_table,
)
from convcost.errors import ConvCostError
from convcost.layers import (
    ACTIVATIONS,
    BIAS_CONVENTIONS,
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
    Layer,
    Linear,
    MaxPool,
    SpatiallySeparableConv,
    Upsample,
    ZeroPad,
)
from convcost.network import (
    Network,
    NetworkCost,
    Node,
    Parallel,
    Residual,
    Sequential,
    network_cost,
)
from convcost.presets import build_preset
from convcost.shapes import Shape

DOCS = Path(__file__).parent.parent / "docs" / "conventions.md"

_NETWORKS: dict[str, NetworkCost] = {}


def preset_cost(name: str) -> NetworkCost:
    """The preset's cost, built once per test session (presets are immutable)."""
    if name not in _NETWORKS:
        _NETWORKS[name] = network_cost(build_preset(name))
    return _NETWORKS[name]


# --- every figure the peers print --------------------------------------------------------

ISSUE = "issue 6 (torchvision models, 3×224×224, eval, batch 1)"
MEASURED = "measured: torchvision 0.29.1 model, 3×224×224, eval, batch 1, the profile's peer"

FIGURES = [
    ("resnet18", "paper", 1_814_073_344, ISSUE),
    ("resnet18", "torchinfo", 1_814_083_944, ISSUE),
    ("resnet18", "ptflops-aten", 1_814_074_344, ISSUE),
    ("resnet18", "ptflops", 1_825_313_768, ISSUE),
    ("resnet18", "thop", 1_824_033_792, ISSUE),
    ("resnet18", "fvcore", 1_819_065_856, ISSUE),
    ("resnet18", "torchprofile", 1_816_557_568, ISSUE),
    ("resnet18", "calflops", 3_636_250_112, ISSUE),
    ("vgg16", "paper", 15_470_264_320, ISSUE),
    ("vgg16", "torchinfo", 15_483_821_032, ISSUE),
    ("vgg16", "ptflops-aten", 15_483_821_032, ISSUE),
    ("vgg16", "ptflops", 15_523_225_576, ISSUE),
    ("vgg16", "thop", 15_470_314_496, ISSUE),
    ("vgg16", "fvcore", 15_470_289_408, ISSUE),
    ("vgg16", "torchprofile", 15_470_289_408, ISSUE),
    ("vgg16", "calflops", 30_973_778_432, ISSUE),
    # MobileNetV2: ReLU6 modules, a functional adaptive_avg_pool2d, `x + conv(x)` residuals.
    ("mobilenet-v2", "paper", 300_774_272, MEASURED + " (calflops macs)"),
    ("mobilenet-v2", "torchinfo", 300_809_384, MEASURED),
    ("mobilenet-v2", "ptflops-aten", 300_775_272, MEASURED),
    ("mobilenet-v2", "ptflops", 320_300_008, MEASURED),
    ("mobilenet-v2", "thop", 327_486_720, MEASURED),
    ("mobilenet-v2", "fvcore", 314_193_216, MEASURED),
    ("mobilenet-v2", "torchprofile", 307_453_664, MEASURED),
    ("mobilenet-v2", "calflops", 614_967_488, MEASURED),
    ("resnet50", "paper", 4_089_184_256, MEASURED + " (calflops macs)"),
    ("resnet50", "torchinfo", 4_089_238_376, MEASURED),
    ("resnet50", "ptflops-aten", 4_089_185_256, MEASURED),
    ("resnet50", "ptflops", 4_132_436_968, MEASURED),
    ("resnet50", "thop", 4_133_742_592, MEASURED),
    ("resnet50", "fvcore", 4_111_512_576, MEASURED),
    ("resnet50", "torchprofile", 4_100_300_288, MEASURED),
    ("resnet50", "calflops", 8_211_108_352, MEASURED),
]


@pytest.mark.parametrize(
    ("network", "profile", "expected", "source"),
    FIGURES,
    ids=[f"{network}-{profile}" for network, profile, _, _ in FIGURES],
)
def test_peer_figures(network: str, profile: str, expected: int, source: str) -> None:
    assert count(preset_cost(network), get_profile(profile)).total == expected, source


@pytest.mark.parametrize(
    ("network", "params", "source"),
    [
        ("resnet18", 11_689_512, ISSUE),
        ("vgg16", 138_357_544, ISSUE),
        ("mobilenet-v2", 3_504_872, MEASURED),
        ("resnet50", 25_557_032, MEASURED),
    ],
    ids=["resnet18", "vgg16", "mobilenet-v2", "resnet50"],
)
def test_parameters_are_the_same_in_every_tool(network: str, params: int, source: str) -> None:
    assert preset_cost(network).totals.params == params, source


def with_batch_norm(nodes: tuple[Node, ...]) -> tuple[Node, ...]:
    """`nodes` with a batch norm after every convolution (VGG-16 → torchvision's vgg16_bn)."""
    out: list[Node] = []
    for node in nodes:
        if isinstance(node, Sequential):
            out.append(dataclasses.replace(node, layers=with_batch_norm(node.layers)))
        else:
            out.append(node)
            if isinstance(node, Conv):
                out.append(BatchNorm())
    return tuple(out)


VGG16_BN = [
    ("paper", 15_470_264_320),
    ("torchinfo", 15_483_829_480),
    ("ptflops-aten", 15_483_821_032),
    ("ptflops", 15_550_320_616),
    ("thop", 15_524_504_576),
    ("fvcore", 15_497_384_448),
    ("torchprofile", 15_483_836_928),
    ("calflops", 31_000_873_472),
]


@pytest.mark.parametrize(("profile", "expected"), VGG16_BN, ids=[p for p, _ in VGG16_BN])
def test_vgg16_bn_figures(profile: str, expected: int) -> None:
    vgg16 = build_preset("vgg16")
    network = dataclasses.replace(vgg16, layers=with_batch_norm(vgg16.layers))
    cost = network_cost(network)
    assert cost.totals.params == 138_365_992, MEASURED
    assert count(cost, profile).total == expected, MEASURED


# The per-element counts behind the ResNet-18 figures (issue 6), each counted by a
# one-rule user profile: its difference from paper is exactly that count.
RESNET18_ELEMENTS = [
    ("batch_norm", "output", 2_483_712, "batch-norm outputs"),
    ("relu", "output", 2_308_096, "ReLU outputs"),
    ("max_pool", "input", 802_816, "max-pool input"),
    ("adaptive_avg_pool", "input", 25_088, "average-pool input"),
    ("add", "output", 752_640, "residual additions"),
]


@pytest.mark.parametrize(
    ("operation", "unit", "expected", "what"),
    RESNET18_ELEMENTS,
    ids=[what for *_, what in RESNET18_ELEMENTS],
)
def test_resnet18_element_counts(operation: str, unit: str, expected: int, what: str) -> None:
    profile = profile_from_mapping(
        {"name": "one-rule", "rules": {operation: {"per": unit, "ops": 1}}}
    )
    cost = preset_cost("resnet18")
    assert count(cost, profile).total - count(cost, "paper").total == expected, what


# What `convcost conventions resnet18` prints next to each total: per type, the count
# minus paper's. Each entry is a product of the element counts above (issue 6).
RESNET18_DIFFERENCES: dict[str, dict[str, int]] = {
    "paper": {},
    "torchinfo": {"dense_bias": 1_000, "batch_norm": 9_600},  # 2 × 4,800 BN channels
    "ptflops-aten": {"dense_bias": 1_000},
    "ptflops": {
        "dense_bias": 1_000,
        "batch_norm": 2 * 2_483_712,
        "activation": 2 * 2_308_096,
        "pooling": 2 * 802_816 + 2 * 25_088,
    },
    "thop": {"batch_norm": 4 * 2_483_712, "pooling": (49 + 1) * 512},
    "fvcore": {"batch_norm": 2 * 2_483_712, "pooling": 25_088},
    "fvcore-train": {"batch_norm": 5 * 2_483_712, "pooling": 25_088},
    "torchprofile": {"batch_norm": 2_483_712, "pooling": 512},
    "calflops": {
        "conv": 1_813_561_344,
        "dense": 512_000,
        "batch_norm": 2 * 2_483_712,
        "activation": 2_308_096,
        "pooling": 802_816 + 25_088,
    },
    # onnx-tool 1.0.1 (tests/data/onnx/figures.json; its rules read from its source): batch
    # norm 31 per element; ReLU 1 per element; max pooling 9 taps per output (200,704
    # outputs), global average pooling its inputs + 4 per output; 1 per element of each
    # residual addition.
    "onnx-tool": {
        "dense_bias": 1_000,
        "batch_norm": 31 * 2_483_712,
        "activation": 2_308_096,
        "pooling": 200_704 * 9 + 25_088 + 4 * 512,
        "add": 752_640,
    },
}


def test_resnet18_differences_from_paper() -> None:
    counts = compare_profiles(preset_cost("resnet18"))
    assert {c.profile.name: dict(c.differences) for c in counts} == RESNET18_DIFFERENCES


# --- hand counts on small networks -------------------------------------------------------


def worked_example() -> Network:
    """The worked example of docs/conventions.md (3×8×8 input)."""
    return Network(
        name="worked-example",
        input_shape=Shape(3, (8, 8)),
        layers=(
            Conv(name="conv1", out_channels=4, kernel_size=3, padding=1),
            BatchNorm(name="bn1"),
            Activation(name="relu", function="relu"),
            MaxPool(name="pool", kernel_size=2),
            Residual(
                name="block",
                body=(
                    Conv(name="conv2", out_channels=4, kernel_size=3, padding=1, bias=False),
                    BatchNorm(name="bn2"),
                ),
            ),
            Activation(name="relu6", function="relu6"),
            AdaptiveAvgPool(name="avgpool", output_size=1, functional=True),
            Flatten(name="flatten"),
            Linear(name="fc", out_features=10),
        ),
    )


# conv1 6,912 MACs, 256 outputs (bias); bn1 256 elements, 8 parameters; relu 256; pool
# 256 in; conv2 2,304 MACs; bn2 64 elements, 8 parameters; add 64; relu6 64; functional
# avgpool 64 in, 4 out; fc 40 MACs, 10 outputs (bias). Paper = 6,912 + 2,304 + 40 = 9,256.
WORKED = [
    ("paper", 9_256, "6,912 + 2,304 + 40"),
    ("torchinfo", 9_538, "paper + 256 + 10 bias + (8 + 8) BN parameters"),
    ("ptflops-aten", 9_522, "paper + 256 + 10 bias"),
    ("ptflops", 11_314, "+ 266 bias + 2·320 BN + 2·256 ReLU + 2·256 pool + 64 ReLU6 + 64 avg"),
    ("thop", 10_536, "paper + 4·320 BN; the functional pool counts 0"),
    ("fvcore", 9_960, "paper + 2·320 BN + 64 avgpool input"),
    ("fvcore-train", 10_920, "paper + 5·320 BN + 64 avgpool input"),
    ("torchprofile", 9_580, "paper + 320 BN + 4 avgpool output"),
    ("calflops", 19_984, "2·9,256 + 256 conv bias + 2·320 BN + 256 ReLU + 256 pool + 64 avg"),
]


@pytest.mark.parametrize(
    ("profile", "expected", "hand_count"), WORKED, ids=[name for name, *_ in WORKED]
)
def test_worked_example(profile: str, expected: int, hand_count: str) -> None:
    assert count(network_cost(worked_example()), profile).total == expected, hand_count


def _single(layer: Layer, shape: Shape) -> NetworkCost:
    return network_cost(Network(input_shape=shape, layers=(layer,)))


# One layer, one profile: what the rule adds to paper's count (hand counts).
SINGLE = [
    ("thop-adaptive-uneven", AdaptiveAvgPool(output_size=3), Shape(2, (7, 7)), "thop",
     2 * 49 + 2 * 9, "(49/9 + 1) per output × 18 outputs = input + output elements"),
    ("thop-adaptive-functional", AdaptiveAvgPool(output_size=3, functional=True),
     Shape(2, (7, 7)), "thop", 0, "thop hooks modules only"),
    ("thop-softmax-flat", Activation(function="softmax"), Shape(10), "thop",
     3 * 10 - 1, "exp + (n - 1) adds + div per row"),
    ("thop-softmax-spatial", Activation(function="softmax"), Shape(10, (2, 3)), "thop",
     6 * (3 * 10 - 1), "one row of 10 per position"),
    ("thop-bn-no-affine", BatchNorm(affine=False), Shape(3, (4, 4)), "thop",
     2 * 48, "2 per element without γ, β"),
    ("thop-avgpool", AvgPool(kernel_size=2), Shape(3, (4, 4)), "thop", 12, "1 per output"),
    ("thop-upsample", Upsample(scale_factor=2), Shape(3, (2, 2)), "thop", 48, "1 per output"),
    ("torchinfo-bn-no-affine", BatchNorm(affine=False), Shape(3, (4, 4)), "torchinfo",
     0, "no parameters"),
    ("torchprofile-bn-no-affine", BatchNorm(affine=False), Shape(3, (4, 4)), "torchprofile",
     0, "0 without affine"),
    ("torchprofile-leaky-relu", Activation(function="leaky_relu"), Shape(3, (4, 4)),
     "torchprofile", 48, "1 per output"),
    ("fvcore-adaptive-1d", AdaptiveAvgPool(output_size=1), Shape(3, (8,)), "fvcore",
     0, "adaptive_avg_pool1d is unsupported"),
    ("fvcore-adaptive-3d", AdaptiveAvgPool(output_size=1), Shape(3, (2, 2, 2)), "fvcore",
     0, "adaptive_avg_pool3d is unsupported"),
    ("fvcore-global", GlobalAvgPool(), Shape(3, (4, 4)), "fvcore", 48, "as AdaptiveAvgPool2d(1)"),
    ("fvcore-maxpool", MaxPool(kernel_size=2), Shape(3, (4, 4)), "fvcore", 0, "unsupported"),
    ("fvcore-train-bn-no-affine", BatchNorm(affine=False), Shape(3, (4, 4)), "fvcore-train",
     4 * 48, "4 per element"),
    ("ptflops-relu-module", Activation(function="relu"), Shape(3, (4, 4)), "ptflops",
     2 * 48, "module hook + F.relu"),
    ("ptflops-relu-function", Activation(function="relu", functional=True), Shape(3, (4, 4)),
     "ptflops", 48, "F.relu only"),
    ("ptflops-relu6-module", Activation(function="relu6"), Shape(3, (4, 4)), "ptflops",
     48, "F.hardtanh is not patched"),
    ("ptflops-leaky-function", Activation(function="leaky_relu", functional=True),
     Shape(3, (4, 4)), "ptflops", 0, "F.leaky_relu is not patched"),
    ("ptflops-silu-module", Activation(function="silu"), Shape(3, (4, 4)), "ptflops",
     48, "no module hook; F.silu patched"),
    ("ptflops-sigmoid", Activation(function="sigmoid"), Shape(3, (4, 4)), "ptflops",
     0, "torch.sigmoid is not counted"),
    ("ptflops-maxpool-module", MaxPool(kernel_size=2), Shape(3, (4, 4)), "ptflops",
     2 * 48, "module hook + F.max_pool2d, per input"),
    ("ptflops-maxpool-function", MaxPool(kernel_size=2, functional=True), Shape(3, (4, 4)),
     "ptflops", 48, "F.max_pool2d only"),
    ("ptflops-upsample", Upsample(scale_factor=2), Shape(3, (2, 2)), "ptflops",
     2 * 48, "module hook + F.interpolate, per output"),
    ("ptflops-bn-no-affine", BatchNorm(affine=False), Shape(3, (4, 4)), "ptflops",
     48, "1 per element without affine"),
    ("calflops-relu6-module", Activation(function="relu6"), Shape(3, (4, 4)), "calflops",
     0, "nn.ReLU6 calls F.hardtanh, not patched"),
    ("calflops-relu6-function", Activation(function="relu6", functional=True),
     Shape(3, (4, 4)), "calflops", 48, "F.relu6 is patched"),
    ("calflops-upsample", Upsample(scale_factor=2), Shape(3, (2, 2)), "calflops",
     12, "its scale-factor product is discarded: 1 per input"),
    ("calflops-dense-bias", Linear(out_features=5), Shape(4), "calflops",
     20, "2·20 MACs, bias not counted: 40 - paper's 20"),
    ("calflops-global-max", GlobalMaxPool(), Shape(3, (4, 4)), "calflops", 48, "per input"),
    ("ptflops-adaptive-max", AdaptiveMaxPool(output_size=2), Shape(3, (4, 4)), "ptflops",
     96, "module hook + functional, per input"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("layer", "shape", "profile", "extra", "hand_count"),
    [case[1:] for case in SINGLE],
    ids=[case[0] for case in SINGLE],
)
def test_single_layer_rules(
    layer: Layer, shape: Shape, profile: str, extra: int, hand_count: str
) -> None:
    cost = _single(layer, shape)
    assert count(cost, profile).total - count(cost, "paper").total == extra, hand_count


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        # ConvTranspose 2→3, k 2, stride 2 on 2×(2×2): weights 2·3·4 = 24; input positions
        # 4, output positions 16; the bias adds 3·16 = 48 outputs.
        ("paper", 24 * 4),
        ("ptflops-aten", 24 * 4 + 48),
        ("fvcore", 24 * 4),
        ("torchinfo", 24 * 16 + 48),
        ("thop", 24 * 16),
        ("torchprofile", 24 * 16),
    ],
    ids=["paper", "ptflops-aten", "fvcore", "torchinfo", "thop", "torchprofile"],
)
def test_transposed_convolution_positions(profile: str, expected: int) -> None:
    cost = _single(ConvTranspose(out_channels=3, kernel_size=2, stride=2), Shape(2, (2, 2)))
    assert count(cost, profile).total == expected


def test_additions_of_three_branches_count_twice() -> None:
    """Three branches joined by addition are two binary additions per element."""
    network = Network(
        input_shape=Shape(2, (3, 3)),
        layers=(Parallel(branches=((), (), (Conv(out_channels=2, kernel_size=1),)), merge="add"),),
    )
    adds = profile_from_mapping({"name": "adds", "rules": {"add": {"per": "output", "ops": 1}}})
    cost = network_cost(network)
    assert count(cost, adds).breakdown["add"] == 2 * 18


def test_separable_parts_each_count_their_bias() -> None:
    layer = DepthwiseSeparableConv(out_channels=5, kernel_size=3, padding=1, bias="both")
    cost = _single(layer, Shape(2, (4, 4)))
    # depthwise: 2 channels × 16 outputs; pointwise: 5 × 16.
    assert count(cost, "torchinfo").breakdown["conv_bias"] == 2 * 16 + 5 * 16


# --- generated networks and the laws ----------------------------------------------------


def _output(node: Node, shape: Shape) -> Shape:
    return network_cost(Network(input_shape=shape, layers=(node,))).output_shape


@st.composite
def _nodes(draw: st.DrawFn, shape: Shape) -> Node:
    """A layer or block that fits `shape`; transposed convolutions never crop ("same")."""
    c, sizes = shape.channels, shape.spatial
    small = max(sizes) <= 8
    kinds = ["conv", "depthwise", "separable", "bn", "act", "pool", "adaptive", "global",
             "dropout", "pad", "residual", "parallel"]  # fmt: skip
    if small:
        kinds += ["transposed", "upsample"]
    if len(sizes) >= 2:
        kinds.append("spatial")
    kind = draw(st.sampled_from(kinds))
    out = draw(st.integers(1, 4))
    bias = draw(st.booleans())
    kernel = draw(st.sampled_from([1, 3]))
    functional = draw(st.booleans())
    if kind == "conv":
        return Conv(out_channels=out, kernel_size=kernel, padding="same", bias=bias)
    if kind == "depthwise":
        return Conv(out_channels=c * out, kernel_size=3, padding="same", groups=c, bias=bias)
    if kind == "transposed":
        return ConvTranspose(
            out_channels=out, kernel_size=kernel, stride=draw(st.sampled_from([1, 2])),
            padding="same", bias=bias,
        )  # fmt: skip
    if kind in ("separable", "spatial"):
        family = DepthwiseSeparableConv if kind == "separable" else SpatiallySeparableConv
        convention = draw(st.sampled_from(BIAS_CONVENTIONS))
        return family(out_channels=out, kernel_size=3, padding="same", bias=convention)  # type: ignore[arg-type]
    if kind == "bn":
        return BatchNorm(affine=draw(st.booleans()))
    if kind == "act":
        return Activation(
            function=draw(st.sampled_from(sorted(ACTIVATIONS))), functional=functional
        )
    if kind == "pool":
        window = draw(st.integers(1, min(2, min(sizes))))
        if draw(st.booleans()):
            return MaxPool(kernel_size=window, functional=functional)
        return AvgPool(kernel_size=window, functional=functional)
    if kind == "adaptive":
        output_size = tuple(draw(st.integers(1, size)) for size in sizes)
        if draw(st.booleans()):
            return AdaptiveMaxPool(output_size=output_size, functional=functional)
        return AdaptiveAvgPool(output_size=output_size, functional=functional)
    if kind == "global":
        return GlobalMaxPool(keepdims=True) if draw(st.booleans()) else GlobalAvgPool(keepdims=True)
    if kind == "upsample":
        return Upsample(scale_factor=2)
    if kind == "dropout":
        return Dropout()
    if kind == "pad":
        return ZeroPad(padding=1)
    body = (Conv(out_channels=c, kernel_size=kernel, padding="same", bias=bias), BatchNorm())
    if kind == "residual":
        shortcut = (Conv(out_channels=c, kernel_size=1, bias=False),) if bias else ()
        return Residual(body=body, shortcut=shortcut)
    return Parallel(branches=(body, (), body), merge=draw(st.sampled_from(["add", "concat"])))


@st.composite
def networks(draw: st.DrawFn) -> Network:
    """Small networks of every layer type, 1 to 3 spatial axes, optionally a dense head."""
    ndim = draw(st.sampled_from([1, 2, 2, 3]))
    sizes = tuple(draw(st.integers(2, 6 if ndim < 3 else 4)) for _ in range(ndim))
    input_shape = Shape(draw(st.integers(1, 4)), sizes)
    shape = input_shape
    layers: list[Node] = []
    for _ in range(draw(st.integers(1, 6))):
        node = draw(_nodes(shape))
        layers.append(node)
        shape = _output(node, shape)
    if draw(st.booleans()):
        layers += [
            Flatten(),
            Linear(out_features=draw(st.integers(1, 5)), bias=draw(st.booleans())),
        ]
        if draw(st.booleans()):
            layers.append(Activation(function=draw(st.sampled_from(["relu", "softmax"]))))
    return Network(input_shape=input_shape, layers=tuple(layers))


ALL_PROFILES = tuple(PROFILES.values())


@given(networks())
def test_breakdown_and_rows_sum_to_the_total(network: Network) -> None:
    """Any generated network, every built-in profile: rows and breakdown add up."""
    cost = network_cost(network)
    for counted in compare_profiles(cost):
        assert len(counted.rows) == len(cost.rows)
        assert sum(counted.rows) == counted.total
        assert tuple(counted.breakdown) == OPERATION_TYPES
        assert sum(counted.breakdown.values()) == counted.total


@given(networks())
def test_paper_is_never_above_another_multiply_add_profile(network: Network) -> None:
    """Generated networks (their transposed convolutions pad "same", so never have fewer
    output positions than input ones: with cropping, thop and torchinfo count less)."""
    cost = network_cost(network)
    paper = count(cost, "paper").total
    assert paper == cost.totals.macs
    for profile in ALL_PROFILES:
        if profile.mac_factor == 1:
            assert count(cost, profile).total >= paper, profile.name


@given(networks())
def test_engine_laws(network: Network) -> None:
    """Any generated network: ptflops-aten is MACs plus the engine's bias additions; a
    FLOP profile doubles exactly the multiply-adds; differences are count minus paper."""
    cost = network_cost(network)
    assert count(cost, "ptflops-aten").total == cost.totals.macs + cost.totals.bias_adds
    paper = count(cost, "paper")
    flops = count(cost, "calflops")
    for operation in ("conv", "dense"):
        assert flops.breakdown[operation] == 2 * paper.breakdown[operation]
    for counted in compare_profiles(cost):
        for operation in OPERATION_TYPES:
            delta = counted.breakdown[operation] - paper.breakdown[operation]
            assert counted.differences.get(operation, 0) == delta


@given(networks())
def test_a_user_profile_equal_to_paper_counts_as_paper(network: Network) -> None:
    """Any generated network: an empty user profile (base paper) gives paper's numbers."""
    cost = network_cost(network)
    mine = count(cost, profile_from_mapping({"name": "mine"}))
    paper = count(cost, "paper")
    assert (mine.total, mine.rows, dict(mine.breakdown)) == (
        paper.total,
        paper.rows,
        dict(paper.breakdown),
    )
    assert mine.differences == {}


@given(networks(), st.sampled_from(ALL_PROFILES))
def test_profiles_round_trip_through_mappings(network: Network, profile: Profile) -> None:
    """Every built-in profile, renamed, survives to_mapping → from_mapping and counts the same."""
    data = {**profile_to_mapping(profile), "name": f"{profile.name}-copy"}
    copy = profile_from_mapping(data)
    assert copy == dataclasses.replace(profile, name=f"{profile.name}-copy")
    cost = network_cost(network)
    assert count(cost, copy).rows == count(cost, profile).rows


@given(
    networks(),
    st.sampled_from([key for key in RULE_KEYS if key not in ACTIVATION_FUNCTIONS]),
    st.sampled_from(UNITS),
    st.integers(1, 5),
)
def test_counts_are_linear_in_a_rule(network: Network, key: str, unit: str, ops: int) -> None:
    """Any generated network, any rule: k operations per unit count k times one."""

    def extra(n: int) -> int:
        profile = profile_from_mapping({"name": "k", "rules": {key: {"per": unit, "ops": n}}})
        return count(cost, profile).total - count(cost, "paper").total

    cost = network_cost(network)
    assert extra(ops) == ops * extra(1) >= 0


@given(networks(), st.integers(1, 4))
def test_mac_factor_scales_multiply_adds_only(network: Network, factor: int) -> None:
    """Any generated network: mac_factor k counts the base's multiply-adds k times and
    leaves its other rules alone (torchinfo: transposed convolutions on output positions)."""
    cost = network_cost(network)
    profile = profile_from_mapping({"name": "k", "base": "torchinfo", "mac_factor": factor})
    base = count(cost, "torchinfo")
    macs = base.breakdown["conv"] + base.breakdown["dense"]
    assert count(cost, profile).total == base.total + (factor - 1) * macs


@given(networks())
def test_functional_layers_fire_as_functions(network: Network) -> None:
    """Any generated network: a rule firing only as a module ignores functional layers,
    and module + function rules add up to the rule firing for both."""
    rule = {"per": "input", "ops": 1}

    def total(**firing: int) -> int:
        rules = {key: {**rule, **firing} for key in ("relu", "max_pool", "adaptive_avg_pool")}
        return count(cost, profile_from_mapping({"name": "f", "rules": rules})).total

    cost = network_cost(network)
    assert total(as_module=1, as_function=0) + total(as_module=0, as_function=1) == (
        total() + cost.totals.macs
    )


# --- profiles: names, rules, descriptions -----------------------------------------------


def test_profile_names() -> None:
    assert profile_names() == (
        "paper",
        "torchinfo",
        "ptflops-aten",
        "ptflops",
        "thop",
        "fvcore",
        "fvcore-train",
        "torchprofile",
        "calflops",
        "onnx-tool",
    )
    assert tuple(c.profile.name for c in compare_profiles(preset_cost("vgg16"))) == profile_names()


@pytest.mark.parametrize("profile", ALL_PROFILES, ids=profile_names())
def test_every_profile_names_its_peer_version(profile: Profile) -> None:
    if profile.name != "paper":
        assert re.search(r"\d+\.\d+", profile.peer), profile.peer
    assert "\n" not in profile.description
    assert set(profile.rules) == set(RULE_KEYS)
    assert rule_table(profile)[0][0] == "conv, dense multiply-adds"


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        (Rule(), "0"),
        (Rule.per("output", 2), "2 per output element"),
        (Rule.per("param"), "1 per parameter"),
        (Rule(per_input=1, per_output=1, as_function=0),
         "1 per output element + 1 per input element; modules only (a function call counts 0)"),
        (Rule(per_output=3, per_position=-1), "3 per output element − 1 per output position"),
        (Rule.per("input", as_module=2),
         "1 per input element; ×2 as a module, ×1 as a function call"),
        (Rule.per("input", as_module=0),
         "1 per input element; function calls only (a module counts 0)"),
        (Rule.per("input", spatial_ranks=(2,)), "1 per input element; on 2-D inputs only"),
        (Rule.per("channel", as_module=0, as_function=0), "0"),
    ],
    ids=["zero", "per-output", "per-param", "window", "softmax", "twice", "functions",
         "ranks", "never-fires"],
)  # fmt: skip
def test_describe_rule(rule: Rule, text: str) -> None:
    assert describe_rule(rule) == text


def test_an_activation_rule_covers_every_function_not_named() -> None:
    relu = Rule.per("output", 2)
    every = Rule.per("output")
    profile = Profile(name="p", description="d", rules={"activation": every, "relu": relu})
    assert profile.rule("relu") == relu
    assert all(profile.rule(f) == every for f in ACTIVATION_FUNCTIONS if f != "relu")
    mapped = profile_from_mapping(
        {"name": "m", "base": "ptflops", "rules": {"activation": {"per": "output", "ops": 1}}}
    )
    assert all(mapped.rule(f) == every for f in ACTIVATION_FUNCTIONS)


def test_results_are_read_only() -> None:
    counted = count(network_cost(worked_example()), "thop")
    with pytest.raises(TypeError):
        counted.breakdown["conv"] = 0  # type: ignore[index]
    with pytest.raises(TypeError):
        get_profile("thop").rules["relu"] = Rule()  # type: ignore[index]
    assert hash(counted) == hash(dataclasses.replace(counted))


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Paper", "flops", "", "fvcore_train"])
def test_unknown_profile_names_the_valid_ones(name: str) -> None:
    with pytest.raises(ConventionError) as error:
        get_profile(name)
    message = str(error.value)
    assert "\n" not in message
    assert repr(name) in message
    close = [valid for valid in profile_names() if f"'{valid}'" in message]
    assert ("did you mean" in message and close) or all(v in message for v in profile_names())
    assert isinstance(error.value, ConvCostError)


MALFORMED: list[tuple[str, object, tuple[str, ...]]] = [
    ("not-a-mapping", ["paper"], ("mapping",)),
    ("no-name", {"rules": {}}, ("name",)),
    ("built-in-name", {"name": "thop"}, ("built-in", "paper", "calflops")),
    ("unknown-key", {"name": "x", "rulez": {}}, ("'rulez'", "rules", "mac_factor")),
    ("unknown-base", {"name": "x", "base": "tf"}, ("'tf'", "paper", "torchprofile")),
    ("unhashable-base", {"name": "x", "base": ["paper"]}, ("base", "paper")),
    ("rules-not-mapping", {"name": "x", "rules": [1]}, ("rules", "mapping")),
    ("unknown-operation", {"name": "x", "rules": {"bn": {}}}, ("'bn'", "batch_norm", "relu6")),
    ("rule-not-mapping", {"name": "x", "rules": {"add": 1}}, ("rules.add", "per", "as_module")),
    ("unknown-rule-key", {"name": "x", "rules": {"add": {"each": 1}}},
     ("rules.add", "'each'", "per_output", "spatial_ranks")),
    ("unknown-unit", {"name": "x", "rules": {"add": {"per": "element", "ops": 1}}},
     ("rules.add.per", "'element'", "output", "position")),
    ("per-without-ops", {"name": "x", "rules": {"add": {"per": "output"}}}, ("per", "ops")),
    ("per-twice", {"name": "x", "rules": {"add": {"per": "output", "ops": 1, "per_output": 2}}},
     ("per_output",)),
    ("negative-ops", {"name": "x", "rules": {"add": {"per": "input", "ops": -1}}},
     ("rules.add", "per_input", "from 0 to 1,000,000")),
    ("huge-ops", {"name": "x", "rules": {"add": {"per": "input", "ops": 10**400}}},
     ("rules.add", "per_input", "an integer of 1,329 bits")),
    ("float-ops", {"name": "x", "rules": {"add": {"per": "input", "ops": 1.5}}},
     ("per_input", "1.5")),
    ("bool-ops", {"name": "x", "rules": {"add": {"per_output": True}}}, ("per_output", "True")),
    ("position-below-output", {"name": "x", "rules": {"add": {"per_position": -1}}},
     ("per_position", "from 0")),
    ("bad-ranks", {"name": "x", "rules": {"add": {"per_output": 1, "spatial_ranks": [4]}}},
     ("spatial_ranks", "0, 1, 2, 3")),
    ("bool-ranks", {"name": "x", "rules": {"add": {"per_output": 1, "spatial_ranks": [True]}}},
     ("spatial_ranks",)),
    ("mac-factor-zero", {"name": "x", "mac_factor": 0}, ("mac_factor", "from 1")),
    ("mac-factor-float", {"name": "x", "mac_factor": 2.0}, ("mac_factor", "2.0")),
    ("transposed", {"name": "x", "transposed_conv": "both"}, ("transposed_conv", "input, output")),
    ("description", {"name": "x", "description": "two\nlines"}, ("description",)),
    ("peer", {"name": "x", "peer": 3}, ("peer",)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("data", "fragments"), [case[1:] for case in MALFORMED], ids=[case[0] for case in MALFORMED]
)
def test_malformed_user_profiles_name_the_bad_key(data: object, fragments: tuple[str, ...]) -> None:
    with pytest.raises(ConventionError) as error:
        profile_from_mapping(data)
    message = str(error.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 6)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
_KEYS = st.sampled_from(["name", "base", "rules", "mac_factor", "transposed_conv", "peer"])
_RULE_WORDS = st.sampled_from(
    ["per", "ops", "per_output", "per_position", "as_module", "as_function", "spatial_ranks"]
)


@st.composite
def loose_profiles(draw: st.DrawFn) -> Any:
    """Mappings close to a valid profile, with any JSON value in any place."""
    rules = draw(
        st.dictionaries(
            st.sampled_from([*RULE_KEYS, "activation", "bn"]),
            st.dictionaries(_RULE_WORDS, _JSON | st.sampled_from(UNITS) | st.integers(-2, 3)),
            max_size=3,
        )
        | _JSON
    )
    data = draw(st.dictionaries(_KEYS, _JSON, max_size=4))
    return draw(st.sampled_from([{**data, "name": "u", "rules": rules}, data, rules]))


@given(loose_profiles())
def test_any_mapping_gives_a_profile_or_a_convention_error(data: Any) -> None:
    """Any JSON-like value: a valid profile, or a one-line ConventionError; nothing else."""
    try:
        profile = profile_from_mapping(data)
    except ConventionError as error:
        message = str(error)
    else:
        assert set(profile.rules) == set(RULE_KEYS)
        count(network_cost(worked_example()), profile)
        message = ""
    assert "\n" not in message


def test_count_rejects_what_is_not_a_profile() -> None:
    with pytest.raises(ConventionError, match="valid profiles: paper"):
        count(network_cost(worked_example()), "tensorflow")
    with pytest.raises(ConventionError, match="Profile or a profile name"):
        count(network_cost(worked_example()), 3)  # type: ignore[arg-type]


def test_a_count_whose_parts_do_not_add_up_is_refused() -> None:
    """An internal invariant of `count`: a bug (exit 1), never the user's input (exit 2)."""
    with pytest.raises(AssertionError, match="sum to 5"):
        ProfileCount(profile=get_profile("paper"), total=5, rows=(1,), breakdown={}, differences={})


# --- the docs -------------------------------------------------------------------------------


def _docs_table(heading: str) -> dict[str, int]:
    """``profile -> total`` from the first table under `heading` in docs/conventions.md."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split(heading, 1)[1]
    rows = re.findall(r"^\| `([a-z-]+)` \| ([\d,]+) \|", section.split("\n## ", 1)[0], re.M)
    return {name: int(total.replace(",", "")) for name, total in rows}


def test_docs_resnet18_table_is_the_count() -> None:
    table = _docs_table("## Why do tools disagree?")
    cost = preset_cost("resnet18")
    assert table == {name: count(cost, name).total for name in profile_names()}


def test_docs_worked_example_is_the_count() -> None:
    table = _docs_table("## Worked example")
    cost = network_cost(worked_example())
    assert table == {name: count(cost, name).total for name in profile_names()}


def test_docs_user_profile_example_is_valid() -> None:
    block = DOCS.read_text(encoding="utf-8").split("```json\n", 1)[1].split("```", 1)[0]
    profile = profile_from_mapping(json.loads(block))
    assert profile.rule("add") == Rule.per("output")
    assert profile.rule("dense_bias") == get_profile("ptflops-aten").rule("dense_bias")
