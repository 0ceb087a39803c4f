"""Networks from Keras models: ``from_keras("model.keras")`` is a `Network` convcost can cost.

A model's architecture is its config: the ``config.json`` of a ``.keras`` archive, or the
text of ``model.to_json()``. It is read with the standard library alone (no Keras, no
TensorFlow, no h5py), never executed, and the weights are never read: a config says every
layer's hyper-parameters, and shapes say the rest.

* A ``.keras`` file is a zip. It is mapped through `convcost.files.map_file` and opened in
  place (never extracted, no name taken from it); only ``config.json`` and
  ``metadata.json`` are read, each within a size bound (`MAX_CONFIG_BYTES`,
  `MAX_METADATA_BYTES`) and a compression-ratio bound (`MAX_COMPRESSION_RATIO`), with a
  bounded read; an archive of more than `MAX_MEMBERS` members is refused before its
  directory is parsed. ``model.weights.h5`` and anything else are ignored.
* Sequential and functional models (Keras 3's ``inbound_nodes`` of ``args``/``kwargs``
  holding ``__keras_tensor__`` entries, and Keras 2's lists), nested models (a model used as
  a layer: its layers expanded in place, named as Keras names them, and grouped as one
  stage), shared layers (one row per call; the second and later calls `shares` the first,
  so parameters count once, as Keras counts them, and MACs at every call).
* Each Keras layer becomes one row, named as Keras names it, so that a row of convcost's
  summary is a row of ``model.summary()`` (the ``activation=`` folded into a ``Conv2D`` or a
  ``Dense`` is part of its row: convcost costs activations at 0 MACs). Layers with a
  convcost family become that layer (a ``Conv2D`` is a `Conv`, so ``convcost compare``
  rewrites it); the others state their shape and weights (`Reshape`, `Select`,
  `Operator`); a layer convcost does not know (``Lambda``, a custom layer) is a `NotCounted`
  row, flagged, its shape taken from the config (``strict=True`` refuses it instead).
* Keras is channels-last; convcost's shapes are channels-first (``Shape(C, (H, W))``): the
  last axis of a Keras tensor is the channels (``Concatenate(axis=-1)`` is a channel
  concatenation). A tensor of more than four axes per sample is viewed with its leading
  axes merged, as the ONNX reader does.
* A layer (or nested model) whose config says ``"trainable": false`` has non-trainable
  weights, as Keras reports them: it becomes an `Operator` of the same shape, MACs and
  parameter count, all non-trainable (a frozen ``SeparableConv2D`` two of them).

Stages: the rows of a nested model are one stage, named after it. Other rows are grouped
by their Keras name: the name up to its first part holding a digit (``block2_sepconv1`` and
``block2_pool`` are stage ``block2``; ``conv2_block1_1_conv`` is ``conv2``; ``conv_dw_3``
and ``conv_dw_3_bn`` are ``conv_dw_3``), when consecutive rows share it; names Keras made
itself (``conv2d_3``, ``add``) and lone rows are in no stage. See docs/keras.md.
"""

from __future__ import annotations

import heapq
import json
import math
import mmap
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final, Literal, TypeAlias, cast

from convcost.costs import LayerCost, join_cost, layer_cost
from convcost.errors import ConvCostError, FieldError, ModelFileError, show
from convcost.files import map_file, source_name
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
from convcost.limits import MAX_DEPTH, MAX_LAYERS, MAX_SIZE, MAX_SPATIAL_DIMS
from convcost.network import Network, NetworkCost, Row, group_stages, network_cost
from convcost.shapes import Padding, Shape, compact

__all__ = [
    "MAX_CENTRAL_DIRECTORY_BYTES",
    "MAX_COMPRESSION_RATIO",
    "MAX_CONFIG_BYTES",
    "MAX_MEMBERS",
    "MAX_METADATA_BYTES",
    "MAX_NESTING",
    "KerasConfig",
    "from_keras",
    "is_keras_json",
    "not_counted_rows",
    "read_keras_config",
]

MAX_CONFIG_BYTES: Final = 16 << 20
"""A model config (``config.json`` in an archive, or a ``model.to_json()`` file): 16 MiB.
DenseNet121's is 0.4 MB; the largest Keras application (NASNetLarge) about 2 MB."""
MAX_METADATA_BYTES: Final = 64 << 10
"""An archive's ``metadata.json`` (64 bytes in practice): 64 KiB."""
MAX_COMPRESSION_RATIO: Final = 200
"""Uncompressed over compressed size of an archive member read. Keras configs deflate
30-50 to 1 (DenseNet121: 45); a deflate bomb reaches 1,000 to 1."""
MAX_MEMBERS: Final = 1_000
"""Members of a ``.keras`` archive (Keras writes three), counted from the archive's end
record before its directory is parsed."""
MAX_CENTRAL_DIRECTORY_BYTES: Final = 1 << 20
"""The archive's directory of members, checked before it is parsed: 1 MiB."""
MAX_NESTING: Final = MAX_DEPTH
"""Models nested inside models (a model used as a layer of another)."""
MAX_NAME_CHARS: Final = 1_000
"""A layer or model name."""

_INPUT: Final = "input"  # the network input's name in convcost (network.INPUT_NAME)
_MODELS: Final = frozenset({"Sequential", "Functional", "Model"})
_STRUCTURE_DEPTH: Final = 16  # lists nested in a node's arguments, or in a model's outputs

Config: TypeAlias = Mapping[str, object]
Dims: TypeAlias = tuple[int, ...]
"""A Keras tensor's sizes for one sample: the batch axis dropped, channels last."""
Declared: TypeAlias = tuple[int | None, ...]
"""Sizes as a config records them: None where the size is not fixed."""


# --- reading files --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KerasConfig:
    """A model's config as read from a file: `config` the parsed JSON, `keras_version` as
    ``metadata.json`` (or ``model.to_json()``) records it, when it does."""

    config: Config
    keras_version: str | None = None


class _Mapped:
    """A read-only file over a memory map, for `zipfile` (an mmap has no ``seekable``
    before Python 3.13); nothing is copied but what is read."""

    def __init__(self, data: mmap.mmap) -> None:
        self._data = data
        self._at = 0

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._at

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self._at, len(self._data))[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._at = base + offset
        return self._at

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size is None or size < 0 else self._at + size
        chunk = self._data[self._at : end]
        self._at += len(chunk)
        return chunk


def read_keras_config(path: str | os.PathLike[str]) -> KerasConfig:
    """The config of a ``.keras`` archive, or of a ``model.to_json()`` / ``config.json``
    file; every problem is a `ModelFileError` naming the file."""
    where = source_name(path) if isinstance(path, (str, os.PathLike)) else "<file>"
    with map_file(path, error=ModelFileError) as data:
        if data[:2] == b"PK":
            return _archive(data, where)
        if data[:8] == b"\x89HDF\r\n\x1a\n":
            raise ModelFileError(
                where,
                "is an HDF5 (.h5) Keras file, which convcost does not read: save the model "
                "as .keras (model.save('model.keras')) or write model.to_json() to a file",
            )
        if len(data) > MAX_CONFIG_BYTES:
            raise ModelFileError(
                where,
                f"is {len(data):,} bytes; a Keras config is read up to {MAX_CONFIG_BYTES:,} "
                "bytes (is it a .keras archive? it does not start as a zip)",
            )
        config = _json(data[:], where, "")
    version = config.get("keras_version")
    return KerasConfig(config, version if isinstance(version, str) else None)


_KERAS_JSON: Final = re.compile(
    rb'\A(?:\xef\xbb\xbf)?\s*\{\s*(?:"module"\s*:\s*"[^"]{0,100}"\s*,\s*)?'
    rb'"class_name"\s*:\s*"(?:Sequential|Functional|Model)"'
)


def is_keras_json(path: str | os.PathLike[str]) -> bool:
    """Whether a ``.json`` file is a Keras model config (``model.to_json()``) rather than a
    convcost spec: it opens as Keras writes one, ``{"module": ..., "class_name":
    "Functional"`` or ``{"class_name": "Sequential"``. Only its first bytes are read; a
    file that cannot be read is no Keras config (its reader then says why)."""
    try:
        with map_file(path, error=ModelFileError) as data:
            return _KERAS_JSON.match(data[:512]) is not None
    except ModelFileError:
        return False


def _archive(data: mmap.mmap, where: str) -> KerasConfig:
    _check_directory(data, where)
    try:
        with zipfile.ZipFile(_Mapped(data)) as archive:
            text = _member(archive, "config.json", MAX_CONFIG_BYTES, where)
            meta = _member(archive, "metadata.json", MAX_METADATA_BYTES, where, required=False)
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
            ValueError, RuntimeError, NotImplementedError, IndexError) as problem:  # fmt: skip
        detail = " ".join(str(problem).split()) or type(problem).__name__
        raise ModelFileError(where, f"is not a readable .keras archive: {detail[:200]}") from None
    assert text is not None  # required=True
    config = _json(text, where, "config.json: ")
    version = None
    if meta is not None:
        try:
            info = json.loads(meta)
        except (ValueError, RecursionError):
            info = None  # the version is informative only
        if isinstance(info, dict) and isinstance(info.get("keras_version"), str):
            version = info["keras_version"]
    return KerasConfig(config, version)


_END: Final = b"PK\x05\x06"
_END64_LOCATOR: Final = b"PK\x06\x07"
_END64: Final = b"PK\x06\x06"


