"""The ONNX reader: the wire format by hand, the onnx package as the oracle, and fuzzing.

Three kinds of test:

* **hand-encoded bytes** (standard library only, run without onnx): the protobuf rules the
  reader must follow (packed and unpacked repeated numbers, fields in any order, unknown
  fields skipped, repeated singular fields merged), tensor values of every numeric type,
  and every way bytes can be wrong, each a one-line `ModelFileError`;
* **the onnx package as the oracle** (skipped without it): models built with
  ``onnx.helper``, by hand or at random, read by ``ModelProto.FromString`` and converted
  through the onnx API (`oracle_model`), must equal what `parse_model` reads;
* **laws**: any bytes give a `Model` or a `ModelFileError`, never another exception; a
  large inline initializer is skipped, not read (memory measured, never time).
"""

from __future__ import annotations

import doctest
import math
import os
import re
import struct
import sys
import tracemalloc
from array import array
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from convcost import onnxproto
from convcost.errors import FieldError, ModelFileError
from convcost.onnxproto import (
    MAX_DEPTH,
    MAX_RANK,
    MAX_STRING_BYTES,
    SMALL_TENSOR,
    Graph,
    Model,
    Node,
    Tensor,
    ValueInfo,
    parse_model,
    read_model,
)

ONNX_DIR = Path(__file__).parent / "data" / "onnx"

# TensorProto.DataType codes (onnx.proto), spelled out so the stdlib tests need no onnx.
FLOAT, UINT8, INT8, UINT16, INT16, INT32, INT64 = 1, 2, 3, 4, 5, 6, 7
STRING, BOOL, FLOAT16, DOUBLE, UINT32, UINT64 = 8, 9, 10, 11, 12, 13
COMPLEX64, BFLOAT16 = 14, 16
NUMERIC_TYPES = (
    FLOAT,
    UINT8,
    INT8,
    UINT16,
    INT16,
    INT32,
    INT64,
    BOOL,
    FLOAT16,
    DOUBLE,
    UINT32,
    UINT64,
    BFLOAT16,
)
# TensorProto fields holding numbers
INT32_DATA, INT64_DATA, FLOAT_DATA, DOUBLE_DATA, UINT64_DATA, RAW_DATA = 5, 7, 4, 10, 11, 9


# --- a protobuf encoder, by hand --------------------------------------------------------


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def key(number: int, wire: int) -> bytes:
    return varint(number << 3 | wire)


def int_field(number: int, value: int) -> bytes:
    return key(number, 0) + varint(value)


def bytes_field(number: int, payload: bytes) -> bytes:
    return key(number, 2) + varint(len(payload)) + payload


def text_field(number: int, text: str) -> bytes:
    return bytes_field(number, text.encode())


def float_field(number: int, value: float) -> bytes:
    return key(number, 5) + struct.pack("<f", value)


def double_field(number: int, value: float) -> bytes:
    return key(number, 1) + struct.pack("<d", value)


def ints(number: int, values: Iterable[int], *, packed: bool) -> bytes:
    if packed:
        return bytes_field(number, b"".join(varint(value) for value in values))
    return b"".join(int_field(number, value) for value in values)


def floats(number: int, values: Iterable[float], *, packed: bool, code: str = "f") -> bytes:
    values = list(values)
    if packed:
        return bytes_field(number, struct.pack(f"<{len(values)}{code}", *values))
    one = float_field if code == "f" else double_field
    return b"".join(one(number, value) for value in values)


def attribute(name: str, kind: int, value: bytes) -> bytes:
    """An AttributeProto: its name, its type code and its value's field(s), encoded."""
    return text_field(1, name) + value + int_field(20, kind)


def node(
    op_type: str,
    inputs: Sequence[str] = (),
    outputs: Sequence[str] = (),
    *,
    name: str = "",
    attributes: Sequence[bytes] = (),
) -> bytes:
    return (
        b"".join(text_field(1, value) for value in inputs)
        + b"".join(text_field(2, value) for value in outputs)
        + (text_field(3, name) if name else b"")
        + text_field(4, op_type)
        + b"".join(bytes_field(5, value) for value in attributes)
    )


def tensor(name: str, data_type: int, dims: Sequence[int], data: bytes = b"") -> bytes:
    return ints(1, dims, packed=False) + int_field(2, data_type) + text_field(8, name) + data


def value_info(name: str, elem_type: int, shape: Sequence[int | str | None] | None) -> bytes:
    tensor_type = int_field(1, elem_type)
    if shape is not None:
        dims = b""
        for dim in shape:
            if isinstance(dim, int):
                dims += bytes_field(1, int_field(1, dim))
            elif isinstance(dim, str):
                dims += bytes_field(1, text_field(2, dim))
            else:
                dims += bytes_field(1, b"")
        tensor_type += bytes_field(2, dims)
    return text_field(1, name) + bytes_field(2, bytes_field(1, tensor_type))


def graph(
    nodes: Sequence[bytes] = (),
    *,
    name: str = "",
    initializers: Sequence[bytes] = (),
    inputs: Sequence[bytes] = (),
    outputs: Sequence[bytes] = (),
) -> bytes:
    return (
        b"".join(bytes_field(1, value) for value in nodes)
        + (text_field(2, name) if name else b"")
        + b"".join(bytes_field(5, value) for value in initializers)
        + b"".join(bytes_field(11, value) for value in inputs)
        + b"".join(bytes_field(12, value) for value in outputs)
    )


def model(graph_bytes: bytes, *, ir_version: int = 8, opsets: Sequence[bytes] = ()) -> bytes:
    opset = b"".join(bytes_field(8, value) for value in opsets)
    return int_field(1, ir_version) + opset + bytes_field(7, graph_bytes)


def opset(domain: str, version: int) -> bytes:
    return text_field(1, domain) + int_field(2, version)


def conv_model(*, packed: bool) -> bytes:
    """A convolution with weights, a bias, attributes and a symbolic batch size."""
    conv = node(
        "Conv",
        ("x", "w", "b"),
        ("y",),
        name="conv",
        attributes=(
            attribute("kernel_shape", 7, ints(8, (3, 3), packed=packed)),
            attribute("pads", 7, ints(8, (1, 1, 1, 1), packed=packed)),
            attribute("group", 2, int_field(3, 1)),
            attribute("auto_pad", 3, bytes_field(4, b"NOTSET")),
            attribute("alpha", 1, float_field(2, 0.5)),
        ),
    )
    weights = tensor("w", FLOAT, (8, 3, 3, 1), bytes_field(RAW_DATA, bytes(8 * 9 * 4)))
    dims = ints(1, (8,), packed=packed)
    bias = dims + int_field(2, FLOAT) + text_field(8, "b")
    bias += floats(FLOAT_DATA, [0.25 * i for i in range(8)], packed=packed)
    return model(
        graph(
            [conv],
            name="main",
            initializers=[weights, bias],
            inputs=[value_info("x", FLOAT, ("N", 3, 32, 32))],
            outputs=[value_info("y", FLOAT, ("N", 8, None, 32))],
        ),
        opsets=[opset("", 17)],
    )


