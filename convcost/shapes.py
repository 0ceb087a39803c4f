"""Feature-map shapes and the output-size arithmetic of sliding windows.

A `Shape` is channels plus 0 to 3 spatial sizes, in PyTorch order (C×H×W); zero spatial
sizes is a flat feature vector, as after `Flatten`. Sizes are exact positive integers.

Output sizes follow PyTorch for explicit padding,

    out = floor((in + pad_lo + pad_hi - dilation*(kernel - 1) - 1) / stride) + 1

and TensorFlow/Keras for ``"same"``: ``out = ceil(in / stride)``, the total padding
``max((out - 1)*stride + dilation*(kernel - 1) + 1 - in, 0)`` split with the extra unit on the
far side. PyTorch's ``"same"`` is the same rule restricted to stride 1; write
``"same-pytorch"`` to have a stride above 1 rejected as PyTorch does (a layer refuses it
when it is built). ``"valid"`` is no padding.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from math import prod
from typing import Final, Literal, TypeAlias, cast, get_args

from convcost.checks import is_int
from convcost.errors import FieldError, ShapeError, ShapeMismatchError
from convcost.limits import MAX_SIZE, MAX_SPATIAL_DIMS

__all__ = [
    "MAX_SPATIAL_DIMS",
    "IntOrTuple",
    "Padding",
    "PaddingMode",
    "Shape",
    "channels_last_hint",
    "check_int_or_tuple",
    "check_padding",
    "compact",
    "default_axes",
    "dims_text",
    "expand",
    "parse_shape",
    "resolve_padding",
    "window_output_size",
]

MAX_SIZE_DIGITS: Final = len(str(MAX_SIZE))  # int() of huge text is slow: refuse it first

IntOrTuple: TypeAlias = int | tuple[int, ...]
PaddingMode: TypeAlias = Literal["valid", "same", "same-pytorch"]
PADDING_MODES: Final[tuple[str, ...]] = get_args(PaddingMode)
# An int (all sides), one int per spatial axis, or one (before, after) pair per axis.
Padding: TypeAlias = int | tuple[int | tuple[int, int], ...] | PaddingMode


@dataclass(frozen=True, slots=True)
class Shape:
    """Channels and spatial sizes of one sample's feature map (no batch axis)."""

    channels: int
    spatial: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        _check_size("channels", self.channels)
        if not isinstance(self.spatial, tuple):
            raise ShapeError(f"spatial sizes must be a tuple, got {self.spatial!r}")
        if len(self.spatial) > MAX_SPATIAL_DIMS:
            raise ShapeError(
                f"a shape has at most {MAX_SPATIAL_DIMS} spatial sizes, got {len(self.spatial)}"
            )
        for size in self.spatial:
            _check_size("spatial sizes", size)

    @property
    def ndim(self) -> int:
        """The number of spatial axes (0 for a flat vector)."""
        return len(self.spatial)

    @property
    def numel(self) -> int:
        """Elements per sample: channels times every spatial size."""
        return self.channels * prod(self.spatial)

    @property
    def positions(self) -> int:
        """Spatial positions per channel (1 for a flat vector)."""
        return prod(self.spatial)

    def __str__(self) -> str:
        return "x".join(str(size) for size in (self.channels, *self.spatial))

    def channels_last(self) -> tuple[int, ...]:
        """The sizes in Keras order (spatial sizes, then channels)."""
        return (*self.spatial, self.channels)


def compact(values: Sequence[int]) -> IntOrTuple:
    """Per-axis values as a layer field takes them: one int when every axis of two or
    more has the same value, else a tuple (a 1-D layer keeps its tuple, so that a rewrite
    knows it has one axis).

    >>> compact((3, 3)), compact((3, 1)), compact((3,))
    (3, (3, 1), (3,))
    """
    values = tuple(int(value) for value in values)
    if len(values) >= 2 and len(set(values)) == 1:
        return values[0]
    return values


def dims_text(dims: Sequence[int]) -> str:
    """A model file's tensor dims as text: ``1x3x224x224``, or ``a scalar``."""
    return "x".join(map(str, dims)) if dims else "a scalar"


def default_axes(dims: tuple[int, ...]) -> tuple[int | None, int | None]:
    """The batch and channel axes of a model file's tensor in NCHW order: a leading axis
    of 1 is the batch (rank 2 and more), the next one the channels."""
    if len(dims) >= 2 and dims[0] == 1:
        return 0, 1
    return None, 0 if dims else None


