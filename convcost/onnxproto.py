"""Read the graph of an ONNX model from its protobuf bytes, without reading the weights.

An ONNX file is one protobuf ``ModelProto`` (the schema is ``onnx/onnx.proto``). Counting a
model's cost needs its graph, the shapes of its weights and a few small constant tensors
(the target of a ``Reshape``, the pads of a ``Pad``); it never needs the weights
themselves. So this reader decodes the protobuf wire format with the standard library
alone and skips every tensor payload by its length: a 500 MB file of inline weights costs
time and memory in proportion to its graph, and `read_model` maps the file rather than
reading it, so the pages holding the weights are never touched.

>>> data = bytes.fromhex("0807" "3a0e" "0a0c" "0a0178" "120179" "220452656c75")
>>> model = parse_model(data)
>>> model.ir_version, [(node.op_type, node.inputs, node.outputs) for node in model.graph.nodes]
(7, [('Relu', ('x',), ('y',))])

What is kept: the model's IR version, opset imports and producer; for each graph (subgraphs
of ``If``, ``Loop`` and ``Scan`` included) its nodes with their attributes, its
initializers as `Tensor` (name, data type, dims, and the values of tensors of at most
`SMALL_TENSOR` numbers), and the names, element types and shapes of its inputs, outputs and
``value_info``. What is skipped: doc strings, metadata, functions, training info, sparse
initializers, string tensors' contents and every large payload.

Protobuf's rules are followed where they matter: fields in any order, repeated numbers
packed or not, unknown field numbers skipped (files from a newer ONNX still read), a
singular field given twice takes the last value (messages merge). Anything else wrong with
the bytes is a `ModelFileError` with a one-line message giving the byte offset; the limits
below are checked before the work they bound.
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, TypeAlias, TypeVar

from convcost.errors import FieldError, ModelFileError, show
from convcost.files import map_file, source_name

__all__ = [
    "MAX_ATTRIBUTE_VALUES",
    "MAX_DEPTH",
    "MAX_IR_VERSION",
    "MAX_NODES",
    "MAX_RANK",
    "MAX_STRING_BYTES",
    "MAX_VALUES",
    "SMALL_TENSOR",
    "AttributeValue",
    "Dim",
    "Graph",
    "Model",
    "ModelFileError",
    "Node",
    "Tensor",
    "ValueInfo",
    "parse_model",
    "read_model",
]

# --- limits ---------------------------------------------------------------------------
# They keep a hostile or broken file from exhausting memory or the stack; real models are
# far inside them (torchvision's exports have at most about 450 nodes, large language
# models some tens of thousands).

SMALL_TENSOR: Final = 64
"""Tensors of at most this many numbers have their values read; larger ones only shapes."""
MAX_NODES: Final = 1_000_000
"""Nodes in the model, subgraphs included."""
MAX_VALUES: Final = 1_000_000
"""Initializers, inputs, outputs and ``value_info`` entries in the model, subgraphs included."""
MAX_DEPTH: Final = 64
"""Messages nested inside one another (a subgraph in a node adds three levels)."""
MAX_STRING_BYTES: Final = 64 * 1024
"""Bytes of any one string kept: names, op types, domains, string attributes."""
MAX_ATTRIBUTE_VALUES: Final = 1_000_000
"""Items in one list attribute (ints, floats, strings, tensors or graphs)."""
MAX_RANK: Final = 64
"""Dimensions of one tensor or one value's shape."""
MAX_IR_VERSION: Final = 255
"""IR versions run from 1 to 14 (onnx 1.23); far beyond that, the bytes are not ONNX."""
# A singular message field given again is merged into the first; writers never do it, so a
# handful of repeats is plenty (each one costs a span kept until the message is read).
_MAX_MERGED: Final = 64

# --- the records ----------------------------------------------------------------------

Dim: TypeAlias = int | str | None
"""One dimension of a value's shape: a size, a symbolic name (``"batch"``), or unknown."""


_T = TypeVar("_T")


