"""One MobileNet-style layer in three convolution families.

The MobileNet paper (Howard et al., 2017, section 3.1) takes a 14×14 feature map with
M = 512 channels, N = 512 output channels and a D_K = 3 kernel, and counts the mult-adds of
a regular convolution (462M) against its depthwise separable factorisation (52.3M): a
ratio of exactly 1/N + 1/D_K². This script computes both, adds the spatially separable
(3×1 then 1×3) factorisation, and checks the ratio.

    python examples/mobilenet_block.py
"""

from __future__ import annotations

from fractions import Fraction

from convcost import Conv, DepthwiseSeparableConv, Layer, Shape, SpatiallySeparableConv, layer_cost

D_F, M, N, D_K = 14, 512, 512, 3  # the paper's symbols


def main() -> int:
    shape = Shape(M, (D_F, D_F))
    # Stride 1 and "same" padding keep the 14×14 map; no biases, as in the paper's counts.
    families: dict[str, Layer] = {
        "regular": Conv(out_channels=N, kernel_size=D_K, padding="same", bias=False),
        "depthwise separable": DepthwiseSeparableConv(
            out_channels=N, kernel_size=D_K, padding="same", bias="none"
        ),
        "spatially separable": SpatiallySeparableConv(
            out_channels=N, kernel_size=D_K, padding="same", bias="none"
        ),
    }
    costs = {family: layer_cost(layer, shape) for family, layer in families.items()}
    regular = costs["regular"]

    print(f"input {shape} (C×H×W), {N} output channels, {D_K}×{D_K} kernel, stride 1")
    print(f"{'family':<22}{'params':>12}{'MACs':>16}  MACs / regular")
    for family, cost in costs.items():
        ratio = Fraction(cost.macs, regular.macs)
        print(f"{family:<22}{cost.params:>12,}{cost.macs:>16,}  {ratio} ≈ {float(ratio):.2%}")

    ratio = Fraction(costs["depthwise separable"].macs, regular.macs)
    expected = Fraction(1, N) + Fraction(1, D_K * D_K)
    print(f"depthwise separable / regular = {ratio}; 1/N + 1/D_K² = {expected}")
    if ratio != expected:
        print("MISMATCH: the ratio is not 1/N + 1/D_K²")
        return 1
    print("the ratio equals 1/N + 1/D_K², as in the MobileNet paper")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
