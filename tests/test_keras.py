"""Keras models in: `convcost.keras.from_keras` against Keras's own figures, and abuse.

Five kinds of test:

* **the Keras fixtures** (tests/data/keras: ``.keras`` archives holding only metadata.json
  and config.json, and one ``model.to_json()``; figures measured once with Keras 3.15.1
  under the torch backend by scripts/fixtures/make_keras.py): total, trainable and
  non-trainable parameters, ``FlopCounterMode`` / 2, and every layer's name, output shape
  and counts, row by row; the Keras-style presets against the imported configs;
* **one model, three doors**: the twin read from Keras equals its PyTorch figures and
  its ONNX export, row for row where the frameworks agree;
* **one layer at a time**, configs written here as Keras 3 writes them: each Keras layer
  and hyper-parameter of docs/keras.md maps to the convcost layer and shape it should,
  with counts checked by hand-written arithmetic;
* **structure**: nested and shared layers, frozen weights, Keras 2 configs, names, stages;
* **abuse**: archives that are not archives, zip bombs, configs of unknown classes,
  Lambda layers, deep nesting, cycles; Hypothesis over mutated configs and bytes. Each
  gives a `Network` or a `ModelFileError` of one line, never another exception.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from convcost.errors import FieldError, ModelFileError
from convcost.keras import (
    MAX_CENTRAL_DIRECTORY_BYTES,
    MAX_COMPRESSION_RATIO,
    MAX_CONFIG_BYTES,
    MAX_MEMBERS,
    MAX_METADATA_BYTES,
    MAX_NESTING,
    KerasConfig,
    from_keras,
    is_keras_json,
    not_counted_rows,
    read_keras_config,
)
from convcost.layers import (
    Activation,
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
from convcost.network import Network, NetworkCost, Row, network_cost
from convcost.presets import build_preset
from convcost.report import compare_families
from convcost.shapes import Shape

KERAS_DIR = Path(__file__).parent / "data" / "keras"
FIGURES: dict[str, Any] = json.loads((KERAS_DIR / "figures.json").read_text(encoding="utf-8"))
MODELS = tuple(FIGURES["models"])
APPLICATIONS = ("MobileNet", "MobileNetV2", "Xception", "ResNet50", "EfficientNetB0", "DenseNet121")


@functools.cache
def fixture(name: str) -> tuple[Network, NetworkCost]:
    network = from_keras(KERAS_DIR / FIGURES["models"][name]["file"])
    return network, network_cost(network)


def by_name(cost: NetworkCost) -> dict[str, Row]:
    return {row.name: row for row in cost.rows}


def keras_shape(row: Row) -> list[int | None]:
    """A row's output as Keras writes shapes: the batch axis (None), then channels last."""
    return [None, *row.cost.output_shape.channels_last()]


# --- the Keras fixtures, against Keras's own figures ---------------------------------------------


def test_the_figures_are_the_measured_ones() -> None:
    """Guard the cited constants: the environment they were measured in."""
    environment = FIGURES["environment"]
    assert environment["versions"]["keras"] == "3.15.1"
    assert environment["backend"] == "torch"
    assert environment["image_data_format"] == "channels_last"
    assert set(MODELS) == {*APPLICATIONS, "sequential_small", "functional_mix", "twin"}


@pytest.mark.parametrize("name", MODELS)
def test_parameters_equal_keras_count_params(name: str) -> None:
    """``model.count_params()`` and the trainable / non-trainable weight elements."""
    figures = FIGURES["models"][name]
    totals = fixture(name)[1].totals
    assert totals.total_params == figures["params"]
    assert totals.params == figures["trainable_params"]
    assert totals.non_trainable_params == figures["non_trainable_params"]


@pytest.mark.parametrize("name", MODELS)
def test_summary_totals_equal_the_lines_keras_prints(name: str) -> None:
    """The three totals lines of ``model.summary()``, as printed (``4,253,864 (16.23 MB)``)."""
    printed = FIGURES["models"][name]["summary"]
    totals = fixture(name)[1].totals
    for key, value in (("Total params", totals.total_params), ("Trainable params", totals.params),
                       ("Non-trainable params", totals.non_trainable_params)):  # fmt: skip
        assert printed[key].split(" ")[0] == f"{value:,}"


@pytest.mark.parametrize("name", MODELS)
def test_macs_equal_flop_counter_mode_halved(name: str) -> None:
    """``FlopCounterMode`` under the torch backend counts 2 FLOPs per multiply-add of
    convolutions and matrix products, nothing else: convcost's convention exactly (bias,
    batch norm, pooling, activations and padding cost 0 MACs in both). No model differs."""
    figures = FIGURES["models"][name]
    flops = figures["flop_counter_flops"]
    assert flops % 2 == 0
    assert set(figures["flop_counter_by_op"]) <= {"aten.convolution", "aten.mm", "aten.addmm"}
    assert fixture(name)[1].totals.macs == flops // 2


def keras_rows(name: str) -> list[list[Any]]:
    """The figures' layer rows, without the input layer of a one-input model (it is the
    network's input, not a row) and without nested models (their layers are rows)."""
    figures = FIGURES["models"][name]
    return [
        row
        for row in figures["layers"]
        if not (row[1] == "InputLayer" and len(figures["inputs"]) == 1)
        and row[1] not in ("Sequential", "Functional")
    ]


@pytest.mark.parametrize("name", MODELS)
def test_every_layer_matches_keras_row_by_row(name: str) -> None:
    """Each Keras layer is a row of its name, output shape and counts; a layer called
    twice is two rows (``shared_conv``, ``shared_conv_1``), its weights on the first."""
    rows = by_name(fixture(name)[1])
    expected = keras_rows(name)
    calls = 0
    for layer_name, _, shape, params, trainable, frozen in expected:
        shapes = shape if isinstance(shape[0], list) else [shape]
        names = [layer_name] + [f"{layer_name}_{n}" for n in range(1, len(shapes))]
        for row_name, call_shape in zip(names, shapes):
            assert keras_shape(rows[row_name]) == call_shape, row_name
            calls += 1
        first = rows[layer_name].cost
        assert (first.total_params, first.params, first.non_trainable_params) == (
            params, trainable, frozen
        ), layer_name  # fmt: skip
        for row_name in names[1:]:
            assert rows[row_name].cost.total_params == 0
            assert rows[row_name].cost.layer.shares == layer_name
    nested = sum(len(model["layers"]) - (model["layers"][0][1] == "InputLayer")
                 for model in FIGURES["models"][name].get("nested", {}).values())  # fmt: skip
    assert len(rows) == calls + nested


@pytest.mark.parametrize("name", APPLICATIONS)
def test_applications_rows_are_keras_layers_in_keras_order(name: str) -> None:
    """For keras.applications models, convcost's rows are Keras's layers, in its order."""
    assert [row.name for row in fixture(name)[1].rows] == [row[0] for row in keras_rows(name)]


def test_nested_models_rows_match_their_own_figures_and_form_a_stage() -> None:
    figures = FIGURES["models"]["functional_mix"]["nested"]
    rows = by_name(fixture("functional_mix")[1])
    for model, inner in figures.items():
        for layer_name, _, shape, params, trainable, frozen in inner["layers"]:
            if layer_name in ("input_layer", "inner_in"):
                continue
            row = rows[layer_name]
            assert keras_shape(row) == shape
            assert (row.cost.params, row.cost.non_trainable_params) == (trainable, frozen)
            assert row.cost.total_params == params
            assert row.group == model
        members = [row for row in rows.values() if row.group == model]
        assert sum(row.cost.total_params for row in members) == inner["params"]


def test_a_to_json_file_reads_as_its_archive() -> None:
    from_json = from_keras(KERAS_DIR / "sequential_small.json")
    assert from_json == fixture("sequential_small")[0]
    assert from_json.name == "sequential_small"