def _frozen(mapping: Mapping[str, _T]) -> Mapping[str, _T]:
    """A read-only mapping: the one given if already read-only, else a read-only copy."""
    if isinstance(mapping, MappingProxyType):
        return mapping
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, kw_only=True, slots=True)
class Tensor:
    """A tensor: an initializer, or the value of a ``TENSOR`` attribute.

    `data_type` is ONNX's ``TensorProto.DataType`` code (1 float, 7 int64, ...). `values`
    holds the numbers, flattened in row-major order, of a tensor of at most `SMALL_TENSOR`
    numbers whose type is an integer, bool (as 0 and 1) or float type (float16 and
    bfloat16 included); it is None for larger tensors, other types, tensors whose data
    lives in another file (`external`) and tensors without data (weights stripped).
    """

    name: str
    data_type: int
    dims: tuple[int, ...]
    values: tuple[int, ...] | tuple[float, ...] | None = None
    external: bool = False

    def __post_init__(self) -> None:
        if any(dim < 0 for dim in self.dims):
            raise FieldError("dims", self.dims, "sizes of at least 0")
        if self.values is not None and len(self.values) != self.size:
            raise FieldError("values", self.values, f"{self.size} numbers (dims {self.dims})")
        if self.values is not None and self.size > SMALL_TENSOR:
            raise FieldError("values", self.values, f"None for more than {SMALL_TENSOR} numbers")

    @property
    def size(self) -> int:
        """The number of elements: the product of `dims` (1 for a scalar)."""
        return math.prod(self.dims)


@dataclass(frozen=True, kw_only=True, slots=True)
class ValueInfo:
    """The declared type of a value: a graph input or output, or a ``value_info`` entry.

    `elem_type` is None unless the value is a tensor with a declared element type; `shape`
    is None when the rank is unknown (no shape, or not a tensor), else one `Dim` per axis.
    """

    name: str
    elem_type: int | None = None
    shape: tuple[Dim, ...] | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Node:
    """One operator call. An empty string in `inputs` is an omitted optional input."""

    op_type: str
    name: str = ""
    domain: str = ""
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "attributes", _frozen(self.attributes))


@dataclass(frozen=True, kw_only=True, slots=True)
class Graph:
    """A graph: the model's main graph, or the body of an ``If``, ``Loop`` or ``Scan``.

    `initializers` maps each initializer's name to its tensor, in file order.
    """

    name: str = ""
    nodes: tuple[Node, ...] = ()
    initializers: Mapping[str, Tensor] = field(default_factory=dict, hash=False)
    inputs: tuple[ValueInfo, ...] = ()
    outputs: tuple[ValueInfo, ...] = ()
    value_info: tuple[ValueInfo, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "initializers", _frozen(self.initializers))


@dataclass(frozen=True, kw_only=True, slots=True)
class Model:
    """An ONNX model. `opset_imports` maps a domain (``""`` is the default) to its version."""

    ir_version: int
    graph: Graph
    opset_imports: Mapping[str, int] = field(default_factory=dict, hash=False)
    producer_name: str = ""
    producer_version: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "opset_imports", _frozen(self.opset_imports))


AttributeValue: TypeAlias = (
    int
    | float
    | str
    | tuple[int, ...]
    | tuple[float, ...]
    | tuple[str, ...]
    | Tensor
    | Graph
    | tuple[Tensor, ...]
    | tuple[Graph, ...]
    | None
)
"""An attribute's value as plain Python. None stands for types convcost does not read
(sparse tensors, type protos) and for an attribute without a value."""


# --- reading a file -------------------------------------------------------------------


def read_model(path: str | os.PathLike[str]) -> Model:
    """Read an ONNX file; errors name it (``model.onnx: truncated or not an ONNX model ...``).

    The file is opened by `convcost.files.map_file`, the one guarded reader of model files
    (a FIFO, a device or a directory is refused, not read) and mapped, never read whole.
    """
    source = source_name(path) if isinstance(path, (str, os.PathLike)) else "<file>"
    with map_file(path, error=ModelFileError) as mapping, memoryview(mapping) as view:
        return parse_model(view, source=source)


# --- the wire format ------------------------------------------------------------------

_VARINT: Final = 0  # wire types
_I64: Final = 1
_LEN: Final = 2
_I32: Final = 5
_WIRE_NAMES: Final = {0: "varint", 1: "64-bit", 2: "length-delimited", 5: "32-bit"}
_MASK64: Final = (1 << 64) - 1

_Span: TypeAlias = tuple[int, int]
_Spans: TypeAlias = Sequence[_Span]
# A field as read: (wire type, a, b). For a varint a is the value; otherwise [a, b) are
# the payload's offsets in the buffer.
_Entry: TypeAlias = tuple[int, int, int]


class _Malformed(Exception):
    """A problem with the bytes; `parse_model` turns it into a `ModelFileError`.

    Raised bare and converted at the top, so that no traceback holding views of the buffer
    outlives the parse (a memory map cannot be closed while such views exist).
    """


def _wire_error(detail: str, offset: int) -> _Malformed:
    return _Malformed(f"truncated or not an ONNX model: {detail} at byte {offset:,}")


