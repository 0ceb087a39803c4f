"""ONNX models in: `convcost.onnx.from_onnx` against PyTorch, onnx-tool, ONNX itself, and abuse.

Four kinds of test:

* **the torchvision fixtures** (tests/data/onnx, weights stripped; figures measured once in
  PyTorch and onnx-tool by scripts/fixtures/make_onnx.py): parameters, buffers and
  ``FlopCounterMode`` / 2 exactly, row names and per-module FLOPs equal to PyTorch's leaf
  modules, the ``onnx-tool`` profile equal to onnx-tool's totals, ``compare`` on each;
* **one operator at a time**, built with ``onnx.helper`` (skipped without the onnx
  package): each operator and hyper-parameter of docs/onnx.md costs what convcost's own
  layer costs on the same shape, and gives the shape ONNX's own shape inference gives;
* **graphs built as records** (standard library only): constant folding, names, stages,
  operators convcost does not know, every way a graph can be wrong;
* **laws**: any bytes, any truncation of a fixture, any small random graph give a
  `Network` that costs, or a `ModelFileError`, never another exception; a 100 MB garbage
  file is refused in bounded memory.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import random
import tracemalloc
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from convcost.conventions import count
from convcost.costs import LayerCost, join_cost, layer_cost
from convcost.errors import FieldError, ModelFileError
from convcost.layers import (
    Activation,
    Add,
    AvgPool,
    BatchNorm,
    Concat,
    Conv,
    ConvTranspose,
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
    Upsample,
    ZeroPad,
)
from convcost.network import Network, NetworkCost, network_cost
from convcost.onnx import MAX_OPSET, MIN_OPSET, from_onnx, not_counted_rows
from convcost.onnxproto import Dim, Graph, Model, Node, Tensor, ValueInfo, parse_model
from convcost.report import compare_families
from convcost.shapes import Shape
from convcost.sources import load_network
from convcost.specs import dump_spec, parse_spec

ONNX_DIR = Path(__file__).parent / "data" / "onnx"
FIGURES: dict[str, Any] = json.loads((ONNX_DIR / "figures.json").read_text(encoding="utf-8"))
MODELS = tuple(FIGURES["models"])


@functools.cache
def fixture(name: str) -> tuple[Network, NetworkCost]:
    network = from_onnx(ONNX_DIR / FIGURES["models"][name]["file"])
    return network, network_cost(network)


# --- the torchvision fixtures, against PyTorch's own figures ------------------------------------


@pytest.mark.parametrize("name", MODELS)
def test_a_fixture_counts_what_pytorch_counts(name: str) -> None:
    """sum(p.numel()) for parameters, buffers (BN running statistics) as non-trainable
    parameters, FlopCounterMode's FLOPs / 2 as MACs, and the output shape: exactly."""
    figures = FIGURES["models"][name]
    _, cost = fixture(name)
    totals = cost.totals
    assert totals.params == figures["trainable_params"] == figures["params"]
    assert totals.non_trainable_params == figures["buffers"]
    assert 2 * totals.macs == figures["flop_counter_flops"]
    assert (1, *cost.output_shape.channels_last()[::-1]) == tuple(figures["output"])
    assert not not_counted_rows(cost)


# Leaf modules that are no row of their own, and why: eval-mode Dropout and StochasticDepth,
# and an empty Sequential, export no node; SiLU and GELU export as several nodes
# (Sigmoid then Mul; Div, Erf, Add, Mul, Mul), rows named "module/Sigmoid" and so on.
NO_NODE_OF_THEIR_OWN = frozenset({"Dropout", "StochasticDepth", "Sequential", "SiLU", "GELU"})


@pytest.mark.parametrize("name", MODELS)
def test_rows_are_named_and_cost_as_pytorch_leaf_modules(name: str) -> None:
    figures = FIGURES["models"][name]
    _, cost = fixture(name)
    rows = {row.name: row.cost for row in cost.rows}
    for module, cls, params in figures["leaf_modules"]:
        if module in rows:
            assert rows[module].params == params, module
        else:
            assert not params, f"{module} ({cls}) holds {params} parameters and is no row"
            assert cls in NO_NODE_OF_THEIR_OWN, f"{module} ({cls}) is no row"
    for module, flops in figures["leaf_flops"].items():
        assert 2 * rows[module].macs == flops, module
    # Parameters a module holds itself (ConvNeXt's layer_scale) are its own rows'.
    for module, _, params in figures["params_outside_leaves"]:
        own = sum(cost.params for row, cost in rows.items() if row.startswith(f"{module}/"))
        assert own == params, module


@pytest.mark.parametrize("name", MODELS)
def test_the_onnx_tool_profile_gives_onnx_tools_totals(name: str) -> None:
    """onnx-tool 1.0.1's model_profile() on the full-weight file: its MACs and its params
    (every initializer: parameters and BN statistics)."""
    peer = FIGURES["models"][name]["onnx_tool"]
    _, cost = fixture(name)
    assert cost.totals.total_params == peer["params"]
    ours = count(cost, "onnx-tool").total
    if name == "shufflenet_v2_x1_0":
        # Two exact differences. (1) onnx-tool also counts the shape arithmetic of the 13
        # channel splits (x.chunk(2, dim=1): Shape, Gather, Add, Div, Mul on one-element
        # tensors): 13 Add × 1 + 13 Div × 4 + 26 Mul × 1 = 91 operations of no layer.
        # (2) Its final x.mean([2, 3]) is a ReduceMean, which onnx-tool counts as its input
        # elements only; convcost reads it as global average pooling, which the profile
        # counts as onnx-tool counts GlobalAveragePool: input + 4 × output, +4 × 1,024.
        assert (
            peer["macs_by_op"]["Add"] + peer["macs_by_op"]["Div"] + peer["macs_by_op"]["Mul"] == 91
        )
        assert ours == peer["macs"] - 91 + 4 * 1024
    else:
        assert ours == peer["macs"]


@pytest.mark.parametrize("name", MODELS)
def test_compare_rewrites_the_convolutions_of_a_fixture(name: str) -> None:
    network, cost = fixture(name)
    regular = sum(
        isinstance(row.cost.layer, Conv) and row.cost.kind == "regular" for row in cost.rows
    )
    report = compare_families(network)
    assert report.comparison.costs[0].totals == cost.totals
    for family, stats in zip(report.comparison.families[1:], report.comparison.rewrites[1:]):
        assert stats.rewritten == regular, family
    if regular:
        assert report.comparison.ratio("depthwise_separable", "macs") < 1  # type: ignore[operator]


def test_resnet18_has_one_stage_per_torch_stage() -> None:
    """The top-level modules holding others are the stages; the rest are layers."""
    _, cost = fixture("resnet18")
    assert list(cost.groups()) == [None, "layer1", "layer2", "layer3", "layer4"]
    report = compare_families(fixture("resnet18")[0])
    labels = [cells[0].text for cells in report.tables[0].sections[0]]  # type: ignore[union-attr]
    assert labels == ["conv1", "bn1", "layer1", "layer2", "layer3", "layer4", "fc"]


def test_torchvision_features_are_split_into_their_blocks() -> None:
    """One top-level module holds most of MobileNetV2: its children are the stages."""
    _, cost = fixture("mobilenet_v2")
    stages = [group for group in cost.groups() if group]
    assert stages == [f"features.{i}" for i in range(19)]


@pytest.mark.parametrize("name", ["resnet18", "convnext_tiny", "shufflenet_v2_x1_0"])
def test_a_model_read_from_onnx_writes_a_spec_that_reads_back(name: str) -> None:
    network, _ = fixture(name)
    assert parse_spec(dump_spec(network, "json"), "json") == network


def test_an_operators_type_is_its_name_in_the_file() -> None:
    """ConvNeXt's operators without a layer family show as the file names them (MatMul,
    LayerNormalization, Erf) in the table's Type column and as `op_type` in JSON."""
    from convcost.report import summary

    _, cost = fixture("convnext_tiny")
    report = summary(cost.network)
    types = {row[1] for section in report.tables[0].sections for row in section}
    assert {"MatMul", "LayerNormalization", "Erf", "Conv"} <= types
    assert "Operator" not in types
    rows = json.loads(report.to_json())["rows"]
    operators = [row for row in rows if row["type"] == "Operator"]
    assert operators
    assert all(isinstance(row["op_type"], str) for row in operators)
    assert not any("op_type" in row for row in rows if row["type"] == "Conv")


