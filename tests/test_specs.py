"""Spec files: reading TOML, JSON and YAML, writing them back, and every way a spec is bad.

The laws: ``parse(dump(net)) == net`` for every network (and ``dump`` is canonical: a second
round gives the same text); any text gives a `Network` or a `SpecError`, never another
exception; the three formats of one spec read as one network.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st
from network_strategies import GRAPH_JOINS, LEAF_STRATEGIES, networks

from convcost.errors import ConvCostError
from convcost.layers import (
    Activation,
    AdaptiveAvgPool,
    Add,
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
from convcost.network import Network, Node, Parallel, Residual, Sequential, network_cost, rewrite
from convcost.shapes import Shape
from convcost.specs import (
    FORMATS,
    LAYER_TYPES,
    MAX_BYTES,
    MAX_DEPTH,
    SpecError,
    dump_spec,
    load_spec,
    parse_spec,
)

ROOT = Path(__file__).parent.parent
SPECS = Path(__file__).parent / "data" / "specs"


def parse_toml(text: str) -> Network:
    return parse_spec(text, "toml")


def one_layer(layer: str, shape: str = "3x8x8") -> str:
    """A TOML spec of one layer, written as an inline table."""
    return f'input = "{shape}"\nlayers = [{layer}]\n'


def nodes_of(nodes: tuple[Node, ...]) -> list[Node]:
    """Every node, blocks and their contents, depth first."""
    found: list[Node] = []
    for node in nodes:
        found.append(node)
        if isinstance(node, Sequential):
            found += nodes_of(node.layers)
        elif isinstance(node, Residual):
            found += nodes_of(node.body) + nodes_of(node.shortcut)
        elif isinstance(node, Parallel):
            for branch in node.branches:
                found += nodes_of(branch)
    return found


# --- the example specs ----------------------------------------------------------------

EXAMPLE = Network(
    name="tiny-net",
    input_shape=Shape(3, (64, 64)),
    layers=(
        Conv(name="stem", out_channels=32, kernel_size=3, stride=2, padding=1, bias=False),
        BatchNorm(),
        Activation(function="relu"),
        Residual(
            name="res1",
            body=(
                Conv(out_channels=32, kernel_size=3, padding="same-pytorch", bias=False),
                BatchNorm(),
                Activation(function="relu"),
                Conv(out_channels=32, kernel_size=3, padding="same-pytorch", bias=False),
                BatchNorm(),
            ),
        ),
        Residual(
            name="res2",
            body=(
                Conv(out_channels=64, kernel_size=3, stride=2, padding=1, bias=False),
                BatchNorm(),
                Activation(function="relu"),
                Conv(out_channels=64, kernel_size=3, padding="same-pytorch", bias=False),
                BatchNorm(),
            ),
            shortcut=(Conv(out_channels=64, kernel_size=1, stride=2, bias=False), BatchNorm()),
        ),
        Parallel(
            name="mixed",
            merge="concat",
            branches=(
                (Conv(out_channels=16, kernel_size=1, bias=False),),
                (
                    Conv(out_channels=16, kernel_size=1, bias=False),
                    SpatiallySeparableConv(
                        out_channels=24, kernel_size=7, padding="same-pytorch", bias="none"
                    ),
                ),
                (
                    MaxPool(kernel_size=3, stride=1, padding=1),
                    Conv(out_channels=8, kernel_size=1, bias=False),
                ),
            ),
        ),
        DepthwiseSeparableConv(out_channels=96, kernel_size=3, stride=2, padding=1, bias="none"),
        GlobalAvgPool(),
        Dropout(p=0.2),
        Linear(out_features=10, bias=True),
    ),
)


@pytest.mark.parametrize("suffix", ["toml", "json", "yaml"])
def test_the_example_reads_the_same_in_every_format(suffix: str) -> None:
    """The example of docs/spec-format.md, in three formats, is one network."""
    assert load_spec(SPECS / f"example.{suffix}") == EXAMPLE


@pytest.mark.parametrize("suffix", ["toml", "json", "yaml"])
def test_the_docs_show_the_tested_examples(suffix: str) -> None:
    """docs/spec-format.md holds each example file verbatim, so the docs cannot drift."""
    docs = (ROOT / "docs" / "spec-format.md").read_text(encoding="utf-8")
    assert (SPECS / f"example.{suffix}").read_text(encoding="utf-8") in docs


def test_the_vgg_example_is_the_tested_one() -> None:
    assert (ROOT / "examples" / "vgg-cifar.toml").read_bytes() == (
        SPECS / "vgg_cifar.toml"
    ).read_bytes()


# Seed 000's two Keras summaries (Conv2D, then SeparableConv2D with its default bias on the
# pointwise part): the parameters of each conv and of the dense layer, in order.
VGG_CIFAR = [
    pytest.param(
        "regular",
        [1_792, 36_928, 73_856, 147_584, 295_168, 590_080, 40_970],
        1_186_378,
        id="Conv2D",
    ),
    pytest.param(
        "depthwise_separable",
        [283, 4_736, 8_896, 17_664, 34_176, 68_096, 40_970],
        174_821,
        id="SeparableConv2D",
    ),
]


@pytest.mark.parametrize(("family", "per_layer", "total"), VGG_CIFAR)
def test_the_vgg_cifar_spec_costs_what_keras_reports(
    family: Any, per_layer: list[int], total: int
) -> None:
    network = rewrite(load_spec(SPECS / "vgg_cifar.toml"), family, bias="pointwise")
    cost = network_cost(network)
    assert [row.cost.params for row in cost.rows if row.cost.params] == per_layer
    assert cost.totals.params == total
    assert cost.totals.non_trainable_params == 0
    assert cost.output_shape == Shape(10)


# --- reading --------------------------------------------------------------------------


def alias(table: str, layer: Layer) -> Any:
    """A case of ALIASES, named by its type."""
    return pytest.param(table, layer, id=table.split(",")[0].strip('"'))


CONV_3 = Conv(out_channels=4, kernel_size=3)
CONV_T = ConvTranspose(out_channels=4, kernel_size=2)
SEPARABLE = DepthwiseSeparableConv(out_channels=4, kernel_size=3)
ALIASES = [
    alias('"conv2d", out_channels = 4, kernel_size = 3', CONV_3),
    alias('"Conv1D", out_channels = 4, kernel_size = 3', CONV_3),
    alias('"ConvTranspose2d", out_channels = 4, kernel_size = 2', CONV_T),
    alias('"Conv2DTranspose", out_channels = 4, kernel_size = 2', CONV_T),
    alias('"separable_conv2d", out_channels = 4, kernel_size = 3', SEPARABLE),
    alias('"SeparableConv2D", out_channels = 4, kernel_size = 3', SEPARABLE),
    alias('"maxpool2d", kernel_size = 2', MaxPool(kernel_size=2)),
    alias('"MaxPooling2D", kernel_size = 2', MaxPool(kernel_size=2)),
    alias('"AveragePooling2D", kernel_size = 2', AvgPool(kernel_size=2)),
    alias('"AdaptiveAvgPool2d"', AdaptiveAvgPool()),
    alias('"GlobalAveragePooling2D"', GlobalAvgPool()),
    alias('"GlobalMaxPooling2D"', GlobalMaxPool()),
    alias('"batchnorm2d"', BatchNorm()),
    alias('"BatchNormalization"', BatchNorm()),
    alias('"ZeroPadding2D"', ZeroPad()),
    alias('"UpSampling2D"', Upsample()),
    alias('"relu"', Activation(function="relu")),
    alias('"ReLU6"', Activation(function="relu6")),
    alias('"LeakyReLU"', Activation(function="leaky_relu")),
    alias('"sigmoid", functional = true', Activation(function="sigmoid", functional=True)),
    alias('"tanh", function = "tanh"', Activation(function="tanh")),  # repeats what it implies
]


@pytest.mark.parametrize(("table", "layer"), ALIASES)
def test_aliases_read_as_the_canonical_type(table: str, layer: Layer) -> None:
    """PyTorch and Keras class names, snake_case forms, and activations by their name."""
    (parsed,) = parse_toml(one_layer("{ type = " + table + " }", "4x8x8")).layers
    assert parsed == layer


def test_layer_types_are_the_snake_case_of_the_class_names() -> None:
    for name, cls in LAYER_TYPES.items():
        assert re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower() == name


def test_every_layer_class_has_a_type() -> None:
    """Joins too: a graph names its inputs and joins them with add, multiply or concat."""
    blocks = {Sequential, Residual, Parallel}
    assert set(LAYER_TYPES.values()) - blocks == set(get_args(Layer))


DEFAULTS = """
input = "4x8x8"
[defaults]
bias = false
same_padding = "pytorch"
[defaults.depthwise_separable_conv]
bias = "both"
[[layers]]
type = "conv"
out_channels = 4
kernel_size = 3
padding = "same"
[[layers]]
type = "conv"
out_channels = 4
kernel_size = 1
bias = true
[[layers]]
type = "sequential"
layers = [{ type = "separable_conv", out_channels = 4, kernel_size = 3, padding = "same" }]
[[layers]]
type = "spatially_separable_conv"
out_channels = 4
kernel_size = 3
bias = "pointwise"
padding = "valid"
[[layers]]
type = "flatten"
[[layers]]
type = "dense"
out_features = 3
"""


def test_defaults_fill_the_fields_a_layer_leaves_out() -> None:
    """Common keys reach every type with the field, in blocks too; per-type tables win over
    them; a layer's own value wins over both; "same" becomes "same-pytorch"."""
    assert parse_toml(DEFAULTS).layers == (
        Conv(out_channels=4, kernel_size=3, padding="same-pytorch", bias=False),
        Conv(out_channels=4, kernel_size=1, bias=True),
        Sequential(
            layers=(
                DepthwiseSeparableConv(
                    out_channels=4, kernel_size=3, padding="same-pytorch", bias="both"
                ),
            )
        ),
        SpatiallySeparableConv(out_channels=4, kernel_size=3, padding="valid", bias="pointwise"),
        Flatten(),
        Linear(out_features=3, bias=False),
    )