def test_a_keras_json_file_is_told_from_a_spec(tmp_path: Path) -> None:
    """For the command line: a ``.json`` file is a Keras config or a convcost spec."""
    assert is_keras_json(KERAS_DIR / "sequential_small.json")
    tf_keras = tmp_path / "old.json"
    tf_keras.write_text('{"class_name": "Functional", "config": {}, "keras_version": "2.15.0"}')
    assert is_keras_json(tf_keras)
    spec = tmp_path / "spec.json"
    spec.write_text('{"input": "3x32x32", "layers": [{"type": "conv", "class_name": "Model"}]}')
    assert not is_keras_json(spec)
    assert not is_keras_json(tmp_path / "missing.json")
    assert not is_keras_json(KERAS_DIR / "twin.keras")


def test_the_archive_records_the_keras_version_and_is_only_config_and_metadata() -> None:
    loaded = read_keras_config(KERAS_DIR / "twin.keras")
    assert loaded.keras_version == "3.15.1"
    assert loaded.config["class_name"] == "Functional"
    assert read_keras_config(KERAS_DIR / "sequential_small.json").keras_version is None
    with zipfile.ZipFile(KERAS_DIR / "twin.keras") as archive:
        assert sorted(archive.namelist()) == ["config.json", "metadata.json"]


def test_a_parsed_config_reads_as_its_file() -> None:
    text = (KERAS_DIR / "sequential_small.json").read_text(encoding="utf-8")
    assert from_keras(json.loads(text)) == fixture("sequential_small")[0]
    loaded = read_keras_config(KERAS_DIR / "twin.keras")
    assert from_keras(loaded) == fixture("twin")[0]


# Stages: Keras name prefixes (through the first part holding a digit), or nested models.
STAGES = {
    "ResNet50": ["conv1", "pool1", "conv2", "conv3", "conv4", "conv5", None],
    "DenseNet121": [None, "conv1", "conv2", "pool2", "conv3", "pool3", "conv4", "pool4",
                    "conv5"],
    "Xception": ["block1", "block2", None, *(f"block{i}" for i in range(3, 15))],
    "functional_mix": [None, "nested_seq", "nested_func"],
    "twin": [None],
}  # fmt: skip


@pytest.mark.parametrize(("name", "stages"), STAGES.items(), ids=list(STAGES))
def test_stages_are_keras_name_prefixes_and_nested_models(
    name: str, stages: list[str | None]
) -> None:
    assert list(fixture(name)[1].groups()) == stages


def test_mobilenet_stages_are_each_layer_with_its_norm_and_activation() -> None:
    groups = fixture("MobileNet")[1].groups()
    assert list(groups)[:4] == ["conv1", "conv_dw_1", "conv_pw_1", None]
    by_stage = {row.name: row.group for row in fixture("MobileNet")[1].rows}
    assert by_stage["conv_dw_7_bn"] == by_stage["conv_dw_7_relu"] == "conv_dw_7"
    assert by_stage["conv_pad_2"] is None  # a lone row is in no stage


@pytest.mark.parametrize("name", MODELS)
def test_row_names_are_unique_and_outputs_are_rows(name: str) -> None:
    network, cost = fixture(name)
    names = [row.name for row in cost.rows]
    assert len(names) == len(set(names))
    assert network.naming == "flat"
    figures = FIGURES["models"][name]
    assert [[None, *shape.channels_last()] for shape in cost.output_shapes] == figures["outputs"]


DOCS = Path(__file__).parent.parent / "docs" / "keras.md"
AGREEMENT_ROW = re.compile(
    r"^\| (\w+) \| [\d.]+ KB \| (\d+)" + r" \| ([\d,]+)" * 5 + r" \|$", re.MULTILINE
)


def test_the_docs_agreement_table_is_what_convcost_and_keras_count() -> None:
    rows = AGREEMENT_ROW.findall(DOCS.read_text(encoding="utf-8"))
    assert [row[0] for row in rows] == list(MODELS)
    for name, count, *numbers in rows:
        cost = fixture(name)[1]
        totals = cost.totals
        figures = FIGURES["models"][name]
        assert int(count) == len(cost.rows)
        assert [int(n.replace(",", "")) for n in numbers] == [
            totals.total_params, totals.params, totals.non_trainable_params, totals.macs,
            figures["flop_counter_flops"],
        ]  # fmt: skip


def test_the_docs_state_the_bounds_the_reader_applies() -> None:
    text = DOCS.read_text(encoding="utf-8")
    bounds = {
        "MAX_CONFIG_BYTES": f"{MAX_CONFIG_BYTES >> 20} MiB",
        "MAX_METADATA_BYTES": f"{MAX_METADATA_BYTES >> 10} KiB",
        "MAX_COMPRESSION_RATIO": f"{MAX_COMPRESSION_RATIO} : 1",
        "MAX_MEMBERS": f"{MAX_MEMBERS:,}",
        "MAX_CENTRAL_DIRECTORY_BYTES": f"{MAX_CENTRAL_DIRECTORY_BYTES >> 20} MiB",
        "MAX_NESTING": str(MAX_NESTING),
    }
    for name, shown in bounds.items():
        assert f"| `{name}` | {shown} |" in text


# --- the Keras-style presets, against the imported configs --------------------------------------

# Keras's documented counts (keras.io applications table, and Keras 3.15.1's summary), as
# tests/test_presets.py cites them for the presets.
KERAS_DOCUMENTED = [
    pytest.param("MobileNet", 4_253_864, 4_231_976, 21_888, id="mobilenet-4253864"),
    pytest.param("Xception", 22_910_480, 22_855_952, 54_528, id="xception-22910480"),
]


@pytest.mark.parametrize(("name", "total", "trainable", "frozen"), KERAS_DOCUMENTED)
def test_documented_keras_counts(name: str, total: int, trainable: int, frozen: int) -> None:
    totals = fixture(name)[1].totals
    assert (totals.total_params, totals.params, totals.non_trainable_params) == (
        total, trainable, frozen
    )  # fmt: skip


PRESETS = [
    pytest.param("mobilenet-v1", {"style": "keras"}, "MobileNet", id="mobilenet-v1-keras"),
    pytest.param("xception", {}, "Xception", id="xception"),
]


def signature(row: Row) -> tuple[Shape, int, int, int]:
    cost = row.cost
    return cost.output_shape, cost.params, cost.non_trainable_params, cost.macs


@pytest.mark.parametrize(("preset", "parameters", "name"), PRESETS)
def test_keras_presets_equal_the_imported_configs_row_by_row(
    preset: str, parameters: dict[str, Any], name: str
) -> None:
    """Two independent descriptions of one network: convcost's preset, written from the
    paper and Keras's source, and Keras's own saved config. Same layer names, output
    shapes, parameters and MACs; the order differs only where Keras lists a residual
    block's shortcut before its body (Xception)."""
    preset_cost = network_cost(build_preset(preset, **parameters))
    imported = fixture(name)[1]
    assert {row.name: signature(row) for row in preset_cost.rows} == {
        row.name: signature(row) for row in imported.rows
    }
    assert preset_cost.totals == imported.totals
    if preset == "mobilenet-v1":
        assert [row.name for row in preset_cost.rows] == [row.name for row in imported.rows]


# --- one model, three doors ---------------------------------------------------------------------

TWIN = FIGURES["models"]["twin"]["torch_twin"]


def test_the_twin_equals_its_pytorch_figures() -> None:
    """tests/data/twin_torch.py measured in PyTorch: parameters, buffers (BN running
    statistics, Keras's non-trainable weights; num_batches_tracked has no Keras twin),
    FlopCounterMode / 2, and each module's parameters and buffers by name."""
    cost = fixture("twin")[1]
    assert cost.totals.params == TWIN["params"] == TWIN["trainable_params"]
    assert cost.totals.non_trainable_params == TWIN["buffers"]
    assert cost.totals.macs == TWIN["flop_counter_flops"] // 2
    assert TWIN["input"][1:] == [3, 30, 30]
    rows = by_name(cost)
    for module, _, params, buffers in TWIN["modules"]:
        if module in rows:
            assert (rows[module].cost.params, rows[module].cost.non_trainable_params) == (
                params, buffers
            )  # fmt: skip
        else:
            assert module == "flatten"  # Keras's GlobalAveragePooling2D flattens itself
    assert (
        TWIN["same_weights_check"]["max_abs_difference"]
        <= 1e-5 * TWIN["same_weights_check"]["max_abs_output"]
    )


