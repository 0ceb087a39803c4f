"""The preset zoo: well-known networks, built layer by layer from their published definitions.

Each preset is a function returning a `Network`, plus a table of the keyword parameters it
takes (width multiplier, resolution, number of classes, ...), so that a command line can
offer them as options. The networks are built exactly as their reference implementation
builds them: batch norm wherever it has one, no convolution bias where it has none, one
activation layer per call site, and the same padding arithmetic. Every published figure
for them (papers, Keras summaries, torchvision) is checked in ``tests/test_presets.py`` and
listed, with each disagreement explained, in ``docs/presets.md``.

>>> from convcost.network import network_cost
>>> totals = network_cost(build_preset("resnet18")).totals
>>> totals.params, totals.macs
(11689512, 1814073344)
>>> try:
...     get_preset("resnet")
... except PresetError as error:
...     print(error)
unknown preset 'resnet'; did you mean 'resnet18' or 'resnet50'?
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Final, Literal, TypeAlias

from convcost.errors import FieldError, PresetError
from convcost.layers import (
    Activation,
    AdaptiveAvgPool,
    BatchNorm,
    Conv,
    DepthwiseSeparableConv,
    Dropout,
    Flatten,
    GlobalAvgPool,
    Linear,
    MaxPool,
    ZeroPad,
)
from convcost.network import Network, Node, Residual, Sequential
from convcost.shapes import Padding, Shape, is_int

__all__ = [
    "PRESETS",
    "Preset",
    "PresetError",
    "PresetParameter",
    "build_preset",
    "get_preset",
    "mobilenet_v1",
    "mobilenet_v2",
    "pyramid",
    "resnet18",
    "resnet50",
    "vgg16",
    "vgg_cifar",
    "xception",
]


Value: TypeAlias = bool | int | float | str
Width: TypeAlias = int | float | Fraction


def _closest(word: str, candidates: tuple[str, ...]) -> str:
    """``"; did you mean 'a' or 'b'?"`` for the closest candidates, or nothing.

    Names the word starts come first (``vgg`` → both VGGs), then difflib's nearest, best
    first with ties in alphabetical order.
    """
    lowered = word.lower()
    prefixed = sorted(n for n in candidates if lowered and n.lower().startswith(lowered))
    close = difflib.get_close_matches(word, candidates, n=3, cutoff=0.6)
    close.sort(key=lambda name: (-difflib.SequenceMatcher(None, word, name).ratio(), name))
    chosen = list(dict.fromkeys([*prefixed, *close]))[:3]
    if not chosen:
        return ""
    return "; did you mean " + " or ".join(map(repr, chosen)) + "?"


# --- parameters ----------------------------------------------------------------------

_TYPES: Final = (bool, int, float, str)


@dataclass(frozen=True, kw_only=True, slots=True)
class PresetParameter:
    """One keyword parameter of a preset: what a command line exposes as ``--name``.

    `type` is `bool` (a flag), `int` (at least `minimum`), `float` (a positive finite
    number) or `str` (one of `choices`). `default` is valid for the parameter.
    """

    name: str
    type: type
    default: Value
    help: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise FieldError("name", self.name, "a Python identifier")
        if self.type not in _TYPES:
            raise FieldError("type", self.type, "bool, int, float or str")
        if not isinstance(self.help, str) or not self.help:
            raise FieldError("help", self.help, "a non-empty string")
        if (self.type is str) != bool(self.choices):
            raise FieldError("choices", self.choices, "given for a str parameter and only then")
        if self.minimum is not None and self.type is not int:
            raise FieldError("minimum", self.minimum, "given only for an int parameter")
        self.check(self.default)

    def check(self, value: object) -> None:
        """Raise a `FieldError` naming the parameter unless `value` is in its domain."""
        if self.type is bool:
            if not isinstance(value, bool):
                raise FieldError(self.name, value, "true or false")
        elif self.type is int:
            minimum = 1 if self.minimum is None else self.minimum
            if not is_int(value) or value < minimum:  # type: ignore[operator]
                raise FieldError(self.name, value, f"an integer >= {minimum}")
        elif self.type is float:
            number = isinstance(value, (int, float, Fraction)) and not isinstance(value, bool)
            if not number or not math.isfinite(value) or value <= 0:  # type: ignore[arg-type, operator]
                raise FieldError(self.name, value, "a positive number")
        elif value not in self.choices:
            raise FieldError(self.name, value, "one of " + ", ".join(map(repr, self.choices)))


def _check(parameters: tuple[PresetParameter, ...], values: Mapping[str, object]) -> None:
    for parameter in parameters:
        parameter.check(values[parameter.name])


def _exact(width: Width) -> Fraction:
    """A width multiplier as the exact number written: 0.35 is 35/100, not the nearest float."""
    return Fraction(str(width)) if isinstance(width, float) else Fraction(width)


def _scaled(channels: int, width: Fraction) -> int:
    """``int(channels * width)``: Keras's truncating width multiplier, on exact numbers."""
    return math.floor(channels * width)