def test_block_contents_may_use_table_headers_and_blocks_take_defaults() -> None:
    text = """
input = "3x8x8"
[defaults]
merge = "add"
[[layers]]
type = "residual"
[[layers.body]]
type = "conv"
out_channels = 3
kernel_size = 1
[[layers.body]]
type = "relu"
[[layers]]
type = "parallel"
branches = [[], [{ type = "relu" }]]
"""
    assert parse_toml(text).layers == (
        Residual(body=(Conv(out_channels=3, kernel_size=1), Activation(function="relu"))),
        Parallel(branches=((), (Activation(function="relu"),)), merge="add"),
    )


def test_null_means_the_default_where_the_default_is_none() -> None:
    text = """{"input": "3x8x8", "name": null, "layers": [
        {"type": "max_pool", "kernel_size": 2, "stride": null, "name": null},
        {"type": "spatially_separable_conv", "out_channels": 3, "kernel_size": 3,
         "mid_channels": "min"}]}"""
    assert parse_spec(text, "json") == Network(
        input_shape=Shape(3, (8, 8)),
        layers=(MaxPool(kernel_size=2), SpatiallySeparableConv(out_channels=3, kernel_size=3)),
    )


@pytest.mark.parametrize(
    "head",
    [
        'input = "3x32x24"',
        'input = "hwc:32x24x3"',
        'input = "chw:3x32x24"\nchannels_last = true',  # a layout prefix overrides the flag
        'input = "32x24x3"\nchannels_last = true',
        "input = [3, 32, 24]",
        "input = [32, 24, 3]\nchannels_last = true",
    ],
)
def test_every_spelling_of_the_input_gives_one_shape(head: str) -> None:
    network = parse_toml(head + '\nlayers = [{ type = "flatten" }]\n')
    assert network.input_shape == Shape(3, (32, 24))


