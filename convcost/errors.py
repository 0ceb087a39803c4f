"""The exception tree: every error convcost raises on bad input is a `ConvCostError`.

The CLI catches `ConvCostError` at its edge and prints its message as one line (exit 2);
anything else escaping is a bug.
"""

from __future__ import annotations

__all__ = [
    "ConvCostError",
    "FieldError",
    "LayerError",
    "ShapeError",
    "ShapeMismatchError",
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
    """An error raised by one layer of a network, with where it happened."""

    def __init__(self, where: str, cause: ConvCostError) -> None:
        self.where = where
        self.cause = cause
        super().__init__(f"{where}: {cause}")
