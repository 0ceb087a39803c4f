"""The preset zoo: well-known networks, built layer by layer from their published definitions.

A preset is a builder function registered with `@preset`, which reads its keyword
parameters (their types, defaults, help and bounds) from the function's own signature, so
each parameter is declared once. The registered function checks its arguments, and names
the network after the preset and the parameters that differ from their defaults.

The networks are built exactly as their reference implementation builds them — batch norm
wherever it has one, no convolution bias where it has none, one activation layer per call
site, the same padding arithmetic — and under the reference's own layer names:
torchvision's module names (``layer1.0.conv1``, ``layer2.0.downsample.0``) for the
torchvision models, Keras's layer names (``conv_dw_1``, ``block2_sepconv1``) for the Keras
ones. Every published figure for them (papers, Keras summaries, torchvision) is checked in
``tests/test_presets.py`` and listed, with each disagreement explained, in
``docs/presets.md``.

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

import functools
import inspect
import math
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from fractions import Fraction
from types import MappingProxyType
from typing import Annotated, Any, Final, Literal, TypeAlias, get_args, get_origin

from convcost.checks import check_bool, check_choice, check_int, is_int, suggest
from convcost.errors import FieldError, PresetError
from convcost.layers import (
    Activation,
    AdaptiveAvgPool,
    BatchNorm,
    Concat,
    Conv,
    ConvTranspose,
    DepthwiseSeparableConv,
    Dropout,
    Flatten,
    GlobalAvgPool,
    Linear,
    MaxPool,
    ZeroPad,
)
from convcost.limits import MAX_LAYERS, MAX_SIZE
from convcost.network import Network, Node, Residual, Sequential
from convcost.shapes import Padding, Shape, parse_shape

__all__ = [
    "PRESETS",
    "Param",
    "Preset",
    "PresetError",
    "PresetParameter",
    "Resolution",
    "build_preset",
    "get_preset",
    "mobilenet_v1",
    "mobilenet_v2",
    "preset",
    "pyramid",
    "resnet18",
    "resnet50",
    "unet",
    "vgg16",
    "vgg_cifar",
    "xception",
]


Resolution: TypeAlias = int | tuple[int, int]
"""An input's height and width: one number for a square, or ``(height, width)``."""
Width: TypeAlias = int | float | Fraction
"""A width multiplier, taken as the decimal written (0.35 is 35/100, not a float)."""
Value: TypeAlias = bool | int | float | Fraction | str | tuple[int, int] | Shape
Kind: TypeAlias = Literal["bool", "int", "number", "choice", "resolution", "shape"]
MAX_NUMBER: Final = 1000  # a width multiplier beyond this is a typo


@dataclass(frozen=True, slots=True)
class Param:
    """What a builder's signature says of a parameter beyond its type and default:
    ``Annotated[int, Param("output classes")]``."""

    help: str
    minimum: int = 1


# --- parameters ----------------------------------------------------------------------

_TRUE: Final = ("true", "yes", "on", "1")
_FALSE: Final = ("false", "no", "off", "0")
_WHOLE: Final = re.compile(r"[0-9]+")  # ASCII digits only
_DECIMAL: Final = re.compile(r"[0-9]{1,6}(\.[0-9]{1,12})?|\.[0-9]{1,12}")