def test_padding_takes_every_form() -> None:
    layers = ", ".join(
        f'{{ type = "conv", out_channels = 2, kernel_size = 3, padding = {padding} }}'
        for padding in ("1", "[1, 0]", "[[1, 1], [0, 2]]", '"valid"', '"same"', '"same-pytorch"')
    )
    network = parse_toml(f'input = "2x8x8"\nlayers = [{layers}]')
    assert [layer.padding for layer in network.layers] == [  # type: ignore[union-attr]
        1, (1, 0), ((1, 1), (0, 2)), "valid", "same", "same-pytorch",
    ]  # fmt: skip


def test_a_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b'\xef\xbb\xbf{"input": "3x4x4", "layers": [{"type": "flatten"}]}')
    assert load_spec(path).layers == (Flatten(),)


# --- bad specs ------------------------------------------------------------------------

CONV = 'type = "conv", out_channels = 4, kernel_size = 3'
BAD_SPECS = [
    # type
    pytest.param(one_layer('{ type = "max_pol", kernel_size = 2 }'),
                 'layers[0].type: unknown layer type "max_pol"; did you mean "max_pool"?',
                 id="unknown-type"),
    pytest.param(one_layer('{ type = "dens", out_features = 2 }'),
                 'layers[0].type: unknown layer type "dens"; did you mean "dense"?',
                 id="unknown-type-near-alias"),
    pytest.param(one_layer('{ type = "depthwise_conv2d", kernel_size = 3 }'),
                 'layers[0].type: there is no "depthwise_conv2d" type: a depthwise convolution '
                 'is a conv with groups equal to its input channels C: write type = "conv", '
                 "groups = C, out_channels = C × multiplier",
                 id="depthwise-is-a-conv"),
    pytest.param(one_layer("{ kernel_size = 3 }"),
                 'layers[0]: missing type (the layer type, e.g. type = "conv")', id="missing-type"),
    pytest.param(one_layer("{ type = 3 }"),
                 "layers[0].type: expected a layer type name, got 3", id="type-not-text"),
    # fields
    pytest.param(one_layer('{ type = "conv", out_channels = 4, kernal_size = 3 }'),
                 "layers[0].kernal_size: unknown field of conv; did you mean kernel_size?",
                 id="unknown-field"),
    pytest.param(one_layer('{ type = "conv", filters = 4, kernel_size = 3 }'),
                 "layers[0].filters: unknown field of conv; did you mean out_channels?",
                 id="keras-field-name"),
    pytest.param(one_layer('{ type = "conv", in_channels = 3, out_channels = 4, kernel_size = 3 }'),
                 "layers[0].in_channels: unknown field of conv; the input size is not written: "
                 "it comes from the shape reaching the layer", id="in-channels"),
    pytest.param(one_layer('{ type = "flatten", size = 3 }'),
                 "layers[0].size: unknown field of flatten; expected one of name, inputs, shares",
                 id="unknown-field-no-match"),
    pytest.param(one_layer('{ type = "conv", kernel_size = 3 }'),
                 "layers[0]: missing out_channels (required by conv)", id="missing-field"),
    pytest.param(one_layer('{ type = "conv2d", out_channels = 4 }'),
                 "layers[0]: missing kernel_size (required by conv)", id="missing-field-alias"),
    pytest.param(one_layer('{ type = "relu", function = "tanh" }'),
                 'layers[0].function: type "relu" already sets function = "relu", got "tanh"',
                 id="alias-contradicted"),
    # wrong types
    pytest.param(one_layer('{ type = "conv", out_channels = "4", kernel_size = 3 }'),
                 'layers[0].out_channels: expected a positive integer, got "4"',
                 id="text-for-int"),
    pytest.param(one_layer('{ type = "conv", out_channels = true, kernel_size = 3 }'),
                 "layers[0].out_channels: expected a positive integer, got true",
                 id="bool-for-int"),
    pytest.param(one_layer('{ type = "conv", out_channels = 4, kernel_size = 3.0 }'),
                 "layers[0].kernel_size: expected a positive integer (at most 10**18) or a list of "
                 "them, got 3.0",
                 id="float-kernel"),
    pytest.param(one_layer(f"{{ {CONV}, bias = 1 }}"),
                 "layers[0].bias: expected true or false, got 1", id="int-for-bool"),
    pytest.param(one_layer(f'{{ {CONV}, bias = "pointwise" }}'),
                 'layers[0].bias: expected true or false, got "pointwise"',
                 id="convention-for-regular-bias"),
    pytest.param(one_layer(f"{{ {CONV}, stride = {{ x = 1 }} }}"),
                 "layers[0].stride: expected a number, text, true/false or a list of them, "
                 "got a table", id="table-for-int"),
    pytest.param(one_layer(f"{{ {CONV}, stride = 1979-05-27 }}"),
                 "layers[0].stride: expected a number, text, true/false or a list of them, "
                 "got a date", id="date-for-int"),
    pytest.param(one_layer(f"{{ {CONV}, padding = [[[1]]] }}"),
                 "layers[0].padding: expected a number, text, true/false or a list of them, "
                 "got [[[1]]]", id="lists-too-deep"),
    # values out of range
    pytest.param(one_layer('{ type = "conv", out_channels = 4, kernel_size = 0 }'),
                 "layers[0].kernel_size: expected a positive integer (at most 10**18) or a list of "
                 "them, got 0",
                 id="kernel-zero"),
    pytest.param(one_layer(f"{{ {CONV}, stride = [1, 0] }}"),
                 "layers[0].stride: expected a positive integer (at most 10**18) or a list of "
                 "them, got [1, 0]",
                 id="stride-zero"),
    pytest.param(one_layer(f'{{ {CONV}, padding = "sam" }}'),
                 "layers[0].padding: expected one of 'valid', 'same', 'same-pytorch', got \"sam\"",
                 id="padding-mode"),
    pytest.param(one_layer(f"{{ {CONV}, padding = [[1, 2, 3]] }}"),
                 "layers[0].padding: expected per-axis integers or (before, after) pairs, "
                 "got [[1, 2, 3]]", id="padding-triple"),
    pytest.param(one_layer('{ type = "conv", out_channels = 10, kernel_size = 3, groups = 3 }'),
                 "layers[0].groups: expected a divisor of out_channels=10, got 3", id="groups"),
    pytest.param(one_layer('{ type = "dropout", p = 1.5 }'),
                 "layers[0].p: expected a probability in [0, 1), got 1.5", id="probability"),
    pytest.param(one_layer('{ type = "sigmoid", name = "" }'),
                 'layers[0].name: expected a non-empty line of text or None, got ""',
                 id="empty-name"),
    pytest.param(one_layer('{ type = "activation", function = "mish" }'),
                 "layers[0].function: expected one of elu, gelu, hardsigmoid, hardswish, identity, "
                 "leaky_relu, relu, relu6, sigmoid, silu, softmax, swish, tanh, got \"mish\"",
                 id="activation-function"),
    # shapes
    pytest.param(one_layer('{ type = "conv", out_channels = 4, kernel_size = 9 }'),
                 "layers[0] (conv on input 3x8x8): a window of 9 (kernel 9, dilation 1) does not "
                 "fit a padded size of 8 (size 8, padding 0+0)", id="shape-breaks"),
    pytest.param(one_layer('{ type = "linear", out_features = 4 }'),
                 "layers[0] (linear on input 3x8x8): Linear needs a flat input (add a Flatten "
                 "or global pooling first), got 3x8x8", id="linear-on-a-map"),
    pytest.param(one_layer('{ type = "sequential", layers = [{ type = "flatten" }, '
                           '{ type = "max_pool", kernel_size = 2 }] }'),
                 "layers[0].layers[1] (max_pool on input 192): MaxPool needs an input with "
                 "spatial sizes, got a flat vector of 192 features", id="shape-breaks-in-block"),
    pytest.param(one_layer('{ type = "parallel", branches = [[], [{ type = "flatten" }, '
                           '{ type = "upsample" }]] }'),
                 "layers[0].branches[1][1] (upsample on input 192): Upsample needs an input "
                 "with spatial sizes, got a flat vector of 192 features",
                 id="shape-breaks-in-branch"),
    pytest.param(one_layer('{ type = "residual", body = [{ type = "max_pool", kernel_size = 2 }], '
                           'shortcut = [{ type = "relu" }, { type = "zero_pad" }] }'),
                 "layers[0] (residual): cannot add inputs of different shapes: 3x4x4, 3x10x10",
                 id="residual-shapes"),
    pytest.param(one_layer('{ type = "parallel", branches = [[], [{ type = "max_pool", '
                           'kernel_size = 2 }]] }'),
                 "layers[0] (parallel): cannot concatenate inputs of different sizes: "
                 "3x8x8, 3x4x4", id="parallel-shapes"),
    pytest.param('input = "3x8x8"\nlayers = [{ type = "conv", out_channels = 4, kernel_size = 3, '
                 'stride = 2, padding = "same" }]\n[defaults]\nsame_padding = "pytorch"\n',
                 "layers[0].padding: expected 'same' or explicit padding with stride 2: "
                 "'same-pytorch' is PyTorch's rule, which needs stride 1, got \"same\" "
                 '(same_padding = "pytorch" reads "same" as "same-pytorch")',
                 id="same-pytorch-stride"),
    pytest.param('input = "3x8x8"\nlayers = [{ type = "conv", out_channels = 4, kernel_size = 3, '
                 'stride = 2, padding = "same-pytorch" }]\n',
                 "layers[0].padding: expected 'same' or explicit padding with stride 2: "
                 "'same-pytorch' is PyTorch's rule, which needs stride 1, got \"same-pytorch\"",
                 id="same-pytorch-written-with-stride"),
    # blocks
    pytest.param(one_layer('{ type = "sequential", layers = [] }'),
                 "layers[0].layers: expected at least one layer, got []", id="empty-block"),
    pytest.param(one_layer('{ type = "sequential", layers = "conv" }'),
                 'layers[0].layers: expected a list of layers, got "conv"', id="block-not-list"),
    pytest.param(one_layer('{ type = "sequential", layers = [3] }'),
                 "layers[0].layers[0]: expected a layer (a table with a type), got 3",
                 id="layer-not-table"),
    pytest.param(one_layer('{ type = "residual" }'),
                 "layers[0]: missing body (required by residual)", id="residual-no-body"),
    pytest.param(one_layer('{ type = "parallel", branches = [[]] }'),
                 "layers[0].branches: expected two or more branches, got [[]]", id="one-branch"),
    pytest.param(one_layer('{ type = "parallel", branches = [{ type = "relu" }, []] }'),
                 "layers[0].branches[0]: expected a list of layers, got a table",
                 id="branch-not-list"),
    pytest.param(one_layer('{ type = "parallel", branches = [[], []], merge = "sum" }'),
                 "layers[0].merge: expected one of 'concat', 'add', got \"sum\"", id="merge"),
    # the top level
    pytest.param('input = "3x8x8"\nlayers = []\n',
                 "layers: expected at least one layer (the network is empty), got []",
                 id="empty-network"),
    pytest.param('input = "3x8x8"\n', "missing layers (the list of layers)", id="no-layers"),
    pytest.param('layers = [{ type = "relu" }]\n',
                 'missing input (the input shape, e.g. input = "3x224x224")', id="no-input"),
    pytest.param('input = "3x8x8"\nlayer = []\n',
                 "layer: unknown top-level key; did you mean layers?", id="unknown-key"),
    pytest.param('input = "3x0x8"\nlayers = [{ type = "relu" }]\n',
                 "input: shape '3x0x8': sizes must be positive, got 0", id="input-zero"),
    pytest.param('input = [3, true]\nlayers = [{ type = "relu" }]\n',
                 'input: expected a shape such as "3x224x224" or a list of sizes, got [3, true]',
                 id="input-bool"),
    pytest.param('input = "3x8x8"\nchannels_last = 1\nlayers = [{ type = "relu" }]\n',
                 "channels_last: expected true or false, got 1", id="channels-last"),
    pytest.param('input = "3x8x8"\nname = 7\nlayers = [{ type = "relu" }]\n',
                 "name: expected a non-empty line of text or None, got 7", id="network-name"),
    # defaults
    pytest.param('input = "3x8x8"\ndefaults = 1\nlayers = [{ type = "relu" }]\n',
                 "defaults: expected a table of default field values, got 1",
                 id="defaults-not-table"),
    pytest.param('input = "3x8x8"\n[defaults]\nbais = false\n[[layers]]\ntype = "relu"\n',
                 "defaults.bais: unknown default; did you mean bias?", id="defaults-unknown"),
    pytest.param('input = "3x8x8"\n[defaults]\nname = "x"\n[[layers]]\ntype = "relu"\n',
                 "defaults.name: name cannot have a default", id="defaults-name"),
    pytest.param('input = "3x8x8"\n[defaults.conv]\nfunction = "relu"\n[[layers]]\ntype = "relu"\n',
                 "defaults.conv.function: not a field of conv that takes a default; "
                 "expected one of out_channels, kernel_size, stride, padding, dilation, groups, "
                 "bias", id="defaults-per-type-unknown"),
    pytest.param('input = "3x8x8"\n[defaults]\nsame_padding = "tf"\n[[layers]]\ntype = "relu"\n',
                 'defaults.same_padding: expected "keras" or "pytorch", got "tf"',
                 id="defaults-same-padding"),
    pytest.param('input = "3x8x8"\n[defaults]\nbias = false\n'
                 '[[layers]]\ntype = "separable_conv"\nout_channels = 4\nkernel_size = 3\n',
                 "layers[0].bias: expected one of 'none', 'pointwise', 'both', got false "
                 "(from defaults.bias)", id="default-wrong-for-a-type"),
    pytest.param('input = "3x8x8"\n[defaults]\nsame_padding = "pytorch"\n[[layers]]\n'
                 'type = "conv_transpose"\nout_channels = 4\nkernel_size = 3\npadding = "same"\n',
                 "layers[0].padding: expected an int, 'valid' or 'same', got \"same\" "
                 '(same_padding = "pytorch" reads "same" as "same-pytorch")',
                 id="same-pytorch-transposed"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), BAD_SPECS)
