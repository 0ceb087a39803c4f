"""torchinfo's memory lines, reproduced from shapes.

Sources: seed 001 (/work/shared/seeds/001_*.txt, printed torchinfo summaries) and torchinfo
1.8.0 measured with torch 2.14.1 on the same layers (the unpadded convolution the seed
actually wrote prints 4.06 and 5.13 MB).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcost import Conv, ConvCostError, DepthwiseSeparableConv, Layer, Shape
from convcost.memory import memory_estimate
from convcost.network import Network, network_cost

SEED_001_INPUT = Shape(16, (128, 128))


def megabytes(count: int) -> str:
    """torchinfo prints bytes / 1e6 with two decimals."""
    return f"{count / 1e6:0.2f}"


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
    estimate = memory_estimate(network_cost(Network(input_shape=SEED_001_INPUT, layers=(layer,))))
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
    bytes_per_element=st.sampled_from([1, 2, 4, 8]),
    batch=st.integers(1, 8),
)
def test_memory_scales_with_batch_and_element_size(
    channels: int, size: int, out: int, bytes_per_element: int, batch: int
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
    scaled = memory_estimate(cost, bytes_per_element=bytes_per_element, batch=batch)
    factor = bytes_per_element * batch
    assert scaled.input_bytes * 4 == unit.input_bytes * factor
    assert scaled.forward_backward_bytes * 4 == unit.forward_backward_bytes * factor
    assert scaled.params_bytes * 4 == unit.params_bytes * bytes_per_element
    assert unit.forward_backward_bytes == 2 * 4 * out * size * size


@pytest.mark.parametrize("bad", [0, -1, True, 2.5])
def test_memory_rejects_bad_element_size(bad: object) -> None:
    cost = network_cost(
        Network(input_shape=SEED_001_INPUT, layers=(Conv(out_channels=1, kernel_size=1),))
    )
    with pytest.raises(ConvCostError, match="bytes_per_element"):
        memory_estimate(cost, bytes_per_element=bad)  # type: ignore[arg-type]