def _limit_error(what: str, limit_name: str, limit: int, offset: int) -> _Malformed:
    return _Malformed(f"{what}: more than {limit:,}, the limit {limit_name}, at byte {offset:,}")


def _varint(buf: memoryview, pos: int, end: int) -> tuple[int, int]:
    """The varint at `pos` (as an unsigned 64-bit number) and the offset after it."""
    start = pos
    result = 0
    shift = 0
    while pos < end:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result & _MASK64, pos
        shift += 7
        if shift >= 70:
            raise _wire_error("varint longer than 10 bytes", start)
    raise _wire_error("truncated varint", start)


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >> 63 else value


def _signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >> 31 else value


@dataclass(frozen=True, slots=True)
class _Message:
    """The fields of one message that this reader uses: number -> (name, wire types).

    The other numbers are skipped unread, whatever their wire type (they may be new).
    """

    name: str
    fields: Mapping[int, tuple[str, frozenset[int]]]
    wires: Mapping[int, frozenset[int]] = field(init=False)

    def __post_init__(self) -> None:
        wires = {number: allowed for number, (_, allowed) in self.fields.items()}
        object.__setattr__(self, "wires", wires)


_V = frozenset({_VARINT})
_L = frozenset({_LEN})
_F32 = frozenset({_I32})
_PACKED_VARINTS = frozenset({_VARINT, _LEN})
_PACKED_F32 = frozenset({_I32, _LEN})
_PACKED_F64 = frozenset({_I64, _LEN})

_MODEL = _Message(
    "ModelProto",
    {
        1: ("ir_version", _V),
        2: ("producer_name", _L),
        3: ("producer_version", _L),
        7: ("graph", _L),
        8: ("opset_import", _L),
    },
)
_OPSET = _Message("OperatorSetIdProto", {1: ("domain", _L), 2: ("version", _V)})
_GRAPH = _Message(
    "GraphProto",
    {
        1: ("node", _L),
        2: ("name", _L),
        5: ("initializer", _L),
        11: ("input", _L),
        12: ("output", _L),
        13: ("value_info", _L),
    },
)
_NODE = _Message(
    "NodeProto",
    {
        1: ("input", _L),
        2: ("output", _L),
        3: ("name", _L),
        4: ("op_type", _L),
        5: ("attribute", _L),
        7: ("domain", _L),
    },
)
_ATTRIBUTE = _Message(
    "AttributeProto",
    {
        1: ("name", _L),
        2: ("f", _F32),
        3: ("i", _V),
        4: ("s", _L),
        5: ("t", _L),
        6: ("g", _L),
        7: ("floats", _PACKED_F32),
        8: ("ints", _PACKED_VARINTS),
        9: ("strings", _L),
        10: ("tensors", _L),
        11: ("graphs", _L),
        20: ("type", _V),
    },
)
_TENSOR = _Message(
    "TensorProto",
    {
        1: ("dims", _PACKED_VARINTS),
        2: ("data_type", _V),
        4: ("float_data", _PACKED_F32),
        5: ("int32_data", _PACKED_VARINTS),
        7: ("int64_data", _PACKED_VARINTS),
        8: ("name", _L),
        9: ("raw_data", _L),
        10: ("double_data", _PACKED_F64),
        11: ("uint64_data", _PACKED_VARINTS),
        14: ("data_location", _V),
    },
)
_VALUE_INFO = _Message("ValueInfoProto", {1: ("name", _L), 2: ("type", _L)})
_TYPE = _Message(
    "TypeProto",
    {
        1: ("tensor_type", _L),
        4: ("sequence_type", _L),
        5: ("map_type", _L),
        7: ("opaque_type", _L),
        8: ("sparse_tensor_type", _L),
        9: ("optional_type", _L),
    },
)
_TENSOR_TYPE = _Message("TypeProto.Tensor", {1: ("elem_type", _V), 2: ("shape", _L)})
_SHAPE = _Message("TensorShapeProto", {1: ("dim", _L)})
_DIMENSION = _Message("TensorShapeProto.Dimension", {1: ("dim_value", _V), 2: ("dim_param", _L)})


class _Reader:
    """What the whole parse shares: the buffer, counts so far, attributes already read."""

    __slots__ = ("attributes", "buf", "nodes", "values")

    def __init__(self, buf: memoryview) -> None:
        self.buf = buf
        self.nodes = 0
        self.values = 0
        self.attributes: dict[bytes, tuple[str, AttributeValue]] = {}

    def count_value(self, offset: int) -> None:
        self.values += 1
        if self.values > MAX_VALUES:
            raise _limit_error("initializers and value infos", "MAX_VALUES", MAX_VALUES, offset)