def _title(name: str, values: Mapping[str, object], parameters: tuple[PresetParameter, ...]) -> str:
    """The preset name, with the parameters that differ from their defaults."""
    changed = [f"{p.name}={values[p.name]}" for p in parameters if values[p.name] != p.default]
    return f"{name} ({', '.join(changed)})" if changed else name


def _resolution(default: int, minimum: int) -> PresetParameter:
    return PresetParameter(
        name="resolution",
        type=int,
        default=default,
        minimum=minimum,
        help=f"input height and width in pixels (square input; default {default})",
    )


def _classes(default: int) -> PresetParameter:
    return PresetParameter(
        name="classes", type=int, default=default, help=f"output classes (default {default})"
    )


def _width(help: str) -> PresetParameter:
    return PresetParameter(name="width", type=float, default=1.0, help=help)


# --- small pieces --------------------------------------------------------------------


def _conv_bn(
    name: str,
    out_channels: int,
    kernel_size: int,
    *,
    stride: int = 1,
    padding: Padding = 0,
    groups: int = 1,
) -> tuple[Conv, BatchNorm]:
    """A bias-free convolution and its batch norm (the norm absorbs the bias)."""
    conv = Conv(
        name=name,
        out_channels=out_channels,
        kernel_size=kernel_size,
        stride=stride,
        padding=padding,
        groups=groups,
        bias=False,
    )
    return conv, BatchNorm(name=f"{name}_bn")


def _square(resolution: int, channels: int = 3) -> Shape:
    return Shape(channels, (resolution, resolution))


# --- seed 000: the VGG-block CIFAR-10 model (Keras) ----------------------------------

_VGG_CIFAR_PARAMETERS: Final = (
    PresetParameter(
        name="separable",
        type=bool,
        default=False,
        help="Keras SeparableConv2D (one bias, on the pointwise part) instead of Conv2D",
    ),
    _resolution(32, 8),
    _classes(10),
)


def vgg_cifar(*, separable: bool = False, resolution: int = 32, classes: int = 10) -> Network:
    """Seed 000's Keras model: three VGG blocks (64, 128, 256), flatten, dense, softmax.

    A block is two 3×3 "same" convolutions with bias and ReLU, then a 2×2 max pool; with
    `separable` the convolutions are Keras ``SeparableConv2D`` (bias on the pointwise part).
    """
    values = {"separable": separable, "resolution": resolution, "classes": classes}
    _check(_VGG_CIFAR_PARAMETERS, values)
    blocks: list[Node] = []
    for index, channels in enumerate((64, 128, 256), start=1):
        layers: list[Node] = []
        for conv in (1, 2):
            if separable:
                layers.append(
                    DepthwiseSeparableConv(
                        name=f"sepconv{conv}",
                        out_channels=channels,
                        kernel_size=3,
                        padding="same",
                        bias="pointwise",
                    )
                )
            else:
                layers.append(
                    Conv(name=f"conv{conv}", out_channels=channels, kernel_size=3, padding="same")
                )
            layers.append(Activation(name=f"relu{conv}", function="relu"))
        layers.append(MaxPool(name="pool", kernel_size=2, stride=2))
        blocks.append(Sequential(name=f"block{index}", layers=tuple(layers)))
    head = (
        Flatten(name="flatten"),
        Linear(name="dense", out_features=classes),
        Activation(name="softmax", function="softmax"),
    )
    blocks.append(Sequential(name="classifier", layers=head))
    return Network(
        name=_title("vgg-cifar", values, _VGG_CIFAR_PARAMETERS),
        input_shape=_square(resolution),
        layers=tuple(blocks),
    )