def test_a_bad_spec_names_the_place_and_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_toml(text)
    assert str(caught.value) == f"<spec>: {message}"
    assert caught.value.detail == message
    assert "\n" not in str(caught.value)


SYNTAX_ERRORS = [
    pytest.param("toml", 'input = "3x8x8"\n\n[[layers]]\ntype = \n', 4,
                 "invalid TOML: Invalid value", id="toml"),
    pytest.param("toml", 'input = "3x8x8"\ninput = "3x8x8"\n', 2,
                 "invalid TOML: Cannot overwrite a value", id="toml-duplicate"),
    pytest.param("json", '{\n  "input": "3x8x8",\n  "layers": [,]\n}', 3,
                 "invalid JSON: Expecting value", id="json"),
    pytest.param("yaml", "input: 3x8x8\nlayers: [\n  {type: relu}\n  - x\n", 4,
                 "invalid YAML: while parsing a flow sequence; expected ',' or ']', but got '-'",
                 id="yaml"),
    pytest.param("yaml", "input: 3x8x8\n---\ninput: 3x8x8\n", 2,
                 "invalid YAML: expected a single document in the stream; but found another "
                 "document", id="yaml-two-documents"),
    pytest.param("yaml", "input: !!python/object:os.system x\n", 1,
                 "invalid YAML: could not determine a constructor for the tag "
                 "'tag:yaml.org,2002:python/object:os.system'", id="yaml-unsafe-tag"),
]  # fmt: skip