def onnx_twin() -> NetworkCost:
    onnx = pytest.importorskip("convcost.onnx")
    path = Path(__file__).parent / "data" / "onnx" / "twin.onnx"
    if not path.is_file():
        pytest.skip("tests/data/onnx/twin.onnx is not there")
    network: Network = onnx.from_onnx(path)
    return network_cost(network)


def test_the_twin_reads_the_same_from_keras_and_onnx() -> None:
    """Same totals; the rows with weights or MACs equal by name (shape, parameters, MACs).
    Where the exports differ (docs/keras.md): ONNX names the residual sum after its
    operator (``Add``, Keras ``block_add``), its global pool keeps 1×1 and a Flatten
    follows (Keras's GlobalAveragePooling2D gives the flat vector itself)."""
    keras_cost, onnx_cost = fixture("twin")[1], onnx_twin()
    assert keras_cost.totals == onnx_cost.totals
    assert keras_cost.output_shapes == onnx_cost.output_shapes
    counted = {row.name: signature(row) for row in keras_cost.rows
               if row.cost.total_params or row.cost.macs}  # fmt: skip
    assert counted == {row.name: signature(row) for row in onnx_cost.rows
                       if row.cost.total_params or row.cost.macs}  # fmt: skip
    keras_names = [row.name for row in keras_cost.rows]
    onnx_names = [row.name for row in onnx_cost.rows]
    assert set(keras_names) ^ set(onnx_names) == {"block_add", "Add", "flatten"}
    assert by_name(keras_cost)["gap"].cost.output_shape == Shape(32)
    assert by_name(onnx_cost)["gap"].cost.output_shape == Shape(32, (1, 1))


@pytest.mark.parametrize("name", ["twin", "ResNet50", "MobileNet", "functional_mix"])
def test_compare_rewrites_imported_conv2d_layers_into_the_separable_families(name: str) -> None:
    """`convcost compare` on an imported model: its regular k×k Conv2D layers are
    rewritten; the regular family is the model itself."""
    network, cost = fixture(name)
    report = compare_families(network)
    comparison = report.comparison
    assert comparison.costs[0].totals == cost.totals
    regular = [row for row in cost.rows
               if isinstance(row.cost.layer, Conv) and row.cost.kind == "regular"]  # fmt: skip
    assert regular
    depthwise = comparison.cost("depthwise_separable")
    assert comparison.rewrites[comparison.families.index("depthwise_separable")].rewritten == len(
        regular
    )
    assert depthwise.totals.macs < cost.totals.macs
    assert depthwise.totals.params < cost.totals.params


# --- configs written here, as Keras 3 writes them --------------------------------------------

Json = dict[str, Any]


def tensor(layer: str, shape: Sequence[int | None], node: int = 0, index: int = 0) -> Json:
    """A Keras 3 ``__keras_tensor__`` entry: an output of a layer call, and its shape."""
    return {
        "class_name": "__keras_tensor__",
        "config": {"shape": [None, *shape], "dtype": "float32",
                   "keras_history": [layer, node, index]},
    }  # fmt: skip


def layer(
    class_name: str, name: str, *calls: Any, module: str = "keras.layers", **config: Any
) -> Json:
    """A layer entry of a functional model: each call a tensor or a list of tensors."""
    return {
        "module": module,
        "class_name": class_name,
        "config": {"name": name, "trainable": True, **config},
        "registered_name": None,
        "name": name,
        "inbound_nodes": [{"args": [call], "kwargs": {}} for call in calls],
    }


def input_layer(name: str, shape: Sequence[int | None]) -> Json:
    entry = layer("InputLayer", name, batch_shape=[None, *shape])
    del entry["config"]["trainable"]
    return entry


def functional(
    layers: Sequence[Json], inputs: Sequence[str], outputs: Sequence[Any], name: str = "model"
) -> Json:
    return {
        "module": "keras.src.models.functional",
        "class_name": "Functional",
        "config": {
            "name": name,
            "trainable": True,
            "layers": list(layers),
            "input_layers": [[n, 0, 0] for n in inputs],
            "output_layers": [list(o) if isinstance(o, tuple) else [o, 0, 0] for o in outputs],
        },
        "registered_name": "Functional",
    }


def one_layer(
    class_name: str, shape: Sequence[int | None], out: Sequence[int] | None = None, **config: Any
) -> Json:
    """A functional model of one input and one layer (the output shape recorded only
    when `out` is given: as a later layer would record it)."""
    layers = [input_layer("x", shape), layer(class_name, "layer", tensor("x", shape), **config)]
    if out is not None:
        layers.append(layer("ReLU", "after", tensor("layer", out)))
        return functional(layers, ["x"], ["after"])
    return functional(layers, ["x"], ["layer"])


def only_row(config: Json, **kwargs: Any) -> Row:
    return by_name(network_cost(from_keras(config, **kwargs)))["layer"]


