"""The preset zoo reproduces every published figure for its networks.

Each table row names its source (paper table, tool and version). Where a paper prints a
rounded figure, the exact count must round to it; where it does not, the row asserts the
exact count and its id and docstring say why the printed figure differs (docs/presets.md
has the same list). Counts: `params` are trainable parameters (weights, biases, batch-norm
γ/β), `non_trainable_params` batch-norm running statistics, `macs` the multiply-accumulates
of convolutions and dense layers, per image.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from math import prod
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcost.costs import LayerCost
from convcost.errors import ConvCostError, FieldError, LayerError
from convcost.layers import (
    Activation,
    AdaptiveAvgPool,
    BatchNorm,
    Conv,
    DepthwiseSeparableConv,
    Dropout,
    Flatten,
    GlobalAvgPool,
    Linear,
    MaxPool,
    ZeroPad,
)
from convcost.network import NetworkCost, compare, network_cost
from convcost.presets import (
    PRESETS,
    Preset,
    PresetError,
    PresetParameter,
    build_preset,
    get_preset,
    mobilenet_v1,
    mobilenet_v2,
)
from convcost.shapes import Shape

MILLION = 10**6


def cost_of(name: str, **parameters: Any) -> NetworkCost:
    return network_cost(build_preset(name, **parameters))


def rounds_to(count: int | Fraction, printed: str, unit: int = MILLION) -> bool:
    """Does `count`, in `unit`s, round (half to even) to the `printed` decimal figure?"""
    places = len(printed.partition(".")[2])
    return round(Fraction(count, unit), places) == Fraction(printed)


def weights(cost: NetworkCost) -> int:
    """Convolution and dense weights only, no bias, no batch norm: the papers' count."""
    return sum(
        prod(value for _, value in row.cost.weight_terms)
        for row in cost.rows
        if isinstance(row.cost.layer, (Conv, Linear))
    )


# --- the registry --------------------------------------------------------------------


def test_registry_lists_every_preset_under_its_own_name() -> None:
    assert list(PRESETS) == [
        "pyramid",
        "vgg-cifar",
        "mobilenet-v1",
        "mobilenet-v2",
        "resnet18",
        "resnet50",
        "vgg16",
        "xception",
        "unet",
    ]
    for name, preset in PRESETS.items():
        assert preset.name == name
        assert get_preset(name) is preset
        assert "." not in name  # a name with a file suffix means a file (load_network)


@pytest.mark.parametrize("preset", PRESETS.values(), ids=PRESETS)
def test_parameter_table_matches_the_builder_signature(preset: Preset) -> None:
    """What the CLI offers (name, default) is exactly what `build` accepts."""
    signature = inspect.signature(preset.build)
    assert {name: p.default for name, p in signature.parameters.items()} == preset.defaults
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in signature.parameters.values())


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param("mobilenet", "did you mean 'mobilenet-v1' or 'mobilenet-v2'?", id="two-close"),
        pytest.param("resnet", "did you mean 'resnet18' or 'resnet50'?", id="ties-alphabetical"),
        pytest.param("xceptoin", "did you mean 'xception'?", id="typo"),
        pytest.param("vgg", "did you mean 'vgg-cifar' or 'vgg16'?", id="prefix"),
        pytest.param("yolo", "(presets: pyramid, vgg-cifar, mobilenet-v1", id="nothing-close"),
    ],
)
def test_unknown_preset_names_the_closest(name: str, message: str) -> None:
    with pytest.raises(PresetError, match=f"unknown preset '{name}'") as error:
        get_preset(name)
    assert message in str(error.value)
    assert isinstance(error.value, ConvCostError)


@pytest.mark.parametrize(
    ("name", "parameters", "error", "message"),
    [
        pytest.param(
            "mobilenet-v1",
            {"widht": 0.5},
            PresetError,
            "preset 'mobilenet-v1' has no parameter 'widht'; did you mean 'width'?",
            id="unknown-parameter",
        ),
        pytest.param(
            "resnet18",
            {"width": 0.5},
            PresetError,
            "has no parameter 'width' (its parameters: resolution, classes)",
            id="parameter-of-another-family",
        ),
        pytest.param(
            "mobilenet-v1", {"width": 0}, FieldError, "width must be a positive number", id="zero"
        ),
        pytest.param("mobilenet-v1", {"width": "0.5"}, FieldError, "got '0.5'", id="width-as-text"),
        pytest.param(
            "mobilenet-v1", {"width": float("inf")}, FieldError, "positive number", id="inf"
        ),
        pytest.param(
            "mobilenet-v1", {"width": 0.03}, FieldError, "at least 1/32", id="width-no-channels"
        ),
        pytest.param(
            "mobilenet-v2", {"width": True}, FieldError, "got True", id="bool-is-not-a-width"
        ),
        pytest.param(
            "vgg16",
            {"resolution": 31},
            FieldError,
            "resolution must be an integer >= 32",
            id="small",
        ),
        pytest.param(
            "xception", {"resolution": 70}, FieldError, "an integer >= 71", id="keras-minimum"
        ),
        pytest.param("resnet50", {"classes": 0}, FieldError, "classes must be", id="no-classes"),
        pytest.param("resnet50", {"classes": 2.0}, FieldError, "got 2.0", id="float-classes"),
        pytest.param(
            "vgg-cifar",
            {"separable": "yes"},
            FieldError,
            "separable must be True or False",
            id="flag",
        ),
        pytest.param(
            "mobilenet-v1",
            {"style": "tf"},
            FieldError,
            "style must be one of 'paper', 'keras', got 'tf'",
            id="choice",
        ),
        pytest.param(
            "mobilenet-v1",
            {"regular": True, "depth_multiplier": 2},
            PresetError,
            "a regular network has none",
            id="regular-with-depth-multiplier",
        ),
    ],
)
def test_bad_parameters_are_named(
    name: str, parameters: dict[str, object], error: type[ConvCostError], message: str
) -> None:
    with pytest.raises(error) as raised:
        build_preset(name, **parameters)
    assert message in str(raised.value)