# --- MobileNet v1 (Howard et al. 2017) -----------------------------------------------

MobileNetStyle: TypeAlias = Literal["paper", "keras"]

# Table 1 of the paper: (pointwise output channels, depthwise stride) of the 13 depthwise
# separable layers. The paper prints stride 2 for the 13th; its own input sizes (7×7 in
# and out) and every implementation use stride 1.
_MOBILENET_V1_BODY: Final = (
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1),
    (1024, 2), (1024, 1),
)  # fmt: skip
_SHALLOW_REMOVED: Final = frozenset(range(7, 12))  # the five 14×14×512 layers (Table 5)

_MOBILENET_V1_PARAMETERS: Final = (
    _width("width multiplier α: every layer keeps int(channels × α) channels (Table 6)"),
    _resolution(224, 32),
    _classes(1000),
    PresetParameter(
        name="depth_multiplier",
        type=int,
        default=1,
        help="depthwise output channels per input channel (Keras's depth_multiplier)",
    ),
    PresetParameter(
        name="shallow",
        type=bool,
        default=False,
        help="remove the five separable layers at 14×14×512 (Table 5's shallow MobileNet)",
    ),
    PresetParameter(
        name="regular",
        type=bool,
        default=False,
        help="a full 3×3 convolution for each separable layer (Table 4's Conv MobileNet)",
    ),
    PresetParameter(
        name="style",
        type=str,
        default="paper",
        choices=("paper", "keras"),
        help="'paper': Table 1 (BN + ReLU, average pool, FC); 'keras': Keras MobileNet() "
        "(ReLU6, explicit padding before stride 2, dropout and a 1×1 conv classifier)",
    ),
)


def mobilenet_v1(
    *,
    width: Width = 1.0,
    resolution: int = 224,
    classes: int = 1000,
    depth_multiplier: int = 1,
    shallow: bool = False,
    regular: bool = False,
    style: MobileNetStyle = "paper",
) -> Network:
    """MobileNet (Howard et al. 2017, arXiv:1704.04861), Table 1, every layer with BN.

    ``style="paper"``: each convolution is followed by batch norm and ReLU; "same"
    padding; global average pooling, a fully connected layer (with bias) and softmax.
    ``style="keras"``: Keras ``MobileNet()``: ReLU6, a zero padding of (0, 1) before each
    stride-2 depthwise convolution (then "valid"), and a head of global average pooling,
    dropout, a biased 1×1 convolution, reshape and softmax. Both styles have the same
    weights and MACs, and Keras's layer names (``conv_dw_7``, ``conv_pw_7_bn``, ...).
    Channels are ``int(c × width)``, as in Keras, with `width` taken as the decimal written.
    """
    values = {
        "width": width,
        "resolution": resolution,
        "classes": classes,
        "depth_multiplier": depth_multiplier,
        "shallow": shallow,
        "regular": regular,
        "style": style,
    }
    _check(_MOBILENET_V1_PARAMETERS, values)
    if regular and depth_multiplier != 1:
        raise PresetError(
            "mobilenet-v1: depth_multiplier applies to depthwise convolutions; "
            f"a regular network has none (got depth_multiplier={depth_multiplier})"
        )
    alpha = _exact(width)
    if _scaled(32, alpha) < 1:
        raise FieldError("width", width, "at least 1/32 = 0.03125, to leave every layer a channel")
    keras = style == "keras"
    act = "relu6" if keras else "relu"

    def conv_bn_act(name: str, out: int, kernel: int, **window: Any) -> tuple[Node, ...]:
        return (
            *_conv_bn(name, out, kernel, **window),
            Activation(name=f"{name}_relu", function=act),
        )

    channels = _scaled(32, alpha)
    blocks: list[Node] = [
        Sequential(name="conv1", layers=conv_bn_act("conv1", channels, 3, stride=2, padding="same"))
    ]
    for block, (filters, stride) in enumerate(_MOBILENET_V1_BODY, start=1):
        if shallow and block in _SHALLOW_REMOVED:
            continue
        out = _scaled(filters, alpha)
        layers: list[Node] = []
        padding: Padding = "same"
        if keras and stride == 2:
            layers.append(ZeroPad(name=f"conv_pad_{block}", padding=((0, 1), (0, 1))))
            padding = "valid"
        if regular:
            layers += conv_bn_act(f"conv_{block}", out, 3, stride=stride, padding=padding)
        else:
            depthwise = channels * depth_multiplier
            layers += conv_bn_act(
                f"conv_dw_{block}", depthwise, 3, stride=stride, padding=padding, groups=channels
            )
            layers += conv_bn_act(f"conv_pw_{block}", out, 1)
        blocks.append(Sequential(name=f"block{block}", layers=tuple(layers)))
        channels = out
    head: tuple[Node, ...]
    if keras:
        head = (
            GlobalAvgPool(name="global_average_pooling2d", keepdims=True),
            Dropout(name="dropout", p=0.001),
            Conv(name="conv_preds", out_channels=classes, kernel_size=1, padding="same"),
            Flatten(name="reshape_2"),
            Activation(name="predictions", function="softmax"),
        )
    else:
        head = (
            GlobalAvgPool(name="avg_pool"),
            Linear(name="fc", out_features=classes),
            Activation(name="softmax", function="softmax"),
        )
    blocks.append(Sequential(name="classifier", layers=head))
    return Network(
        name=_title("mobilenet-v1", values, _MOBILENET_V1_PARAMETERS),
        input_shape=_square(resolution),
        layers=tuple(blocks),
    )