CONV_MODEL = Model(
    ir_version=8,
    opset_imports={"": 17},
    graph=Graph(
        name="main",
        nodes=(
            Node(
                op_type="Conv",
                name="conv",
                inputs=("x", "w", "b"),
                outputs=("y",),
                attributes={
                    "kernel_shape": (3, 3),
                    "pads": (1, 1, 1, 1),
                    "group": 1,
                    "auto_pad": "NOTSET",
                    "alpha": 0.5,
                },
            ),
        ),
        initializers={
            "w": Tensor(name="w", data_type=FLOAT, dims=(8, 3, 3, 1)),  # 72 numbers: not read
            "b": Tensor(
                name="b", data_type=FLOAT, dims=(8,), values=tuple(0.25 * i for i in range(8))
            ),
        },
        inputs=(ValueInfo(name="x", elem_type=FLOAT, shape=("N", 3, 32, 32)),),
        outputs=(ValueInfo(name="y", elem_type=FLOAT, shape=("N", 8, None, 32)),),
    ),
)


def message(data: bytes) -> str:
    """The message of the `ModelFileError` that reading `data` raises."""
    with pytest.raises(ModelFileError) as caught:
        parse_model(data)
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith("<onnx>: ")
    return text


# --- hand-encoded models (no onnx needed) -----------------------------------------------


@pytest.mark.parametrize("packed", [False, True], ids=["unpacked", "packed"])
def test_a_convolution_reads_field_by_field(packed: bool) -> None:
    assert parse_model(conv_model(packed=packed)) == CONV_MODEL


def test_the_records_are_frozen_and_their_mappings_read_only() -> None:
    result = parse_model(conv_model(packed=True))
    with pytest.raises(AttributeError):
        result.ir_version = 9  # type: ignore[misc]
    with pytest.raises(TypeError):
        result.graph.nodes[0].attributes["group"] = 2  # type: ignore[index]
    with pytest.raises(TypeError):
        result.graph.initializers["x"] = result.graph.initializers["w"]  # type: ignore[index]
    assert list(result.graph.initializers) == ["w", "b"]  # file order
    assert hash(result.graph.nodes[0]) == hash(CONV_MODEL.graph.nodes[0])


def test_records_built_by_hand_check_what_they_hold() -> None:
    assert Tensor(name="t", data_type=INT64, dims=(2,), values=(1, 2)).size == 2
    assert Tensor(name="t", data_type=INT64, dims=()).size == 1
    with pytest.raises(FieldError, match="values"):
        Tensor(name="t", data_type=INT64, dims=(3,), values=(1, 2))
    with pytest.raises(FieldError, match="dims"):
        Tensor(name="t", data_type=INT64, dims=(-1,))
    many = SMALL_TENSOR + 1
    with pytest.raises(FieldError, match="values"):
        Tensor(name="t", data_type=INT64, dims=(many,), values=(0,) * many)
    attributes = {"axis": 1}
    built = Node(op_type="Concat", attributes=attributes)
    attributes["axis"] = 2  # the node keeps its own copy
    assert built.attributes == {"axis": 1}


def test_fields_read_in_any_order_and_unknown_ones_are_skipped() -> None:
    unknown = (
        int_field(99, 5)
        + bytes_field(98, b"\xff\x00 anything")
        + key(97, 5)
        + b"abcd"
        + key(96, 1)
        + b"abcdefgh"
    )
    relu = unknown + text_field(4, "Relu") + unknown + text_field(2, "y") + text_field(1, "x")
    data = (
        bytes_field(7, unknown + bytes_field(1, relu) + unknown)
        + unknown
        + bytes_field(6, b"a doc string")  # ModelProto.doc_string, not kept
        + int_field(1, 7)
    )
    assert parse_model(data) == Model(
        ir_version=7,
        graph=Graph(nodes=(Node(op_type="Relu", inputs=("x",), outputs=("y",)),)),
    )


def given_twice() -> bytes:
    """ir_version, the graph and a node's name each given twice."""
    first = bytes_field(1, node("Relu", ("x",), ("y",), name="first"))
    second = bytes_field(1, node("Relu", ("y",), ("z",))) + text_field(2, "g")
    renamed = text_field(3, "a") + text_field(4, "Relu") + text_field(3, "b")
    second += bytes_field(1, renamed)
    return int_field(1, 3) + bytes_field(7, first) + int_field(1, 8) + bytes_field(7, second)


def test_a_singular_field_given_twice_keeps_the_last_value_and_merges_messages() -> None:
    result = parse_model(given_twice())
    assert result.ir_version == 8
    assert result.graph.name == "g"
    assert [n.outputs for n in result.graph.nodes] == [("y",), ("z",), ()]
    assert result.graph.nodes[2].name == "b"


def test_negative_and_large_numbers_are_read_as_their_protobuf_types() -> None:
    attributes = (
        attribute("i", 2, int_field(3, -1)),
        attribute("ints", 7, ints(8, (-(2**63), 2**63 - 1, -5), packed=False)),
        attribute("packed", 7, ints(8, (-7, 300), packed=True)),
        attribute("f", 1, float_field(2, -2.5)),
        attribute("floats", 6, floats(7, (1.5, -0.0), packed=False)),
        attribute("none", 7, b""),  # an empty list is a list
    )
    result = parse_model(model(graph([node("Op", attributes=attributes)])))
    assert dict(result.graph.nodes[0].attributes) == {
        "i": -1,
        "ints": (-(2**63), 2**63 - 1, -5),
        "packed": (-7, 300),
        "f": -2.5,
        "floats": (1.5, -0.0),
        "none": (),
    }


def test_an_attribute_without_a_type_takes_the_type_of_its_value() -> None:
    """IR version 1 had no AttributeProto.type; the field holding the value tells."""
    old = (
        bytes_field(5, text_field(1, "i") + int_field(3, 4)),
        bytes_field(5, text_field(1, "s") + bytes_field(4, b"same")),
        bytes_field(5, text_field(1, "ints") + ints(8, (1, 2), packed=True)),
        bytes_field(5, text_field(1, "nothing")),
    )
    result = parse_model(model(bytes_field(1, text_field(4, "Op") + b"".join(old))))
    assert dict(result.graph.nodes[0].attributes) == {
        "i": 4,
        "s": "same",
        "ints": (1, 2),
        "nothing": None,
    }


def test_attributes_of_types_convcost_does_not_read_are_none() -> None:
    sparse = attribute("sparse", 11, bytes_field(22, b""))
    type_proto = attribute("tp", 13, bytes_field(14, b""))
    future = attribute("future", 99, int_field(3, 1))
    result = parse_model(model(graph([node("Op", attributes=(sparse, type_proto, future))])))
    assert dict(result.graph.nodes[0].attributes) == {"sparse": None, "tp": None, "future": None}


def test_subgraphs_are_read_with_their_own_initializers() -> None:
    body = graph(
        [node("Add", ("x", "one"), ("y",))],
        name="then",
        initializers=[tensor("one", INT64, (), ints(INT64_DATA, (1,), packed=True))],
    )
    if_node = node(
        "If", ("cond",), ("y",), attributes=(attribute("then_branch", 5, bytes_field(6, body)),)
    )
    branches = attribute("branches", 10, bytes_field(11, body) + bytes_field(11, b""))
    result = parse_model(model(graph([if_node, node("Switch", attributes=(branches,))])))
    then = result.graph.nodes[0].attributes["then_branch"]
    assert isinstance(then, Graph)
    assert then.name == "then"
    assert then.nodes[0].op_type == "Add"
    assert then.initializers["one"] == Tensor(name="one", data_type=INT64, dims=(), values=(1,))
    assert result.graph.nodes[1].attributes["branches"] == (then, Graph())