def test_folding_batch_norm_into_the_convolutions() -> None:
    """The default eval export folds BN: conv biases replace γ, β and the statistics."""
    figures = FIGURES["models"]["resnet18"]
    folded = figures["variants"]["bn_folded"]
    cost = network_cost(from_onnx(ONNX_DIR / folded["file"]))
    kept = fixture("resnet18")[1]
    bn_channels = figures["buffers"] // 2  # running mean and variance: C each
    assert cost.totals.params == figures["params"] - 2 * bn_channels + bn_channels
    assert cost.totals.total_params == folded["onnx_tool"]["params"] == 11_684_712
    assert cost.totals.non_trainable_params == 0
    assert cost.totals.macs == kept.totals.macs
    assert cost.totals.bias_adds == kept.totals.bias_adds + sum(
        row.cost.output_shape.numel for row in kept.rows if isinstance(row.cost.layer, BatchNorm)
    )
    assert count(cost, "onnx-tool").total == folded["onnx_tool"]["macs"]


def test_a_symbolic_batch_is_one_sample() -> None:
    dynamic = FIGURES["models"]["resnet18"]["variants"]["dynamic_batch"]
    assert dynamic["onnx_inputs"]["input"][0] == "batch"
    cost = network_cost(from_onnx(ONNX_DIR / dynamic["file"]))
    assert cost.totals == fixture("resnet18")[1].totals


@pytest.mark.parametrize("size", [224, 320, 97])
def test_input_replaces_the_sizes_of_a_model(size: int) -> None:
    """--input on the dynamic-batch export equals the resnet18 preset at that size."""
    shape = Shape(3, (size, size))
    dynamic = FIGURES["models"]["resnet18"]["variants"]["dynamic_batch"]["file"]
    ours = network_cost(from_onnx(ONNX_DIR / dynamic, shape)).totals
    assert ours == network_cost(load_network("resnet18", input_shape=shape)).totals


def test_input_must_fit_the_model() -> None:
    with pytest.raises(ModelFileError, match=r"--input 1x224x224 has 1 channels.*has 3"):
        from_onnx(ONNX_DIR / "resnet18.onnx", Shape(1, (224, 224)))
    with pytest.raises(ModelFileError, match="has 2 sizes"):
        from_onnx(ONNX_DIR / "resnet18.onnx", Shape(3, (224,)))
    with pytest.raises(FieldError, match="input_shape"):
        from_onnx(ONNX_DIR / "resnet18.onnx", "3x224x224")  # type: ignore[arg-type]


# --- graphs as records (standard library only) ------------------------------------------------

FLOAT, INT64 = 1, 7


def value(name: str, dims: Sequence[Dim] | None) -> ValueInfo:
    return ValueInfo(name=name, elem_type=FLOAT, shape=None if dims is None else tuple(dims))


def record(
    nodes: Sequence[Node],
    *,
    x: Sequence[Dim] | None = (1, 4, 8, 8),
    outputs: Sequence[str] = ("y",),
    weights: Mapping[str, Sequence[int]] = {},
    constants: Mapping[str, Sequence[int]] = {},
    value_info: Mapping[str, Sequence[Dim]] = {},
    opset: int = 17,
    inputs: Sequence[ValueInfo] | None = None,
) -> Model:
    """A model of `nodes` on one input ``x``: `weights` float initializers (dims only, as in
    a stripped file), `constants` int64 initializers with their values."""
    initializers = {
        name: Tensor(name=name, data_type=FLOAT, dims=tuple(dims)) for name, dims in weights.items()
    }
    for name, numbers in constants.items():
        initializers[name] = Tensor(
            name=name, data_type=INT64, dims=(len(numbers),), values=tuple(numbers)
        )
    return Model(
        ir_version=8,
        opset_imports={"": opset},
        graph=Graph(
            name="g",
            nodes=tuple(nodes),
            initializers=initializers,
            inputs=tuple(inputs) if inputs is not None else (value("x", x),),
            outputs=tuple(value(name, None) for name in outputs),
            value_info=tuple(value(name, dims) for name, dims in value_info.items()),
        ),
    )


def op(
    op_type: str,
    inputs: Sequence[str],
    outputs: Sequence[str] = ("y",),
    name: str = "",
    **attributes: Any,
) -> Node:
    return Node(
        op_type=op_type,
        name=name,
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        attributes=attributes,
    )


def shuffle_split(opset: int = 17) -> Model:
    """ShuffleNet's x.chunk(2, dim=1): the split point computed from the input's shape."""
    return record(
        [
            op("Shape", ["x"], ["s"]),
            op(
                "Constant",
                [],
                ["one"],
                value=Tensor(name="", data_type=INT64, dims=(1,), values=(1,)),
            ),
            op("Gather", ["s", "one"], ["c"], axis=0),
            op("Add", ["c", "one"], ["c1"]),
            op(
                "Constant",
                [],
                ["two"],
                value=Tensor(name="", data_type=INT64, dims=(1,), values=(2,)),
            ),
            op("Div", ["c1", "two"], ["half"]),
            op(
                "Constant",
                [],
                ["zero"],
                value=Tensor(name="", data_type=INT64, dims=(1,), values=(0,)),
            ),
            op("Slice", ["x", "zero", "half", "one"], ["a"], name="/stage/Slice"),
            op("Slice", ["x", "half", "c", "one"], ["b"], name="/stage/Slice_1"),
            op("Relu", ["b"], ["r"], name="/stage/branch/branch.0/Relu"),
            op("Concat", ["a", "r"], ["y"], name="/stage/Concat", axis=1),
        ],
        x=(1, 6, 5, 5),
    )


def test_shape_arithmetic_is_followed_value_by_value() -> None:
    """Never a tensor of unknown size counted as nothing: the split point is 3 of 6."""
    cost = network_cost(from_onnx(shuffle_split()))
    shapes = {
        row.name: (type(row.cost.layer).__name__, str(row.cost.output_shape)) for row in cost.rows
    }
    assert shapes == {
        "stage/Slice": ("Select", "3x5x5"),
        "stage/Slice_1": ("Select", "3x5x5"),
        "stage.branch.0": ("Activation", "3x5x5"),
        "stage/Concat": ("Concat", "6x5x5"),
    }


def test_node_names_become_module_names_and_stages() -> None:
    model = record(
        [
            op("Conv", ["x", "w1"], ["a"], name="/stem/Conv", pads=(1, 1, 1, 1)),
            op("Relu", ["a"], ["b"], name="/stem_act/Relu"),
            op("Conv", ["b", "w2"], ["c"], name="/layer1/layer1.0/conv1/Conv", pads=(1, 1, 1, 1)),
            op("Add", ["c", "b"], ["d"], name="/layer1/layer1.0/Add"),
            op("Relu", ["d"], ["e"], name="/layer1/layer1.0/relu/Relu"),
            op("Relu", ["e"], ["f"], name="/layer1/layer1.0/relu_1/Relu"),
            op("Transpose", ["f"], ["g"], name="/head/norm/Transpose", perm=(0, 2, 3, 1)),
            op("LayerNormalization", ["g", "s", "t"], ["h"], name="/head/norm/LayerNormalization"),
            op("Transpose", ["h"], ["i"], name="/head/norm/Transpose_1", perm=(0, 3, 1, 2)),
            op("Relu", ["i"], ["j"], name="custom relu"),
            op("Relu", ["j"], ["y"], name="custom relu"),
        ],
        weights={"w1": (4, 4, 3, 3), "w2": (4, 4, 3, 3), "s": (4,), "t": (4,)},
    )
    network = from_onnx(model)
    cost = network_cost(network)
    assert [(row.group, row.name) for row in cost.rows] == [
        (None, "stem"),
        (None, "stem_act"),
        ("layer1", "layer1.0.conv1"),
        ("layer1", "layer1.0/Add"),
        ("layer1", "layer1.0.relu"),
        ("layer1", "layer1.0.relu_1"),
        ("head", "head.norm/Transpose"),
        ("head", "head.norm"),  # the one row of the module with weights
        ("head", "head.norm/Transpose_1"),
        (None, "custom relu"),
        (None, "custom relu_1"),
    ]
    assert network.naming == "flat"
    assert network.outputs == ("custom relu_1",)