# --- MobileNet v2 (torchvision) ------------------------------------------------------

# (expansion t, output channels c, repeats n, first stride s), Table 2 of Sandler et al.
_MOBILENET_V2_SETTING: Final = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)

_MOBILENET_V2_PARAMETERS: Final = (
    _width("width multiplier: channels × width, rounded to a multiple of 8 as torchvision does"),
    _resolution(224, 32),
    _classes(1000),
)


def _make_divisible(value: Fraction, divisor: int = 8) -> int:
    """torchvision's ``_make_divisible``: the nearest multiple of `divisor`, never 10% less."""
    rounded = max(divisor, math.floor(value + Fraction(divisor, 2)) // divisor * divisor)
    if rounded < Fraction(9, 10) * value:
        rounded += divisor
    return rounded


def _inverted_residual(
    name: str, in_channels: int, out_channels: int, stride: int, expansion: int
) -> Node:
    hidden = in_channels * expansion
    layers: list[Node] = []
    if expansion != 1:
        layers += [
            *_conv_bn("expand", hidden, 1),
            Activation(name="expand_relu6", function="relu6"),
        ]
    layers += [
        *_conv_bn("dw", hidden, 3, stride=stride, padding=1, groups=hidden),
        Activation(name="dw_relu6", function="relu6"),
        *_conv_bn("project", out_channels, 1),
    ]
    if stride == 1 and in_channels == out_channels:
        return Residual(name=name, body=tuple(layers))
    return Sequential(name=name, layers=tuple(layers))


def mobilenet_v2(*, width: Width = 1.0, resolution: int = 224, classes: int = 1000) -> Network:
    """MobileNetV2 as ``torchvision.models.mobilenet_v2(width_mult=width)`` builds it.

    Inverted residual blocks (1×1 expansion, 3×3 depthwise, linear 1×1 projection, each
    with batch norm; ReLU6 after the first two), an identity shortcut where the stride is
    1 and the channels match, a 1×1 convolution to 1280 channels, then the functional
    ``adaptive_avg_pool2d`` and ``flatten`` of torchvision's ``forward``, dropout and a
    linear classifier.
    """
    values = {"width": width, "resolution": resolution, "classes": classes}
    _check(_MOBILENET_V2_PARAMETERS, values)
    alpha = _exact(width)
    channels = _make_divisible(32 * alpha)
    last = _make_divisible(1280 * max(Fraction(1), alpha))
    blocks: list[Node] = [
        Sequential(
            name="stem",
            layers=(
                *_conv_bn("conv", channels, 3, stride=2, padding=1),
                Activation(name="conv_relu6", function="relu6"),
            ),
        )
    ]
    index = 1
    for stage, (expansion, filters, repeats, first_stride) in enumerate(
        _MOBILENET_V2_SETTING, start=1
    ):
        out = _make_divisible(filters * alpha)
        stage_blocks: list[Node] = []
        for repeat in range(repeats):
            stride = first_stride if repeat == 0 else 1
            stage_blocks.append(
                _inverted_residual(f"features.{index}", channels, out, stride, expansion)
            )
            channels = out
            index += 1
        blocks.append(Sequential(name=f"stage{stage}", layers=tuple(stage_blocks)))
    blocks.append(
        Sequential(
            name="conv_head",
            layers=(*_conv_bn("conv", last, 1), Activation(name="conv_relu6", function="relu6")),
        )
    )
    head = (
        AdaptiveAvgPool(name="avgpool", output_size=1, functional=True),
        Flatten(name="flatten"),
        Dropout(name="dropout", p=0.2),
        Linear(name="fc", out_features=classes),
    )
    blocks.append(Sequential(name="classifier", layers=head))
    return Network(
        name=_title("mobilenet-v2", values, _MOBILENET_V2_PARAMETERS),
        input_shape=_square(resolution),
        layers=tuple(blocks),
    )


# --- ResNet (torchvision) ------------------------------------------------------------

_RESNET_PARAMETERS: Final = (_resolution(224, 32), _classes(1000))


def _torch_conv_bn(name: str, bn: str, out: int, kernel: int, stride: int = 1) -> tuple[Node, ...]:
    """torchvision's ``conv3x3`` / ``conv1x1`` (bias-free, padding k // 2) and its BN."""
    return (
        Conv(
            name=name,
            out_channels=out,
            kernel_size=kernel,
            stride=stride,
            padding=kernel // 2,
            bias=False,
        ),
        BatchNorm(name=bn),
    )


def _resnet_block(
    name: str, in_channels: int, planes: int, stride: int, *, bottleneck: bool
) -> tuple[Node, ...]:
    """A BasicBlock or a Bottleneck (ResNet v1.5: the stride on the 3×3), then the ReLU."""
    out = planes * 4 if bottleneck else planes
    relu = Activation(name="relu", function="relu")
    body: tuple[Node, ...]
    if bottleneck:
        body = (
            *_torch_conv_bn("conv1", "bn1", planes, 1),
            relu,
            *_torch_conv_bn("conv2", "bn2", planes, 3, stride),
            relu,
            *_torch_conv_bn("conv3", "bn3", out, 1),
        )
    else:
        body = (
            *_torch_conv_bn("conv1", "bn1", planes, 3, stride),
            relu,
            *_torch_conv_bn("conv2", "bn2", planes, 3),
        )
    shortcut: tuple[Node, ...] = ()
    if stride != 1 or in_channels != out:
        shortcut = _torch_conv_bn("downsample.0", "downsample.1", out, 1, stride)
    return Residual(name=name, body=body, shortcut=shortcut), relu


def _resnet(
    name: str, depths: tuple[int, ...], *, bottleneck: bool, resolution: int, classes: int
) -> Network:
    values = {"resolution": resolution, "classes": classes}
    _check(_RESNET_PARAMETERS, values)
    blocks: list[Node] = [
        Sequential(
            name="conv1",
            layers=(
                Conv(name="conv1", out_channels=64, kernel_size=7, stride=2, padding=3, bias=False),
                BatchNorm(name="bn1"),
                Activation(name="relu", function="relu"),
                MaxPool(name="maxpool", kernel_size=3, stride=2, padding=1),
            ),
        )
    ]
    channels = 64
    for stage, (planes, depth) in enumerate(zip((64, 128, 256, 512), depths), start=1):
        layers: list[Node] = []
        for index in range(depth):
            stride = 2 if stage > 1 and index == 0 else 1
            layers += _resnet_block(
                f"layer{stage}.{index}", channels, planes, stride, bottleneck=bottleneck
            )
            channels = planes * 4 if bottleneck else planes
        blocks.append(Sequential(name=f"layer{stage}", layers=tuple(layers)))
    head = (
        AdaptiveAvgPool(name="avgpool", output_size=(1, 1)),
        Flatten(name="flatten"),
        Linear(name="fc", out_features=classes),
    )
    blocks.append(Sequential(name="head", layers=head))
    return Network(
        name=_title(name, values, _RESNET_PARAMETERS),
        input_shape=_square(resolution),
        layers=tuple(blocks),
    )


def resnet18(*, resolution: int = 224, classes: int = 1000) -> Network:
    """ResNet-18 as ``torchvision.models.resnet18()`` builds it (BasicBlocks 2, 2, 2, 2)."""
    return _resnet(
        "resnet18", (2, 2, 2, 2), bottleneck=False, resolution=resolution, classes=classes
    )


def resnet50(*, resolution: int = 224, classes: int = 1000) -> Network:
    """ResNet-50 as ``torchvision.models.resnet50()`` builds it (Bottlenecks 3, 4, 6, 3)."""
    return _resnet(
        "resnet50", (3, 4, 6, 3), bottleneck=True, resolution=resolution, classes=classes
    )


# --- VGG-16 (torchvision) ------------------------------------------------------------

_VGG16_PARAMETERS: Final = (_resolution(224, 32), _classes(1000))
_VGG16_BLOCKS: Final = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))


