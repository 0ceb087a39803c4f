"""Network spec files: TOML, JSON and YAML in, and out.

A spec is a table holding the input shape and the layers, with the library's type and
argument names (docs/spec-format.md documents the format)::

    input = "3x32x32"

    [[layers]]
    type = "conv"
    out_channels = 16
    kernel_size = 3

`load_spec` and `parse_spec` turn a file or a text into a `Network` whose shapes have been
checked layer by layer. Every problem is a `SpecError` whose one-line message names the
place (``net.toml: layers[3].kernel_size: expected ...``), with the line where the parser
reports one. `dump_spec` writes the canonical form back: ``parse_spec(dump_spec(net, f), f)
== net`` for every network that can be read at all (within the limits below).
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any, Final, Literal, TypeAlias, TypeVar, cast, get_args

from convcost.errors import ConvCostError, FieldError, LayerError, SpecError
from convcost.files import parse_data, read_text, source_name, yaml_module
from convcost.layers import (
    ACTIVATIONS,
    MAX_INPUTS,
    Activation,
    AdaptiveAvgPool,
    AdaptiveMaxPool,
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
    SpatiallySeparableConv,
    Upsample,
    ZeroPad,
)
from convcost.limits import MAX_DEPTH, MAX_LAYERS, MAX_TEXT_BYTES
from convcost.network import (
    Network,
    Node,
    Parallel,
    Residual,
    Sequential,
    format_path,
    network_cost,
)
from convcost.shapes import Shape, parse_shape

__all__ = [
    "FORMATS",
    "LAYER_TYPES",
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_LAYERS",
    "SPEC_SUFFIXES",
    "Format",
    "SpecError",
    "dump_spec",
    "load_spec",
    "parse_spec",
]

Format: TypeAlias = Literal["toml", "json", "yaml"]
FORMATS: Final[tuple[str, ...]] = get_args(Format)
SPEC_SUFFIXES: Final[Mapping[str, Format]] = MappingProxyType(
    {".toml": "toml", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}
)

# Limits that keep a hostile or mistaken file from hanging the reader (YAML aliases can
# make a small file describe millions of layers; layers are counted as they are read).
MAX_BYTES: Final = MAX_TEXT_BYTES
_MAX_INT: Final = 1 << 63  # TOML's integer range, for every format alike

NodeType: TypeAlias = type[Node]

LAYER_TYPES: Final[Mapping[str, NodeType]] = MappingProxyType(
    {
        "conv": Conv,
        "conv_transpose": ConvTranspose,
        "depthwise_separable_conv": DepthwiseSeparableConv,
        "spatially_separable_conv": SpatiallySeparableConv,
        "max_pool": MaxPool,
        "avg_pool": AvgPool,
        "adaptive_avg_pool": AdaptiveAvgPool,
        "adaptive_max_pool": AdaptiveMaxPool,
        "global_avg_pool": GlobalAvgPool,
        "global_max_pool": GlobalMaxPool,
        "linear": Linear,
        "batch_norm": BatchNorm,
        "activation": Activation,
        "flatten": Flatten,
        "dropout": Dropout,
        "zero_pad": ZeroPad,
        "upsample": Upsample,
        "add": Add,
        "multiply": Multiply,
        "concat": Concat,
        "reshape": Reshape,
        "select": Select,
        "operator": Operator,
        "not_counted": NotCounted,
        "sequential": Sequential,
        "residual": Residual,
        "parallel": Parallel,
    }
)
"""Spec type names (the snake_case of the class names) and the classes they build."""

_TYPE_NAMES: Final[Mapping[NodeType, str]] = {cls: name for name, cls in LAYER_TYPES.items()}

# Other spellings accepted on input. Type names also match ignoring case, "_", "-" and a
# 1d/2d/3d suffix, so PyTorch and Keras class names (Conv2d, MaxPooling2D) read as well.
_ALIASES: Final = {
    "dense": "linear",
    "separable_conv": "depthwise_separable_conv",
    "max_pooling": "max_pool",
    "average_pooling": "avg_pool",
    "global_average_pooling": "global_avg_pool",
    "global_max_pooling": "global_max_pool",
    "batch_normalization": "batch_norm",
    "zero_padding": "zero_pad",
    "up_sampling": "upsample",
    "concatenate": "concat",
}


def _type_key(name: str) -> str:
    return re.sub(r"[123]d", "", re.sub(r"[-_]", "", name.lower()))


# key -> (the spelling to suggest, the class, the fields the spelling implies)
_TYPE_KEYS: Final[dict[str, tuple[str, NodeType, dict[str, object]]]] = {
    **{_type_key(name): (name, cls, {}) for name, cls in LAYER_TYPES.items()},
    **{_type_key(alias): (alias, LAYER_TYPES[name], {}) for alias, name in _ALIASES.items()},
    **{_type_key(name): (name, Activation, {"function": name}) for name in sorted(ACTIVATIONS)},
}
# Keras's argument names, which difflib would not connect with ours.
_RENAMED: Final = {
    "filters": "out_channels", "units": "out_features", "strides": "stride",
    "dilation_rate": "dilation", "use_bias": "bias", "pool_size": "kernel_size", "rate": "p",
    "size": "scale_factor", "activation": "function",
}  # fmt: skip
_DEPTHWISE_KEYS: Final = frozenset({"depthwise", "depthwiseconv", "dwconv"})

_NODE_LISTS: Final = frozenset({"layers", "body", "shortcut"})  # fields holding layers
_BRANCHES: Final = "branches"  # a list of node lists
_NO_DEFAULT: Final = frozenset({"name", "inputs", "shares", _BRANCHES, *_NODE_LISTS})
_SAME_PADDING: Final = ("keras", "pytorch")
_TOP_KEYS: Final = (
    "name", "input", "channels_last", "defaults", "layers", "outputs", "naming", "group_depth",
)  # fmt: skip
# Written first, in this order; the rest follow in declaration order.
_FIELD_ORDER: Final = (
    "name", "inputs", "shares", "out_channels", "out_features", "mid_channels",
    "depth_multiplier", "function", "kernel_size", "stride", "padding", "dilation",
    "output_padding", "groups", "bias",
)  # fmt: skip
_ALWAYS_WRITTEN: Final[Mapping[NodeType, frozenset[str]]] = {
    Activation: frozenset({"function"})  # the whole point of the layer, even when "relu"
}


def _field_names(cls: NodeType) -> tuple[str, ...]:
    names = [field.name for field in fields(cls)]
    return tuple(sorted(names, key=lambda n: _FIELD_ORDER.index(n) if n in _FIELD_ORDER else 99))


_FIELDS: Final = {cls: _field_names(cls) for cls in LAYER_TYPES.values()}
_FIELD_DEFAULTS: Final = {
    cls: {f.name: f.default for f in fields(cls) if f.default is not MISSING}
    for cls in LAYER_TYPES.values()
}
_REQUIRED: Final = {
    cls: tuple(name for name in _FIELDS[cls] if name not in _FIELD_DEFAULTS[cls])
    for cls in LAYER_TYPES.values()
}
_DEFAULTABLE: Final = frozenset(name for names in _FIELDS.values() for name in names) - _NO_DEFAULT


class _Problem(Exception):
    """A problem in the parsed data, already naming its path; `SpecError` adds the source."""


# --- reading --------------------------------------------------------------------------


def load_spec(path: str | Path) -> Network:
    """Read a spec file; the format comes from the suffix (.toml, .json, .yaml, .yml)."""
    if not isinstance(path, (str, Path)):
        raise FieldError("path", path, "a file name (text or a Path)")
    source = source_name(path)
    spec_format = SPEC_SUFFIXES.get(Path(path).suffix.lower())
    if spec_format is None:
        raise SpecError(
            source,
            f"cannot tell the format from the suffix {Path(path).suffix!r}; "
            "name the file .toml, .json, .yaml or .yml",
        )
    return parse_spec(read_text(path, error=SpecError), spec_format, source=source)


def parse_spec(text: str, format: Format, *, source: str = "<spec>") -> Network:
    """Read a spec from text in `format` ("toml", "json" or "yaml")."""
    if format not in FORMATS:
        raise FieldError("format", format, "one of " + ", ".join(map(repr, FORMATS)))
    if not isinstance(text, str):
        raise FieldError("text", text, "text (decode bytes first, or use load_spec)")
    data = parse_data(text.removeprefix("\ufeff"), format, source=source, error=SpecError)
    try:
        return _network(data)
    except _Problem as problem:
        raise SpecError(source, str(problem)) from None


def _yaml(source: str) -> ModuleType:
    return yaml_module(source, SpecError)


# --- from parsed data to a network ------------------------------------------------------


def _network(data: object) -> Network:
    table = _table(data, "", "a table with input and layers")
    _check_keys(table, _TOP_KEYS, "", "top-level key")
    if "input" not in table:
        raise _Problem('missing input (the input shape, e.g. input = "3x224x224")')
    if "layers" not in table:
        raise _Problem("missing layers (the list of layers)")
    channels_last = table.get("channels_last", False)
    if not isinstance(channels_last, bool):
        raise _Problem(f"channels_last: expected true or false, got {_show(channels_last)}")
    input_shape = _input_shape(table["input"], channels_last=channels_last)
    reader = _Reader(_defaults(table.get("defaults", {})))
    layers = reader.nodes(table["layers"], "layers", depth=0)
    kwargs = {"input_shape": input_shape, "layers": layers}
    for key in ("name", "outputs", "naming", "group_depth"):
        if key in table:
            kwargs[key] = _plain(table[key], key)
    if isinstance(kwargs.get("outputs"), list):
        kwargs["outputs"] = tuple(kwargs["outputs"])  # type: ignore[arg-type]
    network = _build(Network, kwargs, "", table)
    _check_shapes(network)
    return network


def _input_shape(raw: object, *, channels_last: bool) -> Shape:
    if isinstance(raw, list) and raw and all(_is_small_int(size) for size in raw):
        raw = "x".join(map(str, raw))
    if not isinstance(raw, str):
        raise _Problem(
            f'input: expected a shape such as "3x224x224" or a list of sizes, got {_show(raw)}'
        )
    try:
        return parse_shape(raw, channels_last=channels_last)
    except ConvCostError as error:
        raise _Problem(f"input: {error}") from None


def _is_small_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -_MAX_INT <= value < _MAX_INT


@dataclass(frozen=True)
class _Defaults:
    """Per class: field -> (value, where it was set); and what "same" padding means."""

    values: Mapping[NodeType, Mapping[str, tuple[object, str]]]
    same_pytorch: bool = False


def _defaults(raw: object) -> _Defaults:
    table = _table(raw, "defaults", "a table of default field values")
    values: dict[NodeType, dict[str, tuple[object, str]]] = {cls: {} for cls in _FIELDS}
    same = table.get("same_padding", "keras")
    if same not in _SAME_PADDING:
        raise _Problem(f'defaults.same_padding: expected "keras" or "pytorch", got {_show(same)}')
    per_type = {key: value for key, value in table.items() if key in LAYER_TYPES}
    for key, value in table.items():
        path = f"defaults.{key}"
        if key == "same_padding" or key in per_type:
            continue
        if key in _NO_DEFAULT:
            raise _Problem(f"{path}: {key} cannot have a default")
        if key not in _DEFAULTABLE:
            choices = sorted({*_DEFAULTABLE, *LAYER_TYPES, "same_padding"})
            raise _Problem(f"{path}: unknown default{_suggest(key, choices)}")
        for cls, names in _FIELDS.items():
            if key in names:
                values[cls][key] = (_plain(value, path), path)
    for type_name, sub in per_type.items():  # per-type tables win over the common keys
        cls = LAYER_TYPES[type_name]
        for key, value in _table(
            sub, f"defaults.{type_name}", "a table of default field values"
        ).items():
            path = f"defaults.{type_name}.{key}"
            allowed = [name for name in _FIELDS[cls] if name not in _NO_DEFAULT]
            if key not in allowed:
                raise _Problem(f"{path}: not a field of {type_name} that takes a default"
                               f"{_suggest(key, allowed)}")  # fmt: skip
            values[cls][key] = (_plain(value, path), path)
    return _Defaults(values, same_pytorch=same == "pytorch")


@dataclass(frozen=True)
class _Read:
    """A list of layers (or a layer) already read: its nodes, how many nodes it holds in
    all, and how deep its blocks reach below it (-1: it holds no block)."""

    nodes: tuple[Node, ...]
    count: int
    reach: int


@dataclass
class _Reader:
    """Turns parsed layer lists into nodes, counting them against `MAX_LAYERS`.

    YAML aliases let one list of layers (or one layer, or one field's list) appear many
    times: a 60 KB file can describe 100,000 layers. The parser gives every appearance
    the same object, so each is read once and reused; each appearance still counts
    against `MAX_LAYERS`, and against `MAX_DEPTH` at the depth where it appears.
    """

    defaults: _Defaults
    count: int = 0
    read: dict[int, _Read] = field(default_factory=dict)  # id of a parsed list or table
    lists: dict[int, object] = field(default_factory=dict)  # id of a field's list -> tuple
    reach: int = -1  # the deepest block seen, relative to the list being read

    def nodes(self, raw: object, path: str, depth: int) -> tuple[Node, ...]:
        if not isinstance(raw, list):
            raise _Problem(f"{path}: expected a list of layers, got {_show(raw)}")
        return self._once(raw, path, depth, lambda: tuple(
            self.node(item, f"{path}[{i}]", depth) for i, item in enumerate(raw)
        ))  # fmt: skip

    def _once(
        self, raw: object, path: str, depth: int, read: Callable[[], tuple[Node, ...]]
    ) -> tuple[Node, ...]:
        """`read()`, or what it gave for this very object before, counted again."""
        done = self.read.get(id(raw))
        if done is not None:
            self.count += done.count
            if self.count > MAX_LAYERS:
                raise _Problem(
                    f"{path}: more than {MAX_LAYERS:,} layers; a spec may hold at most that"
                )
            if done.reach >= 0:
                if depth + done.reach >= MAX_DEPTH:
                    raise _Problem(f"{path}: blocks nest more than {MAX_DEPTH} deep")
                self.reach = max(self.reach, depth + done.reach)
            return done.nodes
        count, reach = self.count, self.reach
        self.reach = -1
        nodes = read()
        own = self.reach - depth if self.reach >= 0 else -1
        self.read[id(raw)] = _Read(nodes, self.count - count, own)
        self.reach = max(reach, self.reach)
        return nodes

    def node(self, raw: object, path: str, depth: int) -> Node:
        if isinstance(raw, dict):  # a table met again through an alias is read once too
            return self._once(raw, path, depth, lambda: (self._node(raw, path, depth),))[0]
        return self._node(raw, path, depth)

    def _node(self, raw: object, path: str, depth: int) -> Node:
        self.count += 1
        if self.count > MAX_LAYERS:
            raise _Problem(f"{path}: more than {MAX_LAYERS:,} layers; a spec may hold at most that")
        table = _table(raw, path, "a layer (a table with a type)")
        type_name, cls, implied = _layer_type(table, path)
        if cls in (Sequential, Residual, Parallel):
            if depth >= MAX_DEPTH:
                raise _Problem(f"{path}: blocks nest more than {MAX_DEPTH} deep")
            self.reach = max(self.reach, depth)
        kwargs = dict(implied)
        for key, value in table.items():
            if key == "type":
                continue
            if key not in _FIELDS[cls]:
                raise _Problem(
                    f"{path}.{key}: unknown field of {type_name}{_suggest(key, _FIELDS[cls])}"
                )
            if key in implied and value != implied[key]:
                raise _Problem(f"{path}.{key}: type {_show(table['type'])} already sets {key} = "
                               f"{_show(implied[key])}, got {_show(value)}")  # fmt: skip
            kwargs[key] = self.value(key, value, f"{path}.{key}", depth)
        notes: dict[str, str] = {}
        for key, (value, origin) in self.defaults.values[cls].items():
            if key not in kwargs:
                kwargs[key] = value
                notes[key] = f"from {origin}"
        if self.defaults.same_pytorch and kwargs.get("padding") == "same":
            kwargs["padding"] = "same-pytorch"
            notes["padding"] = 'same_padding = "pytorch" reads "same" as "same-pytorch"'
        for key in _REQUIRED[cls]:
            if key not in kwargs:
                raise _Problem(f"{path}: missing {key} (required by {_TYPE_NAMES[cls]})")
        return _build(cls, kwargs, path, table, notes)

    def value(self, key: str, value: object, path: str, depth: int) -> object:
        if key in _NODE_LISTS:
            return self.nodes(value, path, depth + 1)
        if key == _BRANCHES:
            if not isinstance(value, list):
                raise _Problem(f"{path}: expected a list of branches (lists of layers), "
                               f"got {_show(value)}")  # fmt: skip
            return tuple(self.nodes(b, f"{path}[{i}]", depth + 1) for i, b in enumerate(value))
        if not isinstance(value, list):
            return _plain(value, path)
        if id(value) not in self.lists:  # a list met again through an alias is checked once
            self.lists[id(value)] = _tuples(_plain(value, path))
        return self.lists[id(value)]


def _layer_type(table: Mapping[str, object], path: str) -> tuple[str, NodeType, dict[str, object]]:
    if "type" not in table:
        raise _Problem(f'{path}: missing type (the layer type, e.g. type = "conv")')
    name = table["type"]
    if not isinstance(name, str):
        raise _Problem(f"{path}.type: expected a layer type name, got {_show(name)}")
    key = _type_key(name)
    if key in _TYPE_KEYS:
        _, cls, implied = _TYPE_KEYS[key]
        return _TYPE_NAMES[cls], cls, implied
    if key in _DEPTHWISE_KEYS:
        raise _Problem(
            f"{path}.type: there is no {_show(name)} type: a depthwise convolution is a conv "
            'with groups equal to its input channels C: write type = "conv", groups = C, '
            "out_channels = C × multiplier"
        )
    close = difflib.get_close_matches(key, _TYPE_KEYS, n=1)
    hint = (
        f'; did you mean "{_TYPE_KEYS[close[0]][0]}"?'
        if close
        else "; expected one of " + ", ".join(LAYER_TYPES)
    )
    raise _Problem(f"{path}.type: unknown layer type {_show(name)}{hint}")


_Built = TypeVar("_Built", Node, Network)


def _build(
    cls: type[_Built],
    kwargs: dict[str, Any],  # any values: the constructor validates them
    path: str,
    raw: Mapping[str, object],
    notes: Mapping[str, str] | None = None,
) -> _Built:
    """Construct `cls`; its own validation errors become problems naming the path."""
    try:
        return cls(**kwargs)
    except FieldError as error:
        shown = raw.get(error.field, kwargs.get(error.field, error.value))
        note = f" ({notes[error.field]})" if notes and error.field in notes else ""
        expected = error.expected.replace("tuple", "list")  # spec files have lists
        expected = expected.replace("True or False", "true or false")  # and lowercase flags
        where = f"{path}.{error.field}" if path else error.field
        raise _Problem(f"{where}: expected {expected}, got {_show(shown)}{note}") from None
    except ConvCostError as error:
        raise _Problem(f"{path}: {error}" if path else str(error)) from None


def _table(raw: object, path: str, what: str) -> dict[str, object]:
    if not isinstance(raw, dict):
        where = f"{path}: " if path else ""
        raise _Problem(f"{where}expected {what}, got {_show(raw)}")
    for key in raw:
        if not isinstance(key, str):
            where = f"{path}: " if path else ""
            raise _Problem(f"{where}keys must be text, got {_show(key)}")
    return raw


def _check_keys(
    table: Mapping[str, object], allowed: tuple[str, ...], path: str, what: str
) -> None:
    for key in table:
        if key not in allowed:
            where = f"{path}.{key}" if path else key
            raise _Problem(f"{where}: unknown {what}{_suggest(key, allowed)}")


def _suggest(key: str, choices: tuple[str, ...] | list[str]) -> str:
    if key in ("in_channels", "in_features"):
        return "; the input size is not written: it comes from the shape reaching the layer"
    close = [_RENAMED[key]] if _RENAMED.get(key) in choices else []
    close = close or difflib.get_close_matches(key, choices, n=1)
    if close:
        return f"; did you mean {close[0]}?"
    return "; expected one of " + ", ".join(choices)


def _plain(value: object, path: str) -> object:
    """Check a field value: a number, text, true/false, or a list (of lists) of them."""
    if not _is_plain(value):
        raise _Problem(
            f"{path}: expected a number, text, true/false or a list of them, got {_show(value)}"
        )
    return value


def _is_plain(value: object, depth: int = 0) -> bool:
    if isinstance(value, list):  # at most two levels (padding pairs) of at most 1,000 items
        return (
            depth < 2
            and len(value) <= MAX_INPUTS
            and all(_is_plain(item, depth + 1) for item in value)
        )
    if isinstance(value, int) and not isinstance(value, bool):
        return _is_small_int(value)
    return value is None or isinstance(value, (bool, float, str))


def _show(value: object, depth: int = 0) -> str:
    """A short, one-line rendering of a parsed value, in the spelling of JSON."""
    if isinstance(value, (list, tuple)):
        if depth >= 3:
            return "[...]"
        items = [_show(item, depth + 1) for item in value[:6]]
        return "[" + ", ".join(items + ["..."] * (len(value) > 6)) + "]"
    if isinstance(value, dict):
        return "a table" if depth == 0 else "{...}"
    if isinstance(value, int) and not isinstance(value, bool) and not _is_small_int(value):
        return f"an integer beyond 64 bits ({value.bit_length()} bits)"  # no str(): may be huge
    if value is None or isinstance(value, (bool, int, float, str)):
        text = json.dumps(value, ensure_ascii=False)
    else:  # dates and times from TOML or YAML
        text = f"a {type(value).__name__}"
    return text if len(text) <= 40 else text[:37] + "..."


def _check_shapes(network: Network) -> None:
    try:
        network_cost(network)
    except LayerError as error:
        node = _node_at(network, error.path)
        context = _TYPE_NAMES.get(type(node), type(node).__name__) if node else "block"
        if node is not None and node.name:
            context = f"{node.name}: {context}"
        if error.input_shape is not None:
            context += f" on input {error.input_shape}"
        raise _Problem(f"{format_path(error.path)} ({context}): {error.cause}") from None
    except ConvCostError as error:
        raise _Problem(str(error)) from None


def _node_at(network: Network, path: tuple[str | int, ...]) -> Node | None:
    """The node at a network path, or None for a join a block adds (``add``, ``concat``)."""
    nodes: tuple[Node, ...] = network.layers
    node: Node | None = None
    steps = list(path)
    while steps:
        step = steps.pop(0)
        if isinstance(step, int):
            node = nodes[step]
            continue
        if step == "branches" and isinstance(node, Parallel):
            nodes = node.branches[int(steps.pop(0))]
        elif isinstance(node, (Sequential, Residual)) and step in ("layers", "body", "shortcut"):
            nodes = getattr(node, step)
        else:
            return None
    return node


# --- writing --------------------------------------------------------------------------


def dump_spec(network: Network, format: Format) -> str:
    """The canonical spec of `network` in `format`: every field that differs from its
    default, lists for tuples, no defaults table, the input in C×H×W order.

    Raises `SpecError` for a network that could not be read back (a join layer outside a
    block, nesting or size beyond the limits, integers beyond 64 bits).
    """
    if format not in FORMATS:
        raise FieldError("format", format, "one of " + ", ".join(map(repr, FORMATS)))
    if not isinstance(network, Network):
        raise FieldError("network", network, "a Network")
    try:
        data = _Writer().network(network)
    except _Problem as problem:
        raise SpecError(network.name or "network", str(problem)) from None
    if format == "yaml":
        return _write_yaml(data, _yaml(network.name or "network"))
    return _write_toml(data) if format == "toml" else _write_json(data)


@dataclass
class _Writer:
    """Turns a network into plain data (dicts, lists, scalars), checking the read limits."""

    count: int = 0

    def network(self, network: Network) -> dict[str, object]:
        data: dict[str, object] = {} if network.name is None else {"name": network.name}
        data["input"] = str(network.input_shape)
        if network.outputs:
            data["outputs"] = list(network.outputs)
        if network.naming != "scoped":
            data["naming"] = network.naming
        if network.group_depth != 1:
            data["group_depth"] = network.group_depth
        data["layers"] = self.nodes(network.layers, "layers", 0)
        return data

    def nodes(self, nodes: tuple[Node, ...], path: str, depth: int) -> list[object]:
        return [self.node(node, f"{path}[{i}]", depth) for i, node in enumerate(nodes)]

    def node(self, node: Node, path: str, depth: int) -> dict[str, object]:
        cls = type(node)
        self.count += 1
        if self.count > MAX_LAYERS:
            raise _Problem(f"{path}: more than {MAX_LAYERS:,} layers; a spec may hold at most that")
        if cls not in _TYPE_NAMES:
            raise _Problem(f"{path}: {cls.__name__} has no spec type")
        if cls in (Sequential, Residual, Parallel) and depth >= MAX_DEPTH:
            raise _Problem(f"{path}: blocks nest more than {MAX_DEPTH} deep")
        data: dict[str, object] = {"type": _TYPE_NAMES[cls]}
        for key in _FIELDS[cls]:
            if _written(node, key):
                data[key] = self.value(key, getattr(node, key), f"{path}.{key}", depth)
        return data

    def value(self, key: str, value: Any, path: str, depth: int) -> object:
        if key in _NODE_LISTS:
            return self.nodes(value, path, depth + 1)
        if key == _BRANCHES:
            return [self.nodes(b, f"{path}[{i}]", depth + 1) for i, b in enumerate(value)]
        return _plain(_lists(value), path)


def _written(node: Node, key: str) -> bool:
    """Whether the canonical form writes field `key`: unless leaving it out changes nothing."""
    defaults = _FIELD_DEFAULTS[type(node)]
    if key in _ALWAYS_WRITTEN.get(type(node), ()) or key not in defaults:
        return True
    value, default = getattr(node, key), defaults[key]
    if type(value) is type(default) and value == default:
        return False
    return bool(replace(node, **{key: default}) != node)  # e.g. a pool's stride None


def _tuples(value: object) -> object:
    """Lists as tuples, recursively, as the layers store them."""
    if isinstance(value, list):
        return tuple(_tuples(item) for item in value)
    return value


def _lists(value: object) -> object:
    if isinstance(value, tuple):
        return [_lists(item) for item in value]
    return value


@dataclass(frozen=True)
class _Syntax:
    """How TOML or JSON spells a scalar, a key and an inline table."""

    scalar: Callable[[object], str]
    key: Callable[[str], str]
    table: str  # the braces around an inline table's pairs


def _write_toml(data: dict[str, object]) -> str:
    lines = [f"{key} = {_render(value, '', _TOML)}" for key, value in data.items()
             if key != "layers"]  # fmt: skip
    for node in cast("list[dict[str, object]]", data["layers"]):
        lines += ["", "[[layers]]"]
        lines += [f"{key} = {_render(value, '', _TOML)}" for key, value in node.items()]
    return "\n".join(lines) + "\n"


def _write_json(data: dict[str, object]) -> str:
    pairs = [f"  {json.dumps(key)}: {_render(value, '  ', _JSON)}" for key, value in data.items()]
    return "{\n" + ",\n".join(pairs) + "\n}\n"


_PLAIN_TEXT: Final = re.compile(r"[A-Za-z0-9_.:-]+")


def _write_yaml(data: dict[str, object], yaml: ModuleType) -> str:
    """PyYAML's layout; any text beyond letters, digits and ``_.:-`` goes in double quotes,
    the one style that escapes every character (plain and single-quoted text lose some,
    such as U+0085, on the way back)."""

    class Dumper(yaml.SafeDumper):  # type: ignore[name-defined,misc]
        pass

    def text(dumper: Any, value: str) -> Any:
        style = None if _PLAIN_TEXT.fullmatch(value) else '"'
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    dumped: str = yaml.dump(
        data, Dumper=Dumper, sort_keys=False, default_flow_style=None, allow_unicode=True, width=100
    )
    return dumped


def _render(value: object, indent: str, syntax: _Syntax) -> str:
    """TOML's and JSON's shared layout: a layer per line, nested blocks indented.

    TOML allows a multi-line array inside an inline table, which keeps nested blocks
    readable without ``[[layers.layers]]`` headers.
    """
    if isinstance(value, dict):
        pairs = [syntax.key(key) + _render(item, indent, syntax) for key, item in value.items()]
        return syntax.table.format(", ".join(pairs))
    if isinstance(value, list):
        inner = indent + "  "
        items = [_render(item, inner, syntax) for item in value]
        if _holds_tables(value):
            return "[\n" + ",\n".join(inner + item for item in items) + f"\n{indent}]"
        return "[" + ", ".join(items) + "]"
    return syntax.scalar(value)


def _holds_tables(value: object) -> bool:
    return isinstance(value, dict) or (
        isinstance(value, list) and any(_holds_tables(item) for item in value)
    )


_TOML_ESCAPES: Final = {
    **{code: f"\\u{code:04x}" for code in (*range(0x20), 0x7F)},
    **{ord(char): "\\" + escape for char, escape in zip('"\\\b\t\n\f\r', '"\\btnfr')},
}


def _toml_scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)  # the shortest text that reads back exactly; has a "." or an "e"
    if isinstance(value, str):
        return '"' + value.translate(_TOML_ESCAPES) + '"'
    raise TypeError(f"no TOML form for {value!r}")  # unreachable: _plain checked the data


def _json_scalar(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


_TOML: Final = _Syntax(scalar=_toml_scalar, key=lambda key: f"{key} = ", table="{{ {} }}")
_JSON: Final = _Syntax(scalar=_json_scalar, key=lambda key: f"{json.dumps(key)}: ", table="{{{}}}")
