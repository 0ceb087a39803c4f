"""Networks from ONNX models: ``from_onnx("model.onnx")`` is a `Network` convcost can cost.

The file is read by `convcost.onnxproto` (the standard library only, weights skipped, never
the onnx package), and its graph is turned into layers, node by node, in topological order:

* operators convcost has a layer for become that layer (``Conv`` is a `Conv`, so that
  ``convcost compare`` rewrites it into the separable families; ``Gemm`` a `Linear`;
  ``BatchNormalization`` a `BatchNorm`, its running statistics non-trainable parameters);
* reshapes and selections become `Reshape` and `Select` rows, matrix products,
  normalisations and element-wise arithmetic `Operator` rows, each with the shape it gives;
* an operator convcost does not know becomes a `NotCounted` row, flagged: its shape comes
  from the file, its cost is never taken as 0 (``strict=True`` refuses it instead);
* a node that reads only constants (initializers, ``Constant`` nodes, ``Shape`` of a
  tensor) is computed here, not costed: shape arithmetic such as ShuffleNet's
  ``Shape → Gather → Add → Div → Mul → Slice`` channel split is followed value by value.

Shapes come from convcost's own propagation, for every operator it knows; the file's
``value_info`` (or its outputs' shapes) for the others. A symbolic batch axis is dropped
(convcost counts one sample), symbolic sizes are bound by `input_shape`. Names are the
exporter's: PyTorch's ``/layer1/layer1.0/conv1/Conv`` is the module ``layer1.0.conv1``, and
the top-level modules are the network's stages (``layer1`` … ``layer4``), or the modules
inside the one that holds most of the network (torchvision's ``features.3``).

Parameters are the elements of the weight tensors each row reads (a layer convcost has a
family for counts its own, from its hyper-parameters, which the weights' dims must match);
a tensor read by several rows of no family is counted once, at its first reader; a scalar
operand of element-wise arithmetic (``x * 0.5``) is a constant of the formula, not a
weight. See docs/onnx.md for the operator table.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final, TypeAlias

from convcost.checks import is_int
from convcost.costs import LayerCost, join_cost, layer_cost
from convcost.errors import ConvCostError, FieldError, ModelFileError, show
from convcost.files import source_name
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
from convcost.limits import MAX_LAYERS, MAX_SPATIAL_DIMS
from convcost.network import Network, NetworkCost, Row, group_stages
from convcost.onnxproto import (
    SMALL_TENSOR,
    AttributeValue,
    Dim,
    Model,
    Tensor,
    parse_model,
    read_model,
)
from convcost.onnxproto import Node as OnnxNode
from convcost.shapes import Padding, Shape, compact, default_axes, dims_text

__all__ = ["MAX_OPSET", "MIN_OPSET", "from_onnx", "not_counted_rows"]

MIN_OPSET: Final = 7
"""The oldest opset of the default domain read: BatchNormalization and the rest took
their current form in opset 7 (2017)."""
MAX_OPSET: Final = 28
"""The newest opset of the default domain read: the newest onnx 1.23 defines."""

_DEFAULT_DOMAINS: Final = frozenset({"", "ai.onnx"})
_INPUT: Final = "input"  # the network input's name in convcost (network.INPUT_NAME)

# TensorProto data types whose initializers are weights (floats, and the narrow integer
# types of quantised weights); int32, int64 and bool tensors are shapes, indices and masks.
_WEIGHT_TYPES: Final = frozenset({1, 2, 3, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23})

Number: TypeAlias = int | float


# --- values -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Value:
    """What is known of one tensor of the graph.

    `dims` is its full ONNX shape (None when not known); `node` the convcost row giving it
    when it depends on the network's input (a data tensor), None for a constant.
    `values` are a small constant's numbers; `weights` the weight initializers a constant
    is computed from. For a data tensor, `batch_axis` and `channel_axis` say which axes are
    the batch and the channels, and `view` is the `Shape` its row gives (one sample:
    channels, then the other axes in order).
    """

    dims: tuple[int, ...] | None
    node: str | None = None
    values: tuple[Number, ...] | None = None
    weights: frozenset[str] = frozenset()
    batch_axis: int | None = 0
    channel_axis: int | None = 1
    view: Shape | None = None

    @property
    def is_data(self) -> bool:
        return self.node is not None


def _view(dims: tuple[int, ...], batch_axis: int | None, channel_axis: int | None) -> Shape:
    """One sample of a tensor as a convcost `Shape`: the batch axis dropped, the channels
    first, the other axes in order (more than three of them: the leading ones merged)."""
    sizes = [size for axis, size in enumerate(dims) if axis != batch_axis]
    if not sizes:
        return Shape(1)
    index = 0
    if channel_axis is not None and channel_axis != batch_axis:
        index = channel_axis - (1 if batch_axis is not None and batch_axis < channel_axis else 0)
    channels = sizes.pop(index)
    while len(sizes) > MAX_SPATIAL_DIMS:
        sizes[:2] = [sizes[0] * sizes[1]]
    return Shape(channels, tuple(sizes))


def _standard(dims: tuple[int, ...]) -> Shape:
    """The view an NCHW operator (Conv, pooling, BatchNormalization) reads its input in."""
    return _view(dims, 0, 1)


def _sizes(shape: Shape) -> tuple[int, ...]:
    return (shape.channels, *shape.spatial)


def _numel(dims: Iterable[int]) -> int:
    return math.prod(dims)


def _padding_pairs(pairs: Sequence[tuple[int, int]]) -> Padding:
    """Per-axis (before, after) pairs in convcost's shortest spelling."""
    if all(before == after for before, after in pairs):
        return compact([before for before, _ in pairs])
    return tuple(pairs)


def _broadcast(shapes: Sequence[tuple[int, ...]]) -> tuple[int, ...] | None:
    """NumPy's broadcast of several shapes, or None when they do not broadcast."""
    rank = max(map(len, shapes), default=0)
    result = []
    for axis in range(rank):
        size = 1
        for shape in shapes:
            offset = axis - (rank - len(shape))
            if offset < 0:
                continue
            other = shape[offset]
            if other != 1 and size not in (1, other):
                return None
            size = other if other != 1 else size
        result.append(size)
    return tuple(result)


def _axis(axis: int, rank: int) -> int | None:
    """A possibly negative axis as an index into `rank` axes, None when out of range."""
    index = axis + rank if axis < 0 else axis
    return index if 0 <= index < rank else None


# --- loading ------------------------------------------------------------------------------


def _load(source: object) -> tuple[Model, str, str | None]:
    """The model, the name errors use for it, and the network's name (a file's stem)."""
    if isinstance(source, Model):
        return source, "<onnx model>", source.graph.name or None
    if isinstance(source, (str, os.PathLike)) and not isinstance(source, bytes):
        where = source_name(source)
        return read_model(source), where, Path(os.fspath(source)).stem or None
    serialize = getattr(source, "SerializeToString", None)
    if callable(serialize) and type(source).__module__.partition(".")[0] == "onnx":
        try:  # an onnx.ModelProto, read through the same reader as a file
            data = serialize()
        except Exception as error:  # protobuf refuses models over 2 GB (ValueError, EncodeError)
            raise ModelFileError("<onnx.ModelProto>", f"cannot serialize it: {error}") from None
        if not isinstance(data, bytes):
            raise FieldError("source", source, "an onnx.ModelProto")
        model = parse_model(data, source="<onnx.ModelProto>")
        return model, "<onnx.ModelProto>", model.graph.name or None
    raise FieldError(
        "source", source, "an ONNX file name, an onnx.ModelProto or a convcost.onnxproto.Model"
    )


def from_onnx(
    source: str | os.PathLike[str] | Model | object,
    input_shape: Shape | None = None,
    *,
    strict: bool = False,
) -> Network:
    """The network of an ONNX model: a file name, an `onnxproto.Model`, or an
    ``onnx.ModelProto`` (serialized and read by convcost's own reader; the onnx package
    is never imported).

    `input_shape` (one sample: ``Shape(3, (224, 224))``) binds the symbolic sizes of the
    model's input, or replaces its sizes; a symbolic batch axis needs nothing. With
    `strict`, an operator convcost does not know is an error rather than a row flagged
    "not counted". Every problem with the model is a `ModelFileError` naming it.
    """
    if input_shape is not None and not isinstance(input_shape, Shape):
        raise FieldError("input_shape", input_shape, "a Shape (see parse_shape) or None")
    if not isinstance(strict, bool):
        raise FieldError("strict", strict, "True or False")
    model, where, name = _load(source)
    return _Converter(model, where, name, input_shape).network(strict=strict)


def not_counted_rows(cost: NetworkCost) -> tuple[Row, ...]:
    """The rows whose operator convcost does not know (`NetworkCost.not_counted`)."""
    if not isinstance(cost, NetworkCost):
        raise FieldError("cost", cost, "a NetworkCost")
    return cost.not_counted


# --- the conversion -----------------------------------------------------------------------


class _Refused(Exception):
    """A problem with one node; the converter adds the file and the node to the message."""


@dataclass(slots=True)
class _Row:
    """A row being built: its id (``#3``), its layer (named and wired at the end), the rows
    it reads, its cost, and the node it came from."""

    id: str
    layer: Layer
    sources: tuple[str, ...]
    node: OnnxNode
    cost: LayerCost
    suffix: str = ""  # ":1" for a node's second output, "/layout" for an adapter


Handler: TypeAlias = Callable[["_Converter", OnnxNode, list["_Value | None"]], None]
_HANDLERS: dict[str, Handler] = {}