def test_the_builders_check_their_own_arguments() -> None:
    """Calling a builder directly validates as `build_preset` does."""
    with pytest.raises(FieldError, match="resolution"):
        mobilenet_v2(resolution=0)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"name": "with-dash", "kind": "int", "default": 1}, "name", id="name"),
        pytest.param({"name": "n", "kind": "list", "default": 1}, "kind", id="kind"),
        pytest.param({"name": "n", "kind": "int", "default": 0}, "n", id="default-out-of-range"),
        pytest.param({"name": "n", "kind": "choice", "default": "a"}, "choices", id="no-choices"),
        pytest.param(
            {"name": "n", "kind": "int", "default": 1, "choices": ("a",)},
            "choices",
            id="choices-of-an-int",
        ),
        pytest.param({"name": "n", "kind": "int", "default": 1, "help": ""}, "help", id="help"),
        pytest.param({"name": "n", "kind": "number", "default": 0.0}, "n", id="zero-number"),
        pytest.param({"name": "n", "kind": "resolution", "default": (1, 2, 3)}, "n", id="3-d"),
    ],
)
def test_preset_parameters_are_valid_from_birth(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(FieldError) as error:
        PresetParameter(**{"help": "h", **fields})
    assert error.value.field == field


def test_presets_are_valid_from_birth() -> None:
    build = PRESETS["resnet18"].build
    with pytest.raises(FieldError, match="description"):
        Preset(name="x", description="", source="s", build=build)
    twice = PRESETS["resnet18"].parameters[:1] * 2
    with pytest.raises(FieldError, match="distinct names"):
        Preset(name="x", description="d", source="s", build=build, parameters=twice)


@pytest.mark.parametrize(
    ("name", "parameters", "title"),
    [
        pytest.param("resnet18", {}, "resnet18", id="defaults"),
        pytest.param(
            "mobilenet-v1",
            {"width": 0.5, "resolution": 160},
            "mobilenet-v1 (width=0.5, resolution=160)",
            id="changed",
        ),
        pytest.param("vgg-cifar", {"separable": False}, "vgg-cifar", id="default-given"),
    ],
)
def test_network_name_shows_changed_parameters(
    name: str, parameters: dict[str, object], title: str
) -> None:
    assert build_preset(name, **parameters).name == title


@pytest.mark.parametrize(
    ("name", "groups"),
    [
        pytest.param("vgg-cifar", ["block1", "block2", "block3", None], id="vgg-cifar"),
        pytest.param(
            "mobilenet-v1",
            ["conv1", *(f"block{i}" for i in range(1, 14)), "classifier"],
            id="mobilenet-v1",
        ),
        pytest.param(
            "mobilenet-v2", [*(f"features.{i}" for i in range(19)), None], id="mobilenet-v2"
        ),
        pytest.param("resnet18", [None, "layer1", "layer2", "layer3", "layer4"], id="r18"),
        pytest.param("vgg16", [None], id="vgg16"),
        pytest.param("xception", [*(f"block{i}" for i in range(1, 15)), None], id="xception"),
        pytest.param("pyramid", ["stage1", "stage2", "stage3", "stage4"], id="pyramid"),
        pytest.param(
            "unet", ["inc", *(f"down{i}" for i in range(1, 5)), *(f"up{i}" for i in range(1, 5)),
                     "outc"], id="unet",
        ),
    ],
)  # fmt: skip
def test_stages_group_the_rows(name: str, groups: list[str | None]) -> None:
    """Stages are the reference's own blocks (None: rows outside any), and every row has
    a unique name."""
    cost = cost_of(name)
    assert list(cost.groups()) == groups
    assert len({row.name for row in cost.rows}) == len(cost.rows)


# --- seed 000: the VGG-block CIFAR-10 model ------------------------------------------

# Seed 000's two Keras model.summary() tables, one row per Keras layer: output shape
# (channels last) and "Param #". Keras folds the ReLU into Conv2D; convcost lists it apart.
SEED_000_SUMMARIES = {
    False: [
        ((32, 32, 64), 1792),
        ((32, 32, 64), 36928),
        ((16, 16, 64), 0),
        ((16, 16, 128), 73856),
        ((16, 16, 128), 147584),
        ((8, 8, 128), 0),
        ((8, 8, 256), 295168),
        ((8, 8, 256), 590080),
        ((4, 4, 256), 0),
        ((4096,), 0),
        ((10,), 40970),
    ],
    True: [
        ((32, 32, 64), 283),
        ((32, 32, 64), 4736),
        ((16, 16, 64), 0),
        ((16, 16, 128), 8896),
        ((16, 16, 128), 17664),
        ((8, 8, 128), 0),
        ((8, 8, 256), 34176),
        ((8, 8, 256), 68096),
        ((4, 4, 256), 0),
        ((4096,), 0),
        ((10,), 40970),
    ],
}


SEED_000_NAMES = [
    "conv2d", "conv2d_1", "max_pooling2d", "conv2d_2", "conv2d_3", "max_pooling2d_1",
    "conv2d_4", "conv2d_5", "max_pooling2d_2", "flatten", "dense",
]  # fmt: skip


@pytest.mark.parametrize(
    ("separable", "total"),
    [
        pytest.param(False, 1_186_378, id="seed000-conv2d-total-1186378"),
        pytest.param(True, 174_821, id="seed000-separableconv2d-total-174821"),
    ],
)
def test_vgg_cifar_matches_both_keras_summaries(separable: bool, total: int) -> None:
    """Seed 000's Keras summaries, row by row: output shapes and parameter counts."""
    cost = cost_of("vgg-cifar", separable=separable)
    assert cost.totals.params == total
    assert cost.totals.non_trainable_params == 0
    rows = [(row.cost.output_shape.channels_last(), row.cost.params) for row in cost.rows]
    assert rows == SEED_000_SUMMARIES[separable]
    if not separable:  # Keras's own names: its summary is matched row by row
        assert [row.name for row in cost.rows] == SEED_000_NAMES


# --- MobileNet v1: the paper ---------------------------------------------------------


@dataclass(frozen=True)
class Printed:
    """A figure printed in a table: the exact count must round to it (in millions)."""

    parameters: dict[str, Any]
    macs: str | None
    params: str | None


# Howard et al. 2017 (arXiv:1704.04861). The paper counts the weights of convolutions
# and the fully connected layer (no batch norm, no bias): Table 2 shows it (see below).
PAPER_AGREES = {
    "table4-mobilenet": Printed({}, "569", "4.2"),
    "table4-conv-mobilenet-params": Printed({"regular": True}, None, "29.3"),
    "table5-0.75-mobilenet": Printed({"width": 0.75}, "325", "2.6"),
    "table5-shallow-mobilenet": Printed({"shallow": True}, "307", "2.9"),
    "table6-1.0": Printed({"width": 1.0}, "569", "4.2"),
    "table6-0.75": Printed({"width": 0.75}, "325", "2.6"),
    "table6-0.5": Printed({"width": 0.5}, "149", "1.3"),
    "table6-0.25": Printed({"width": 0.25}, "41", "0.5"),
    "table7-224": Printed({"resolution": 224}, "569", "4.2"),
    "table7-192": Printed({"resolution": 192}, "418", "4.2"),
    "table7-160-params": Printed({"resolution": 160}, None, "4.2"),
    "table7-128": Printed({"resolution": 128}, "186", "4.2"),
    "table8-mobilenet-224": Printed({}, "569", "4.2"),
    "table9-0.50-mobilenet-160-params": Printed({"width": 0.5, "resolution": 160}, None, "1.32"),
    "table10-dogs-1.0-224-params": Printed({"classes": 120}, None, "3.3"),
    "table10-dogs-0.75-224": Printed({"width": 0.75, "classes": 120}, "325", "1.9"),
    "table10-dogs-1.0-192-params": Printed({"resolution": 192, "classes": 120}, None, "3.3"),
    "table10-dogs-0.75-192": Printed(
        {"width": 0.75, "resolution": 192, "classes": 120}, "239", "1.9"
    ),
}


@pytest.mark.parametrize("printed", PAPER_AGREES.values(), ids=PAPER_AGREES)
@pytest.mark.parametrize("style", ["paper", "keras"])
def test_mobilenet_v1_paper_figures(printed: Printed, style: str) -> None:
    """Tables 4-10 of the paper: exact mult-adds and weights round to the printed M."""
    cost = cost_of("mobilenet-v1", style=style, **printed.parameters)
    if printed.macs is not None:
        assert rounds_to(cost.totals.macs, printed.macs)
    if printed.params is not None:
        assert rounds_to(weights(cost), printed.params)


@dataclass(frozen=True)
class Discrepancy:
    """A printed figure that exact counting does not give, with the exact count."""

    parameters: dict[str, Any]
    metric: str
    printed: str
    exact: int


# Each of these is explained in docs/presets.md ("MobileNet v1: where the paper differs").
PAPER_DIFFERS = {
    # Conv MobileNet: 4,867,293,184 rounds to 4867. The printed 4866 is the count without
    # the fully connected layer's 1,024,000 mult-adds (4,866,269,184); the depthwise
    # separable MobileNet's 569 includes them.
    "table4-conv-mobilenet-4866-is-without-fc": Discrepancy(
        {"regular": True}, "macs", "4866", 4_867_293_184
    ),
    # Every layer at 160 is exactly 5/7 the size it is at 224, so the convolutions cost
    # (5/7)^2 of 567,716,352 = 289,651,200 and the FC adds 1,024,000: 290,675,200 (TF-slim's
    # table prints 291). The printed 290 is (5/7)^2 x 569 M = 290.3 M: the resolution
    # multiplier applied to the FC as well, which does not depend on resolution.
    "table7-160-290-scales-the-fc": Discrepancy({"resolution": 160}, "macs", "290", 290_675_200),
    # The same (5/7)^2 scaling of the 224 figure: 149,497,088 x 25/49 = 76.27 M; exact 76.52 M.
    "table9-0.50-160-76-scales-the-fc": Discrepancy(
        {"width": 0.5, "resolution": 160}, "macs", "76", 76_524_800
    ),
    # Stanford Dogs has 120 classes (the 3.3 M parameters need a 120-class FC), but the
    # mult-adds column repeats the 1000-class models' 569 and 418.
    "table10-dogs-1.0-224-569-is-1000-class": Discrepancy(
        {"classes": 120}, "macs", "569", 567_839_232
    ),
    "table10-dogs-1.0-192-418-is-1000-class": Discrepancy(
        {"resolution": 192, "classes": 120}, "macs", "418", 417_220_608
    ),
}


@pytest.mark.parametrize("case", PAPER_DIFFERS.values(), ids=PAPER_DIFFERS)
def test_mobilenet_v1_paper_misprints(case: Discrepancy) -> None:
    """Printed figures exact counting does not reproduce: convcost keeps the exact count."""
    cost = cost_of("mobilenet-v1", **case.parameters)
    assert getattr(cost.totals, case.metric) == case.exact
    assert not rounds_to(case.exact, case.printed)


def test_mobilenet_v1_paper_misprint_explanations() -> None:
    """The arithmetic behind each explanation above, on exact numbers."""
    fc = 1024 * 1000
    assert rounds_to(4_867_293_184 - fc, "4866")
    full = cost_of("mobilenet-v1").totals.macs
    assert rounds_to(full * Fraction(160, 224) ** 2, "290")
    assert (full - fc) * Fraction(160, 224) ** 2 + fc == 290_675_200
    half = cost_of("mobilenet-v1", width=0.5).totals.macs
    assert rounds_to(half * Fraction(160, 224) ** 2, "76")
    assert rounds_to(cost_of("mobilenet-v1", resolution=192).totals.macs, "418")


# Table 2, "Resource per layer type", of 1.0 MobileNet-224, in per cent.
TABLE_2 = [
    pytest.param((Conv,), "pointwise", "94.86", "74.59", id="conv-1x1"),
    pytest.param((Conv,), "depthwise", "3.06", "1.06", id="conv-dw-3x3"),
    pytest.param((Conv,), "regular", None, "0.02", id="conv-3x3"),
    pytest.param((Linear,), "dense", "0.18", "24.33", id="fully-connected"),
]


def _share_by_kind(cost: NetworkCost, kind: str) -> tuple[Fraction, Fraction]:
    def in_kind(cost_: LayerCost) -> bool:
        return cost_.kind == kind

    layers = [row.cost for row in cost.rows if isinstance(row.cost.layer, (Conv, Linear))]
    macs = sum(layer.macs for layer in layers if in_kind(layer))
    kept = sum(prod(v for _, v in layer.weight_terms) for layer in layers if in_kind(layer))
    return Fraction(100 * macs, cost.totals.macs), Fraction(100 * kept, weights(cost))


@pytest.mark.parametrize(("types", "kind", "macs", "params"), TABLE_2)
def test_mobilenet_v1_table2_shares(
    types: tuple[type, ...], kind: str, macs: str | None, params: str
) -> None:
    """Table 2: each layer type's share of mult-adds and of conv + FC weights.

    The parameter shares match only without biases and batch norm (with the FC bias the
    FC holds 24.35 %, not 24.33 %), which is how the paper counts parameters throughout.
    """
    cost = cost_of("mobilenet-v1")
    macs_share, params_share = _share_by_kind(cost, kind)
    if macs is not None:
        assert round(macs_share, 2) == Fraction(macs)
    assert round(params_share, 2) == Fraction(params)
    assert all(isinstance(row.cost.layer, types) for row in cost.rows if row.cost.kind == kind)


def test_mobilenet_v1_table2_conv3x3_misprint() -> None:
    """Table 2 prints 1.19 % of mult-adds for the first 3×3 convolution: it is 1.91 %.

    10,838,016 of 568,740,352 mult-adds (864 weights at 112×112). With 1.19 the printed
    column sums to 99.29 %; with 1.91 to 100.01 %. The digits are transposed.
    """
    cost = cost_of("mobilenet-v1")
    macs_share, _ = _share_by_kind(cost, "regular")
    assert macs_share == Fraction(100 * 10_838_016, 568_740_352)
    assert round(macs_share, 2) == Fraction("1.91")
    printed = [Fraction(share) for share in ("94.86", "3.06", "1.19", "0.18")]
    assert sum(printed) == Fraction("99.29")


def test_mobilenet_v1_params_with_bias_and_batch_norm() -> None:
    """convcost's `params` adds BN γ/β (2 per channel) and the FC bias to the paper's weights.

    1.0 MobileNet-224: 4,209,088 weights + 21,888 + 1,000 = 4,231,976 (Keras's trainable
    count). At Table 9's two decimals this moves 0.50 MobileNet-160 from 1.32 to 1.33 M.
    """
    cost = cost_of("mobilenet-v1")
    assert weights(cost) == 4_209_088
    assert cost.totals.params == 4_209_088 + 21_888 + 1_000 == 4_231_976
    half = cost_of("mobilenet-v1", width=0.5, resolution=160)
    assert (weights(half), half.totals.params) == (1_319_648, 1_331_592)
    assert rounds_to(weights(half), "1.32")
    assert rounds_to(half.totals.params, "1.33")


# Table 3: one internal layer, D_K = 3, M = N = 512, D_F = 14 (block 7), cumulative rows.
TABLE_3 = [
    pytest.param({"regular": True}, "462", "2.36", id="convolution"),
    pytest.param({}, "52.3", "0.27", id="depthwise-separable"),
    pytest.param({"width": 0.75}, "29.6", "0.15", id="alpha-0.75"),
    pytest.param({"width": 0.75, "resolution": 160}, "15.1", "0.15", id="rho-0.714"),
]


@pytest.mark.parametrize(("parameters", "macs", "params"), TABLE_3)
def test_mobilenet_v1_table3_one_layer(parameters: dict[str, Any], macs: str, params: str) -> None:
    """Table 3 is block 7 of the network (ρ = 0.714 is resolution 160: 14 → 10)."""
    cost = cost_of("mobilenet-v1", **parameters)
    block = [row.cost for row in cost.rows if row.group == "block7"]
    assert rounds_to(sum(layer.macs for layer in block), macs)
    kept = sum(prod(v for _, v in layer.weight_terms) for layer in block)
    assert rounds_to(kept, params)


def test_mobilenet_v1_shallow_removes_five_layers() -> None:
    """Table 5's shallow network is the full one less five copies of block 7 (exact)."""
    full = cost_of("mobilenet-v1")
    block7 = [row.cost for row in full.rows if row.group == "block7"]
    shallow = cost_of("mobilenet-v1", shallow=True).totals
    assert shallow.macs == full.totals.macs - 5 * sum(layer.macs for layer in block7)
    assert shallow.params == full.totals.params - 5 * sum(layer.params for layer in block7)
    blocks = [g for g in cost_of("mobilenet-v1", shallow=True).groups() if g and g[:5] == "block"]
    assert blocks == [f"block{i}" for i in (1, 2, 3, 4, 5, 6, 12, 13)]


# --- MobileNet v1: Keras -------------------------------------------------------------

# Keras 3.15.1 `keras.applications.MobileNet(weights=None, ...)`, `model.summary()` totals
# (measured with the torch backend; the α = 1 row is also Keras's documented count).
KERAS_MOBILENET = [
    pytest.param({}, 4_253_864, 4_231_976, 21_888, id="keras-alpha-1.0-224"),
    pytest.param({"width": 0.75}, 2_601_976, 2_585_560, 16_416, id="keras-alpha-0.75"),
    pytest.param({"width": 0.5}, 1_342_536, 1_331_592, 10_944, id="keras-alpha-0.5"),
    pytest.param({"width": 0.25}, 475_544, 470_072, 5_472, id="keras-alpha-0.25"),
    pytest.param({"resolution": 128}, 4_253_864, 4_231_976, 21_888, id="keras-alpha-1.0-128"),
    pytest.param(
        {"width": 0.5, "depth_multiplier": 2, "resolution": 160, "classes": 10},
        1_651_802,
        None,
        None,
        id="keras-alpha-0.5-depth-multiplier-2-160-10-classes",
    ),
]


@pytest.mark.parametrize(("parameters", "total", "trainable", "frozen"), KERAS_MOBILENET)
def test_mobilenet_v1_keras_totals(
    parameters: dict[str, Any], total: int, trainable: int | None, frozen: int | None
) -> None:
    totals = cost_of("mobilenet-v1", style="keras", **parameters).totals
    assert totals.total_params == total
    if trainable is not None:
        assert (totals.params, totals.non_trainable_params) == (trainable, frozen)


# Keras 3.15.1 MobileNet(alpha=1.0, 224×224×3, weights=None).summary(): every layer after
# the input: name, type, output shape (channels last), "Param #" (BN counts 4 per channel).
KERAS_MOBILENET_SUMMARY = """
conv1 Conv2D 112x112x32 864
conv1_bn BatchNormalization 112x112x32 128
conv1_relu ReLU 112x112x32 0
conv_dw_1 DepthwiseConv2D 112x112x32 288
conv_dw_1_bn BatchNormalization 112x112x32 128
conv_dw_1_relu ReLU 112x112x32 0
conv_pw_1 Conv2D 112x112x64 2048
conv_pw_1_bn BatchNormalization 112x112x64 256
conv_pw_1_relu ReLU 112x112x64 0
conv_pad_2 ZeroPadding2D 113x113x64 0
conv_dw_2 DepthwiseConv2D 56x56x64 576
conv_dw_2_bn BatchNormalization 56x56x64 256
conv_dw_2_relu ReLU 56x56x64 0
conv_pw_2 Conv2D 56x56x128 8192
conv_pw_2_bn BatchNormalization 56x56x128 512
conv_pw_2_relu ReLU 56x56x128 0
conv_dw_3 DepthwiseConv2D 56x56x128 1152
conv_dw_3_bn BatchNormalization 56x56x128 512
conv_dw_3_relu ReLU 56x56x128 0
conv_pw_3 Conv2D 56x56x128 16384
conv_pw_3_bn BatchNormalization 56x56x128 512
conv_pw_3_relu ReLU 56x56x128 0
conv_pad_4 ZeroPadding2D 57x57x128 0
conv_dw_4 DepthwiseConv2D 28x28x128 1152
conv_dw_4_bn BatchNormalization 28x28x128 512
conv_dw_4_relu ReLU 28x28x128 0
conv_pw_4 Conv2D 28x28x256 32768
conv_pw_4_bn BatchNormalization 28x28x256 1024
conv_pw_4_relu ReLU 28x28x256 0
conv_dw_5 DepthwiseConv2D 28x28x256 2304
conv_dw_5_bn BatchNormalization 28x28x256 1024
conv_dw_5_relu ReLU 28x28x256 0
conv_pw_5 Conv2D 28x28x256 65536
conv_pw_5_bn BatchNormalization 28x28x256 1024
conv_pw_5_relu ReLU 28x28x256 0
conv_pad_6 ZeroPadding2D 29x29x256 0
conv_dw_6 DepthwiseConv2D 14x14x256 2304
conv_dw_6_bn BatchNormalization 14x14x256 1024
conv_dw_6_relu ReLU 14x14x256 0
conv_pw_6 Conv2D 14x14x512 131072
conv_pw_6_bn BatchNormalization 14x14x512 2048
conv_pw_6_relu ReLU 14x14x512 0
conv_dw_7 DepthwiseConv2D 14x14x512 4608
conv_dw_7_bn BatchNormalization 14x14x512 2048
conv_dw_7_relu ReLU 14x14x512 0
conv_pw_7 Conv2D 14x14x512 262144
conv_pw_7_bn BatchNormalization 14x14x512 2048
conv_pw_7_relu ReLU 14x14x512 0
conv_dw_8 DepthwiseConv2D 14x14x512 4608
conv_dw_8_bn BatchNormalization 14x14x512 2048
conv_dw_8_relu ReLU 14x14x512 0
conv_pw_8 Conv2D 14x14x512 262144
conv_pw_8_bn BatchNormalization 14x14x512 2048
conv_pw_8_relu ReLU 14x14x512 0
conv_dw_9 DepthwiseConv2D 14x14x512 4608
conv_dw_9_bn BatchNormalization 14x14x512 2048
conv_dw_9_relu ReLU 14x14x512 0
conv_pw_9 Conv2D 14x14x512 262144
conv_pw_9_bn BatchNormalization 14x14x512 2048
conv_pw_9_relu ReLU 14x14x512 0
conv_dw_10 DepthwiseConv2D 14x14x512 4608
conv_dw_10_bn BatchNormalization 14x14x512 2048
conv_dw_10_relu ReLU 14x14x512 0
conv_pw_10 Conv2D 14x14x512 262144
conv_pw_10_bn BatchNormalization 14x14x512 2048
conv_pw_10_relu ReLU 14x14x512 0
conv_dw_11 DepthwiseConv2D 14x14x512 4608
conv_dw_11_bn BatchNormalization 14x14x512 2048
conv_dw_11_relu ReLU 14x14x512 0
conv_pw_11 Conv2D 14x14x512 262144
conv_pw_11_bn BatchNormalization 14x14x512 2048
conv_pw_11_relu ReLU 14x14x512 0
conv_pad_12 ZeroPadding2D 15x15x512 0
conv_dw_12 DepthwiseConv2D 7x7x512 4608
conv_dw_12_bn BatchNormalization 7x7x512 2048
conv_dw_12_relu ReLU 7x7x512 0
conv_pw_12 Conv2D 7x7x1024 524288
conv_pw_12_bn BatchNormalization 7x7x1024 4096
conv_pw_12_relu ReLU 7x7x1024 0
conv_dw_13 DepthwiseConv2D 7x7x1024 9216
conv_dw_13_bn BatchNormalization 7x7x1024 4096
conv_dw_13_relu ReLU 7x7x1024 0
conv_pw_13 Conv2D 7x7x1024 1048576
conv_pw_13_bn BatchNormalization 7x7x1024 4096
conv_pw_13_relu ReLU 7x7x1024 0
global_average_pooling2d GlobalAveragePooling2D 1x1x1024 0
dropout Dropout 1x1x1024 0
conv_preds Conv2D 1x1x1000 1025000
reshape_2 Reshape 1000 0
predictions Activation 1000 0
"""

KERAS_TYPES: dict[str, type] = {
    "Conv2D": Conv,
    "DepthwiseConv2D": Conv,
    "BatchNormalization": BatchNorm,
    "ReLU": Activation,
    "Activation": Activation,
    "ZeroPadding2D": ZeroPad,
    "GlobalAveragePooling2D": GlobalAvgPool,
    "Dropout": Dropout,
    "Reshape": Flatten,
}


def test_mobilenet_v1_keras_summary_row_by_row() -> None:
    """Keras's own summary: same layers, names, output shapes and counts, in order."""
    expected = [line.split() for line in KERAS_MOBILENET_SUMMARY.split("\n") if line]
    cost = cost_of("mobilenet-v1", style="keras")
    assert len(cost.rows) == len(expected) == 90
    for row, (name, keras_type, shape, count) in zip(cost.rows, expected):
        assert row.name == name
        assert isinstance(row.cost.layer, KERAS_TYPES[keras_type])
        assert "x".join(map(str, row.cost.output_shape.channels_last())) == shape
        assert row.cost.total_params == int(count)


@pytest.mark.parametrize("width", [0.25, 0.5, 0.75, 1.0])
@pytest.mark.parametrize("resolution", [128, 160, 192, 224])
@pytest.mark.parametrize("regular", [False, True])
@pytest.mark.parametrize("shallow", [False, True])
def test_mobilenet_v1_styles_count_the_same(
    width: float, resolution: int, regular: bool, shallow: bool
) -> None:
    """Paper and Keras structures differ (padding layers, ReLU6, the head) but not in counts.

    Domain: Tables 6-7's widths and resolutions, with and without the variants.
    """
    variant = {"width": width, "resolution": resolution, "regular": regular, "shallow": shallow}
    paper = cost_of("mobilenet-v1", style="paper", **variant).totals
    keras = cost_of("mobilenet-v1", style="keras", **variant).totals
    assert paper == keras


@given(width=st.sampled_from([0.25, 0.5, 0.75, 1.0]), resolution=st.sampled_from([128, 160, 192]))
def test_mobilenet_v1_resolution_multiplier(width: float, resolution: int) -> None:
    """Eq. 7: resolution scales every convolution's mult-adds by ρ² exactly; not the FC.

    Domain: resolutions that are multiples of 32, where every feature map scales by ρ.
    Parameters do not depend on resolution.
    """
    base = cost_of("mobilenet-v1", width=width)
    scaled = cost_of("mobilenet-v1", width=width, resolution=resolution)
    fc = sum(row.cost.macs for row in base.rows if isinstance(row.cost.layer, Linear))
    rho = Fraction(resolution, 224)
    assert scaled.totals.macs == (base.totals.macs - fc) * rho**2 + fc
    assert scaled.totals.params == base.totals.params


@given(width=st.sampled_from([0.25, 0.5, 0.75, 1.0]), style=st.sampled_from(["paper", "keras"]))
def test_mobilenet_v1_separable_over_regular_per_block(width: float, style: str) -> None:
    """Section 3.1: a depthwise separable layer costs 1/N + 1/D_K² of the full convolution.

    Domain: the 13 blocks of every width, both styles; N is the block's output channels.
    """
    separable = cost_of("mobilenet-v1", width=width, style=style)
    regular = cost_of("mobilenet-v1", width=width, style=style, regular=True)
    for block in range(1, 14):
        group = f"block{block}"
        sep = [row.cost for row in separable.rows if row.group == group and row.cost.macs]
        full = [row.cost for row in regular.rows if row.group == group and row.cost.macs]
        n = full[0].output_shape.channels
        ratio = Fraction(sum(c.macs for c in sep), sum(c.macs for c in full))
        assert ratio == Fraction(1, n) + Fraction(1, 9)


# --- torchvision ---------------------------------------------------------------------

# torch 2.14.1 / torchvision 0.29.1, `getattr(torchvision.models, name)(weights=None)`,
# eval, one 3×224×224 image: sum(p.numel() for p in parameters()), the BN running
# mean + variance buffers, and FlopCounterMode's total / 2 (convolution + addmm, no bias).
TORCHVISION = [
    pytest.param("resnet18", 11_689_512, 9_600, 1_814_073_344, id="resnet18"),
    pytest.param("resnet50", 25_557_032, 53_120, 4_089_184_256, id="resnet50"),
    pytest.param("vgg16", 138_357_544, 0, 15_470_264_320, id="vgg16"),
    pytest.param("mobilenet-v2", 3_504_872, 34_112, 300_774_272, id="mobilenet_v2"),
]


@pytest.mark.parametrize(("name", "params", "buffers", "macs"), TORCHVISION)
def test_torchvision_totals(name: str, params: int, buffers: int, macs: int) -> None:
    totals = cost_of(name).totals
    assert (totals.params, totals.non_trainable_params, totals.macs) == (params, buffers, macs)


# The same, measured the same way: `wide_resnet50_2()` on 3×224×224, and
# `resnet50(width_per_group=96)` on 3×160×200.
@pytest.mark.parametrize(
    ("parameters", "params", "buffers", "macs"),
    [
        pytest.param({"width": 2}, 68_883_240, 68_224, 11_398_021_120, id="wide_resnet50_2"),
        pytest.param({"width": 1.5, "resolution": (160, 200)}, 44_390_824, 60_672,
                     4_809_420_800, id="width_per_group-96"),
    ],
)  # fmt: skip
def test_resnet50_width_is_torchvisions_width_per_group(
    parameters: dict[str, Any], params: int, buffers: int, macs: int
) -> None:
    totals = network_cost(build_preset("resnet50", **parameters)).totals
    assert (totals.params, totals.non_trainable_params, totals.macs) == (params, buffers, macs)


@dataclass(frozen=True)
class Structure:
    """Per-type call counts and element counts of a torchvision forward pass."""

    convs: int
    conv_out: int
    conv_macs: int
    conv_bias_adds: int
    grouped_convs: int
    grouped_macs: int
    linears: int
    linear_macs: int
    linear_bias_adds: int
    norms: int
    norm_out: int
    relus: int
    relu_out: int
    relu6s: int
    relu6_out: int
    maxpool_in: int
    avgpool_in: int
    avgpool_out: int
    dropouts: int
    adds: int
    add_out: int


# The same measurement: forward hooks on every module call, plus the functional calls
# (mobilenet_v2's adaptive_avg_pool2d and its residual `+`, ResNet's `out += identity`).
TORCHVISION_STRUCTURE = {
    "resnet18": Structure(
        20, 2_483_712, 1_813_561_344, 0, 0, 0, 1, 512_000, 1_000, 20, 2_483_712,
        17, 2_308_096, 0, 0, 802_816, 25_088, 512, 0, 8, 752_640,
    ),
    "resnet50": Structure(
        53, 11_113_984, 4_087_136_256, 0, 0, 0, 1, 2_048_000, 1_000, 53, 11_113_984,
        49, 9_608_704, 0, 0, 802_816, 100_352, 2_048, 0, 16, 5_519_360,
    ),
    "vgg16": Structure(
        13, 13_547_520, 15_346_630_656, 13_547_520, 0, 0, 3, 123_633_664, 9_192, 0, 0,
        15, 13_555_712, 0, 0, 6_121_472, 25_088, 25_088, 2, 0, 0,
    ),
    "mobilenet-v2": Structure(
        52, 6_678_112, 299_494_272, 0, 17, 20_716_416, 1, 1_280_000, 1_000, 52, 6_678_112,
        0, 0, 35, 6_105_792, 0, 62_720, 1_280, 1, 10, 216_384,
    ),
}  # fmt: skip


def structure(cost: NetworkCost) -> Structure:
    def rows(*types: type, where: Callable[[Any], bool] = lambda _: True) -> list[LayerCost]:
        return [r.cost for r in cost.rows if isinstance(r.cost.layer, types) and where(r.cost)]

    def out(costs: list[LayerCost]) -> int:
        return sum(c.output_shape.numel for c in costs)

    convs = rows(Conv)
    grouped = rows(Conv, where=lambda c: c.layer.groups > 1)
    linears = rows(Linear)
    relus = rows(Activation, where=lambda c: c.layer.function == "relu")
    relu6s = rows(Activation, where=lambda c: c.layer.function == "relu6")
    pools = rows(AdaptiveAvgPool)
    adds = [r.cost for r in cost.rows if r.cost.kind == "add"]
    return Structure(
        convs=len(convs),
        conv_out=out(convs),
        conv_macs=sum(c.macs for c in convs),
        conv_bias_adds=sum(c.bias_adds for c in convs),
        grouped_convs=len(grouped),
        grouped_macs=sum(c.macs for c in grouped),
        linears=len(linears),
        linear_macs=sum(c.macs for c in linears),
        linear_bias_adds=sum(c.bias_adds for c in linears),
        norms=len(rows(BatchNorm)),
        norm_out=out(rows(BatchNorm)),
        relus=len(relus),
        relu_out=out(relus),
        relu6s=len(relu6s),
        relu6_out=out(relu6s),
        maxpool_in=sum(c.input_shape.numel for c in rows(MaxPool)),
        avgpool_in=sum(c.input_shape.numel for c in pools),
        avgpool_out=out(pools),
        dropouts=len(rows(Dropout)),
        adds=len(adds),
        add_out=out(adds),
    )


@pytest.mark.parametrize("name", TORCHVISION_STRUCTURE)
def test_torchvision_structure(name: str) -> None:
    """Layer for layer as torchvision runs it: a ReLU row per call, BN after every conv."""
    assert structure(cost_of(name)) == TORCHVISION_STRUCTURE[name]


def test_mobilenet_v2_pool_is_functional() -> None:
    """torchvision's MobileNetV2.forward calls adaptive_avg_pool2d as a function."""
    pools = [r.cost.layer for r in cost_of("mobilenet-v2").rows if r.name == "adaptive_avg_pool2d"]
    assert [getattr(layer, "functional", None) for layer in pools] == [True]


# Keras's documented counts (keras.io "Available models" table) for the same networks,
# and the Keras ResNet50, which differs: its convolutions have biases.
def test_keras_documented_counts_of_the_same_networks() -> None:
    """Keras counts BN running statistics too: its totals are our total_params."""
    assert cost_of("mobilenet-v2").totals.total_params == 3_538_984  # Keras MobileNetV2
    assert cost_of("vgg16").totals.total_params == 138_357_544  # Keras VGG16
    resnet50 = cost_of("resnet50")
    conv_biases = sum(
        r.cost.output_shape.channels for r in resnet50.rows if isinstance(r.cost.layer, Conv)
    )
    assert conv_biases == 26_560
    assert resnet50.totals.total_params + conv_biases == 25_636_712  # Keras ResNet50


@given(width=st.floats(min_value=0.05, max_value=2.0, allow_nan=False))
def test_mobilenet_v2_channels_are_multiples_of_8(width: float) -> None:
    """torchvision's _make_divisible: every width gives channels in multiples of 8, and
    never less than 90 % of the exact scaled count (the 10 % rule).

    Domain: widths 0.05 to 2; the 1280-channel head only grows (max(1, width)).
    """
    cost = cost_of("mobilenet-v2", width=width)
    last_conv = {r.group: r.cost for r in cost.rows if isinstance(r.cost.layer, Conv)}
    projections = [conv for group, conv in last_conv.items() if group]  # features.0 to .18
    targets = [32, 16, 24, 24, 32, 32, 32, *[64] * 4, *[96] * 3, *[160] * 3, 320]
    exact = Fraction(str(width))
    assert len(projections) == len(targets) + 1
    for conv, target in zip(projections, targets):
        channels = conv.output_shape.channels
        assert channels % 8 == 0
        assert channels >= Fraction(9, 10) * target * exact
        assert channels >= 8
    head = projections[-1].output_shape.channels
    if exact <= 1:
        assert head == 1280
    else:
        assert head % 8 == 0
        assert head >= Fraction(9, 10) * 1280 * exact


# --- Xception ------------------------------------------------------------------------

XCEPTION = [
    pytest.param("total_params", 22_910_480, id="keras-summary-total-22910480"),
    pytest.param("params", 22_855_952, id="keras-trainable-and-chollet-table3-22855952"),
    pytest.param("non_trainable_params", 54_528, id="keras-non-trainable-54528"),
]


@pytest.mark.parametrize(("metric", "count"), XCEPTION)
def test_xception_published_counts(metric: str, count: int) -> None:
    """Keras Xception() summary (3.15.1 and the keras.io table: 22,910,480, "22.9M");
    Chollet 2017, Table 3: 22,855,952 parameters, the trainable ones (BN moving
    statistics are not trained)."""
    assert getattr(cost_of("xception").totals, metric) == count


def test_xception_rounds_to_the_keras_docs_figure() -> None:
    assert rounds_to(cost_of("xception").totals.total_params, "22.9")


def test_xception_at_keras_minimum_size() -> None:
    """Keras 3.15.1 Xception(input_shape=(71, 71, 3), classes=10, weights=None): 20,881,970."""
    assert cost_of("xception", resolution=71, classes=10).totals.total_params == 20_881_970


# --- seed 001: the pyramid -----------------------------------------------------------


def test_pyramid_matches_seed_001() -> None:
    """Seed 001's four steps: 3×3 convolutions 64→128→...→1024 channels, no bias.

    Parameters per step (the notebook's RC and DSC columns) and the separable/regular
    ratio of about 11-12 %. The notebook computed every step at 128×128; this network
    halves the resolution as its table's height column says, so each step costs
    params × H × W at 128, 64, 32 and 16.
    """
    network = build_preset("pyramid")
    comparison = compare(network, ("depthwise_separable",), bias="none")
    regular = comparison.cost("regular")
    separable = comparison.cost("depthwise_separable")
    convs = [r.cost for r in regular.rows if isinstance(r.cost.layer, Conv)]
    assert [c.params for c in convs] == [73_728, 294_912, 1_179_648, 4_718_592]
    assert [c.macs for c in convs] == [1_207_959_552] * 4
    seps = [r.cost for r in separable.rows if isinstance(r.cost.layer, DepthwiseSeparableConv)]
    assert [c.params for c in seps] == [8_768, 33_920, 133_376, 528_896]
    for ratio in (comparison.ratio("depthwise_separable", "params"),
                  comparison.ratio("depthwise_separable", "macs")):  # fmt: skip
        assert ratio is not None
        assert Fraction(11, 100) < ratio < Fraction(12, 100)


# --- every preset, every parameter ---------------------------------------------------


def _values(parameter: PresetParameter) -> st.SearchStrategy[Any]:
    if parameter.kind == "bool":
        return st.booleans()
    if parameter.kind == "choice":
        return st.sampled_from(parameter.choices)
    if parameter.kind == "number":
        return st.sampled_from([0.25, 0.35, 0.5, 0.75, 1.0, 1.3, 1.4])
    if parameter.kind == "shape":
        return st.builds(
            Shape, st.integers(1, 8), st.tuples(st.integers(1, 300), st.integers(1, 300))
        )
    low = parameter.minimum
    span = {"resolution": 300, "classes": 2000, "stages": 5}.get(parameter.name, 3)
    sizes = st.integers(min_value=low, max_value=low + span)
    if parameter.kind == "resolution":
        return sizes | st.tuples(sizes, sizes)
    return sizes


@st.composite
def parameters_of(draw: st.DrawFn, preset: Preset) -> dict[str, Any]:
    """Some of `preset`'s parameters (the rest keep their defaults), each in its domain."""
    parameters = {p.name: draw(_values(p)) for p in preset.parameters if draw(st.booleans())}
    if parameters.get("regular"):
        parameters.pop("depth_multiplier", None)
    return parameters


def too_deep(parameters: dict[str, Any]) -> bool:
    """More 2×2 pools than the pyramid preset's input can take."""
    values = {**PRESETS["pyramid"].defaults, **parameters}
    pools = values["stages"] if values["downsample"] == "pool" else 0
    return bool(min(values["input_shape"].spatial) < 2**pools)


def needs_a_head(parameters: dict[str, Any]) -> bool:
    """The pyramid's classes without a classifier head."""
    values = {**PRESETS["pyramid"].defaults, **parameters}
    return bool(values["classes"] != 1000 and values["head"] == "none")


@pytest.mark.parametrize("name", PRESETS)
@given(data=st.data())
def test_every_preset_builds_and_costs(name: str, data: st.DataObject) -> None:
    """Any parameters in a preset's declared domain give a network that costs, and whose
    totals are the sums of its rows.

    Domain: every declared parameter, each left at its default or drawn from its type
    (resolution from the minimum to 300 above it, widths 0.25 to 1.4, classes up to
    2000). The pyramid may not fit its input (more stages than the resolution can
    halve): it is refused when built, with a FieldError naming `stages`; nor U-Net (a
    resolution not a multiple of 16), refused with the reason.
    """
    preset = PRESETS[name]
    parameters = data.draw(parameters_of(preset))
    if name == "pyramid" and needs_a_head(parameters):
        with pytest.raises(PresetError, match=r"needs a classifier"):
            build_preset(name, **parameters)
        return
    if name == "pyramid" and too_deep(parameters):
        with pytest.raises(FieldError, match=r"^stages must be at most"):
            build_preset(name, **parameters)
        return
    sizes = parameters.get("resolution", 16)
    if name == "unet" and any(
        size % 16 for size in (sizes if isinstance(sizes, tuple) else (sizes,))
    ):
        with pytest.raises(PresetError, match=r"a multiple of 16"):
            build_preset(name, **parameters)
        return
    cost = network_cost(build_preset(name, **parameters))
    assert cost.totals.params == sum(r.cost.params for r in cost.rows)
    assert cost.totals.non_trainable_params == sum(r.cost.non_trainable_params for r in cost.rows)
    assert cost.totals.macs == sum(r.cost.macs for r in cost.rows)
    assert cost.totals.bias_adds == sum(r.cost.bias_adds for r in cost.rows)
    classes = parameters.get("classes", preset.defaults.get("classes", 0))
    assert isinstance(classes, int)
    if name == "unet":  # a class map of the input's size
        assert cost.output_shape == Shape(classes, cost.network.input_shape.spatial)
    elif "classes" in preset.defaults and (
        name != "pyramid" or parameters.get("head", "none") != "none"
    ):
        assert cost.output_shape == Shape(classes)


@pytest.mark.parametrize("name", PRESETS)
@given(
    key=st.sampled_from(
        ["width", "resolution", "classes", "shallow", "style", "separable", "stages", "bias"]
    ),
    value=st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-3, max_value=400),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=5),
        st.fractions(min_value=-1, max_value=2),
    ),
)
def test_any_parameter_value_builds_or_raises_convcost_error(
    name: str, key: str, value: object
) -> None:
    """Domain: any preset, any (possibly foreign) parameter name, any value of any type.

    Either a network is built or a ConvCostError explains why; nothing else escapes.
    """
    try:
        network = build_preset(name, **{key: value})
    except ConvCostError:
        return
    try:
        network_cost(network)
    except LayerError:
        assert name == "pyramid"