def _merge(spans: list[_Span], a: int, b: int, what: str) -> None:
    """Add one more encoding of a singular message field (protobuf merges them)."""
    if len(spans) >= _MAX_MERGED:
        raise _Malformed(
            f"not an ONNX model: {what} given more than {_MAX_MERGED} times (at byte {a:,})"
        )
    spans.append((a, b))


def _fields(
    reader: _Reader, spans: _Spans, message: _Message, depth: int
) -> Iterator[tuple[int, int, int, int]]:
    """The fields of `message` that the reader uses, as (number, wire type, a, b).

    For a varint, `a` is its value; otherwise [a, b) is the payload. `spans` are the
    encodings of the message: more than one when a singular message field was repeated,
    which protobuf reads as one merged message.
    """
    if depth > MAX_DEPTH:
        offset = spans[0][0] if spans else 0
        raise _limit_error(f"{message.name} nested too deep", "MAX_DEPTH", MAX_DEPTH, offset)
    buf = reader.buf
    known = message.wires
    # One-byte varints (most tags, lengths and values) are read inline: this loop is where
    # the reader spends its time.
    for start, end in spans:
        pos = start
        while pos < end:
            tag_at = pos
            tag = buf[pos]
            if tag < 0x80:
                pos += 1
            else:
                tag, pos = _varint(buf, pos, end)
            number = tag >> 3
            wire = tag & 7
            if wire == _VARINT:
                if pos < end and buf[pos] < 0x80:
                    a = buf[pos]
                    pos += 1
                else:
                    a, pos = _varint(buf, pos, end)
                b = 0
            elif wire == _LEN:
                length_at = pos
                if pos < end and buf[pos] < 0x80:
                    length = buf[pos]
                    pos += 1
                else:
                    length, pos = _varint(buf, pos, end)
                if length > end - pos:
                    raise _wire_error(
                        f"a field of {length:,} bytes runs past the end ({end - pos:,} left)",
                        length_at,
                    )
                a = pos
                b = pos = pos + length
            elif wire in (_I32, _I64):
                size = 4 if wire == _I32 else 8
                if size > end - pos:
                    raise _wire_error("truncated fixed-size field", pos)
                a = pos
                b = pos = pos + size
            elif wire in (3, 4):
                raise _wire_error(f"group field (wire type {wire}, not used by ONNX)", tag_at)
            else:
                raise _wire_error(f"unknown wire type {wire}", tag_at)
            if number == 0:
                raise _wire_error("field number 0", tag_at)
            wires = known.get(number)
            if wires is None:
                continue
            if wire not in wires:
                expected = " or ".join(_WIRE_NAMES[w] for w in sorted(wires))
                raise _wire_error(
                    f"{message.name}.{message.fields[number][0]} is {_WIRE_NAMES[wire]}, "
                    f"expected {expected},",
                    tag_at,
                )
            yield number, wire, a, b


def _string(reader: _Reader, start: int, end: int, what: str) -> str:
    if end - start > MAX_STRING_BYTES:
        raise _limit_error(
            f"{what} of {end - start:,} bytes", "MAX_STRING_BYTES", MAX_STRING_BYTES, start
        )
    try:
        return str(reader.buf[start:end], "utf-8")
    except UnicodeDecodeError as error:
        bad = start + error.start
    raise _Malformed(f"not an ONNX model: {what} is not UTF-8 text at byte {bad:,}")


def _varints(reader: _Reader, entries: Sequence[_Entry], limit: int) -> list[int] | None:
    """The numbers of a repeated varint field (packed or not); None past `limit` numbers."""
    buf = reader.buf
    values: list[int] = []
    for wire, a, b in entries:
        if wire == _VARINT:
            values.append(a)
        else:
            pos = a
            while pos < b:
                value, pos = _varint(buf, pos, b)
                values.append(value)
                if len(values) > limit:
                    return None
        if len(values) > limit:
            return None
    return values


def _fixed(
    reader: _Reader, entries: Sequence[_Entry], code: str, limit: int, what: str
) -> list[float] | None:
    """The numbers of a repeated float or double field; None past `limit` numbers."""
    size = struct.calcsize(code)
    values: list[float] = []
    for wire, a, b in entries:
        if wire == _LEN:
            if (b - a) % size:
                raise _wire_error(f"{what} of {b - a:,} bytes, not a multiple of {size},", a)
            count = (b - a) // size
        else:
            count = 1
        if len(values) + count > limit:
            return None
        values.extend(struct.unpack_from(f"<{count}{code}", reader.buf, a))
    return values


# --- the messages ---------------------------------------------------------------------