def _handles(*op_types: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for op_type in op_types:
            _HANDLERS[op_type] = handler
        return handler

    return register


@dataclass
class _Converter:
    model: Model
    where: str
    name: str | None
    input_shape: Shape | None
    values: dict[str, _Value] = field(default_factory=dict)
    rows: list[_Row] = field(default_factory=list)
    views: dict[str, Shape] = field(default_factory=dict)  # row id -> its output's view
    counted: set[str] = field(default_factory=set)  # initializers already counted
    declared: dict[str, tuple[Dim, ...]] = field(default_factory=dict)
    symbols: dict[str, int] = field(default_factory=dict)
    trust_declared: bool = True
    consumers: dict[str, list[int]] = field(default_factory=dict)
    absorbed: dict[int, str] = field(default_factory=dict)  # fused node -> the row's value
    fused_bias: dict[str, str] = field(default_factory=dict)  # MatMul output -> its bias
    unfollowed: dict[str, str] = field(default_factory=dict)  # output -> the node giving it
    opset: int = 0

    # -- the whole graph ---------------------------------------------------------------

    def network(self, *, strict: bool) -> Network:
        graph = self.model.graph
        self.opset = self._opset()
        for info in (*graph.value_info, *graph.outputs):
            if info.shape is not None:
                self.declared[info.name] = info.shape
        for name, tensor in graph.initializers.items():
            self.values[name] = _constant_of(tensor)
        input_name, input_value = self._graph_input()
        self.values[input_name] = input_value
        self.views[_INPUT] = input_value.view  # type: ignore[assignment]
        order = self._order()
        for index in order:
            node = graph.nodes[index]
            try:
                self._node(index, node)
            except _Refused as problem:
                raise ModelFileError(self.where, f"{self._label(node)}: {problem}") from None
            except ModelFileError:
                raise
            except ConvCostError as error:
                raise ModelFileError(self.where, f"{self._label(node)}: {error}") from None
            if len(self.rows) > MAX_LAYERS:
                raise ModelFileError(
                    self.where, f"more than {MAX_LAYERS:,} layers: convcost reads at most that"
                )
        if strict:
            self._refuse_not_counted()
        return self._assemble()

    def _opset(self) -> int:
        imports = self.model.opset_imports
        versions = [version for domain, version in imports.items() if domain in _DEFAULT_DOMAINS]
        if not versions:
            raise ModelFileError(
                self.where, "declares no opset for the ONNX operators (domain ai.onnx)"
            )
        version = max(versions)
        if not MIN_OPSET <= version <= MAX_OPSET:
            raise ModelFileError(
                self.where,
                f"uses opset {version} of the ONNX operators; convcost reads opsets "
                f"{MIN_OPSET} to {MAX_OPSET} (convert it with onnx.version_converter)",
            )
        return version

    def _graph_input(self) -> tuple[str, _Value]:
        graph = self.model.graph
        inputs = [info for info in graph.inputs if info.name not in graph.initializers]
        if not inputs:
            raise ModelFileError(self.where, "the graph has no input (only initializers)")
        if len(inputs) > 1:
            names = ", ".join(show(info.name) for info in inputs[:4])
            raise ModelFileError(
                self.where,
                f"the graph has {len(inputs)} inputs ({names}); convcost reads models of one",
            )
        info = inputs[0]
        dims = self._input_dims(info.name, info.shape)
        try:
            view = _standard(dims) if len(dims) >= 2 else _view(dims, None, 0)
        except ConvCostError as error:
            raise ModelFileError(self.where, f"input {show(info.name)}: {error}") from None
        batch, channel = (0, 1) if len(dims) >= 2 else (None, 0)
        value = _Value(dims, node=_INPUT, batch_axis=batch, channel_axis=channel, view=view)
        return info.name, value

    def _input_dims(self, name: str, shape: tuple[Dim, ...] | None) -> tuple[int, ...]:
        given = self.input_shape
        shown = show(name)
        if shape is None:
            if given is None:
                raise ModelFileError(
                    self.where,
                    f"the input {shown} has no shape in the file; give it with --input "
                    "(e.g. --input 3x224x224)",
                )
            return (1, *_sizes(given))
        if not shape:
            raise ModelFileError(self.where, f"the input {shown} is a scalar, not a tensor")
        written = "x".join("?" if dim is None else str(dim) for dim in shape)
        batch = shape[0] if len(shape) >= 2 else 1
        if is_int(batch) and batch != 1:
            raise ModelFileError(
                self.where,
                f"the input {shown} has a batch of {batch} ({written}); convcost counts one "
                "sample: export with batch 1 or a symbolic batch",
            )
        if isinstance(batch, str):
            self.symbols[batch] = 1
        sample = shape[1:] if len(shape) >= 2 else shape
        if any(is_int(dim) and dim < 1 for dim in sample):
            raise ModelFileError(self.where, f"the input {shown} has an empty axis ({written})")
        if given is None:
            if not all(is_int(dim) and dim > 0 for dim in sample):
                raise ModelFileError(
                    self.where,
                    f"the input {shown} has sizes the file does not fix ({written}); give "
                    "them with --input (e.g. --input 3x224x224)",
                )
            return (1, *sample) if len(shape) >= 2 else tuple(sample)  # type: ignore[arg-type]
        wanted = _sizes(given)
        if len(wanted) != len(sample):
            raise ModelFileError(
                self.where,
                f"--input {given} has {len(wanted)} sizes, but the input {shown} has "
                f"{len(sample)} per sample ({written})",
            )
        if is_int(sample[0]) and sample[0] != wanted[0]:
            raise ModelFileError(
                self.where,
                f"--input {given} has {wanted[0]} channels, but the input {shown} has "
                f"{sample[0]} ({written})",
            )
        for dim, size in zip(sample, wanted):
            if isinstance(dim, str):
                if self.symbols.setdefault(dim, size) != size:
                    raise ModelFileError(
                        self.where,
                        f"--input {given} gives two sizes to the input's axis {dim!r}",
                    )
            elif dim != size:
                self.trust_declared = False  # sizes replaced: the file's shapes are stale
        return (1, *wanted) if len(shape) >= 2 else wanted

    def _order(self) -> list[int]:
        """The nodes in topological order; every input known, no cycle."""
        graph = self.model.graph
        producer: dict[str, int] = {}
        for index, node in enumerate(graph.nodes):
            for output in node.outputs:
                if not output:
                    continue
                if output in producer or output in self.values:
                    raise ModelFileError(
                        self.where,
                        f"{self._label(node, index)}: its output {show(output)} is given twice "
                        "in the graph",
                    )
                producer[output] = index
        waiting: list[int] = []
        readers: dict[int, list[int]] = {}
        for index, node in enumerate(graph.nodes):
            pending = 0
            for name in node.inputs:
                if not name:
                    continue
                self.consumers.setdefault(name, []).append(index)
                if name in self.values:
                    continue
                if name not in producer:
                    raise ModelFileError(
                        self.where,
                        f"{self._label(node, index)} reads {show(name)}, which no node, input "
                        "or initializer gives",
                    )
                pending += 1
                readers.setdefault(producer[name], []).append(index)
            waiting.append(pending)
        ready = [index for index, count in enumerate(waiting) if count == 0]
        ready.reverse()
        order: list[int] = []
        while ready:
            index = ready.pop()
            order.append(index)
            for reader in reversed(readers.get(index, [])):
                waiting[reader] -= 1
                if waiting[reader] == 0:
                    ready.append(reader)
        if len(order) < len(graph.nodes):
            done = set(order)
            stuck = next(i for i in range(len(graph.nodes)) if i not in done)
            cycle = self._on_cycle(stuck, producer, done)
            raise ModelFileError(
                self.where,
                f"the graph has a cycle through {self._label(graph.nodes[cycle], cycle)}",
            )
        return order

    def _on_cycle(self, start: int, producer: Mapping[str, int], done: set[int]) -> int:
        """A node on a cycle, found by walking back from a node that never became ready."""
        nodes = self.model.graph.nodes
        seen: set[int] = set()
        index = start
        while index not in seen:
            seen.add(index)
            index = next(
                producer[name]
                for name in nodes[index].inputs
                if name in producer and producer[name] not in done
            )
        return index

    def _label(self, node: OnnxNode, index: int | None = None) -> str:
        if node.name:
            return f"node {show(node.name)} ({show(node.op_type)})"
        if index is None:
            index = next((i for i, other in enumerate(self.model.graph.nodes) if other is node), -1)
        return f"node #{index} ({show(node.op_type)})"

    # -- one node ----------------------------------------------------------------------

    def _node(self, index: int, node: OnnxNode) -> None:
        if index in self.absorbed:  # an Add whose bias went into the MatMul before it
            self.values[node.outputs[0]] = self.values[self.absorbed[index]]
            return
        for name in node.inputs:
            if name and name not in self.values:
                raise _Refused(
                    f"reads {show(name)}, an output of {self.unfollowed.get(name, 'a node')} "
                    "that convcost does not follow"
                )
        inputs = [self.values[name] if name else None for name in node.inputs]
        known = node.domain in _DEFAULT_DOMAINS
        if not any(value is not None and value.is_data for value in inputs):
            if known and node.op_type == "Constant":
                self._set(node, 0, _constant_node(node))
            else:
                self._fold(node, inputs, known)
            return
        handler = _HANDLERS.get(node.op_type) if known else None
        if handler is None:
            self._not_counted(node, inputs)
        elif node.op_type not in _ANY_OPERAND_FIRST and not _data(inputs[0] if inputs else None):
            raise _Refused(
                "its first input is a constant while another depends on the network's input; "
                f"{show(node.op_type)} reads its tensor first"
            )
        else:
            self._fusing(index, node)
            handler(self, node, inputs)
        for output in node.outputs:  # an output the operator does not have, or not followed
            if output and output not in self.values:
                self.unfollowed[output] = self._label(node, index)

    def _fusing(self, index: int, node: OnnxNode) -> None:
        """Mark the Add of a bias after a MatMul by a weight: one row, as PyTorch's Linear."""
        if node.op_type != "MatMul" or len(node.inputs) != 2 or len(node.outputs) != 1:
            return
        readers = self.consumers.get(node.outputs[0], [])
        graph = self.model.graph
        if len(readers) != 1 or node.outputs[0] in {info.name for info in graph.outputs}:
            return
        add = graph.nodes[readers[0]]
        if add.op_type != "Add" or add.domain not in _DEFAULT_DOMAINS or len(add.inputs) != 2:
            return
        if add.inputs[0] == add.inputs[1] or not add.outputs or not add.outputs[0]:
            return
        other = add.inputs[1] if add.inputs[0] == node.outputs[0] else add.inputs[0]
        weight = self.values.get(node.inputs[1])
        bias = self.values.get(other)
        if weight is None or weight.is_data or weight.dims is None or len(weight.dims) < 1:
            return
        if bias is None or bias.is_data or not bias.weights or bias.dims is None:
            return
        columns = weight.dims[-1]
        if _numel(bias.dims) != columns or any(size != 1 for size in bias.dims[:-1]):
            return
        self.absorbed[readers[0]] = node.outputs[0]
        self.fused_bias[node.outputs[0]] = other

    # -- outputs and rows ----------------------------------------------------------------

    def _set(self, node: OnnxNode, index: int, value: _Value) -> None:
        if index < len(node.outputs) and node.outputs[index]:
            self.values[node.outputs[index]] = value

    def _declared(self, name: str) -> tuple[int, ...] | None:
        """The dims the file declares for a tensor, when every one is known."""
        shape = self.declared.get(name)
        if shape is None or not self.trust_declared:
            return None
        dims = []
        for dim in shape:
            if isinstance(dim, str):
                dim = self.symbols.get(dim)
            if not is_int(dim) or dim < 0:
                return None
            dims.append(dim)
        return tuple(dims)

    def _row(self, node: OnnxNode, layer: Layer, sources: Sequence[str], suffix: str = "") -> str:
        """Add a row for `layer` reading the rows `sources`; its id."""
        row_id = f"#{len(self.rows)}"
        shapes = tuple(self.views[source] for source in sources)
        if isinstance(layer, (Add, Multiply, Concat)):
            cost = join_cost(layer, shapes)
        else:
            cost = layer_cost(layer, shapes[0])
        self.rows.append(_Row(row_id, layer, tuple(sources), node, cost, suffix))
        self.views[row_id] = cost.output_shape
        return row_id

    def _emit(
        self,
        node: OnnxNode,
        index: int,
        row_id: str,
        dims: tuple[int, ...],
        batch_axis: int | None,
        channel_axis: int | None,
    ) -> None:
        """Output `index` of `node` is a data tensor of `dims` given by row `row_id`."""
        view = self.views[row_id]
        if index < len(node.outputs) and node.outputs[index]:
            output = node.outputs[index]
            declared = self._declared(output)
            if declared is not None and declared != dims:
                raise _Refused(
                    f"convcost finds its output {show(output)} of shape {dims_text(dims)}, but "
                    f"the file declares {dims_text(declared)}"
                )
            self.values[output] = _Value(
                dims, node=row_id, batch_axis=batch_axis, channel_axis=channel_axis, view=view
            )

    def _shaped(
        self,
        node: OnnxNode,
        make: Callable[[tuple[int, ...]], Layer],
        source: _Value,
        dims: tuple[int, ...],
        axes: tuple[int | None, int | None] | None = None,
        *,
        index: int = 0,
        suffix: str = "",
    ) -> str:
        """A row that states its shape (Reshape, Select, Operator) for output `index`."""
        batch, channel = axes if axes is not None else default_axes(dims)
        view = _view(dims, batch, channel)
        assert source.node is not None  # a data value
        row_id = self._row(node, make(_sizes(view)), (source.node,), suffix)
        self._emit(node, index, row_id, dims, batch, channel)
        return row_id

    def _mapped(
        self, node: OnnxNode, layer: Layer, source: _Value, *, flat_ok: bool = False
    ) -> str:
        """A layer with a family, reading `source` as NCHW; its output is NCHW too."""
        reference = self._nchw(node, source, flat_ok=flat_ok)
        row_id = self._row(node, layer, (reference,))
        self._emit(node, 0, row_id, (1, *_sizes(self.views[row_id])), 0, 1)
        return row_id

    def _nchw(self, node: OnnxNode, value: _Value, *, flat_ok: bool = False) -> str:
        """The row giving `value` in the NCHW view; a layout row when its view differs."""
        dims = value.dims
        assert dims is not None
        assert value.node is not None
        assert value.view is not None
        if len(dims) < 2 or dims[0] != 1:
            raise _Refused(
                f"reads a tensor of shape {dims_text(dims)} whose first axis is not a batch "
                "of 1; convcost counts layers per sample"
            )
        if len(dims) == 2 and not flat_ok:
            raise _Refused(f"needs spatial axes, got a tensor of shape {dims_text(dims)}")
        if len(dims) > MAX_SPATIAL_DIMS + 2:
            raise _Refused(f"reads a tensor of shape {dims_text(dims)}: more than 3 spatial axes")
        wanted = _standard(dims)
        if value.view == wanted:
            return value.node
        return self._row(node, Reshape(shape=_sizes(wanted)), (value.node,), "/layout")

    def _params(self, values: Iterable[_Value | None], *, scalars: bool = True) -> int:
        """Elements of the weight initializers these constants come from, not yet counted
        (a scalar operand is a constant of a formula unless `scalars`)."""
        total = 0
        initializers = self.model.graph.initializers
        for value in values:
            if value is None or value.is_data:
                continue
            for name in sorted(value.weights):
                size = initializers[name].size
                if name in self.counted or (size <= 1 and not scalars):
                    continue
                self.counted.add(name)
                total += size
        return total

    def _claim(self, *values: _Value | None) -> None:
        """Mark the weights a family layer counts itself as counted."""
        for value in values:
            if value is not None:
                self.counted.update(value.weights)

    def _not_counted(
        self,
        node: OnnxNode,
        inputs: list[_Value | None],
        dims: tuple[int, ...] | None = None,
        *,
        unusual: bool = False,
    ) -> None:
        """Rows flagged "not counted": shapes from the file, one per output it gives.

        `unusual`: an operator convcost knows, in a form it does not count (a convolution
        whose weights are computed from the input, an operand of unknown shape).
        """
        what = (
            f"convcost does not count this {show(node.op_type)} (an operand computed from "
            "the input where a constant is expected, or of unknown shape)"
            if unusual
            else f"convcost does not know {show(node.op_type)}"
            + (f" (domain {show(node.domain)})" if node.domain else "")
        )
        source = self._first_data(inputs)
        graph_outputs = {info.name for info in self.model.graph.outputs}
        params = self._params(inputs)
        made = False
        for index, output in enumerate(node.outputs):
            if not output:
                continue
            known = self._declared(output) or (dims if index == 0 else None)
            used = output in self.consumers or output in graph_outputs
            if known is None:
                if used:
                    raise _Refused(
                        f"{what} and the file gives no shape for its output {show(output)}: save "
                        "the model with its shapes (onnx.shape_inference.infer_shapes), or "
                        "give --input when its input sizes are symbolic"
                    )
                continue
            if made and not used:
                continue

            def flagged(shape: tuple[int, ...], params: int = params) -> Layer:
                return NotCounted(op_type=node.op_type, shape=shape, params=params)

            try:
                self._shaped(
                    node,
                    flagged,
                    source,
                    known,
                    index=index,
                    suffix=f":{index}" if made else "",
                )
            except ConvCostError as error:
                raise _Refused(f"output {show(output)}: {error}") from None
            params = 0
            made = True
        if not made:
            raise _Refused(
                f"{what} and the file gives no shape for any of its outputs "
                "(onnx.shape_inference.infer_shapes adds them)"
            )

    @staticmethod
    def _first_data(inputs: Sequence[_Value | None]) -> _Value:
        return next(value for value in inputs if value is not None and value.is_data)

    def _refuse_not_counted(self) -> None:
        flagged = [row.node for row in self.rows if isinstance(row.layer, NotCounted)
                   and not row.suffix]  # fmt: skip
        if flagged:
            shown = ", ".join(self._label(node) for node in flagged[:3])
            more = f" and {len(flagged) - 3} more" if len(flagged) > 3 else ""
            raise ModelFileError(
                self.where,
                f"{len(flagged)} node{'s' * (len(flagged) != 1)} of operators convcost does "
                f"not know: {shown}{more} (--strict; without it they are rows flagged "
                "'not counted')",
            )

    # -- constants -----------------------------------------------------------------------

    def _fold(self, node: OnnxNode, inputs: list[_Value | None], known: bool) -> None:
        """A node of constants only: computed here when it is shape arithmetic, else its
        shape is taken from the file; either way it is no row."""
        folder = _FOLDERS.get(node.op_type) if known else None
        weights = frozenset().union(*(value.weights for value in inputs if value is not None))
        results: list[_Value] | None = None
        if folder is not None:
            try:
                results = folder(self, node, inputs)
            except (_Refused, ConvCostError, ArithmeticError, ValueError, IndexError):
                results = None  # not computable here: the file's shapes below
        for index, output in enumerate(node.outputs):
            if not output:
                continue
            result = results[index] if results is not None and index < len(results) else None
            if result is None:
                result = _Value(self._declared(output), node=None)
            if result.dims is not None and (
                len(result.dims) > 64 or any(d < 0 for d in result.dims)
            ):
                result = _Value(None, node=None)
            self.values[output] = replace(result, weights=result.weights | weights)

    def _ints(
        self, node: OnnxNode, value: _Value | None, what: str, *, optional: bool = False
    ) -> tuple[int, ...] | None:
        """The integers of a constant input (a shape, axes, pads), or a refusal."""
        if value is None:
            if optional:
                return None
            raise _Refused(f"has no {what}")
        if value.values is None or value.is_data:
            if optional and value.dims == (0,):
                return None
            raise _Refused(
                f"the {what} it reads are computed at run time from values convcost cannot follow "
                "(give a model with constant shapes)"
            )
        numbers = value.values
        if not all(float(number).is_integer() for number in numbers):
            raise _Refused(f"its {what} {numbers!r} are not integers")
        return tuple(int(number) for number in numbers)

    # -- attributes ----------------------------------------------------------------------

    def attr(self, node: OnnxNode, name: str, default: AttributeValue) -> AttributeValue:
        """An attribute's value, or `default` when the node has none; an attribute of a
        type the reader does not read (a sparse tensor, a type) is refused."""
        if name not in node.attributes:
            return default
        value = node.attributes[name]
        if value is None:
            raise _Refused(f"attribute {name} has a type convcost does not read")
        return value

    def attr_int(self, node: OnnxNode, name: str, default: int) -> int:
        value = self.attr(node, name, default)
        if not is_int(value):
            raise _Refused(f"attribute {name} must be an integer, got {show(value)}")
        return value

    def attr_float(self, node: OnnxNode, name: str, default: float | None) -> float | None:
        value = self.attr(node, name, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Refused(f"attribute {name} must be a number, got {show(value)}")
        return float(value)

    def attr_ints(
        self, node: OnnxNode, name: str, default: tuple[int, ...] | None
    ) -> tuple[int, ...] | None:
        value = self.attr(node, name, default)
        if value is None:
            return None
        if not isinstance(value, tuple) or not all(is_int(item) for item in value):
            raise _Refused(f"attribute {name} must be integers, got {show(value)}")
        return value  # type: ignore[return-value]

    def attr_str(self, node: OnnxNode, name: str, default: str) -> str:
        value = self.attr(node, name, default)
        if not isinstance(value, str):
            raise _Refused(f"attribute {name} must be text, got {show(value)}")
        return value

    # -- assembly ------------------------------------------------------------------------

    def _assemble(self) -> Network:
        outputs = []
        for info in self.model.graph.outputs:
            value = self.values.get(info.name)
            if value is not None and value.node is not None and value.node not in outputs:
                outputs.append(value.node)
        if not self.rows:
            raise ModelFileError(
                self.where, "no node of the graph reads its input: nothing to count"
            )
        if not outputs:
            raise ModelFileError(self.where, "no output of the graph depends on its input")
        names = _Names(self.rows)
        final = names.final
        try:
            layers: list[Layer] = [
                replace(row.layer, name=final[row.id],
                        inputs=tuple(final.get(ref, ref) for ref in row.sources))
                for row in self.rows
            ]  # fmt: skip
            return Network(
                input_shape=self.views[_INPUT],
                layers=group_stages(layers, [names.groups[row.id] for row in self.rows]),
                name=self.name,
                outputs=tuple(final.get(ref, ref) for ref in outputs),
                naming="flat",
            )
        except ConvCostError as error:
            raise ModelFileError(self.where, str(error)) from None


def _constant_of(tensor: Tensor) -> _Value:
    weights = frozenset({tensor.name}) if tensor.data_type in _WEIGHT_TYPES else frozenset()
    return _Value(tensor.dims, node=None, values=tensor.values, weights=weights)


def _constant_node(node: OnnxNode) -> _Value:
    """A Constant node's value: its tensor, or one of the value_* attributes."""
    for name, value in node.attributes.items():
        if name == "value" and isinstance(value, Tensor):
            return _Value(value.dims, node=None, values=value.values)
        if name in ("value_int", "value_float") and isinstance(value, (int, float)):
            return _Value((), node=None, values=(value,))
        if name in ("value_ints", "value_floats") and isinstance(value, tuple):
            numbers = tuple(item for item in value if isinstance(item, (int, float)))
            if len(numbers) == len(value):
                kept = numbers if len(numbers) <= SMALL_TENSOR else None
                return _Value((len(value),), node=None, values=kept)
        if name == "value_strings" and isinstance(value, tuple):
            return _Value((len(value),), node=None)
        if name == "value_string":
            return _Value((), node=None)
    return _Value(None, node=None)


# --- names and stages -----------------------------------------------------------------------


def _module_path(node_name: str) -> tuple[list[str], str] | None:
    """PyTorch's scope in a node name: ``/layer1/layer1.0/conv1/Conv`` is the module path
    ``["layer1", "0", "conv1"]`` and the operator ``Conv``; None for other names."""
    if not node_name.startswith("/"):
        return None
    parts = node_name[1:].split("/")
    if len(parts) < 1 or not all(parts):
        return None
    path: list[str] = []
    previous = ""
    for scope in parts[:-1]:
        if previous and scope.startswith(previous + "."):
            path.append(scope[len(previous) + 1 :])
        else:
            path.append(scope)
        previous = scope
    return path, parts[-1]


class _Names:
    """The rows' final names and stages, from the exporter's node names.

    A row is named after its module (``layer1.0.conv1``) when it is the one row of a leaf
    module, or the one with weights among several; else ``module/Operator``
    (``layer1.0/Add``, ``features.1.0.block.4/Erf``). A node's further outputs are
    ``name:1``, ``name:2``, a layout row before it ``name/layout``. Names are made unique
    as convcost makes layer names (``name_1``). The stages are the top-level modules
    holding others, or, when one top-level module holds most rows (torchvision's
    ``features``), the modules inside it.
    """

    def __init__(self, rows: Sequence[_Row]) -> None:
        self.rows = rows
        self.paths = [_module_path(row.node.name) for row in rows]
        self.keys = [".".join(path[0]) if path else None for path in self.paths]
        self.prefixes: set[tuple[str, ...]] = set()  # every module holding a deeper row
        for path in self.paths:
            if path:
                self.prefixes.update(tuple(path[0][:n]) for n in range(1, len(path[0])))
        self.members: dict[str, list[int]] = {}
        main: dict[int, int] = {}  # a node (by identity) -> its row without a suffix
        for index, (row, key) in enumerate(zip(rows, self.keys)):
            if not row.suffix:
                main.setdefault(id(row.node), index)
                if key is not None:
                    self.members.setdefault(key, []).append(index)
        taken: set[str] = {_INPUT}
        self.final: dict[str, str] = {}
        for index, row in enumerate(rows):
            owner = main.get(id(row.node), index) if row.suffix else index
            name = self._own(owner) + row.suffix
            unique, number = name, 0
            while unique in taken:
                number += 1
                unique = f"{name}_{number}"
            taken.add(unique)
            self.final[row.id] = unique
        self.groups = _groups(rows, self.paths, self.prefixes)

    def _own(self, index: int) -> str:
        row, path, key = self.rows[index], self.paths[index], self.keys[index]
        if path is None:
            return " ".join(row.node.name.split()) or row.node.op_type
        module, operator = path
        if not key:
            return operator
        group = self.members.get(key, [index])
        leaf = tuple(module) not in self.prefixes
        weighted = [i for i in group if self.rows[i].cost.total_params]
        if leaf and (group == [index] or weighted == [index]):
            return key
        return f"{key}/{operator}"


def _groups(
    rows: Sequence[_Row],
    paths: Sequence[tuple[list[str], str] | None],
    prefixes: set[tuple[str, ...]],
) -> dict[str, str | None]:
    tops: dict[str, int] = {}
    children: dict[str, set[str]] = {}
    for path in paths:
        if path and path[0]:
            top = path[0][0]
            tops[top] = tops.get(top, 0) + 1
            if len(path[0]) > 1:
                children.setdefault(top, set()).add(path[0][1])
    depth = 1
    if tops:
        top, count = max(tops.items(), key=lambda item: item[1])
        if 2 * count > len(rows) and len(children.get(top, ())) >= 2:
            depth = 2
    groups: dict[str, str | None] = {}
    for row, path in zip(rows, paths):
        group = None
        if path and len(path[0]) >= depth and tuple(path[0][:depth]) in prefixes:
            group = ".".join(path[0][:depth])
        groups[row.id] = group
    return groups


# --- operators with a family ------------------------------------------------------------------

# Operators whose tensor may come in any operand (``bias + x``, ``W @ x``, an embedding's
# table then indices); every other one reads its tensor first.
_ANY_OPERAND_FIRST: Final = frozenset({
    "Add", "Mul", "Sum", "Sub", "Div", "Pow", "Mod", "Max", "Min", "Mean", "Equal", "Less",
    "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "BitShift", "BitwiseAnd",
    "BitwiseOr", "BitwiseXor", "Where", "MatMul", "Gemm", "Gather", "Concat", "Shape", "Size",
})  # fmt: skip


def _data(value: _Value | None) -> bool:
    return value is not None and value.is_data


def _weight(value: _Value | None, what: str) -> tuple[int, ...]:
    """The dims of a constant input (a weight), or a refusal."""
    if value is None or value.is_data or value.dims is None:
        raise _Refused(f"its {what} is not a constant of known shape")
    return value.dims


def _window_attributes(
    converter: _Converter, node: OnnxNode, ndim: int, *, dilations: bool = True
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    strides = converter.attr_ints(node, "strides", (1,) * ndim)
    dilation = converter.attr_ints(node, "dilations", (1,) * ndim) if dilations else (1,) * ndim
    assert strides is not None
    assert dilation is not None
    for name, values in (("strides", strides), ("dilations", dilation)):
        if len(values) != ndim or any(v < 1 for v in values):
            raise _Refused(f"attribute {name} {values!r} must be {ndim} positive integers")
    return strides, dilation


def _padding(
    converter: _Converter,
    node: OnnxNode,
    sizes: tuple[int, ...],
    kernel: tuple[int, ...],
    strides: tuple[int, ...],
    dilations: tuple[int, ...],
) -> Padding:
    """ONNX's pads or auto_pad as convcost padding."""
    ndim = len(sizes)
    auto = converter.attr_str(node, "auto_pad", "NOTSET")
    if auto in ("NOTSET", ""):
        pads = converter.attr_ints(node, "pads", (0,) * (2 * ndim))
        assert pads is not None
        if len(pads) != 2 * ndim or any(pad < 0 for pad in pads):
            raise _Refused(f"attribute pads {pads!r} must be {2 * ndim} non-negative integers")
        return _padding_pairs(list(zip(pads[:ndim], pads[ndim:])))
    if auto == "VALID":
        return "valid"
    if auto == "SAME_UPPER":
        return "same"  # convcost's "same": the extra unit of padding after, as SAME_UPPER
    if auto == "SAME_LOWER":
        pairs = []
        for size, k, s, d in zip(sizes, kernel, strides, dilations):
            out = -(-size // s)
            total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
            pairs.append((total - total // 2, total // 2))
        return _padding_pairs(pairs)
    raise _Refused(f"attribute auto_pad {auto!r} is not NOTSET, SAME_UPPER, SAME_LOWER or VALID")


@_handles("Conv")
def _conv(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    x = inputs[0]
    if not _data(x) or len(inputs) < 2 or _data(inputs[1]):
        converter._not_counted(node, inputs, unusual=True)
        return
    assert x is not None
    assert x.dims is not None
    weight = _weight(inputs[1], "weight")
    bias = inputs[2] if len(inputs) > 2 else None
    ndim = len(x.dims) - 2
    if not 1 <= ndim <= MAX_SPATIAL_DIMS or len(weight) != ndim + 2:
        raise _Refused(
            f"input {dims_text(x.dims)} and weight {dims_text(weight)} are not a 1-D, 2-D "
            "or 3-D convolution"
        )
    out_channels, per_group, *kernel = weight
    declared = converter.attr_ints(node, "kernel_shape", None)
    if declared is not None and tuple(declared) != tuple(kernel):
        raise _Refused(f"kernel_shape {declared!r} differs from the weight's {tuple(kernel)!r}")
    group = converter.attr_int(node, "group", 1)
    if group < 1 or per_group * group != x.dims[1]:
        raise _Refused(
            f"weight {dims_text(weight)} with group {group} does not read {x.dims[1]} channels"
        )
    if bias is not None and _numel(_weight(bias, "bias")) != out_channels:
        raise _Refused(f"bias of shape {dims_text(_weight(bias, 'bias'))} for {out_channels} "
                       "output channels")  # fmt: skip
    strides, dilations = _window_attributes(converter, node, ndim)
    padding = _padding(converter, node, x.dims[2:], tuple(kernel), strides, dilations)
    layer = Conv(
        out_channels=out_channels,
        kernel_size=compact(kernel),
        stride=compact(strides),
        padding=padding,
        dilation=compact(dilations),
        groups=group,
        bias=bias is not None,
    )
    converter._claim(inputs[1], bias)
    converter._mapped(node, layer, x)


@_handles("ConvTranspose")
def _conv_transpose(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    x = inputs[0]
    if not _data(x) or len(inputs) < 2 or _data(inputs[1]):
        converter._not_counted(node, inputs, unusual=True)
        return
    assert x is not None
    assert x.dims is not None
    weight = _weight(inputs[1], "weight")
    bias = inputs[2] if len(inputs) > 2 else None
    ndim = len(x.dims) - 2
    if not 1 <= ndim <= MAX_SPATIAL_DIMS or len(weight) != ndim + 2:
        raise _Refused(f"input {dims_text(x.dims)} and weight {dims_text(weight)} are not a "
                       "1-D, 2-D or 3-D transposed convolution")  # fmt: skip
    in_channels, per_group, *kernel = weight
    group = converter.attr_int(node, "group", 1)
    if group < 1 or in_channels != x.dims[1] or in_channels % group:
        raise _Refused(f"weight {dims_text(weight)} with group {group} does not read "
                       f"{x.dims[1]} channels")  # fmt: skip
    out_channels = per_group * group
    if bias is not None and _numel(_weight(bias, "bias")) != out_channels:
        raise _Refused(f"bias for {out_channels} output channels has another shape")
    strides, dilations = _window_attributes(converter, node, ndim)
    extra = converter.attr_ints(node, "output_padding", (0,) * ndim)
    assert extra is not None
    if len(extra) != ndim or any(e < 0 for e in extra):
        raise _Refused(f"attribute output_padding {extra!r} must be {ndim} integers >= 0")
    sizes = x.dims[2:]
    target = converter.attr_ints(node, "output_shape", None)
    auto = converter.attr_str(node, "auto_pad", "NOTSET")
    if target is not None and len(target) == ndim + 2:
        target = target[2:]
    if target is None and auto in ("SAME_UPPER", "SAME_LOWER"):
        target = tuple(size * s for size, s in zip(sizes, strides))
    pairs: list[tuple[int, int]] = []
    extras = list(extra)
    if target is not None:
        if len(target) != ndim:
            raise _Refused(f"attribute output_shape {target!r} must give {ndim} sizes")
        for axis, (size, k, s, d, out) in enumerate(zip(sizes, kernel, strides, dilations, target)):
            total = s * (size - 1) + extras[axis] + (k - 1) * d + 1 - out
            if total < 0:  # larger than the natural output: the extra rows are output padding
                extras[axis] -= total
                total = 0
            half = total // 2
            pairs.append((half, total - half) if auto == "SAME_UPPER" else (total - half, half))
        padding: Padding = _padding_pairs(pairs)
    elif auto == "VALID":
        padding = 0
    else:
        padding = _padding(converter, node, sizes, tuple(kernel), strides, dilations)
    layer = ConvTranspose(
        out_channels=out_channels,
        kernel_size=compact(kernel),
        stride=compact(strides),
        padding=padding,
        output_padding=compact(extras),
        dilation=compact(dilations),
        groups=group,
        bias=bias is not None,
    )
    converter._claim(inputs[1], bias)
    converter._mapped(node, layer, x)


@_handles("Gemm")
def _gemm(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    a = inputs[0]
    b = inputs[1] if len(inputs) > 1 else None
    c = inputs[2] if len(inputs) > 2 else None
    if a is None or b is None or a.dims is None or b.dims is None:
        converter._not_counted(node, inputs, unusual=True)
        return
    trans_a = converter.attr_int(node, "transA", 0)
    trans_b = converter.attr_int(node, "transB", 0)
    if len(a.dims) != 2 or len(b.dims) != 2:
        raise _Refused(f"Gemm of {dims_text(a.dims)} by {dims_text(b.dims)}: both must be 2-D")
    rows, depth = (a.dims[1], a.dims[0]) if trans_a else a.dims
    depth_b, columns = (b.dims[1], b.dims[0]) if trans_b else b.dims
    if depth != depth_b:
        raise _Refused(
            f"A {dims_text(a.dims)} (transA={trans_a}) and B {dims_text(b.dims)} "
            f"(transB={trans_b}) do not multiply: {depth} against {depth_b}"
        )
    bias_size = 0
    if c is not None:
        if c.dims is None or _broadcast([c.dims, (rows, columns)]) != (rows, columns):
            raise _Refused(f"C does not broadcast to {rows}x{columns}")
        bias_size = _numel(c.dims)
    dims = (rows, columns)
    linear = (
        _data(a) and not _data(b) and not _data(c) and not trans_a and rows == 1
        and bias_size in (0, columns)
    )  # fmt: skip
    if linear:
        assert a.view is not None
        converter._claim(b, c)
        layer = Linear(out_features=columns, bias=c is not None)
        reference = a.node if a.view == Shape(depth) else converter._nchw(node, a, flat_ok=True)
        assert reference is not None
        row_id = converter._row(node, layer, (reference,))
        converter._emit(node, 0, row_id, dims, 0, 1)
        return
    weights = converter._params([b])
    bias = converter._params([c])
    source = a if _data(a) else converter._first_data(inputs)
    converter._shaped(
        node,
        lambda shape: Operator(op_type="Gemm", shape=shape, weights=weights, bias=bias,
                               contraction=depth, operands=len([v for v in inputs if v])),
        source,
        dims,
    )  # fmt: skip


@_handles("MatMul")
def _matmul(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    a, b = [*inputs, None, None][:2]
    if a is None or b is None or a.dims is None or b.dims is None or not a.dims or not b.dims:
        converter._not_counted(node, inputs, unusual=True)
        return
    left = (1, a.dims[0]) if len(a.dims) == 1 else a.dims
    right = (b.dims[0], 1) if len(b.dims) == 1 else b.dims
    depth = left[-1]
    if right[-2] != depth:
        raise _Refused(f"MatMul of {dims_text(a.dims)} by {dims_text(b.dims)}: "
                       f"{depth} against {right[-2]}")  # fmt: skip
    batch = _broadcast([left[:-2], right[:-2]])
    if batch is None:
        raise _Refused(f"MatMul of {dims_text(a.dims)} by {dims_text(b.dims)} does not broadcast")
    dims = (*batch, left[-2], right[-1])
    if len(b.dims) == 1:
        dims = dims[:-1]
    if len(a.dims) == 1:
        dims = dims[:-2] + dims[-1:]
    bias_name = converter.fused_bias.get(node.outputs[0]) if node.outputs else None
    bias_value = converter.values[bias_name] if bias_name else None
    weights = converter._params([b])
    bias = converter._params([bias_value])
    source = a if _data(a) else b
    assert source.dims is not None
    if source is a and a.channel_axis == len(a.dims) - 1 and len(dims) == len(a.dims):
        axes: tuple[int | None, int | None] = (a.batch_axis, len(dims) - 1)
    elif len(dims) == len(source.dims):
        axes = (source.batch_axis, source.channel_axis)
    else:
        axes = default_axes(dims)
    converter._shaped(
        node,
        lambda shape: Operator(op_type="MatMul", shape=shape, weights=weights, bias=bias,
                               contraction=depth, operands=2 + (bias_value is not None)),
        source,
        dims,
        axes,
    )  # fmt: skip


@_handles("BatchNormalization")
def _batch_norm(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    x = inputs[0]
    rest = inputs[1:5]
    if not _data(x) or len(rest) != 4 or any(value is None or value.is_data for value in rest):
        converter._not_counted(node, inputs, unusual=True)
        return
    assert x is not None
    assert x.dims is not None
    channels = x.dims[1] if len(x.dims) >= 2 else 0
    for what, value in zip(("scale", "bias", "mean", "variance"), rest):
        dims = _weight(value, what)
        if _numel(dims) != channels:
            raise _Refused(f"its {what} has shape {dims_text(dims)}, not {channels} channels")
    converter._claim(*rest)
    converter._mapped(node, BatchNorm(), x, flat_ok=True)
    for index in range(1, len(node.outputs)):  # training outputs: running statistics
        converter._set(node, index, _Value((channels,), node=None))


def _pool_layer(
    converter: _Converter, node: OnnxNode, x: _Value, kind: type[MaxPool] | type[AvgPool]
) -> None:
    assert x.dims is not None
    ndim = len(x.dims) - 2
    kernel = converter.attr_ints(node, "kernel_shape", None)
    if ndim < 1:
        raise _Refused(f"needs spatial axes, got a tensor of shape {dims_text(x.dims)}")
    if kernel is None or len(kernel) != ndim or any(k < 1 for k in kernel):
        raise _Refused(f"attribute kernel_shape {kernel!r} must give its {ndim} window sizes")
    strides, dilations = _window_attributes(converter, node, ndim)
    padding = _padding(converter, node, x.dims[2:], kernel, strides, dilations)
    ceil = converter.attr_int(node, "ceil_mode", 0)
    layer = kind(
        kernel_size=compact(kernel),
        stride=compact(strides),
        padding=padding,
        dilation=compact(dilations),
        ceil_mode=bool(ceil),
    )
    numeric = not isinstance(padding, str)  # "same" and "valid" leave no window to drop
    if (
        ceil
        and numeric
        and _pool_dims(x.dims, kernel, strides, dilations, padding, True)
        != (_pool_dims(x.dims, kernel, strides, dilations, padding, True, drop_padded_start=False))
    ):
        # A last window that would start in the padding is dropped, as PyTorch and ONNX
        # Runtime do; ONNX's shape inference keeps it, so the file's declared shapes from
        # here on may count one more row or column than the graph computes.
        converter.trust_declared = False
    try:
        layer_cost(layer, _standard(x.dims))
    except ConvCostError:
        # ONNX allows pads larger than half the window, which PyTorch (and convcost's
        # pooling layers) refuse: the same output, as an operator of no family.
        dims = _pool_dims(x.dims, kernel, strides, dilations, padding, bool(ceil))
        converter._shaped(node, lambda shape: Operator(op_type=node.op_type, shape=shape), x,
                          dims, (0, 1))  # fmt: skip
    else:
        converter._mapped(node, layer, x)
    if len(node.outputs) > 1 and node.outputs[1]:  # MaxPool's indices: the same shape
        converter.values[node.outputs[1]] = converter.values[node.outputs[0]]


def _pool_dims(
    dims: tuple[int, ...],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
    padding: Padding,
    ceil: bool,
    *,
    drop_padded_start: bool = True,
) -> tuple[int, ...]:
    sizes = dims[2:]
    if not isinstance(padding, tuple):
        pairs: list[tuple[int, int]] = [(padding, padding)] * len(sizes)  # type: ignore[list-item]
    else:
        pairs = [p if isinstance(p, tuple) else (p, p) for p in padding]
    out = []
    for size, k, s, d, (before, after) in zip(sizes, kernel, strides, dilations, pairs):
        span = d * (k - 1) + 1
        room = size + before + after - span
        if room < 0:
            raise _Refused(f"a window of {span} does not fit {size} padded by {before}+{after}")
        count = (-(-room // s) if ceil else room // s) + 1
        if ceil and drop_padded_start and (count - 1) * s >= size + before:
            count -= 1
        out.append(count)
    return (*dims[:2], *out)


@_handles("MaxPool", "AveragePool")
def _pool(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    x = inputs[0]
    if not _data(x):
        converter._not_counted(node, inputs, unusual=True)
        return
    assert x is not None
    # AveragePool's count_include_pad changes the values, never a count or a shape.
    _pool_layer(converter, node, x, MaxPool if node.op_type == "MaxPool" else AvgPool)


@_handles("GlobalAveragePool", "GlobalMaxPool")
def _global_pool(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    x = inputs[0]
    assert x is not None
    kind = GlobalAvgPool if node.op_type == "GlobalAveragePool" else GlobalMaxPool
    converter._mapped(node, kind(keepdims=True), x)


_ACTIVATIONS: Final = {
    "Relu": "relu", "Sigmoid": "sigmoid", "HardSigmoid": "hardsigmoid",
    "HardSwish": "hardswish", "LeakyRelu": "leaky_relu", "Tanh": "tanh", "Softmax": "softmax",
    "Elu": "elu", "Gelu": "gelu", "Identity": "identity",
}  # fmt: skip


@_handles(*_ACTIVATIONS)
def _activation(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    x = inputs[0]
    assert x is not None
    _same_shape_row(converter, node, x, Activation(function=_ACTIVATIONS[node.op_type]))


def _same_shape_row(converter: _Converter, node: OnnxNode, x: _Value, layer: Layer) -> None:
    """A layer that keeps its input's shape (activations, dropout), in any layout."""
    assert x.node is not None
    assert x.dims is not None
    row_id = converter._row(node, layer, (x.node,))
    converter._emit(node, 0, row_id, x.dims, x.batch_axis, x.channel_axis)


@_handles("Clip")
def _clip(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    x = inputs[0]
    assert x is not None
    if converter.opset < 11:
        low = converter.attr_float(node, "min", None)
        high = converter.attr_float(node, "max", None)
    else:
        low = high = None
        for index in (1, 2):
            value = inputs[index] if len(inputs) > index else None
            if value is None:
                continue
            if value.is_data or value.values is None or len(value.values) != 1:
                low = math.nan  # bounds computed at run time: no activation of convcost's
                continue
            number = float(value.values[0])
            if index == 1:
                low = number
            else:
                high = number
    function = {(0.0, 6.0): "relu6", (0.0, None): "relu"}.get((low, high))  # type: ignore[arg-type]
    if function is not None:
        _same_shape_row(converter, node, x, Activation(function=function))
    else:
        _elementwise(converter, node, inputs)


@_handles("Dropout")
def _dropout(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    x = inputs[0]
    assert x is not None
    ratio = 0.5
    if converter.opset < 12:
        ratio = converter.attr_float(node, "ratio", 0.5) or 0.0
    elif len(inputs) > 1 and inputs[1] is not None:
        value = inputs[1]
        if value.values is not None and len(value.values) == 1:
            ratio = float(value.values[0])
    _same_shape_row(converter, node, x, Dropout(p=ratio if 0 <= ratio < 1 else 0.5))
    if len(node.outputs) > 1 and node.outputs[1]:  # the mask: same shape
        converter.values[node.outputs[1]] = converter.values[node.outputs[0]]


# --- joins and element-wise arithmetic --------------------------------------------------------


@_handles("Add", "Mul", "Sum")
def _join(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    operands = [value for value in inputs if value is not None]
    if len(operands) >= 2 and all(value.is_data for value in operands):
        first = operands[0]
        dims = [value.dims for value in operands]
        if all(d == first.dims for d in dims):
            assert first.node is not None
            sources = [first.node] + [
                _in_view(converter, node, value, first.view) for value in operands[1:]
            ]
            kind: type[Add] | type[Multiply] = Multiply if node.op_type == "Mul" else Add
            row_id = converter._row(node, kind(), sources)
            assert first.dims is not None
            converter._emit(node, 0, row_id, first.dims, first.batch_axis, first.channel_axis)
            return
        if node.op_type == "Mul" and len(operands) == 2 and _gate(operands[0], operands[1]):
            big, small = sorted(operands, key=lambda value: -_numel(value.dims or ()))
            sources = [_nchw_of(converter, node, big), _nchw_of(converter, node, small)]
            row_id = converter._row(node, Multiply(), sources)
            assert big.dims is not None
            converter._emit(node, 0, row_id, big.dims, 0, 1)
            return
    _elementwise(converter, node, inputs)


def _in_view(converter: _Converter, node: OnnxNode, value: _Value, view: Shape | None) -> str:
    """The row giving `value` in `view` (a layout row when its own view differs)."""
    assert value.node is not None
    assert view is not None
    if value.view == view:
        return value.node
    return converter._row(node, Reshape(shape=_sizes(view)), (value.node,), "/layout")


def _nchw_of(converter: _Converter, node: OnnxNode, value: _Value) -> str:
    return converter._nchw(node, value, flat_ok=True)


def _gate(a: _Value, b: _Value) -> bool:
    """One NCHW tensor scaled by one value per channel of it (a squeeze-and-excitation)."""
    if a.dims is None or b.dims is None or len(a.dims) != len(b.dims) or len(a.dims) < 3:
        return False
    big, small = (a.dims, b.dims) if _numel(a.dims) >= _numel(b.dims) else (b.dims, a.dims)
    return big[0] == small[0] == 1 and big[1] == small[1] and all(size == 1 for size in small[2:])


_ELEMENTWISE: Final = frozenset({
    "Sub", "Div", "Pow", "Mod", "Max", "Min", "Mean", "Equal", "Less", "Greater",
    "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "BitShift", "BitwiseAnd",
    "BitwiseOr", "BitwiseXor", "Where", "PRelu",
    "Abs", "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Ceil", "Cos", "Cosh", "Erf",
    "Exp", "Floor", "IsInf", "IsNaN", "Log", "Neg", "Not", "Reciprocal", "Round", "Sign",
    "Sin", "Sinh", "Sqrt", "Tan", "Softplus", "Softsign", "Selu", "Celu", "ThresholdedRelu",
    "Mish", "Shrink", "LogSoftmax", "Hardmax", "Cast", "CastLike", "BitwiseNot", "CumSum",
    "Trilu", "LRN",
})  # fmt: skip
"""Operators that keep the broadcast shape of their operands: `Operator` rows of no MACs."""


@_handles(*_ELEMENTWISE)
def _elementwise(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    operands = [value for value in inputs if value is not None]
    if node.op_type == "CumSum":
        operands = operands[:1]  # its axis is a constant, not an operand
    elif node.op_type in ("Clip", "Trilu", "LRN"):
        operands = operands[:1]
    shapes = [value.dims for value in operands]
    if any(dims is None for dims in shapes):
        converter._not_counted(node, inputs, unusual=True)
        return
    dims = _broadcast([d for d in shapes if d is not None])
    if dims is None:
        raise _Refused(
            "its operands of shapes "
            + ", ".join(dims_text(d or ()) for d in shapes)
            + " do not broadcast"
        )
    source = next(
        (value for value in operands if value.is_data and value.dims == dims),
        converter._first_data(operands),
    )
    axes = (source.batch_axis, source.channel_axis) if source.dims == dims else None
    # A scalar operand (x * 0.5) is part of the formula; PRelu's slope is a weight however
    # small (nn.PReLU() has one).
    weights = converter._params(operands, scalars=node.op_type == "PRelu")
    converter._shaped(
        node,
        lambda shape: Operator(op_type=node.op_type, shape=shape, weights=weights,
                               operands=len(operands)),
        source,
        dims,
        axes,
    )  # fmt: skip


@_handles("Concat")
def _concat(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    operands = [value for value in inputs if value is not None]
    if any(value.dims is None for value in operands):
        converter._not_counted(node, inputs, unusual=True)
        return
    rank = len(operands[0].dims or ())
    if "axis" not in node.attributes:
        raise _Refused("has no axis attribute")
    axis = _axis(converter.attr_int(node, "axis", 0), rank)
    if axis is None or any(len(value.dims or ()) != rank for value in operands):
        raise _Refused("its operands do not concatenate along the axis given")
    first = operands[0]
    assert first.dims is not None
    for value in operands:
        assert value.dims is not None
        if value.dims[:axis] + value.dims[axis + 1 :] != first.dims[:axis] + first.dims[axis + 1 :]:
            raise _Refused(
                "cannot concatenate "
                + ", ".join(dims_text(v.dims or ()) for v in operands)
                + f" along axis {axis}"
            )
    dims = (
        *first.dims[:axis],
        sum(v.dims[axis] for v in operands if v.dims),
        *first.dims[axis + 1 :],
    )
    if len(operands) >= 2 and all(v.is_data for v in operands):
        channel = first.channel_axis
        if channel == axis and all(v.channel_axis == channel and v.batch_axis == first.batch_axis
                                   for v in operands):  # fmt: skip
            sources = [v.node for v in operands if v.node is not None]
            row_id = converter._row(node, Concat(), sources)
            converter._emit(node, 0, row_id, dims, first.batch_axis, channel)
            return
        if axis == 1 and rank >= 2 and first.dims[0] == 1:
            sources = [_nchw_of(converter, node, v) for v in operands]
            row_id = converter._row(node, Concat(), sources)
            converter._emit(node, 0, row_id, dims, 0, 1)
            return
    weights = converter._params(operands)
    source = converter._first_data(operands)
    converter._shaped(
        node,
        lambda shape: Operator(op_type="Concat", shape=shape, weights=weights,
                               operands=len(operands)),
        source,
        dims,
        (source.batch_axis, source.channel_axis),
    )  # fmt: skip


# --- normalisations and reductions -------------------------------------------------------------


@_handles("LayerNormalization", "InstanceNormalization", "GroupNormalization")
def _normalization(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    x = inputs[0]
    if not _data(x) or x is None or x.dims is None:
        converter._not_counted(node, inputs, unusual=True)
        return
    weights = converter._params(inputs[1:2])
    bias = converter._params(inputs[2:3])
    dims = x.dims
    axes: tuple[int | None, int | None] = (x.batch_axis, x.channel_axis)
    if node.op_type == "LayerNormalization":
        axis = _axis(converter.attr_int(node, "axis", -1), len(dims))
        if axis is None:
            raise _Refused(f"attribute axis is outside a tensor of rank {len(dims)}")
        axes = (x.batch_axis if x.batch_axis != axis else None, axis)
    operands = len([value for value in inputs if value is not None])
    converter._shaped(
        node,
        lambda shape: Operator(op_type=node.op_type, shape=shape, weights=weights + bias,
                               operands=operands),
        x,
        dims,
        axes,
    )  # fmt: skip
    for index in range(1, len(node.outputs)):  # mean and inverse deviation: statistics
        converter._set(node, index, _Value(None, node=None))


_REDUCTIONS: Final = (
    "ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum", "ReduceProd", "ReduceL1", "ReduceL2",
    "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "ArgMax", "ArgMin",
)  # fmt: skip


@_handles(*_REDUCTIONS)
def _reduce(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    x = inputs[0]
    assert x is not None
    assert x.dims is not None
    rank = len(x.dims)
    keep = bool(converter.attr_int(node, "keepdims", 1))
    if node.op_type in ("ArgMax", "ArgMin"):
        single = _axis(converter.attr_int(node, "axis", 0), rank)
        if single is None:
            raise _Refused(f"attribute axis is outside a tensor of rank {rank}")
        axes: tuple[int, ...] = (single,)
    else:
        from_input = converter.opset >= 18 or (
            node.op_type == "ReduceSum" and converter.opset >= 13
        )
        if from_input:
            given = converter._ints(node, inputs[1] if len(inputs) > 1 else None, "axes",
                                    optional=True)  # fmt: skip
        else:
            given = converter.attr_ints(node, "axes", None)
        if not given:
            noop = converter.attr_int(node, "noop_with_empty_axes", 0) if from_input else 0
            given = () if noop else tuple(range(rank))
        normalized = [_axis(a, rank) for a in given]
        if any(a is None for a in normalized) or len(set(normalized)) != len(normalized):
            raise _Refused(f"axes {given!r} are not distinct axes of a tensor of rank {rank}")
        axes = tuple(sorted(a for a in normalized if a is not None))
    dims = tuple(
        1 if axis in axes else size for axis, size in enumerate(x.dims) if keep or axis not in axes
    )
    spatial = tuple(range(2, rank))
    if (
        node.op_type in ("ReduceMean", "ReduceMax")
        and rank >= 3
        and x.dims[0] == 1
        and axes == spatial
    ):
        kind = GlobalAvgPool if node.op_type == "ReduceMean" else GlobalMaxPool
        converter._mapped(node, kind(keepdims=keep), x, flat_ok=True)
        return
    kept = [axis for axis in range(rank) if keep or axis not in axes]
    batch = kept.index(x.batch_axis) if x.batch_axis in kept else None
    channel = kept.index(x.channel_axis) if x.channel_axis in kept else None
    converter._shaped(
        node, lambda shape: Operator(op_type=node.op_type, shape=shape), x, dims, (batch, channel)
    )


# --- shapes: reshapes, selections, padding, resizing -------------------------------------------


def _reshape_dims(
    dims: tuple[int, ...], target: tuple[int, ...], allow_zero: bool
) -> tuple[int, ...]:
    """ONNX Reshape's output: 0 copies the input's size (unless `allow_zero`), -1 is inferred."""
    out = list(target)
    for axis, size in enumerate(out):
        if size == 0 and not allow_zero:
            if axis >= len(dims):
                raise _Refused(f"target shape {target!r} copies axis {axis} the input lacks")
            out[axis] = dims[axis]
    if out.count(-1) > 1 or any(size < -1 for size in out):
        raise _Refused(f"target shape {target!r} is not a shape")
    total = _numel(dims)
    if -1 in out:
        known = _numel(size for size in out if size != -1)
        if known == 0 or total % known:
            raise _Refused(f"cannot reshape {dims_text(dims)} to {target!r}")
        out[out.index(-1)] = total // known
    if _numel(out) != total:
        raise _Refused(f"cannot reshape {dims_text(dims)} ({total:,} elements) to {target!r}")
    return tuple(out)


def _reshape_row(
    converter: _Converter,
    node: OnnxNode,
    x: _Value,
    dims: tuple[int, ...],
    axes: tuple[int | None, int | None] | None = None,
) -> None:
    converter._shaped(node, lambda shape: Reshape(shape=shape), x, dims, axes)


@_handles("Reshape")
def _reshape(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    x = inputs[0]
    if not _data(x) or x is None or x.dims is None:
        converter._not_counted(node, inputs, unusual=True)
        return
    target = inputs[1] if len(inputs) > 1 else None
    if converter.opset < 5:
        shape = converter.attr_ints(node, "shape", None)
    elif target is not None and target.values is not None and not target.is_data:
        shape = converter._ints(node, target, "target shape")
    else:
        shape = converter._declared(node.outputs[0]) if node.outputs else None
        if shape is None:
            converter._ints(node, target, "target shape")  # refuses, saying why
    assert shape is not None
    allow_zero = bool(converter.attr_int(node, "allowzero", 0))
    _reshape_row(converter, node, x, _reshape_dims(x.dims, shape, allow_zero))


@_handles("Flatten")
def _flatten(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    x = inputs[0]
    assert x is not None
    assert x.dims is not None
    assert x.node is not None
    axis = _axis(converter.attr_int(node, "axis", 1), len(x.dims) + 1)
    if axis is None:
        raise _Refused(f"attribute axis is outside a tensor of rank {len(x.dims)}")
    dims = (_numel(x.dims[:axis]), _numel(x.dims[axis:]))
    if dims[0] == 1 and x.batch_axis == 0:
        row_id = converter._row(node, Flatten(), (x.node,))
        converter._emit(node, 0, row_id, dims, 0, 1)
    else:
        _reshape_row(converter, node, x, dims)


@_handles("Transpose")
def _transpose(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    x = inputs[0]
    assert x is not None
    assert x.dims is not None
    rank = len(x.dims)
    perm = converter.attr_ints(node, "perm", tuple(reversed(range(rank))))
    assert perm is not None
    if sorted(perm) != list(range(rank)):
        raise _Refused(f"attribute perm {perm!r} is not a permutation of {rank} axes")
    dims = tuple(x.dims[axis] for axis in perm)

    def moved(axis: int | None) -> int | None:
        return None if axis is None else perm.index(axis)

    _reshape_row(converter, node, x, dims, (moved(x.batch_axis), moved(x.channel_axis)))


def _listed_axes(
    converter: _Converter, node: OnnxNode, inputs: list[_Value | None], rank: int
) -> tuple[int, ...] | None:
    """The axes of Squeeze and Unsqueeze: an attribute before opset 13, an input after."""
    if converter.opset < 13:
        given = converter.attr_ints(node, "axes", None)
    else:
        given = converter._ints(node, inputs[1] if len(inputs) > 1 else None, "axes",
                                optional=True)  # fmt: skip
    if given is None:
        return None
    normalized = [_axis(axis, rank) for axis in given]
    if any(axis is None for axis in normalized) or len(set(normalized)) != len(normalized):
        raise _Refused(f"axes {given!r} are not distinct axes of rank {rank}")
    return tuple(sorted(axis for axis in normalized if axis is not None))


@_handles("Squeeze")
def _squeeze(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    x = inputs[0]
    assert x is not None
    assert x.dims is not None
    axes = _listed_axes(converter, node, inputs, len(x.dims))
    if axes is None:
        axes = tuple(axis for axis, size in enumerate(x.dims) if size == 1)
    if any(x.dims[axis] != 1 for axis in axes):
        raise _Refused(f"cannot squeeze axes {axes!r} of {dims_text(x.dims)}")
    kept = [axis for axis in range(len(x.dims)) if axis not in axes]
    dims = tuple(x.dims[axis] for axis in kept)
    batch = kept.index(x.batch_axis) if x.batch_axis in kept else None
    channel = kept.index(x.channel_axis) if x.channel_axis in kept else None
    _reshape_row(converter, node, x, dims, (batch, channel))


@_handles("Unsqueeze")
def _unsqueeze(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    x = inputs[0]
    assert x is not None
    assert x.dims is not None
    rank = len(x.dims)
    axes = _listed_axes(converter, node, inputs, rank + len(_raw_axes(converter, node, inputs)))
    if axes is None:
        raise _Refused("has no axes")
    dims: list[int] = list(x.dims)
    old = list(range(rank))
    positions: list[int | None] = list(old)
    for axis in axes:
        dims.insert(axis, 1)
        positions.insert(axis, None)
    batch = positions.index(x.batch_axis) if x.batch_axis is not None else None
    channel = positions.index(x.channel_axis) if x.channel_axis is not None else None
    _reshape_row(converter, node, x, tuple(dims), (batch, channel))


def _raw_axes(
    converter: _Converter, node: OnnxNode, inputs: list[_Value | None]
) -> tuple[int, ...]:
    if converter.opset < 13:
        return converter.attr_ints(node, "axes", ()) or ()
    value = inputs[1] if len(inputs) > 1 else None
    return converter._ints(node, value, "axes", optional=True) or ()


@_handles("DepthToSpace", "SpaceToDepth")
def _depth_space(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    x = inputs[0]
    assert x is not None
    assert x.dims is not None
    block = converter.attr_int(node, "blocksize", 0)
    if len(x.dims) != 4 or block < 1:
        raise _Refused(f"needs a 4-D input and a blocksize, got {dims_text(x.dims)}")
    n, c, h, w = x.dims
    if node.op_type == "DepthToSpace":
        if c % (block * block):
            raise _Refused(f"{c} channels are not a multiple of {block}²")
        dims = (n, c // (block * block), h * block, w * block)
    else:
        if h % block or w % block:
            raise _Refused(f"sizes {h}x{w} are not multiples of {block}")
        dims = (n, c * block * block, h // block, w // block)
    _reshape_row(converter, node, x, dims, (0, 1))


def _slice_count(size: int, start: int, end: int, step: int) -> int:
    """Elements ONNX Slice keeps along an axis of `size` (starts and ends clamped)."""
    if step == 0:
        raise _Refused("a Slice step of 0")
    if start < 0:
        start += size
    if end < 0:
        end += size
    if step > 0:
        start, end = min(max(start, 0), size), min(max(end, 0), size)
        return max(0, -(-(end - start) // step))
    start, end = min(max(start, -1), size - 1), min(max(end, -1), size - 1)
    return max(0, -(-(start - end) // -step))


def _slice_spec(
    converter: _Converter, node: OnnxNode, inputs: list[_Value | None], rank: int
) -> list[tuple[int, int, int, int]]:
    """(axis, start, end, step) of every sliced axis."""
    if converter.opset < 10:
        starts = converter.attr_ints(node, "starts", None)
        ends = converter.attr_ints(node, "ends", None)
        axes = converter.attr_ints(node, "axes", None)
        steps: tuple[int, ...] | None = None
    else:
        starts = converter._ints(node, inputs[1] if len(inputs) > 1 else None, "starts")
        ends = converter._ints(node, inputs[2] if len(inputs) > 2 else None, "ends")
        axes = converter._ints(node, inputs[3] if len(inputs) > 3 else None, "axes", optional=True)
        steps = converter._ints(node, inputs[4] if len(inputs) > 4 else None, "steps",
                                optional=True)  # fmt: skip
    if starts is None or ends is None or len(starts) != len(ends):
        raise _Refused("its starts and ends do not pair up")
    axes = axes if axes is not None else tuple(range(len(starts)))
    steps = steps if steps is not None else (1,) * len(starts)
    if len(axes) != len(starts) or len(steps) != len(starts):
        raise _Refused("its starts, ends, axes and steps differ in length")
    spec = []
    for axis, start, end, step in zip(axes, starts, ends, steps):
        index = _axis(axis, rank)
        if index is None:
            raise _Refused(f"axis {axis} is outside a tensor of rank {rank}")
        spec.append((index, start, end, step))
    return spec


@_handles("Slice")
def _slice(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    x = inputs[0]
    if not _data(x) or x is None or x.dims is None:
        converter._not_counted(node, inputs, unusual=True)
        return
    dims = list(x.dims)
    for axis, start, end, step in _slice_spec(converter, node, inputs, len(dims)):
        dims[axis] = _slice_count(x.dims[axis], start, end, step)
    _select_row(converter, node, x, tuple(dims))


def _select_row(
    converter: _Converter,
    node: OnnxNode,
    x: _Value,
    dims: tuple[int, ...],
    *,
    index: int = 0,
    suffix: str = "",
    axes: tuple[int | None, int | None] | None = None,
) -> None:
    if not all(dims):
        raise _Refused(f"gives an empty tensor of shape {dims_text(dims)}")
    converter._shaped(node, lambda shape: Select(shape=shape), x, dims,
                      axes or (x.batch_axis, x.channel_axis), index=index,
                      suffix=suffix)  # fmt: skip


@_handles("Split")
def _split(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    x = inputs[0]
    assert x is not None
    assert x.dims is not None
    axis = _axis(converter.attr_int(node, "axis", 0), len(x.dims))
    if axis is None:
        raise _Refused(f"attribute axis is outside a tensor of rank {len(x.dims)}")
    size = x.dims[axis]
    count = len(node.outputs)
    if converter.opset < 13:
        parts = converter.attr_ints(node, "split", None)
    else:
        parts = converter._ints(node, inputs[1] if len(inputs) > 1 else None, "split",
                                optional=True)  # fmt: skip
    if not parts:
        count = converter.attr_int(node, "num_outputs", count) if converter.opset >= 18 else count
        if count < 1:
            raise _Refused("splits into no output")
        piece = -(-size // count)
        parts = tuple(min(piece, max(size - piece * i, 0)) for i in range(count))
    if len(parts) != len(node.outputs) or sum(parts) != size:
        raise _Refused(f"split {parts!r} does not cut {size} into {len(node.outputs)} parts")
    for index, part in enumerate(parts):
        if not node.outputs[index]:
            continue
        dims = (*x.dims[:axis], part, *x.dims[axis + 1 :])
        _select_row(converter, node, x, dims, index=index, suffix=f":{index}" if index else "")


@_handles("Gather")
def _gather(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    table, indices = [*inputs, None, None][:2]
    if table is None or indices is None or table.dims is None or indices.dims is None:
        converter._not_counted(node, inputs, unusual=True)
        return
    axis = _axis(converter.attr_int(node, "axis", 0), len(table.dims))
    if axis is None:
        raise _Refused(f"attribute axis is outside a tensor of rank {len(table.dims)}")
    dims = (*table.dims[:axis], *indices.dims, *table.dims[axis + 1 :])
    if table.is_data and not indices.is_data:
        if _numel(dims) <= _numel(table.dims):
            keeps = len(indices.dims) == 1  # the same axes; else they are renumbered
            _select_row(converter, node, table, dims, axes=None if keeps else default_axes(dims))
            return
        axes = None
    else:
        axes = (indices.batch_axis, None) if indices.is_data and axis == 0 else None
    weights = converter._params([table])
    source = table if table.is_data else indices
    converter._shaped(
        node,
        lambda shape: Operator(op_type="Gather", shape=shape, weights=weights, operands=2),
        source,
        dims,
        axes,
    )


@_handles("Pad")
def _pad(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    x = inputs[0]
    assert x is not None
    assert x.dims is not None
    rank = len(x.dims)
    mode = converter.attr_str(node, "mode", "constant")
    fill: float | None = 0.0
    if converter.opset < 11:
        pads = converter.attr_ints(node, "pads", None)
        fill = converter.attr_float(node, "value", 0.0)
        axes: tuple[int, ...] = tuple(range(rank))
    else:
        pads = converter._ints(node, inputs[1] if len(inputs) > 1 else None, "pads")
        value = inputs[2] if len(inputs) > 2 else None
        if value is not None:
            fill = (float(value.values[0]) if value.values is not None and len(value.values) == 1
                    and not value.is_data else None)  # fmt: skip
        given = converter._ints(node, inputs[3] if len(inputs) > 3 else None, "axes",
                                optional=True)  # fmt: skip
        axes = (
            tuple(range(rank))
            if given is None
            else tuple(a for a in (_axis(g, rank) for g in given) if a is not None)
        )
    if pads is None or len(pads) != 2 * len(axes):
        raise _Refused(f"pads {pads!r} do not give a pair for each of {len(axes)} axes")
    before = dict.fromkeys(range(rank), 0)
    after = dict.fromkeys(range(rank), 0)
    for i, axis in enumerate(axes):
        before[axis], after[axis] = pads[i], pads[i + len(axes)]
    dims = tuple(size + before[a] + after[a] for a, size in enumerate(x.dims))
    zero = (
        mode == "constant" and fill == 0.0 and rank >= 3 and x.dims[0] == 1
        and all(before[a] == after[a] == 0 for a in (0, 1))
        and all(pad >= 0 for pad in pads)
    )  # fmt: skip
    if zero:
        layer = ZeroPad(padding=_padding_pairs([(before[a], after[a]) for a in range(2, rank)]))
        converter._mapped(node, layer, x)
        return
    if not all(dims):
        raise _Refused(f"gives an empty tensor of shape {dims_text(dims)}")
    converter._shaped(node, lambda shape: Operator(op_type="Pad", shape=shape), x, dims,
                      (x.batch_axis, x.channel_axis))  # fmt: skip


@_handles("Resize", "Upsample")
def _resize(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    x = inputs[0]
    assert x is not None
    assert x.dims is not None
    rank = len(x.dims)
    mode = converter.attr_str(node, "mode", "nearest")
    scales: tuple[float, ...] | None = None
    sizes: tuple[int, ...] | None = None
    if node.op_type == "Upsample" and converter.opset < 9:
        floats = node.attributes.get("scales")
        if isinstance(floats, tuple) and all(isinstance(f, (int, float)) for f in floats):
            scales = tuple(float(f) for f in floats)  # type: ignore[arg-type]
    else:
        scale_index = 1 if node.op_type == "Upsample" or converter.opset < 11 else 2
        scale = inputs[scale_index] if len(inputs) > scale_index else None
        if scale is not None and scale.values is not None and not scale.is_data and scale.values:
            scales = tuple(float(f) for f in scale.values)
        size = inputs[3] if len(inputs) > 3 and node.op_type == "Resize" else None
        if size is not None and not size.is_data and size.values:
            sizes = converter._ints(node, size, "sizes")
    given_axes = converter.attr_ints(node, "axes", None) if converter.opset >= 18 else None
    axes = (
        tuple(range(rank))
        if given_axes is None
        else tuple(a for a in (_axis(g, rank) for g in given_axes) if a is not None)
    )
    if sizes is not None and len(sizes) == len(axes):
        resized = list(x.dims)
        for axis, value in zip(axes, sizes):
            resized[axis] = value
        dims = tuple(resized)
    elif scales is not None and len(scales) == len(axes):
        full_scales = [1.0] * rank
        for axis, factor in zip(axes, scales):
            full_scales[axis] = factor
        dims = tuple(math.floor(size * s) for size, s in zip(x.dims, full_scales))
    else:
        declared = converter._declared(node.outputs[0]) if node.outputs else None
        if declared is None:
            raise _Refused("its scales or sizes are computed at run time (give a model with "
                           "constant scales, or with its shapes)")  # fmt: skip
        dims = declared
    factors = [out / size for out, size in zip(dims, x.dims)]
    nearest = mode == "nearest" and rank >= 3 and x.dims[0] == 1 and factors[:2] == [1.0, 1.0]
    if nearest and all(f.is_integer() and f >= 1 for f in factors[2:]):
        layer = Upsample(scale_factor=compact([int(f) for f in factors[2:]]))
        converter._mapped(node, layer, x)
        return
    if not all(dims):
        raise _Refused(f"gives an empty tensor of shape {dims_text(dims)}")
    converter._shaped(node, lambda shape: Operator(op_type=node.op_type, shape=shape), x, dims,
                      (x.batch_axis, x.channel_axis))  # fmt: skip


@_handles("Expand", "Tile")
def _expand(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    x = inputs[0]
    if not _data(x) or x is None or x.dims is None:
        converter._not_counted(node, inputs, unusual=True)
        return
    amounts = converter._ints(node, inputs[1] if len(inputs) > 1 else None,
                              "shape" if node.op_type == "Expand" else "repeats")  # fmt: skip
    assert amounts is not None
    if node.op_type == "Expand":
        dims = _broadcast([x.dims, amounts])
        if dims is None:
            raise _Refused(f"cannot expand {dims_text(x.dims)} to {amounts!r}")
    else:
        if len(amounts) != len(x.dims):
            raise _Refused(f"repeats {amounts!r} for a tensor of rank {len(x.dims)}")
        dims = tuple(size * times for size, times in zip(x.dims, amounts))
    if not all(dims):
        raise _Refused(f"gives an empty tensor of shape {dims_text(dims)}")
    axes = (x.batch_axis, x.channel_axis) if len(dims) == len(x.dims) else None
    converter._shaped(node, lambda shape: Operator(op_type=node.op_type, shape=shape), x, dims,
                      axes)  # fmt: skip


@_handles("Shape", "Size")
def _shape_of(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> None:
    """The shape of a data tensor is a constant: convcost knows it (batch 1)."""
    converter._fold(node, inputs, True)


# --- constant folding ---------------------------------------------------------------------------

Folder: TypeAlias = Callable[[_Converter, OnnxNode, list[_Value | None]], list[_Value]]
_FOLDERS: dict[str, Folder] = {}


def _folds(*op_types: str) -> Callable[[Folder], Folder]:
    def register(folder: Folder) -> Folder:
        for op_type in op_types:
            _FOLDERS[op_type] = folder
        return folder

    return register


def _small(values: Sequence[Number] | None) -> tuple[Number, ...] | None:
    return None if values is None or len(values) > SMALL_TENSOR else tuple(values)


def _constant(dims: tuple[int, ...] | None, values: Sequence[Number] | None = None) -> _Value:
    return _Value(dims, node=None, values=_small(values))


def _first(inputs: Sequence[_Value | None]) -> _Value:
    value = inputs[0] if inputs else None
    if value is None:
        raise _Refused("has no input")
    return value


@_folds("Shape", "Size")
def _fold_shape(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> list[_Value]:
    x = _first(inputs)
    if x.dims is None:
        raise _Refused("shape unknown")
    if node.op_type == "Size":
        return [_constant((), (_numel(x.dims),))]
    rank = len(x.dims)
    start = converter.attr_int(node, "start", 0)
    end = converter.attr_int(node, "end", rank)
    start = min(max(start + rank if start < 0 else start, 0), rank)
    end = min(max(end + rank if end < 0 else end, 0), rank)
    values = x.dims[start:end]
    return [_constant((len(values),), values)]


@_folds("Identity", "Cast", "CastLike", "Dropout", "DequantizeLinear", "QuantizeLinear")
def _fold_same(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> list[_Value]:
    x = _first(inputs)
    values = x.values
    if node.op_type == "Cast" and values is not None:
        to = converter.attr_int(node, "to", 1)
        if to in (1, 10, 11, 16):
            values = tuple(float(v) for v in values)
        elif to in (2, 3, 4, 5, 6, 7, 12, 13):
            values = tuple(int(v) for v in values)
        elif to == 9:
            values = tuple(int(v != 0) for v in values)
        else:
            values = None
    elif node.op_type in ("DequantizeLinear", "QuantizeLinear"):
        values = None
    return [_Value(x.dims, node=None, values=values, weights=x.weights)]


@_folds("Gather")
def _fold_gather(
    converter: _Converter, node: OnnxNode, inputs: list[_Value | None]
) -> list[_Value]:
    table, indices = [*inputs, None, None][:2]
    if table is None or indices is None or table.dims is None or indices.dims is None:
        raise _Refused("unknown")
    axis = _axis(converter.attr_int(node, "axis", 0), len(table.dims))
    if axis is None:
        raise _Refused("axis")
    dims = (*table.dims[:axis], *indices.dims, *table.dims[axis + 1 :])
    values = None
    if len(table.dims) == 1 and table.values is not None and indices.values is not None:
        size = table.dims[0]
        picked = []
        for index in indices.values:
            i = int(index)
            i = i + size if i < 0 else i
            if not 0 <= i < size:
                raise _Refused("index out of range")
            picked.append(table.values[i])
        values = picked
    return [_constant(dims, values)]


@_folds("Unsqueeze", "Squeeze", "Reshape", "Flatten")
def _fold_reshape(
    converter: _Converter, node: OnnxNode, inputs: list[_Value | None]
) -> list[_Value]:
    x = _first(inputs)
    if x.dims is None:
        raise _Refused("unknown")
    rank = len(x.dims)
    if node.op_type == "Reshape":
        if converter.opset < 5:
            target = converter.attr_ints(node, "shape", None)
        else:
            target = converter._ints(node, inputs[1] if len(inputs) > 1 else None, "shape")
        assert target is not None
        dims = _reshape_dims(x.dims, target, bool(converter.attr_int(node, "allowzero", 0)))
    elif node.op_type == "Flatten":
        axis = _axis(converter.attr_int(node, "axis", 1), rank + 1)
        if axis is None:
            raise _Refused("axis")
        dims = (_numel(x.dims[:axis]), _numel(x.dims[axis:]))
    elif node.op_type == "Squeeze":
        axes = _listed_axes(converter, node, inputs, rank)
        if axes is None:
            axes = tuple(a for a, size in enumerate(x.dims) if size == 1)
        dims = tuple(size for a, size in enumerate(x.dims) if a not in axes)
    else:
        raw = _raw_axes(converter, node, inputs)
        axes = _listed_axes(converter, node, inputs, rank + len(raw))
        if axes is None:
            raise _Refused("axes")
        grown = list(x.dims)
        for axis in axes:
            grown.insert(axis, 1)
        dims = tuple(grown)
    return [_Value(dims, node=None, values=x.values, weights=x.weights)]


@_folds("Concat")
def _fold_concat(
    converter: _Converter, node: OnnxNode, inputs: list[_Value | None]
) -> list[_Value]:
    operands = [value for value in inputs if value is not None]
    if not operands or any(value.dims is None for value in operands):
        raise _Refused("unknown")
    rank = len(operands[0].dims or ())
    axis = _axis(converter.attr_int(node, "axis", 0), rank)
    if axis is None:
        raise _Refused("axis")
    first = operands[0].dims or ()
    total = sum((value.dims or ())[axis] for value in operands)
    dims = (*first[:axis], total, *first[axis + 1 :])
    values: list[Number] | None = []
    for value in operands:
        if value.values is None or values is None or rank != 1:
            values = None
        else:
            values.extend(value.values)
    return [_constant(dims, values)]


@_folds("Slice")
def _fold_slice(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> list[_Value]:
    x = _first(inputs)
    if x.dims is None:
        raise _Refused("unknown")
    dims = list(x.dims)
    spec = _slice_spec(converter, node, inputs, len(dims))
    for axis, start, end, step in spec:
        dims[axis] = _slice_count(x.dims[axis], start, end, step)
    values = None
    if len(x.dims) == 1 and x.values is not None and spec:
        ((_, start, end, step),) = spec
        size = x.dims[0]
        # Python's slice with ONNX's clamping: the same elements for any start, end, step.
        start = max(start, -size - 1) if step < 0 else start
        values = list(x.values[slice(max(min(start, size), -size - 1),
                                     max(min(end, size), -size - 1), step)])  # fmt: skip
        if len(values) != dims[0]:
            values = None
    return [_constant(tuple(dims), values)]


def _arithmetic(op: str, a: Number, b: Number) -> Number:
    if op == "Add":
        return a + b
    if op == "Sub":
        return a - b
    if op == "Mul":
        return a * b
    if op == "Div":
        if isinstance(a, int) and isinstance(b, int):
            quotient = abs(a) // abs(b)  # C's integer division: towards zero
            return quotient if (a >= 0) == (b >= 0) else -quotient
        return a / b
    if op == "Max":
        return max(a, b)
    if op == "Min":
        return min(a, b)
    if op == "Mod":
        return a % b
    if op == "Equal":
        return int(a == b)
    if op == "Less":
        return int(a < b)
    if op == "Greater":
        return int(a > b)
    raise _Refused(op)


@_folds("Add", "Sub", "Mul", "Div", "Max", "Min", "Mod", "Equal", "Less", "Greater")
def _fold_binary(
    converter: _Converter, node: OnnxNode, inputs: list[_Value | None]
) -> list[_Value]:
    operands = [value for value in inputs if value is not None]
    if len(operands) != 2 or any(value.dims is None for value in operands):
        raise _Refused("unknown")
    a, b = operands
    dims = _broadcast([a.dims or (), b.dims or ()])
    if dims is None:
        raise _Refused("broadcast")
    values = None
    if a.values is not None and b.values is not None and len(dims) <= 1:
        count = _numel(dims)
        left = a.values if len(a.values) == count else a.values * count
        right = b.values if len(b.values) == count else b.values * count
        if len(left) == len(right) == count:
            values = [_arithmetic(node.op_type, x, y) for x, y in zip(left, right)]
    return [_constant(dims, values)]


@_folds("Neg", "Abs", "Floor", "Ceil", "Sqrt", "Relu", "Sigmoid", "Exp", "Erf", "Not",
        "Reciprocal", "Round", "Sign", "Tanh", "Transpose")  # fmt: skip
def _fold_unary(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> list[_Value]:
    x = _first(inputs)
    if x.dims is None:
        raise _Refused("unknown")
    dims = x.dims
    values: list[Number] | None = None
    if node.op_type == "Transpose":
        perm = converter.attr_ints(node, "perm", tuple(reversed(range(len(dims)))))
        assert perm is not None
        if sorted(perm) != list(range(len(dims))):
            raise _Refused("perm")
        dims = tuple(x.dims[axis] for axis in perm)
        values = list(x.values) if x.values is not None and len(dims) <= 1 else None
    elif x.values is not None:
        functions: dict[str, Callable[[Number], Number]] = {
            "Neg": lambda v: -v, "Abs": abs, "Floor": math.floor, "Ceil": math.ceil,
            "Sqrt": math.sqrt, "Relu": lambda v: max(v, 0), "Not": lambda v: int(not v),
        }  # fmt: skip
        function = functions.get(node.op_type)
        if function is not None:
            values = [function(v) for v in x.values]
    return [_Value(dims, node=None, values=_small(values), weights=x.weights)]


@_folds("ConstantOfShape")
def _fold_fill(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> list[_Value]:
    dims = converter._ints(node, _first(inputs), "shape")
    assert dims is not None
    if any(d < 0 for d in dims):
        raise _Refused("negative")
    fill = node.attributes.get("value")
    number: Number = 0.0
    if isinstance(fill, Tensor) and fill.values:
        number = fill.values[0]
    count = _numel(dims)
    return [_constant(dims, [number] * count if count <= SMALL_TENSOR else None)]


@_folds("Range")
def _fold_range(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> list[_Value]:
    numbers = []
    for value in inputs[:3]:
        if value is None or value.values is None or len(value.values) != 1:
            raise _Refused("unknown")
        numbers.append(value.values[0])
    start, limit, delta = numbers
    if delta == 0:
        raise _Refused("delta 0")
    count = max(math.ceil((limit - start) / delta), 0)
    values = [start + i * delta for i in range(count)] if count <= SMALL_TENSOR else None
    return [_constant((count,), values)]


@_folds("Expand")
def _fold_expand(
    converter: _Converter, node: OnnxNode, inputs: list[_Value | None]
) -> list[_Value]:
    x = _first(inputs)
    shape = converter._ints(node, inputs[1] if len(inputs) > 1 else None, "shape")
    if x.dims is None or shape is None:
        raise _Refused("unknown")
    dims = _broadcast([x.dims, shape])
    if dims is None:
        raise _Refused("broadcast")
    values = None
    if x.values is not None and len(x.values) == 1 and _numel(dims) <= SMALL_TENSOR:
        values = list(x.values) * _numel(dims)
    return [_Value(dims, node=None, values=_small(values), weights=x.weights)]


@_folds("Where")
def _fold_where(converter: _Converter, node: OnnxNode, inputs: list[_Value | None]) -> list[_Value]:
    operands = [value for value in inputs if value is not None]
    if len(operands) != 3 or any(value.dims is None for value in operands):
        raise _Refused("unknown")
    dims = _broadcast([value.dims or () for value in operands])
    if dims is None:
        raise _Refused("broadcast")
    values = None
    count = _numel(dims)
    if len(dims) <= 1 and all(v.values is not None for v in operands):
        spread = [
            v.values
            if v.values is not None and len(v.values) == count
            else (v.values or ()) * count
            for v in operands
        ]
        if all(len(s) == count for s in spread):
            values = [x if c else y for c, x, y in zip(*spread)]
    return [_constant(dims, values)]