def _check_directory(data: mmap.mmap, where: str) -> None:
    """Refuse an archive whose end record claims more than `MAX_MEMBERS` members or a
    directory over `MAX_CENTRAL_DIRECTORY_BYTES`, before `zipfile` parses (and holds) it."""
    at = data.rfind(_END, max(0, len(data) - 22 - 0xFFFF))
    if at < 0 or at + 22 > len(data):
        return  # no end record: zipfile says the file is not a zip
    members = int.from_bytes(data[at + 10 : at + 12], "little")
    directory = int.from_bytes(data[at + 12 : at + 16], "little")
    locator = at - 20
    if locator >= 0 and data[locator : locator + 4] == _END64_LOCATOR:
        offset = int.from_bytes(data[locator + 8 : locator + 16], "little")
        if offset + 56 <= len(data) and data[offset : offset + 4] == _END64:
            members = int.from_bytes(data[offset + 32 : offset + 40], "little")
            directory = int.from_bytes(data[offset + 40 : offset + 48], "little")
    if members > MAX_MEMBERS:
        raise ModelFileError(
            where, f"is an archive of {members:,} members; a .keras file is read with at most "
            f"{MAX_MEMBERS:,}"
        )  # fmt: skip
    if directory > MAX_CENTRAL_DIRECTORY_BYTES:
        raise ModelFileError(
            where, f"is an archive whose directory claims {directory:,} bytes; at most "
            f"{MAX_CENTRAL_DIRECTORY_BYTES:,} are read"
        )  # fmt: skip


def _member(
    archive: zipfile.ZipFile, name: str, limit: int, where: str, *, required: bool = True
) -> bytes | None:
    """One member's bytes, read only within `limit` and `MAX_COMPRESSION_RATIO`."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        if not required:
            return None
        raise ModelFileError(
            where, f"is a zip without {name}: not a .keras archive (Keras 3's model.save "
            "writes one)"
        ) from None  # fmt: skip
    if info.is_dir():
        raise ModelFileError(where, f"holds {name} as a folder, not a file")
    if info.file_size > limit:
        raise ModelFileError(
            where, f"{name} claims {info.file_size:,} bytes; at most {limit:,} are read"
        )
    if info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
        raise ModelFileError(
            where,
            f"{name} claims {info.file_size:,} bytes from {info.compress_size:,} compressed, "
            f"a ratio over {MAX_COMPRESSION_RATIO}:1 (a zip bomb?)",
        )
    with archive.open(info) as member:
        content = member.read(limit + 1)  # zipfile stops at the size claimed, checks its CRC
    if len(content) > limit:
        raise ModelFileError(where, f"{name} holds more than {limit:,} bytes")
    return content


def _json(data: bytes, where: str, member: str) -> Config:
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as problem:
        raise ModelFileError(
            where, f"{member}not UTF-8 text (byte 0x{data[problem.start]:02x}): not a Keras "
            "config (a .keras archive or model.to_json() output)"
        ) from None  # fmt: skip
    try:
        value = json.loads(text)
    except json.JSONDecodeError as problem:
        raise ModelFileError(
            where, f"{member}invalid JSON: {problem.msg} (line {problem.lineno}); not a Keras "
            "config (a .keras archive or model.to_json() output)"
        ) from None  # fmt: skip
    except (RecursionError, MemoryError):
        raise ModelFileError(where, f"{member}invalid JSON: nested too deeply to read") from None
    except ValueError as problem:  # an integer of more than 4,300 digits
        raise ModelFileError(where, f"{member}invalid JSON: {show(str(problem))}") from None
    if not isinstance(value, dict):
        raise ModelFileError(
            where, f"{member}holds a JSON {type(value).__name__}, not a Keras model config"
        )
    return value


# --- the public entry ---------------------------------------------------------------------


def from_keras(
    source: str | os.PathLike[str] | Mapping[str, object] | KerasConfig,
    input_shape: Shape | None = None,
    *,
    strict: bool = False,
) -> Network:
    """The network of a Keras model: a ``.keras`` file, a ``model.to_json()`` (or
    ``config.json``) file, or such a config already parsed (``json.loads(model.to_json())``).

    `input_shape` (one sample, channels first as everywhere in convcost:
    ``Shape(3, (224, 224))``) gives sizes the model leaves open (``Input((None, None, 3))``)
    or replaces its sizes; a model of several inputs takes them from its config. With
    `strict`, a layer convcost does not know is an error rather than a row flagged "not
    counted". Every problem with the model is a `ModelFileError` naming it.
    """
    if input_shape is not None and not isinstance(input_shape, Shape):
        raise FieldError("input_shape", input_shape, "a Shape (see parse_shape) or None")
    if not isinstance(strict, bool):
        raise FieldError("strict", strict, "True or False")
    if isinstance(source, KerasConfig):
        loaded, where = source, "<keras config>"
    elif isinstance(source, Mapping):
        loaded, where = KerasConfig(source), "<keras config>"
    elif isinstance(source, (str, os.PathLike)) and not isinstance(source, bytes):
        loaded = read_keras_config(source)
        where = source_name(source)
    else:
        raise FieldError(
            "source", source, "a .keras file name, a model.to_json() file name or a parsed config"
        )
    try:
        model = _parse_root(loaded)
        return _Converter(where, input_shape).network(model, strict=strict)
    except _Refused as problem:
        raise ModelFileError(where, str(problem)) from None
    except ModelFileError:
        raise
    except ConvCostError as error:
        raise ModelFileError(where, str(error)) from None


def not_counted_rows(cost: NetworkCost) -> tuple[Row, ...]:
    """The rows of layers convcost does not know: their MACs are not in the totals."""
    if not isinstance(cost, NetworkCost):
        raise FieldError("cost", cost, "a NetworkCost")
    return tuple(row for row in cost.rows if isinstance(row.cost.layer, NotCounted))


# --- the config, parsed -----------------------------------------------------------------------


class _Refused(Exception):
    """A problem with the config; the caller adds the file (and the layer) to the message."""


@dataclass(frozen=True, slots=True)
class _Ref:
    """A tensor a node reads: the `node`-th call of layer `name`, its `tensor`-th output,
    and the sizes the config records for it (Keras 3 records them, Keras 2 does not)."""

    name: str
    node: int
    tensor: int
    declared: Declared | None = None


@dataclass(frozen=True, slots=True)
class _LayerSpec:
    name: str
    class_name: str
    config: Config
    builtin: bool  # a layer of Keras itself (else a custom layer: flagged)
    trainable: bool
    nodes: tuple[tuple[_Ref, ...], ...]  # the calls, each its input tensors
    model: _Model | None  # a nested model
    legacy: bool  # Keras 2 node lists (their node indices skip a nested model's first)
    built_on: Declared | None  # build_config's input shape: the previous layer's output


@dataclass(frozen=True, slots=True)
class _Model:
    name: str
    class_name: str
    sequential: bool
    layers: tuple[_LayerSpec, ...]
    inputs: tuple[_Ref, ...]  # functional: the input layers
    outputs: tuple[_Ref, ...]
    trainable: bool
    declared_input: Declared | None  # sequential: the input shape it was built for
    legacy: bool

    @property
    def skips_first_node(self) -> bool:
        """Whether another model's config counts this model's calls from 1: a functional
        model has a first node of its own, from its construction (Keras 2: a Sequential
        with an input layer too)."""
        if not self.sequential:
            return True
        return self.legacy and bool(self.layers) and self.layers[0].class_name == "InputLayer"


def _mapping(value: object, what: str) -> Config:
    if not isinstance(value, Mapping):
        raise _Refused(f"{what} must be a JSON object, got {show(value)}")
    return cast(Config, value)


def _name(value: object, what: str) -> str:
    if (
        not isinstance(value, str)
        or not value
        or len(value) > MAX_NAME_CHARS
        or value.splitlines() != [value]
    ):
        raise _Refused(f"{what} must be a name (a line of text), got {show(value)}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Refused(f"{what} {show(value)} is not valid text") from None
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _declared(value: object, what: str, *, batch: bool) -> Declared:
    """Sizes as a config writes them (a list of ints and nulls), the batch axis dropped."""
    if not isinstance(value, (list, tuple)) or len(value) > 64:
        raise _Refused(f"{what} must be a list of sizes, got {show(value)}")
    if batch:
        if not value:
            raise _Refused(f"{what} must hold the batch axis, got {show(value)}")
        value = value[1:]
    sizes: list[int | None] = []
    for size in value:
        if size is None:
            sizes.append(None)
        elif _is_int(size) and 1 <= cast(int, size) <= MAX_SIZE:
            sizes.append(cast(int, size))
        else:
            raise _Refused(f"{what} must be positive sizes or null, got {show(value)}")
    return tuple(sizes)


def _parse_root(loaded: KerasConfig) -> _Model:
    root = _mapping(loaded.config, "the config")
    class_name = root.get("class_name")
    version = f" (Keras {loaded.keras_version})" if loaded.keras_version else ""
    if not isinstance(class_name, str) or class_name not in _MODELS:
        known = isinstance(class_name, str) and class_name in _HANDLERS
        what = (
            f"the config of one {show(class_name)} layer, not of a model"
            if known
            else f"a config of class {show(class_name)}{version}, not a Keras model "
            "(Sequential or Functional)"
        )
        raise _Refused(what)
    return _parse_model(root, depth=0)


def _parse_model(entry: Config, depth: int) -> _Model:
    if depth > MAX_NESTING:
        raise _Refused(f"models nest more than {MAX_NESTING} deep")
    class_name = cast(str, entry.get("class_name"))
    raw = entry.get("config")
    if isinstance(raw, list):  # Keras 2.0-2.2: a Sequential's config is its list of layers
        raw = {"layers": raw}
    config = _mapping(raw, f"the {class_name} model's config")
    name = config.get("name", entry.get("name", class_name.lower()))
    name = _name(name, "a model's name")
    layers_raw = config.get("layers")
    if not isinstance(layers_raw, list):
        raise _Refused(
            f"model {show(name)} ({class_name}) has no list of layers: a subclassed model, "
            "whose config does not describe its layers (convcost reads Sequential and "
            "functional models)"
        )
    if len(layers_raw) > MAX_LAYERS:
        raise _Refused(f"model {show(name)} has more than {MAX_LAYERS:,} layers")
    sequential = class_name == "Sequential"
    layers = tuple(
        _parse_layer(_mapping(item, f"layer #{index} of model {show(name)}"), index, depth)
        for index, item in enumerate(layers_raw)
    )
    legacy = any(spec.legacy for spec in layers) or not any("module" in cast(Config, item)
                                                            for item in layers_raw)  # fmt: skip
    trainable = config.get("trainable", True) is not False
    if sequential:
        declared = _sequential_input(config, layers)
        return _Model(name, class_name, True, layers, (), (), trainable, declared, legacy)
    inputs = tuple(_refs(config.get("input_layers"), "input_layers"))
    outputs = tuple(_refs(config.get("output_layers"), "output_layers"))
    if not inputs:
        raise _Refused(f"model {show(name)} names no input layers")
    if not outputs:
        raise _Refused(f"model {show(name)} names no output layers")
    return _Model(name, class_name, False, layers, inputs, outputs, trainable, None, legacy)


def _parse_layer(entry: Config, index: int, depth: int) -> _LayerSpec:
    class_name = entry.get("class_name")
    if not isinstance(class_name, str) or not class_name or len(class_name) > 200:
        raise _Refused(f"layer #{index} has no class_name")
    config = _mapping(entry.get("config", {}), f"the config of layer #{index} ({class_name})")
    name = _name(entry.get("name", config.get("name")), f"layer #{index} ({class_name})'s name")
    module = entry.get("module")
    builtin = module is None or (
        isinstance(module, str)
        and module.split(".")[0] in ("keras", "tf_keras")
        and ".ops" not in module  # keras.src.ops.numpy: an operation, not a layer
    )
    model = None
    if class_name in _MODELS and builtin and isinstance(config.get("layers"), list):
        model = _parse_model(entry, depth + 1)
    raw_nodes = entry.get("inbound_nodes", [])
    if not isinstance(raw_nodes, list):
        raise _Refused(f"layer {show(name)}'s inbound_nodes must be a list")
    nodes = []
    legacy = False
    for node in raw_nodes:
        if isinstance(node, Mapping):
            refs: list[_Ref] = []
            _tensors(node.get("args", []), refs, 0)
            _tensors(node.get("kwargs", {}), refs, 0)
            nodes.append(tuple(refs))
        elif isinstance(node, list):
            legacy = True
            nodes.append(tuple(_legacy_ref(item, name) for item in node))
        else:
            raise _Refused(f"layer {show(name)} has an inbound node that is not a list or object")
    built = entry.get("build_config")
    built_on = None
    if isinstance(built, Mapping):
        shape = built.get("input_shape")
        if isinstance(shape, list) and all(s is None or _is_int(s) for s in shape):
            try:
                built_on = _declared(shape, "build_config", batch=True)
            except _Refused:
                built_on = None
    return _LayerSpec(
        name=name,
        class_name=class_name,
        config=config,
        builtin=builtin,
        trainable=config.get("trainable", True) is not False,
        nodes=tuple(nodes),
        model=model,
        legacy=legacy,
        built_on=built_on,
    )


def _tensors(value: object, found: list[_Ref], depth: int) -> None:
    """The ``__keras_tensor__`` entries of a Keras 3 node's arguments, in order."""
    if depth > _STRUCTURE_DEPTH:
        raise _Refused("a node's arguments nest too deeply")
    if isinstance(value, Mapping):
        if value.get("class_name") == "__keras_tensor__":
            config = _mapping(value.get("config"), "a tensor's config")
            history = config.get("keras_history")
            ref = _ref(history, "keras_history")
            declared = None
            shape = config.get("shape")
            if isinstance(shape, list) and shape:
                try:
                    declared = _declared(shape, "a tensor's shape", batch=True)
                except _Refused:
                    declared = None
            found.append(replace(ref, declared=declared))
            return
        for item in value.values():
            _tensors(item, found, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _tensors(item, found, depth + 1)


def _ref(value: object, what: str) -> _Ref:
    if (
        not isinstance(value, list)
        or len(value) < 3
        or not isinstance(value[0], str)
        or not all(_is_int(v) and 0 <= v <= MAX_LAYERS for v in value[1:3])
    ):
        raise _Refused(f"{what} must be [layer name, node index, tensor index], got {show(value)}")
    return _Ref(_name(value[0], what), value[1], value[2])


def _legacy_ref(value: object, reader: str) -> _Ref:
    return _ref(value, f"layer {show(reader)}'s inbound node")


def _refs(value: object, what: str, depth: int = 0) -> Iterator[_Ref]:
    """The tensors of ``input_layers`` / ``output_layers``: one ``[name, node, tensor]``, or
    lists (or a dict) of them."""
    if depth > _STRUCTURE_DEPTH:
        raise _Refused(f"{what} nest too deeply")
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        yield _ref(value, what)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item, what, depth + 1)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _refs(item, what, depth + 1)
    elif value is not None:
        raise _Refused(f"{what} must list [layer name, node index, tensor index] entries")