def vgg16(*, resolution: int = 224, classes: int = 1000) -> Network:
    """VGG-16 (configuration D) as ``torchvision.models.vgg16()`` builds it.

    Thirteen biased 3×3 convolutions (padding 1) with ReLU in five blocks, each ending in a
    2×2 max pool; adaptive average pooling to 7×7, flatten, and three dense layers
    (4096, 4096, classes) with ReLU and dropout between them.
    """
    values = {"resolution": resolution, "classes": classes}
    _check(_VGG16_PARAMETERS, values)
    blocks: list[Node] = []
    for block, (channels, convs) in enumerate(_VGG16_BLOCKS, start=1):
        layers: list[Node] = []
        for conv in range(1, convs + 1):
            layers += [
                Conv(name=f"conv{block}_{conv}", out_channels=channels, kernel_size=3, padding=1),
                Activation(name=f"relu{block}_{conv}", function="relu"),
            ]
        layers.append(MaxPool(name=f"pool{block}", kernel_size=2, stride=2))
        blocks.append(Sequential(name=f"block{block}", layers=tuple(layers)))
    head = (
        AdaptiveAvgPool(name="avgpool", output_size=(7, 7)),
        Flatten(name="flatten"),
        Linear(name="fc6", out_features=4096),
        Activation(name="relu6", function="relu"),
        Dropout(name="drop6", p=0.5),
        Linear(name="fc7", out_features=4096),
        Activation(name="relu7", function="relu"),
        Dropout(name="drop7", p=0.5),
        Linear(name="fc8", out_features=classes),
    )
    blocks.append(Sequential(name="classifier", layers=head))
    return Network(
        name=_title("vgg16", values, _VGG16_PARAMETERS),
        input_shape=_square(resolution),
        layers=tuple(blocks),
    )


