"""Every single-layer figure of the seed documents, and their slips, as tables.

The seeds are the three texts in ``shared/seeds/`` (see its README.md); each row says which
file and which line a number comes from. Whole-network figures (the VGG models of seed 000,
the torchinfo memory lines of seed 001) are tested with the networks.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

from convcost import (
    Conv,
    DepthwiseSeparableConv,
    Layer,
    Shape,
    SpatiallySeparableConv,
    layer_cost,
    parse_shape,
)

SEED_000 = "seed 000 (Keras tutorial, 000_62c80d1e414757ec.txt)"
SEED_001 = "seed 001 (PyTorch article, 001_0fb61eedebb4352d.txt)"
SEED_002 = "seed 002 (blog post, 002_7ff4c6134a4ec42b.txt)"


class Figure(NamedTuple):
    layer: Layer
    input_shape: str
    output_shape: str
    params: int | None
    macs: int | None
    source: str


FIGURES = [
    pytest.param(
        Figure(
            layer=Conv(out_channels=64, kernel_size=3, padding="valid"),
            input_shape="hwc:32x32x3",
            output_shape="64x30x30",
            params=1_792,
            macs=None,
            source=f"{SEED_000} line 41 (3×3×3×64 + 64) and the Conv2D summary, line 75",
        ),
        id="000-conv-3to64",
    ),
    pytest.param(
        Figure(
            layer=DepthwiseSeparableConv(
                out_channels=64, kernel_size=3, padding="valid", bias="both"
            ),
            input_shape="hwc:32x32x3",
            output_shape="64x30x30",
            params=286,
            macs=None,
            source=f"{SEED_000} line 41 ((27 + 3) + (192 + 64)) and the summary, line 65",
        ),
        id="000-separable-bias-both",
    ),
    pytest.param(
        Figure(
            layer=DepthwiseSeparableConv(out_channels=64, kernel_size=3, padding="same"),
            input_shape="hwc:32x32x3",
            output_shape="64x32x32",
            params=283,
            macs=None,
            source=f"{SEED_000} line 113: Keras SeparableConv2D, one bias (on the pointwise part)",
        ),
        id="000-separable-keras",
    ),
    pytest.param(
        Figure(
            layer=Conv(out_channels=32, kernel_size=3, padding=1, bias=False),
            input_shape="16x128x128",
            output_shape="32x128x128",
            params=4_608,
            macs=75_497_472,
            source=f"{SEED_001} lines 65, 73 and 83 (torchinfo: 4,608 params, 75.50 M mult-adds)",
        ),
        id="001-conv-padding-1",
    ),
    pytest.param(
        Figure(
            layer=Conv(out_channels=32, kernel_size=3, padding="same", bias=False),
            input_shape="16x128x128",
            output_shape="32x128x128",
            params=4_608,
            macs=75_497_472,
            source=f"{SEED_001} line 53 (m×dk×dk×h×w×n: 'same' padding keeps h×w)",
        ),
        id="001-conv-same",
    ),
    pytest.param(
        Figure(
            layer=DepthwiseSeparableConv(out_channels=32, kernel_size=3, padding=1, bias="none"),
            input_shape="16x128x128",
            output_shape="32x128x128",
            params=656,
            macs=10_747_904,
            source=f"{SEED_001} lines 135 and 171-177 (656 params, 10.75 M mult-adds)",
        ),
        id="001-separable",
    ),
    pytest.param(
        Figure(
            layer=Conv(out_channels=32, kernel_size=3, bias=False),
            input_shape="16x128x128",
            output_shape="32x126x126",
            params=4_608,
            macs=73_156_608,
            source=f"{SEED_001}'s slip (line 41, README): nn.Conv2d(16, 32, 3, bias=False) "
            "has no padding, so 126×126 outputs and 73,156,608 mult-adds, not 75.50 M",
        ),
        id="001-slip-conv-no-padding",
    ),
    pytest.param(
        Figure(
            layer=Conv(out_channels=10, kernel_size=3, bias=False),
            input_shape="hwc:15x15x3",
            output_shape="10x13x13",
            params=None,
            macs=45_630,
            source=f"{SEED_002} line 87 (270 × 13 × 13)",
        ),
        id="002-conv-ten-kernels",
    ),
    pytest.param(
        Figure(
            layer=DepthwiseSeparableConv(out_channels=10, kernel_size=3, bias="none"),
            input_shape="hwc:15x15x3",
            output_shape="10x13x13",
            params=None,
            macs=9_633,
            source=f"{SEED_002} lines 180-186 (4,563 + 5,070)",
        ),
        id="002-depthwise-separable",
    ),
    pytest.param(
        Figure(
            layer=Conv(out_channels=1, kernel_size=3, bias=False),
            input_shape="hwc:15x15x1",
            output_shape="1x13x13",
            params=None,
            macs=1_521,
            source=f"{SEED_002} line 115 (Sobel: 3×3×1×1×13×13)",
        ),
        id="002-sobel-regular",
    ),
]


@pytest.mark.parametrize("figure", FIGURES)
def test_seed_figure(figure: Figure) -> None:
    """The params, MACs and output shape the seed prints (None: the seed gives none)."""
    cost = layer_cost(figure.layer, parse_shape(figure.input_shape))
    assert str(cost.output_shape) == figure.output_shape, figure.source
    if figure.params is not None:
        assert cost.params == figure.params, figure.source
    if figure.macs is not None:
        assert cost.macs == figure.macs, figure.source


PARTS = [
    pytest.param(
        DepthwiseSeparableConv(out_channels=64, kernel_size=3, padding="valid", bias="both"),
        "hwc:32x32x3",
        (30, 256),
        None,
        f"{SEED_000} line 41: (3×3×1×3 + 3) + (1×1×3×64 + 64)",
        id="000-separable-parts",
    ),
    pytest.param(
        DepthwiseSeparableConv(out_channels=32, kernel_size=3, padding="same", bias="none"),
        "16x128x128",
        (144, 512),
        (2_359_296, 8_388_608),
        f"{SEED_001} lines 165-167 (144 + 512 = 656); MACs 128²×16×9 and 128²×16×32",
        id="001-separable-parts",
    ),
    pytest.param(
        DepthwiseSeparableConv(out_channels=10, kernel_size=3, bias="none"),
        "hwc:15x15x3",
        (27, 30),
        (4_563, 5_070),
        f"{SEED_002} lines 180 and 184 (13×13×3×3×3×1 and 13×13×10×1×1×3)",
        id="002-separable-parts",
    ),
]


@pytest.mark.parametrize(("layer", "shape", "params", "macs", "source"), PARTS)
def test_seed_parts(
    layer: Layer,
    shape: str,
    params: tuple[int, int],
    macs: tuple[int, int] | None,
    source: str,
) -> None:
    """The depthwise and pointwise parts, as the seeds split them."""
    cost = layer_cost(layer, parse_shape(shape))
    assert tuple(part.params for part in cost.parts) == params, source
    if macs is not None:
        assert tuple(part.macs for part in cost.parts) == macs, source


def test_seed_000_slip_pointwise_has_input_channels() -> None:
    """Seed 000's slip (line 79, README): the pointwise part is (n, 1, 1, c), not (n, 1, 1, n).

    For the 3→64 layer that is 3·64 weights plus 64 biases = 256, where (n, 1, 1, n) would
    give 64·64 = 4,096 weights.
    """
    cost = layer_cost(
        DepthwiseSeparableConv(out_channels=64, kernel_size=3, bias="both"), Shape(3, (32, 32))
    )
    pointwise = cost.parts[1]
    assert pointwise.params == 3 * 64 + 64 == 256
    assert pointwise.params != 64 * 64
    assert dict(pointwise.weight_terms) == {"k_h": 1, "k_w": 1, "C_in": 3, "C_out": 64}


def test_seed_002_slip_spatially_separable_sobel() -> None:
    """Seed 002 (lines 119-125) counts 585 + 585 = 1,170 for the separable Sobel; it is 1,092.

    A spatially separable convolution runs its parts in sequence. The 3×1 part on the
    15×15 input gives 13×15 outputs of 3 taps: 585 MACs. The 1×3 part then runs on that
    13×15 intermediate, giving 13×13 outputs of 3 taps: 507 MACs. Total 1,092.

    The seed's second 585 is a 1×3 kernel slid over the *original* 15×15 input (15×13
    positions), which a sequential separable convolution never does; a lone (1, 3) Conv on
    1×15×15 reproduces it.
    """
    shape = parse_shape("hwc:15x15x1")
    separable = layer_cost(
        SpatiallySeparableConv(out_channels=1, kernel_size=3, bias="none"), shape
    )
    assert [part.macs for part in separable.parts] == [585, 507]
    assert [str(part.output_shape) for part in separable.parts] == ["1x13x15", "1x13x13"]
    assert separable.macs == 1_092
    assert separable.output_shape == Shape(1, (13, 13))

    seeds_second_part = layer_cost(Conv(out_channels=1, kernel_size=(1, 3), bias=False), shape)
    assert seeds_second_part.output_shape == Shape(1, (15, 13))
    assert seeds_second_part.macs == 585