@pytest.mark.parametrize("width", [0.25, 0.5, 0.75, 1.0])
@pytest.mark.parametrize("resolution", [128, 160, 192, 224])
def test_mobilenet_grid_totals_are_row_sums(width: float, resolution: int) -> None:
    """Domain: the paper's grid, α in Table 6 × resolutions in Table 7, both styles."""
    for style in ("paper", "keras"):
        cost = network_cost(mobilenet_v1(width=width, resolution=resolution, style=style))
        assert cost.totals.macs == sum(r.cost.macs for r in cost.rows)
        assert cost.totals.params == sum(r.cost.params for r in cost.rows)
        assert cost.output_shape == Shape(1000)


@pytest.mark.parametrize(
    "preset", [p for p in PRESETS.values() if any(q.name == "resolution" for q in p.parameters)],
    ids=lambda preset: preset.name,
)  # fmt: skip
@given(resolution=st.integers(71, 400) | st.tuples(st.integers(71, 400), st.integers(71, 400)))
def test_a_resolution_sets_the_input_and_nothing_else(
    preset: Preset, resolution: int | tuple[int, int]
) -> None:
    """What `with_resolution` (a sweep's shortcut) relies on: building at a resolution is
    the default network with that input, and that name."""
    minimum = preset.parameter("resolution").minimum
    sizes = resolution if isinstance(resolution, tuple) else (resolution,)
    if min(sizes) < minimum:
        resolution = minimum
    if preset.name == "unet":  # four halvings: a multiple of 16
        resolution = 16 * (sizes[0] // 16)
    built = preset.build(resolution=resolution, classes=7)
    assert preset.with_resolution(preset.build(classes=7), {"resolution": resolution,
                                                            "classes": 7}) == built  # fmt: skip


# --- U-Net (milesial/Pytorch-UNet) -------------------------------------------------------

# milesial/Pytorch-UNet's `UNet(n_channels, n_classes, bilinear=False)`, built with torch
# 2.14.1, eval, batch 1: sum(p.numel()), the BN running mean + variance, FlopCounterMode / 2
# (convolutions, transposed convolutions) and the output shape.
UNET = [
    pytest.param({}, 31_037_698, 11_776, 192_686_325_760, (2, 512, 512), id="3-2-512"),
    pytest.param({"channels": 1, "classes": 1, "resolution": 256}, 31_036_481, 11_776,
                 48_091_889_664, (1, 256, 256), id="1-1-256"),
    pytest.param({"classes": 21, "resolution": (320, 480)}, 31_038_933, 11_776,
                 113_088_921_600, (21, 320, 480), id="3-21-320x480"),
]  # fmt: skip


@pytest.mark.parametrize(("parameters", "params", "buffers", "macs", "output"), UNET)
def test_unet_is_milesials(
    parameters: dict[str, Any], params: int, buffers: int, macs: int, output: tuple[int, ...]
) -> None:
    cost = cost_of("unet", **parameters)
    totals = cost.totals
    assert (totals.params, totals.non_trainable_params, totals.macs) == (params, buffers, macs)
    assert (cost.output_shape.channels, *cost.output_shape.spatial) == output


def test_unet_skips_join_the_encoder_by_name() -> None:
    """Each up step concatenates the encoder output of its size with its upsampled input:
    1024 + 512 → ... the torch.cat of the reference, read by name across blocks."""
    rows = {row.name: row for row in cost_of("unet").rows}
    cat = rows["up1.cat"].cost
    assert cat.input_shapes == (Shape(512, (64, 64)), Shape(512, (64, 64)))
    assert cat.output_shape == Shape(1024, (64, 64))
    assert rows["up4.cat"].cost.output_shape == Shape(128, (512, 512))


def test_unet_needs_a_multiple_of_16() -> None:
    with pytest.raises(PresetError, match="multiple of 16, got 100"):
        build_preset("unet", resolution=100)