# --- Xception (Chollet 2017, Keras) --------------------------------------------------

_XCEPTION_PARAMETERS: Final = (_resolution(299, 71), _classes(1000))


def _separable_bn(name: str, out: int) -> tuple[Node, ...]:
    """Keras ``SeparableConv2D(use_bias=False, padding="same")`` and its batch norm."""
    return (
        DepthwiseSeparableConv(
            name=name, out_channels=out, kernel_size=3, padding="same", bias="none"
        ),
        BatchNorm(name=f"{name}_bn"),
    )


def _xception_block(
    index: int, widths: tuple[int, ...], *, first_relu: bool = True, project: bool = True
) -> Residual:
    """ReLU, separable conv, BN per width (the first ReLU optional), then max pool and a
    strided 1×1 projection shortcut; or, without `project`, an identity shortcut."""
    body: list[Node] = []
    for part, out in enumerate(widths, start=1):
        if part > 1 or first_relu:
            body.append(Activation(name=f"sepconv{part}_act", function="relu"))
        body += _separable_bn(f"sepconv{part}", out)
    shortcut: tuple[Node, ...] = ()
    if project:
        body.append(MaxPool(name="pool", kernel_size=3, stride=2, padding="same"))
        shortcut = _conv_bn("residual", widths[-1], 1, stride=2, padding="same")
    return Residual(name=f"block{index}", body=tuple(body), shortcut=shortcut)