def parse_model(data: bytes | bytearray | memoryview, *, source: str = "<onnx>") -> Model:
    """Read an ONNX model from its bytes (e.g. a memoryview over an mmap, never copied).

    Raises `ModelFileError` for anything that is not a well-formed ONNX model; its message
    starts with `source`.
    """
    try:
        view = memoryview(data)
    except TypeError:
        raise FieldError("data", type(data).__name__, "bytes, bytearray or memoryview") from None
    with view:
        if not view.c_contiguous:
            raise FieldError("data", "a non-contiguous view", "contiguous bytes")
        try:
            with view.cast("B") as buf:
                return _model(_Reader(buf))
        except _Malformed as problem:
            detail = str(problem)
    raise ModelFileError(source, detail)


def _model(reader: _Reader) -> Model:
    ir_version: int | None = None
    producer_name = producer_version = ""
    opsets: dict[str, int] = {}
    graph: list[_Span] = []
    for number, _, a, b in _fields(reader, ((0, len(reader.buf)),), _MODEL, 1):
        if number == 1:
            ir_version = _signed64(a)
        elif number == 2:
            producer_name = _string(reader, a, b, "ModelProto.producer_name")
        elif number == 3:
            producer_version = _string(reader, a, b, "ModelProto.producer_version")
        elif number == 7:
            _merge(graph, a, b, "ModelProto.graph")
        else:
            domain, version = _opset(reader, a, b)
            opsets[domain] = version
    if not graph:
        raise _Malformed("not an ONNX model (no graph)")
    if ir_version is None:
        raise _Malformed("not an ONNX model (no ir_version)")
    if not 1 <= ir_version <= MAX_IR_VERSION:
        raise _Malformed(
            f"not an ONNX model (ir_version {ir_version:,} is not between 1 and {MAX_IR_VERSION})"
        )
    return Model(
        ir_version=ir_version,
        opset_imports=MappingProxyType(opsets),
        producer_name=producer_name,
        producer_version=producer_version,
        graph=_graph(reader, graph, 2),
    )


def _opset(reader: _Reader, start: int, end: int) -> tuple[str, int]:
    domain = ""
    version = 0
    for number, _, a, b in _fields(reader, ((start, end),), _OPSET, 2):
        if number == 1:
            domain = _string(reader, a, b, "OperatorSetIdProto.domain")
        else:
            version = _signed64(a)
    return domain, version


def _graph(reader: _Reader, spans: _Spans, depth: int) -> Graph:
    name = ""
    nodes: list[Node] = []
    initializers: dict[str, Tensor] = {}
    values: dict[int, list[ValueInfo]] = {11: [], 12: [], 13: []}
    for number, _, a, b in _fields(reader, spans, _GRAPH, depth):
        if number == 1:
            reader.nodes += 1
            if reader.nodes > MAX_NODES:
                raise _limit_error("nodes", "MAX_NODES", MAX_NODES, a)
            nodes.append(_node(reader, a, b, depth + 1))
        elif number == 2:
            name = _string(reader, a, b, "GraphProto.name")
        elif number == 5:
            reader.count_value(a)
            tensor = _tensor(reader, ((a, b),), depth + 1)
            if tensor.name in initializers:
                raise _Malformed(
                    f"not a valid ONNX model: two initializers named {show(tensor.name)} "
                    f"(the second at byte {a:,})"
                )
            initializers[tensor.name] = tensor
        else:
            reader.count_value(a)
            values[number].append(_value_info(reader, a, b, depth + 1))
    return Graph(
        name=name,
        nodes=tuple(nodes),
        initializers=MappingProxyType(initializers),
        inputs=tuple(values[11]),
        outputs=tuple(values[12]),
        value_info=tuple(values[13]),
    )


def _node(reader: _Reader, start: int, end: int, depth: int) -> Node:
    inputs: list[str] = []
    outputs: list[str] = []
    name = op_type = domain = ""
    attributes: dict[str, AttributeValue] = {}
    for number, _, a, b in _fields(reader, ((start, end),), _NODE, depth):
        if number == 1:
            inputs.append(_string(reader, a, b, "NodeProto.input"))
        elif number == 2:
            outputs.append(_string(reader, a, b, "NodeProto.output"))
        elif number == 3:
            name = _string(reader, a, b, "NodeProto.name")
        elif number == 4:
            op_type = _string(reader, a, b, "NodeProto.op_type")
        elif number == 7:
            domain = _string(reader, a, b, "NodeProto.domain")
        else:
            key, value = _cached_attribute(reader, a, b, depth + 1)
            if key in attributes:
                raise _Malformed(
                    f"not a valid ONNX model: two attributes named {show(key)} in one node "
                    f"(the second at byte {a:,})"
                )
            attributes[key] = value
    return Node(
        name=name,
        op_type=op_type,
        domain=domain,
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        attributes=MappingProxyType(attributes),
    )