@pytest.mark.parametrize(("spec_format", "text", "line", "message"), SYNTAX_ERRORS)
def test_a_syntax_error_gives_the_parsers_line(
    spec_format: Any, text: str, line: int, message: str
) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, spec_format, source="my-net")
    assert str(caught.value) == f"my-net, line {line}: {message}"
    assert caught.value.line == line


NOT_A_TABLE = [
    pytest.param("json", "[1, 2]", "expected a table with input and layers, got [1, 2]",
                 id="json-list"),
    pytest.param("yaml", "3x8x8", 'expected a table with input and layers, got "3x8x8"',
                 id="yaml-text"),
    pytest.param("yaml", "", "expected a table with input and layers, got null", id="yaml-empty"),
    pytest.param("yaml", "{1: 2}", "keys must be text, got 1", id="yaml-int-key"),
    pytest.param("json", '{"input": "3x8x8", "layers": [{"type": "flatten"}], "x": 1}',
                 "x: unknown top-level key; expected one of name, input, channels_last, "
                 "defaults, layers, outputs, naming, group_depth", id="json-unknown-key"),
    pytest.param("json", '{"input": "3x8x8", "layers": [{"type": "conv", "out_channels": 4, '
                 '"kernel_size": 12345678901234567890123}]}',
                 "layers[0].kernel_size: expected a number, text, true/false or a list of them, "
                 "got an integer beyond 64 bits (74 bits)", id="json-huge-int"),
    pytest.param("yaml", "input: 3x8x8\nlayers: [{type: conv, out_channels: 4, kernel_size: "
                 "-0x" + "f" * 5000 + "}]\n",
                 "layers[0].kernel_size: expected a number, text, true/false or a list of them, "
                 "got an integer beyond 64 bits (20000 bits)", id="yaml-hex-bomb"),
]  # fmt: skip


