"""torchinfo's memory lines, reproduced from shapes.

Sources: Matani & Singh 2023, Efficient Image Segmentation Using PyTorch, part 3 (printed
torchinfo summaries), and torchinfo 1.8.0 measured with torch 2.14.1 on the same layers
(the unpadded convolution the article actually wrote prints 4.06 and 5.13 MB).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcost import Conv, ConvCostError, DepthwiseSeparableConv, Layer, Shape
from convcost.memory import DTYPE_BYTES, DType, activation_bytes, memory_estimate
from convcost.network import Network, network_cost
from convcost.units import format_megabytes

ARTICLE_INPUT = Shape(16, (128, 128))  # Matani & Singh 2023's one-layer example


def megabytes(count: int) -> str:
    """torchinfo prints bytes / 1e6 with two decimals."""
    return format_megabytes(count).removesuffix(" MB")


@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        pytest.param(
            Conv(out_channels=32, kernel_size=3, padding=1, bias=False),
            ("1.05", "4.19", "0.02", "5.26"),
            id="seed001-regular-padded",
        ),
        pytest.param(
            DepthwiseSeparableConv(out_channels=32, kernel_size=3, padding=1, bias="none"),
            ("1.05", "6.29", "0.00", "7.34"),
            id="seed001-depthwise-separable",
        ),
        pytest.param(
            Conv(out_channels=32, kernel_size=3, bias=False),
            ("1.05", "4.06", "0.02", "5.13"),
            id="seed001-slip-unpadded-as-written",
        ),
    ],
)
def test_torchinfo_memory_lines(layer: Layer, expected: tuple[str, ...]) -> None:
    estimate = memory_estimate(network_cost(Network(input_shape=ARTICLE_INPUT, layers=(layer,))))
    shown = (
        estimate.input_bytes,
        estimate.forward_backward_bytes,
        estimate.params_bytes,
        estimate.total_bytes,
    )
    assert tuple(map(megabytes, shown)) == expected


@given(
    channels=st.integers(1, 64),
    size=st.integers(3, 64),
    out=st.integers(1, 64),
    dtype=st.sampled_from(sorted(DTYPE_BYTES)),
    batch=st.integers(1, 8),
)
def test_memory_scales_with_batch_and_element_size(
    channels: int, size: int, out: int, dtype: DType, batch: int
) -> None:
    """Domain: one padded 3×3 convolution. Activations and input scale with batch and
    element size; parameters with element size only."""
    cost = network_cost(
        Network(
            input_shape=Shape(channels, (size, size)),
            layers=(Conv(out_channels=out, kernel_size=3, padding=1),),
        )
    )
    unit = memory_estimate(cost)
    scaled = memory_estimate(cost, dtype=dtype, batch_size=batch)
    bytes_per_element = DTYPE_BYTES[dtype]
    factor = bytes_per_element * batch
    assert scaled.input_bytes * 4 == unit.input_bytes * factor
    assert scaled.forward_backward_bytes * 4 == unit.forward_backward_bytes * factor
    assert scaled.params_bytes * 4 == unit.params_bytes * bytes_per_element
    assert unit.forward_backward_bytes == 2 * 4 * out * size * size
    (row,) = cost.rows
    assert activation_bytes(row.cost, dtype=dtype, batch_size=batch) == out * size**2 * factor


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        pytest.param("dtype", {"dtype": "float64"}, id="unknown-dtype"),
        pytest.param("dtype", {"dtype": 4}, id="bytes-are-not-a-dtype"),
        pytest.param("batch_size", {"batch_size": 0}, id="zero"),
        pytest.param("batch_size", {"batch_size": -1}, id="negative"),
        pytest.param("batch_size", {"batch_size": True}, id="bool"),
        pytest.param("batch_size", {"batch_size": 2.5}, id="float"),
        pytest.param("batch_size", {"batch_size": 10**30}, id="beyond-the-bound"),
    ],
)
def test_memory_rejects_bad_arguments(field: str, kwargs: dict[str, object]) -> None:
    cost = network_cost(
        Network(input_shape=ARTICLE_INPUT, layers=(Conv(out_channels=1, kernel_size=1),))
    )
    with pytest.raises(ConvCostError, match=field):
        memory_estimate(cost, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ConvCostError, match="cost"):
        memory_estimate(None)  # type: ignore[arg-type]
