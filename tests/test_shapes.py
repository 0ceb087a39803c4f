"""Shapes: validation, text parsing and the output-size arithmetic of sliding windows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from strategies import per_axis

from convcost import ConvCostError, Shape, ShapeError, parse_shape
from convcost.shapes import resolve_padding, window_output_size

# --- Shape -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "text", "ndim", "numel", "positions", "channels_last"),
    [
        pytest.param(
            Shape(16, (128, 128)), "16x128x128", 2, 262_144, 16_384, (128, 128, 16), id="2d"
        ),
        pytest.param(Shape(4096), "4096", 0, 4_096, 1, (4_096,), id="flat"),
        pytest.param(Shape(2, (5,)), "2x5", 1, 10, 5, (5, 2), id="1d"),
        pytest.param(Shape(3, (4, 5, 6)), "3x4x5x6", 3, 360, 120, (4, 5, 6, 3), id="3d"),
    ],
)
def test_shape_properties(
    shape: Shape,
    text: str,
    ndim: int,
    numel: int,
    positions: int,
    channels_last: tuple[int, ...],
) -> None:
    assert str(shape) == text
    assert shape.ndim == ndim
    assert shape.numel == numel
    assert shape.positions == positions
    assert shape.channels_last() == channels_last


@pytest.mark.parametrize(
    ("text", "kwargs", "expected"),
    [
        pytest.param("16x128x128", {}, Shape(16, (128, 128)), id="chw"),
        pytest.param("16×128×128", {}, Shape(16, (128, 128)), id="times-sign"),
        pytest.param("16, 128, 128", {}, Shape(16, (128, 128)), id="commas"),
        pytest.param("16*128*128", {}, Shape(16, (128, 128)), id="stars"),
        pytest.param(" 16 128  128 ", {}, Shape(16, (128, 128)), id="spaces"),
        pytest.param("hwc:128x128x16", {}, Shape(16, (128, 128)), id="hwc-prefix"),
        pytest.param("HWC: 128x128x16", {}, Shape(16, (128, 128)), id="prefix-any-case"),
        pytest.param("chw:16x128x128", {}, Shape(16, (128, 128)), id="chw-prefix"),
        pytest.param("128x128x16", {"channels_last": True}, Shape(16, (128, 128)), id="flag"),
        pytest.param(
            "chw:16x128x128", {"channels_last": True}, Shape(16, (128, 128)), id="prefix-wins"
        ),
        pytest.param("4096", {}, Shape(4096), id="flat"),
        pytest.param("dhwc:8x16x16x3", {}, Shape(3, (8, 16, 16)), id="3d-channels-last"),
        pytest.param("+3x4", {}, Shape(3, (4,)), id="plus-sign"),
    ],
)
def test_parse_shape_forms(text: str, kwargs: dict[str, bool], expected: Shape) -> None:
    assert parse_shape(text, **kwargs) == expected


def _axes(ndim: int) -> str:
    return "dhw"[3 - ndim :]


@given(
    shape=st.builds(Shape, st.integers(1, 10**12), per_axis(3, 1, 10**12))
    | st.builds(Shape, st.integers(1, 64), st.lists(st.integers(1, 64), max_size=3).map(tuple))
)
def test_shape_text_round_trip(shape: Shape) -> None:
    """parse_shape(str(shape)) == shape, and every channels-last spelling gives the same Shape.

    Domain: any valid Shape (0 to 3 spatial axes, sizes up to 10¹²).
    """
    assert parse_shape(str(shape)) == shape
    last = "x".join(map(str, shape.channels_last()))
    assert parse_shape(last, channels_last=True) == shape
    assert parse_shape(f"{_axes(shape.ndim)}c:{last}") == shape
    assert parse_shape(f"c{_axes(shape.ndim)}:{shape}") == shape


def test_channels_last_example_from_seed_000() -> None:
    """Keras writes the seed-000 input as (32, 32, 3); PyTorch as 3×32×32."""
    assert parse_shape("hwc:32x32x3") == parse_shape("32x32x3", channels_last=True)
    assert parse_shape("hwc:32x32x3") == parse_shape("3x32x32") == Shape(3, (32, 32))


# --- errors -----------------------------------------------------------------------------


def bad_shape(channels: Any, spatial: Any = ()) -> Shape:
    """`Shape` called with values its type hints forbid, as untyped callers may."""
    return Shape(channels, spatial)


SHAPE_ERRORS: list[Any] = [
    pytest.param(lambda: bad_shape(0, (4, 4)), ["channels", "0"], id="channels-zero"),
    pytest.param(lambda: bad_shape(-3), ["channels", "-3"], id="channels-negative"),
    pytest.param(lambda: bad_shape(True, (4,)), ["channels", "True"], id="channels-bool"),
    pytest.param(lambda: bad_shape(3.0, (4,)), ["channels", "3.0"], id="channels-float"),
    pytest.param(lambda: bad_shape(3, (4, 0)), ["spatial", "0"], id="size-zero"),
    pytest.param(lambda: bad_shape(3, (4, -1)), ["spatial", "-1"], id="size-negative"),
    pytest.param(lambda: bad_shape(3, (4, 4.5)), ["spatial", "4.5"], id="size-float"),
    pytest.param(lambda: bad_shape(3, (False,)), ["spatial", "False"], id="size-bool"),
    pytest.param(lambda: bad_shape(3, [4, 4]), ["spatial", "[4, 4]"], id="sizes-list"),
    pytest.param(lambda: bad_shape(3, (1, 2, 3, 4)), ["spatial", "4"], id="four-spatial"),
    pytest.param(lambda: parse_shape("0x4x4"), ["'0x4x4'", "0"], id="text-zero"),
    pytest.param(lambda: parse_shape("3x-1"), ["'3x-1'", "-1"], id="text-negative"),
    pytest.param(lambda: parse_shape("3x4.5"), ["'3x4.5'", "'4.5'"], id="text-fraction"),
    pytest.param(lambda: parse_shape(""), ["shape", "''"], id="text-empty"),
    pytest.param(lambda: parse_shape("  "), ["shape", "'  '"], id="text-blank"),
    pytest.param(lambda: parse_shape("axb"), ["'axb'", "'a'"], id="text-letters"),
    pytest.param(lambda: parse_shape("1x2x3x4x5"), ["'1x2x3x4x5'", "5 sizes"], id="five-sizes"),
    pytest.param(lambda: parse_shape("hw:3x4x4"), ["'hw:3x4x4'", "'hw'"], id="layout-short"),
    pytest.param(lambda: parse_shape("hcw:4x3x4"), ["'hcw:4x3x4'", "'hcw'"], id="layout-c-middle"),
    pytest.param(lambda: parse_shape("hhc:4x4x3"), ["'hhc:4x4x3'", "'hhc'"], id="layout-repeat"),
    pytest.param(lambda: parse_shape(324), ["shape", "324"], id="not-text"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("make", "words"), SHAPE_ERRORS)
def test_shape_errors(make: Callable[[], object], words: list[str]) -> None:
    """Bad sizes raise ShapeError, whose message names the field and the value."""
    with pytest.raises(ShapeError) as info:
        make()
    for word in words:
        assert word in str(info.value)


def test_parse_shape_too_many_digits_is_a_shape_error() -> None:
    """Regression: a size past Python's int-parsing limit (4,300 digits) escaped as a bare
    ValueError; it is bad input like any other."""
    with pytest.raises(ShapeError):
        parse_shape("3x" + "9" * 5_000)


# --- output-size arithmetic ---------------------------------------------------------------


def naive_output_size(
    size: int, kernel: int, stride: int, dilation: int, pad: tuple[int, int], *, ceil_mode: bool
) -> int:
    """Count window starts along one padded axis, sliding one stride at a time.

    Floor mode keeps a start while its last tap lies inside the padded axis. Ceil mode
    keeps sliding while the previous window had not reached the padded end, but never
    starts a window in the far padding (PyTorch's pooling rule).
    """
    padded = size + pad[0] + pad[1]
    count, start = 0, 0
    while True:
        last_tap = start + dilation * (kernel - 1)
        if ceil_mode:
            keep = start == 0 or (start - stride + dilation * (kernel - 1) < padded - 1)
            keep = keep and start < size + pad[0]
        else:
            keep = last_tap < padded
        if not keep:
            return count
        count += 1
        start += stride


@given(
    size=st.integers(1, 30),
    kernel=st.integers(1, 6),
    stride=st.integers(1, 5),
    dilation=st.integers(1, 3),
    pad=st.tuples(st.integers(0, 4), st.integers(0, 4)),
    ceil_mode=st.booleans(),
)
@example(size=5, kernel=2, stride=2, dilation=1, pad=(0, 0), ceil_mode=True)  # 3 with ceil
@example(size=4, kernel=2, stride=2, dilation=1, pad=(1, 1), ceil_mode=True)  # last start dropped
@example(size=1, kernel=1, stride=1, dilation=1, pad=(0, 2), ceil_mode=False)  # all padding
def test_window_output_size_counts_window_starts(
    size: int, kernel: int, stride: int, dilation: int, pad: tuple[int, int], ceil_mode: bool
) -> None:
    """window_output_size == the number of window starts a naive slide finds.

    Domain: floor mode, any size, kernel, stride, dilation and per-side padding; ceil mode
    within PyTorch's domain for pools, equal padding on both sides of at most half the
    kernel (beyond it PyTorch raises, and windows may lie wholly in the padding).
    """
    if ceil_mode:
        pad = (min(pad[0], kernel // 2),) * 2
    if dilation * (kernel - 1) + 1 > size + sum(pad):
        with pytest.raises(ConvCostError):
            window_output_size(size, kernel, stride, dilation, pad, ceil_mode=ceil_mode)
        return
    expected = naive_output_size(size, kernel, stride, dilation, pad, ceil_mode=ceil_mode)
    assert window_output_size(size, kernel, stride, dilation, pad, ceil_mode=ceil_mode) == expected


@given(
    size=st.integers(1, 300),
    kernel=st.integers(1, 7),
    stride=st.integers(1, 4),
    dilation=st.integers(1, 3),
)
@example(size=224, kernel=3, stride=2, dilation=1)
def test_same_padding_follows_tensorflow(
    size: int, kernel: int, stride: int, dilation: int
) -> None:
    """Padding "same" gives ceil(size / stride) outputs, the odd padding unit on the far side.

    Domain: any size, kernel, stride and dilation (TensorFlow/Keras rule; PyTorch accepts
    "same" only with stride 1, where the two agree).
    """
    ((lo, hi),) = resolve_padding("same", (size,), (kernel,), (stride,), (dilation,))
    assert hi - lo in (0, 1)
    wanted = -(-size // stride)
    assert window_output_size(size, kernel, stride, dilation, (lo, hi)) == wanted
    # the least padding that works: one unit less (taken from either side) loses a window
    # or does not fit at all
    for fewer in ((lo - 1, hi), (lo, hi - 1)):
        if min(fewer) < 0:
            continue
        span = dilation * (kernel - 1) + 1
        assert span > size + sum(fewer) or (
            window_output_size(size, kernel, stride, dilation, fewer) < wanted
        )


def test_same_padding_stride_2_example() -> None:
    """224 → 112 with k=3, s=2: one unit of padding, on the far side (TensorFlow's rule)."""
    assert resolve_padding("same", (224, 224), (3, 3), (2, 2), (1, 1)) == ((0, 1), (0, 1))
    assert window_output_size(224, 3, 2, 1, (0, 1)) == 112