def _sequential_input(config: Config, layers: Sequence[_LayerSpec]) -> Declared | None:
    """The input shape a Sequential model declares: its input layer, its build shape, or
    its first layer's ``batch_input_shape`` (Keras 2)."""
    if layers and layers[0].class_name == "InputLayer":
        return _input_layer_shape(layers[0])
    built = config.get("build_input_shape")
    if isinstance(built, list):
        return _declared(built, "build_input_shape", batch=True)
    if layers:
        first = layers[0].config
        for key in ("batch_input_shape", "batch_shape"):
            if isinstance(first.get(key), list):
                return _declared(first[key], key, batch=True)
        return layers[0].built_on
    return None


def _input_layer_shape(spec: _LayerSpec) -> Declared:
    config = spec.config
    for key, batch in (("batch_shape", True), ("batch_input_shape", True),
                       ("shape", False), ("input_shape", False)):  # fmt: skip
        value = config.get(key)
        if value is not None:
            return _declared(value, f"input layer {show(spec.name)}'s {key}", batch=batch)
    raise _Refused(f"input layer {show(spec.name)} gives no shape")


# --- shapes --------------------------------------------------------------------------------


def _view(dims: Dims) -> Shape:
    """A Keras tensor (channels last) as a convcost shape (channels first); more than three
    axes before the channels are merged, leading ones first."""
    if not dims:
        return Shape(1)
    spatial = list(dims[:-1])
    while len(spatial) > MAX_SPATIAL_DIMS:
        spatial[:2] = [spatial[0] * spatial[1]]
    return Shape(dims[-1], tuple(spatial))


def _sizes(dims: Dims) -> tuple[int, ...]:
    """`dims` as a `Reshape`/`Operator` shape field: channels, then the rest."""
    view = _view(dims)
    return (view.channels, *view.spatial)


def _show(dims: Sequence[int | None]) -> str:
    return "x".join("?" if size is None else str(size) for size in dims) or "a scalar"


def _matches(dims: Dims, declared: Declared) -> bool:
    return len(dims) == len(declared) and all(d is None or d == s for s, d in zip(dims, declared))


def _broadcast(shapes: Sequence[Dims]) -> Dims | None:
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


# --- the conversion ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Tensor:
    """A tensor while converting: the row giving it (a row id, or ``input``), its sizes."""

    source: str
    dims: Dims


@dataclass(frozen=True, slots=True)
class _Scope:
    """Where a call happens: inside which nested models (`path`), in which stage (the
    outermost nested model), frozen or not, how deep."""

    path: tuple[str, ...] = ()
    group: str | None = None
    frozen: bool = False
    depth: int = 0


@dataclass(slots=True)
class _Row:
    layer: Layer  # named by its row id ("#7"), reading row ids
    keras_name: str  # the Keras layer's name (before names are made unique)
    class_name: str
    key: tuple[str, ...]  # the Keras layer (its nested models' names and its own)
    group: str | None
    cost: LayerCost
    primary: bool  # the first call of the layer (it keeps the Keras name)
    suffix: str = ""  # ":1" for a further output, "/depthwise" for a part