def raw(code: str, *values: float) -> bytes:
    return bytes_field(RAW_DATA, struct.pack(f"<{len(values)}{code}", *values))


# id: (data type, dims, the encoded data, the values read)
TENSOR_CASES: dict[str, tuple[int, tuple[int, ...], bytes, tuple[float, ...]]] = {
    "float-raw": (FLOAT, (2,), raw("f", 1.5, -2.0), (1.5, -2.0)),
    "float-packed": (FLOAT, (2,), floats(FLOAT_DATA, (1.5, -2.0), packed=True), (1.5, -2.0)),
    "float-unpacked": (FLOAT, (2,), floats(FLOAT_DATA, (1.5, -2.0), packed=False), (1.5, -2.0)),
    "double-raw": (DOUBLE, (2,), raw("d", 0.1, 1e300), (0.1, 1e300)),
    "double-packed": (DOUBLE, (1,), floats(DOUBLE_DATA, (0.1,), packed=True, code="d"), (0.1,)),
    "double-unpacked": (DOUBLE, (1,), floats(DOUBLE_DATA, (0.1,), packed=False, code="d"), (0.1,)),
    "float16-raw": (FLOAT16, (2,), raw("e", 1.5, -65504.0), (1.5, -65504.0)),
    "float16-int32_data": (
        FLOAT16,
        (2,),
        ints(INT32_DATA, (0x3E00, 0xC000), packed=True),
        (1.5, -2.0),
    ),
    "bfloat16-raw": (BFLOAT16, (2,), raw("H", 0x3FC0, 0xC000), (1.5, -2.0)),
    "bfloat16-int32_data": (BFLOAT16, (1,), ints(INT32_DATA, (0x3FC0,), packed=False), (1.5,)),
    "int64-raw": (INT64, (2, 2), raw("q", -1, 2, 3, 2**62), (-1, 2, 3, 2**62)),
    "int64-packed": (
        INT64,
        (3,),
        ints(INT64_DATA, (-1, 0, 2**63 - 1), packed=True),
        (-1, 0, 2**63 - 1),
    ),
    "int64-unpacked": (
        INT64,
        (2,),
        ints(INT64_DATA, (-1, 2**63 - 1), packed=False),
        (-1, 2**63 - 1),
    ),
    "int32-raw": (INT32, (2,), raw("i", -(2**31), 7), (-(2**31), 7)),
    "int32-packed": (INT32, (2,), ints(INT32_DATA, (-(2**31), 7), packed=True), (-(2**31), 7)),
    "int16-raw": (INT16, (2,), raw("h", -3, 300), (-3, 300)),
    "int8-raw": (INT8, (2,), raw("b", -3, 127), (-3, 127)),
    "int8-int32_data-wraps": (
        INT8,
        (3,),
        ints(INT32_DATA, (-3, 127, 200), packed=False),
        (-3, 127, -56),
    ),
    "uint8-raw": (UINT8, (2,), bytes_field(RAW_DATA, b"\x00\xff"), (0, 255)),
    "uint8-int32_data-wraps": (UINT8, (2,), ints(INT32_DATA, (255, 300), packed=True), (255, 44)),
    "uint16-raw": (UINT16, (1,), raw("H", 65535), (65535,)),
    "uint16-int32_data": (UINT16, (1,), ints(INT32_DATA, (65535,), packed=True), (65535,)),
    "uint32-raw": (UINT32, (1,), raw("I", 2**32 - 1), (2**32 - 1,)),
    "uint32-uint64_data": (
        UINT32,
        (1,),
        ints(UINT64_DATA, (2**32 - 1,), packed=False),
        (2**32 - 1,),
    ),
    "uint64-raw": (UINT64, (1,), raw("Q", 2**64 - 1), (2**64 - 1,)),
    "uint64-packed": (UINT64, (1,), ints(UINT64_DATA, (2**64 - 1,), packed=True), (2**64 - 1,)),
    "bool-raw": (BOOL, (3,), bytes_field(RAW_DATA, b"\x00\x01\x02"), (0, 1, 1)),
    "bool-int32_data": (BOOL, (2,), ints(INT32_DATA, (1, 0), packed=False), (1, 0)),
    "empty": (INT64, (0, 3), b"", ()),
    "scalar": (INT64, (), ints(INT64_DATA, (5,), packed=True), (5,)),
    # raw_data wins over a typed field, as in onnx.numpy_helper
    "raw_data-first": (
        FLOAT,
        (1,),
        raw("f", 1.0) + floats(FLOAT_DATA, (9.0,), packed=True),
        (1.0,),
    ),
}
TENSOR_VALUES = [pytest.param(*case, id=name) for name, case in TENSOR_CASES.items()]


@pytest.mark.parametrize(("data_type", "dims", "data", "values"), TENSOR_VALUES)
def test_small_tensors_have_their_values(
    data_type: int, dims: tuple[int, ...], data: bytes, values: tuple[float, ...]
) -> None:
    result = parse_model(model(graph(initializers=[tensor("t", data_type, dims, data)])))
    assert result.graph.initializers["t"] == Tensor(
        name="t", data_type=data_type, dims=dims, values=values
    )


NO_VALUES = [
    pytest.param(FLOAT, (SMALL_TENSOR + 1,), raw("f", *range(SMALL_TENSOR + 1)), id="large-raw"),
    pytest.param(
        INT64, (8, 9), ints(INT64_DATA, range(72), packed=False), id="large-unpacked-typed"
    ),
    pytest.param(FLOAT, (1000,), b"", id="large-without-data"),
    pytest.param(FLOAT, (2,), b"", id="small-without-data"),  # a graph-only copy
    pytest.param(STRING, (1,), bytes_field(6, b"text"), id="string"),
    pytest.param(COMPLEX64, (1,), raw("f", 1.0, 2.0), id="complex64"),
    pytest.param(0, (1,), b"", id="undefined-type"),
    pytest.param(
        FLOAT,
        (2,),
        bytes_field(13, text_field(1, "location") + text_field(2, "w.bin")) + int_field(14, 1),
        id="external",
    ),
]


@pytest.mark.parametrize(("data_type", "dims", "data"), NO_VALUES)
def test_other_tensors_have_only_a_shape(
    data_type: int, dims: tuple[int, ...], data: bytes
) -> None:
    result = parse_model(model(graph(initializers=[tensor("t", data_type, dims, data)])))
    read = result.graph.initializers["t"]
    assert (read.data_type, read.dims, read.values) == (data_type, dims, None)
    assert read.external == (b"w.bin" in data)