def test_a_channels_last_layer_norm_and_linear_keep_their_channels() -> None:
    """ConvNeXt's block: a transpose to channels-last is a layout, not new channels; the
    MatMul by a weight and the Add of a bias are one row, as PyTorch's Linear is one."""
    model = record(
        [
            op("Transpose", ["x"], ["a"], name="/b/b.1/Transpose", perm=(0, 2, 3, 1)),
            op("LayerNormalization", ["a", "s", "t"], ["n"], name="/b/b.2/LayerNormalization"),
            op("MatMul", ["n", "w"], ["m"], name="/b/b.3/MatMul"),
            op("Add", ["bias", "m"], ["p"], name="/b/b.3/Add"),
            op("Transpose", ["p"], ["y"], name="/b/b.6/Transpose", perm=(0, 3, 1, 2)),
        ],
        weights={"s": (4,), "t": (4,), "w": (4, 16), "bias": (16,)},
    )
    cost = network_cost(from_onnx(model))
    rows = {row.name: row.cost for row in cost.rows}
    assert str(rows["b.1"].output_shape) == "4x8x8"
    linear = rows["b.3"]
    assert (str(linear.output_shape), linear.params, linear.bias, linear.macs) == (
        "16x8x8",
        4 * 16 + 16,
        16,
        64 * 4 * 16,
    )
    assert linear.kind == "dense"
    assert count(cost, "onnx-tool").breakdown["normalization"] == 7 * 256 + 29 * 64
    assert str(cost.output_shape) == "16x8x8"


def test_an_unknown_operator_is_a_row_flagged_not_counted() -> None:
    model = record(
        [
            op("Relu", ["x"], ["a"]),
            Node(op_type="FancyAttention", domain="com.example", inputs=("a", "w"), outputs=("b",)),
            op("Conv", ["b", "k"], ["y"]),
        ],
        weights={"w": (4, 4), "k": (2, 4, 1, 1)},
        value_info={"b": ("batch", 4, 8, 8)},
        x=("batch", 4, 8, 8),
    )
    cost = network_cost(from_onnx(model))
    (flagged,) = not_counted_rows(cost)
    assert isinstance(flagged.cost.layer, NotCounted)
    assert flagged.cost.layer.op_type == "FancyAttention"
    assert (str(flagged.cost.output_shape), flagged.cost.params, flagged.cost.macs) == (
        "4x8x8",
        16,
        0,
    )
    assert flagged.cost.kind == "not_counted"
    assert cost.rows[-1].cost.macs == 2 * 4 * 64  # the layers after it are counted
    with pytest.raises(
        ModelFileError,
        match=r"1 node of operators convcost does not know: .*FancyAttention.*--strict",
    ):
        from_onnx(model, strict=True)


def test_an_unknown_operator_without_shapes_asks_for_them() -> None:
    model = record(
        [op("Relu", ["x"], ["a"]), op("Mystery", ["a"], ["b"]), op("Relu", ["b"], ["y"])]
    )
    with pytest.raises(ModelFileError, match=r"does not know 'Mystery'.*infer_shapes"):
        from_onnx(model)


# --- every way a graph can be wrong: one line naming the file ---------------------------------


def refused(model: Model | Path | str, match: str, **kwargs: Any) -> str:
    with pytest.raises(ModelFileError, match=match) as caught:
        from_onnx(model, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_cycle_is_refused_naming_a_node_on_it() -> None:
    model = record(
        [
            op("Relu", ["x"], ["a"], name="before"),
            op("Add", ["a", "c"], ["b"], name="first"),
            op("Relu", ["b"], ["c"], name="second"),
            op("Relu", ["c"], ["y"], name="after"),
        ]
    )
    message = refused(model, "the graph has a cycle through node")
    assert "'first'" in message or "'second'" in message


def test_an_unknown_input_is_refused() -> None:
    refused(
        record([op("Add", ["x", "ghost"], ["y"], name="n")]),
        r"node 'n' \('Add'\) reads 'ghost', which no node, input or initializer gives",
    )


def test_a_value_given_twice_is_refused() -> None:
    refused(record([op("Relu", ["x"], ["y"]), op("Relu", ["x"], ["y"])]), "given twice")


@pytest.mark.parametrize("version", [MIN_OPSET - 1, MAX_OPSET + 1, 1_000])
def test_an_opset_convcost_cannot_read_is_refused(version: int) -> None:
    refused(
        record([op("Relu", ["x"], ["y"])], opset=version),
        rf"opset {version} .*convcost reads opsets 7 to {MAX_OPSET}",
    )


def test_a_model_without_the_default_opset_is_refused() -> None:
    model = record([op("Relu", ["x"], ["y"])])
    bare = Model(ir_version=8, graph=model.graph, opset_imports={"com.example": 1})
    refused(bare, "declares no opset")


@pytest.mark.parametrize(
    ("x", "given", "match"),
    [
        (("batch", 3, "h", "w"), None, r"sizes the file does not fix \(batch x3xhxw|--input"),
        (None, None, "has no shape in the file; give it with --input"),
        ((4, 3, 8, 8), None, "a batch of 4 .* one sample"),
        ((), None, "is a scalar"),
        ((1, 3, 0, 8), None, r"has an empty axis \(1x3x0x8\)"),
    ],
)
def test_missing_or_impossible_input_shapes_are_refused(
    x: Sequence[Dim] | None, given: Shape | None, match: str
) -> None:
    refused(record([op("Relu", ["x"], ["y"])], x=x), match, input_shape=given)


def test_symbolic_sizes_are_bound_by_input() -> None:
    model = record(
        [op("Conv", ["x", "w"], ["y"], strides=(2, 2))],
        x=("N", 3, "H", "W"),
        weights={"w": (8, 3, 3, 3)},
        value_info={"y": ("N", 8, "oh", "ow")},
    )
    refused(model, "give them with --input")
    cost = network_cost(from_onnx(model, Shape(3, (9, 11))))
    assert str(cost.output_shape) == "8x4x5"


def test_two_inputs_are_refused() -> None:
    model = record([op("Add", ["x", "z"], ["y"])], inputs=(value("x", (1, 2)), value("z", (1, 2))))
    refused(model, "has 2 inputs .* convcost reads models of one")


def test_a_shape_that_contradicts_the_file_is_refused() -> None:
    model = record([op("Relu", ["x"], ["y"], name="r")], value_info={"y": (1, 4, 9, 9)})
    refused(model, "convcost finds its output 'y' of shape 1x4x8x8, but the file declares 1x4x9x9")


def test_a_ceil_mode_window_that_starts_in_the_padding_is_dropped() -> None:
    """AveragePool(2, stride 2, pads 1, ceil_mode) on 4×3: PyTorch's AvgPool2d gives 3×2
    (torch 2.13.0 and 2.14.1; its last column's window would start in the right padding,
    so it is dropped), and so does convcost; ONNX's shape inference (onnx 1.23.2) keeps that
    window and gives 3×3, which a PyTorch export declares. convcost counts the graph's
    shapes and, from that node on, no longer checks the file's declared ones."""
    pool = op("AveragePool", ["x"], ["p"], name="pool", kernel_shape=(2, 2), strides=(2, 2),
              pads=(1, 1, 1, 1), ceil_mode=1)  # fmt: skip
    model = record(
        [pool, op("Relu", ["p"], ["y"], name="relu")],
        x=(1, 1, 4, 3),
        value_info={"p": (1, 1, 3, 3), "y": (1, 1, 3, 3)},
    )
    cost = network_cost(from_onnx(model))
    assert [row.cost.output_shape for row in cost.rows] == [Shape(1, (3, 2))] * 2
    same_cost(cost.rows[0].cost, expected_cost(
        AvgPool(kernel_size=2, stride=2, padding=1, ceil_mode=True), Shape(1, (4, 3))))  # fmt: skip
    assert cost.totals.macs == 0


def test_weights_that_do_not_fit_are_refused() -> None:
    model = record([op("Conv", ["x", "w"], ["y"], name="c")], weights={"w": (8, 3, 3, 3)})
    refused(model, r"node 'c' \('Conv'\): weight 8x3x3x3 with group 1 does not read 4 channels")


def test_nothing_to_count_is_refused() -> None:
    refused(record([op("Constant", [], ["y"], value_float=1.0)]), "no node of the graph reads")


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"hello, I am not a model\n", "truncated or not an ONNX model"),
        (b"", "is empty"),
        (b"\x08\x07", r"not an ONNX model \(no graph\)"),
    ],
)
def test_files_that_are_not_onnx_are_refused(tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(content)
    message = refused(path, match)
    assert message.startswith(f"{path}: ")


def test_a_missing_file_and_a_directory_are_refused(tmp_path: Path) -> None:
    refused(tmp_path / "missing.onnx", "no such file")
    refused(tmp_path, "is a directory")


def test_only_models_are_read() -> None:
    with pytest.raises(FieldError, match=r"an ONNX file name, an onnx\.ModelProto"):
        from_onnx(42)


def test_a_large_garbage_file_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    """100 MB: a plausible start (an IR version, then a graph field as long as the file)
    and random bytes. Refused without reading the file into memory."""
    size = 100 * 2**20
    path = tmp_path / "garbage.onnx"
    block = random.Random(15).randbytes(2**20)
    head = b"\x08\x08" + b"\x3a" + _varint(size - 8)
    with path.open("wb") as file:
        file.write(head)
        for _ in range(100):
            file.write(block)
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError):
            from_onnx(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20, f"refusing it used {peak:,} bytes"


def _varint(number: int) -> bytes:
    out = bytearray()
    while number > 0x7F:
        out.append(number & 0x7F | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


# --- laws: a Network that costs, or a ModelFileError ------------------------------------------


def read_or_refused(source: Model | bytes, **kwargs: Any) -> None:
    try:
        model = parse_model(source) if isinstance(source, bytes) else source
        network = from_onnx(model, **kwargs)
    except ModelFileError as error:
        message = str(error)
    else:
        network_cost(network)
        return
    assert "\n" not in message


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
@example(b"")
def test_any_bytes_read_as_a_network_or_a_model_file_error(data: bytes) -> None:
    read_or_refused(data)


FIXTURE_BYTES = {
    name: (ONNX_DIR / f"{name}.onnx").read_bytes()
    for name in ("resnet18", "twin", "shufflenet_v2_x1_0")
}


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(FIXTURE_BYTES)), st.data())
def test_a_damaged_fixture_reads_as_a_network_or_a_model_file_error(
    name: str, data: st.DataObject
) -> None:
    """Truncated, or a byte changed: the reader's checks, then the converter's."""
    raw = bytearray(FIXTURE_BYTES[name])
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    else:
        position = data.draw(st.integers(0, len(raw) - 1))
        raw[position] = data.draw(st.integers(0, 255))
    read_or_refused(bytes(raw))