# Convolutional networks repeat a few attributes thousands of times (strides [1, 1],
# group 1, ...); reading each distinct encoding once makes a graph several times faster.
_CACHED_ATTRIBUTE_BYTES: Final = 64


def _cached_attribute(
    reader: _Reader, start: int, end: int, depth: int
) -> tuple[str, AttributeValue]:
    """`_attribute`, remembered by its bytes when short and holding no graph.

    The values are immutable, so nodes may share them. A graph is never shared: reading
    it counts its nodes. Near MAX_DEPTH the cache is bypassed, so the limit still holds.
    """
    if end - start > _CACHED_ATTRIBUTE_BYTES or depth >= MAX_DEPTH:
        return _attribute(reader, start, end, depth)
    encoding = bytes(reader.buf[start:end])
    found = reader.attributes.get(encoding)
    if found is None:
        found = _attribute(reader, start, end, depth)
        value = found[1]
        if not isinstance(value, Graph) and not (
            isinstance(value, tuple) and value and isinstance(value[0], Graph)
        ):
            reader.attributes[encoding] = found
    return found


# AttributeProto.AttributeType codes, and the field holding each type's value.
_FLOAT, _INT, _STRING, _TENSOR_ATTR, _GRAPH_ATTR = 1, 2, 3, 4, 5
_FLOATS, _INTS, _STRINGS, _TENSORS, _GRAPHS = 6, 7, 8, 9, 10
_VALUE_FIELD: Final = {1: 2, 2: 3, 3: 4, 4: 5, 5: 6, 6: 7, 7: 8, 8: 9, 9: 10, 10: 11}
_TYPE_OF_FIELD: Final = {number: kind for kind, number in _VALUE_FIELD.items()}


def _attribute(reader: _Reader, start: int, end: int, depth: int) -> tuple[str, AttributeValue]:
    name = ""
    kind = 0
    f = 0.0
    i = 0
    s: _Span | None = None
    present = 0  # a bit for each value field seen
    # t and g (5, 6) are singular messages (repeats merge); 7 to 11 are repeated fields.
    entries: dict[int, list[_Entry]] = {}
    for number, wire, a, b in _fields(reader, ((start, end),), _ATTRIBUTE, depth):
        if number == 1:
            name = _string(reader, a, b, "AttributeProto.name")
            continue
        if number == 20:
            kind = _signed32(a)
            continue
        present |= 1 << number
        if number == 3:
            i = _signed64(a)
        elif number == 2:
            f = struct.unpack_from("<f", reader.buf, a)[0]
        elif number == 4:
            s = (a, b)
        else:
            found = entries.setdefault(number, [])
            if number < 7 and len(found) >= _MAX_MERGED:
                what = f"AttributeProto.{_ATTRIBUTE.fields[number][0]} of {show(name)}"
                raise _Malformed(
                    f"not an ONNX model: {what} given more than {_MAX_MERGED} times (at byte {a:,})"
                )
            if len(found) >= MAX_ATTRIBUTE_VALUES:
                raise _limit_error(
                    f"values in attribute {show(name)}",
                    "MAX_ATTRIBUTE_VALUES",
                    MAX_ATTRIBUTE_VALUES,
                    a,
                )
            found.append((wire, a, b))
    if kind == 0:  # IR version 1 had no type field: the value's field tells
        kind = next((_TYPE_OF_FIELD[n] for n in range(2, 12) if present >> n & 1), 0)
    value: AttributeValue
    if kind == _FLOAT:
        value = f
    elif kind == _INT:
        value = i
    elif kind == _STRING:
        value = "" if s is None else _string(reader, *s, f"attribute {show(name)}")
    elif kind == _TENSOR_ATTR:
        value = _tensor(reader, [(a, b) for _, a, b in entries.get(5, [])], depth + 1)
    elif kind == _GRAPH_ATTR:
        value = _graph(reader, [(a, b) for _, a, b in entries.get(6, [])], depth + 1)
    elif kind in (_FLOATS, _INTS):
        value = _number_list(reader, kind, entries.get(_VALUE_FIELD[kind], []), name, start)
    elif kind == _STRINGS:
        value = tuple(
            _string(reader, a, b, f"attribute {show(name)}") for _, a, b in entries.get(9, [])
        )
    elif kind == _TENSORS:
        value = tuple(_tensor(reader, ((a, b),), depth + 1) for _, a, b in entries.get(10, []))
    elif kind == _GRAPHS:
        value = tuple(_graph(reader, ((a, b),), depth + 1) for _, a, b in entries.get(11, []))
    else:  # sparse tensors, type protos, and types newer than this reader
        value = None
    return name, value


