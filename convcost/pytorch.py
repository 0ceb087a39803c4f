"""Networks from PyTorch modules: ``from_torch(model, Shape(3, (224, 224)))`` is a `Network`.

The optional extra ``convcost[torch]``: torch is imported by the functions that need it,
never by ``import convcost.pytorch``. The module is read without running it on data:

* it is copied onto PyTorch's ``meta`` device (a tensor of shapes and no storage: the copy
  allocates no weight memory, and the caller's module is never changed), put in eval mode,
  traced with ``torch.fx.symbolic_trace`` and run on a ``meta`` input, which gives every
  intermediate tensor's shape and computes nothing;
* each call in the traced graph becomes a row, in order: a module or function convcost has a
  layer for becomes that layer (``nn.Conv2d`` a `Conv`, so that ``convcost compare`` rewrites
  it; ``nn.BatchNorm2d`` a `BatchNorm`, its running statistics non-trainable parameters);
  reshapes and selections become `Reshape` and `Select` rows, normalisations, element-wise
  arithmetic and matrix products `Operator` rows stating their shape; anything else a
  `NotCounted` row, flagged (``strict=True`` refuses it instead). docs/pytorch.md has the
  table;
* rows keep PyTorch's names: a module call is its qualified name (``layer1.0.conv1``), a
  function call inside a module is the module's name and the function's
  (``layer1.0.add``), or the module's alone when it is the module's one row (torchvision's
  ``Permute``); a module called again is a row per call named as convcost names repeats
  (``layer1.0.relu_1``), sharing the first call's weights (`shares`);
* parameters are counted once, at the first row reading them, so the totals are
  ``sum(p.numel() for p in module.parameters())`` for every parameter the forward reads
  (ConvNeXt's ``layer_scale``, held by no leaf module, is the parameter of the ``mul`` row
  that reads it); buffers are non-trainable parameters, except BatchNorm's
  ``num_batches_tracked``, a step counter, which is not counted.

`load_factory` imports a Python file and calls a function in it that builds the module: the
user's own code, run as ``python model.py`` would run it (``uvicorn app:app`` does the same).
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import math
import operator
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any, Final, TypeAlias

from convcost.checks import suggest
from convcost.costs import LayerCost, join_cost, layer_cost
from convcost.errors import ConvCostError, FieldError, ModelFileError, show
from convcost.files import source_name
from convcost.layers import (
    Activation,
    AdaptiveAvgPool,
    AdaptiveMaxPool,
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
from convcost.network import Network, group_stages
from convcost.shapes import (
    Padding,
    Shape,
    compact,
    default_axes,
    dims_text,
    parse_shape,
)

__all__ = ["TORCH_EXTRA", "from_torch", "load_factory"]

TORCH_EXTRA: Final = "pip install convcost[torch]"
_INPUT: Final = "input"  # the network input's name in convcost (network.INPUT_NAME)
_SHOWN_ROWS: Final = 3  # flagged rows named by a strict refusal


def _torch() -> ModuleType:
    """PyTorch, or a `ConvCostError` saying how to install it."""
    try:
        import torch
    except ImportError:
        raise ConvCostError(f"reading a PyTorch module needs PyTorch: {TORCH_EXTRA}") from None
    return torch


def _first_line(error: BaseException) -> str:
    """An exception as one short line: its type and the first line of its message."""
    lines = str(error).strip().splitlines()
    text = lines[0].strip() if lines else ""
    if len(text) > 200:
        text = text[:197] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# --- the factory of a model file ------------------------------------------------------------


def load_factory(spec: str) -> Any:
    """The module built by ``FILE.py:FACTORY``: imports the file and calls ``FACTORY()``.

    This runs the user's own code, with the user's rights, as ``python FILE.py`` would (and as
    ``uvicorn app:app`` imports an application): point it only at code you would run. The
    file's folder is first on ``sys.path`` while it is imported and the factory runs, so the
    file may import its neighbours. Every problem (no such file, no such function, a factory
    that raises or returns something other than a ``torch.nn.Module``) is a
    `ModelFileError` of one line.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise FieldError("spec", spec, "FILE.py:FACTORY, e.g. model.py:build")
    file_name, colon, factory_name = spec.rpartition(":")
    if not colon or not file_name:
        raise ModelFileError(
            source_name(spec), "name the function that builds the model: FILE.py:FACTORY"
        )
    where = source_name(file_name)
    if not factory_name.isidentifier():
        raise ModelFileError(
            where, f"{show(factory_name)} is not a Python name; write FILE.py:FACTORY"
        )
    path = Path(file_name)
    if path.suffix != ".py":
        raise ModelFileError(where, "a model factory lives in a Python file (.py)")
    if not path.is_file():
        raise ModelFileError(where, "no such file" if not path.exists() else "not a file")
    torch = _torch()
    module = _import_file(path, where)
    factory = getattr(module, factory_name, None)
    if factory is None:
        names = [
            name
            for name, value in vars(module).items()
            if callable(value) and not name.startswith("_")
        ]
        raise ModelFileError(where, f"has no {factory_name!r}{suggest(factory_name, names)}")
    if not callable(factory):
        raise ModelFileError(where, f"{factory_name} is not callable ({type(factory).__name__})")
    with _on_path(path.resolve().parent):
        try:
            model = factory()
        except (Exception, SystemExit) as error:  # the user's code: any error is theirs
            raise ModelFileError(where, f"{factory_name}() raised {_first_line(error)}") from None
    if not isinstance(model, torch.nn.Module):
        raise ModelFileError(
            where, f"{factory_name}() returned {type(model).__name__}, not a torch.nn.Module"
        )
    return model


_imported: dict[Path, int] = {}  # how many times each file was imported, for unique names