@dataclass(frozen=True, slots=True)
class _Call:
    """One call of one Keras layer, as a handler sees it."""

    spec: _LayerSpec
    inputs: tuple[_Tensor, ...]
    declared: Declared | None  # the output sizes the config records, when they still hold

    @property
    def config(self) -> Config:
        return self.spec.config

    def one(self) -> _Tensor:
        if len(self.inputs) != 1:
            raise _Refused(f"reads {len(self.inputs)} tensors; a {self.spec.class_name} reads one")
        return self.inputs[0]

    def spatial(self, rank: int) -> _Tensor:
        """The one input, of `rank` spatial axes and channels (channels last)."""
        x = self.one()
        if len(x.dims) != rank + 1:
            raise _Refused(
                f"reads a tensor of {len(x.dims)} axes per sample ({_show(x.dims)}); a "
                f"{self.spec.class_name} reads {rank + 1} ({rank} spatial, then channels)"
            )
        self.channels_last()
        return x

    def channels_last(self) -> None:
        data_format = self.config.get("data_format")
        if data_format not in (None, "channels_last"):
            raise _Refused(
                f"has data_format={show(data_format)}; convcost reads channels_last models "
                "(Keras's default)"
            )

    # -- typed fields ------------------------------------------------------------------

    def integer(self, key: str, default: int | None = None, *, minimum: int = 1) -> int:
        value = self.config.get(key, default)
        if value is None and default is not None:
            value = default
        if not _is_int(value) or not minimum <= cast(int, value) <= MAX_SIZE:
            raise _Refused(f"{key} must be an integer of at least {minimum}, got {show(value)}")
        return cast(int, value)

    def integers(
        self, key: str, rank: int, default: int | None = None, *, minimum: int = 1
    ) -> Dims:
        """An int or a list of `rank` ints (``kernel_size``, ``strides``)."""
        value = self.config.get(key, default)
        if value is None and default is not None:
            value = default
        items = [value] * rank if _is_int(value) else value
        if (
            not isinstance(items, (list, tuple))
            or len(items) != rank
            or not all(_is_int(v) and minimum <= v <= MAX_SIZE for v in items)
        ):
            raise _Refused(
                f"{key} must be an integer or {rank} integers of at least {minimum}, "
                f"got {show(value)}"
            )
        return tuple(cast(int, v) for v in items)

    def flag(self, key: str, default: bool) -> bool:
        value = self.config.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise _Refused(f"{key} must be true or false, got {show(value)}")
        return value

    def text(self, key: str, default: str) -> str:
        value = self.config.get(key, default)
        if value is None:
            return default
        if not isinstance(value, str):
            raise _Refused(f"{key} must be text, got {show(value)}")
        return value.lower()

    def number(self, key: str, default: float | None) -> float | None:
        value = self.config.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Refused(f"{key} must be a number, got {show(value)}")
        try:
            return float(value)
        except OverflowError:
            raise _Refused(f"{key} must be a number, got {show(value)}") from None

    def axes(self, key: str, dims: Dims, default: object = -1) -> tuple[int, ...]:
        """The axes an ``axis`` field names, as indices into `dims` (the batch axis, 0 in
        Keras, is not one); ``null`` is no axis."""
        value = self.config.get(key, default)
        if value is None:
            return ()
        items = [value] if _is_int(value) else value
        if not isinstance(items, (list, tuple)) or len(items) > 64:
            raise _Refused(f"{key} must be an axis or a list of axes, got {show(value)}")
        rank = len(dims) + 1
        axes = []
        for item in items:
            index = cast(int, item) + rank if _is_int(item) and cast(int, item) < 0 else item
            if not _is_int(index) or not 1 <= cast(int, index) < rank:
                raise _Refused(
                    f"{key}={show(value)} names no axis of a tensor of {rank} axes "
                    f"(batch, {_show(dims)})"
                )
            axes.append(cast(int, index) - 1)
        return tuple(sorted(set(axes)))


@dataclass(frozen=True, slots=True)
class _Made:
    """What a handler makes of a call: a layer, the sizes it gives when they are not its
    convcost shape read channels last, and the tensors its row reads (all of a join's,
    else the first)."""

    layer: Layer
    dims: Dims | None = None
    reads: tuple[_Tensor, ...] | None = None


Handler: TypeAlias = Callable[[_Call], _Made]
_HANDLERS: dict[str, Handler] = {}