def xception(*, resolution: int = 299, classes: int = 1000) -> Network:
    """Xception (Chollet 2017) as Keras ``applications.Xception()`` builds it.

    Entry flow: two plain 3×3 convolutions ("valid"), then three blocks of separable
    convolutions with a 3×3 stride-2 max pool, added to a strided 1×1 projection; middle
    flow: eight identity residual blocks of three 728-channel separable convolutions; exit
    flow: one more projected block, then separable convolutions to 1536 and 2048 channels;
    global average pooling and a dense classifier. Every convolution is bias-free and
    followed by batch norm.
    """
    values = {"resolution": resolution, "classes": classes}
    _check(_XCEPTION_PARAMETERS, values)
    entry: tuple[Node, ...] = (
        Sequential(
            name="block1",
            layers=(
                *_conv_bn("conv1", 32, 3, stride=2),
                Activation(name="conv1_act", function="relu"),
                *_conv_bn("conv2", 64, 3),
                Activation(name="conv2_act", function="relu"),
            ),
        ),
        _xception_block(2, (128, 128), first_relu=False),
        _xception_block(3, (256, 256)),
        _xception_block(4, (728, 728)),
    )
    middle = tuple(_xception_block(i, (728, 728, 728), project=False) for i in range(5, 13))
    exit_flow: tuple[Node, ...] = (
        _xception_block(13, (728, 1024)),
        Sequential(
            name="block14",
            layers=(
                *_separable_bn("sepconv1", 1536),
                Activation(name="sepconv1_act", function="relu"),
                *_separable_bn("sepconv2", 2048),
                Activation(name="sepconv2_act", function="relu"),
            ),
        ),
    )
    head = (
        GlobalAvgPool(name="avg_pool"),
        Linear(name="predictions", out_features=classes),
        Activation(name="softmax", function="softmax"),
    )
    return Network(
        name=_title("xception", values, _XCEPTION_PARAMETERS),
        input_shape=_square(resolution),
        layers=(
            Sequential(name="entry", layers=entry),
            Sequential(name="middle", layers=middle),
            Sequential(name="exit", layers=exit_flow),
            Sequential(name="head", layers=head),
        ),
    )


# --- seed 001: the halve-resolution, double-channels pyramid -------------------------

_PYRAMID_PARAMETERS: Final = (
    _resolution(128, 1),
    PresetParameter(name="channels", type=int, default=64, help="input channels (default 64)"),
    PresetParameter(
        name="base_channels",
        type=int,
        default=128,
        help="channels of the first stage; each stage doubles them (default 128)",
    ),
    PresetParameter(name="stages", type=int, default=4, help="number of stages (default 4)"),
    PresetParameter(
        name="convs_per_stage", type=int, default=1, help="convolutions per stage (default 1)"
    ),
    PresetParameter(name="kernel_size", type=int, default=3, help="kernel size (default 3)"),
    PresetParameter(
        name="downsample",
        type=str,
        default="pool",
        choices=("pool", "stride"),
        help="halve the resolution by a 2×2 max pool after each stage, or by stride 2",
    ),
    PresetParameter(name="bias", type=bool, default=False, help="biased convolutions"),
)


def pyramid(
    *,
    resolution: int = 128,
    channels: int = 64,
    base_channels: int = 128,
    stages: int = 4,
    convs_per_stage: int = 1,
    kernel_size: int = 3,
    downsample: Literal["pool", "stride"] = "pool",
    bias: bool = False,
) -> Network:
    """Seed 001's pyramid (`convcost.builders.pyramid`) on a channels×resolution² input."""
    from convcost.builders import pyramid as build  # builders may import presets one day

    values = {
        "resolution": resolution,
        "channels": channels,
        "base_channels": base_channels,
        "stages": stages,
        "convs_per_stage": convs_per_stage,
        "kernel_size": kernel_size,
        "downsample": downsample,
        "bias": bias,
    }
    _check(_PYRAMID_PARAMETERS, values)
    network = build(
        input_shape=_square(resolution, channels),
        base_channels=base_channels,
        stages=stages,
        convs_per_stage=convs_per_stage,
        kernel_size=kernel_size,
        downsample=downsample,
        bias=bias,
    )
    return Network(
        name=_title("pyramid", values, _PYRAMID_PARAMETERS),
        input_shape=network.input_shape,
        layers=network.layers,
    )