def test_value_infos_read_symbolic_unknown_and_missing_shapes() -> None:
    sequence = text_field(1, "seq") + bytes_field(2, bytes_field(4, b"anything"))
    sparse = text_field(1, "sparse") + bytes_field(
        2, bytes_field(8, int_field(1, FLOAT) + bytes_field(2, bytes_field(1, int_field(1, 5))))
    )
    untyped = text_field(1, "untyped")
    no_elem = text_field(1, "no_elem") + bytes_field(2, bytes_field(1, b""))
    inputs = [
        value_info("x", FLOAT, ("batch", 3, None, -1, "")),
        value_info("scalar", INT64, ()),
        value_info("unranked", INT64, None),
        sequence,
        sparse,
        untyped,
        no_elem,
    ]
    result = parse_model(model(graph(inputs=inputs)))
    assert result.graph.inputs == (
        ValueInfo(name="x", elem_type=FLOAT, shape=("batch", 3, None, -1, "")),
        ValueInfo(name="scalar", elem_type=INT64, shape=()),  # an empty shape: rank 0
        ValueInfo(name="unranked", elem_type=INT64, shape=None),
        ValueInfo(name="seq"),
        ValueInfo(name="sparse", elem_type=FLOAT, shape=(5,)),
        ValueInfo(name="untyped"),
        ValueInfo(name="no_elem"),
    )


def oneofs_given_twice() -> bytes:
    """Dimensions given as a value and a name, a type given as a sequence then a tensor."""
    both = bytes_field(1, int_field(1, 4) + text_field(2, "n"))
    shape = bytes_field(2, both + bytes_field(1, text_field(2, "m") + int_field(1, 5)))
    info = text_field(1, "x") + bytes_field(2, bytes_field(4, b"") + bytes_field(1, shape))
    return model(graph(inputs=[info]))


def test_the_last_case_of_a_oneof_wins() -> None:
    assert parse_model(oneofs_given_twice()).graph.inputs[0].shape == ("n", 5)


def test_opset_imports_map_domains_to_versions() -> None:
    data = model(graph(), opsets=[opset("", 17), opset("ai.onnx.ml", 3), opset("", 18)])
    assert dict(parse_model(data).opset_imports) == {"": 18, "ai.onnx.ml": 3}


def test_producer_fields_are_kept() -> None:
    data = model(graph()) + text_field(2, "pytorch") + text_field(3, "2.5 ✓")
    result = parse_model(data)
    assert (result.producer_name, result.producer_version) == ("pytorch", "2.5 ✓")


@pytest.mark.parametrize(
    "data",
    [
        bytes(conv_model(packed=True)),
        bytearray(conv_model(packed=True)),
        memoryview(conv_model(packed=True)),
        memoryview(b"\x00\x00\x00" + conv_model(packed=True))[3:],
    ],
    ids=["bytes", "bytearray", "memoryview", "memoryview-slice"],
)
def test_parse_model_reads_any_contiguous_bytes(data: bytes | bytearray | memoryview) -> None:
    assert parse_model(data) == CONV_MODEL


def test_parse_model_leaves_a_bytearray_resizable() -> None:
    """No view of the bytes outlives the call (resizing fails while one is held)."""
    data = bytearray(conv_model(packed=True))
    parse_model(data)
    data.extend(b"more")
    broken = bytearray(b"\x08")
    with pytest.raises(ModelFileError):
        parse_model(broken)
    broken.extend(b"\x01")


def test_parse_model_reads_a_view_of_another_item_size() -> None:
    data = conv_model(packed=True)
    padding = -len(data) % 4 or 4
    padding += 4 if padding == 1 else 0
    # an unknown varint field of the padding's length: a non-canonical zero
    words = array("I")
    words.frombytes(data + key(15, 0) + b"\x80" * (padding - 2) + b"\x00")
    assert parse_model(memoryview(words)) == CONV_MODEL


@pytest.mark.parametrize(
    "data", ["text", 123, memoryview(b"0123456789")[::2]], ids=["str", "int", "strided"]
)
def test_parse_model_rejects_what_is_not_contiguous_bytes(data: Any) -> None:
    with pytest.raises(FieldError, match="data must be"):
        parse_model(data)


# --- bad bytes ------------------------------------------------------------------------

BAD = [
    # (bytes, a regular expression the message must match)
    pytest.param(b"", r"not an ONNX model \(no graph\)$", id="empty"),
    pytest.param(int_field(1, 8), r"\(no graph\)", id="no-graph"),
    pytest.param(bytes_field(7, b""), r"\(no ir_version\)", id="no-ir_version"),
    pytest.param(model(b"", ir_version=0), r"ir_version 0 is not between 1 and 255", id="ir-0"),
    pytest.param(model(b"", ir_version=-1), r"ir_version -1 is not", id="ir-negative"),
    pytest.param(model(b"", ir_version=10**6), r"ir_version 1,000,000 is not", id="ir-large"),
    pytest.param(
        key(1, 0) + b"\xff" * 10 + b"\x01",
        r"varint longer than 10 bytes at byte 1$",
        id="varint-11",
    ),
    pytest.param(key(1, 0) + b"\x80", r"truncated varint at byte 1$", id="varint-truncated"),
    pytest.param(
        key(7, 2) + varint(100) + b"abc",
        r"a field of 100 bytes runs past the end \(3 left\) at byte 1$",
        id="length-past-end",
    ),
    pytest.param(
        key(7, 2) + varint(2**40),
        r"a field of 1,099,511,627,776 bytes runs past the end \(0 left\) at byte 1$",
        id="length-huge",
    ),
    pytest.param(
        key(99, 5) + b"ab", r"truncated fixed-size field at byte 2$", id="fixed32-truncated"
    ),
    pytest.param(
        key(99, 1) + b"abcdefg", r"truncated fixed-size field at byte 2$", id="fixed64-truncated"
    ),
    pytest.param(
        key(99, 3), r"group field \(wire type 3, not used by ONNX\) at byte 0$", id="group-start"
    ),
    pytest.param(key(99, 4), r"group field \(wire type 4", id="group-end"),
    pytest.param(key(99, 6), r"unknown wire type 6 at byte 0$", id="wire-6"),
    pytest.param(key(99, 7), r"unknown wire type 7 at byte 0$", id="wire-7"),
    pytest.param(int_field(0, 1), r"field number 0 at byte 0$", id="field-0"),
    pytest.param(
        int_field(7, 1),
        r"ModelProto\.graph is varint, expected length-delimited, at byte 0$",
        id="wire-mismatch",
    ),
    pytest.param(
        # 08 08 | 3a 04 | 0a 02 | 18 05: NodeProto.name (3) as a varint, at byte 6
        model(bytes_field(1, int_field(3, 5))),
        r"NodeProto\.name is varint, expected length-delimited, at byte 6$",
        id="nested-wire-mismatch",
    ),
    pytest.param(
        model(bytes_field(1, bytes_field(3, b"ok\xff"))),
        r"NodeProto\.name is not UTF-8 text at byte 10$",
        id="not-utf-8",
    ),
    pytest.param(
        model(bytes_field(1, bytes_field(3, "\ud800".encode("utf-8", "surrogatepass")))),
        r"NodeProto\.name is not UTF-8 text",
        id="surrogate",
    ),
    pytest.param(
        model(graph([node("Op", attributes=[attribute("s", 3, bytes_field(4, b"\xc3"))])])),
        r"attribute 's' is not UTF-8 text",
        id="attribute-not-utf-8",
    ),
    pytest.param(
        model(graph(initializers=[tensor("w", FLOAT, (100,))] * 2)),
        r"two initializers named 'w'",
        id="duplicate-initializer",
    ),
    pytest.param(
        model(graph([node("Op", attributes=[attribute("a", 2, int_field(3, 1))] * 2)])),
        r"two attributes named 'a' in one node",
        id="duplicate-attribute",
    ),
    pytest.param(
        model(graph(initializers=[tensor("w", FLOAT, (2, -1))])),
        r"tensor 'w' has dims \(2, -1\)",
        id="negative-dims",
    ),
    pytest.param(
        model(graph(initializers=[tensor("w", FLOAT, (3,), raw("f", 1.0, 2.0))])),
        r"tensor 'w' has 8 bytes of raw_data for 3 numbers of 4 bytes",
        id="raw_data-short",
    ),
    pytest.param(
        model(graph(initializers=[tensor("w", INT64, (3,), ints(7, (1, 2), packed=True))])),
        r"tensor 'w' has 2 numbers in its int64_data for 3 elements",
        id="typed-short",
    ),
    pytest.param(
        model(graph(initializers=[tensor("w", INT64, (1,), ints(7, (1, 2), packed=False))])),
        r"tensor 'w' has more numbers in its int64_data for 1 elements",
        id="typed-long",
    ),
    pytest.param(
        model(graph(initializers=[tensor("w", FLOAT, (1,), bytes_field(FLOAT_DATA, b"abcde"))])),
        r"float_data of tensor 'w' of 5 bytes, not a multiple of 4, at byte",
        id="packed-floats-ragged",
    ),
    pytest.param(
        model(graph(initializers=[tensor("w", INT64, (1,), bytes_field(INT64_DATA, b"\x80"))])),
        r"truncated varint at byte",
        id="packed-varint-truncated",
    ),
]


