"""Network builders: the pyramid that halves resolution and doubles channels per stage."""

from __future__ import annotations

from typing import Final, Literal, TypeAlias, get_args

from convcost.errors import FieldError
from convcost.layers import (
    ACTIVATIONS,
    Activation,
    AdaptiveAvgPool,
    BatchNorm,
    Conv,
    Flatten,
    Linear,
    MaxPool,
)
from convcost.network import Network, Node, Sequential
from convcost.shapes import Shape, is_int

__all__ = ["DOWNSAMPLING", "HEADS", "Downsample", "Head", "pyramid"]

Downsample: TypeAlias = Literal["pool", "stride"]
DOWNSAMPLING: Final[tuple[str, ...]] = get_args(Downsample)
Head: TypeAlias = Literal["none", "global", "flatten"]
HEADS: Final[tuple[str, ...]] = get_args(Head)


def _at_least(field: str, value: object, minimum: int) -> None:
    if not is_int(value) or value < minimum:  # type: ignore[operator]
        raise FieldError(field, value, f"an integer >= {minimum}")


SEED_001_INPUT: Final = Shape(64, (128, 128))


def pyramid(
    *,
    input_shape: Shape = SEED_001_INPUT,
    base_channels: int = 128,
    stages: int = 4,
    convs_per_stage: int = 1,
    kernel_size: int = 3,
    downsample: Downsample = "pool",
    bias: bool = False,
    batch_norm: bool = False,
    activation: str | None = None,
    head: Head = "none",
    classes: int = 1000,
) -> Network:
    """The classic pyramid: stage i has ``base_channels * 2**i`` channels at 1/2**i resolution.

    Each stage is `convs_per_stage` k×k convolutions with "same" padding (each optionally
    followed by batch norm and an activation). Resolution halves between stages, by a
    2×2 max pool after every stage (``downsample="pool"``, as in VGG: the last stage's
    output is halved too) or by stride 2 in the first convolution of every stage but the
    first (``"stride"``: the last stage's output keeps its resolution). Either way stage i
    runs at 1/2**i resolution, so the convolutions cost the same. The optional head is
    global average pooling or flattening, then a dense layer of `classes`.

    The defaults are the setting of seed 001's comparison: a 64×128×128 input, one 3×3
    convolution per stage doubling channels (64→128, 128→256, 256→512, 512→1024) at
    128, 64, 32 and 16 pixels, no bias.
    """
    _at_least("base_channels", base_channels, 1)
    _at_least("stages", stages, 1)
    _at_least("convs_per_stage", convs_per_stage, 1)
    _at_least("kernel_size", kernel_size, 1)
    if downsample not in DOWNSAMPLING:
        raise FieldError("downsample", downsample, "one of " + ", ".join(DOWNSAMPLING))
    if head not in HEADS:
        raise FieldError("head", head, "one of " + ", ".join(HEADS))
    if activation is not None and activation not in ACTIVATIONS:
        raise FieldError("activation", activation, "one of " + ", ".join(sorted(ACTIVATIONS)))
    _at_least("classes", classes, 1)
    if not isinstance(input_shape, Shape):
        raise FieldError("input_shape", input_shape, "a Shape")
    # Each 2×2 pool needs two pixels; a strided "same" convolution rounds up and never runs out.
    if downsample == "pool" and input_shape.ndim and min(input_shape.spatial) < 2**stages:
        deepest = min(input_shape.spatial).bit_length() - 1
        raise FieldError(
            "stages",
            stages,
            f"at most {deepest} for input {input_shape} (each stage halves the resolution)",
        )
    blocks: list[Node] = []
    for stage in range(stages):
        channels = base_channels * 2**stage
        layers: list[Node] = []
        for index in range(convs_per_stage):
            strided = downsample == "stride" and stage > 0 and index == 0
            layers.append(
                Conv(
                    name=f"conv{stage + 1}_{index + 1}",
                    out_channels=channels,
                    kernel_size=kernel_size,
                    stride=2 if strided else 1,
                    padding="same",
                    bias=bias,
                )
            )
            if batch_norm:
                layers.append(BatchNorm(name=f"bn{stage + 1}_{index + 1}"))
            if activation is not None:
                layers.append(
                    Activation(name=f"{activation}{stage + 1}_{index + 1}", function=activation)
                )
        if downsample == "pool":
            layers.append(MaxPool(name=f"pool{stage + 1}", kernel_size=2))
        blocks.append(Sequential(name=f"stage{stage + 1}", layers=tuple(layers)))
    if head == "global":
        blocks += [AdaptiveAvgPool(name="avgpool"), Flatten(name="flatten")]
    elif head == "flatten":
        blocks.append(Flatten(name="flatten"))
    if head != "none":
        blocks.append(Linear(name="fc", out_features=classes))
    return Network(name="pyramid", input_shape=input_shape, layers=tuple(blocks))