def refused(source: object, match: str, **kwargs: Any) -> str:
    with pytest.raises(ModelFileError, match=match) as caught:
        from_keras(source, **kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message
    return message


# Each case: class, input sizes (channels last), config; the convcost layer type, the
# output sizes (channels last), trainable, non-trainable parameters, MACs (by hand).
# fmt: off
LAYERS = [
    pytest.param("Conv2D", [8, 8, 4], {"filters": 6, "kernel_size": [3, 3], "padding": "same",
                 "strides": [2, 2], "groups": 2}, Conv, [4, 4, 6], 3 * 3 * 2 * 6 + 6, 0,
                 4 * 4 * 6 * 3 * 3 * 2, id="conv2d-groups-same-stride2"),
    pytest.param("Conv2D", [9, 7, 3], {"filters": 5, "kernel_size": [3, 1],
                 "dilation_rate": [2, 1], "use_bias": False}, Conv, [5, 7, 5], 3 * 3 * 5, 0,
                 5 * 7 * 5 * 3 * 3, id="conv2d-3x1-dilated-valid"),
    pytest.param("Conv1D", [10, 4], {"filters": 8, "kernel_size": [3], "padding": "causal",
                 "dilation_rate": [2]}, Conv, [10, 8], 3 * 4 * 8 + 8, 0, 10 * 8 * 3 * 4,
                 id="conv1d-causal"),
    pytest.param("Conv3D", [4, 6, 6, 2], {"filters": 3, "kernel_size": [3, 3, 3]}, Conv,
                 [2, 4, 4, 3], 27 * 2 * 3 + 3, 0, 2 * 4 * 4 * 3 * 27 * 2, id="conv3d"),
    pytest.param("DepthwiseConv2D", [8, 8, 4], {"kernel_size": [3, 3], "depth_multiplier": 3,
                 "padding": "same"}, Conv, [8, 8, 12], 9 * 12 + 12, 0, 8 * 8 * 12 * 9,
                 id="depthwise-multiplier-3"),
    pytest.param("DepthwiseConv1D", [10, 4], {"kernel_size": [5], "use_bias": False}, Conv,
                 [6, 4], 5 * 4, 0, 6 * 4 * 5, id="depthwise1d"),
    pytest.param("SeparableConv2D", [8, 8, 4], {"filters": 16, "kernel_size": [3, 3],
                 "depth_multiplier": 2, "padding": "same"}, DepthwiseSeparableConv, [8, 8, 16],
                 9 * 8 + 8 * 16 + 16, 0, 64 * 8 * 9 + 64 * 16 * 8, id="separable-multiplier-2"),
    pytest.param("SeparableConv1D", [10, 4], {"filters": 6, "kernel_size": [3],
                 "use_bias": False}, DepthwiseSeparableConv, [8, 6], 3 * 4 + 4 * 6, 0,
                 8 * 4 * 3 + 8 * 6 * 4, id="separable1d-no-bias"),
    pytest.param("Conv2DTranspose", [5, 5, 4], {"filters": 3, "kernel_size": [3, 3],
                 "strides": [2, 2], "padding": "valid"}, ConvTranspose, [11, 11, 3],
                 9 * 4 * 3 + 3, 0, 25 * 9 * 4 * 3, id="transpose-valid"),
    pytest.param("Conv2DTranspose", [5, 5, 4], {"filters": 3, "kernel_size": [3, 3],
                 "strides": [2, 2], "padding": "same"}, ConvTranspose, [10, 10, 3],
                 9 * 4 * 3 + 3, 0, 25 * 9 * 4 * 3, id="transpose-same"),
    pytest.param("Conv2DTranspose", [5, 5, 4], {"filters": 3, "kernel_size": [3, 3],
                 "strides": [2, 2], "padding": "same", "output_padding": [1, 0]},
                 ConvTranspose, [10, 9, 3], 9 * 4 * 3 + 3, 0, 25 * 9 * 4 * 3,
                 id="transpose-same-output-padding"),
    pytest.param("Dense", [12], {"units": 5}, Linear, [5], 12 * 5 + 5, 0, 60, id="dense"),
    pytest.param("Dense", [7, 3, 12], {"units": 5, "use_bias": False}, Operator, [7, 3, 5],
                 12 * 5, 0, 7 * 3 * 5 * 12, id="dense-on-the-last-axis"),
    pytest.param("BatchNormalization", [6, 6, 4], {"axis": -1}, BatchNorm, [6, 6, 4], 8, 8, 0,
                 id="batchnorm"),
    pytest.param("BatchNormalization", [6, 5, 4], {"axis": [3], "scale": False}, Operator,
                 [6, 5, 4], 4, 8, 0, id="batchnorm-center-only"),
    pytest.param("BatchNormalization", [6, 5, 4], {"axis": 1}, Operator, [6, 5, 4], 12, 12, 0,
                 id="batchnorm-on-rows"),
    pytest.param("LayerNormalization", [7, 4], {"axis": [-1]}, Operator, [7, 4], 8, 0, 0,
                 id="layernorm"),
    pytest.param("LayerNormalization", [7, 4], {"axis": [1, 2], "rms_scaling": True}, Operator,
                 [7, 4], 28, 0, 0, id="layernorm-rms"),
    pytest.param("GroupNormalization", [6, 6, 8], {"groups": 2}, Operator, [6, 6, 8], 16, 0, 0,
                 id="groupnorm"),
    pytest.param("Normalization", [6, 6, 3], {"axis": [-1], "mean": None}, Operator, [6, 6, 3],
                 0, 7, 0, id="normalization-adapted"),
    pytest.param("Normalization", [6, 6, 3], {"axis": [-1], "mean": [0.5] * 3,
                 "variance": [1.0] * 3}, Operator, [6, 6, 3], 0, 0, 0,
                 id="normalization-given-its-statistics"),
    pytest.param("MaxPooling2D", [7, 7, 3], {"pool_size": [3, 3], "strides": [2, 2],
                 "padding": "same"}, MaxPool, [4, 4, 3], 0, 0, 0, id="maxpool-same"),
    pytest.param("AveragePooling1D", [9, 3], {"pool_size": [2], "strides": None}, AvgPool,
                 [4, 3], 0, 0, 0, id="avgpool1d-strides-default"),
    pytest.param("MaxPooling3D", [4, 4, 4, 2], {"pool_size": [2, 2, 2]}, MaxPool, [2, 2, 2, 2],
                 0, 0, 0, id="maxpool3d"),
    pytest.param("GlobalMaxPooling2D", [5, 5, 3], {"keepdims": True}, GlobalMaxPool, [1, 1, 3],
                 0, 0, 0, id="globalmax-keepdims"),
    pytest.param("GlobalAveragePooling1D", [9, 3], {}, GlobalAvgPool, [3], 0, 0, 0,
                 id="globalavg1d"),
    pytest.param("ZeroPadding1D", [9, 3], {"padding": [2, 1]}, ZeroPad, [12, 3], 0, 0, 0,
                 id="zeropad1d-pair"),
    pytest.param("ZeroPadding2D", [5, 5, 3], {"padding": [[0, 1], [2, 3]]}, ZeroPad, [6, 10, 3],
                 0, 0, 0, id="zeropad2d-pairs"),
    pytest.param("ZeroPadding3D", [2, 2, 2, 1], {"padding": 1}, ZeroPad, [4, 4, 4, 1], 0, 0, 0,
                 id="zeropad3d-int"),
    pytest.param("Cropping2D", [9, 9, 3], {"cropping": [[1, 2], [0, 4]]}, Select, [6, 5, 3],
                 0, 0, 0, id="cropping2d"),
    pytest.param("Cropping1D", [9, 3], {"cropping": [1, 1]}, Select, [7, 3], 0, 0, 0,
                 id="cropping1d"),
    pytest.param("UpSampling2D", [4, 5, 3], {"size": [2, 3], "interpolation": "nearest"},
                 Upsample, [8, 15, 3], 0, 0, 0, id="upsampling-nearest"),
    pytest.param("UpSampling2D", [4, 5, 3], {"size": [2, 2], "interpolation": "bilinear"},
                 Operator, [8, 10, 3], 0, 0, 0, id="upsampling-bilinear"),
    pytest.param("UpSampling1D", [4, 3], {"size": 3}, Upsample, [12, 3], 0, 0, 0,
                 id="upsampling1d"),
    pytest.param("Activation", [5, 3], {"activation": "hard_silu"}, Activation, [5, 3], 0, 0, 0,
                 id="activation"),
    pytest.param("Activation", [5, 3], {"activation": "softplus"}, Operator, [5, 3], 0, 0, 0,
                 id="activation-softplus"),
    pytest.param("Activation", [5, 3], {"activation": {"module": "keras.activations",
                 "class_name": "function", "config": "gelu", "registered_name": "gelu"}},
                 Activation, [5, 3], 0, 0, 0, id="activation-serialized"),
    pytest.param("ReLU", [5, 3], {"max_value": 6.0}, Activation, [5, 3], 0, 0, 0, id="relu6"),
    pytest.param("ReLU", [5, 3], {"threshold": 1.0}, Operator, [5, 3], 0, 0, 0,
                 id="relu-threshold"),
    pytest.param("LeakyReLU", [5, 3], {"negative_slope": 0.2}, Activation, [5, 3], 0, 0, 0,
                 id="leaky-relu"),
    pytest.param("Softmax", [5], {}, Activation, [5], 0, 0, 0, id="softmax"),
    pytest.param("PReLU", [4, 4, 3], {"shared_axes": [1, 2]}, Operator, [4, 4, 3], 3, 0, 0,
                 id="prelu-shared"),
    pytest.param("Dropout", [5], {"rate": 0.3}, Dropout, [5], 0, 0, 0, id="dropout"),
    pytest.param("SpatialDropout2D", [4, 4, 3], {"rate": 0.1}, Dropout, [4, 4, 3], 0, 0, 0,
                 id="spatial-dropout"),
    pytest.param("Flatten", [4, 4, 3], {}, Flatten, [48], 0, 0, 0, id="flatten"),
    pytest.param("Reshape", [4, 4, 3], {"target_shape": [-1, 6]}, Reshape, [8, 6], 0, 0, 0,
                 id="reshape-inferred"),
    pytest.param("Reshape", [24], {"target_shape": [1, 2, 3, 2, 2]}, Reshape, [1, 2, 3, 2, 2],
                 0, 0, 0, id="reshape-to-five-axes"),
    pytest.param("Permute", [4, 5, 3], {"dims": [2, 1, 3]}, Reshape, [5, 4, 3], 0, 0, 0,
                 id="permute"),
    pytest.param("RepeatVector", [3], {"n": 4}, Operator, [4, 3], 0, 0, 0, id="repeat-vector"),
    pytest.param("Rescaling", [4, 4, 3], {"scale": 0.5, "offset": 0.0}, Operator, [4, 4, 3],
                 0, 0, 0, id="rescaling"),
    pytest.param("Embedding", [7], {"input_dim": 100, "output_dim": 8}, Operator, [7, 8], 800,
                 0, 0, id="embedding"),
    pytest.param("Resizing", [8, 8, 3], {"height": 4, "width": 6}, Operator, [4, 6, 3], 0, 0, 0,
                 id="resizing"),
    pytest.param("CenterCrop", [8, 8, 3], {"height": 4, "width": 6}, Select, [4, 6, 3], 0, 0, 0,
                 id="center-crop"),
]
# fmt: on


@pytest.mark.parametrize(
    ("class_name", "shape", "config", "kind", "out", "params", "frozen", "macs"), LAYERS
)
def test_each_keras_layer_maps_to_its_convcost_layer(
    class_name: str,
    shape: list[int],
    config: Json,
    kind: type,
    out: list[int],
    params: int,
    frozen: int,
    macs: int,
) -> None:
    """The mapping table of docs/keras.md, one row each: the convcost layer, the output
    shape Keras gives (recorded in the config and checked by the reader, as a real
    config records it), and counts worked out by hand."""
    for recorded in (out, None):
        row = only_row(one_layer(class_name, shape, recorded, **config))
        assert isinstance(row.cost.layer, kind)
        assert row.cost.output_shape.channels_last() == tuple(out) or len(out) > 4
        assert (row.cost.params, row.cost.non_trainable_params, row.cost.macs) == (
            params, frozen, macs
        )  # fmt: skip


def test_activation_inside_a_layer_is_part_of_its_row() -> None:
    """Keras folds ``activation=`` into Conv2D and Dense: one row, as in its summary."""
    config = one_layer("Dense", [12], units=5, activation="softmax")
    cost = network_cost(from_keras(config))
    assert [row.name for row in cost.rows] == ["layer"]


def test_a_recorded_shape_that_disagrees_is_refused() -> None:
    """The reader checks each output shape it computes against the one Keras recorded."""
    config = one_layer("Conv2D", [8, 8, 3], [8, 8, 4], filters=4, kernel_size=[3, 3])
    refused(config, r"computes an output of 6x6x4, but the config records 8x8x4")


# --- merges ---------------------------------------------------------------------------------


def merge_model(class_name: str, shapes: Sequence[Sequence[int]], **config: Any) -> Json:
    inputs = [input_layer(f"in{i}", s) for i, s in enumerate(shapes)]
    merged = layer(class_name, "layer", [tensor(f"in{i}", s) for i, s in enumerate(shapes)],
                   **config)  # fmt: skip
    return functional([*inputs, merged], [f"in{i}" for i in range(len(shapes))], ["layer"])


MERGES = [
    pytest.param("Add", [[4, 4, 3], [4, 4, 3]], {}, Add, [4, 4, 3], id="add"),
    pytest.param("Add", [[4, 4, 3], [1, 1, 3]], {}, Operator, [4, 4, 3], id="add-broadcast"),
    pytest.param("Multiply", [[4, 4, 3], [1, 1, 3]], {}, Multiply, [4, 4, 3], id="multiply-gate"),
    pytest.param(
        "Concatenate",
        [[4, 4, 3], [4, 4, 5]],
        {"axis": -1},
        Concat,
        [4, 4, 8],
        id="concatenate-channels",
    ),
    pytest.param(
        "Concatenate",
        [[4, 4, 3], [4, 4, 5]],
        {"axis": 3},
        Concat,
        [4, 4, 8],
        id="concatenate-axis-3",
    ),
    pytest.param(
        "Concatenate",
        [[4, 4, 3], [2, 4, 3]],
        {"axis": 1},
        Operator,
        [6, 4, 3],
        id="concatenate-rows",
    ),
    pytest.param("Subtract", [[5], [5]], {}, Operator, [5], id="subtract"),
    pytest.param("Average", [[5], [5], [5]], {}, Operator, [5], id="average"),
    pytest.param("Maximum", [[2, 5], [1, 5]], {}, Operator, [2, 5], id="maximum"),
]


@pytest.mark.parametrize(("class_name", "shapes", "config", "kind", "out"), MERGES)
def test_merges(
    class_name: str, shapes: list[list[int]], config: Json, kind: type, out: list[int]
) -> None:
    row = only_row(merge_model(class_name, shapes, **config))
    assert isinstance(row.cost.layer, kind)
    assert row.cost.output_shape.channels_last() == tuple(out)
    assert row.cost.total_params == row.cost.macs == 0


def test_merges_that_do_not_fit_are_refused() -> None:
    refused(
        merge_model("Add", [[4, 4, 3], [4, 4, 2]]), r"layer 'layer' \('Add'\): .*do not broadcast"
    )
    refused(merge_model("Concatenate", [[4, 4, 3], [5, 4, 3]]), "cannot concatenate")


# --- structure: shared layers, nested models, frozen weights ------------------------------------


def shared_dense() -> Json:
    return functional(
        [
            input_layer("a", [6]),
            input_layer("b", [6]),
            layer("Dense", "dense", tensor("a", [6]), tensor("b", [6]), units=4),
            layer("Add", "add", [tensor("dense", [4]), tensor("dense", [4], node=1)]),
        ],
        ["a", "b"],
        ["add"],
    )


def test_a_shared_layer_is_a_row_per_call_with_its_weights_counted_once() -> None:
    network = from_keras(shared_dense())
    cost = network_cost(network)
    rows = by_name(cost)
    assert [row.name for row in cost.rows] == ["a", "b", "dense", "dense_1", "add"]
    assert rows["dense"].cost.params == 6 * 4 + 4
    assert rows["dense_1"].cost.params == 0
    assert rows["dense_1"].cost.layer.shares == "dense"
    assert rows["dense"].cost.macs == rows["dense_1"].cost.macs == 24
    assert cost.totals.params == 28
    assert cost.totals.macs == 48
    assert rows["add"].cost.layer.inputs == ("dense", "dense_1")


def test_a_shared_dense_on_tensors_of_two_ranks_counts_its_weights_once() -> None:
    """Keras applies one Dense to a flat tensor and to the last axis of another: its
    weights once (at the first call), each call's MACs."""
    config = functional(
        [input_layer("a", [6]), input_layer("b", [3, 6]),
         layer("Dense", "dense", tensor("a", [6]), tensor("b", [3, 6]), units=4)],
        ["a", "b"], [("dense", 0, 0), ("dense", 1, 0)],
    )  # fmt: skip
    rows = by_name(network_cost(from_keras(config)))
    assert (rows["dense"].cost.params, rows["dense"].cost.macs) == (28, 24)
    assert isinstance(rows["dense_1"].cost.layer, Operator)
    assert (rows["dense_1"].cost.total_params, rows["dense_1"].cost.macs) == (0, 72)
    config["config"]["layers"][2]["inbound_nodes"][1]["args"] = [tensor("b", [3, 5])]
    config["config"]["layers"][1] = input_layer("b", [3, 5])
    refused(config, "called again on a tensor of 3x4 where its weights")


def test_several_inputs_are_taken_from_one_flat_input() -> None:
    """convcost networks have one input: a model of several reads one flat vector holding
    them all, and a `Select` row per Keras input takes its own."""
    network = from_keras(shared_dense())
    assert network.input_shape == Shape(12)
    rows = by_name(network_cost(network))
    assert isinstance(rows["a"].cost.layer, Select)
    assert rows["a"].cost.layer.inputs == ("input",)
    refused(shared_dense(), "has 2 inputs", input_shape=Shape(6))


def nested_twice(trainable: bool = True) -> Json:
    inner = functional(
        [input_layer("inner_in", [4, 4, 3]),
         layer("Conv2D", "inner_conv", tensor("inner_in", [4, 4, 3]), filters=3,
               kernel_size=[3, 3], padding="same")],
        ["inner_in"], ["inner_conv"], name="block",
    )  # fmt: skip
    inner["config"]["trainable"] = trainable
    inner["name"] = "block"
    inner["inbound_nodes"] = [
        {"args": [tensor("x", [4, 4, 3])], "kwargs": {}},
        {"args": [tensor("block", [4, 4, 3])], "kwargs": {}},
    ]
    return functional(
        [input_layer("x", [4, 4, 3]), inner,
         layer("Conv2D", "inner_conv", tensor("block", [4, 4, 3], node=1), filters=2,
               kernel_size=[1, 1])],
        ["x"], ["inner_conv"],
    )  # fmt: skip


def test_a_nested_model_called_twice_shares_its_weights_and_keeps_names_unique() -> None:
    """Its layers are rows, grouped as a stage named after it; the second call's rows
    share the first's weights; an outer layer with an inner layer's name is renamed."""
    cost = network_cost(from_keras(nested_twice()))
    names = [row.name for row in cost.rows]
    assert names == ["inner_conv", "inner_conv_2", "inner_conv_1"]
    rows = by_name(cost)
    assert rows["inner_conv_2"].cost.layer.shares == "inner_conv"
    assert rows["inner_conv_1"].cost.total_params == 3 * 2 + 2  # the outer 1×1 conv
    assert [row.group for row in cost.rows] == ["block", "block", None]
    assert cost.totals.params == (27 * 3 + 3) + 8
    assert cost.totals.macs == 2 * 16 * 3 * 27 + 16 * 2 * 3


def test_an_output_of_a_nested_model_is_named_by_keras_3_from_call_1() -> None:
    """Keras 3 counts a nested functional model's calls from 1 in ``output_layers`` (its
    construction is call 0), and from 0 where a layer reads it."""
    config = nested_twice()
    config["config"]["layers"].pop()
    config["config"]["output_layers"] = [["block", 2, 0]]
    network = from_keras(config)
    assert network.outputs == ("inner_conv_1",)
    assert [row.name for row in network_cost(network).rows] == ["inner_conv", "inner_conv_1"]


def test_frozen_layers_count_their_weights_as_non_trainable() -> None:
    """``trainable: false`` (a layer, or a whole nested model): Keras reports its weights
    as non-trainable; the same shapes, total and MACs."""
    live = network_cost(from_keras(nested_twice(trainable=True)))
    frozen = network_cost(from_keras(nested_twice(trainable=False)))
    assert frozen.totals.total_params == live.totals.total_params
    assert frozen.totals.macs == live.totals.macs
    assert frozen.totals.non_trainable_params == 27 * 3 + 3
    assert frozen.totals.params == 8
    assert [signature(row)[0] for row in frozen.rows] == [signature(row)[0] for row in live.rows]


@pytest.mark.parametrize(
    ("class_name", "config", "rows"),
    [
        pytest.param("Conv2D", {"filters": 4, "kernel_size": [3, 3]}, 1, id="conv2d"),
        pytest.param("SeparableConv2D", {"filters": 4, "kernel_size": [3, 3]}, 2, id="separable"),
        pytest.param("BatchNormalization", {}, 1, id="batchnorm"),
        pytest.param("Dense", {"units": 4}, 1, id="dense"),
    ],
)
def test_a_frozen_layer_keeps_its_counts(class_name: str, config: Json, rows: int) -> None:
    live = one_layer(class_name, [6, 6, 3], **config)
    frozen = copy.deepcopy(live)
    frozen["config"]["layers"][1]["config"]["trainable"] = False
    a, b = network_cost(from_keras(live)), network_cost(from_keras(frozen))
    assert len(b.rows) == rows
    assert b.rows[-1].name == "layer"
    assert (b.totals.total_params, b.totals.macs, b.output_shape) == (
        a.totals.total_params, a.totals.macs, a.output_shape
    )  # fmt: skip
    assert b.totals.params == 0


def test_a_keras_2_config_reads_too() -> None:
    """tf.keras 2: node lists, ``batch_input_shape``, a nested model counted from call 1."""

    def old(class_name: str, name: str, reads: list[list[Any]], **config: Any) -> Json:
        return {"class_name": class_name, "name": name, "config": {"name": name, **config},
                "inbound_nodes": [[[*ref, {}] for ref in reads]] if reads else []}  # fmt: skip

    inner = {
        "class_name": "Functional", "name": "inner",
        "config": {"name": "inner", "layers": [
            old("InputLayer", "inner_input", [], batch_input_shape=[None, 8, 8, 3]),
            old("Conv2D", "inner_conv", [["inner_input", 0, 0]], filters=4, kernel_size=[3, 3],
                strides=[1, 1], padding="same", use_bias=True),
        ], "input_layers": [["inner_input", 0, 0]], "output_layers": [["inner_conv", 0, 0]]},
        "inbound_nodes": [[["input_1", 0, 0, {}]]],
    }  # fmt: skip
    config = {
        "class_name": "Model",
        "keras_version": "2.15.0",
        "config": {"name": "old", "layers": [
            old("InputLayer", "input_1", [], batch_input_shape=[None, 8, 8, 3]),
            inner,
            old("BatchNormalization", "bn", [["inner", 1, 0]], axis=[3]),
            old("GlobalAveragePooling2D", "gap", [["bn", 0, 0]]),
            old("Dense", "fc", [["gap", 0, 0]], units=2),
        ], "input_layers": [["input_1", 0, 0]], "output_layers": [["fc", 0, 0]]},
    }  # fmt: skip
    cost = network_cost(from_keras(config))
    assert [row.name for row in cost.rows] == ["inner_conv", "bn", "gap", "fc"]
    assert cost.totals.params == (27 * 4 + 4) + 8 + 10
    assert cost.totals.non_trainable_params == 8


def test_an_input_shape_fills_open_sizes_and_replaces_fixed_ones() -> None:
    open_sizes = one_layer("Conv2D", [None, None, 3], filters=4, kernel_size=[3, 3])
    refused(open_sizes, r"sizes the config does not fix \(\?x\?x3, channels last\); give them "
            r"with --input")  # fmt: skip
    row = only_row(open_sizes, input_shape=Shape(3, (10, 12)))
    assert row.cost.output_shape == Shape(4, (8, 10))
    twin = from_keras(KERAS_DIR / "twin.keras", input_shape=Shape(3, (60, 60)))
    assert network_cost(twin).totals.macs > fixture("twin")[1].totals.macs
    refused(KERAS_DIR / "twin.keras", "has 224 channels, but the model's input 'input' has 3",
            input_shape=Shape(224, (224, 3)))  # fmt: skip
    refused(KERAS_DIR / "twin.keras", "has 2 sizes", input_shape=Shape(3, (30,)))


def test_channels_first_layers_are_refused() -> None:
    config = one_layer("Conv2D", [3, 8, 8], filters=4, kernel_size=[3, 3],
                       data_format="channels_first")  # fmt: skip
    refused(config, "data_format='channels_first'; convcost reads channels_last")


def test_a_sequential_model_without_an_input_layer_takes_its_build_shape() -> None:
    config: Json = {"module": "keras", "class_name": "Sequential", "config": {
        "name": "s", "layers": [
            {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d", "units": 3}},
        ], "build_input_shape": [None, 5]}}  # fmt: skip
    assert network_cost(from_keras(config)).totals.params == 18
    del config["config"]["build_input_shape"]
    refused(config, "has no shape in the config; give it with --input")
    assert network_cost(from_keras(config, input_shape=Shape(5))).totals.params == 18


# --- layers convcost does not know ------------------------------------------------------------


def with_lambda(recorded: bool = True, output_shape: list[int] | None = None) -> Json:
    lam = layer("Lambda", "lambda", tensor("x", [8, 8, 3]), function={"class_name": "__lambda__"})
    if output_shape is not None:
        lam["config"]["output_shape"] = output_shape
    layers = [input_layer("x", [8, 8, 3]), lam]
    if recorded:
        layers.append(layer("Conv2D", "conv", tensor("lambda", [4, 4, 3]), filters=2,
                            kernel_size=[1, 1]))  # fmt: skip
        return functional(layers, ["x"], ["conv"])
    return functional(layers, ["x"], ["lambda"])


def test_a_lambda_is_a_flagged_row_with_the_shape_keras_recorded() -> None:
    network = from_keras(with_lambda())
    cost = network_cost(network)
    (flagged,) = not_counted_rows(cost)
    assert flagged.name == "lambda"
    assert isinstance(flagged.cost.layer, NotCounted)
    assert flagged.cost.layer.op_type == "Lambda"
    assert flagged.cost.output_shape == Shape(3, (4, 4))
    assert by_name(cost)["conv"].cost.macs == 16 * 2 * 3


def test_strict_refuses_a_layer_convcost_does_not_know() -> None:
    refused(with_lambda(), r"1 layer convcost does not know: 'lambda' \('Lambda'\) \(--strict",
            strict=True)  # fmt: skip


def test_a_lambda_of_unknown_shape_asks_for_it() -> None:
    refused(with_lambda(recorded=False), "does not record the shape it gives")
    row = by_name(network_cost(from_keras(with_lambda(False, [2, 2, 3]))))["lambda"]
    assert row.cost.output_shape == Shape(3, (2, 2))


def test_custom_layers_and_keras_ops_are_flagged_never_run() -> None:
    for module, class_name in (("my_package.layers", "Conv2D"), ("keras.src.ops.numpy", "Add")):
        config = one_layer(class_name, [8, 8, 3], [8, 8, 3], filters=3, kernel_size=[3, 3])
        config["config"]["layers"][1]["module"] = module
        row = only_row(config)
        assert isinstance(row.cost.layer, NotCounted)
        assert row.cost.layer.op_type == class_name


def test_a_flagged_layer_of_several_outputs_gives_a_row_per_output() -> None:
    split = layer("Split", "split", tensor("x", [4, 6]), module="my.layers")
    config = functional(
        [input_layer("x", [4, 6]), split,
         layer("Add", "add", [tensor("split", [4, 3]), tensor("split", [4, 3], index=1)])],
        ["x"], ["add"],
    )  # fmt: skip
    cost = network_cost(from_keras(config))
    assert [row.name for row in cost.rows] == ["split", "split:1", "add"]
    assert len(not_counted_rows(cost)) == 2


# --- refused models ----------------------------------------------------------------------------


def test_configs_that_are_no_model_are_refused() -> None:
    refused({"class_name": "MyModel", "config": {}}, "class 'MyModel'.*not a Keras model")
    refused({"class_name": "Dense", "config": {"units": 3}}, "one 'Dense' layer, not of a model")
    refused(
        {"class_name": "Functional", "config": {"name": "m"}}, "no list of layers: a subclassed"
    )
    refused({"layers": []}, "class None")


def test_a_cycle_is_refused_naming_a_layer_on_it() -> None:
    config = functional(
        [input_layer("x", [4]),
         layer("Add", "a", [tensor("x", [4]), tensor("b", [4])]),
         layer("ReLU", "b", tensor("a", [4]))],
        ["x"], ["b"],
    )  # fmt: skip
    refused(config, "graph has a cycle through layer 'a'")


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        pytest.param(
            lambda c: c["config"]["layers"][1]["inbound_nodes"][0]["args"][0]["config"].update(
                keras_history=["nowhere", 0, 0]
            ),
            "reads 'nowhere', which is no layer",
            id="unknown-layer",
        ),
        pytest.param(
            lambda c: c["config"]["layers"][1]["inbound_nodes"][0]["args"][0]["config"].update(
                keras_history=["x", 0, 3]
            ),
            "reads output 3 of 'x', which gives 1",
            id="unknown-output",
        ),
        pytest.param(
            lambda c: c["config"]["layers"].append(copy.deepcopy(c["config"]["layers"][1])),
            "two layers named 'layer'",
            id="duplicate-name",
        ),
        pytest.param(
            lambda c: c["config"].update(output_layers=[["layer", 5, 0]]),
            "reads call 5 of 'layer'",
            id="unknown-call",
        ),
        pytest.param(
            lambda c: c["config"]["layers"][1]["config"].update(filters=0),
            "filters must be an integer of at least 1, got 0",
            id="no-filters",
        ),
        pytest.param(
            lambda c: c["config"]["layers"][1]["config"].update(kernel_size=[3]),
            r"kernel_size must be an integer or 2 integers",
            id="kernel-rank",
        ),
        pytest.param(
            lambda c: c["config"]["layers"][1].update(name="a\nb"), "must be a name", id="bad-name"
        ),
        pytest.param(
            lambda c: c["config"]["layers"][0]["config"].update(batch_shape=[None, 8, 3]),
            r"reads a tensor of 2 axes per sample \(8x3\); a Conv2D reads 3",
            id="rank",
        ),
    ],
)
def test_malformed_configs_are_refused_naming_what_is_wrong(mutate: Any, match: str) -> None:
    config = one_layer("Conv2D", [8, 8, 3], filters=4, kernel_size=[3, 3])
    mutate(config)
    refused(config, match)