@pytest.mark.parametrize(("data", "pattern"), BAD)
def test_bad_bytes_are_a_one_line_model_file_error(data: bytes, pattern: str) -> None:
    text = message(data)
    assert re.search(pattern, text), text


@pytest.mark.parametrize(
    "data",
    [
        b"ir_version: 8\ngraph { node { op_type: 'Relu' } }\n",  # the onnx text format
        b'{"irVersion": "8", "graph": {}}',  # the onnx JSON format
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10",
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00",  # a zip (a PyTorch or Keras file)
        b"\x80\x02}q\x00(X\x05\x00\x00\x00modelq\x01",  # a pickle
        b"\x89HDF\r\n\x1a\n\x00\x00\x00\x00",  # HDF5 (Keras .h5)
        bytes(range(256)),
        b"\x00" * 100,
    ],
    ids=["text-format", "json", "png", "zip", "pickle", "hdf5", "all-bytes", "zeros"],
)
def test_other_files_are_not_onnx_models(data: bytes) -> None:
    assert "ONNX model" in message(data)


def nested_ifs(levels: int) -> bytes:
    body = graph([node("Identity", ("x",), ("y",))])
    for _ in range(levels):
        body = graph(
            [node("If", ("c",), ("y",), attributes=[attribute("g", 5, bytes_field(6, body))])]
        )
    return model(body)


def test_nesting_is_limited() -> None:
    # each subgraph adds three messages: the graph, its node and the node's attribute
    levels = (MAX_DEPTH - 3) // 3
    assert isinstance(parse_model(nested_ifs(levels)), Model)
    assert "the limit MAX_DEPTH" in message(nested_ifs(levels + 1))
    assert "the limit MAX_DEPTH" in message(nested_ifs(1000))  # far below the stack's limit


