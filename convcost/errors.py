"""The exception tree: every error convcost raises on bad input is a `ConvCostError`.

The CLI catches `ConvCostError` at its edge and prints its message as one line (exit 2);
anything else escaping is a bug.
"""

from __future__ import annotations

__all__ = [
    "ConvCostError",
    "ConventionError",
    "FieldError",
    "LayerError",
    "ModelFileError",
    "PresetError",
    "ShapeError",
    "ShapeMismatchError",
    "SpecError",
]


class ConvCostError(ValueError):
    """The root of every error caused by the caller's input."""


class FieldError(ConvCostError):
    """A field of a layer, shape or option has a value outside its domain."""

    def __init__(self, field: str, value: object, expected: str) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{field} must be {expected}, got {value!r}")


class ShapeError(ConvCostError):
    """A feature-map shape is malformed (in text or as numbers)."""


class ShapeMismatchError(ConvCostError):
    """A layer does not fit the shape it is given (window too large, wrong rank, ...)."""


class LayerError(ConvCostError):
    """An error raised by one layer (or block) of a network, with where it happened.

    `path` is the node's position in the network (``"2.body.0"``), `input_shape` the shape
    it was given, as text, when known.
    """

    def __init__(
        self,
        where: str,
        cause: ConvCostError,
        *,
        path: str | None = None,
        input_shape: str | None = None,
    ) -> None:
        self.where = where
        self.cause = cause
        self.path = path
        self.input_shape = input_shape
        super().__init__(f"{where}: {cause}")


class SpecError(ConvCostError):
    """A spec that cannot be read as a network; the message names the file and the place.

    `source` is the file (or ``"<spec>"``), `line` the line the parser reported (syntax
    errors only), `detail` the rest of the message, starting with the path in the spec.
    """

    def __init__(self, source: str, detail: str, *, line: int | None = None) -> None:
        self.source = source
        self.detail = detail
        self.line = line
        where = source if line is None else f"{source}, line {line}"
        super().__init__(f"{where}: {detail}")


class PresetError(ConvCostError):
    """An unknown preset, an unknown preset parameter or parameters that do not go together."""


class ConventionError(ConvCostError):
    """An unknown counting profile, or a malformed user-defined one."""


class ModelFileError(ConvCostError):
    """A model file (ONNX, Keras, PyTorch) that cannot be read; the message names the file."""