# Random small graphs from the operators convcost reads and some it does not, with inputs
# drawn among the tensors so far, constants and weights of random shapes, and attributes
# from ONNX's own vocabulary: the handlers must refuse what does not fit, never crash.
OPERATORS = (
    "Conv",
    "ConvTranspose",
    "Gemm",
    "MatMul",
    "BatchNormalization",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "Relu",
    "Clip",
    "Sigmoid",
    "HardSigmoid",
    "HardSwish",
    "LeakyRelu",
    "Tanh",
    "Softmax",
    "Elu",
    "Gelu",
    "Add",
    "Mul",
    "Sum",
    "Concat",
    "Flatten",
    "Dropout",
    "Identity",
    "Pad",
    "Resize",
    "Upsample",
    "ReduceMean",
    "ReduceSum",
    "Reshape",
    "Transpose",
    "Squeeze",
    "Unsqueeze",
    "Slice",
    "Split",
    "Gather",
    "Shape",
    "Size",
    "Sub",
    "Div",
    "Erf",
    "Pow",
    "LayerNormalization",
    "InstanceNormalization",
    "DepthToSpace",
    "Expand",
    "Tile",
    "Where",
    "Cast",
    "ConstantOfShape",
    "Range",
    "ArgMax",
    "Unknown",
)
SMALL_INTS = st.integers(-3, 5)
ATTRIBUTE_VALUES = st.one_of(
    SMALL_INTS,
    st.lists(SMALL_INTS, max_size=8).map(tuple),
    st.sampled_from(
        [
            "NOTSET",
            "SAME_UPPER",
            "SAME_LOWER",
            "VALID",
            "nearest",
            "linear",
            "constant",
            "reflect",
            "x",
        ]
    ),
    st.floats(-2, 7, allow_nan=False),
    st.none(),
)
ATTRIBUTE_NAMES = (
    "kernel_shape",
    "strides",
    "pads",
    "dilations",
    "group",
    "auto_pad",
    "ceil_mode",
    "axis",
    "axes",
    "perm",
    "keepdims",
    "transA",
    "transB",
    "output_padding",
    "output_shape",
    "mode",
    "blocksize",
    "split",
    "min",
    "max",
    "allowzero",
    "to",
    "value",
)
DIMS = st.lists(st.integers(0, 5), max_size=5).map(tuple)


@st.composite
def random_models(draw: st.DrawFn) -> Model:
    x: tuple[Dim, ...] = tuple(draw(st.lists(st.integers(1, 5), min_size=2, max_size=5)))
    batch: Dim = draw(st.sampled_from([1, 1, 1, "N", 2]))  # type: ignore[assignment]
    x = (batch, *x[1:])
    names = ["x"]
    weights: dict[str, tuple[int, ...]] = {}
    constants: dict[str, tuple[int, ...]] = {}
    nodes = []
    value_info: dict[str, tuple[Dim, ...]] = {}
    for index in range(draw(st.integers(1, 6))):
        operator = draw(st.sampled_from(OPERATORS))
        inputs = []
        for slot in range(draw(st.integers(1, 4))):
            source = draw(st.sampled_from(["tensor", "tensor", "weight", "constant", "none"]))
            if source == "tensor" or slot == 0:
                inputs.append(draw(st.sampled_from(names)))
            elif source == "weight":
                name = f"w{index}_{slot}"
                weights[name] = draw(DIMS)
                inputs.append(name)
            elif source == "constant":
                name = f"c{index}_{slot}"
                constants[name] = tuple(draw(st.lists(SMALL_INTS, max_size=6)))
                inputs.append(name)
            else:
                inputs.append("")
        attributes = draw(
            st.dictionaries(st.sampled_from(ATTRIBUTE_NAMES), ATTRIBUTE_VALUES, max_size=4)
        )
        outputs = [f"t{index}"] + ([f"t{index}b"] if draw(st.booleans()) else [])
        nodes.append(
            op(
                operator,
                inputs,
                outputs,
                name=f"/m{index % 2}/n{index}/{operator}",
                **{k: v for k, v in attributes.items() if v is not None},
            )
        )
        for output in outputs:
            if draw(st.integers(0, 3)) == 0:
                value_info[output] = tuple(draw(st.lists(st.integers(0, 6), max_size=5)))
        names += outputs
    return record(
        nodes,
        x=x,
        outputs=(names[-1],),
        weights=weights,
        constants=constants,
        value_info=value_info,
        opset=draw(st.sampled_from([9, 11, 13, 17, 18, 20])),
    )


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(random_models(), st.booleans())
def test_any_small_graph_reads_as_a_network_or_a_model_file_error(
    model: Model, strict: bool
) -> None:
    read_or_refused(model, strict=strict)


# --- one operator at a time, built with onnx.helper ------------------------------------------