def _check_size(what: str, size: object) -> None:
    if not is_int(size) or size < 1:
        raise ShapeError(f"{what} must be positive integers, got {size!r}")
    if size > MAX_SIZE:
        raise ShapeError(
            f"{what} must be at most 10**18, got an integer of {size.bit_length()} bits"
        )


def unchecked_shape(channels: int, spatial: tuple[int, ...]) -> Shape:
    """A shape from sizes the caller has proven valid, skipping the checks: for the cost
    functions' hot path only (a window's output is never larger than its padded input)."""
    shape = object.__new__(Shape)
    object.__setattr__(shape, "channels", channels)
    object.__setattr__(shape, "spatial", spatial)
    return shape


_LAYOUT = re.compile(r"^\s*([a-z]+)\s*:\s*(.*)$", re.IGNORECASE)
_SEPARATOR = re.compile(r"\s*[x×,*]\s*|\s+")
_WHOLE_NUMBER = re.compile(r"[+]?[0-9]+")  # ASCII digits only: no "3_3", no "٣"


def parse_shape(text: str, *, channels_last: bool = False) -> Shape:
    """Parse ``"16x128x128"`` (C×H×W, PyTorch order) into a `Shape`.

    Channels-last (Keras order) is written with a layout prefix naming the axes,
    ``"hwc:128x128x16"``, or with ``channels_last=True``. A prefix overrides the flag.
    Separators ``x``, ``×``, ``,`` and ``*`` (or spaces) are accepted; every size must be
    there: ``"3x224x"`` is an error, not a 2-axis shape.

    >>> parse_shape("16x128x128")
    Shape(channels=16, spatial=(128, 128))
    >>> parse_shape("hwc:32x32x3")
    Shape(channels=3, spatial=(32, 32))
    """
    if not isinstance(text, str):
        raise ShapeError(f"shape must be text such as '3x224x224', got {text!r}")
    if not isinstance(channels_last, bool):
        raise FieldError("channels_last", channels_last, "True or False")
    original = text if len(text) <= 40 else text[:37] + "..."  # as shown in messages
    layout = None
    if match := _LAYOUT.match(text):
        layout, text = match.group(1).lower(), match.group(2)
    text = text.strip()
    if not text:
        raise ShapeError(
            f"shape must list channels and sizes such as '3x224x224', got {original!r}"
        )
    pieces = _SEPARATOR.split(text)
    if len(pieces) > MAX_SPATIAL_DIMS + 1:
        raise ShapeError(
            f"shape {original!r} has {len(pieces)} sizes; give channels and at most "
            f"{MAX_SPATIAL_DIMS} spatial sizes (no batch axis)"
        )
    sizes = []
    for position, piece in enumerate(pieces, start=1):
        if not piece:
            raise ShapeError(f"shape {original!r}: size {position} is missing")
        if piece.startswith("-") and _WHOLE_NUMBER.fullmatch(piece[1:]):
            raise ShapeError(f"shape {original!r}: sizes must be positive, got {piece}")
        if not _WHOLE_NUMBER.fullmatch(piece):
            raise ShapeError(f"shape {original!r}: {piece[:12]!r} is not a whole number")
        digits = piece.lstrip("+").lstrip("0") or "0"  # int() of 5,000 zeros and an 8 fails
        if len(digits) > MAX_SIZE_DIGITS:
            raise ShapeError(f"shape {original!r}: {piece[:12]}... is beyond 10**18")
        sizes.append(int(digits))
    if layout is not None:
        channels_last = _layout_is_channels_last(layout, len(sizes), original)
    for size in sizes:
        if size < 1:
            raise ShapeError(f"shape {original!r}: sizes must be positive, got {size}")
        if size > MAX_SIZE:
            raise ShapeError(f"shape {original!r}: sizes must be at most 10**18, got {size}")
    if channels_last:
        return Shape(sizes[-1], tuple(sizes[:-1]))
    return Shape(sizes[0], tuple(sizes[1:]))


def channels_last_hint(text: str) -> str | None:
    """A hint when C×H×W text looks like H×W×C (``224x224x3``), else None.

    A last size of at most 4 after a first of at least 16 is almost always an image
    written channels-last; the text is still read as written.

    >>> channels_last_hint("224x224x3")
    "did you mean hwc:224x224x3? '224x224x3' is read as 224 channels of 224x3"
    """
    if _LAYOUT.match(text):
        return None
    shape = parse_shape(text)
    if shape.ndim < 1 or shape.channels < 16 or shape.spatial[-1] > 4:
        return None
    layout = "hwc" if shape.ndim == 2 else "dhwc" if shape.ndim == 3 else "wc"
    flipped = "x".join(map(str, (shape.channels, *shape.spatial)))
    rest = "x".join(map(str, shape.spatial))
    return (
        f"did you mean {layout}:{flipped}? {text.strip()!r} is read as {shape.channels} "
        f"channels of {rest}"
    )