def _handles(*class_names: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for class_name in class_names:
            _HANDLERS[class_name] = handler
        return handler

    return register


@dataclass
class _Converter:
    where: str
    input_shape: Shape | None
    rows: list[_Row] = field(default_factory=list)
    first: dict[tuple[str, ...], int] = field(default_factory=dict)  # layer key -> its row
    resized: bool = False  # input sizes replaced: shapes the config records may not hold

    # -- the whole model -------------------------------------------------------------------

    def network(self, model: _Model, *, strict: bool) -> Network:
        if _expanded_rows(model) > MAX_LAYERS:
            raise _Refused(
                f"the model expands to more than {MAX_LAYERS:,} layers (nested models called "
                "again and again): convcost reads at most that"
            )
        scope = _Scope(frozen=not model.trainable)
        inputs, input_shape = self._inputs(model)
        outputs = self._model(model, inputs, scope)
        if strict:
            self._refuse_not_counted()
        if not self.rows:
            raise _Refused(f"model {show(model.name)} has no layer to count")
        return self._assemble(model, input_shape, outputs)

    def _inputs(self, model: _Model) -> tuple[list[_Tensor], Shape]:
        """The model's input tensors and the network's input shape: the one input itself,
        or, for several inputs, one flat vector holding them all, from which a `Select`
        row per input takes its own (convcost networks have one input)."""
        if model.sequential:
            first = model.layers[0] if model.layers else None
            name = first.name if first is not None and first.class_name == "InputLayer" else "input"
            declared: list[tuple[str, Declared | None]] = [(name, model.declared_input)]
        else:
            specs = {spec.name: spec for spec in model.layers}
            declared = []
            for ref in model.inputs:
                spec = specs.get(ref.name)
                if spec is None or spec.class_name != "InputLayer":
                    raise _Refused(f"the model's input {show(ref.name)} is no input layer of it")
                declared.append((spec.name, _input_layer_shape(spec)))
        if self.input_shape is not None and len(declared) > 1:
            raise _Refused(
                f"the model has {len(declared)} inputs; --input gives the shape of a model of "
                "one input (the inputs' own shapes are used)"
            )
        dims = [self._input_dims(name, shape) for name, shape in declared]
        if len(dims) == 1:
            return [_Tensor(_INPUT, dims[0])], _view(dims[0])
        whole = Shape(sum(_view(d).numel for d in dims))
        tensors = []
        for (name, _), sizes in zip(declared, dims):
            layer = Select(shape=_sizes(sizes))
            cost = layer_cost(layer, whole)
            tensors.append(self._add(layer, name, "InputLayer", (name,), None, cost, sizes))
        return tensors, whole

    def _input_dims(self, name: str, declared: Declared | None) -> Dims:
        given = self.input_shape
        if given is not None:
            wanted = (*given.spatial, given.channels)
            if declared is not None:
                if len(declared) != len(wanted):
                    raise _Refused(
                        f"--input {given} has {len(wanted)} sizes, but the model's input "
                        f"{show(name)} has {len(declared)} per sample ({_show(declared)}, "
                        "channels last)"
                    )
                if declared[-1] is not None and declared[-1] != given.channels:
                    raise _Refused(
                        f"--input {given} has {given.channels} channels, but the model's input "
                        f"{show(name)} has {declared[-1]} ({_show(declared)}, channels last); "
                        "--input is channels first: C×H×W, or hwc:H×W×C"
                    )
                self.resized = self.resized or not _matches(wanted, declared)
            else:
                self.resized = True
            return wanted
        if declared is None:
            raise _Refused(
                f"the model's input {show(name)} has no shape in the config; give it with "
                "--input (e.g. --input 3x224x224)"
            )
        if None in declared:
            raise _Refused(
                f"the model's input {show(name)} has sizes the config does not fix "
                f"({_show(declared)}, channels last); give them with --input "
                "(e.g. --input 3x224x224)"
            )
        return cast(Dims, declared)

    # -- models ------------------------------------------------------------------------------

    def _model(self, model: _Model, inputs: Sequence[_Tensor], scope: _Scope) -> list[_Tensor]:
        if model.sequential:
            return self._sequential(model, inputs, scope)
        return self._functional(model, inputs, scope)

    def _sequential(self, model: _Model, inputs: Sequence[_Tensor], scope: _Scope) -> list[_Tensor]:
        if len(inputs) != 1:
            raise _Refused(
                f"Sequential model {show(model.name)} reads one tensor, got {len(inputs)}"
            )
        x = inputs[0]
        layers = [spec for spec in model.layers if spec.class_name != "InputLayer"]
        _unique_names(model)
        for index, spec in enumerate(layers):
            following = layers[index + 1] if index + 1 < len(layers) else None
            declared = following.built_on if following is not None else None
            recorded = None if spec.built_on is None else (spec.built_on,)
            outputs = self._call(spec, (x,), scope, [declared], recorded)
            if len(outputs) != 1:
                raise _Refused(
                    f"layer {show(spec.name)} of Sequential model {show(model.name)} gives "
                    f"{len(outputs)} tensors; a Sequential model's layers give one"
                )
            x = outputs[0]
        return [x]

    def _functional(self, model: _Model, inputs: Sequence[_Tensor], scope: _Scope) -> list[_Tensor]:
        index = _unique_names(model)
        if len(inputs) != len(model.inputs):
            raise _Refused(
                f"model {show(model.name)} reads {len(model.inputs)} tensors, got {len(inputs)}"
            )
        produced: dict[tuple[int, int], list[_Tensor]] = {}
        for ref, tensor in zip(model.inputs, inputs):
            found = index.get(ref.name)
            if found is None or model.layers[found].class_name != "InputLayer":
                raise _Refused(
                    f"model {show(model.name)}'s input {show(ref.name)} is no input layer of it"
                )
            produced[(found, 0)] = [tensor]
        # Keras's own order, as loading the model calls its layers: each ready call, layer
        # by layer in the config's order, a layer's calls in turn (a heap keeps it linear).
        waiting: dict[tuple[int, int], int] = {}
        readers: dict[tuple[int, int], list[tuple[int, int]]] = {}
        sources: dict[tuple[int, int], list[tuple[tuple[int, int], _Ref]]] = {}
        declared: dict[tuple[int, int, int], Declared] = {}  # (layer, node, tensor) -> sizes
        for position, spec in enumerate(model.layers):
            if spec.class_name == "InputLayer":
                continue
            for node, refs in enumerate(spec.nodes):
                key = (position, node)
                needs = set()
                resolved = []
                for ref in refs:
                    target = self._target(model, index, ref, spec, reading=True)
                    resolved.append((target, ref))
                    if ref.declared is not None:
                        declared.setdefault((*target, ref.tensor), ref.declared)
                    if target not in produced:
                        needs.add(target)
                if node:
                    needs.add((position, node - 1))
                sources[key] = resolved
                waiting[key] = len(needs)
                for need in needs:
                    readers.setdefault(need, []).append(key)
        for key in list(waiting):
            for ref_key, ref in sources[key]:
                spec = model.layers[ref_key[0]]
                if ref_key not in produced and ref_key not in waiting:
                    raise _Refused(
                        f"layer {show(model.layers[key[0]].name)} reads {show(ref.name)}, "
                        "an input layer that is not an input of the model"
                        if spec.class_name == "InputLayer"
                        else f"layer {show(model.layers[key[0]].name)} reads call {ref.node} "
                        f"of {show(ref.name)}, which the config does not have"
                    )
        wanted: dict[tuple[int, int], int] = {}  # call -> how many of its outputs are read
        for resolved in sources.values():
            for ref_key, ref in resolved:
                wanted[ref_key] = max(wanted.get(ref_key, 1), ref.tensor + 1)
        ready = [key for key, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        done = 0
        while ready:
            key = heapq.heappop(ready)
            spec = model.layers[key[0]]
            tensors = []
            for ref_key, ref in sources[key]:
                outputs = produced[ref_key]
                if ref.tensor >= len(outputs):
                    raise _Refused(
                        f"layer {show(spec.name)} reads output {ref.tensor} of "
                        f"{show(ref.name)}, which gives {len(outputs)}"
                    )
                tensors.append(outputs[ref.tensor])
            recorded = tuple(ref.declared for _, ref in sources[key])
            gives = [declared.get((*key, t)) for t in range(min(wanted.get(key, 1), 64))]
            produced[key] = self._call(spec, tuple(tensors), scope, gives, recorded)
            done += 1
            for reader in readers.get(key, ()):
                waiting[reader] -= 1
                if waiting[reader] == 0:
                    heapq.heappush(ready, reader)
        if done < len(waiting):
            stuck = min(key for key, count in waiting.items() if count > 0)
            raise _Refused(
                f"model {show(model.name)}'s graph has a cycle through layer "
                f"{show(model.layers[stuck[0]].name)}"
            )
        results = []
        for ref in model.outputs:
            target = self._target(model, index, ref, None, reading=False)
            given = produced.get(target)
            if given is None or ref.tensor >= len(given):
                raise _Refused(
                    f"model {show(model.name)}'s output {show(ref.name)} (call {ref.node}, "
                    f"output {ref.tensor}) is not in its graph"
                )
            results.append(given[ref.tensor])
        return results

    def _target(
        self,
        model: _Model,
        index: Mapping[str, int],
        ref: _Ref,
        reader: _LayerSpec | None,
        *,
        reading: bool,
    ) -> tuple[int, int]:
        """The (layer, call) a reference means. Calls of a nested model are counted from 1
        where Keras counts its construction as call 0: in ``output_layers``, and in every
        reference of a Keras 2 config."""
        position = index.get(ref.name)
        if position is None:
            who = (
                f"layer {show(reader.name)}" if reader is not None else f"model {show(model.name)}"
            )
            raise _Refused(f"{who} reads {show(ref.name)}, which is no layer of the model")
        spec = model.layers[position]
        node = ref.node
        nested = spec.model
        if nested is not None and nested.skips_first_node and node >= 1:
            legacy = reader.legacy if reader is not None else model.legacy
            if legacy or not reading:
                node -= 1
        if spec.class_name == "InputLayer":
            node = 0
        elif node >= len(spec.nodes):
            who = (
                f"layer {show(reader.name)}" if reader is not None else f"model {show(model.name)}"
            )
            raise _Refused(
                f"{who} reads call {ref.node} of {show(ref.name)}, which the config does not have"
            )
        return position, node

    # -- one call ------------------------------------------------------------------------------

    def _call(
        self,
        spec: _LayerSpec,
        inputs: tuple[_Tensor, ...],
        scope: _Scope,
        gives: Sequence[Declared | None] = (),
        recorded: tuple[Declared | None, ...] | None = None,
    ) -> list[_Tensor]:
        """The tensors one call of `spec` gives, its rows added. `gives` are the sizes the
        config records for its outputs, `recorded` those of its inputs (None: no record)."""
        frozen = scope.frozen or not spec.trainable
        if spec.model is not None:
            if scope.depth + 1 > MAX_NESTING:
                raise _Refused(f"models nest more than {MAX_NESTING} deep")
            inner = _Scope(
                path=(*scope.path, spec.name),
                group=scope.group if scope.group is not None else spec.name,
                frozen=frozen or not spec.model.trainable,
                depth=scope.depth + 1,
            )
            return self._model(spec.model, inputs, inner)
        trusted = self._trusted(inputs, recorded)
        gives = [given if trusted else None for given in gives] or [None]
        call = _Call(spec, inputs, gives[0])
        key = (*scope.path, spec.name)
        try:
            made = self._make(call)
            tensors = [self._emit(call, made, key, scope, frozen)]
            if isinstance(made.layer, NotCounted):
                tensors += self._further_outputs(call, made, tensors[0], key, scope, gives[1:])
            return tensors
        except _Refused as problem:
            raise _Refused(
                f"layer {show(spec.name)} ({show(spec.class_name)}): {problem}"
            ) from None
        except ConvCostError as error:
            raise _Refused(f"layer {show(spec.name)} ({show(spec.class_name)}): {error}") from None

    def _trusted(
        self, inputs: tuple[_Tensor, ...], recorded: tuple[Declared | None, ...] | None
    ) -> bool:
        """Whether the sizes the config records for a call's outputs hold: it records them
        for the inputs the model was saved with, which `input_shape` may have changed."""
        if recorded is None or len(recorded) != len(inputs) or None in recorded:
            return not self.resized
        return all(_matches(t.dims, cast(Declared, r)) for t, r in zip(inputs, recorded))

    def _further_outputs(
        self,
        call: _Call,
        made: _Made,
        first: _Tensor,
        key: tuple[str, ...],
        scope: _Scope,
        gives: Sequence[Declared | None],
    ) -> list[_Tensor]:
        """The outputs after the first of a layer convcost does not know, when other layers
        read them: one flagged row each (``name:1``), its shape from the config."""
        tensors = []
        source = self.rows[int(first.source[1:])].layer.inputs
        for number, given in enumerate(gives, start=1):
            if given is None or None in given:
                raise _Refused(
                    f"its output {number} is read, and the config does not record its shape"
                )
            dims = cast(Dims, given)
            layer = NotCounted(op_type=call.spec.class_name, shape=_sizes(dims))
            cost = layer_cost(layer, _view((made.reads or call.inputs)[0].dims))
            tensors.append(self._add(layer, call.spec.name, call.spec.class_name,
                                     (*key, f":{number}"), scope.group, cost, dims,
                                     sources=source, suffix=f":{number}"))  # fmt: skip
        return tensors

    def _make(self, call: _Call) -> _Made:
        handler = _HANDLERS.get(call.spec.class_name) if call.spec.builtin else None
        if handler is None:
            return _not_counted(call, f"convcost does not know {call.spec.class_name}")
        return handler(call)

    def _emit(
        self, call: _Call, made: _Made, key: tuple[str, ...], scope: _Scope, frozen: bool
    ) -> _Tensor:
        reads = made.reads if made.reads is not None else call.inputs[:1]
        if not reads:
            raise _Refused("reads no tensor")
        layer = made.layer
        views = tuple(_view(t.dims) for t in reads)
        if isinstance(layer, (Add, Multiply, Concat)):
            cost = join_cost(layer, views)
        else:
            cost = layer_cost(layer, views[0])
        dims = made.dims if made.dims is not None else cost.output_shape.channels_last()
        recorded = call.declared
        known = not isinstance(layer, NotCounted)
        if recorded is not None and known and not _matches(dims, recorded):
            raise _Refused(
                f"convcost computes an output of {_show(dims)}, but the config records "
                f"{_show(recorded)} (channels last): an option convcost does not read?"
            )
        name, class_name = call.spec.name, call.spec.class_name
        if frozen and cost.params and all(p.macs % p.output_shape.numel == 0
                                          for p in cost.parts or (cost,)):  # fmt: skip
            return self._frozen(call, cost, reads, key, scope, dims)
        return self._add(layer, name, class_name, key, scope.group, cost, dims,
                         sources=tuple(t.source for t in reads))  # fmt: skip

    def _frozen(
        self,
        call: _Call,
        cost: LayerCost,
        reads: tuple[_Tensor, ...],
        key: tuple[str, ...],
        scope: _Scope,
        dims: Dims,
    ) -> _Tensor:
        """A layer whose weights Keras does not train: an `Operator` of the same shape,
        MACs and parameters, all non-trainable; a separable layer one per part. (A frozen
        layer whose MACs are no multiple of its output elements, as a transposed
        convolution's can be, keeps its family and counts its weights as trainable.)"""
        name, class_name = call.spec.name, call.spec.class_name
        parts = cost.parts or (cost,)
        sources = tuple(t.source for t in reads)
        tensor = reads[0]
        for number, part in enumerate(parts):
            last = number == len(parts) - 1
            outputs = part.output_shape.numel
            shape = (
                _sizes(dims) if last else (part.output_shape.channels, *part.output_shape.spatial)
            )
            operator = Operator(
                op_type=class_name,
                shape=shape,
                non_trainable_params=part.total_params,
                contraction=part.macs // outputs,
            )
            part_cost = layer_cost(operator, part.input_shape)
            suffix = "" if last else f"/{part.layer.name or 'part'}"
            tensor = self._add(
                operator, name, class_name, (*key, suffix) if suffix else key, scope.group,
                part_cost, dims if last else part.output_shape.channels_last(),
                sources=sources, suffix=suffix,
            )  # fmt: skip
            sources = (tensor.source,)
        return tensor

    def _add(
        self,
        layer: Layer,
        name: str,
        class_name: str,
        key: tuple[str, ...],
        group: str | None,
        cost: LayerCost,
        dims: Dims,
        *,
        sources: tuple[str, ...] = (_INPUT,),
        suffix: str = "",
    ) -> _Tensor:
        if len(self.rows) >= MAX_LAYERS:
            raise _Refused(f"more than {MAX_LAYERS:,} layers: convcost reads at most that")
        row_id = f"#{len(self.rows)}"
        shares = None
        earlier = self.first.get(key)
        if earlier is not None:
            first = self.rows[earlier].cost
            same_weights = first.total_params == cost.total_params
            if first.total_params and same_weights and type(first.layer) is type(layer):
                shares = f"#{earlier}"
            elif first.total_params and same_weights and not cost.macs % cost.output_shape.numel:
                # The same weights on a tensor of another rank (a Dense on a flat and on an
                # N-D tensor): the MACs of this call, the weights counted at the first.
                out = cost.output_shape
                layer = Operator(op_type=class_name, shape=(out.channels, *out.spatial),
                                 contraction=cost.macs // out.numel)  # fmt: skip
                cost = layer_cost(layer, cost.input_shape)
            elif first.total_params:
                raise _Refused(
                    f"is called again on a tensor of {_show(dims)} where its weights "
                    f"({first.total_params:,} parameters) do not fit"
                )
        else:
            self.first[key] = len(self.rows)
        layer = replace(layer, name=row_id, inputs=sources, shares=shares)
        self.rows.append(_Row(layer, name, class_name, key, group, cost,
                              primary=earlier is None, suffix=suffix))  # fmt: skip
        return _Tensor(row_id, dims)

    def _refuse_not_counted(self) -> None:
        flagged = [row for row in self.rows if isinstance(row.layer, NotCounted) and row.primary]
        if flagged:
            shown = ", ".join(f"{show(row.keras_name)} ({show(row.class_name)})"
                              for row in flagged[:3])  # fmt: skip
            more = f" and {len(flagged) - 3} more" if len(flagged) > 3 else ""
            raise _Refused(
                f"{len(flagged)} layer{'s' * (len(flagged) != 1)} convcost does not know: "
                f"{shown}{more} (--strict; without it they are rows flagged 'not counted')"
            )

    # -- assembly --------------------------------------------------------------------------

    def _assemble(self, model: _Model, input_shape: Shape, outputs: Sequence[_Tensor]) -> Network:
        final = _final_names(self.rows)
        layers: list[Layer] = []
        for row in self.rows:
            layer = row.layer
            layers.append(
                replace(
                    layer,
                    name=final[layer.name or ""],
                    inputs=tuple(final.get(ref, ref) for ref in layer.inputs),
                    shares=None if layer.shares is None else final[layer.shares],
                )
            )
        names = []
        for tensor in outputs:
            name = final.get(tensor.source, tensor.source)
            if name not in names:
                names.append(name)
        network = Network(
            input_shape=input_shape,
            layers=group_stages(layers, _groups(self.rows)),
            name=model.name,
            outputs=tuple(names),
            naming="flat",
        )
        network_cost(network)  # every row was costed already; this checks the whole
        return network


def _expanded_rows(model: _Model) -> int:
    """The rows `model` expands to, about (a frozen separable layer adds one), counted
    before any is made: a small config calling nested models repeatedly can mean billions."""
    total = 0
    for spec in model.layers:
        if spec.class_name == "InputLayer":
            continue
        calls = 1 if model.sequential else len(spec.nodes)
        total += calls * (_expanded_rows(spec.model) if spec.model is not None else 1)
        if total > MAX_LAYERS:
            break
    return total


def _unique_names(model: _Model) -> dict[str, int]:
    """Each layer's position by name: Keras names the layers of a model uniquely (a layer
    named twice would be taken for one layer called twice, its weights counted once)."""
    index: dict[str, int] = {}
    for position, spec in enumerate(model.layers):
        if index.setdefault(spec.name, position) != position:
            raise _Refused(f"model {show(model.name)} has two layers named {show(spec.name)}")
    return index


def _final_names(rows: Sequence[_Row]) -> dict[str, str]:
    """Row ids to unique names: the first call of each Keras layer keeps its name (made
    unique only when nested models repeat a name), further calls and parts come after."""
    taken: set[str] = {_INPUT}
    final: dict[str, str] = {}

    def give(row: _Row, name: str) -> None:
        unique, number = name, 0
        while unique in taken:
            number += 1
            unique = f"{name}_{number}"
        taken.add(unique)
        final[row.layer.name or ""] = unique

    for row in rows:
        if row.primary and not row.suffix:
            give(row, row.keras_name)
    for row in rows:
        if not row.primary or row.suffix:
            give(row, row.keras_name + row.suffix)
    return final


_DIGIT: Final = re.compile(r"\d")


def _snake(class_name: str) -> str:
    """Keras's ``to_snake_case``: the base of the names it gives (``Conv2D`` → ``conv2d``)."""
    name = re.sub(r"\W+", "", class_name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _prefix(name: str, class_name: str) -> str | None:
    """The stage a Keras name puts its layer in: the name up to its first part that holds
    a digit; None for a name Keras made itself (``conv2d_3``) or one without a digit."""
    if re.fullmatch(re.escape(_snake(class_name)) + r"(_\d+)?", name):
        return None
    parts = name.split("_")
    for index, part in enumerate(parts):
        if _DIGIT.search(part):
            return "_".join(parts[: index + 1])
    return None


def _groups(rows: Sequence[_Row]) -> list[str | None]:
    """Each row's stage: its outermost nested model, else its name's prefix when a run of
    two or more consecutive rows shares it."""
    groups: list[str | None] = []
    for row in rows:
        groups.append(
            row.group if row.group is not None else _prefix(row.keras_name, row.class_name)
        )
    start = 0
    while start < len(rows):
        end = start
        while end + 1 < len(rows) and groups[end + 1] == groups[start]:
            end += 1
        if end == start and rows[start].group is None:
            groups[start] = None
        start = end + 1
    return groups


# --- layers: convolutions ------------------------------------------------------------------

_RANKS: Final = {"1D": 1, "2D": 2, "3D": 3}


def _rank(class_name: str) -> int:
    return next(rank for suffix, rank in _RANKS.items() if suffix in class_name)


def _mode(call: _Call) -> Literal["valid", "same"]:
    """Keras's ``padding``, ``valid`` or ``same`` (Keras's rule: the odd unit after)."""
    padding = call.text("padding", "valid")
    if padding == "valid":
        return "valid"
    if padding == "same":
        return "same"
    raise _Refused(f"padding must be 'valid' or 'same', got {show(padding)}")


def _conv_padding(call: _Call, rank: int, kernel: Dims, dilation: Dims) -> Padding:
    if rank == 1 and call.text("padding", "valid") == "causal":  # all before: dilation·(k−1)
        return ((dilation[0] * (kernel[0] - 1), 0),)
    return _mode(call)


def _window(call: _Call, rank: int) -> tuple[Dims, Dims, Dims, Padding]:
    kernel = call.integers("kernel_size", rank)
    strides = call.integers("strides", rank, 1)
    dilation = call.integers("dilation_rate", rank, 1)
    return kernel, strides, dilation, _conv_padding(call, rank, kernel, dilation)


@_handles("Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D")
def _conv(call: _Call) -> _Made:
    rank = _rank(call.spec.class_name)
    call.spatial(rank)
    kernel, strides, dilation, padding = _window(call, rank)
    return _Made(
        Conv(
            out_channels=call.integer("filters"),
            kernel_size=compact(kernel),
            stride=compact(strides),
            padding=padding,
            dilation=compact(dilation),
            groups=call.integer("groups", 1),
            bias=call.flag("use_bias", True),
        )
    )


@_handles("DepthwiseConv1D", "DepthwiseConv2D")
def _depthwise(call: _Call) -> _Made:
    rank = _rank(call.spec.class_name)
    x = call.spatial(rank)
    kernel, strides, dilation, padding = _window(call, rank)
    channels = x.dims[-1]
    return _Made(
        Conv(
            out_channels=channels * call.integer("depth_multiplier", 1),
            kernel_size=compact(kernel),
            stride=compact(strides),
            padding=padding,
            dilation=compact(dilation),
            groups=channels,
            bias=call.flag("use_bias", True),
        )
    )


@_handles("SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D",
          "SeparableConvolution2D")  # fmt: skip
def _separable(call: _Call) -> _Made:
    rank = _rank(call.spec.class_name)
    call.spatial(rank)
    kernel, strides, dilation, padding = _window(call, rank)
    return _Made(
        DepthwiseSeparableConv(
            out_channels=call.integer("filters"),
            depth_multiplier=call.integer("depth_multiplier", 1),
            kernel_size=compact(kernel),
            stride=compact(strides),
            padding=padding,
            dilation=compact(dilation),
            bias="pointwise" if call.flag("use_bias", True) else "none",
        )
    )


@_handles("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "Convolution2DTranspose",
          "Convolution3DTranspose")  # fmt: skip
def _transposed(call: _Call) -> _Made:
    rank = _rank(call.spec.class_name)
    call.spatial(rank)
    kernel, strides, dilation, _ = _window(call, rank)
    padding: Padding = _mode(call)
    extra: Dims = (0,) * rank
    if call.config.get("output_padding") is not None:
        # Keras's other rule: (in - 1)·stride + span - 2·pad + output_padding, pad 0 for
        # "valid" and span // 2 for "same": PyTorch's rule with that padding.
        extra = call.integers("output_padding", rank, minimum=0)
        pads = [0 if padding == "valid" else (d * (k - 1) + 1) // 2
                for k, d in zip(kernel, dilation)]  # fmt: skip
        padding = compact(pads) if rank > 1 else tuple(pads)
    return _Made(
        ConvTranspose(
            out_channels=call.integer("filters"),
            kernel_size=compact(kernel),
            stride=compact(strides),
            padding=padding,
            dilation=compact(dilation),
            output_padding=compact(extra),
            groups=call.integer("groups", 1),
            bias=call.flag("use_bias", True),
        )
    )


# --- layers: dense, normalisation ------------------------------------------------------------


@_handles("Dense")
def _dense(call: _Call) -> _Made:
    x = call.one()
    units = call.integer("units")
    bias = call.flag("use_bias", True)
    if len(x.dims) <= 1:
        return _Made(Linear(out_features=units, bias=bias))
    # Keras applies Dense to the last axis of any tensor: a matrix product per position.
    inputs = x.dims[-1]
    dims = (*x.dims[:-1], units)
    return _Made(
        Operator(op_type="Dense", shape=_sizes(dims), weights=inputs * units,
                 bias=units if bias else 0, contraction=inputs),
        dims,
    )  # fmt: skip


def _axis_size(dims: Dims, axes: tuple[int, ...]) -> int:
    return math.prod(dims[axis] for axis in axes)


@_handles("BatchNormalization")
def _batch_norm(call: _Call) -> _Made:
    x = call.one()
    axes = call.axes("axis", x.dims)
    center, scale = call.flag("center", True), call.flag("scale", True)
    if axes == (len(x.dims) - 1,) and center == scale:
        return _Made(BatchNorm(affine=center), x.dims)
    size = _axis_size(x.dims, axes)
    return _Made(
        Operator(op_type="BatchNormalization", shape=_sizes(x.dims), weights=size * scale,
                 bias=size * center, non_trainable_params=2 * size),
        x.dims,
    )  # fmt: skip


@_handles("LayerNormalization")
def _layer_norm(call: _Call) -> _Made:
    x = call.one()
    size = _axis_size(x.dims, call.axes("axis", x.dims))
    rms = call.flag("rms_scaling", False)
    scale = call.flag("scale", True) or rms
    center = call.flag("center", True) and not rms
    return _Made(
        Operator(op_type="LayerNormalization", shape=_sizes(x.dims), weights=size * scale,
                 bias=size * center),
        x.dims,
    )  # fmt: skip


@_handles("GroupNormalization")
def _group_norm(call: _Call) -> _Made:
    x = call.one()
    size = _axis_size(x.dims, call.axes("axis", x.dims))
    scale, center = call.flag("scale", True), call.flag("center", True)
    return _Made(
        Operator(op_type="GroupNormalization", shape=_sizes(x.dims), weights=size * scale,
                 bias=size * center),
        x.dims,
    )  # fmt: skip


@_handles("Normalization")
def _normalization(call: _Call) -> _Made:
    """Keras's ``Normalization``: when not given its mean and variance, it keeps them as
    non-trainable weights, with a count (EfficientNet's 3 + 3 + 1)."""
    x = call.one()
    statistics = 0
    if call.config.get("mean") is None:
        statistics = 2 * _axis_size(x.dims, call.axes("axis", x.dims)) + 1
    return _Made(
        Operator(op_type="Normalization", shape=_sizes(x.dims), non_trainable_params=statistics),
        x.dims,
    )


# --- layers: pooling, padding, resizing ----------------------------------------------------------


@_handles("MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D",
          "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "AvgPool1D", "AvgPool2D",
          "AvgPool3D")  # fmt: skip
def _pool(call: _Call) -> _Made:
    rank = _rank(call.spec.class_name)
    call.spatial(rank)
    size = call.integers("pool_size", rank, 2)
    strides = call.integers("strides", rank, 1) if call.config.get("strides") is not None else size
    padding = _mode(call)
    kind = MaxPool if call.spec.class_name.startswith("Max") else AvgPool
    return _Made(kind(kernel_size=compact(size), stride=compact(strides), padding=padding))


@_handles("GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
          "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPooling1D",
          "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GlobalMaxPool1D", "GlobalMaxPool2D",
          "GlobalMaxPool3D")  # fmt: skip
def _global_pool(call: _Call) -> _Made:
    call.spatial(_rank(call.spec.class_name))
    keepdims = call.flag("keepdims", False)
    kind = GlobalMaxPool if call.spec.class_name.startswith("GlobalMax") else GlobalAvgPool
    return _Made(kind(keepdims=keepdims))


def _pairs(call: _Call, key: str, rank: int) -> tuple[tuple[int, int], ...]:
    """Keras's padding and cropping: an int, one int per axis, or a (before, after) pair
    per axis (a 1-D layer's pair is its one axis's)."""
    value = call.config.get(key, 1)

    def size(item: object) -> int:
        if not _is_int(item) or not 0 <= cast(int, item) <= MAX_SIZE:
            raise _Refused(f"{key} must be non-negative integers, got {show(value)}")
        return cast(int, item)

    if _is_int(value):
        return ((size(value), size(value)),) * rank
    if not isinstance(value, (list, tuple)):
        raise _Refused(f"{key} must be an integer or a list, got {show(value)}")
    if rank == 1 and len(value) == 2 and all(_is_int(item) for item in value):
        return ((size(value[0]), size(value[1])),)
    if len(value) != rank:
        raise _Refused(f"{key} must give {rank} axes, got {show(value)}")
    pairs = []
    for item in value:
        if isinstance(item, (list, tuple)) and len(item) == 2:
            pairs.append((size(item[0]), size(item[1])))
        else:
            pairs.append((size(item), size(item)))
    return tuple(pairs)


@_handles("ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D")
def _zero_pad(call: _Call) -> _Made:
    rank = _rank(call.spec.class_name)
    call.spatial(rank)
    return _Made(ZeroPad(padding=_pairs(call, "padding", rank)))


@_handles("Cropping1D", "Cropping2D", "Cropping3D")
def _crop(call: _Call) -> _Made:
    rank = _rank(call.spec.class_name)
    x = call.spatial(rank)
    pairs = _pairs(call, "cropping", rank)
    sizes = tuple(size - lo - hi for size, (lo, hi) in zip(x.dims, pairs))
    if min(sizes) < 1:
        raise _Refused(f"crops {_show(x.dims)} to nothing")
    dims = (*sizes, x.dims[-1])
    return _Made(Select(shape=_sizes(dims)), dims)


@_handles("UpSampling1D", "UpSampling2D", "UpSampling3D")
def _upsample(call: _Call) -> _Made:
    rank = _rank(call.spec.class_name)
    x = call.spatial(rank)
    factors = call.integers("size", rank, 2)
    interpolation = call.text("interpolation", "nearest")
    if interpolation == "nearest":
        return _Made(Upsample(scale_factor=compact(factors)))
    dims = (*(s * f for s, f in zip(x.dims, factors)), x.dims[-1])
    return _Made(Operator(op_type=f"UpSampling{rank}D", shape=_sizes(dims)), dims)


@_handles("Resizing")
def _resizing(call: _Call) -> _Made:
    x = call.spatial(2)
    dims = (call.integer("height"), call.integer("width"), x.dims[-1])
    return _Made(Operator(op_type="Resizing", shape=_sizes(dims)), dims)


@_handles("CenterCrop")
def _center_crop(call: _Call) -> _Made:
    x = call.spatial(2)
    dims = (call.integer("height"), call.integer("width"), x.dims[-1])
    if dims[0] > x.dims[0] or dims[1] > x.dims[1]:  # Keras resizes then: an operator
        return _Made(Operator(op_type="CenterCrop", shape=_sizes(dims)), dims)
    return _Made(Select(shape=_sizes(dims)), dims)


# --- layers: merging --------------------------------------------------------------------------


def _operands(call: _Call) -> tuple[_Tensor, ...]:
    if len(call.inputs) < 1:
        raise _Refused("reads no tensor")
    return call.inputs


def _elementwise(call: _Call, op_type: str) -> _Made:
    """An element-wise merge of broadcast shapes: an `Operator` of no MACs."""
    inputs = _operands(call)
    dims = _broadcast([t.dims for t in inputs])
    if dims is None:
        raise _Refused("its inputs " + ", ".join(_show(t.dims) for t in inputs)
                       + " do not broadcast")  # fmt: skip
    source = next((t for t in inputs if t.dims == dims), inputs[0])
    return _Made(Operator(op_type=op_type, shape=_sizes(dims), operands=len(inputs)), dims,
                 reads=(source,))  # fmt: skip


@_handles("Add", "Multiply")
def _join(call: _Call) -> _Made:
    inputs = _operands(call)
    kind = Add if call.spec.class_name == "Add" else Multiply
    if len(inputs) >= 2:
        try:
            cost = join_cost(kind(), tuple(_view(t.dims) for t in inputs))
        except ConvCostError:
            cost = None
        if cost is not None:
            largest = max(inputs, key=lambda t: math.prod(t.dims))
            return _Made(kind(), largest.dims, reads=inputs)
    return _elementwise(call, call.spec.class_name)


@_handles("Subtract", "Average", "Maximum", "Minimum")
def _merge(call: _Call) -> _Made:
    return _elementwise(call, call.spec.class_name)


@_handles("Concatenate")
def _concatenate(call: _Call) -> _Made:
    inputs = _operands(call)
    first = inputs[0]
    rank = len(first.dims)
    if not rank:
        raise _Refused("cannot concatenate scalars")
    axes = call.axes("axis", first.dims) or (rank - 1,)
    if len(axes) != 1:
        raise _Refused(f"axis must be one axis, got {show(call.config.get('axis'))}")
    (axis,) = axes
    for t in inputs:
        if len(t.dims) != rank or t.dims[:axis] + t.dims[axis + 1 :] != (
            first.dims[:axis] + first.dims[axis + 1 :]
        ):
            raise _Refused(
                "cannot concatenate " + ", ".join(_show(t.dims) for t in inputs)
                + f" along axis {axis + 1}"
            )  # fmt: skip
    dims = (*first.dims[:axis], sum(t.dims[axis] for t in inputs), *first.dims[axis + 1 :])
    if axis == rank - 1 and len(inputs) >= 2 and rank <= MAX_SPATIAL_DIMS + 1:
        return _Made(Concat(), dims, reads=inputs)
    return _Made(Operator(op_type="Concatenate", shape=_sizes(dims), operands=len(inputs)), dims)


# --- layers: activations ----------------------------------------------------------------------

_ACTIVATIONS: Final = {
    "relu": "relu", "relu6": "relu6", "leaky_relu": "leaky_relu", "elu": "elu", "gelu": "gelu",
    "silu": "silu", "swish": "swish", "sigmoid": "sigmoid", "hard_sigmoid": "hardsigmoid",
    "hard_silu": "hardswish", "hard_swish": "hardswish", "tanh": "tanh", "softmax": "softmax",
    "linear": "identity",
}  # fmt: skip
"""Keras activations that are convcost activations (by convcost's name)."""
_ELEMENTWISE: Final = frozenset({
    "softplus", "softsign", "selu", "exponential", "log_softmax", "mish", "celu", "hard_tanh",
    "hard_shrink", "soft_shrink", "tanh_shrink", "log_sigmoid", "sparse_plus", "squareplus",
    "sparsemax", "sparse_sigmoid", "threshold",
})  # fmt: skip
"""Other element-wise Keras activations: `Operator` rows of no MACs."""


def _activation_name(value: object) -> str | None:
    """A Keras activation's name: a string, or a serialized Keras function (None for a
    function of the user's own)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        module = value.get("module")
        name = value.get("config")
        if isinstance(module, str) and module.startswith("keras") and isinstance(name, str):
            return name
    return None


def _activation_layer(call: _Call, name: str | None) -> _Made:
    x = call.one()
    function = _ACTIVATIONS.get(name or "")
    if function is not None:
        return _Made(Activation(function=function), x.dims)
    if name in _ELEMENTWISE:
        return _Made(Operator(op_type=name, shape=_sizes(x.dims)), x.dims)
    what = f"activation {show(name)}" if name else "an activation function of the model's own"
    return _not_counted(call, f"convcost does not know {what}", fallback=x.dims)


@_handles("Activation")
def _activation(call: _Call) -> _Made:
    return _activation_layer(call, _activation_name(call.config.get("activation")))


@_handles("ReLU")
def _relu(call: _Call) -> _Made:
    top = call.number("max_value", None)
    slope = call.number("negative_slope", 0.0) or 0.0
    threshold = call.number("threshold", 0.0) or 0.0
    if threshold == 0 and top is None:
        return _activation_layer(call, "relu" if slope == 0 else "leaky_relu")
    if threshold == 0 and slope == 0 and top == 6:
        return _activation_layer(call, "relu6")
    x = call.one()
    return _Made(Operator(op_type="ReLU", shape=_sizes(x.dims)), x.dims)


@_handles("LeakyReLU")
def _leaky_relu(call: _Call) -> _Made:
    return _activation_layer(call, "leaky_relu")


@_handles("ELU")
def _elu(call: _Call) -> _Made:
    return _activation_layer(call, "elu")


@_handles("Softmax")
def _softmax(call: _Call) -> _Made:
    return _activation_layer(call, "softmax")


@_handles("ThresholdedReLU")
def _thresholded(call: _Call) -> _Made:
    x = call.one()
    return _Made(Operator(op_type="ThresholdedReLU", shape=_sizes(x.dims)), x.dims)


@_handles("PReLU")
def _prelu(call: _Call) -> _Made:
    """One trainable slope per element, shared along ``shared_axes`` (counted from the
    batch axis, 0)."""
    x = call.one()
    shared_raw = call.config.get("shared_axes")
    shared = (
        [] if shared_raw is None else shared_raw if isinstance(shared_raw, list) else [shared_raw]
    )
    if not all(_is_int(axis) for axis in shared):
        raise _Refused(f"shared_axes must be axes, got {show(shared_raw)}")
    slopes = math.prod(size for axis, size in enumerate(x.dims, start=1) if axis not in shared)
    return _Made(Operator(op_type="PReLU", shape=_sizes(x.dims), weights=slopes), x.dims)


# --- layers: identities and reshapes ------------------------------------------------------------


@_handles("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
          "GaussianDropout", "AlphaDropout", "GaussianNoise")  # fmt: skip
def _dropout(call: _Call) -> _Made:
    x = call.one()
    rate = call.config.get("rate", 0.0)
    p = float(rate) if isinstance(rate, float) and 0 <= rate < 1 else 0.0  # for the record
    return _Made(Dropout(p=p), x.dims)


@_handles("Identity", "ActivityRegularization", "Masking")
def _identity(call: _Call) -> _Made:
    x = call.one()
    return _Made(Activation(function="identity"), x.dims)


@_handles("Flatten")
def _flatten(call: _Call) -> _Made:
    call.channels_last()
    x = call.one()
    return _Made(Flatten(), (math.prod(x.dims),))


@_handles("Reshape")
def _reshape(call: _Call) -> _Made:
    x = call.one()
    target = call.config.get("target_shape")
    if not isinstance(target, (list, tuple)) or not 1 <= len(target) <= 64:
        raise _Refused(f"target_shape must be a list of sizes, got {show(target)}")
    known = [size for size in target if size != -1]
    if len(known) < len(target) - 1 or not all(
        _is_int(size) and 1 <= cast(int, size) <= MAX_SIZE for size in known
    ):
        raise _Refused(f"target_shape must be positive sizes (and one -1), got {show(target)}")
    elements = math.prod(x.dims)
    fixed = math.prod(cast(list[int], known))
    if len(known) < len(target):
        if elements % fixed:
            raise _Refused(f"cannot reshape {_show(x.dims)} to {show(target)}")
        target = [elements // fixed if size == -1 else size for size in target]
    dims = tuple(cast(list[int], target))
    if math.prod(dims) != elements:
        raise _Refused(f"cannot reshape {_show(x.dims)} ({elements:,} elements) to {_show(dims)}")
    return _Made(Reshape(shape=_sizes(dims)), dims)


@_handles("Permute")
def _permute(call: _Call) -> _Made:
    x = call.one()
    order = call.config.get("dims")
    if (
        not isinstance(order, (list, tuple))
        or not all(_is_int(axis) for axis in order)
        or sorted(cast(list[int], order)) != list(range(1, len(x.dims) + 1))
    ):
        raise _Refused(f"dims must order the axes 1 to {len(x.dims)}, got {show(order)}")
    dims = tuple(x.dims[axis - 1] for axis in cast(list[int], order))
    return _Made(Reshape(shape=_sizes(dims)), dims)


@_handles("RepeatVector")
def _repeat_vector(call: _Call) -> _Made:
    x = call.one()
    if len(x.dims) != 1:
        raise _Refused(f"reads a flat vector, got {_show(x.dims)}")
    dims = (call.integer("n"), x.dims[0])
    return _Made(Operator(op_type="RepeatVector", shape=_sizes(dims)), dims)


@_handles("Rescaling")
def _rescaling(call: _Call) -> _Made:
    x = call.one()
    return _Made(Operator(op_type="Rescaling", shape=_sizes(x.dims)), x.dims)


@_handles("Embedding")
def _embedding(call: _Call) -> _Made:
    x = call.one()
    width = call.integer("output_dim")
    dims = (*x.dims, width)
    return _Made(
        Operator(
            op_type="Embedding", shape=_sizes(dims), weights=call.integer("input_dim") * width
        ),
        dims,
    )


@_handles("InputLayer")
def _input_layer(call: _Call) -> _Made:
    raise _Refused("an input layer is called as a layer")


# --- layers convcost does not know -------------------------------------------------------------


def _not_counted(call: _Call, reason: str, *, fallback: Dims | None = None) -> _Made:
    """A row flagged "not counted": its shape from the config (the shape Keras recorded
    for the tensor it gives, the next layer's build shape, a Lambda's output_shape)."""
    if not call.inputs:
        raise _Refused(f"{reason}, and it reads no tensor")
    dims: Dims | None = None
    if call.declared is not None and None not in call.declared:
        dims = cast(Dims, call.declared)
    if dims is None:
        stated = call.config.get("output_shape")
        if isinstance(stated, list) and stated and all(_is_int(s) and s > 0 for s in stated):
            dims = tuple(cast(list[int], stated))
    if dims is None:
        dims = fallback
    if dims is None:
        raise _Refused(
            f"{reason}, and the config does not record the shape it gives: convcost cannot "
            "count past it (Keras 3 configs record the shapes of tensors that other layers "
            "read; give a Lambda its output_shape)"
        )
    return _Made(NotCounted(op_type=call.spec.class_name, shape=_sizes(dims)), dims)