def deeply_nested(depth: int) -> Json:
    model: Json = {"module": "keras", "class_name": "Sequential", "config": {
        "name": "m0", "layers": [
            {"module": "keras.layers", "class_name": "InputLayer",
             "config": {"name": "in0", "batch_shape": [None, 4]}},
            {"module": "keras.layers", "class_name": "ReLU",
             "config": {"name": "relu"}}]}}  # fmt: skip
    for level in range(1, depth + 1):
        model = {"module": "keras", "class_name": "Sequential", "config": {
            "name": f"m{level}", "layers": [
                {"module": "keras.layers", "class_name": "InputLayer",
                 "config": {"name": f"in{level}", "batch_shape": [None, 4]}},
                model]}}  # fmt: skip
    return model


def test_nesting_is_bounded() -> None:
    cost = network_cost(from_keras(deeply_nested(MAX_NESTING - 1)))
    assert [row.name for row in cost.rows] == ["relu"]
    assert cost.rows[0].group == f"m{MAX_NESTING - 2}"
    refused(deeply_nested(MAX_NESTING + 1), f"models nest more than {MAX_NESTING} deep")


def test_repeated_nesting_is_bounded_by_the_rows_it_would_make() -> None:
    """A model calling a model twice, 20 levels down, would be 2**20 rows."""
    inner: Json = {"module": "keras", "class_name": "Sequential", "config": {"name": "m0",
                   "layers": [{"module": "keras.layers", "class_name": "ReLU",
                               "config": {"name": "relu"}}]}}  # fmt: skip
    for level in range(1, 21):
        inner = functional(
            [input_layer("x", [4]),
             {**inner, "name": "inner", "inbound_nodes": [
                 {"args": [tensor("x", [4])], "kwargs": {}},
                 {"args": [tensor("inner", [4])], "kwargs": {}}]}],
            ["x"], [("inner", 1, 0)], name=f"m{level}",
        )  # fmt: skip
        inner["config"]["output_layers"] = [["inner", 2 if level > 1 else 1, 0]]
    refused(inner, "expands to more than 100,000 layers")