@pytest.mark.parametrize(("spec_format", "text", "message"), NOT_A_TABLE)
def test_json_and_yaml_problems_name_the_place(spec_format: Any, text: str, message: str) -> None:
    with pytest.raises(SpecError, match=r"^<spec>: ") as caught:
        parse_spec(text, spec_format)
    assert caught.value.detail == message


# --- files ----------------------------------------------------------------------------


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"missing\.toml: no such file$"):
        load_spec(tmp_path / "missing.toml")


def test_a_directory(tmp_path: Path) -> None:
    (tmp_path / "net.toml").mkdir()
    with pytest.raises(SpecError, match=r"net\.toml: is a directory, not a file$"):
        load_spec(tmp_path / "net.toml")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_is_refused_without_being_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "net.toml")  # opening it would block until a writer came
    with pytest.raises(
        SpecError,
        match=r"net\.toml: is not a regular file \(a pipe, device or socket is not read\)$",
    ):
        load_spec(tmp_path / "net.toml")


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "net.toml"
    path.write_bytes(b'input = "3x8x8"\n# caf\xe9\n')
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert str(caught.value) == f"{path}, line 2: not UTF-8 text (byte 0xe9)"


def test_an_unknown_suffix(tmp_path: Path) -> None:
    path = tmp_path / "net.txt"
    path.write_text('input = "3x8x8"\n', encoding="utf-8")
    with pytest.raises(SpecError, match=r"cannot tell the format from the suffix '\.txt'"):
        load_spec(path)


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as file:
        file.truncate(MAX_BYTES + 1)  # sparse: nothing is written, only the size is set
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert caught.value.detail == "is 1,048,577 bytes; at most 1,048,576 bytes are read"


def test_text_over_the_limit_is_refused() -> None:
    with pytest.raises(SpecError, match=r"1,048,577 bytes"):
        parse_spec("#" * MAX_BYTES + "\n", "toml")