def helper_model(
    nodes: Sequence[Any],
    *,
    x: Sequence[int],
    weights: Mapping[str, Sequence[int]] = {},
    constants: Mapping[str, Sequence[int]] = {},
    floats: Mapping[str, Sequence[float]] = {},
    scalars: Mapping[str, float] = {},
    opset: int = 17,
    outputs: Sequence[str] = ("y",),
) -> Any:
    """A model of `nodes` on one input ``x``: `weights` float initializers of these dims,
    `constants` int64 vectors, `floats` float vectors, `scalars` 0-D floats."""
    onnx = pytest.importorskip("onnx")
    helper = onnx.helper
    FLOAT_, INT64_ = onnx.TensorProto.FLOAT, onnx.TensorProto.INT64
    initializers = [
        helper.make_tensor(name, FLOAT_, list(dims), [0.5] * math.prod(dims))
        for name, dims in weights.items()
    ]
    initializers += [
        helper.make_tensor(name, INT64_, [len(numbers)], list(numbers))
        for name, numbers in constants.items()
    ]
    initializers += [
        helper.make_tensor(name, FLOAT_, [len(numbers)], list(numbers))
        for name, numbers in floats.items()
    ]
    initializers += [
        helper.make_tensor(name, FLOAT_, [], [number]) for name, number in scalars.items()
    ]
    graph = helper.make_graph(
        list(nodes),
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, list(x))],
        [helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None) for name in outputs],
        initializer=initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def inferred_dims(model: Any, output: str = "y") -> tuple[int, ...]:
    """The output's shape by ONNX's own shape inference: an oracle independent of ours."""
    onnx = pytest.importorskip("onnx")
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    (info,) = [v for v in inferred.graph.output if v.name == output]
    return tuple(dim.dim_value for dim in info.type.tensor_type.shape.dim)


def node(
    op_type: str, inputs: Sequence[str], outputs: Sequence[str] = ("y",), **attributes: Any
) -> Any:
    onnx = pytest.importorskip("onnx")
    return onnx.helper.make_node(op_type, list(inputs), list(outputs), name="n", **attributes)


def expected_cost(layer: Layer, shape: Shape) -> LayerCost:
    return layer_cost(layer, shape)


def same_cost(ours: LayerCost, expected: LayerCost) -> None:
    assert type(ours.layer) is type(expected.layer)
    assert (
        ours.output_shape,
        ours.params,
        ours.non_trainable_params,
        ours.macs,
        ours.bias_adds,
    ) == (
        expected.output_shape,
        expected.params,
        expected.non_trainable_params,
        expected.macs,
        expected.bias_adds,
    )


def check(model: Any, x: Sequence[int], layer: Layer, *, row: int = -1) -> NetworkCost:
    """The node's row costs what `layer` costs on the input; the output has the shape ONNX
    infers. Checked through the onnx.ModelProto path and through a file."""
    network = from_onnx(model)
    cost = network_cost(network)
    shape = Shape(x[1], tuple(x[2:]))
    same_cost(cost.rows[row].cost, expected_cost(layer, shape))
    dims = inferred_dims(model)
    assert dims == (1, *(cost.output_shape.channels, *cost.output_shape.spatial)), dims
    assert from_onnx(parse_model(model.SerializeToString())) == network
    return cost


X = (1, 4, 9, 9)

CONVS: list[tuple[str, dict[str, Any], Sequence[int], Sequence[int], Layer]] = [
    (
        "pads",
        {"pads": [1, 1, 1, 1]},
        X,
        (8, 4, 3, 3),
        Conv(out_channels=8, kernel_size=3, padding=1, bias=False),
    ),
    (
        "asymmetric pads",
        {"pads": [0, 1, 2, 0]},
        X,
        (8, 4, 3, 3),
        Conv(out_channels=8, kernel_size=3, padding=((0, 2), (1, 0)), bias=False),
    ),
    (
        "strides",
        {"strides": [2, 2], "pads": [1, 1, 1, 1]},
        X,
        (8, 4, 3, 3),
        Conv(out_channels=8, kernel_size=3, stride=2, padding=1, bias=False),
    ),
    (
        "dilations",
        {"dilations": [2, 2]},
        X,
        (8, 4, 3, 3),
        Conv(out_channels=8, kernel_size=3, dilation=2, bias=False),
    ),
    (
        "groups",
        {"group": 2, "pads": [1, 1, 1, 1]},
        X,
        (8, 2, 3, 3),
        Conv(out_channels=8, kernel_size=3, padding=1, groups=2, bias=False),
    ),
    (
        "depthwise",
        {"group": 4},
        X,
        (8, 1, 3, 3),
        Conv(out_channels=8, kernel_size=3, groups=4, bias=False),
    ),
    (
        "same upper",
        {"auto_pad": "SAME_UPPER", "strides": [2, 2]},
        (1, 4, 10, 10),
        (8, 4, 4, 4),
        Conv(out_channels=8, kernel_size=4, stride=2, padding="same", bias=False),
    ),
    (
        "same lower",
        {"auto_pad": "SAME_LOWER", "strides": [2, 2]},
        (1, 4, 10, 10),
        (8, 4, 4, 4),
        Conv(out_channels=8, kernel_size=4, stride=2, padding=((1, 1), (1, 1)), bias=False),
    ),
    (
        "same lower odd",
        {"auto_pad": "SAME_LOWER", "strides": [2, 2]},
        (1, 4, 10, 10),
        (8, 4, 3, 3),
        Conv(out_channels=8, kernel_size=3, stride=2, padding=((1, 0), (1, 0)), bias=False),
    ),
    (
        "valid",
        {"auto_pad": "VALID", "strides": [2, 2]},
        X,
        (8, 4, 3, 3),
        Conv(out_channels=8, kernel_size=3, stride=2, padding="valid", bias=False),
    ),
    (
        "kernel_shape given",
        {"kernel_shape": [1, 3], "pads": [0, 1, 0, 1]},
        X,
        (8, 4, 1, 3),
        Conv(out_channels=8, kernel_size=(1, 3), padding=(0, 1), bias=False),
    ),
    (
        "1-D",
        {"pads": [2, 1]},
        (1, 4, 9),
        (8, 4, 3),
        Conv(out_channels=8, kernel_size=(3,), padding=((2, 1),), bias=False),
    ),
    (
        "3-D",
        {"pads": [1] * 6, "strides": [1, 2, 2]},
        (1, 4, 5, 6, 7),
        (8, 4, 3, 3, 3),
        Conv(out_channels=8, kernel_size=3, stride=(1, 2, 2), padding=1, bias=False),
    ),
]


@pytest.mark.parametrize(
    ("attributes", "x", "weight", "layer"),
    [case[1:] for case in CONVS],
    ids=[case[0] for case in CONVS],
)
@pytest.mark.parametrize("bias", [False, True])
def test_conv(
    attributes: dict[str, Any], x: Sequence[int], weight: Sequence[int], layer: Conv, bias: bool
) -> None:
    weights = {"w": weight, **({"b": (weight[0],)} if bias else {})}
    model = helper_model(
        [node("Conv", ["x", "w", *(["b"] if bias else [])], **attributes)], x=x, weights=weights
    )
    cost = check(model, x, Conv(**{**_fields(layer), "bias": bias}))
    assert isinstance(cost.rows[-1].cost.layer, Conv)


def _fields(layer: Layer) -> dict[str, Any]:
    return {field.name: getattr(layer, field.name) for field in dataclasses.fields(layer)}