# --- refused files -------------------------------------------------------------------------------


def write_zip(path: Path, members: Mapping[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def twin_config() -> bytes:
    with zipfile.ZipFile(KERAS_DIR / "twin.keras") as archive:
        return archive.read("config.json")


@pytest.mark.parametrize(
    ("content", "match"),
    [
        pytest.param(b"\x00\x01garbage\xff", "not UTF-8 text", id="random-bytes"),
        pytest.param(b"{not json", "invalid JSON", id="not-json"),
        pytest.param(b"[1, 2]", "holds a JSON list, not a Keras model config", id="json-list"),
        pytest.param(b"\x89HDF\r\n\x1a\nrest", r"HDF5 \(\.h5\) Keras file", id="hdf5"),
        pytest.param(b"PK\x03\x04 truncated", "not a readable .keras archive", id="broken-zip"),
        pytest.param(b"[" * 100_000, "nested too deeply", id="deep-json"),
    ],
)
def test_files_that_are_not_keras_configs_are_refused(
    tmp_path: Path, content: bytes, match: str
) -> None:
    path = tmp_path / "model.keras"
    path.write_bytes(content)
    assert refused(path, match).startswith(f"{path}: ")


def test_a_missing_file_an_empty_one_and_a_directory_are_refused(tmp_path: Path) -> None:
    refused(tmp_path / "missing.keras", "no such file")
    refused(tmp_path, "is a directory")
    (tmp_path / "empty.keras").write_bytes(b"")
    refused(tmp_path / "empty.keras", "is empty")


def test_only_model_sources_are_read() -> None:
    with pytest.raises(FieldError, match=r"a \.keras file name"):
        from_keras(42)  # type: ignore[arg-type]
    with pytest.raises(FieldError, match="input_shape"):
        from_keras(KERAS_DIR / "twin.keras", input_shape=(3, 30, 30))  # type: ignore[arg-type]


def test_a_zip_without_config_json_is_refused(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "m.keras", {"metadata.json": b"{}", "other.json": b"{}"})
    refused(path, "a zip without config.json: not a .keras archive")


def test_weights_and_other_members_are_never_read(tmp_path: Path) -> None:
    """A real archive holds model.weights.h5: ignored, however large or broken."""
    members = {
        "metadata.json": b'{"keras_version": "3.15.1"}',
        "config.json": twin_config(),
        "model.weights.h5": b"\x89HDF\r\n\x1a\n" + bytes(2**20),
        "assets/vocabulary.txt": b"...",
    }
    path = write_zip(tmp_path / "m.keras", members)
    assert from_keras(path) == fixture("twin")[0]


def test_a_member_claiming_a_gigabyte_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """The sizes a zip claims are checked first: config.json claims 1 GB (its directory
    entry patched), more than `MAX_CONFIG_BYTES`."""
    path = write_zip(tmp_path / "m.keras", {"config.json": twin_config()}, zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    entry = data.rindex(b"PK\x01\x02")  # the directory entry: uncompressed size at +24
    struct.pack_into("<I", data, entry + 24, 2**30)
    path.write_bytes(bytes(data))
    refused(path, f"config.json claims 1,073,741,824 bytes; at most {MAX_CONFIG_BYTES:,} are read")


def test_a_deflate_bomb_is_refused_by_its_ratio(tmp_path: Path) -> None:
    """10 MB of one byte deflates a thousand to one: within the size bound, not the ratio."""
    path = write_zip(tmp_path / "m.keras", {"config.json": b" " * 10_000_000})
    message = refused(path, "a zip bomb")
    assert f"a ratio over {MAX_COMPRESSION_RATIO}:1" in message


def test_a_member_lying_about_its_size_is_caught_by_zipfile(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "m.keras", {"config.json": twin_config()}, zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    entry = data.rindex(b"PK\x01\x02")
    struct.pack_into("<I", data, entry + 24, 100)  # claims 100 bytes: a short read, bad CRC
    path.write_bytes(bytes(data))
    refused(path, "not a readable .keras archive")


def test_an_archive_of_too_many_members_is_refused_before_its_directory_is_read(
    tmp_path: Path,
) -> None:
    members = {f"m{i}": b"" for i in range(MAX_MEMBERS)}
    path = write_zip(tmp_path / "m.keras", {"config.json": twin_config(), **members})
    refused(path, f"an archive of {MAX_MEMBERS + 1:,} members")


def test_an_encrypted_member_is_refused(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "m.keras", {"config.json": twin_config()}, zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    for signature_, flags in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.index(signature_)
        struct.pack_into("<H", data, at + flags, 1)  # bit 0: encrypted
    path.write_bytes(bytes(data))
    refused(path, "not a readable .keras archive")


def test_an_oversized_json_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    with path.open("wb") as file:
        file.truncate(MAX_CONFIG_BYTES + 1)
    refused(path, f"a Keras config is read up to {MAX_CONFIG_BYTES:,} bytes")


def test_the_reader_needs_neither_keras_nor_tensorflow_nor_h5py() -> None:
    code = (
        "import sys, convcost.keras as k; "
        "k.from_keras('tests/data/keras/MobileNet.keras'); "
        "print(sorted(m for m in ('keras', 'tensorflow', 'h5py', 'torch', 'numpy') "
        "if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).parent.parent, check=True)  # fmt: skip
    assert result.stdout.strip() == "[]"


# --- laws: never another exception ------------------------------------------------------------


def read_or_refused(source: object, **kwargs: Any) -> None:
    try:
        network = from_keras(source, **kwargs)  # type: ignore[arg-type]
    except ModelFileError as error:
        message = str(error)
    else:
        network_cost(network)
        return
    assert "\n" not in message


SMALL = {
    name: json.loads(zipfile.ZipFile(KERAS_DIR / f"{name}.keras").read("config.json"))
    for name in ("twin", "sequential_small", "functional_mix")
}
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 2**70) | st.floats() | st.text(max_size=6)
    | st.sampled_from(["same", "valid", "causal", "relu", "__keras_tensor__", "Conv2D",
                       "Lambda", "InputLayer", "Functional", "Sequential", "channels_first"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["config", "class_name", "name", "shape", "args",
                                       "keras_history", "layers"]) | st.text(max_size=4),
                      children, max_size=3),
    max_leaves=8,
)  # fmt: skip


def places(value: object, depth: int = 0) -> Iterator[tuple[Any, Any]]:
    """Every (container, key) of a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield value, key
            yield from places(item, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield value, index
            yield from places(item, depth + 1)


@st.composite
def mutated_configs(draw: st.DrawFn) -> Json:
    config: Json = copy.deepcopy(SMALL[draw(st.sampled_from(sorted(SMALL)))])
    for _ in range(draw(st.integers(1, 3))):
        container, key = draw(st.sampled_from(list(places(config))))
        action = draw(st.sampled_from(["replace", "delete", "small-int", "swap"]))
        if action == "delete":
            del container[key]
        elif action == "small-int":
            container[key] = draw(st.integers(-1, 70))
        elif action == "swap":
            other_container, other_key = draw(st.sampled_from(list(places(config))))
            container[key], other_container[other_key] = (
                copy.deepcopy(other_container[other_key]), copy.deepcopy(container[key])
            )  # fmt: skip
        else:
            container[key] = draw(JSON_VALUES)
    return config


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_configs(), st.booleans())
@example(SMALL["functional_mix"], False)
@example({**SMALL["twin"], "class_name": []}, False)
def test_any_mutated_config_gives_a_network_or_a_model_file_error(
    config: Json, strict: bool
) -> None:
    read_or_refused(config, strict=strict)


OTHER_CLASSES = ["Lambda", "MyLayer", "Bogus", "Sequential", "Functional", "InputLayer", "Add",
                 "Concatenate", "Dense", "Reshape"]  # fmt: skip


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(SMALL)), st.sampled_from(OTHER_CLASSES), st.data())
def test_any_layer_of_another_class_gives_a_network_or_a_model_file_error(
    name: str, class_name: str, data: st.DataObject
) -> None:
    config = copy.deepcopy(SMALL[name])
    layers = config["config"]["layers"]
    index = data.draw(st.integers(0, len(layers) - 1))
    layers[index]["class_name"] = class_name
    read_or_refused(config)


def read_bytes_or_refused(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        path.write_bytes(content)
        read_or_refused(path)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
@example(b"PK\x05\x06" + bytes(18))
@example(b'{"class_name": "Sequential", "config": {"layers": [[]]}}')
def test_any_bytes_give_a_network_or_a_model_file_error(content: bytes) -> None:
    read_bytes_or_refused(content)


FIXTURE_BYTES = {name: (KERAS_DIR / f"{name}.keras").read_bytes() for name in SMALL}


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(FIXTURE_BYTES)), st.data())
def test_a_damaged_archive_gives_a_network_or_a_model_file_error(
    name: str, data: st.DataObject
) -> None:
    """Truncated, or a byte changed: zipfile's checks (CRC), then the config's."""
    raw = bytearray(FIXTURE_BYTES[name])
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    else:
        position = data.draw(st.integers(0, len(raw) - 1))
        raw[position] = data.draw(st.integers(0, 255))
    read_bytes_or_refused(bytes(raw))


def test_keras_config_is_what_from_keras_reads() -> None:
    loaded = read_keras_config(KERAS_DIR / "MobileNet.keras")
    assert isinstance(loaded, KerasConfig)
    assert from_keras(loaded) == fixture("MobileNet")[0]
    assert fixture("MobileNet")[0].name == "mobilenet_1.00_224"  # the Keras model's name