@dataclass(frozen=True, kw_only=True, slots=True)
class PresetParameter:
    """One keyword parameter of a preset: what a command line exposes as ``--param``.

    `kind` is ``bool``, ``int`` (at least `minimum`), ``number`` (a positive number up to
    1000, kept exact), ``choice`` (one of `choices`), ``resolution`` (an integer, or a
    height × width pair) or ``shape`` (a feature-map shape). `default` is in the domain.
    """

    name: str
    kind: Kind
    default: Value
    help: str
    choices: tuple[str, ...] = ()
    minimum: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise FieldError("name", self.name, "a Python identifier")
        check_choice("kind", self.kind, get_args(Kind))
        if not isinstance(self.help, str) or not self.help:
            raise FieldError("help", self.help, "a non-empty string")
        if (self.kind == "choice") != bool(self.choices):
            raise FieldError("choices", self.choices, "given for a choice and only then")
        self.check(self.default)

    def check(self, value: object) -> Value:
        """`value` if it is in the parameter's domain, else a `FieldError` naming it."""
        name = self.name
        if self.kind == "bool":
            return check_bool(name, value)
        if self.kind == "int":
            return check_int(name, value, minimum=self.minimum)
        if self.kind == "number":
            number = isinstance(value, (int, float, Fraction)) and not isinstance(value, bool)
            if not number or not 0 < value <= MAX_NUMBER:  # type: ignore[operator]
                raise FieldError(name, value, f"a positive number up to {MAX_NUMBER}")
            return value  # type: ignore[return-value]
        if self.kind == "choice":
            return check_choice(name, value, self.choices)
        if self.kind == "shape":
            if not isinstance(value, Shape):
                raise FieldError(name, value, "a Shape")
            return value
        sizes = value if isinstance(value, tuple) else (value,)
        if len(sizes) not in (1, 2) or not all(is_int(size) for size in sizes):
            raise FieldError(name, value, "an integer or a (height, width) pair")
        for size in sizes:
            check_int(name, size, minimum=self.minimum)
        return value  # type: ignore[return-value]

    def parse(self, text: str) -> Value:
        """A value from command-line text: ``true``, ``224``, ``0.75``, ``224x448``, ..."""
        raw = text.strip()
        if self.kind == "bool":
            if raw.lower() in _TRUE or raw.lower() in _FALSE:
                return raw.lower() in _TRUE
            raise FieldError(self.name, text, "true or false")
        if self.kind == "int":
            return self.check(self._whole(text, raw))
        if self.kind == "number":
            if not _DECIMAL.fullmatch(raw):
                raise FieldError(self.name, text, "a decimal number such as 0.75")
            return self.check(Fraction(raw))
        if self.kind == "choice":
            return self.check(raw)
        if self.kind == "shape":
            return parse_shape(raw)
        sizes = re.split(r"\s*[x×,]\s*", raw)
        if len(sizes) not in (1, 2) or not all(_WHOLE.fullmatch(size) for size in sizes):
            raise FieldError(self.name, text, "a size such as 224, or 224x448 (height x width)")
        values = tuple(self._whole(text, size) for size in sizes)
        return self.check(values[0] if len(values) == 1 else values)

    def _whole(self, text: str, digits: str) -> int:
        """`digits` as an integer; past the bound, an error stating it (before `int()`, whose
        cost grows with the digits)."""
        if not _WHOLE.fullmatch(digits):
            raise FieldError(self.name, text, "a whole number")
        if len(digits.lstrip("0")) > len(str(MAX_SIZE)):
            raise FieldError(self.name, text, "a whole number of at most 10**18")
        return int(digits)

    @property
    def type_name(self) -> str:
        """The parameter's type as documents name it."""
        return {"number": "float", "choice": "str"}.get(self.kind, self.kind)


def _show_value(value: Value) -> str:
    if isinstance(value, tuple):
        return "x".join(map(str, value))
    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else str(float(value))
    return str(value)


def _parameter(name: str, annotation: object, default: object) -> PresetParameter:
    """A parameter from ``Annotated[type, Param(...)]`` and its default."""
    base, *extras = get_args(annotation)
    meta = next((extra for extra in extras if isinstance(extra, Param)), None)
    if get_origin(annotation) is not Annotated or meta is None:
        raise TypeError(f"preset parameter {name!r} needs Annotated[type, Param(...)]")
    kinds: dict[object, Kind] = {
        bool: "bool", int: "int", Width: "number", Resolution: "resolution", Shape: "shape"
    }  # fmt: skip
    choices: tuple[str, ...] = ()
    if get_origin(base) is Literal:
        kind: Kind = "choice"
        choices = get_args(base)
    else:
        kind = kinds[base]
    return PresetParameter(
        name=name, kind=kind, default=default, help=meta.help,  # type: ignore[arg-type]
        choices=choices, minimum=meta.minimum,
    )  # fmt: skip


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
            f"preset {self.name!r} has no parameter {name!r}{suggest(name, names)} "
            f"(its parameters: {known})"
        )

    @property
    def defaults(self) -> dict[str, Value]:
        return {parameter.name: parameter.default for parameter in self.parameters}

    def title(self, values: Mapping[str, Value]) -> str:
        """The name of the network built with `values`: the preset's, and what changed."""
        chosen = {**self.defaults, **values}
        changed = [f"{p.name}={_show_value(chosen[p.name])}" for p in self.parameters
                   if chosen[p.name] != p.default]  # fmt: skip
        return f"{self.name} ({', '.join(changed)})" if changed else self.name

    def with_resolution(self, network: Network, values: Mapping[str, Value]) -> Network:
        """``build(**values)``, from `network` built with the same values but another
        ``resolution``: that parameter sets the input's size and nothing else (a test
        holds every preset to it), so a sweep builds once for all its resolutions."""
        resolution = self.parameter("resolution").check(values["resolution"])
        shape = _image(resolution, network.input_shape.channels)  # type: ignore[arg-type]
        return replace(network, input_shape=shape, name=self.title(values))

    def parse(self, texts: Mapping[str, str]) -> dict[str, Value]:
        """Parameter values from command-line text, ``{"width": "0.5"}``, each checked."""
        values = {}
        for name, text in texts.items():
            try:
                values[name] = self.parameter(name).parse(text)
            except FieldError as error:
                raise PresetError(f"--param {name}: {error}") from error
        return values