_LAYOUTS: Final = {
    "c": False, "cw": False, "wc": True, "chw": False, "hwc": True, "cdhw": False, "dhwc": True,
}  # fmt: skip


def _layout_is_channels_last(layout: str, count: int, original: str) -> bool:
    expected = [name for name in _LAYOUTS if len(name) == count]
    if layout not in expected:
        raise ShapeError(
            f"shape {original!r}: {layout!r} is not a layout of {count} sizes; write "
            + " or ".join(f"'{name}:'" for name in expected or ["chw", "hwc"])
        )
    return _LAYOUTS[layout]


def check_int_or_tuple(field: str, value: object, *, minimum: int) -> None:
    """Validate an ``int | tuple[int, ...]`` hyper-parameter such as `kernel_size`."""
    items = value if isinstance(value, tuple) else (value,)
    if isinstance(value, tuple) and not 1 <= len(value) <= MAX_SPATIAL_DIMS:
        raise FieldError(field, value, f"an integer or a tuple of 1 to {MAX_SPATIAL_DIMS} integers")
    for item in items:
        if not is_int(item) or not minimum <= item <= MAX_SIZE:
            what = "positive" if minimum == 1 else f">= {minimum}"
            raise FieldError(field, value, f"a {what} integer (at most 10**18) or a tuple of them")


def check_padding(field: str, value: object) -> None:
    """Validate a padding value: a mode name, an int, per-axis ints or per-side pairs."""
    if isinstance(value, str):
        if value not in PADDING_MODES:
            raise FieldError(field, value, "one of " + ", ".join(map(repr, PADDING_MODES)))
        return
    if not isinstance(value, tuple):
        check_int_or_tuple(field, value, minimum=0)
        return
    if not 1 <= len(value) <= MAX_SPATIAL_DIMS:
        raise FieldError(field, value, f"a tuple of 1 to {MAX_SPATIAL_DIMS} entries")
    for item in value:
        pair = item if isinstance(item, tuple) else (item,)
        if isinstance(item, tuple) and len(item) != 2:
            raise FieldError(field, value, "per-axis integers or (before, after) pairs")
        if not all(is_int(side) and 0 <= side <= MAX_SIZE for side in pair):
            raise FieldError(field, value, "non-negative integers (at most 10**18)")


def expand(field: str, value: IntOrTuple, ndim: int) -> tuple[int, ...]:
    """Broadcast an int to every spatial axis, or check a tuple has one entry per axis."""
    if value.__class__ is int:
        return (value,) * ndim
    value = cast(tuple[int, ...], value)  # validated at construction
    if len(value) != ndim:
        raise ShapeMismatchError(
            f"{field}={value!r} has {len(value)} spatial dimension(s) but the input has {ndim}"
        )
    return value


def resolve_padding(
    padding: Padding,
    sizes: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
) -> tuple[tuple[int, int], ...]:
    """The (before, after) padding of each spatial axis."""
    if isinstance(padding, int):
        return ((padding, padding),) * len(sizes)
    if isinstance(padding, tuple):
        per_axis = expand("padding", padding, len(sizes))  # type: ignore[arg-type]
        return tuple(item if isinstance(item, tuple) else (item, item) for item in per_axis)
    if padding == "valid":
        return ((0, 0),) * len(sizes)
    return tuple(map(_same_padding, sizes, kernel, stride, dilation))


def _same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    out = -(-size // stride)
    total = (out - 1) * stride + dilation * (kernel - 1) + 1 - size
    if total <= 0:
        return (0, 0)
    return (total // 2, total - total // 2)


def window_output_size(
    size: int,
    kernel: int,
    stride: int,
    dilation: int,
    pad: tuple[int, int],
    ceil_mode: bool = False,
) -> int:
    """Positions a window of `kernel` taps takes along one padded axis (PyTorch's rule)."""
    span = dilation * (kernel - 1) + 1
    padded = size + pad[0] + pad[1]
    if span > padded:
        raise ShapeMismatchError(
            f"a window of {span} (kernel {kernel}, dilation {dilation}) does not fit a "
            f"padded size of {padded} (size {size}, padding {pad[0]}+{pad[1]})"
        )
    if not ceil_mode:
        return (padded - span) // stride + 1
    out = -(-(padded - span) // stride) + 1
    # PyTorch drops a last window that would start in the far padding.
    if (out - 1) * stride >= size + pad[0]:
        out -= 1
    return out