def _number_list(
    reader: _Reader, kind: int, entries: Sequence[_Entry], name: str, start: int
) -> tuple[int, ...] | tuple[float, ...]:
    numbers: list[int] | list[float] | None
    if kind == _FLOATS:
        what = f"floats of attribute {show(name)}"
        numbers = _fixed(reader, entries, "f", MAX_ATTRIBUTE_VALUES, what)
    else:
        ints = _varints(reader, entries, MAX_ATTRIBUTE_VALUES)
        numbers = None if ints is None else [_signed64(value) for value in ints]
    if numbers is None:
        raise _limit_error(
            f"values in attribute {show(name)}", "MAX_ATTRIBUTE_VALUES", MAX_ATTRIBUTE_VALUES, start
        )
    return tuple(numbers)


# TensorProto.DataType codes whose values are read, with the struct code of one element
# in raw_data and the typed field used when there is no raw_data.
_RAW_CODES: Final = {
    1: "f",  # float
    2: "B",  # uint8
    3: "b",  # int8
    4: "H",  # uint16
    5: "h",  # int16
    6: "i",  # int32
    7: "q",  # int64
    9: "B",  # bool
    10: "e",  # float16
    11: "d",  # double
    12: "I",  # uint32
    13: "Q",  # uint64
    16: "H",  # bfloat16: the top half of a float32
}
_TYPED_FIELD: Final = {1: 4, 11: 10, 7: 7, 12: 11, 13: 11}  # the rest use int32_data (5)
_BOOL, _FLOAT16, _BFLOAT16 = 9, 10, 16
_EXTERNAL: Final = 1  # TensorProto.DataLocation


def _tensor(reader: _Reader, spans: _Spans, depth: int) -> Tensor:
    name = ""
    data_type = 0
    location = 0
    dims: list[_Entry] = []
    raw: _Span | None = None
    typed: dict[int, list[_Entry]] = {4: [], 5: [], 7: [], 10: [], 11: []}
    for number, wire, a, b in _fields(reader, spans, _TENSOR, depth):
        if number == 1:
            if len(dims) >= MAX_RANK:
                raise _limit_error("dimensions of a tensor", "MAX_RANK", MAX_RANK, a)
            dims.append((wire, a, b))
        elif number == 2:
            data_type = _signed32(a)
        elif number == 8:
            name = _string(reader, a, b, "TensorProto.name")
        elif number == 9:
            raw = (a, b)
        elif number == 14:
            location = _signed32(a)
        else:
            found = typed[number]
            # An empty packed field holds no number; past SMALL_TENSOR numbers the tensor
            # is too large to read, so what is kept already says so.
            if len(found) <= SMALL_TENSOR and (wire != _LEN or b > a):
                found.append((wire, a, b))
    sizes = _varints(reader, dims, MAX_RANK)
    if sizes is None:
        raise _limit_error("dimensions of a tensor", "MAX_RANK", MAX_RANK, dims[0][1])
    shape = tuple(_signed64(size) for size in sizes)
    if any(size < 0 for size in shape):
        raise _Malformed(f"not a valid ONNX model: tensor {show(name)} has dims {shape}")
    external = location == _EXTERNAL
    values = None
    count = math.prod(shape)
    # A tensor without any data is invalid ONNX, but a graph-only copy of a model (weights
    # stripped) is still worth counting: its values are simply not known.
    has_data = raw is not None or any(typed.values())
    if (
        not external
        and count <= SMALL_TENSOR
        and data_type in _RAW_CODES
        and (has_data or not count)
    ):
        values = _tensor_values(reader, name, data_type, count, raw, typed)
    return Tensor(name=name, data_type=data_type, dims=shape, values=values, external=external)