_REGISTRY: dict[str, Preset] = {}
PRESETS: Final[Mapping[str, Preset]] = MappingProxyType(_REGISTRY)
"""The built-in presets by name, in the order they are listed."""


def preset(
    name: str, *, description: str, source: str
) -> Callable[[Callable[..., Network]], Callable[..., Network]]:
    """Register a builder as the preset `name`; its parameters come from its signature."""

    def register(builder: Callable[..., Network]) -> Callable[..., Network]:
        hints = typing.get_type_hints(builder, include_extras=True)
        signature = inspect.signature(builder)
        parameters = tuple(
            _parameter(key, hints[key], parameter.default)
            for key, parameter in signature.parameters.items()
        )

        @functools.wraps(builder)
        def build(**values: Any) -> Network:
            entry = _REGISTRY[name]
            for key, value in values.items():
                entry.parameter(key).check(value)
            return replace(builder(**values), name=entry.title(values))

        _REGISTRY[name] = Preset(
            name=name, description=description, source=source, build=build,
            parameters=parameters,
        )  # fmt: skip
        return build

    return register


def get_preset(name: str) -> Preset:
    """The preset called `name`, or a `PresetError` naming the closest ones."""
    if isinstance(name, str) and name in _REGISTRY:
        return _REGISTRY[name]
    names = tuple(_REGISTRY)
    hint = suggest(name, names) if isinstance(name, str) else ""
    shown = name if isinstance(name, str) and len(name) <= 40 else f"{str(name)[:37]}..."
    raise PresetError(f"unknown preset {shown!r}{hint or ' (presets: ' + ', '.join(names) + ')'}")


def build_preset(name: str, **parameters: object) -> Network:
    """Build preset `name` with `parameters` (the rest keep their defaults).

    An unknown name or parameter raises a `PresetError` naming the closest valid ones; a
    value outside a parameter's domain raises a `FieldError` naming the parameter.
    """
    return get_preset(name).build(**parameters)


# --- small pieces --------------------------------------------------------------------


def _exact(width: Width) -> Fraction:
    """A width multiplier as the exact number written: 0.35 is 35/100, not the nearest float."""
    return Fraction(str(width)) if isinstance(width, float) else Fraction(width)


def _scaled(channels: int, width: Fraction) -> int:
    """``int(channels * width)``: Keras's truncating width multiplier, on exact numbers."""
    return math.floor(channels * width)


def _image(resolution: Resolution, channels: int = 3) -> Shape:
    sizes = resolution if isinstance(resolution, tuple) else (resolution, resolution)
    return Shape(channels, sizes)


