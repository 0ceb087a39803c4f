"""The exception tree: every error convcost raises on bad input is a `ConvCostError`.

The CLI catches `ConvCostError` at its edge and prints its message as one line (exit 2);
anything else escaping is a bug.
"""

from __future__ import annotations

import re
import reprlib
from typing import Final

__all__ = [
    "ConvCostError",
    "ConventionError",
    "DeviceError",
    "DeviceFileError",
    "FieldError",
    "FileError",
    "LayerError",
    "ModelFileError",
    "PresetError",
    "ProfileFileError",
    "ShapeError",
    "ShapeMismatchError",
    "SpecError",
]


_SHOWN_CHARS = 60


_CONTROL: Final = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """`text` with every control character (line breaks, ESC, ...) escaped as repr escapes
    it, so that a user-given name can neither break a line nor command a terminal.

    >>> printable("a\\nb\\x1b[31m é")
    'a\\\\nb\\\\x1b[31m é'
    """
    if text.isprintable():  # the common case, at C speed
        return text
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode(), text)


def show(value: object) -> str:
    """A value as a message shows it: its repr, cut to one short line, never a huge number.

    Containers are shown a few items and levels deep, so a value built of shared
    references (a YAML alias bomb) is shown as quickly as a small one.

    >>> show("x" * 100)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..."
    >>> show(10**5000)
    'an integer of 16,610 bits'
    >>> show([0] * 10**6)
    '[0, 0, 0, 0, 0, 0, ...]'
    >>> show([[[["deep"]]]])
    '[[[[...]]]]'
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"an integer of {value.bit_length():,} bits"
    try:
        text = repr(value) if isinstance(value, str) else _short_repr().repr(value)
    except (ValueError, RecursionError):  # an integer past Python's digit limit, deep nesting
        return f"a {type(value).__name__} too large to show"
    text = printable(text)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def _short_repr() -> reprlib.Repr:
    shown = reprlib.Repr()
    shown.maxlevel = 3
    shown.maxstring = shown.maxother = _SHOWN_CHARS
    for kind in ("tuple", "list", "array", "dict", "set", "frozenset", "deque"):
        setattr(shown, f"max{kind}", 6)
    return shown


class ConvCostError(ValueError):
    """The root of every error caused by the caller's input."""


class FieldError(ConvCostError):
    """A field of a layer, shape or option has a value outside its domain.

    `hint` follows the message, e.g. ``"; did you mean 'json'?"``.
    """

    def __init__(self, field: str, value: object, expected: str, hint: str = "") -> None:
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{field} must be {expected}, got {show(value)}{hint}")


class ShapeError(ConvCostError):
    """A feature-map shape is malformed (in text or as numbers)."""


class ShapeMismatchError(ConvCostError):
    """A layer does not fit the shape it is given (window too large, wrong rank, ...)."""


Path = tuple[str | int, ...]
"""Where a node sits in a network: ``(2, "body", 0)`` is the first layer of the body of
the block at position 2. Spec files show it as ``layers[2].body[0]``."""


class LayerError(ConvCostError):
    """An error raised by one layer (or block) of a network, with where it happened.

    `path` is the node's position in the network, `name` its full name, `input_shape` the
    shape it was given, as text, when known; `cause` the error of the layer itself; `what`
    the word for the node in messages (``layer``, or ``block`` for a block's join).
    """

    def __init__(
        self,
        cause: ConvCostError,
        *,
        path: Path,
        name: str,
        input_shape: str | None = None,
        what: str = "layer",
    ) -> None:
        self.cause = cause
        self.path = path
        self.name = name
        self.input_shape = input_shape
        where = f"{what} {name}" + (f" on input {input_shape}" if input_shape else "")
        super().__init__(f"{where}: {cause}")


class FileError(ConvCostError):
    """A file that cannot be read as what it should be; the message names the file.

    `source` is the file (or ``"<spec>"`` for text), `line` the line a parser reported,
    `detail` the rest of the message (for a spec, starting with the place in it).
    """

    def __init__(self, source: str, detail: str, *, line: int | None = None) -> None:
        self.source = source
        self.detail = detail
        self.line = line
        where = source if line is None else f"{source}, line {line}"
        super().__init__(f"{where}: {detail}")


class SpecError(FileError):
    """A spec that cannot be read as a network."""


class ModelFileError(FileError):
    """A model file (ONNX, Keras, PyTorch) that cannot be read."""


class PresetError(ConvCostError):
    """An unknown preset, an unknown preset parameter or parameters that do not go together."""


class ConventionError(ConvCostError):
    """An unknown counting profile, or a malformed user-defined one."""


class ProfileFileError(FileError, ConventionError):
    """A counting-profile file that cannot be read."""


class DeviceError(ConvCostError):
    """An unknown device profile, or a malformed user-defined one."""


class DeviceFileError(FileError, DeviceError):
    """A device-profile file that cannot be read."""