def _tensor_values(
    reader: _Reader,
    name: str,
    data_type: int,
    count: int,
    raw: _Span | None,
    typed: Mapping[int, Sequence[_Entry]],
) -> tuple[int, ...] | tuple[float, ...]:
    """The numbers of a small tensor, from raw_data if present, else its typed field."""
    code = _RAW_CODES[data_type]
    if raw is not None:
        start, end = raw
        size = struct.calcsize(code)
        if end - start != count * size:
            raise _Malformed(
                f"not a valid ONNX model: tensor {show(name)} has {end - start:,} bytes of "
                f"raw_data for {count} numbers of {size} bytes (at byte {start:,})"
            )
        numbers = struct.unpack_from(f"<{count}{code}", reader.buf, start)
        if data_type == _BOOL:
            return tuple(int(number != 0) for number in numbers)
        if data_type == _BFLOAT16:
            return tuple(_bfloat16(number) for number in numbers)
        return numbers  # ints or floats, by the struct code
    number_field = _TYPED_FIELD.get(data_type, 5)
    field_name = _TENSOR.fields[number_field][0]
    entries = typed[number_field]
    if number_field in (4, 10):
        code = "f" if number_field == 4 else "d"
        found = _fixed(reader, entries, code, count, f"{field_name} of tensor {show(name)}")
        _check_count(found, count, name, field_name)
        return tuple(found or ())
    varints = _varints(reader, entries, count)
    _check_count(varints, count, name, field_name)
    return tuple(_from_varint(data_type, value) for value in varints or ())


def _check_count(found: Sequence[object] | None, count: int, name: str, field_name: str) -> None:
    if found is None or len(found) != count:
        have = "more" if found is None else f"{len(found)}"
        raise _Malformed(
            f"not a valid ONNX model: tensor {show(name)} has {have} numbers in its "
            f"{field_name} for {count} elements"
        )


def _from_varint(data_type: int, value: int) -> int | float:
    """One element of a tensor's int32_data, int64_data or uint64_data, as its type reads it.

    Out-of-range numbers wrap as a C cast (and NumPy) would.
    """
    if data_type == 7:  # int64
        return _signed64(value)
    if data_type == 13:  # uint64
        return value
    if data_type == 12:  # uint32
        return value & 0xFFFFFFFF
    if data_type == _BOOL:
        return int(value != 0)
    if data_type == _FLOAT16:
        return float(struct.unpack("<e", struct.pack("<H", value & 0xFFFF))[0])
    if data_type == _BFLOAT16:
        return _bfloat16(value & 0xFFFF)
    bits = {2: 8, 3: 8, 4: 16, 5: 16, 6: 32}[data_type]
    value &= (1 << bits) - 1
    if data_type in (3, 5, 6) and value >> (bits - 1):  # int8, int16, int32
        value -= 1 << bits
    return value


def _bfloat16(bits: int) -> float:
    return float(struct.unpack("<f", struct.pack("<I", bits << 16))[0])


def _value_info(reader: _Reader, start: int, end: int, depth: int) -> ValueInfo:
    name = ""
    type_spans: list[_Span] = []
    for number, _, a, b in _fields(reader, ((start, end),), _VALUE_INFO, depth):
        if number == 1:
            name = _string(reader, a, b, "ValueInfoProto.name")
        else:
            _merge(type_spans, a, b, "ValueInfoProto.type")
    if not type_spans:
        return ValueInfo(name=name)
    elem_type, shape = _type(reader, type_spans, depth + 1)
    return ValueInfo(name=name, elem_type=elem_type, shape=shape)


def _type(reader: _Reader, spans: _Spans, depth: int) -> tuple[int | None, tuple[Dim, ...] | None]:
    """The element type and shape of a tensor (or sparse tensor) type; else (None, None)."""
    kind = 0
    tensor: list[_Span] = []
    for number, _, a, b in _fields(reader, spans, _TYPE, depth):
        if number != kind:  # a oneof: a new case replaces the old one
            kind = number
            tensor = []
        _merge(tensor, a, b, f"TypeProto.{_TYPE.fields[number][0]}")
    if kind not in (1, 8):
        return None, None
    elem_type: int | None = None
    shape: list[_Span] = []
    for number, _, a, b in _fields(reader, tensor, _TENSOR_TYPE, depth + 1):
        if number == 1:
            elem_type = _signed32(a)
        else:
            _merge(shape, a, b, "TypeProto.Tensor.shape")
    if not shape:
        return elem_type, None
    return elem_type, _shape(reader, shape, depth + 2)


def _shape(reader: _Reader, spans: _Spans, depth: int) -> tuple[Dim, ...]:
    dims: list[Dim] = []
    for _, _, a, b in _fields(reader, spans, _SHAPE, depth):
        if len(dims) >= MAX_RANK:
            raise _limit_error("dimensions of a shape", "MAX_RANK", MAX_RANK, a)
        value: Dim = None
        for number, _, c, d in _fields(reader, ((a, b),), _DIMENSION, depth + 1):
            if number == 1:
                value = _signed64(c)
            else:
                value = _string(reader, c, d, "TensorShapeProto.Dimension.dim_param")
        dims.append(value)
    return tuple(dims)