def _import_file(path: Path, where: str) -> ModuleType:
    resolved = path.resolve()
    count = _imported[resolved] = _imported.get(resolved, 0) + 1
    stem = "".join(c if c.isalnum() else "_" for c in resolved.stem)
    name = f"_convcost_model_{stem}_{abs(hash(resolved)):x}_{count}"
    spec = importlib.util.spec_from_file_location(name, resolved)
    if spec is None or spec.loader is None:
        raise ModelFileError(where, "cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look their module up here
    with _on_path(resolved.parent):
        try:
            spec.loader.exec_module(module)
        except (Exception, SystemExit) as error:  # the user's code: any error is theirs
            del sys.modules[name]
            raise ModelFileError(where, f"importing it raised {_first_line(error)}") from None
    return module


class _on_path:
    """The folder `folder` first on ``sys.path`` for the duration of a ``with``."""

    def __init__(self, folder: Path) -> None:
        self.folder = str(folder)

    def __enter__(self) -> None:
        sys.path.insert(0, self.folder)

    def __exit__(self, *_: object) -> None:
        with contextlib.suppress(ValueError):  # the user's code removed it already
            sys.path.remove(self.folder)


# --- from a module to a network --------------------------------------------------------------


def from_torch(module: Any, input_shape: Shape | str, *, strict: bool = False) -> Network:
    """The network of a ``torch.nn.Module`` applied to one sample of `input_shape`.

    `input_shape` is one sample, no batch axis: ``Shape(3, (224, 224))`` or ``"3x224x224"``.
    The module is copied onto the ``meta`` device (no weight memory; the module passed in is
    not changed), traced by ``torch.fx`` in eval mode and run on a ``meta`` tensor of batch
    1 for the shapes. With `strict`, a call convcost does not know is an error instead of a
    row flagged "not counted". A module ``torch.fx`` cannot trace (Python control flow on
    tensor values) is a `ModelFileError` naming torch's error.
    """
    torch = _torch()
    if isinstance(input_shape, str):
        input_shape = parse_shape(input_shape)
    if not isinstance(input_shape, Shape):
        raise FieldError(
            "input_shape", input_shape, "a Shape (see parse_shape) or text such as '3x224x224'"
        )
    if not isinstance(module, torch.nn.Module):
        raise FieldError("module", module, "a torch.nn.Module")
    if not isinstance(strict, bool):
        raise FieldError("strict", strict, "True or False")
    where = f"torch module {type(module).__name__}"
    copied = _meta_copy(torch, module, where)
    graph = _trace(torch, copied, where)
    results = _propagate(torch, graph, input_shape, where)
    converter = _Converter(torch, graph, results, where, type(module).__name__)
    return converter.network(strict=strict)


def _meta_copy(torch: Any, module: Any, where: str) -> Any:
    """A deep copy of `module` in eval mode whose parameters and buffers are on ``meta``:
    the memo hands `copy.deepcopy` an empty meta tensor for each, so no weight is copied."""
    memo: dict[int, Any] = {}
    uninitialized = torch.nn.parameter.UninitializedTensorMixin
    for tensor in (*module.parameters(), *module.buffers()):
        if isinstance(tensor, uninitialized):
            raise ModelFileError(
                where, "holds lazy modules not yet initialised: run it once on an input first"
            )
        meta = torch.empty_like(tensor, device="meta")
        if isinstance(tensor, torch.nn.Parameter):
            meta = torch.nn.Parameter(meta, requires_grad=tensor.requires_grad)
        memo[id(tensor)] = meta
    try:
        copied = copy.deepcopy(module, memo)
    except Exception as error:  # any object a module may hold can refuse to be copied
        raise ModelFileError(where, f"cannot be copied to trace it: {_first_line(error)}") from None
    return copied.eval()


def _trace(torch: Any, module: Any, where: str) -> Any:
    try:
        return torch.fx.symbolic_trace(module)
    except Exception as error:  # fx raises TraceError, TypeError, NotImplementedError, ...
        raise ModelFileError(
            where,
            f"torch.fx cannot trace it ({_first_line(error)}); convcost reads modules that "
            "torch.fx traces (no Python control flow on tensor values): export it to ONNX and "
            "read the .onnx file instead",
        ) from None


def _propagate(torch: Any, graph: Any, shape: Shape, where: str) -> dict[Any, Any]:
    """Every node's value when the traced module runs on a meta tensor of `shape`."""
    placeholders = [node for node in graph.graph.nodes if node.op == "placeholder"]
    required = [node for node in placeholders if not node.args]
    if len(required) > 1:
        raise ModelFileError(
            where,
            f"its forward takes {len(required)} inputs "
            f"({', '.join(node.target for node in required)}); convcost counts networks of "
            "one input",
        )
    results: dict[Any, Any] = {}

    class Recorder(torch.fx.Interpreter):  # type: ignore[misc]
        def run_node(self, node: Any) -> Any:
            try:
                result = super().run_node(node)
            except Exception as error:  # whatever torch raises on these shapes
                raise _Failed(node, error) from None
            results[node] = result
            return result

        def fetch_attr(self, target: str) -> Any:
            value = super().fetch_attr(target)
            if isinstance(value, torch.Tensor) and not value.is_meta:  # a constant in forward
                return torch.empty_like(value, device="meta")
            return value

    floats = [t.dtype for t in (*graph.parameters(), *graph.buffers()) if t.is_floating_point()]
    dtype = floats[0] if floats else torch.get_default_dtype()  # a half-precision model
    sample = torch.empty(1, shape.channels, *shape.spatial, device="meta", dtype=dtype)
    try:
        with torch.no_grad(), torch.device("meta"):
            Recorder(graph, garbage_collect_values=False).run(sample)
    except _Failed as failed:
        raise ModelFileError(
            where,
            f"on input {shape}, {_node_label(graph, failed.node)} fails: "
            f"{_first_line(failed.error)}",
        ) from None
    except Exception as error:  # the interpreter's own checks (the inputs it is given)
        raise ModelFileError(where, f"on input {shape}: {_first_line(error)}") from None
    return results


class _Failed(Exception):
    """A node that failed on the meta input."""

    def __init__(self, node: Any, error: BaseException) -> None:
        super().__init__(str(error))
        self.node = node
        self.error = error


def _node_label(graph: Any, node: Any) -> str:
    if node.op == "call_module":
        return f"{node.target} ({type(graph.get_submodule(node.target)).__name__})"
    if node.op == "call_method":
        return f"{node.name} (.{node.target}())"
    if node.op == "call_function":
        return f"{node.name} ({getattr(node.target, '__name__', node.target)})"
    return str(node.name)


# --- values ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Data:
    """A tensor that depends on the input: the row giving it, its dims (batch included)
    and which of its axes are the batch and the channels (the channels move with a
    permute: after ConvNeXt's ``permute(0, 2, 3, 1)`` they are the last axis)."""

    row: str
    dims: tuple[int, ...]
    batch: int | None
    channel: int | None

    @property
    def view(self) -> Shape:
        return _view(self.dims, self.batch, self.channel)


@dataclass(frozen=True, slots=True)
class _Const:
    """A value that does not depend on the input (a size, a parameter, a tensor computed
    from parameters): `raw` is the value, `tensors` the parameters and buffers it reads."""

    raw: Any
    tensors: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class _Pack:
    """A tuple or list of results of one call on data: a row per item read.

    `kind` ``select``: pieces of `source` (``chunk``, ``split``), each a `Select` row.
    Otherwise `source` is the call's row, giving its first tensor, and each further output
    read is a row of its own: flagged "not counted" as the call is (``flagged``), or an
    `Operator` of no MACs (``known``: the indices of max pooling).
    """

    node: Any
    raw: tuple[Any, ...]
    path: tuple[int, ...]
    source: _Data
    kind: str
    op_type: str = ""


Value: TypeAlias = _Data | _Const | _Pack


def _view(dims: tuple[int, ...], batch: int | None, channel: int | None) -> Shape:
    """One sample of a tensor as a convcost `Shape`: the batch axis dropped, the channels
    first, the other axes in order (more than three of them: the leading ones merged)."""
    sizes = [size for axis, size in enumerate(dims) if axis != batch]
    if not sizes or 0 in sizes:
        return Shape(1) if not sizes else Shape(max(sizes[0], 1))
    index = 0
    if channel is not None and channel != batch:
        index = channel - (1 if batch is not None and batch < channel else 0)
    channels = sizes.pop(index)
    while len(sizes) > MAX_SPATIAL_DIMS:
        sizes[:2] = [sizes[0] * sizes[1]]
    return Shape(channels, tuple(sizes))


def _standard(dims: tuple[int, ...]) -> Shape:
    """The view an NCHW layer (a convolution, pooling, BatchNorm) reads its input in."""
    return _view(dims, *default_axes(dims))


def _per_axis(value: Any, ndim: int) -> tuple[int, ...]:
    """A torch hyper-parameter (an int or a sequence) as one int per spatial axis."""
    if isinstance(value, (tuple, list)):
        values = tuple(int(item) for item in value)
        return values * ndim if len(values) == 1 else values
    return (int(value),) * ndim


def _flat(value: object) -> Iterator[object]:
    """The leaves of nested tuples, lists and dicts."""
    if isinstance(value, (tuple, list)):
        for item in value:
            yield from _flat(item)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _flat(item)
    else:
        yield value


# --- rows ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    """A row being built: its layer (named by its id, reading ids), the node it comes from,
    and what it reads."""

    layer: Layer
    node: Any
    cost: LayerCost
    suffix: str = ""  # ":1" for a further output, "/layout" for a row giving a layout
    tensors: frozenset[int] = frozenset()


@dataclass(slots=True)
class _Call:
    """One call of the traced graph on data: its target, arguments and result."""

    node: Any
    op: str  # the call's name: the function's or method's, or the module's class
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    result: Any
    module: Any = None

    def get(self, index: int, name: str, default: Any = None) -> Any:
        """Argument `index` (or `name`), as given: a `Value` or a plain Python value."""
        if index < len(self.args):
            return self.args[index]
        return self.kwargs.get(name, default)

    def raw(self, index: int, name: str, default: Any = None) -> Any:
        """Argument `index` (or `name`) as a plain value (a constant's value)."""
        value = self.get(index, name, default)
        return value.raw if isinstance(value, _Const) else value


Handler: TypeAlias = Callable[["_Converter", _Call], None]


@dataclass
class _Converter:
    """The conversion of one traced module: its rows, in order, and what each node gives."""

    torch: Any
    graph: Any
    results: dict[Any, Any]
    where: str
    name: str
    values: dict[Any, Value | tuple[Value, ...]] = field(default_factory=dict)
    rows: list[_Row] = field(default_factory=list)
    views: dict[str, Shape] = field(default_factory=dict)  # row id -> its output's view
    counted: set[int] = field(default_factory=set)  # tensors whose elements are counted
    owners: dict[tuple[frozenset[int], type], str] = field(default_factory=dict)
    tensors: dict[int, tuple[int, bool]] = field(default_factory=dict)  # id -> numel, buffer
    ids: set[str] = field(default_factory=set)
    items: dict[tuple[Any, tuple[int, ...]], Value] = field(default_factory=dict)
    registry: _Registry = field(default_factory=lambda: _Registry())

    # -- the whole graph -----------------------------------------------------------------

    def network(self, *, strict: bool) -> Network:
        self.registry = _registry(self.torch)
        _torchvision(self.registry)
        self._inventory()
        outputs: list[str] = []
        for node in self.graph.graph.nodes:
            if node.op == "output":
                outputs = self._outputs(node)
                continue
            try:
                self._node(node)
            except ModelFileError:
                raise
            except ConvCostError as error:
                raise ModelFileError(
                    self.where, f"{_node_label(self.graph, node)}: {error}"
                ) from None
            if len(self.rows) > MAX_LAYERS:
                raise ModelFileError(
                    self.where, f"more than {MAX_LAYERS:,} layers: convcost reads at most that"
                )
        if not self.rows:
            raise ModelFileError(self.where, "no call of its forward reads the input")
        if not outputs:
            raise ModelFileError(self.where, "no output of its forward depends on the input")
        if strict:
            self._refuse_not_counted()
        return self._assemble(outputs)

    def _inventory(self) -> None:
        """Every parameter and buffer: its elements, and whether it is non-trainable."""
        norm_base = self.torch.nn.modules.batchnorm._NormBase
        steps = {
            id(module.num_batches_tracked)
            for module in self.graph.modules()
            if isinstance(module, norm_base) and module.num_batches_tracked is not None
        }
        for parameter in self.graph.parameters():
            self.tensors[id(parameter)] = (parameter.numel(), False)
        for buffer in self.graph.buffers():
            if id(buffer) not in steps:  # BatchNorm's step counter is no parameter
                self.tensors.setdefault(id(buffer), (buffer.numel(), True))

    def _outputs(self, node: Any) -> list[str]:
        outputs: list[str] = []
        for value in _flat(self._resolve(node.args[0])):
            for data in self._expand(value):
                if data.row not in outputs:
                    outputs.append(data.row)
        return outputs

    def _node(self, node: Any) -> None:
        torch = self.torch
        result = self.results.get(node)
        if node.op == "placeholder":
            if node.args or not isinstance(result, torch.Tensor):  # an optional argument
                self.values[node] = _Const(result)
                return
            dims = tuple(int(size) for size in result.shape)
            self.views[_INPUT] = _view(dims, 0, 1)
            self.values[node] = _Data(_INPUT, dims, 0, 1)
            return
        if node.op == "get_attr":
            self.values[node] = _Const(result, frozenset({id(result)}) & self.tensors.keys())
            return
        args = tuple(self._resolve(arg) for arg in node.args)
        kwargs = {key: self._resolve(value) for key, value in node.kwargs.items()}
        operands = [*_flat(args), *_flat(kwargs)]
        module = self.graph.get_submodule(node.target) if node.op == "call_module" else None
        if not any(isinstance(value, (_Data, _Pack)) for value in operands):
            tensors: frozenset[int] = frozenset()
            for value in operands:
                if isinstance(value, _Const):
                    tensors |= value.tensors
            if module is not None:
                tensors |= self.module_tensors(module)
            self.values[node] = _Const(result, tensors)  # computed from constants: no row
            return
        if not any(isinstance(item, torch.Tensor) for item in _flat(result)):
            self.values[node] = _Const(result)  # a size, a rank, a shape: no row
            return
        call = _Call(
            node=node,
            op=_op_name(node, module),
            args=args,
            kwargs=kwargs,
            result=result,
            module=module,
        )
        handler = self.registry.handler(node, module)
        rows, counted, owners, items = (len(self.rows), set(self.counted), dict(self.owners),
                                        dict(self.items))  # fmt: skip
        try:
            handler(self, call)
        except ModelFileError:
            raise
        except Exception:  # a call in a form its handler does not read: flagged, not fatal
            if handler is _unknown:
                raise
            del self.rows[rows:]
            self.counted, self.owners, self.items = counted, owners, items
            _unknown(self, call)

    def _resolve(self, arg: Any) -> Any:
        """An argument with each node replaced by its value (tuples and lists as tuples)."""
        if isinstance(arg, self.torch.fx.Node):
            return self.values[arg]
        if isinstance(arg, (tuple, list)):
            return tuple(self._resolve(item) for item in arg)
        if isinstance(arg, Mapping):
            return {key: self._resolve(value) for key, value in arg.items()}
        if isinstance(arg, slice):
            return slice(*(_raw(self._resolve(part)) for part in (arg.start, arg.stop, arg.step)))
        return arg

    # -- rows ------------------------------------------------------------------------------

    def data(self, call: _Call) -> list[_Data]:
        """The data operands of `call`, in order (the items of a tuple included)."""
        return [
            data
            for value in (*_flat(call.args), *_flat(call.kwargs))
            for data in self._expand(value)
        ]

    def constants(self, call: _Call) -> frozenset[int]:
        """The parameters and buffers `call` reads through its constant operands."""
        tensors: frozenset[int] = frozenset()
        for value in (*_flat(call.args), *_flat(call.kwargs)):
            if isinstance(value, _Const):
                tensors |= value.tensors
        if call.module is not None:
            tensors |= self.module_tensors(call.module)
        return tensors

    def module_tensors(self, module: Any) -> frozenset[int]:
        """The parameters and buffers a module holds (num_batches_tracked left out)."""
        ids = {id(t) for t in (*module.parameters(), *module.buffers())}
        return frozenset(ids & self.tensors.keys())

    def _expand(self, value: object) -> list[_Data]:
        if isinstance(value, _Data):
            return [value]
        if isinstance(value, _Pack):
            return [
                data
                for index in range(len(value.raw))
                for data in self._expand(self.item(value, index))
            ]
        return []

    def _id(self, node: Any, suffix: str) -> str:
        row_id = str(node.name) + suffix
        while row_id in self.ids or row_id == _INPUT:
            row_id += "'"
        self.ids.add(row_id)
        return row_id

    def row(
        self,
        call: _Call,
        layer: Layer,
        sources: Sequence[str],
        *,
        result: Any = None,
        axes: tuple[int | None, int | None] | None = None,
        tensors: frozenset[int] = frozenset(),
        bias: frozenset[int] = frozenset(),
        suffix: str = "",
        keep: bool = True,
    ) -> _Data:
        """Add a row for `call` giving `result` (by default the call's) and return it.

        `axes` are the batch and channel axes of the result (by default the leading axis
        of 1 and the next); `tensors` the parameters and buffers the row reads, of which
        `bias` are added to each output element. With `keep`, the row's result is the
        value of the call's node.
        """
        output = call.result if result is None else result
        if not isinstance(output, self.torch.Tensor):
            raise ModelFileError(
                self.where, f"{_node_label(self.graph, call.node)} gives no single tensor"
            )
        dims = tuple(int(size) for size in output.shape)
        data = _Data("", dims, *(axes if axes is not None else default_axes(dims)))
        row_id = self._id(call.node, suffix)
        inputs = tuple(self.views[source] for source in sources)
        layer = self._with_tensors(layer, inputs[0], tensors, bias, row_id)
        layer = replace(layer, name=row_id, inputs=tuple(sources))
        if isinstance(layer, (Add, Multiply, Concat)):
            cost = join_cost(layer, inputs)
        else:
            cost = layer_cost(layer, inputs[0])
        if cost.output_shape != data.view:
            raise ModelFileError(
                self.where,
                f"{_node_label(self.graph, call.node)}: convcost computes {cost.output_shape} "
                f"where torch gives {dims_text(dims)} (a convcost bug: please report it)",
            )
        self.rows.append(
            _Row(layer=layer, node=call.node, cost=cost, suffix=suffix, tensors=tensors)
        )
        self.views[row_id] = data.view
        data = replace(data, row=row_id)
        if keep:
            self.values[call.node] = data
        return data

    def _with_tensors(
        self, layer: Layer, x: Shape, tensors: frozenset[int], bias: frozenset[int], row_id: str
    ) -> Layer:
        """`layer` reading `tensors`: counted here if first read, else shared or not counted.

        A layer with a family (a convolution, a dense layer, BatchNorm) counts its own
        parameters from its hyper-parameters: they must be the tensors' elements, or the
        row becomes an `Operator` of the same multiply-accumulates counting the tensors.
        """
        new = tensors - self.counted
        self.counted |= tensors
        trainable = sum(self.tensors[t][0] for t in new if not self.tensors[t][1])
        statistics = sum(self.tensors[t][0] for t in new if self.tensors[t][1])
        biases = sum(self.tensors[t][0] for t in new & bias if not self.tensors[t][1])
        if isinstance(layer, NotCounted):
            return replace(layer, params=trainable)  # its buffers: see docs/pytorch.md
        if isinstance(layer, Operator):
            return replace(
                layer, weights=trainable - biases, bias=biases, non_trainable_params=statistics
            )
        if not isinstance(layer, _FAMILIES):
            return layer
        key = (tensors, type(layer))
        if new == tensors:
            own = layer_cost(layer, x)
            if (own.params, own.non_trainable_params) == (trainable, statistics):
                self.owners.setdefault(key, row_id)
                return layer
        elif not new and key in self.owners:
            return replace(layer, shares=self.owners[key])
        return _as_operator(layer, x, trainable - biases, biases, statistics)

    def nchw(self, call: _Call, data: _Data) -> str:
        """The row giving `data` in the view an NCHW layer reads (a layout row if needed)."""
        return self.in_view(call, data, _standard(data.dims))

    def in_view(self, call: _Call, data: _Data, view: Shape) -> str:
        """The row giving `data` in `view` (a layout row when its own view differs)."""
        if data.view == view:
            return data.row
        row_id = self._id(call.node, "/layout")
        layer = Reshape(name=row_id, inputs=(data.row,), shape=_sizes(view))
        cost = layer_cost(layer, self.views[data.row])
        self.rows.append(_Row(layer=layer, node=call.node, cost=cost, suffix="/layout"))
        self.views[row_id] = cost.output_shape
        return row_id

    def item(self, pack: _Pack, index: int) -> Value:
        """Item `index` of a pack: a row (made when first read), a pack, or a constant."""
        raw = pack.raw[index]
        path = (*pack.path, index)
        key = (pack.node, path)
        cached = self.items.get(key)
        if cached is not None:
            return cached
        value: Value
        if isinstance(raw, (tuple, list)):
            value = _Pack(pack.node, tuple(raw), path, pack.source, pack.kind, pack.op_type)
        elif not isinstance(raw, self.torch.Tensor):
            value = _Const(raw)
        else:
            call = _Call(
                node=pack.node,
                op=pack.op_type,
                args=(pack.source,),
                kwargs={},
                result=raw,
            )
            suffix = "" if not any(path) else ":" + ".".join(map(str, path))
            shape = _sizes(_standard(tuple(int(size) for size in raw.shape)))
            if pack.kind == "select":
                source, dims = pack.source, tuple(int(size) for size in raw.shape)
                axes = (source.batch, source.channel) if len(dims) == len(source.dims) else None
                view = _view(dims, *axes) if axes is not None else _standard(dims)
                layer: Layer = Select(shape=_sizes(view))
                if view.numel > source.view.numel:
                    layer = Operator(op_type="Gather", shape=_sizes(view))
                value = self.row(call, layer, (source.row,), axes=axes, suffix=suffix, keep=False)
            elif not any(path):
                value = pack.source  # the first output is the call's row itself
            else:
                layer = Operator(op_type=pack.op_type, shape=shape)
                if pack.kind == "flagged":
                    layer = NotCounted(op_type=pack.op_type, shape=shape)
                value = self.row(call, layer, (pack.source.row,), suffix=suffix, keep=False)
        self.items[key] = value
        return value

    # -- strictness and assembly -----------------------------------------------------------

    def _refuse_not_counted(self) -> None:
        labels = list(
            dict.fromkeys(
                _node_label(self.graph, row.node)
                for row in self.rows
                if isinstance(row.layer, NotCounted)
            )
        )
        if not labels:
            return
        shown = ", ".join(labels[:_SHOWN_ROWS])
        more = f" and {len(labels) - _SHOWN_ROWS} more" if len(labels) > _SHOWN_ROWS else ""
        raise ModelFileError(
            self.where,
            f"{len(labels)} call(s) convcost does not count: {shown}{more} (without strict, "
            "each is a row flagged 'not counted')",
        )

    def _assemble(self, outputs: list[str]) -> Network:
        names = _Names(self.rows)
        final = names.final
        try:
            layers: list[Layer] = [
                replace(
                    row.layer,
                    name=final[row.layer.name or ""],
                    inputs=tuple(final.get(ref, ref) for ref in row.layer.inputs),
                    shares=final.get(row.layer.shares or "", row.layer.shares),
                )
                for row in self.rows
            ]
            return Network(
                input_shape=self.views[_INPUT],
                layers=group_stages(
                    layers, [names.groups[row.layer.name or ""] for row in self.rows]
                ),
                name=self.name,
                outputs=tuple(final.get(ref, ref) for ref in outputs),
                naming="flat",
            )
        except ConvCostError as error:
            raise ModelFileError(self.where, str(error)) from None


def _sizes(shape: Shape) -> tuple[int, ...]:
    return (shape.channels, *shape.spatial)


def _op_name(node: Any, module: Any) -> str:
    """A call's name: a module's class, a function's name, a method's name (no trailing
    underscore: ``relu_`` is ``relu``)."""
    if module is not None:
        return type(module).__name__
    if node.op == "call_method":
        return str(node.target).strip("_") or "method"
    name = getattr(node.target, "__name__", None) or type(node.target).__name__
    return str(name).strip("_") or "function"


# --- names and stages --------------------------------------------------------------------------


def _scope(node: Any) -> tuple[str, ...]:
    """The module path a node runs in: a module call's own path, else its innermost
    module's (``("layer1", "0")`` for the residual ``add`` of ``layer1.0``)."""
    if node.op == "call_module":
        return tuple(str(node.target).split("."))
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return ()
    qualified = list(stack.values())[-1][0]
    return tuple(str(qualified).split(".")) if qualified else ()


class _Names:
    """The rows' final names and stages.

    A module call is named after the module (``layer1.0.conv1``); any other call after its
    module and itself (``layer1.0.add``), or its module alone when it is the one call of a
    module that holds no other (torchvision's ``Permute``), or the one reading weights
    among several (a ``LayerNorm2d``'s ``layer_norm`` between two permutes). A row's
    suffix follows its call's name (``name:1``, ``name/layout``). Names are made unique as
    convcost makes layer names (``name_1``). The stages are the top-level modules holding
    others, or, when one top-level module holds most rows (torchvision's ``features``), the
    modules inside it.
    """

    def __init__(self, rows: Sequence[_Row]) -> None:
        scopes = [_scope(row.node) for row in rows]
        self.prefixes: set[tuple[str, ...]] = set()  # every module holding a deeper row
        for path in scopes:
            self.prefixes.update(path[:n] for n in range(1, len(path)))
        members: dict[tuple[str, ...], list[Any]] = {}  # calls in a module, not of one
        weighted: dict[tuple[str, ...], list[Any]] = {}  # those of them reading weights
        for row, path in zip(rows, scopes):
            if row.node.op != "call_module":
                if row.node not in members.setdefault(path, []):
                    members[path].append(row.node)
                if row.tensors and row.node not in weighted.setdefault(path, []):
                    weighted[path].append(row.node)
        taken: set[str] = {_INPUT}
        node_names: dict[Any, str] = {}
        self.final: dict[str, str] = {}
        for row, path in zip(rows, scopes):
            if row.node not in node_names:
                own = self._own(row.node, path, members, weighted)
                node_names[row.node] = self._unique(own, taken)
            name = node_names[row.node]
            if row.suffix:
                name = self._unique(name + row.suffix, taken)
            self.final[row.layer.name or ""] = name
        self.groups = _groups(rows, scopes, self.prefixes)

    @staticmethod
    def _unique(name: str, taken: set[str]) -> str:
        unique, number = name, 0
        while unique in taken:
            number += 1
            unique = f"{name}_{number}"
        taken.add(unique)
        return unique

    def _own(
        self,
        node: Any,
        path: tuple[str, ...],
        members: Mapping[tuple[str, ...], list[Any]],
        weighted: Mapping[tuple[str, ...], list[Any]],
    ) -> str:
        module = ".".join(path)
        if node.op == "call_module":
            return module
        base = _op_name(node, None)
        if not path:
            return base
        alone = members.get(path) == [node] or weighted.get(path) == [node]
        if alone and path not in self.prefixes:
            return module
        return f"{module}.{base}"


def _groups(
    rows: Sequence[_Row], paths: Sequence[tuple[str, ...]], prefixes: set[tuple[str, ...]]
) -> dict[str, str | None]:
    tops: dict[str, int] = {}
    children: dict[str, set[str]] = {}
    for path in paths:
        if path:
            tops[path[0]] = tops.get(path[0], 0) + 1
            if len(path) > 1:
                children.setdefault(path[0], set()).add(path[1])
    depth = 1
    if tops:
        top, count = max(tops.items(), key=lambda item: item[1])
        if 2 * count > len(rows) and len(children.get(top, ())) >= 2:
            depth = 2
    groups: dict[str, str | None] = {}
    for row, path in zip(rows, paths):
        group = None
        if len(path) >= depth and path[:depth] in prefixes:
            group = ".".join(path[:depth])
        groups[row.layer.name or ""] = group
    return groups


# --- the handlers ----------------------------------------------------------------------------


class _Registry:
    """Handlers by module class (looked up along the class's MRO), by function and by
    method name (``torch.fx`` names a method call by its name)."""

    def __init__(self) -> None:
        self.modules: dict[type, Handler] = {}
        self.functions: dict[Any, Handler] = {}
        self.methods: dict[str, Handler] = {}

    def handler(self, node: Any, module: Any) -> Handler:
        if module is not None:
            for cls in type(module).__mro__:
                if cls in self.modules:
                    return self.modules[cls]
            return _unknown
        if node.op == "call_method":
            return self.methods.get(str(node.target), _unknown)
        try:
            return self.functions.get(node.target, _unknown)
        except TypeError:  # an unhashable callable
            return _unknown


_FAMILIES: Final = (Conv, ConvTranspose, Linear, BatchNorm)  # layers counting their own params
_FAMILY_OPERATORS: Final[Mapping[type, str]] = {
    Conv: "Conv",
    ConvTranspose: "ConvTranspose",
    Linear: "Gemm",
    BatchNorm: "BatchNormalization",
}


def _as_operator(layer: Layer, x: Shape, weights: int, bias: int, statistics: int) -> Layer:
    """A layer with a family whose parameters are not its family's (a weight shared with
    another module, a parametrised weight), as an `Operator` of its multiply-accumulates
    that counts the tensors it reads."""
    cost = layer_cost(layer, x)
    op_type = _FAMILY_OPERATORS.get(type(layer), type(layer).__name__)
    shape = _sizes(cost.output_shape)
    if cost.macs % cost.output_shape.numel:  # a transposed convolution, over its input
        return NotCounted(op_type=op_type, shape=shape, params=weights + bias)
    return Operator(
        op_type=op_type,
        shape=shape,
        weights=weights,
        bias=bias,
        non_trainable_params=statistics,
        contraction=cost.macs // cost.output_shape.numel,
    )


def _raw(value: Any) -> Any:
    return value.raw if isinstance(value, _Const) else value


def _tensor_dims(value: Any, torch: Any) -> tuple[int, ...] | None:
    if isinstance(value, _Data):
        return value.dims
    raw = _raw(value)
    if isinstance(raw, torch.Tensor):
        return tuple(int(size) for size in raw.shape)
    return None


def _unknown(cv: _Converter, call: _Call) -> None:
    """A call convcost does not know: a row flagged "not counted", with the shape torch
    gives (its first tensor's, for several outputs) and the parameters it reads."""
    data = cv.data(call)
    torch = cv.torch
    first = next(item for item in _flat(call.result) if isinstance(item, torch.Tensor))
    if not data:  # only tuples of constants: nothing depends on the input after all
        cv.values[call.node] = _Const(call.result)
        return
    dims = tuple(int(size) for size in first.shape)
    layer = NotCounted(op_type=call.op, shape=_sizes(_standard(dims)))
    row = cv.row(call, layer, (data[0].row,), result=first, tensors=cv.constants(call), keep=False)
    if isinstance(call.result, torch.Tensor):
        cv.values[call.node] = row
        return
    raw = call.result.values() if isinstance(call.result, Mapping) else call.result
    cv.values[call.node] = _Pack(call.node, tuple(raw), (), row, "flagged", call.op)


def _same_shape(cv: _Converter, call: _Call, layer: Layer) -> None:
    """A row that keeps its input's shape and layout (an activation, dropout)."""
    x = cv.data(call)[0]
    cv.row(call, layer, (x.row,), axes=(x.batch, x.channel), tensors=cv.constants(call))


def _activation(function: str) -> Handler:
    def handle(cv: _Converter, call: _Call) -> None:
        _same_shape(cv, call, Activation(function=function, functional=call.module is None))

    return handle


def _hardtanh(cv: _Converter, call: _Call) -> None:
    """Hardtanh between 0 and 6 is ReLU6 (what ``nn.ReLU6`` is); other bounds a ``Clip``."""
    if call.module is not None:
        low, high = call.module.min_val, call.module.max_val
    else:
        low, high = call.raw(1, "min_val", -1.0), call.raw(2, "max_val", 1.0)
    if (low, high) == (0, 6):
        _activation("relu6")(cv, call)
    else:
        _elementwise("Clip")(cv, call)


_ARITY: Final[Mapping[str, int]] = {
    "Add": 2,
    "Sub": 2,
    "Mul": 2,
    "Div": 2,
    "Pow": 2,
    "Max": 2,
    "Min": 2,
    "Where": 3,
}


def _elementwise(op_type: str) -> Handler:
    """Element-wise arithmetic and other operators of no MACs, named as ONNX names them
    (so that counting profiles weigh them as for an ONNX file): the shape torch gives; a
    parameter operand (a bias, ConvNeXt's ``layer_scale``) is counted, a number is part of
    the formula (but still an operand)."""

    def handle(cv: _Converter, call: _Call) -> None:
        data = cv.data(call)
        dims = tuple(int(size) for size in call.result.shape)
        source = next((x for x in data if x.dims == dims), data[0])
        axes = (source.batch, source.channel) if source.dims == dims else None
        arity = _ARITY.get(op_type, 1)
        operands = [
            value for value in call.args[:arity] if isinstance(value, (_Data, _Const, int, float))
        ]
        layer = Operator(
            op_type=op_type,
            shape=_sizes(_view(dims, *(axes or default_axes(dims)))),
            operands=max(1, len(operands)),
        )
        cv.row(call, layer, (source.row,), axes=axes, tensors=cv.constants(call))

    return handle


def _add(cv: _Converter, call: _Call) -> None:
    """Two tensors of one shape added: an `Add` (a residual connection); anything else
    (a constant, broadcasting) an ``Add`` `Operator`."""
    data = cv.data(call)
    dims = tuple(int(size) for size in call.result.shape)
    alpha = call.raw(2, "alpha", 1)
    if len(data) == 2 == len(call.args) and data[0].dims == data[1].dims == dims and alpha == 1:
        a, b = data
        cv.row(call, Add(), (a.row, cv.in_view(call, b, a.view)), axes=(a.batch, a.channel))
        return
    _elementwise("Add")(cv, call)


def _mul(cv: _Converter, call: _Call) -> None:
    """Two tensors of one shape multiplied, or a tensor by one value per channel of it (a
    squeeze-and-excitation gate): a `Multiply`; anything else a ``Mul`` `Operator`."""
    data = cv.data(call)
    dims = tuple(int(size) for size in call.result.shape)
    if len(data) == 2 == len(call.args):
        a, b = data
        if a.dims == b.dims == dims:
            cv.row(
                call, Multiply(), (a.row, cv.in_view(call, b, a.view)), axes=(a.batch, a.channel)
            )
            return
        big, small = (a, b) if math.prod(a.dims) >= math.prod(b.dims) else (b, a)
        if big.dims == dims and _gate(big.dims, small.dims):
            cv.row(call, Multiply(), (cv.nchw(call, big), cv.nchw(call, small)))
            return
    _elementwise("Mul")(cv, call)


def _gate(big: tuple[int, ...], small: tuple[int, ...]) -> bool:
    """One NCHW tensor scaled by one value per channel of it (a squeeze-and-excitation)."""
    if len(big) != len(small) or len(big) < 3:
        return False
    return big[0] == small[0] == 1 and big[1] == small[1] and all(s == 1 for s in small[2:])


def _matmul(cv: _Converter, call: _Call) -> None:
    """A matrix product: an ``MatMul`` `Operator` of output elements × the summed axis MACs
    (a parameter operand is its weights)."""
    first = _tensor_dims(call.get(0, "input"), cv.torch) or (1,)
    out = tuple(int(size) for size in call.result.shape)
    data = cv.data(call)
    source = next((x for x in data if len(x.dims) == len(out)), data[0])
    axes = (source.batch, source.channel) if len(source.dims) == len(out) else None
    view = _view(out, *axes) if axes is not None else _standard(out)
    layer = Operator(op_type="MatMul", shape=_sizes(view), contraction=first[-1], operands=2)
    cv.row(call, layer, (source.row,), axes=axes, tensors=cv.constants(call))


def _concat(cv: _Converter, call: _Call) -> None:
    """Tensors joined along their channels: a `Concat`; one tensor: a `Reshape` of the
    same shape; along another axis, or with constants, a ``Concat`` `Operator`."""
    pieces: list[Any] = []
    for value in _flat(call.get(0, "tensors")):
        pieces.extend(cv._expand(value) if isinstance(value, _Pack) else [value])
    items = [value for value in pieces if isinstance(value, _Data)]
    out = tuple(int(size) for size in call.result.shape)
    dim = int(call.raw(1, "dim", 0))
    axis = dim + len(out) if dim < 0 else dim
    first = items[0]
    if len(items) == len(pieces) >= 2:
        if first.channel == axis and all(
            (x.batch, x.channel) == (first.batch, first.channel) for x in items
        ):
            cv.row(call, Concat(), [x.row for x in items], axes=(first.batch, first.channel))
            return
        if axis == 1 and len(out) >= 2 and out[0] == 1:
            cv.row(call, Concat(), [cv.nchw(call, x) for x in items])
            return
    if len(items) == len(pieces) == 1:
        cv.row(
            call, Reshape(shape=_sizes(first.view)), (first.row,), axes=(first.batch, first.channel)
        )
        return
    layer = Operator(op_type="Concat", shape=_sizes(_standard(out)), operands=len(pieces))
    cv.row(call, layer, (first.row,), tensors=cv.constants(call))


def _flatten(cv: _Converter, call: _Call) -> None:
    """Flattening one sample to a vector is a `Flatten`; any other a `Reshape`."""
    x = cv.data(call)[0]
    dims = tuple(int(size) for size in call.result.shape)
    if x.batch == 0 and len(x.dims) > 2 and dims == (1, math.prod(x.dims[1:])):
        cv.row(call, Flatten(), (cv.nchw(call, x),))
        return
    _reshape(cv, call)


def _reshape(cv: _Converter, call: _Call) -> None:
    """view, reshape, squeeze, unsqueeze, pixel shuffles: a `Reshape` to the shape torch
    gives, in the default layout (a leading axis of 1 is the batch, the next the channels)."""
    x = cv.data(call)[0]
    dims = tuple(int(size) for size in call.result.shape)
    cv.row(call, Reshape(shape=_sizes(_standard(dims))), (x.row,))


def _contiguous(cv: _Converter, call: _Call) -> None:
    """contiguous: the same tensor, in the same layout, as a `Reshape` row."""
    x = cv.data(call)[0]
    cv.row(call, Reshape(shape=_sizes(x.view)), (x.row,), axes=(x.batch, x.channel))


def _permute(cv: _Converter, call: _Call) -> None:
    """permute, transpose: a `Reshape` whose channels (and batch) move with their axes."""
    x = cv.data(call)[0]
    rank = len(x.dims)
    if call.op in ("permute",):
        given: tuple[Any, ...] = tuple(_raw(value) for value in call.args[1:])
        if len(given) == 1 and isinstance(given[0], (tuple, list)):
            given = tuple(_raw(value) for value in given[0])
        if not given:
            given = tuple(call.raw(1, "dims", ()))
        order = [int(axis) % rank for axis in given]
    else:  # transpose, swapaxes, swapdims
        order = list(range(rank))
        a, b = int(call.raw(1, "dim0", 0)) % rank, int(call.raw(2, "dim1", 1)) % rank
        order[a], order[b] = order[b], order[a]

    def moved(axis: int | None) -> int | None:
        return None if axis is None else order.index(axis)

    axes = (moved(x.batch), moved(x.channel))
    dims = tuple(int(size) for size in call.result.shape)
    cv.row(call, Reshape(shape=_sizes(_view(dims, *axes))), (x.row,), axes=axes)


def _getitem(cv: _Converter, call: _Call) -> None:
    """An item of a tuple (a piece of ``chunk``, an output of a call) or an index into a
    tensor (a `Select`)."""
    container, index = call.args[0], call.raw(1, "index")
    if isinstance(container, _Pack):
        if not call.node.users:  # an item unpacked and never read (``out, _ = lstm(x)``)
            cv.values[call.node] = _Const(None)
            return
        size = len(container.raw)
        if isinstance(index, int):
            cv.values[call.node] = cv.item(container, index % size)
        else:
            cv.values[call.node] = tuple(cv.item(container, i) for i in range(size)[index])
        return
    _select(cv, call)


def _select(cv: _Converter, call: _Call) -> None:
    """Indexing, slicing, narrow: a `Select` of the elements taken (more elements than
    the input: a ``Gather`` `Operator`)."""
    x = cv.data(call)[0]
    view = _standard(tuple(int(size) for size in call.result.shape))
    layer: Layer = Select(shape=_sizes(view))
    if view.numel > x.view.numel:
        layer = Operator(op_type="Gather", shape=_sizes(view), operands=2)
    cv.row(call, layer, (x.row,), tensors=cv.constants(call))


def _split(cv: _Converter, call: _Call) -> None:
    """chunk, split, unbind: a tuple of pieces of the input, each a `Select` row when read
    (``name``, ``name:1``, ...)."""
    x = cv.data(call)[0]
    cv.values[call.node] = _Pack(call.node, tuple(call.result), (), x, "select", call.op)


def _reduce(op_type: str, pool: type[GlobalAvgPool] | type[GlobalMaxPool] | None) -> Handler:
    """mean (amax) over every spatial axis of a batch is global average (max) pooling, as
    torchvision's ``x.mean([2, 3])``; any other reduction an `Operator`."""

    def handle(cv: _Converter, call: _Call) -> None:
        x = cv.data(call)[0]
        dims = tuple(int(size) for size in call.result.shape)
        given = call.raw(1, "dim")
        keepdim = bool(call.raw(2, "keepdim", False))
        rank = len(x.dims)
        if isinstance(given, int):
            given = (given,)
        reduced = sorted({int(axis) % rank for axis in given}) if given else []
        if pool is not None and x.batch == 0 and rank >= 3 and reduced == list(range(2, rank)):
            cv.row(call, pool(keepdims=keepdim), (cv.nchw(call, x),))
            return
        cv.row(call, Operator(op_type=op_type, shape=_sizes(_standard(dims))), (x.row,))

    return handle


def _dropout(cv: _Converter, call: _Call) -> None:
    """Dropout of any kind: the identity in eval mode, a `Dropout` row."""
    p = call.module.p if call.module is not None else call.raw(1, "p", 0.5)
    _same_shape(cv, call, Dropout(p=float(p)) if 0 <= p < 1 else Activation(function="identity"))


def _stochastic_depth(cv: _Converter, call: _Call) -> None:
    """torchvision's ``stochastic_depth(input, p, mode, training)``: in eval mode the
    identity, a `Dropout` row (the modules of torchvision's EfficientNet and ConvNeXt)."""
    p, training = call.raw(1, "p", 0.0), call.raw(3, "training", True)
    if training and p:
        _unknown(cv, call)
        return
    _same_shape(cv, call, Dropout(p=float(p)) if 0 <= p < 1 else Activation(function="identity"))


def _identity(cv: _Converter, call: _Call) -> None:
    _same_shape(cv, call, Activation(function="identity", functional=call.module is None))


# -- layers with a family ---------------------------------------------------------------------


def _padding(value: Any, ndim: int) -> Padding:
    """A convolution's padding: PyTorch's ``"same"`` (stride 1, the odd unit after) is
    convcost's ``"same-pytorch"``."""
    if value == "same":
        return "same-pytorch"
    if value == "valid":
        return "valid"
    return compact(_per_axis(value, ndim))


def _window(module: Any, call: _Call, names: Sequence[tuple[int, str, Any]]) -> list[Any]:
    """Hyper-parameters from a module's attributes, or a function's arguments."""
    if module is not None:
        return [getattr(module, name) for _, name, _ in names]
    return [call.raw(index, name, default) for index, name, default in names]


def _conv(cv: _Converter, call: _Call) -> None:
    """nn.ConvNd and F.convNd: a `Conv`. Any padding mode: reflect, replicate and circular
    padding change the values in the padding, never a count."""
    x = cv.data(call)[0]
    ndim = len(x.dims) - 2
    module = call.module
    if module is not None:
        weight, bias = module.weight, module.bias
    else:
        weight_value, bias = call.get(1, "weight"), _raw(call.get(2, "bias"))
        if not isinstance(weight_value, _Const):  # weights computed from the input
            kernel = _tensor_dims(weight_value, cv.torch) or (1, 1)
            _contraction(cv, call, "Conv", math.prod(kernel[1:]))
            return
        weight = weight_value.raw
    stride, padding, dilation, groups = _window(
        module, call, ((3, "stride", 1), (4, "padding", 0), (5, "dilation", 1), (6, "groups", 1))
    )
    kernel = tuple(int(size) for size in weight.shape[2:])
    layer = Conv(
        out_channels=int(weight.shape[0]),
        kernel_size=compact(kernel),
        stride=compact(_per_axis(stride, ndim)),
        padding=_padding(padding, ndim),
        dilation=compact(_per_axis(dilation, ndim)),
        groups=int(groups),
        bias=bias is not None,
    )
    tensors = cv.constants(call)
    biases = frozenset({id(bias)}) if bias is not None else frozenset()
    cv.row(call, layer, (cv.nchw(call, x),), tensors=tensors, bias=biases)


def _contraction(cv: _Converter, call: _Call, op_type: str, contraction: int) -> None:
    """A product of the input with weights computed at run time: an `Operator` of
    ``output elements × contraction`` MACs."""
    x = cv.data(call)[0]
    layer = Operator(
        op_type=op_type,
        shape=_sizes(_standard(tuple(call.result.shape))),
        contraction=max(contraction, 0),
        operands=2,
    )
    cv.row(call, layer, (x.row,), tensors=cv.constants(call))


def _conv_transpose(cv: _Converter, call: _Call) -> None:
    """nn.ConvTransposeNd and F.conv_transposeNd: a `ConvTranspose` whose output padding
    makes the output the size torch gives (``output_size=`` included)."""
    x = cv.data(call)[0]
    ndim = len(x.dims) - 2
    module = call.module
    if module is not None:
        weight, bias = module.weight, module.bias
    else:
        weight_value, bias = call.get(1, "weight"), _raw(call.get(2, "bias"))
        if not isinstance(weight_value, _Const):
            _unknown(cv, call)
            return
        weight = weight_value.raw
    stride, padding, groups, dilation = _window(
        module, call, ((3, "stride", 1), (4, "padding", 0), (6, "groups", 1), (7, "dilation", 1))
    )
    kernel = tuple(int(size) for size in weight.shape[2:])
    strides, pads = _per_axis(stride, ndim), _per_axis(padding, ndim)
    dilations = _per_axis(dilation, ndim)
    out = tuple(int(size) for size in call.result.shape[2:])
    natural = [
        (size - 1) * s - 2 * p + d * (k - 1) + 1
        for size, s, p, d, k in zip(x.dims[2:], strides, pads, dilations, kernel)
    ]
    layer = ConvTranspose(
        out_channels=int(weight.shape[1]) * int(groups),
        kernel_size=compact(kernel),
        stride=compact(strides),
        padding=compact(pads),
        dilation=compact(dilations),
        output_padding=compact([o - n for o, n in zip(out, natural)]),
        groups=int(groups),
        bias=bias is not None,
    )
    biases = frozenset({id(bias)}) if bias is not None else frozenset()
    cv.row(call, layer, (cv.nchw(call, x),), tensors=cv.constants(call), bias=biases)


def _linear(cv: _Converter, call: _Call) -> None:
    """nn.Linear and F.linear: a `Linear` on one sample's vector; on any other input
    (ConvNeXt's channels-last MLP, tokens) a ``MatMul`` `Operator`: the same weights, the
    bias added to every output element, output elements × in_features MACs."""
    x = cv.data(call)[0]
    module = call.module
    if module is not None:
        weight, bias = module.weight, module.bias
    else:
        weight_value, bias = call.get(1, "weight"), _raw(call.get(2, "bias"))
        if not isinstance(weight_value, _Const):
            _contraction(cv, call, "MatMul", x.dims[-1] if x.dims else 1)
            return
        weight = weight_value.raw
    out_features, in_features = int(weight.shape[0]), int(weight.shape[-1])
    out = tuple(int(size) for size in call.result.shape)
    tensors = cv.constants(call)
    biases = frozenset({id(bias)}) if bias is not None else frozenset()
    if x.dims == (1, in_features) and weight.dim() == 2:
        layer: Layer = Linear(out_features=out_features, bias=bias is not None)
        cv.row(call, layer, (x.row,), tensors=tensors, bias=biases)
        return
    axes = (x.batch, x.channel) if len(out) == len(x.dims) else None
    view = _view(out, *axes) if axes is not None else _standard(out)
    layer = Operator(op_type="MatMul", shape=_sizes(view), contraction=in_features, operands=2)
    cv.row(call, layer, (x.row,), axes=axes, tensors=tensors, bias=biases)


def _batch_norm(cv: _Converter, call: _Call) -> None:
    """nn.BatchNormNd and F.batch_norm: a `BatchNorm` (γ, β trainable; the running mean and
    variance non-trainable; ``num_batches_tracked`` not counted)."""
    x = cv.data(call)[0]
    module = call.module
    if module is not None:
        affine, track = module.affine, module.track_running_stats
    else:
        affine = _raw(call.get(3, "weight")) is not None
        track = _raw(call.get(1, "running_mean")) is not None
    layer = BatchNorm(affine=bool(affine), track_running_stats=bool(track))
    cv.row(call, layer, (cv.nchw(call, x),), tensors=cv.constants(call))


def _normalization(op_type: str) -> Handler:
    """LayerNorm, GroupNorm, InstanceNorm (modules and functions): an `Operator` of no MACs
    whose weight and bias are parameters (an InstanceNorm's running statistics
    non-trainable). A layer norm's channels are the first axis it normalises, so its rows
    are its positions (as for an ONNX ``LayerNormalization``)."""

    def handle(cv: _Converter, call: _Call) -> None:
        x = cv.data(call)[0]
        dims = tuple(int(size) for size in call.result.shape)
        axes: tuple[int | None, int | None] = (x.batch, x.channel)
        if op_type == "LayerNormalization":
            normalized = (
                call.module.normalized_shape
                if call.module is not None
                else call.raw(1, "normalized_shape")
            )
            count = 1 if isinstance(normalized, int) else len(tuple(normalized))
            axis = len(dims) - count
            axes = (x.batch if x.batch != axis else None, axis)
        tensors = cv.constants(call)
        layer = Operator(
            op_type=op_type, shape=_sizes(_view(dims, *axes)), operands=1 + len(tensors)
        )
        cv.row(call, layer, (x.row,), axes=axes, tensors=tensors)

    return handle


def _pool(kind: type[MaxPool] | type[AvgPool]) -> Handler:
    """nn.MaxPoolNd, nn.AvgPoolNd and their functions: ``ceil_mode`` and dilation kept;
    with ``return_indices``, the indices are the pooling row's second output."""

    def handle(cv: _Converter, call: _Call) -> None:
        x = cv.data(call)[0]
        ndim = len(x.dims) - 2
        module = call.module
        if kind is MaxPool:
            kernel, stride, padding, dilation, ceil = _window(
                module,
                call,
                (
                    (1, "kernel_size", 1),
                    (2, "stride", None),
                    (3, "padding", 0),
                    (4, "dilation", 1),
                    (5, "ceil_mode", False),
                ),
            )
        else:
            kernel, stride, padding, ceil = _window(
                module,
                call,
                (
                    (1, "kernel_size", 1),
                    (2, "stride", None),
                    (3, "padding", 0),
                    (4, "ceil_mode", False),
                ),
            )
            dilation = 1
        if stride is None or (isinstance(stride, (tuple, list)) and not stride):
            stride = kernel
        fields: dict[str, Any] = {
            "kernel_size": compact(_per_axis(kernel, ndim)),
            "stride": compact(_per_axis(stride, ndim)),
            "padding": compact(_per_axis(padding, ndim)),
            "ceil_mode": bool(ceil),
            "functional": module is None,
        }
        if kind is MaxPool:
            fields["dilation"] = compact(_per_axis(dilation, ndim))
        _first_output(cv, call, kind(**fields), cv.nchw(call, x))

    return handle


def _first_output(cv: _Converter, call: _Call, layer: Layer, source: str) -> None:
    """A row for the call's tensor, or for the first of its tensors (pooling's indices)."""
    result = call.result
    if isinstance(result, cv.torch.Tensor):
        cv.row(call, layer, (source,))
        return
    data = cv.row(call, layer, (source,), result=result[0], keep=False)
    cv.values[call.node] = _Pack(call.node, tuple(result), (), data, "known", call.op)


def _adaptive(kind: type[AdaptiveAvgPool] | type[AdaptiveMaxPool]) -> Handler:
    """Adaptive pooling to the output size torch gives."""

    def handle(cv: _Converter, call: _Call) -> None:
        x = cv.data(call)[0]
        result = call.result
        first = result if isinstance(result, cv.torch.Tensor) else result[0]
        sizes = tuple(int(size) for size in first.shape[2:])
        layer = kind(output_size=compact(sizes), functional=call.module is None)
        _first_output(cv, call, layer, cv.nchw(call, x))

    return handle


def _upsample(cv: _Converter, call: _Call) -> None:
    """nn.Upsample and F.interpolate: nearest-neighbour by whole factors is an `Upsample`;
    any other mode or factor a ``Resize`` `Operator` (no MACs)."""
    x = cv.data(call)[0]
    mode = call.module.mode if call.module is not None else call.raw(3, "mode", "nearest")
    dims = tuple(int(size) for size in call.result.shape)
    factors = [o // i if o % i == 0 else 0 for i, o in zip(x.dims[2:], dims[2:])]
    if mode in ("nearest", "nearest-exact") and x.batch == 0 and factors and all(factors):
        cv.row(call, Upsample(scale_factor=compact(factors)), (cv.nchw(call, x),))
        return
    _elementwise("Resize")(cv, call)


def _pad(cv: _Converter, call: _Call) -> None:
    """Zero padding of spatial axes (ZeroPadNd, ConstantPadNd of 0, F.pad) is a `ZeroPad`;
    other modes, values or axes a ``Pad`` `Operator`."""
    x = cv.data(call)[0]
    module = call.module
    if module is not None:
        sides, value = module.padding, getattr(module, "value", None)
        mode = "constant" if hasattr(module, "value") else "other"
    else:
        sides = call.raw(1, "pad")
        mode, value = call.raw(2, "mode", "constant"), call.raw(3, "value", None)
    sides = _per_axis(sides, 1)
    ndim = len(x.dims) - 2
    if mode == "constant" and not value and x.batch == 0 and len(sides) <= 2 * ndim:
        pairs = [(sides[i], sides[i + 1]) for i in range(0, len(sides) - 1, 2)][::-1]
        pairs = [(0, 0)] * (ndim - len(pairs)) + pairs
        if all(side >= 0 for pair in pairs for side in pair):
            padding: Padding = tuple(pairs)
            if all(before == after for before, after in pairs):
                padding = compact([before for before, _ in pairs])
            cv.row(call, ZeroPad(padding=padding), (cv.nchw(call, x),))
            return
    _elementwise("Pad")(cv, call)


# What each call becomes. Keys: ``nn.X`` a module class (and its subclasses that torch.fx
# keeps as leaves), ``F.x`` a function of torch.nn.functional, ``torch.x`` a function of
# torch, ``operator.x`` one of Python's operators (``x + y``), ``.x`` a tensor method. A name
# this torch does not have is skipped. Anything not here is a `NotCounted` row.
_TABLE: Final[tuple[tuple[Handler, str], ...]] = (
    (_conv, "nn.Conv1d nn.Conv2d nn.Conv3d F.conv1d F.conv2d F.conv3d"),
    (_conv_transpose, "nn.ConvTranspose1d nn.ConvTranspose2d nn.ConvTranspose3d "
                      "F.conv_transpose1d F.conv_transpose2d F.conv_transpose3d"),
    (_linear, "nn.Linear F.linear"),
    (_batch_norm, "nn.BatchNorm1d nn.BatchNorm2d nn.BatchNorm3d nn.SyncBatchNorm F.batch_norm"),
    (_normalization("LayerNormalization"), "nn.LayerNorm F.layer_norm"),
    (_normalization("GroupNormalization"), "nn.GroupNorm F.group_norm"),
    (_normalization("InstanceNormalization"),
     "nn.InstanceNorm1d nn.InstanceNorm2d nn.InstanceNorm3d F.instance_norm"),
    (_normalization("RMSNormalization"), "nn.RMSNorm F.rms_norm"),
    (_pool(MaxPool), "nn.MaxPool1d nn.MaxPool2d nn.MaxPool3d F.max_pool1d F.max_pool2d "
                     "F.max_pool3d"),
    (_pool(AvgPool), "nn.AvgPool1d nn.AvgPool2d nn.AvgPool3d F.avg_pool1d F.avg_pool2d "
                     "F.avg_pool3d"),
    (_adaptive(AdaptiveAvgPool), "nn.AdaptiveAvgPool1d nn.AdaptiveAvgPool2d "
     "nn.AdaptiveAvgPool3d F.adaptive_avg_pool1d F.adaptive_avg_pool2d F.adaptive_avg_pool3d"),
    (_adaptive(AdaptiveMaxPool), "nn.AdaptiveMaxPool1d nn.AdaptiveMaxPool2d "
     "nn.AdaptiveMaxPool3d F.adaptive_max_pool1d F.adaptive_max_pool2d F.adaptive_max_pool3d"),
    (_activation("relu"), "nn.ReLU F.relu F.relu_ torch.relu torch.relu_ .relu .relu_"),
    (_activation("relu6"), "nn.ReLU6 F.relu6"),
    (_hardtanh, "nn.Hardtanh F.hardtanh F.hardtanh_"),
    (_activation("silu"), "nn.SiLU F.silu"),
    (_activation("gelu"), "nn.GELU F.gelu"),
    (_activation("hardswish"), "nn.Hardswish F.hardswish"),
    (_activation("hardsigmoid"), "nn.Hardsigmoid F.hardsigmoid"),
    (_activation("sigmoid"), "nn.Sigmoid F.sigmoid torch.sigmoid .sigmoid .sigmoid_"),
    (_activation("tanh"), "nn.Tanh F.tanh torch.tanh .tanh .tanh_"),
    (_activation("leaky_relu"), "nn.LeakyReLU F.leaky_relu F.leaky_relu_"),
    (_activation("softmax"), "nn.Softmax nn.Softmax2d F.softmax torch.softmax .softmax"),
    (_activation("elu"), "nn.ELU F.elu F.elu_"),
    (_identity, "nn.Identity"),
    (_dropout, "nn.Dropout nn.Dropout1d nn.Dropout2d nn.Dropout3d nn.AlphaDropout "
               "nn.FeatureAlphaDropout F.dropout F.dropout1d F.dropout2d F.dropout3d "
               "F.alpha_dropout F.feature_alpha_dropout"),
    (_add, "operator.add operator.iadd torch.add .add .add_"),
    (_mul, "operator.mul operator.imul torch.mul torch.multiply .mul .mul_"),
    (_matmul, "operator.matmul torch.matmul torch.mm torch.bmm .matmul .mm .bmm"),
    (_concat, "torch.cat torch.concat torch.concatenate"),
    (_flatten, "nn.Flatten torch.flatten .flatten"),
    (_reshape, "nn.Unflatten torch.reshape torch.squeeze torch.unsqueeze .view .reshape "
               ".squeeze .unsqueeze .unflatten .view_as .reshape_as nn.PixelShuffle "
               "nn.PixelUnshuffle nn.ChannelShuffle F.pixel_shuffle F.pixel_unshuffle"),
    (_contiguous, ".contiguous"),
    (_permute, "torch.permute torch.transpose torch.swapaxes .permute .transpose .swapaxes "
               ".swapdims"),
    (_getitem, "operator.getitem"),
    (_select, "torch.narrow torch.select torch.index_select .narrow .select .index_select"),
    (_split, "torch.chunk torch.split torch.unbind torch.tensor_split .chunk .split .unbind "
             ".tensor_split"),
    (_reduce("ReduceMean", GlobalAvgPool), "torch.mean .mean"),
    (_reduce("ReduceMax", GlobalMaxPool), "torch.amax .amax"),
    (_reduce("ReduceSum", None), "torch.sum .sum"),
    (_upsample, "nn.Upsample nn.UpsamplingNearest2d nn.UpsamplingBilinear2d F.interpolate "
                "F.upsample"),
    (_pad, "nn.ZeroPad1d nn.ZeroPad2d nn.ZeroPad3d nn.ConstantPad1d nn.ConstantPad2d "
           "nn.ConstantPad3d nn.ReflectionPad1d nn.ReflectionPad2d nn.ReflectionPad3d "
           "nn.ReplicationPad1d nn.ReplicationPad2d nn.ReplicationPad3d nn.CircularPad1d "
           "nn.CircularPad2d nn.CircularPad3d F.pad"),
    # element-wise and other operators of no MACs, named as ONNX names them
    (_elementwise("Mish"), "nn.Mish F.mish"),
    (_elementwise("Softplus"), "nn.Softplus F.softplus"),
    (_elementwise("LogSoftmax"), "nn.LogSoftmax F.log_softmax torch.log_softmax .log_softmax"),
    (_elementwise("Selu"), "nn.SELU F.selu"),
    (_elementwise("Celu"), "nn.CELU F.celu"),
    (_elementwise("PRelu"), "nn.PReLU F.prelu"),
    (_elementwise("Softsign"), "nn.Softsign F.softsign"),
    (_elementwise("LRN"), "nn.LocalResponseNorm F.local_response_norm"),
    (_elementwise("Gather"), "nn.Embedding F.embedding"),
    (_elementwise("Erf"), "torch.erf .erf"),
    (_elementwise("Exp"), "torch.exp .exp"),
    (_elementwise("Sqrt"), "torch.sqrt .sqrt"),
    (_elementwise("Neg"), "operator.neg torch.neg .neg"),
    (_elementwise("Sub"), "operator.sub operator.isub torch.sub torch.subtract torch.rsub .sub "
                          ".sub_ .rsub"),
    (_elementwise("Div"), "operator.truediv operator.itruediv operator.floordiv torch.div "
                          "torch.true_divide .div .div_"),
    (_elementwise("Pow"), "operator.pow torch.pow torch.square .pow .square"),
    (_elementwise("Abs"), "torch.abs .abs"),
    (_elementwise("Log"), "torch.log .log"),
    (_elementwise("Reciprocal"), "torch.reciprocal torch.rsqrt .reciprocal .rsqrt"),
    (_elementwise("Clip"), "torch.clamp torch.clip .clamp .clamp_ .clip"),
    (_elementwise("Max"), "torch.maximum"),
    (_elementwise("Min"), "torch.minimum"),
    (_elementwise("Where"), "torch.where"),
    (_elementwise("Cast"), ".to .float .half .double .type .type_as"),
    (_elementwise("Identity"), "torch.clone .clone .detach"),
    (_elementwise("Expand"), "torch.tile .expand .expand_as .repeat .tile"),
    (_elementwise("CumSum"), "torch.cumsum .cumsum"),
    (_elementwise("Concat"), "torch.stack"),
)  # fmt: skip


@cache
def _registry(torch: Any) -> _Registry:
    """`_TABLE` resolved against this torch: handlers by class, function and method name."""
    namespaces = {"nn": torch.nn, "F": torch.nn.functional, "torch": torch, "operator": operator}
    registry = _Registry()
    for handler, keys in _TABLE:
        for key in keys.split():
            space, _, name = key.partition(".")
            if not space:
                registry.methods[name] = handler
                continue
            target = getattr(namespaces[space], name, None)
            if isinstance(target, type):
                registry.modules[target] = handler
            elif target is not None:
                registry.functions[target] = handler
    return registry


def _torchvision(registry: _Registry) -> None:
    """torchvision's functions that torch.fx keeps as calls, when torchvision is loaded
    (a model using them imported it; convcost never imports torchvision itself)."""
    module = sys.modules.get("torchvision.ops.stochastic_depth")
    function = getattr(module, "stochastic_depth", None)
    if function is not None:
        registry.functions[function] = _stochastic_depth