def _conv_bn(
    name: str,
    out_channels: int,
    kernel_size: int,
    *,
    stride: int = 1,
    padding: Padding = 0,
    groups: int = 1,
    bn: str | None = None,
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
    return conv, BatchNorm(name=bn or f"{name}_bn")


def _relu(name: str, function: str = "relu") -> Activation:
    return Activation(name=name, function=function)


_RESOLUTION_HELP: Final = "input height and width in pixels, or HxW"


# --- Matani & Singh 2023: the halve-resolution, double-channels pyramid -----------------

_PYRAMID_INPUT: Final = Shape(64, (128, 128))
Downsample: TypeAlias = Literal["pool", "stride"]
Head: TypeAlias = Literal["none", "global", "flatten"]
PyramidActivation: TypeAlias = Literal[
    "none", "relu", "relu6", "leaky_relu", "elu", "gelu", "silu", "swish", "sigmoid",
    "hardsigmoid", "hardswish", "tanh",
]  # fmt: skip
MAX_STAGES: Final = 64


@preset(
    "pyramid",
    description="the classic pyramid: each k×k stage halves the resolution, doubles channels",
    source="Matani & Singh 2023, Efficient Image Segmentation Using PyTorch, part 3 "
    "(its comparison of regular and depthwise separable convolutions)",
)
def pyramid(
    *,
    input_shape: Annotated[Shape, Param("input shape, C×H×W")] = _PYRAMID_INPUT,
    base_channels: Annotated[int, Param("channels of the first stage, doubled each stage")] = 128,
    stages: Annotated[int, Param("stages; the resolution halves after each")] = 4,
    convs_per_stage: Annotated[int, Param("convolutions per stage")] = 1,
    kernel_size: Annotated[int, Param("kernel size k (k×k)")] = 3,
    downsample: Annotated[
        Downsample, Param("halve the resolution by a 2×2 max pool after each stage, or by stride 2")
    ] = "pool",
    bias: Annotated[bool, Param("biased convolutions")] = False,
    batch_norm: Annotated[bool, Param("batch norm after each convolution")] = False,
    activation: Annotated[PyramidActivation, Param("activation after each convolution")] = "none",
    head: Annotated[
        Head, Param("classifier: global average pooling or flatten, then dense")
    ] = "none",
    classes: Annotated[int, Param("classes of the dense head")] = 1000,
) -> Network:
    """The classic pyramid: stage i has ``base_channels * 2**i`` channels at 1/2**i resolution.

    Each stage is `convs_per_stage` k×k convolutions with "same" padding (each optionally
    followed by batch norm and an activation). Resolution halves between stages, by a
    2×2 max pool after every stage (``downsample="pool"``, as in VGG: the last stage's
    output is halved too) or by stride 2 in the first convolution of every stage but the
    first (``"stride"``: the last stage's output keeps its resolution). Either way stage i
    runs at 1/2**i resolution, so the convolutions cost the same. The optional head is
    global average pooling or flattening, then a dense layer of `classes`.

    The defaults are the setting of Matani & Singh (2023): a 64×128×128 input, one 3×3
    convolution per stage doubling channels (64→128, 128→256, 256→512, 512→1024) at 128,
    64, 32 and 16 pixels, no bias.
    """
    check_int("stages", stages, maximum=MAX_STAGES)
    if base_channels.bit_length() + stages - 1 > MAX_SIZE.bit_length():
        raise FieldError("stages", stages, "a count whose last stage has at most 10**18 channels")
    per_conv = 1 + batch_norm + (activation != "none")
    if stages * (convs_per_stage * per_conv + 2) > MAX_LAYERS:
        raise FieldError(
            "convs_per_stage",
            convs_per_stage,
            f"small enough that stages × layers per stage stays under {MAX_LAYERS:,}",
        )
    if classes != 1000 and head == "none":
        raise PresetError(f"classes={classes} needs a classifier: set head to global or flatten")
    # Each 2×2 pool needs two pixels; a strided "same" convolution rounds up and never runs out.
    if downsample == "pool" and input_shape.ndim and min(input_shape.spatial) >> stages == 0:
        deepest = min(input_shape.spatial).bit_length() - 1
        raise FieldError(
            "stages",
            stages,
            f"at most {deepest} for input {input_shape} (each stage halves the resolution)",
        )
    blocks: list[Node] = []
    for stage in range(stages):
        layers: list[Node] = []
        for index in range(1, convs_per_stage + 1):
            strided = downsample == "stride" and stage > 0 and index == 1
            layers.append(
                Conv(
                    name=f"conv{index}",
                    out_channels=base_channels << stage,
                    kernel_size=kernel_size,
                    stride=2 if strided else 1,
                    padding="same",
                    bias=bias,
                )
            )
            if batch_norm:
                layers.append(BatchNorm(name=f"bn{index}"))
            if activation != "none":
                layers.append(_relu(f"{activation}{index}", activation))
        if downsample == "pool":
            layers.append(MaxPool(name="pool", kernel_size=2))
        blocks.append(Sequential(name=f"stage{stage + 1}", layers=tuple(layers)))
    if head == "global":
        blocks += [AdaptiveAvgPool(name="avgpool"), Flatten(name="flatten")]
    elif head == "flatten":
        blocks.append(Flatten(name="flatten"))
    if head != "none":
        blocks.append(Linear(name="fc", out_features=classes))
    return Network(name="pyramid", input_shape=input_shape, layers=tuple(blocks))


# --- Chng 2022: the VGG-block CIFAR-10 model (Keras) ------------------------------------


@preset(
    "vgg-cifar",
    description="VGG-block CIFAR-10 model (Keras), optionally with SeparableConv2D",
    source="Chng 2022, Using Depthwise Separable Convolutions in Tensorflow "
    "(Machine Learning Mastery): its two Keras model summaries",
)
def vgg_cifar(
    *,
    separable: Annotated[
        bool, Param("Keras SeparableConv2D (one bias, on the pointwise part) instead of Conv2D")
    ] = False,
    resolution: Annotated[Resolution, Param(_RESOLUTION_HELP, minimum=8)] = 32,
    classes: Annotated[int, Param("output classes")] = 10,
) -> Network:
    """The Keras model of Chng (2022): three VGG blocks (64, 128, 256), flatten, dense.

    A block is two 3×3 "same" convolutions with bias (ReLU folded in, as Keras's
    ``activation="relu"`` does), then a 2×2 max pool; with `separable` the convolutions
    are Keras ``SeparableConv2D`` (bias on the pointwise part). Layers are unnamed, so
    they get Keras's own names: ``conv2d``, ``conv2d_1``, ``max_pooling2d``, ... ``dense``.
    """
    blocks: list[Node] = []
    for index, channels in enumerate((64, 128, 256), start=1):
        conv: Conv | DepthwiseSeparableConv = (
            DepthwiseSeparableConv(out_channels=channels, kernel_size=3, padding="same")
            if separable
            else Conv(out_channels=channels, kernel_size=3, padding="same")
        )
        pool = MaxPool(kernel_size=2, stride=2)
        blocks.append(Sequential(name=f"block{index}", layers=(conv, conv, pool)))
    head = (Flatten(), Linear(out_features=classes))
    return Network(
        name="vgg-cifar", input_shape=_image(resolution), layers=(*blocks, *head), naming="flat"
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


@preset(
    "mobilenet-v1",
    description="MobileNet v1 with width multiplier and resolution (shallow, regular variants)",
    source="Howard et al. 2017, arXiv:1704.04861, Tables 1-7; Keras applications MobileNet()",
)
def mobilenet_v1(
    *,
    width: Annotated[
        Width, Param("width multiplier α: every layer keeps int(channels × α) channels")
    ] = 1.0,
    resolution: Annotated[Resolution, Param(_RESOLUTION_HELP, minimum=32)] = 224,
    classes: Annotated[int, Param("output classes")] = 1000,
    depth_multiplier: Annotated[
        int, Param("depthwise output channels per input channel (Keras's depth_multiplier)")
    ] = 1,
    shallow: Annotated[
        bool, Param("remove the five separable layers at 14×14×512 (Table 5's shallow MobileNet)")
    ] = False,
    regular: Annotated[
        bool, Param("a full 3×3 convolution for each separable layer (Table 4's Conv MobileNet)")
    ] = False,
    style: Annotated[
        MobileNetStyle,
        Param(
            "'paper': Table 1 (BN + ReLU, average pool, FC); 'keras': Keras MobileNet() "
            "(ReLU6, explicit padding before stride 2, dropout and a 1×1 conv classifier)"
        ),
    ] = "paper",
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
        return (*_conv_bn(name, out, kernel, **window), _relu(f"{name}_relu", act))

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
            _relu("predictions", "softmax"),
        )
    else:
        head = (
            GlobalAvgPool(name="avg_pool"),
            Linear(name="fc", out_features=classes),
            _relu("softmax", "softmax"),
        )
    blocks.append(Sequential(name="classifier", layers=head))
    return Network(
        name="mobilenet-v1", input_shape=_image(resolution), layers=tuple(blocks), naming="flat"
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


def _make_divisible(value: Fraction, divisor: int = 8) -> int:
    """torchvision's ``_make_divisible``: the nearest multiple of `divisor`, never 10% less."""
    rounded = max(divisor, math.floor(value + Fraction(divisor, 2)) // divisor * divisor)
    if rounded < Fraction(9, 10) * value:
        rounded += divisor
    return rounded


def _conv_norm_activation(
    name: str, out: int, kernel: int, *, stride: int = 1, groups: int = 1
) -> Sequential:
    """torchvision's ``Conv2dNormActivation`` with ReLU6: modules ``0``, ``1``, ``2``."""
    conv, bn = _conv_bn("0", out, kernel, stride=stride, padding=kernel // 2, groups=groups,
                        bn="1")  # fmt: skip
    return Sequential(name=name, layers=(conv, bn, _relu("2", "relu6")))


def _inverted_residual(
    name: str, in_channels: int, out_channels: int, stride: int, expansion: int
) -> Node:
    """torchvision's ``InvertedResidual``: its ``conv`` Sequential, added to the input
    where the stride is 1 and the channels match."""
    hidden = in_channels * expansion
    layers: list[Node] = []
    if expansion != 1:
        layers.append(_conv_norm_activation(str(len(layers)), hidden, 1))
    layers.append(_conv_norm_activation(str(len(layers)), hidden, 3, stride=stride, groups=hidden))
    conv, bn = _conv_bn(str(len(layers)), out_channels, 1, bn=str(len(layers) + 1))
    body = Sequential(name="conv", layers=(*layers, conv, bn))
    if stride == 1 and in_channels == out_channels:
        return Residual(name=name, body=(body,))
    return Sequential(name=name, layers=(body,))


@preset(
    "mobilenet-v2",
    description="MobileNetV2 as torchvision builds it",
    source="Sandler et al. 2018, arXiv:1801.04381; torchvision.models.mobilenet_v2",
)
def mobilenet_v2(
    *,
    width: Annotated[
        Width,
        Param("width multiplier: channels × width, rounded to a multiple of 8 as torchvision does"),
    ] = 1.0,
    resolution: Annotated[Resolution, Param(_RESOLUTION_HELP, minimum=32)] = 224,
    classes: Annotated[int, Param("output classes")] = 1000,
) -> Network:
    """MobileNetV2 as ``torchvision.models.mobilenet_v2(width_mult=width)`` builds it.

    ``features.0`` (a 3×3 stride-2 convolution, BN, ReLU6), seventeen inverted residual
    blocks ``features.1`` to ``features.17`` (1×1 expansion, 3×3 depthwise, linear 1×1
    projection, each with batch norm, ReLU6 after the first two; the input added where the
    stride is 1 and the channels match), ``features.18`` (a 1×1 convolution to 1280
    channels), then the functional ``adaptive_avg_pool2d`` and ``flatten`` of
    torchvision's ``forward`` and the ``classifier`` (dropout, linear).
    """
    alpha = _exact(width)
    channels = _make_divisible(32 * alpha)
    last = _make_divisible(1280 * max(Fraction(1), alpha))
    features: list[Node] = [_conv_norm_activation("0", channels, 3, stride=2)]
    for expansion, filters, repeats, first_stride in _MOBILENET_V2_SETTING:
        out = _make_divisible(filters * alpha)
        for repeat in range(repeats):
            stride = first_stride if repeat == 0 else 1
            features.append(
                _inverted_residual(str(len(features)), channels, out, stride, expansion)
            )
            channels = out
    features.append(_conv_norm_activation(str(len(features)), last, 1))
    return Network(
        name="mobilenet-v2",
        input_shape=_image(resolution),
        layers=(
            Sequential(name="features", layers=tuple(features)),
            AdaptiveAvgPool(output_size=1, functional=True),
            Flatten(),
            Sequential(
                name="classifier",
                layers=(Dropout(name="0", p=0.2), Linear(name="1", out_features=classes)),
            ),
        ),
        group_depth=2,
    )


# --- ResNet (torchvision) ------------------------------------------------------------


def _resnet_block(
    name: str, in_channels: int, planes: int, stride: int, *, bottleneck: bool,
    width: Fraction = Fraction(1),
) -> Sequential:  # fmt: skip
    """torchvision's ``BasicBlock`` or ``Bottleneck`` (ResNet v1.5: the stride on the
    3×3; ``int(planes × width)`` channels inside): its body and ``downsample`` shortcut
    added, then its one ReLU module once more."""

    def conv_bn(index: int, out: int, kernel: int, step: int = 1) -> tuple[Node, ...]:
        return _conv_bn(f"conv{index}", out, kernel, stride=step, padding=kernel // 2,
                        bn=f"bn{index}")  # fmt: skip

    out = planes * 4 if bottleneck else planes
    relu = _relu("relu")
    body: tuple[Node, ...]
    if bottleneck:
        inner = _scaled(planes, width)
        body = (*conv_bn(1, inner, 1), relu, *conv_bn(2, inner, 3, stride), relu,
                *conv_bn(3, out, 1))  # fmt: skip
    else:
        body = (*conv_bn(1, planes, 3, stride), relu, *conv_bn(2, planes, 3))
    shortcut: tuple[Node, ...] = ()
    if stride != 1 or in_channels != out:
        conv, bn = _conv_bn("0", out, 1, stride=stride, bn="1")
        shortcut = (Sequential(name="downsample", layers=(conv, bn)),)
    return Sequential(name=name, layers=(Residual(body=body, shortcut=shortcut), relu))


def _resnet(name: str, depths: tuple[int, ...], *, bottleneck: bool, resolution: Resolution,
            classes: int, width: Fraction = Fraction(1)) -> Network:  # fmt: skip
    layers: list[Node] = [
        Conv(name="conv1", out_channels=64, kernel_size=7, stride=2, padding=3, bias=False),
        BatchNorm(name="bn1"),
        _relu("relu"),
        MaxPool(name="maxpool", kernel_size=3, stride=2, padding=1),
    ]
    channels = 64
    for stage, (planes, depth) in enumerate(zip((64, 128, 256, 512), depths), start=1):
        blocks: list[Node] = []
        for index in range(depth):
            stride = 2 if stage > 1 and index == 0 else 1
            blocks.append(_resnet_block(str(index), channels, planes, stride,
                                        bottleneck=bottleneck, width=width))  # fmt: skip
            channels = planes * 4 if bottleneck else planes
        layers.append(Sequential(name=f"layer{stage}", layers=tuple(blocks)))
    layers += [
        AdaptiveAvgPool(name="avgpool", output_size=(1, 1)),
        Flatten(),
        Linear(name="fc", out_features=classes),
    ]
    return Network(name=name, input_shape=_image(resolution), layers=tuple(layers))


@preset(
    "resnet18",
    description="ResNet-18 as torchvision builds it",
    source="He et al. 2015, arXiv:1512.03385; torchvision.models.resnet18",
)
def resnet18(
    *,
    resolution: Annotated[Resolution, Param(_RESOLUTION_HELP, minimum=32)] = 224,
    classes: Annotated[int, Param("output classes")] = 1000,
) -> Network:
    """ResNet-18 as ``torchvision.models.resnet18()`` builds it (BasicBlocks 2, 2, 2, 2)."""
    return _resnet(
        "resnet18", (2, 2, 2, 2), bottleneck=False, resolution=resolution, classes=classes
    )


@preset(
    "resnet50",
    description="ResNet-50 (v1.5: stride on the 3×3) as torchvision builds it",
    source="He et al. 2015, arXiv:1512.03385; torchvision.models.resnet50",
)
def resnet50(
    *,
    width: Annotated[
        Width,
        Param(
            "bottleneck width: int(planes × width) channels inside each bottleneck "
            "(torchvision's width_per_group / 64; 2 is wide_resnet50_2)"
        ),
    ] = 1,
    resolution: Annotated[Resolution, Param(_RESOLUTION_HELP, minimum=32)] = 224,
    classes: Annotated[int, Param("output classes")] = 1000,
) -> Network:
    """ResNet-50 as ``torchvision.models.resnet50()`` builds it (Bottlenecks 3, 4, 6, 3);
    ``width=2`` is ``wide_resnet50_2()`` (Zagoruyko & Komodakis 2016)."""
    return _resnet("resnet50", (3, 4, 6, 3), bottleneck=True, resolution=resolution,
                   classes=classes, width=_exact(width))  # fmt: skip


# --- VGG-16 (torchvision) ------------------------------------------------------------

_VGG16_BLOCKS: Final = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))


@preset(
    "vgg16",
    description="VGG-16 (configuration D) as torchvision builds it",
    source="Simonyan & Zisserman 2014, arXiv:1409.1556; torchvision.models.vgg16",
)
def vgg16(
    *,
    resolution: Annotated[Resolution, Param(_RESOLUTION_HELP, minimum=32)] = 224,
    classes: Annotated[int, Param("output classes")] = 1000,
) -> Network:
    """VGG-16 (configuration D) as ``torchvision.models.vgg16()`` builds it.

    ``features``: thirteen biased 3×3 convolutions (padding 1), each followed by ReLU, in
    five blocks, each ending in a 2×2 max pool (modules ``features.0`` to ``features.30``);
    ``avgpool`` (adaptive average pooling to 7×7), the functional ``flatten``, and the
    ``classifier``: three dense layers (4096, 4096, classes) with ReLU and dropout between.
    """
    features: list[Node] = []

    def add(layer: Any) -> None:
        features.append(replace(layer, name=str(len(features))))

    for channels, convs in _VGG16_BLOCKS:
        for _ in range(convs):
            add(Conv(out_channels=channels, kernel_size=3, padding=1))
            add(Activation())
        add(MaxPool(kernel_size=2, stride=2))
    classifier = (
        Linear(name="0", out_features=4096),
        _relu("1"),
        Dropout(name="2", p=0.5),
        Linear(name="3", out_features=4096),
        _relu("4"),
        Dropout(name="5", p=0.5),
        Linear(name="6", out_features=classes),
    )
    return Network(
        name="vgg16",
        input_shape=_image(resolution),
        layers=(
            Sequential(name="features", layers=tuple(features)),
            AdaptiveAvgPool(name="avgpool", output_size=(7, 7)),
            Flatten(),
            Sequential(name="classifier", layers=classifier),
        ),
        group_depth=2,
    )


# --- Xception (Chollet 2017, Keras) --------------------------------------------------


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
    """ReLU, separable conv, BN per width (the first ReLU optional), then max pool and an
    (unnamed, as in Keras) strided 1×1 projection shortcut; or, without `project`, an
    identity shortcut."""
    prefix = f"block{index}"
    body: list[Node] = []
    for part, out in enumerate(widths, start=1):
        if part > 1 or first_relu:
            body.append(_relu(f"{prefix}_sepconv{part}_act"))
        body += _separable_bn(f"{prefix}_sepconv{part}", out)
    shortcut: tuple[Node, ...] = ()
    if project:
        body.append(MaxPool(name=f"{prefix}_pool", kernel_size=3, stride=2, padding="same"))
        shortcut = (
            Conv(out_channels=widths[-1], kernel_size=1, stride=2, padding="same", bias=False),
            BatchNorm(),
        )
    return Residual(name=prefix, body=tuple(body), shortcut=shortcut)


@preset(
    "xception",
    description="Xception as Keras builds it (separable convolutions, residual flows)",
    source="Chollet 2017, arXiv:1610.02357, Table 3; Keras applications Xception()",
)
def xception(
    *,
    resolution: Annotated[Resolution, Param(_RESOLUTION_HELP, minimum=71)] = 299,
    classes: Annotated[int, Param("output classes")] = 1000,
) -> Network:
    """Xception (Chollet 2017) as Keras ``applications.Xception()`` builds it.

    Entry flow: two plain 3×3 convolutions ("valid"), then three blocks of separable
    convolutions with a 3×3 stride-2 max pool, added to a strided 1×1 projection; middle
    flow: eight identity residual blocks of three 728-channel separable convolutions; exit
    flow: one more projected block, then separable convolutions to 1536 and 2048 channels;
    global average pooling and a dense classifier. Every convolution is bias-free and
    followed by batch norm. Keras's layer names: ``block2_sepconv1``, ``add_3``, ...
    """
    stem = Sequential(
        name="block1",
        layers=(
            *_conv_bn("block1_conv1", 32, 3, stride=2),
            _relu("block1_conv1_act"),
            *_conv_bn("block1_conv2", 64, 3),
            _relu("block1_conv2_act"),
        ),
    )
    entry = (
        _xception_block(2, (128, 128), first_relu=False),
        _xception_block(3, (256, 256)),
        _xception_block(4, (728, 728)),
    )
    middle = tuple(_xception_block(i, (728, 728, 728), project=False) for i in range(5, 13))
    exit_flow = (
        _xception_block(13, (728, 1024)),
        Sequential(
            name="block14",
            layers=(
                *_separable_bn("block14_sepconv1", 1536),
                _relu("block14_sepconv1_act"),
                *_separable_bn("block14_sepconv2", 2048),
                _relu("block14_sepconv2_act"),
            ),
        ),
    )
    head = (GlobalAvgPool(name="avg_pool"), Linear(name="predictions", out_features=classes))
    return Network(
        name="xception",
        input_shape=_image(resolution),
        layers=(stem, *entry, *middle, *exit_flow, *head),
        naming="flat",
    )


# --- U-Net (Ronneberger et al. 2015), padded, as milesial/Pytorch-UNet builds it --------

_UNET_CHANNELS: Final = (64, 128, 256, 512, 1024)


def _double_conv(name: str, channels: int) -> Sequential:
    """Two 3×3 "same" convolutions, each with batch norm and ReLU: ``DoubleConv``."""
    return Sequential(
        name=name,
        layers=(
            Sequential(
                name="double_conv",
                layers=(
                    *_conv_bn("0", channels, 3, padding=1, bn="1"),
                    _relu("2"),
                    *_conv_bn("3", channels, 3, padding=1, bn="4"),
                    _relu("5"),
                ),
            ),
        ),
    )


@preset(
    "unet",
    description="U-Net with padded convolutions and batch norm (a graph: skips by name)",
    source="Ronneberger et al. 2015, arXiv:1505.04597; as milesial/Pytorch-UNet builds it",
)
def unet(
    *,
    resolution: Annotated[
        Resolution, Param(_RESOLUTION_HELP + " (a multiple of 16)", minimum=16)
    ] = 512,
    channels: Annotated[int, Param("input channels")] = 3,
    classes: Annotated[int, Param("output classes (channels of the 1×1 output convolution)")] = 2,
) -> Network:
    """U-Net as ``UNet(n_channels, n_classes, bilinear=False)`` of milesial/Pytorch-UNet
    builds it: the paper's architecture with "same" 3×3 convolutions followed by batch
    norm, so the output keeps the input's size. Four 2×2 max-pool steps down, four 2×2
    stride-2 transposed convolutions up, each concatenated with the encoder output of the
    same size (the skip connections, read by name), then a 1×1 convolution per class."""
    sizes = resolution if isinstance(resolution, tuple) else (resolution, resolution)
    if any(size % 16 for size in sizes):
        raise PresetError(
            f"unet halves the resolution four times and concatenates each level with its "
            f"upsampled twin: resolution must be a multiple of 16, got {_show_value(resolution)}"
        )
    first, *deeper = _UNET_CHANNELS
    layers: list[Node] = [_double_conv("inc", first)]
    for index, width in enumerate(deeper, start=1):
        step = Sequential(name="maxpool_conv", layers=(MaxPool(name="0", kernel_size=2),
                                                       _double_conv("1", width)))  # fmt: skip
        layers.append(Sequential(name=f"down{index}", layers=(step,)))
    skips = ("down3", "down2", "down1", "inc")
    for index, (width, skip) in enumerate(zip(reversed(_UNET_CHANNELS[:-1]), skips), start=1):
        up = ConvTranspose(name="up", out_channels=width, kernel_size=2, stride=2)
        join = Concat(name="cat", inputs=(skip, "up"))  # torch.cat([skip, upsampled])
        layers.append(Sequential(name=f"up{index}", layers=(up, join, _double_conv("conv", width))))
    outc = Sequential(name="outc", layers=(Conv(name="conv", out_channels=classes, kernel_size=1),))
    return Network(name="unet", input_shape=_image(resolution, channels), layers=(*layers, outc))