# --- the registry --------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Preset:
    """A named network builder: `build(**parameters)` returns the `Network`.

    `parameters` lists the keyword parameters `build` takes, with their types, defaults
    and help; `source` says where the architecture and its published figures come from.
    """

    name: str
    description: str
    source: str
    build: Callable[..., Network]
    parameters: tuple[PresetParameter, ...] = ()

    def __post_init__(self) -> None:
        for name in ("name", "description", "source"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise FieldError(name, value, "a non-empty string")
        if not callable(self.build):
            raise FieldError("build", self.build, "a function returning a Network")
        if not all(isinstance(parameter, PresetParameter) for parameter in self.parameters):
            raise FieldError("parameters", self.parameters, "a tuple of PresetParameter")
        names = [parameter.name for parameter in self.parameters]
        if len(set(names)) != len(names):
            raise FieldError("parameters", names, "parameters with distinct names")

    def parameter(self, name: str) -> PresetParameter:
        """The parameter called `name`, or a `PresetError` naming the closest ones."""
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        names = tuple(parameter.name for parameter in self.parameters)
        known = ", ".join(names) if names else "none"
        raise PresetError(
            f"preset {self.name!r} has no parameter {name!r}{_closest(name, names)} "
            f"(its parameters: {known})"
        )

    @property
    def defaults(self) -> dict[str, Value]:
        return {parameter.name: parameter.default for parameter in self.parameters}


_PRESET_LIST: Final = (
    Preset(
        name="vgg-cifar",
        description="VGG-block CIFAR-10 model of seed 000 (Keras), optionally with SeparableConv2D",
        source="seed 000: Keras tutorial on depthwise separable convolutions (model summaries)",
        build=vgg_cifar,
        parameters=_VGG_CIFAR_PARAMETERS,
    ),
    Preset(
        name="pyramid",
        description="seed 001's pyramid: each 3×3 stage halves the resolution, doubles channels",
        source="seed 001: Matani & Singh 2023, Efficient Image Segmentation Using PyTorch, part 3",
        build=pyramid,
        parameters=_PYRAMID_PARAMETERS,
    ),
    Preset(
        name="mobilenet-v1",
        description="MobileNet v1 with width multiplier and resolution (shallow, regular variants)",
        source="Howard et al. 2017, arXiv:1704.04861, Tables 1-7; Keras applications MobileNet()",
        build=mobilenet_v1,
        parameters=_MOBILENET_V1_PARAMETERS,
    ),
    Preset(
        name="mobilenet-v2",
        description="MobileNetV2 as torchvision builds it",
        source="Sandler et al. 2018, arXiv:1801.04381; torchvision.models.mobilenet_v2",
        build=mobilenet_v2,
        parameters=_MOBILENET_V2_PARAMETERS,
    ),
    Preset(
        name="resnet18",
        description="ResNet-18 as torchvision builds it",
        source="He et al. 2015, arXiv:1512.03385; torchvision.models.resnet18",
        build=resnet18,
        parameters=_RESNET_PARAMETERS,
    ),
    Preset(
        name="resnet50",
        description="ResNet-50 (v1.5: stride on the 3×3) as torchvision builds it",
        source="He et al. 2015, arXiv:1512.03385; torchvision.models.resnet50",
        build=resnet50,
        parameters=_RESNET_PARAMETERS,
    ),
    Preset(
        name="vgg16",
        description="VGG-16 (configuration D) as torchvision builds it",
        source="Simonyan & Zisserman 2014, arXiv:1409.1556; torchvision.models.vgg16",
        build=vgg16,
        parameters=_VGG16_PARAMETERS,
    ),
    Preset(
        name="xception",
        description="Xception as Keras builds it (separable convolutions, residual flows)",
        source="Chollet 2017, arXiv:1610.02357, Table 3; Keras applications Xception()",
        build=xception,
        parameters=_XCEPTION_PARAMETERS,
    ),
)

PRESETS: Final[dict[str, Preset]] = {preset.name: preset for preset in _PRESET_LIST}


def get_preset(name: str) -> Preset:
    """The preset called `name`, or a `PresetError` naming the closest ones."""
    try:
        return PRESETS[name]
    except (KeyError, TypeError):
        names = tuple(PRESETS)
        hint = _closest(name, names) if isinstance(name, str) else ""
        raise PresetError(
            f"unknown preset {name!r}{hint or ' (presets: ' + ', '.join(names) + ')'}"
        ) from None


def build_preset(name: str, **parameters: object) -> Network:
    """Build preset `name` with `parameters` (the rest keep their defaults).

    An unknown name or parameter raises a `PresetError` naming the closest valid ones; a
    value outside a parameter's domain raises a `FieldError` naming the parameter.
    """
    preset = get_preset(name)
    for key, value in parameters.items():
        preset.parameter(key).check(value)
    return preset.build(**parameters)
