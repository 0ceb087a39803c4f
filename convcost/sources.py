"""Where networks come from: a preset by name, a spec file, a model file, or a PyTorch
model factory.

`load_network` is the one place that decides what a name means, so that every command,
and every script, reads a network the same way: a preset takes its parameters as
command-line text (parsed by the preset's own parameter objects); a spec file (.toml,
.json, .yaml), a model file (.onnx, .keras) and a factory (``model.py:build``) take none;
any may have its input shape replaced. With `strict`, an operator convcost does not know
(a row flagged "not counted") is an error instead.

>>> load_network("mobilenet-v1", parameters={"width": "0.5"}).name
'mobilenet-v1 (width=0.5)'
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Final

from convcost.checks import check_bool, suggest
from convcost.errors import ConvCostError, FieldError, PresetError
from convcost.files import SUFFIX_FORMATS, is_existing_file, source_name
from convcost.network import Network, network_cost
from convcost.shapes import Shape

__all__ = [
    "MODEL_SUFFIXES",
    "SPEC_SUFFIXES",
    "is_factory",
    "load_network",
    "parse_assignments",
    "preset_names",
]

SPEC_SUFFIXES: Final = tuple(SUFFIX_FORMATS)
MODEL_SUFFIXES: Final = (".onnx", ".keras", ".h5")


def _is_keras_json(path: Path) -> bool:
    from convcost.keras import is_keras_json

    return is_keras_json(path)


def preset_names() -> tuple[str, ...]:
    """The names of the built-in presets."""
    from convcost.presets import PRESETS

    return tuple(PRESETS)


def parse_assignments(texts: Iterable[str], *, given: Mapping[str, str] = {}) -> dict[str, str]:
    """``NAME=VALUE`` texts (``--param``) as a mapping, merged with the parameters `given`
    by their own options (``--width``); a name set twice is an error, not a silent choice.

    >>> parse_assignments(["shallow=true"], given={"width": "0.5"})
    {'width': '0.5', 'shallow': 'true'}
    """
    values = dict(given)
    for text in texts:
        name, separator, value = text.partition("=")
        name = name.strip().replace("-", "_")
        if not separator or not name:
            raise ConvCostError(f"--param {text!r}: write NAME=VALUE, e.g. --param shallow=true")
        if name in values:
            option = f"--{name.replace('_', '-')}" if name in given else f"--param {name}=..."
            raise ConvCostError(f"{name} is given twice: by {option} and by --param {text}")
        values[name] = value.strip()
    return values


def load_network(
    source: str,
    *,
    parameters: Mapping[str, str] = {},
    input_shape: Shape | None = None,
    strict: bool = False,
) -> Network:
    """The network `source` names: a preset (with `parameters`, as text), a spec file
    (.toml, .json, .yaml), an ONNX model (.onnx), a Keras model (a .keras archive, or
    the .json of ``model.to_json()``, told from a spec by its content) or a PyTorch model
    factory, ``FILE.py:FUNCTION`` (the user's own code: the file is imported and the
    function called, see `convcost.pytorch.load_factory`). `input_shape` replaces the
    network's input: a preset takes it through its own parameters (``resolution`` and the
    channels it reads), a file as given (a model binds its open sizes with it); a PyTorch
    module needs it. With `strict`, a row flagged "not counted" is an error.
    """
    if not isinstance(source, str) or not source:
        raise FieldError("source", source, "a preset name or a file name")
    if not isinstance(parameters, Mapping):
        raise FieldError("parameters", parameters, "a mapping of names to text")
    if input_shape is not None and not isinstance(input_shape, Shape):
        raise FieldError("input_shape", input_shape, "a Shape (see parse_shape)")
    check_bool("strict", strict)
    if is_factory(source):
        if parameters:
            raise ConvCostError(
                f"preset parameters ({', '.join(parameters)}) do not apply to the PyTorch "
                f"model {source_name(source)}"
            )
        network = _from_factory(source, input_shape, strict=strict)
        if strict:
            _refuse_not_counted(network, source)
        return network
    path = Path(source)
    known = path.suffix.lower() in (*SPEC_SUFFIXES, *MODEL_SUFFIXES)  # no preset has one
    names = () if known else preset_names()
    if known or (source not in names and is_existing_file(source)):
        if parameters:
            raise ConvCostError(
                f"preset parameters ({', '.join(parameters)}) do not apply to the file "
                f"{source_name(source)}"
            )
        network = _from_file(path, input_shape, strict=strict)
        if strict:
            _refuse_not_counted(network, source)
        return network
    if source not in names:
        hint = suggest(source, names) or f" (presets: {', '.join(names)})"
        shown = source_name(source)
        raise PresetError(
            f"unknown preset {shown!r}{hint}; a file is named with its suffix "
            f"({', '.join((*SPEC_SUFFIXES, *MODEL_SUFFIXES))})"
        )
    return _preset(source, parameters, input_shape)


def _preset(name: str, texts: Mapping[str, str], input_shape: Shape | None) -> Network:
    from convcost.presets import get_preset

    preset = get_preset(name)
    values = preset.parse(texts)
    if input_shape is None:
        return preset.build(**values)
    known = {parameter.name for parameter in preset.parameters}
    if "input_shape" in known:
        taken = "input_shape"
        values["input_shape"] = input_shape
    elif "resolution" in known:
        taken = "resolution"
        if input_shape.ndim != 2:
            raise PresetError(
                f"preset {name!r} reads images: --input needs C×H×W, got {input_shape}"
            )
        height, width = input_shape.spatial
        values["resolution"] = height if height == width else (height, width)
    else:
        raise PresetError(f"preset {name!r} has a fixed input; --input does not apply")
    if taken in texts:
        raise PresetError(f"--input and {taken} both set the input of preset {name!r}")
    network = preset.build(**values)
    if network.input_shape != input_shape:
        raise PresetError(
            f"preset {name!r} reads {network.input_shape.channels} channels; "
            f"--input {input_shape} has {input_shape.channels}"
        )
    return network


def is_factory(source: str) -> bool:
    """Whether `source` names a PyTorch model factory, ``FILE.py:FUNCTION``.

    >>> is_factory("models/net.py:build"), is_factory("resnet18"), is_factory("C:net.toml")
    (True, False, False)
    """
    file_name, colon, _ = source.rpartition(":")
    return bool(colon) and file_name.lower().endswith(".py")


def _from_factory(source: str, input_shape: Shape | None, *, strict: bool) -> Network:
    """The user's factory called (its printing sent to stderr, keeping stdout for the
    document) and its module traced on `input_shape`, which a module cannot tell."""
    from convcost.pytorch import from_torch, load_factory

    if input_shape is None:
        raise ConvCostError(
            f"{source_name(source)}: a PyTorch module has no input shape of its own; give "
            "one with --input (C×H×W, e.g. --input 3x224x224)"
        )
    with contextlib.redirect_stdout(sys.stderr):
        module = load_factory(source)
        return from_torch(module, input_shape, strict=strict)


def _from_file(path: Path, input_shape: Shape | None, *, strict: bool) -> Network:
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        from convcost.onnx import from_onnx

        return from_onnx(path, input_shape, strict=strict)
    if suffix in (".keras", ".h5") or (suffix == ".json" and _is_keras_json(path)):
        from convcost.keras import from_keras

        return from_keras(path, input_shape, strict=strict)
    from convcost.specs import load_spec

    network = load_spec(path)
    return network if input_shape is None else _with_input(network, input_shape, str(path))


def _refuse_not_counted(network: Network, source: str) -> None:
    flagged = network_cost(network).not_counted
    if flagged:
        kinds = ", ".join(dict.fromkeys(type(row.cost.layer).__name__ for row in flagged))
        raise ConvCostError(
            f"{source_name(source)}: {len(flagged):,} operator(s) convcost does not count "
            f"({kinds}; first: {flagged[0].name}); drop --strict to list them as rows"
        )


def _with_input(network: Network, input_shape: Shape, source: str) -> Network:
    changed = replace(network, input_shape=input_shape)
    try:
        network_cost(changed)
    except ConvCostError as error:
        raise ConvCostError(f"{source_name(source)} with --input {input_shape}: {error}") from error
    return changed