TRANSPOSED: list[tuple[str, dict[str, Any], Sequence[int], Layer]] = [
    (
        "stride, pads, output_padding",
        {"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]},
        (4, 6, 3, 3),
        ConvTranspose(
            out_channels=6, kernel_size=3, stride=2, padding=1, output_padding=1, bias=False
        ),
    ),
    (
        "output_shape",
        {"strides": [2, 2], "output_shape": [10, 10]},
        (4, 6, 3, 3),
        ConvTranspose(
            out_channels=6, kernel_size=3, stride=2, padding=((1, 0), (1, 0)), bias=False
        ),
    ),
    (
        "output_shape larger",
        {"strides": [2, 2], "output_shape": [12, 12]},
        (4, 6, 3, 3),
        ConvTranspose(out_channels=6, kernel_size=3, stride=2, output_padding=1, bias=False),
    ),
    (
        "groups",
        {"group": 2},
        (4, 3, 3, 3),
        ConvTranspose(out_channels=6, kernel_size=3, groups=2, bias=False),
    ),
    (
        "same upper",
        {"auto_pad": "SAME_UPPER", "strides": [2, 2]},
        (4, 6, 3, 3),
        ConvTranspose(
            out_channels=6, kernel_size=3, stride=2, padding=((0, 1), (0, 1)), bias=False
        ),
    ),
    (
        "same lower",
        {"auto_pad": "SAME_LOWER", "strides": [2, 2]},
        (4, 6, 3, 3),
        ConvTranspose(
            out_channels=6, kernel_size=3, stride=2, padding=((1, 0), (1, 0)), bias=False
        ),
    ),
    (
        "dilations",
        {"dilations": [2, 2]},
        (4, 6, 3, 3),
        ConvTranspose(out_channels=6, kernel_size=3, dilation=2, bias=False),
    ),
]


@pytest.mark.parametrize(
    ("attributes", "weight", "layer"),
    [case[1:] for case in TRANSPOSED],
    ids=[case[0] for case in TRANSPOSED],
)
def test_conv_transpose(attributes: dict[str, Any], weight: Sequence[int], layer: Layer) -> None:
    x = (1, 4, 5, 5)
    model = helper_model(
        [node("ConvTranspose", ["x", "w"], **attributes)], x=x, weights={"w": weight}
    )
    check(model, x, layer)


@pytest.mark.parametrize(
    ("weight", "attributes", "bias", "layer"),
    [
        ((16, 10), {}, None, Linear(out_features=10, bias=False)),
        ((10, 16), {"transB": 1}, (10,), Linear(out_features=10)),
        ((16, 10), {"alpha": 2.0, "beta": 0.5}, (1, 10), Linear(out_features=10)),
        (
            (16, 10),
            {},
            (1,),
            Operator(op_type="Gemm", shape=(10,), weights=160, bias=1, contraction=16, operands=3),
        ),
    ],
    ids=["transB=0", "transB=1 + bias", "bias 1x10", "scalar bias"],
)
def test_gemm(
    weight: Sequence[int], attributes: dict[str, Any], bias: Sequence[int] | None, layer: Layer
) -> None:
    weights = {"w": weight, **({"c": bias} if bias else {})}
    model = helper_model(
        [
            node("Flatten", ["x"], ["f"]),
            node("Gemm", ["f", "w", *(["c"] if bias else [])], **attributes),
        ],
        x=(1, 16, 1, 1),
        weights=weights,
    )
    onnx = pytest.importorskip("onnx")
    for index, item in enumerate(model.graph.node):
        item.name = f"n{index}"
    cost = network_cost(from_onnx(model))
    shape = Shape(16)
    same_cost(cost.rows[-1].cost, layer_cost(layer, shape))
    assert inferred_dims(model)[1:] == (10,)
    del onnx


def test_gemm_weight_dims_are_checked() -> None:
    model = helper_model(
        [node("Flatten", ["x"], ["f"]), node("Gemm", ["f", "w"], transB=1)],
        x=(1, 16, 1, 1),
        weights={"w": (16, 10)},
    )
    with pytest.raises(ModelFileError, match=r"transB=1.*16 against 10"):
        from_onnx(model)


def test_matmul_by_a_weight_with_its_bias_is_one_row() -> None:
    model = helper_model(
        [
            node("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1]),
            node("MatMul", ["t", "w"], ["m"]),
            node("Add", ["m", "b"], ["y"]),
        ],
        x=(1, 4, 3, 5),
        weights={"w": (4, 6), "b": (6,)},
    )
    onnx = pytest.importorskip("onnx")
    for index, item in enumerate(model.graph.node):
        item.name = f"/block/block.{index}/{item.op_type}"
    cost = network_cost(from_onnx(model))
    (matmul,) = [row for row in cost.rows if isinstance(row.cost.layer, Operator)]
    expected = Operator(
        op_type="MatMul", shape=(6, 3, 5), weights=24, bias=6, contraction=4, operands=3
    )
    same_cost(matmul.cost, layer_cost(expected, Shape(4, (3, 5))))
    assert inferred_dims(model) == (1, 3, 5, 6)
    del onnx


def test_matmul_of_two_tensors_has_no_weights() -> None:
    model = helper_model(
        [node("Transpose", ["x"], ["t"], perm=[0, 1, 3, 2]), node("MatMul", ["x", "t"])],
        x=(1, 2, 3, 5),
    )
    cost = network_cost(from_onnx(model))
    row = cost.rows[-1].cost
    assert (row.params, row.macs, str(row.output_shape)) == (0, 2 * 3 * 3 * 5, "2x3x3")
    assert inferred_dims(model) == (1, 2, 3, 3)


def test_batch_normalization() -> None:
    model = helper_model(
        [node("BatchNormalization", ["x", "s", "b", "m", "v"])],
        x=X,
        weights=dict.fromkeys("sbmv", (4,)),
    )
    cost = check(model, X, BatchNorm())
    assert (cost.totals.params, cost.totals.non_trainable_params) == (8, 8)


POOLS: list[tuple[str, str, dict[str, Any], Sequence[int], Layer]] = [
    (
        "max",
        "MaxPool",
        {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]},
        X,
        MaxPool(kernel_size=3, stride=2, padding=1),
    ),
    (
        "max ceil_mode",
        "MaxPool",
        {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1},
        (1, 4, 10, 10),
        MaxPool(kernel_size=3, stride=2, ceil_mode=True),
    ),
    (
        "max ceil_mode, last window in the padding",
        "MaxPool",
        {"kernel_shape": [2, 2], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": 1},
        (1, 4, 8, 8),
        MaxPool(kernel_size=2, stride=2, padding=1, ceil_mode=True),
    ),
    (
        "max dilations",
        "MaxPool",
        {"kernel_shape": [2, 2], "dilations": [2, 2]},
        X,
        MaxPool(kernel_size=2, stride=1, dilation=2),
    ),
    (
        "max strides default 1",
        "MaxPool",
        {"kernel_shape": [2, 3]},
        X,
        MaxPool(kernel_size=(2, 3), stride=1),
    ),
    (
        "max same upper",
        "MaxPool",
        {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_UPPER"},
        X,
        MaxPool(kernel_size=3, stride=2, padding="same"),
    ),
    (
        "max same upper ceil_mode",
        "MaxPool",
        {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_UPPER", "ceil_mode": 1},
        X,
        MaxPool(kernel_size=3, stride=2, padding="same", ceil_mode=True),
    ),
    (
        "average count_include_pad",
        "AveragePool",
        {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "count_include_pad": 1},
        X,
        AvgPool(kernel_size=3, stride=2, padding=1),
    ),
    (
        "average ceil_mode",
        "AveragePool",
        {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1},
        X,
        AvgPool(kernel_size=2, stride=2, ceil_mode=True),
    ),
    (
        "average valid",
        "AveragePool",
        {"kernel_shape": [2, 2], "strides": [2, 2], "auto_pad": "VALID"},
        X,
        AvgPool(kernel_size=2, stride=2, padding="valid"),
    ),
    (
        "max pads beyond half the window",
        "MaxPool",
        {"kernel_shape": [2, 2], "pads": [2, 2, 2, 2]},
        X,
        Operator(op_type="MaxPool", shape=(4, 12, 12)),
    ),
]


@pytest.mark.parametrize(
    ("op_type", "attributes", "x", "layer"),
    [case[1:] for case in POOLS],
    ids=[case[0] for case in POOLS],
)
def test_pooling(op_type: str, attributes: dict[str, Any], x: Sequence[int], layer: Layer) -> None:
    check(helper_model([node(op_type, ["x"], **attributes)], x=x), x, layer)


@pytest.mark.parametrize(
    ("op_type", "layer"),
    [
        ("GlobalAveragePool", GlobalAvgPool(keepdims=True)),
        ("GlobalMaxPool", GlobalMaxPool(keepdims=True)),
    ],
)
def test_global_pooling(op_type: str, layer: Layer) -> None:
    check(helper_model([node(op_type, ["x"])], x=X), X, layer)


ACTIVATION_CASES: list[tuple[str, dict[str, Any], int, str]] = [
    ("Relu", {}, 17, "relu"),
    ("Sigmoid", {}, 17, "sigmoid"),
    ("HardSigmoid", {"alpha": 1 / 6}, 17, "hardsigmoid"),
    ("HardSwish", {}, 17, "hardswish"),
    ("LeakyRelu", {"alpha": 0.1}, 17, "leaky_relu"),
    ("Tanh", {}, 17, "tanh"),
    ("Softmax", {"axis": 1}, 17, "softmax"),
    ("Elu", {}, 17, "elu"),
    ("Gelu", {}, 20, "gelu"),
    ("Identity", {}, 17, "identity"),
]


@pytest.mark.parametrize(("op_type", "attributes", "opset", "function"), ACTIVATION_CASES)
def test_activations(op_type: str, attributes: dict[str, Any], opset: int, function: str) -> None:
    model = helper_model([node(op_type, ["x"], **attributes)], x=X, opset=opset)
    check(model, X, Activation(function=function))


@pytest.mark.parametrize(
    ("opset", "low", "high", "layer"),
    [
        (11, 0.0, 6.0, Activation(function="relu6")),
        (7, 0.0, 6.0, Activation(function="relu6")),
        (13, 0.0, None, Activation(function="relu")),
        (13, -1.0, 1.0, Operator(op_type="Clip", shape=(4, 9, 9))),
    ],
)
def test_clip(opset: int, low: float, high: float | None, layer: Layer) -> None:
    if opset < 11:
        nodes = [node("Clip", ["x"], min=low, max=high)]
        bounds: dict[str, float] = {}
    else:  # scalars, as exporters write Clip's bounds
        bounds = {"lo": low, **({"hi": high} if high is not None else {})}
        nodes = [node("Clip", ["x", "lo", *(["hi"] if high is not None else [])])]
    check(helper_model(nodes, x=X, opset=opset, scalars=bounds), X, layer)


def _join_model(op_type: str, second: Any, **attributes: Any) -> Any:
    return helper_model([second, node(op_type, ["x", "r"], **attributes)], x=X)


def test_joins() -> None:
    relu = node("Relu", ["x"], ["r"])
    shape = Shape(4, (9, 9))
    for op_type, layer, attributes in (
        ("Add", Add(), {}),
        ("Mul", Multiply(), {}),
        ("Concat", Concat(), {"axis": 1}),
        ("Sum", Add(), {}),
    ):
        model = _join_model(op_type, relu, **attributes)
        model.graph.node[0].name = "relu"
        model.graph.node[1].name = "join"
        cost = network_cost(from_onnx(model))
        same_cost(cost.rows[-1].cost, join_cost(layer, (shape, shape)))
        assert cost.rows[-1].cost.inputs == 2
        assert inferred_dims(model)[1:] == (cost.output_shape.channels, *cost.output_shape.spatial)


def test_a_gate_is_a_multiply_of_one_value_per_channel() -> None:
    model = helper_model(
        [
            node("GlobalAveragePool", ["x"], ["g"]),
            node("Sigmoid", ["g"], ["s"]),
            node("Mul", ["s", "x"]),
        ],
        x=X,
    )
    for index, item in enumerate(model.graph.node):
        item.name = f"n{index}"
    cost = network_cost(from_onnx(model))
    assert isinstance(cost.rows[-1].cost.layer, Multiply)
    assert str(cost.output_shape) == "4x9x9"


@pytest.mark.parametrize(
    ("op_type", "second", "weights", "layer"),
    [
        (
            "Add",
            "b",
            {"b": (4, 1, 1)},
            Operator(op_type="Add", shape=(4, 9, 9), weights=4, operands=2),
        ),
        ("Mul", "b", {"b": (1,)}, Operator(op_type="Mul", shape=(4, 9, 9), operands=2)),
        ("Sub", "b", {"b": (9,)}, Operator(op_type="Sub", shape=(4, 9, 9), weights=9, operands=2)),
        ("Div", "b", {"b": (1,)}, Operator(op_type="Div", shape=(4, 9, 9), operands=2)),
        ("Pow", "b", {"b": (1,)}, Operator(op_type="Pow", shape=(4, 9, 9), operands=2)),
        ("Erf", None, {}, Operator(op_type="Erf", shape=(4, 9, 9))),
        (
            "PRelu",
            "b",
            {"b": (1,)},
            Operator(op_type="PRelu", shape=(4, 9, 9), weights=1, operands=2),
        ),
    ],
)
def test_element_wise_arithmetic(
    op_type: str, second: str | None, weights: Mapping[str, Sequence[int]], layer: Layer
) -> None:
    """A weight operand counts (a bias, a scale); a scalar is part of the formula (x * 0.5),
    except PRelu's slope, a parameter however small."""
    model = helper_model(
        [node(op_type, ["x", *([second] if second else [])])], x=X, weights=weights
    )
    check(model, X, layer)


def test_flatten_dropout_identity() -> None:
    model = helper_model(
        [
            node("Dropout", ["x", "ratio"], ["d"]),
            node("Identity", ["d"], ["i"]),
            node("Flatten", ["i"]),
        ],
        x=X,
        scalars={"ratio": 0.25},
    )
    for index, item in enumerate(model.graph.node):
        item.name = f"n{index}"
    cost = network_cost(from_onnx(model))
    assert [type(row.cost.layer) for row in cost.rows] == [Dropout, Activation, Flatten]
    assert cost.rows[0].cost.layer == Dropout(name="n0", inputs=("input",), p=0.25)
    assert inferred_dims(model) == (1, 324)


@pytest.mark.parametrize(
    ("mode", "pads", "layer"),
    [
        ("constant", [0, 0, 1, 2, 0, 0, 3, 4], ZeroPad(padding=((1, 3), (2, 4)))),
        ("reflect", [0, 0, 1, 2, 0, 0, 3, 4], Operator(op_type="Pad", shape=(4, 13, 15))),
        ("constant", [0, 1, 0, 0, 0, 1, 0, 0], Operator(op_type="Pad", shape=(6, 9, 9))),
    ],
    ids=["zeros", "reflect", "channels"],
)
def test_pad(mode: str, pads: Sequence[int], layer: Layer) -> None:
    model = helper_model([node("Pad", ["x", "pads"], mode=mode)], x=X, constants={"pads": pads})
    check(model, X, layer)


SCALES = {"s": [1.0, 1.0, 2.0, 2.0]}


@pytest.mark.parametrize(
    ("opset", "op_type", "inputs", "floats", "attributes", "layer"),
    [
        (13, "Resize", ["x", "", "s"], SCALES, {}, Upsample(scale_factor=2)),
        (13, "Resize", ["x", "", "", "z"], {}, {}, Upsample(scale_factor=(2, 3))),
        (
            13,
            "Resize",
            ["x", "", "s"],
            SCALES,
            {"mode": "linear"},
            Operator(op_type="Resize", shape=(4, 18, 18)),
        ),
        (
            13,
            "Resize",
            ["x", "", "s"],
            {"s": [1.0, 1.0, 1.5, 1.5]},
            {},
            Operator(op_type="Resize", shape=(4, 13, 13)),
        ),
        (7, "Upsample", ["x"], {}, {"scales": [1.0, 1.0, 2.0, 3.0]}, Upsample(scale_factor=(2, 3))),
        (9, "Upsample", ["x", "s"], SCALES, {}, Upsample(scale_factor=2)),
    ],
    ids=["scales", "sizes", "linear", "fractional", "upsample-7", "upsample-9"],
)
def test_resize(
    opset: int,
    op_type: str,
    inputs: Sequence[str],
    floats: Mapping[str, Sequence[float]],
    attributes: dict[str, Any],
    layer: Layer,
) -> None:
    model = helper_model(
        [node(op_type, inputs, **attributes)],
        x=X,
        opset=opset,
        floats=floats,
        constants={"z": [1, 4, 18, 27]} if "z" in inputs else {},
    )
    cost = network_cost(from_onnx(model))
    same_cost(cost.rows[-1].cost, layer_cost(layer, Shape(4, (9, 9))))
    if opset >= 9:
        assert inferred_dims(model)[1:] == _sizes(cost.output_shape)


def _sizes(shape: Shape) -> tuple[int, ...]:
    return (shape.channels, *shape.spatial)


@pytest.mark.parametrize(
    ("opset", "op_type", "axes", "keepdims", "layer"),
    [
        (17, "ReduceMean", [2, 3], 0, GlobalAvgPool()),
        (17, "ReduceMean", [-1, -2], 1, GlobalAvgPool(keepdims=True)),
        (18, "ReduceMean", [2, 3], 1, GlobalAvgPool(keepdims=True)),
        (17, "ReduceMax", [2, 3], 0, GlobalMaxPool()),
        (17, "ReduceMean", [1], 1, Operator(op_type="ReduceMean", shape=(1, 9, 9))),
        (18, "ReduceSum", [3], 0, Operator(op_type="ReduceSum", shape=(4, 9))),
    ],
)
def test_reductions(
    opset: int, op_type: str, axes: Sequence[int], keepdims: int, layer: Layer
) -> None:
    if opset >= 18:
        model = helper_model(
            [node(op_type, ["x", "axes"], keepdims=keepdims)],
            x=X,
            opset=opset,
            constants={"axes": axes},
        )
    else:
        model = helper_model([node(op_type, ["x"], axes=list(axes), keepdims=keepdims)], x=X)
    check(model, X, layer)


@pytest.mark.parametrize(
    ("nodes", "constants", "layer"),
    [
        ([("Reshape", ["x", "shape"], {})], {"shape": [0, -1]}, Reshape(shape=(324,))),
        ([("Reshape", ["x", "shape"], {})], {"shape": [1, 2, 2, 81]}, Reshape(shape=(2, 2, 81))),
        ([("Transpose", ["x"], {"perm": [0, 2, 3, 1]})], {}, Reshape(shape=(4, 9, 9))),
        ([("Transpose", ["x"], {"perm": [0, 1, 3, 2]})], {}, Reshape(shape=(4, 9, 9))),
        ([("Unsqueeze", ["x", "a"], {})], {"a": [2]}, Reshape(shape=(4, 1, 9, 9))),
        ([("Squeeze", ["x", "a"], {})], {"a": [0]}, Reshape(shape=(4, 9, 9))),
        ([("DepthToSpace", ["x"], {"blocksize": 2})], {}, Reshape(shape=(1, 18, 18))),
        (
            [("Slice", ["x", "s", "e", "a"], {})],
            {"s": [1], "e": [3], "a": [1]},
            Select(shape=(2, 9, 9)),
        ),
        (
            [("Slice", ["x", "s", "e", "a", "p"], {})],
            {"s": [-1], "e": [-100], "a": [3], "p": [-2]},
            Select(shape=(4, 9, 5)),
        ),
        ([("Gather", ["x", "i"], {"axis": 1})], {"i": [0, 2]}, Select(shape=(2, 9, 9))),
    ],
    ids=[
        "reshape 0 -1",
        "reshape",
        "to channels-last",
        "transpose",
        "unsqueeze",
        "squeeze batch",
        "depth to space",
        "slice channels",
        "slice backwards",
        "gather channels",
    ],
)
def test_shape_only_operators(
    nodes: Sequence[tuple[str, list[str], dict[str, Any]]],
    constants: Mapping[str, Sequence[int]],
    layer: Layer,
) -> None:
    model = helper_model(
        [node(kind, inputs, **attrs) for kind, inputs, attrs in nodes], x=X, constants=constants
    )
    network = from_onnx(model)
    cost = network_cost(network)
    same_cost(cost.rows[-1].cost, layer_cost(layer, Shape(4, (9, 9))))
    assert math.prod(inferred_dims(model)) == cost.output_shape.numel


def test_squeeze_and_unsqueeze_before_opset_13_take_attributes() -> None:
    model = helper_model(
        [node("Unsqueeze", ["x"], ["u"], axes=[0]), node("Squeeze", ["u"], axes=[0])], x=X, opset=11
    )
    for index, item in enumerate(model.graph.node):
        item.name = f"n{index}"
    cost = network_cost(from_onnx(model))
    # The new leading axis is no channel: the channels stay 4, an axis of 1 before the rest.
    assert [str(row.cost.output_shape) for row in cost.rows] == ["4x1x9x9", "4x9x9"]


def test_split_gives_one_row_per_part() -> None:
    model = helper_model(
        [node("Split", ["x", "parts"], ["y", "z"], axis=1)],
        x=X,
        constants={"parts": [1, 3]},
        outputs=("y", "z"),
    )
    network = from_onnx(model)
    cost = network_cost(network)
    assert [(row.name, str(row.cost.output_shape)) for row in cost.rows] == [
        ("n", "1x9x9"),
        ("n:1", "3x9x9"),
    ]
    assert network.outputs == ("n", "n:1")


@pytest.mark.parametrize(
    ("op_type", "weights", "attributes", "layer"),
    [
        (
            "LayerNormalization",
            {"s": (9,), "b": (9,)},
            {"axis": -1},
            Operator(op_type="LayerNormalization", shape=(9, 4, 9), weights=18, operands=3),
        ),
        (
            "InstanceNormalization",
            {"s": (4,), "b": (4,)},
            {},
            Operator(op_type="InstanceNormalization", shape=(4, 9, 9), weights=8, operands=3),
        ),
    ],
)
def test_normalizations(
    op_type: str, weights: Mapping[str, Sequence[int]], attributes: dict[str, Any], layer: Layer
) -> None:
    """A layer norm's channels are the axis it normalises: its rows are output positions."""
    model = helper_model([node(op_type, ["x", *weights], **attributes)], x=X, weights=weights)
    cost = network_cost(from_onnx(model))
    same_cost(cost.rows[-1].cost, layer_cost(layer, Shape(4, (9, 9))))
    assert inferred_dims(model) == X


def test_the_shape_arithmetic_of_a_channel_split_built_with_onnx_helper() -> None:
    onnx = pytest.importorskip("onnx")
    serialized = shuffle_split_with_onnx(onnx)
    cost = network_cost(from_onnx(serialized))
    assert [str(row.cost.output_shape) for row in cost.rows] == ["3x5x5", "3x5x5", "3x5x5", "6x5x5"]
    # ONNX's own shape inference leaves the split's outputs unknown: never counted as zero.
    inferred = onnx.shape_inference.infer_shapes(serialized, data_prop=True)
    unknown = [
        v.name
        for v in inferred.graph.value_info
        if v.name in ("a", "b")
        and any(not d.HasField("dim_value") for d in v.type.tensor_type.shape.dim)
    ]
    assert unknown == [] or set(unknown) <= {"a", "b"}


def shuffle_split_with_onnx(onnx: Any) -> Any:
    helper = onnx.helper
    ints = onnx.TensorProto.INT64

    def constant(name: str, number: int) -> Any:
        return helper.make_node(
            "Constant", [], [name], value=helper.make_tensor("", ints, [1], [number])
        )

    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        constant("one", 1),
        helper.make_node("Gather", ["s", "one"], ["c"], axis=0),
        helper.make_node("Add", ["c", "one"], ["c1"]),
        constant("two", 2),
        helper.make_node("Div", ["c1", "two"], ["half"]),
        constant("zero", 0),
        helper.make_node("Slice", ["x", "zero", "half", "one"], ["a"], name="/stage/Slice"),
        helper.make_node("Slice", ["x", "half", "c", "one"], ["b"], name="/stage/Slice_1"),
        helper.make_node("Relu", ["b"], ["r"], name="/stage/branch/Relu"),
        helper.make_node("Concat", ["a", "r"], ["y"], name="/stage/Concat", axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 6, 5, 5])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_an_onnx_model_with_its_weights_inline_reads_as_the_stripped_one(tmp_path: Path) -> None:
    """Weights are skipped, never needed: the same network with or without them."""
    onnx = pytest.importorskip("onnx")
    model = onnx.load(ONNX_DIR / "twin.onnx", load_external_data=False)
    for initializer in model.graph.initializer:
        size = math.prod(initializer.dims)
        initializer.ClearField("external_data")
        initializer.data_location = onnx.TensorProto.DEFAULT
        initializer.raw_data = bytes(4 * size)
    path = tmp_path / "twin_full.onnx"
    onnx.save(model, path)
    assert from_onnx(path) == fixture("twin")[0].__class__(
        **{
            **_fields_of(fixture("twin")[0]),
            "name": "twin_full",
        }
    )
    assert from_onnx(model) == from_onnx(path).__class__(
        **{**_fields_of(from_onnx(path)), "name": "main_graph"}
    )


def _fields_of(network: Network) -> dict[str, Any]:
    return {name: getattr(network, name) for name in network.__dataclass_fields__}


def test_importing_convcost_onnx_loads_no_onnx_package() -> None:
    import subprocess
    import sys

    code = "import sys, convcost.onnx; print('onnx' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path.cwd())},
    )
    assert result.stdout.strip() == "False"