def test_a_repeated_attribute_is_read_once_but_still_within_the_depth_limit() -> None:
    """Attributes are remembered by their bytes; the one near MAX_DEPTH is read again."""
    constant = attribute("value", 4, bytes_field(5, tensor("c", INT64, (1,), raw("q", 7))))
    shallow = node("Constant", outputs=("c",), attributes=[constant])
    assert parse_model(model(graph([shallow, shallow]))).graph.nodes[1].attributes["value"] == (
        Tensor(name="c", data_type=INT64, dims=(1,), values=(7,))
    )
    body = graph([shallow])
    for _ in range((MAX_DEPTH - 3) // 3):  # the tensor, innermost, lands past MAX_DEPTH
        body = graph([node("If", attributes=[attribute("g", 5, bytes_field(6, body))])])
    assert "the limit MAX_DEPTH" in message(model(graph([shallow], name="top") + body))


def test_strings_are_limited() -> None:
    longest = "n" * MAX_STRING_BYTES
    assert parse_model(model(graph(name=longest))).graph.name == longest
    text = message(model(graph(name=longest + "n")))
    assert "GraphProto.name of 65,537 bytes: more than 65,536, the limit MAX_STRING_BYTES" in text


def test_ranks_are_limited() -> None:
    dims = (1,) * MAX_RANK
    assert (
        parse_model(model(graph(inputs=[value_info("x", FLOAT, dims)]))).graph.inputs[0].shape
        == dims
    )
    assert "MAX_RANK" in message(model(graph(inputs=[value_info("x", FLOAT, (*dims, 1))])))
    ok = tensor("w", FLOAT, dims, raw("f", 1.0))
    assert parse_model(model(graph(initializers=[ok]))).graph.initializers["w"].dims == dims
    for packed in (False, True):
        many = ints(1, (1,) * (MAX_RANK + 1), packed=packed) + int_field(2, FLOAT)
        assert "the limit MAX_RANK" in message(model(graph(initializers=[many])))


def test_nodes_are_limited(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(onnxproto, "MAX_NODES", 3)
    three = [node("Relu")] * 3
    assert len(parse_model(model(graph(three))).graph.nodes) == 3
    assert "nodes: more than 3, the limit MAX_NODES" in message(
        model(graph([*three, node("Relu")]))
    )
    # subgraphs count too, each time they appear
    body = attribute("g", 5, bytes_field(6, graph([node("Relu")] * 3)))
    assert "MAX_NODES" in message(model(graph([node("If", attributes=[body])])))
    monkeypatch.setattr(onnxproto, "MAX_NODES", 5)
    body = attribute("g", 5, bytes_field(6, graph([node("Relu")] * 2)))
    assert "MAX_NODES" in message(model(graph([node("If", attributes=[body])] * 2)))


def test_values_are_limited(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(onnxproto, "MAX_VALUES", 3)
    inputs = [value_info(name, FLOAT, (1,)) for name in "abc"]
    assert len(parse_model(model(graph(inputs=inputs))).graph.inputs) == 3
    text = message(model(graph(inputs=inputs, initializers=[tensor("w", FLOAT, (0,))])))
    assert "initializers and value infos: more than 3, the limit MAX_VALUES" in text


@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize(("kind", "number"), [(6, 7), (7, 8)], ids=["floats", "ints"])
def test_attribute_lists_are_limited(
    monkeypatch: pytest.MonkeyPatch, packed: bool, kind: int, number: int
) -> None:
    monkeypatch.setattr(onnxproto, "MAX_ATTRIBUTE_VALUES", 4)

    def with_values(count: int) -> bytes:
        encode = floats if kind == 6 else ints
        values = attribute("a", kind, encode(number, [1] * count, packed=packed))
        return model(graph([node("Op", attributes=[values])]))

    assert parse_model(with_values(4)).graph.nodes[0].attributes["a"] == (1,) * 4
    assert "values in attribute 'a': more than 4, the limit MAX_ATTRIBUTE_VALUES" in message(
        with_values(5)
    )


def test_a_singular_message_repeated_without_end_is_refused() -> None:
    text = message(int_field(1, 8) + bytes_field(7, b"") * 65)
    assert "ModelProto.graph given more than 64 times" in text


def test_a_model_full_of_empty_nodes_stays_within_its_limits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(onnxproto, "MAX_NODES", 1000)
    assert "MAX_NODES" in message(model(bytes_field(1, b"") * 2000))


# --- laws -----------------------------------------------------------------------------


def a_rich_model() -> bytes:
    """A model using most of what the reader reads, to be cut and corrupted."""
    body = graph([node("Identity", ("x",), ("y",))], name="body")
    attributes = [
        attribute("g", 5, bytes_field(6, body)),
        attribute("t", 4, bytes_field(5, tensor("c", INT64, (2,), ints(7, (1, -1), packed=True)))),
        attribute("ints", 7, ints(8, (1, 2, 3), packed=False)),
        attribute("floats", 6, floats(7, (0.5,), packed=True)),
        attribute("strings", 8, text_field(9, "a") + text_field(9, "b")),
    ]
    # a second graph field: protobuf merges it into the first
    loop = node("Loop", ("m",), ("z",), name="loop", attributes=attributes)
    return conv_model(packed=False) + bytes_field(7, bytes_field(1, loop))


def read_or_refuse(data: bytes | bytearray) -> None:
    """`data` reads as a `Model`, or is refused with a one-line `ModelFileError`."""
    try:
        result: Model | str = parse_model(data)
    except ModelFileError as error:
        result = str(error)
    assert isinstance(result, Model) or "\n" not in result


def test_every_prefix_of_a_model_reads_or_is_refused() -> None:
    data = a_rich_model()
    assert parse_model(data).graph.nodes[-1].name == "loop"
    for end in range(len(data)):
        read_or_refuse(data[:end])


def test_every_single_bit_flip_reads_or_is_refused() -> None:
    data = a_rich_model()
    for position in range(len(data)):
        for bit in range(8):
            flipped = bytearray(data)
            flipped[position] ^= 1 << bit
            read_or_refuse(flipped)


@given(data=st.binary(max_size=1024))
@example(data=b"\x08\x01:\x00")  # the smallest model
@example(data=b"\x08\x01:\x02\x0a\x00")  # one empty node
def test_any_bytes_give_a_model_or_a_model_file_error(data: bytes) -> None:
    read_or_refuse(data)


@given(
    cut=st.integers(0, 1 << 16),
    flips=st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), max_size=8),
    tail=st.binary(max_size=16),
)
def test_damaged_models_give_a_model_or_a_model_file_error(
    cut: int, flips: list[tuple[int, int]], tail: bytes
) -> None:
    data = bytearray(a_rich_model())
    del data[cut % (len(data) + 1) :]
    for position, mask in flips:
        if data:
            data[position % len(data)] ^= mask
    read_or_refuse(data + tail)


def big_model(path: Path, payload: int) -> None:
    """Write a model whose one initializer holds `payload` bytes of zeros inline.

    The zeros are a hole in a sparse file where the file system allows: nothing is written.
    """
    weights = int_field(1, payload // 4) + int_field(2, FLOAT) + text_field(8, "w")
    weights += key(RAW_DATA, 2) + varint(payload)
    initializer = key(5, 2) + varint(len(weights) + payload) + weights
    rest = bytes_field(1, node("MatMul", ("x", "w"), ("y",))) + bytes_field(
        11, value_info("x", FLOAT, (1, payload // 4))
    )
    head = int_field(1, 8) + key(7, 2) + varint(len(initializer) + payload + len(rest))
    with path.open("wb") as file:
        file.write(head + initializer)
        file.seek(payload, os.SEEK_CUR)
        file.write(rest)


def test_a_large_inline_initializer_is_skipped_not_read(tmp_path: Path) -> None:
    payload = 200 * 2**20
    path = tmp_path / "big.onnx"
    big_model(path, payload)
    tracemalloc.start()
    try:
        result = read_model(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    weights = result.graph.initializers["w"]
    assert (weights.dims, weights.values, weights.size * 4) == ((payload // 4,), None, payload)
    assert result.graph.nodes[0].op_type == "MatMul"
    assert peak < 2**20, f"reading used {peak:,} bytes"


# --- files ----------------------------------------------------------------------------


def test_read_model_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "conv.onnx"
    path.write_bytes(conv_model(packed=True))
    assert read_model(path) == CONV_MODEL
    assert read_model(str(path)) == CONV_MODEL


def test_read_model_names_the_file_in_its_errors(tmp_path: Path) -> None:
    path = tmp_path / "cut.onnx"
    path.write_bytes(conv_model(packed=True)[:-5])
    with pytest.raises(ModelFileError) as caught:
        read_model(path)
    assert str(caught.value).startswith(f"{path}: truncated or not an ONNX model: ")
    assert caught.value.source == str(path)
    # the mapping was closed: the file can go (on Windows too)
    path.unlink()


def special_file(tmp_path: Path, kind: str) -> Path:
    if kind == "missing":
        return tmp_path / "missing.onnx"
    if kind == "directory":
        return tmp_path
    if kind == "empty":
        (tmp_path / "empty.onnx").write_bytes(b"")
        return tmp_path / "empty.onnx"
    if kind == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        os.mkfifo(tmp_path / "fifo")
        return tmp_path / "fifo"
    device = Path(os.devnull)
    if sys.platform == "win32" or not device.exists():
        pytest.skip("no device file here")
    return device


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("missing", "no such file"),
        ("directory", "is a directory"),
        ("empty", "is empty"),
        ("fifo", "is not a regular file"),  # refused, not waited on
        ("device", "is not a regular file"),
    ],
)
def test_read_model_refuses_what_is_not_a_regular_file(
    tmp_path: Path, kind: str, text: str
) -> None:
    path = special_file(tmp_path, kind)
    with pytest.raises(ModelFileError) as caught:
        read_model(path)
    assert str(caught.value).startswith(f"{path}: {text}")
    assert "\n" not in str(caught.value)


def test_the_docstring_examples_run() -> None:
    result = doctest.testmod(onnxproto, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


# --- the onnx package as the oracle ---------------------------------------------------


@pytest.fixture(scope="module")
def onnx() -> Any:
    """The onnx package, or skip: the tests above need only the standard library."""
    return pytest.importorskip("onnx")


def need_onnx() -> Any:
    return pytest.importorskip("onnx")


def oracle_model(proto: Any) -> Model:
    """What `parse_model` must read, converted from onnx's own objects through its API."""
    return Model(
        ir_version=proto.ir_version,
        opset_imports={entry.domain: entry.version for entry in proto.opset_import},
        producer_name=proto.producer_name,
        producer_version=proto.producer_version,
        graph=oracle_graph(proto.graph),
    )


def oracle_graph(proto: Any) -> Graph:
    return Graph(
        name=proto.name,
        nodes=tuple(oracle_node(item) for item in proto.node),
        initializers={item.name: oracle_tensor(item) for item in proto.initializer},
        inputs=tuple(oracle_value_info(item) for item in proto.input),
        outputs=tuple(oracle_value_info(item) for item in proto.output),
        value_info=tuple(oracle_value_info(item) for item in proto.value_info),
    )


def oracle_node(proto: Any) -> Node:
    helper = need_onnx().helper
    return Node(
        op_type=proto.op_type,
        name=proto.name,
        domain=proto.domain,
        inputs=tuple(proto.input),
        outputs=tuple(proto.output),
        attributes={
            item.name: oracle_value(helper.get_attribute_value(item)) for item in proto.attribute
        },
    )


def oracle_value(value: Any) -> Any:
    onnx = need_onnx()
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, list):
        return tuple(oracle_value(item) for item in value)
    if isinstance(value, onnx.TensorProto):
        return oracle_tensor(value)
    if isinstance(value, onnx.GraphProto):
        return oracle_graph(value)
    if isinstance(value, (int, float)):
        return value
    return None  # sparse tensors, type protos


def oracle_tensor(proto: Any) -> Tensor:
    onnx = need_onnx()
    external = proto.data_location == onnx.TensorProto.EXTERNAL
    values = None
    if not external and proto.data_type in NUMERIC_TYPES and math.prod(proto.dims) <= SMALL_TENSOR:
        values = tuple(onnx.numpy_helper.to_array(proto).reshape(-1).tolist())
    return Tensor(
        name=proto.name,
        data_type=proto.data_type,
        dims=tuple(proto.dims),
        values=values,
        external=external,
    )


def oracle_value_info(proto: Any) -> ValueInfo:
    kind = proto.type.WhichOneof("value")
    if kind not in ("tensor_type", "sparse_tensor_type"):
        return ValueInfo(name=proto.name)
    tensor_type = getattr(proto.type, kind)
    shape = None
    if tensor_type.HasField("shape"):
        shape = tuple(
            getattr(dim, dim.WhichOneof("value")) if dim.WhichOneof("value") else None
            for dim in tensor_type.shape.dim
        )
    return ValueInfo(
        name=proto.name,
        elem_type=tensor_type.elem_type if tensor_type.HasField("elem_type") else None,
        shape=shape,
    )


def read_both(onnx: Any, data: bytes) -> tuple[Model, Model]:
    """(what we read, what onnx reads) from the same bytes."""
    return parse_model(data), oracle_model(onnx.ModelProto.FromString(data))


@pytest.mark.parametrize(
    "data",
    [
        conv_model(packed=False),
        conv_model(packed=True),
        a_rich_model(),
        nested_ifs(3),
        given_twice(),
        oneofs_given_twice(),
    ],
    ids=["conv-unpacked", "conv-packed", "rich", "nested", "given-twice", "oneofs"],
)
def test_onnx_reads_the_hand_encoded_models_as_we_do(onnx: Any, data: bytes) -> None:
    ours, theirs = read_both(onnx, data)
    assert ours == theirs


@pytest.mark.parametrize(("data_type", "dims", "data", "values"), TENSOR_VALUES)
def test_onnx_reads_the_hand_encoded_tensors_as_we_do(
    onnx: Any, data_type: int, dims: tuple[int, ...], data: bytes, values: tuple[float, ...]
) -> None:
    ours, theirs = read_both(onnx, model(graph(initializers=[tensor("t", data_type, dims, data)])))
    assert ours == theirs


def test_every_attribute_type_reads_as_onnx_reads_it(onnx: Any) -> None:
    helper = onnx.helper
    numpy_helper = onnx.numpy_helper
    np = pytest.importorskip("numpy")
    A = onnx.AttributeProto
    body = helper.make_graph(
        [helper.make_node("Relu", ["a"], ["b"], name="inner")],
        "body",
        [helper.make_tensor_value_info("a", onnx.TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor_value_info("b", onnx.TensorProto.FLOAT, None)],
    )
    small = numpy_helper.from_array(np.array([[1, 2], [3, 4]], dtype=np.int64), "small")
    large = numpy_helper.from_array(np.zeros((8, 9), dtype=np.float32), "large")
    half = helper.make_tensor("half", onnx.TensorProto.FLOAT16, [3], [0.5, -1.0, 65504.0])
    sparse = helper.make_sparse_tensor(
        helper.make_tensor("v", onnx.TensorProto.FLOAT, [1], [1.0]),
        helper.make_tensor("i", onnx.TensorProto.INT64, [1], [0]),
        [4],
    )
    op = helper.make_node("Custom", ["x", "", "y"], ["z"], name="all", domain="example.com")
    op.attribute.extend(
        [
            helper.make_attribute("int", -(2**40)),
            helper.make_attribute("float", 0.1),
            helper.make_attribute("string", "ünïcode ✓"),
            helper.make_attribute("ints", [1, -2, 2**62]),
            helper.make_attribute("floats", [0.1, -3.5]),
            helper.make_attribute("strings", ["a", "", "ß"]),
            helper.make_attribute("no_ints", [], attr_type=A.INTS),
            helper.make_attribute("tensor", small),
            helper.make_attribute("large_tensor", large),
            helper.make_attribute("half", half),
            helper.make_attribute("graph", body),
            helper.make_attribute("tensors", [small, large]),
            helper.make_attribute("graphs", [body, body]),
            helper.make_attribute("sparse", sparse),
            helper.make_attribute("type", helper.make_tensor_type_proto(1, [2])),
        ]
    )
    main = helper.make_graph(
        [op],
        "main",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["batch", None, 7])],
        [helper.make_tensor_value_info("z", onnx.TensorProto.INT64, [])],
        initializer=[small, large, half],
        value_info=[
            helper.make_value_info(
                "s",
                helper.make_sequence_type_proto(helper.make_tensor_type_proto(1, [2])),
            )
        ],
    )
    proto = helper.make_model(
        main,
        producer_name="tests",
        producer_version="1.0",
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("example.com", 1)],
    )
    ours, theirs = read_both(onnx, proto.SerializeToString())
    assert ours == theirs
    attributes = ours.graph.nodes[0].attributes
    assert attributes["float"] == pytest.approx(0.1, rel=1e-7)  # a float32
    assert isinstance(attributes["graph"], Graph)
    assert attributes["sparse"] is None
    assert attributes["type"] is None
    assert ours.graph.initializers["half"].values == (0.5, -1.0, 65504.0)
    assert ours.graph.initializers["large"].values is None


def test_external_data_is_flagged_not_read(onnx: Any, tmp_path: Path) -> None:
    helper = onnx.helper
    np = pytest.importorskip("numpy")
    weights = onnx.numpy_helper.from_array(np.ones((20, 100), dtype=np.float32), "w")
    shape = onnx.numpy_helper.from_array(np.array([4, 500], dtype=np.int64), "shape")
    graph_proto = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 20])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 100])],
        initializer=[weights, shape],
    )
    path = tmp_path / "external.onnx"
    onnx.save_model(
        helper.make_model(graph_proto),
        path,
        save_as_external_data=True,
        location="external.bin",
        size_threshold=100,  # the 16-byte shape stays inline
    )
    ours = read_model(path)
    assert ours == oracle_model(onnx.load(path, load_external_data=False))
    assert ours.graph.initializers["w"] == Tensor(
        name="w", data_type=1, dims=(20, 100), external=True
    )
    assert ours.graph.initializers["shape"].values == (4, 500)
    assert (tmp_path / "external.bin").stat().st_size == 8000