@pytest.mark.parametrize("suffix", [".toml", ".json", ".yaml", ".yml", ".TOML"])
def test_the_suffix_picks_the_format(tmp_path: Path, suffix: str) -> None:
    text = {
        "toml": 'input = "3x8x8"\nlayers = [{ type = "flatten" }]\n',
        "json": '{"input": "3x8x8", "layers": [{"type": "flatten"}]}',
        "yaml": "input: 3x8x8\nlayers: [{type: flatten}]\n",
    }
    path = tmp_path / f"net{suffix}"
    path.write_text(text["yaml" if suffix == ".yml" else suffix[1:].lower()], encoding="utf-8")
    assert load_spec(str(path)).layers == (Flatten(),)


# --- limits ---------------------------------------------------------------------------


def nested(depth: int) -> str:
    """A JSON spec of `depth` sequential blocks, one inside the other."""
    layers = '[{"type": "flatten"}]'
    for _ in range(depth):
        layers = f'[{{"type": "sequential", "layers": {layers}}}]'
    return f'{{"input": "3x8x8", "layers": {layers}}}'


def test_blocks_nest_up_to_the_limit() -> None:
    network = parse_spec(nested(MAX_DEPTH), "json")
    assert len(nodes_of(network.layers)) == MAX_DEPTH + 1


def test_blocks_nested_deeper_are_refused() -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(nested(MAX_DEPTH + 1), "json")
    assert caught.value.detail == "layers[0]" + ".layers[0]" * MAX_DEPTH + (
        ": blocks nest more than 32 deep"
    )


@pytest.mark.parametrize(
    ("spec_format", "text"),
    [("json", "[" * 3_000), ("toml", "a = " + "[" * 3_000), ("yaml", "[" * 3_000)],
)
def test_nesting_beyond_what_a_parser_can_read_is_refused(spec_format: Any, text: str) -> None:
    with pytest.raises(SpecError, match=r"nested too deeply to read$"):
        parse_spec(text, spec_format)


def test_a_yaml_alias_bomb_is_refused() -> None:
    """Five lines of aliases describe 111,110 layers; reading stops at 100,000."""
    lines = [
        "input: 3x8x8",
        "layers:",
        "  - &l0 {type: sequential, layers: [" + "{type: relu}, " * 10 + "]}",
    ]
    for level in range(1, 5):
        lines.append(
            f"  - &l{level} {{type: sequential, layers: [" + f"*l{level - 1}, " * 10 + "]}"
        )
    with pytest.raises(
        SpecError, match=r": more than 100,000 layers; a spec may hold at most that$"
    ):
        parse_spec("\n".join(lines), "yaml")  # fmt: skip


def test_yaml_without_pyyaml_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)  # `import yaml` now raises ImportError
    message = "YAML needs PyYAML, which is not installed: pip install convcost[yaml]"
    with pytest.raises(SpecError, match=re.escape(message)):
        parse_spec("input: 3x8x8", "yaml")
    with pytest.raises(SpecError, match=re.escape(message)):
        dump_spec(EXAMPLE, "yaml")


def test_an_unknown_format_is_a_field_error() -> None:
    with pytest.raises(ConvCostError, match="format must be one of 'toml', 'json', 'yaml'"):
        parse_spec("", "ini")  # type: ignore[arg-type]


# --- writing --------------------------------------------------------------------------

SMALL = Network(
    name='small "net"',
    input_shape=Shape(3, (8, 8)),
    layers=(
        Conv(out_channels=4, kernel_size=(3, 1), padding=((1, 1), (0, 0))),
        Residual(body=(Activation(function="relu"),)),
        MaxPool(kernel_size=2),  # stride None reads back as 2: written only when it differs
        Flatten(),
        Linear(out_features=2, bias=False),
        Dropout(p=0.25),
    ),
)

CANONICAL = {
    "toml": """\
name = "small \\"net\\""
input = "3x8x8"

[[layers]]
type = "conv"
out_channels = 4
kernel_size = [3, 1]
padding = [[1, 1], [0, 0]]

[[layers]]
type = "residual"
body = [
  { type = "activation", function = "relu" }
]

[[layers]]
type = "max_pool"
kernel_size = 2

[[layers]]
type = "flatten"

[[layers]]
type = "linear"
out_features = 2
bias = false

[[layers]]
type = "dropout"
p = 0.25
""",
    "json": """\
{
  "name": "small \\"net\\"",
  "input": "3x8x8",
  "layers": [
    {"type": "conv", "out_channels": 4, "kernel_size": [3, 1], "padding": [[1, 1], [0, 0]]},
    {"type": "residual", "body": [
      {"type": "activation", "function": "relu"}
    ]},
    {"type": "max_pool", "kernel_size": 2},
    {"type": "flatten"},
    {"type": "linear", "out_features": 2, "bias": false},
    {"type": "dropout", "p": 0.25}
  ]
}
""",
    "yaml": """\
name: "small \\"net\\""
input: 3x8x8
layers:
- type: conv
  out_channels: 4
  kernel_size: [3, 1]
  padding:
  - [1, 1]
  - [0, 0]
- type: residual
  body:
  - {type: activation, function: relu}
- {type: max_pool, kernel_size: 2}
- {type: flatten}
- {type: linear, out_features: 2, bias: false}
- {type: dropout, p: 0.25}
""",
}