# random models, built with onnx.helper

NAMES = st.text(st.characters(codec="utf-8"), max_size=6)
INT64_RANGE = st.integers(-(2**63), 2**63 - 1)
FLOAT32 = st.floats(width=32, allow_nan=False)
DIMS = st.one_of(
    st.lists(st.integers(0, 4), max_size=3),  # mostly small: values read
    st.sampled_from([[SMALL_TENSOR + 1], [9, 8], [2, 0, 1000]]),
)
NUMPY_TYPES = {
    FLOAT: "float32",
    UINT8: "uint8",
    INT8: "int8",
    UINT16: "uint16",
    INT16: "int16",
    INT32: "int32",
    INT64: "int64",
    BOOL: "bool",
    FLOAT16: "float16",
    DOUBLE: "float64",
    UINT32: "uint32",
    UINT64: "uint64",
    BFLOAT16: "uint16",  # raw: the bits
}


def elements(data_type: int) -> st.SearchStrategy[Any]:
    if data_type == FLOAT:
        return FLOAT32
    if data_type in (DOUBLE, BFLOAT16):
        return st.floats(allow_nan=False, width=64 if data_type == DOUBLE else 32)
    if data_type == FLOAT16:
        return st.floats(width=16, allow_nan=False)
    if data_type == BOOL:
        return st.booleans()
    bits = {UINT8: 8, INT8: 8, UINT16: 16, INT16: 16, INT32: 32, INT64: 64, UINT32: 32, UINT64: 64}
    size = bits[data_type]
    if data_type in (INT8, INT16, INT32, INT64):
        return st.integers(-(2 ** (size - 1)), 2 ** (size - 1) - 1)
    return st.integers(0, 2**size - 1)


@st.composite
def tensors(draw: st.DrawFn) -> Any:
    onnx = need_onnx()
    np = pytest.importorskip("numpy")
    data_type = draw(st.sampled_from((*NUMERIC_TYPES, STRING)))
    dims = draw(DIMS)
    count = math.prod(dims)
    name = draw(NAMES)
    if data_type == STRING:
        return onnx.helper.make_tensor(name, data_type, dims, [b"s"] * count)
    if draw(st.booleans()):  # raw_data
        if data_type == BFLOAT16:
            not_nan = st.integers(0, 0xFFFF).filter(lambda b: b & 0x7F80 != 0x7F80 or not b & 0x7F)
            values = draw(st.lists(not_nan, min_size=count, max_size=count))
        else:
            values = draw(st.lists(elements(data_type), min_size=count, max_size=count))
        data = np.array(values, dtype=NUMPY_TYPES[data_type]).tobytes()
        return onnx.helper.make_tensor(name, data_type, dims, data, raw=True)
    values = draw(st.lists(elements(data_type), min_size=count, max_size=count))
    return onnx.helper.make_tensor(name, data_type, dims, values)


@st.composite
def value_infos(draw: st.DrawFn) -> Any:
    helper = need_onnx().helper
    name = draw(NAMES)
    if draw(st.integers(0, 5)) == 0:
        return helper.make_value_info(
            name, helper.make_sequence_type_proto(helper.make_tensor_type_proto(FLOAT, [1]))
        )
    dim = st.one_of(st.integers(-1, 2**62), NAMES, st.none())
    shape = draw(st.one_of(st.none(), st.lists(dim, max_size=4)))
    return helper.make_tensor_value_info(name, draw(st.sampled_from(NUMERIC_TYPES)), shape)


@st.composite
def attribute_values(draw: st.DrawFn, depth: int) -> tuple[Any, int]:
    A = need_onnx().AttributeProto
    kinds = [A.INT, A.FLOAT, A.STRING, A.INTS, A.FLOATS, A.STRINGS, A.TENSOR, A.TENSORS]
    if depth > 0:
        kinds += [A.GRAPH, A.GRAPHS]
    kind = draw(st.sampled_from(kinds))
    lists = {A.INTS: INT64_RANGE, A.FLOATS: FLOAT32, A.STRINGS: NAMES, A.TENSORS: tensors()}
    if kind in lists:
        return draw(st.lists(lists[kind], max_size=4)), kind
    if kind == A.GRAPHS:
        return draw(st.lists(graphs(depth - 1), max_size=2)), kind
    one = {
        A.INT: INT64_RANGE,
        A.FLOAT: FLOAT32,
        A.STRING: NAMES,
        A.TENSOR: tensors(),
        A.GRAPH: graphs(depth - 1) if depth > 0 else st.nothing(),
    }
    return draw(one[kind]), kind


@st.composite
def nodes(draw: st.DrawFn, depth: int) -> Any:
    helper = need_onnx().helper
    result = helper.make_node(
        draw(NAMES),
        draw(st.lists(NAMES, max_size=3)),
        draw(st.lists(NAMES, max_size=2)),
        name=draw(NAMES),
        domain=draw(st.sampled_from(["", "ai.onnx.ml", "com.microsoft"])),
    )
    attributes = draw(st.dictionaries(NAMES, attribute_values(depth), max_size=3))
    result.attribute.extend(
        helper.make_attribute(name, value, attr_type=kind)
        for name, (value, kind) in attributes.items()
    )
    return result


@st.composite
def graphs(draw: st.DrawFn, depth: int = 1) -> Any:
    helper = need_onnx().helper
    return helper.make_graph(
        draw(st.lists(nodes(depth), max_size=4)),
        draw(NAMES),
        draw(st.lists(value_infos(), max_size=2)),
        draw(st.lists(value_infos(), max_size=2)),
        initializer=draw(st.lists(tensors(), max_size=3, unique_by=lambda t: str(t.name))),
        value_info=draw(st.lists(value_infos(), max_size=2)),
    )


@st.composite
def onnx_models(draw: st.DrawFn) -> bytes:
    helper = need_onnx().helper
    opsets = draw(st.dictionaries(st.sampled_from(["", "ai.onnx.ml", "x"]), st.integers(1, 30)))
    proto = helper.make_model(
        draw(graphs()),
        ir_version=draw(st.integers(1, 12)),
        opset_imports=[helper.make_opsetid(domain, version) for domain, version in opsets.items()],
        producer_name=draw(NAMES),
        producer_version=draw(NAMES),
    )
    data: bytes = proto.SerializeToString()
    return data


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=onnx_models())
def test_random_models_read_as_onnx_reads_them(onnx: Any, data: bytes) -> None:
    ours, theirs = read_both(onnx, data)
    assert ours == theirs


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    data=onnx_models(),
    flips=st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(1, 255)), min_size=1, max_size=4),
)
def test_damaged_random_models_give_a_model_or_a_model_file_error(
    onnx: Any, data: bytes, flips: list[tuple[int, int]]
) -> None:
    damaged = bytearray(data)
    for position, mask in flips:
        damaged[position % len(damaged)] ^= mask
    read_or_refuse(damaged)


# the torchvision exports of tests/data/onnx, when they are there

ONNX_FILES = [pytest.param(path, id=path.stem) for path in sorted(ONNX_DIR.glob("*.onnx"))] or [
    pytest.param(None, id="none", marks=pytest.mark.skip(reason=f"no .onnx files in {ONNX_DIR}"))
]


@pytest.mark.parametrize("path", ONNX_FILES)
def test_exported_models_read_as_onnx_reads_them(onnx: Any, path: Path) -> None:
    assert read_model(path) == oracle_model(onnx.load(path, load_external_data=False))