@pytest.mark.parametrize("spec_format", FORMATS)
def test_the_canonical_form(spec_format: Any) -> None:
    """No defaults table, every field that differs from its default, lists for tuples."""
    assert dump_spec(SMALL, spec_format) == CANONICAL[spec_format]


GRAPH = Network(
    input_shape=Shape(3, (8, 8)),
    layers=(
        Conv(name="stem", out_channels=4, kernel_size=3, padding=1),
        Conv(name="skip", inputs=("input",), out_channels=4, kernel_size=1),
        Add(name="sum", inputs=("stem", "skip")),
        Conv(name="head", out_channels=2, kernel_size=1),
    ),
    outputs=("head", "sum"),
    naming="flat",
)


@pytest.mark.parametrize("spec_format", FORMATS)
def test_a_graph_round_trips(spec_format: Any) -> None:
    """Named inputs, a join layer, several outputs and flat naming are written and read."""
    text = dump_spec(GRAPH, spec_format)
    assert parse_spec(text, spec_format) == GRAPH
    cost = network_cost(parse_spec(text, spec_format))
    assert [str(shape) for shape in cost.output_shapes] == ["2x8x8", "4x8x8"]


def test_nesting_too_deep_cannot_be_built() -> None:
    node: Node = Flatten()
    for _ in range(MAX_DEPTH + 1):
        node = Sequential(layers=(node,))
    with pytest.raises(ConvCostError, match=r"blocks nest at most 32 deep$"):
        Network(input_shape=Shape(3), layers=(node,), name="deep")


@pytest.mark.parametrize("spec_format", FORMATS)
@given(network=networks())
@example(network=SMALL)
@example(network=EXAMPLE)
def test_reading_what_was_written_gives_the_network_back(
    spec_format: Any, network: Network
) -> None:
    """Domain: every network whose shapes fit (the reader checks them), every layer type
    and block, names drawn from all of Unicode."""
    text = dump_spec(network, spec_format)
    assert parse_spec(text, spec_format) == network
    assert dump_spec(parse_spec(text, spec_format), spec_format) == text  # canonical


def assert_read_or_refused(text: str, spec_format: Any) -> None:
    """A network, or a one-line `SpecError`: never another exception."""
    try:
        result: Network | SpecError = parse_spec(text, spec_format)
    except SpecError as error:
        result = error
    assert isinstance(result, Network) or "\n" not in str(result)


@pytest.mark.parametrize("spec_format", FORMATS)
@given(text=st.text())
def test_any_text_reads_as_a_network_or_a_spec_error(spec_format: Any, text: str) -> None:
    """Domain: all text. Never another exception (that would be a traceback at the CLI)."""
    assert_read_or_refused(text, spec_format)


@pytest.mark.parametrize("spec_format", FORMATS)
@given(network=networks(max_layers=3), data=st.data())
def test_a_damaged_spec_reads_as_a_network_or_a_spec_error(
    spec_format: Any, network: Network, data: st.DataObject
) -> None:
    """Domain: a written spec with one slice cut out or replaced: mostly still parseable
    text, so the damage reaches the checks past the parser."""
    text = dump_spec(network, spec_format)
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, min(len(text), start + 12)))
    patch = data.draw(st.sampled_from(["", "0", "-1", "[", "]", "{", '"', "true", "x", "\n"]))
    assert_read_or_refused(text[:start] + patch + text[end:], spec_format)


VOCABULARY = st.sampled_from(
    ["type", "input", "layers", "body", "shortcut", "branches", "merge", "name", "defaults",
     "out_channels", "kernel_size", "stride", "padding", "bias", "p", "function", "same_padding",
     *LAYER_TYPES, "relu", "dense", "same", "valid", "3x8x8", "conv"]
)  # fmt: skip
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 9) | st.floats() | VOCABULARY,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(VOCABULARY, inner, max_size=5),
    max_leaves=30,
)


@given(
    layers=st.lists(st.dictionaries(VOCABULARY, JSON_VALUES, max_size=5), max_size=4),
    extra=st.dictionaries(VOCABULARY, JSON_VALUES, max_size=2),
)
def test_any_structure_reads_as_a_network_or_a_spec_error(
    layers: list[dict[str, Any]], extra: dict[str, Any]
) -> None:
    """Domain: JSON and YAML documents built from the format's own words, nested anyhow."""
    document = {
        "input": "3x8x8",
        **extra,
        "layers": [{"type": "conv", **layer} for layer in layers],
    }
    for text, spec_format in ((yaml.safe_dump(document), "yaml"), (json.dumps(document), "json")):
        assert_read_or_refused(text, spec_format)


def test_the_network_strategy_reaches_every_type() -> None:
    """The round trip above is only as good as its domain: every type must be drawn."""
    wanted = set(LAYER_TYPES.values())
    seen: set[type] = set()

    class AllSeen(Exception):
        """Every type has been drawn: stop drawing."""

    @settings(max_examples=3_000, phases=[Phase.generate], derandomize=True, database=None)
    @given(networks())
    def record(network: Network) -> None:
        seen.update(type(node) for node in nodes_of(network.layers))
        if seen >= wanted:
            raise AllSeen

    with contextlib.suppress(AllSeen):
        record()
    assert {*LEAF_STRATEGIES, *GRAPH_JOINS, Sequential, Residual, Parallel} == wanted
    assert seen == wanted
