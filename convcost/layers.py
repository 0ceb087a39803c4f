"""Layer specifications: frozen, keyword-only dataclasses, valid from birth.

Argument names follow PyTorch (`out_channels`, `kernel_size`, `stride`, `padding`,
`dilation`, `groups`, `bias`). A layer knows nothing of its input: the input channels and
sizes come from the shape it is applied to (see `convcost.costs.layer_cost`), so one spec
serves Conv1d, Conv2d and Conv3d alike. An int hyper-parameter applies to every spatial
axis; a tuple gives one value per axis and fixes the layer's number of spatial dimensions.
Lists are accepted and stored as tuples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, TypeAlias, get_args

from convcost.errors import FieldError
from convcost.shapes import (
    IntOrTuple,
    Padding,
    check_int_or_tuple,
    check_padding,
    is_int,
)

__all__ = [
    "ACTIVATIONS",
    "BIAS_CONVENTIONS",
    "Activation",
    "AdaptiveAvgPool",
    "AdaptiveMaxPool",
    "Add",
    "AvgPool",
    "BatchNorm",
    "BiasConvention",
    "Concat",
    "Conv",
    "ConvTranspose",
    "DepthwiseSeparableConv",
    "Dropout",
    "Flatten",
    "GlobalAvgPool",
    "GlobalMaxPool",
    "Layer",
    "LayerBase",
    "Linear",
    "MaxPool",
    "SpatiallySeparableConv",
    "Upsample",
    "ZeroPad",
]

BiasConvention: TypeAlias = Literal["none", "pointwise", "both"]
"""Where a separable convolution has biases.

``none``: no bias; ``pointwise``: one bias, on the last part (Keras `SeparableConv2D`; for a
spatially separable layer, the 1×k part); ``both``: a bias on every part (two biased
PyTorch convolutions in a row).
"""
BIAS_CONVENTIONS: Final[tuple[str, ...]] = get_args(BiasConvention)

ACTIVATIONS: Final = frozenset(
    {
        "relu", "relu6", "leaky_relu", "elu", "gelu", "silu", "swish", "sigmoid",
        "hardsigmoid", "hardswish", "tanh", "softmax", "identity",
    }
)  # fmt: skip


def _tuples(value: object) -> object:
    """Lists (from JSON, TOML, YAML) become tuples, recursively, so specs stay hashable."""
    if isinstance(value, list):
        return tuple(_tuples(item) for item in value)
    return value


@dataclass(frozen=True, kw_only=True, slots=True)
class LayerBase:
    """Fields every layer has. `name` labels the layer in tables (optional)."""

    name: str | None = None

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:  # fields() filters pseudo-fields; we have none
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, _tuples(value))
        if self.name is not None and (not isinstance(self.name, str) or not self.name):
            raise FieldError("name", self.name, "a non-empty string or None")

    @property
    def label(self) -> str:
        """The name if given, else the layer type."""
        return self.name or type(self).__name__


def _positive(field: str, value: object) -> None:
    if not is_int(value) or value < 1:  # type: ignore[operator]
        raise FieldError(field, value, "a positive integer")


def _flag(field: str, value: object) -> None:
    if not isinstance(value, bool):
        raise FieldError(field, value, "true or false")


def _bias_convention(value: object) -> None:
    if value not in BIAS_CONVENTIONS:
        raise FieldError("bias", value, "one of " + ", ".join(map(repr, BIAS_CONVENTIONS)))


def _window(layer: _Window) -> None:
    check_int_or_tuple("kernel_size", layer.kernel_size, minimum=1)
    check_int_or_tuple("stride", layer.stride, minimum=1)
    check_int_or_tuple("dilation", layer.dilation, minimum=1)
    check_padding("padding", layer.padding)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Window(LayerBase):
    """A sliding window: the hyper-parameters that decide an output size."""

    kernel_size: IntOrTuple
    stride: IntOrTuple = 1
    padding: Padding = 0
    dilation: IntOrTuple = 1

    def __post_init__(self) -> None:
        LayerBase.__post_init__(self)
        _window(self)


@dataclass(frozen=True, kw_only=True, slots=True)
class Conv(_Window):
    """A regular convolution (PyTorch `ConvNd`, Keras `ConvND`).

    Depthwise is ``groups == in_channels`` (``out_channels = in_channels * multiplier``);
    pointwise is ``kernel_size=1``.
    """

    out_channels: int
    groups: int = 1
    bias: bool = True

    def __post_init__(self) -> None:
        _Window.__post_init__(self)
        _positive("out_channels", self.out_channels)
        _positive("groups", self.groups)
        _flag("bias", self.bias)
        if self.out_channels % self.groups:
            raise FieldError(
                "groups", self.groups, f"a divisor of out_channels={self.out_channels}"
            )


@dataclass(frozen=True, kw_only=True, slots=True)
class ConvTranspose(_Window):
    """A transposed convolution (PyTorch `ConvTransposeNd`, Keras `ConvNDTranspose`).

    Explicit padding crops the output as in PyTorch; ``"same"`` gives ``in * stride`` and
    ``"valid"`` no cropping, as in Keras.
    """

    out_channels: int
    output_padding: IntOrTuple = 0
    groups: int = 1
    bias: bool = True

    def __post_init__(self) -> None:
        _Window.__post_init__(self)
        _positive("out_channels", self.out_channels)
        _positive("groups", self.groups)
        _flag("bias", self.bias)
        check_int_or_tuple("output_padding", self.output_padding, minimum=0)
        if self.padding == "same-pytorch":
            raise FieldError("padding", self.padding, "an int, 'valid' or 'same'")
        if self.out_channels % self.groups:
            raise FieldError(
                "groups", self.groups, f"a divisor of out_channels={self.out_channels}"
            )


@dataclass(frozen=True, kw_only=True, slots=True)
class DepthwiseSeparableConv(_Window):
    """A depthwise k×k convolution (C → C·depth_multiplier), then a pointwise 1×1 (→ N).

    The depthwise part carries stride, padding and dilation. `bias` is a `BiasConvention`;
    the default, ``"pointwise"``, is Keras `SeparableConv2D`.
    """

    out_channels: int
    depth_multiplier: int = 1
    bias: BiasConvention = "pointwise"

    def __post_init__(self) -> None:
        _Window.__post_init__(self)
        _positive("out_channels", self.out_channels)
        _positive("depth_multiplier", self.depth_multiplier)
        _bias_convention(self.bias)


@dataclass(frozen=True, kw_only=True, slots=True)
class SpatiallySeparableConv(_Window):
    """One convolution per spatial axis: k_h×1 (C → mid), then 1×k_w (mid → N).

    Each part carries the kernel, stride, padding and dilation of its own axis, so the
    output shape equals the regular convolution's. `mid_channels` defaults to
    `out_channels`, as in Inception-v3's factorisation. `bias` is a `BiasConvention`
    (``"pointwise"``: on the last part only).
    """

    out_channels: int
    mid_channels: int | None = None
    bias: BiasConvention = "pointwise"

    def __post_init__(self) -> None:
        _Window.__post_init__(self)
        _positive("out_channels", self.out_channels)
        if self.mid_channels is not None:
            _positive("mid_channels", self.mid_channels)
        _bias_convention(self.bias)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Pool(_Window):
    """Max or average pooling. `stride` None means the kernel size, as in PyTorch."""

    stride: IntOrTuple | None = None  # type: ignore[assignment]
    ceil_mode: bool = False
    functional: bool = False  # called as a function, not a module (matters to some tools)

    def __post_init__(self) -> None:
        if self.stride is None:
            object.__setattr__(self, "stride", self.kernel_size)
        _Window.__post_init__(self)
        _flag("ceil_mode", self.ceil_mode)
        _flag("functional", self.functional)


@dataclass(frozen=True, kw_only=True, slots=True)
class MaxPool(_Pool):
    """Max pooling (PyTorch `MaxPoolNd`, Keras `MaxPoolingND`)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class AvgPool(_Pool):
    """Average pooling (PyTorch `AvgPoolNd`, Keras `AveragePoolingND`)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class _Adaptive(LayerBase):
    """Pooling to a fixed output size (PyTorch `AdaptiveAvgPoolNd`, `AdaptiveMaxPoolNd`)."""

    output_size: IntOrTuple = 1
    functional: bool = False

    def __post_init__(self) -> None:
        LayerBase.__post_init__(self)
        check_int_or_tuple("output_size", self.output_size, minimum=1)
        _flag("functional", self.functional)


@dataclass(frozen=True, kw_only=True, slots=True)
class AdaptiveAvgPool(_Adaptive):
    """Adaptive average pooling; ``output_size=1`` is global average pooling (C×1×1)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class AdaptiveMaxPool(_Adaptive):
    """Adaptive max pooling."""


@dataclass(frozen=True, kw_only=True, slots=True)
class _Global(LayerBase):
    """Keras global pooling: a flat C vector, or C×1×1 with `keepdims`."""

    keepdims: bool = False

    def __post_init__(self) -> None:
        LayerBase.__post_init__(self)
        _flag("keepdims", self.keepdims)


@dataclass(frozen=True, kw_only=True, slots=True)
class GlobalAvgPool(_Global):
    """Keras `GlobalAveragePoolingND`."""


@dataclass(frozen=True, kw_only=True, slots=True)
class GlobalMaxPool(_Global):
    """Keras `GlobalMaxPoolingND`."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Linear(LayerBase):
    """A fully connected layer on a flat input (PyTorch `Linear`, Keras `Dense`)."""

    out_features: int
    bias: bool = True

    def __post_init__(self) -> None:
        LayerBase.__post_init__(self)
        _positive("out_features", self.out_features)
        _flag("bias", self.bias)


@dataclass(frozen=True, kw_only=True, slots=True)
class BatchNorm(LayerBase):
    """Batch normalisation over channels.

    `affine` gives γ and β (trainable); `track_running_stats` gives the running mean and
    variance (non-trainable: buffers in PyTorch, non-trainable weights in Keras).
    """

    affine: bool = True
    track_running_stats: bool = True

    def __post_init__(self) -> None:
        LayerBase.__post_init__(self)
        _flag("affine", self.affine)
        _flag("track_running_stats", self.track_running_stats)


@dataclass(frozen=True, kw_only=True, slots=True)
class Activation(LayerBase):
    """An element-wise activation (or softmax). `function` is one of `ACTIVATIONS`."""

    function: str = "relu"
    functional: bool = False

    def __post_init__(self) -> None:
        LayerBase.__post_init__(self)
        if not isinstance(self.function, str) or self.function not in ACTIVATIONS:
            raise FieldError("function", self.function, "one of " + ", ".join(sorted(ACTIVATIONS)))
        _flag("functional", self.functional)


@dataclass(frozen=True, kw_only=True, slots=True)
class Flatten(LayerBase):
    """Flatten to a vector of C·H·W features (PyTorch `Flatten`, Keras `Flatten`)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Dropout(LayerBase):
    """Dropout: the identity at inference. `p` is kept for the record."""

    p: float = 0.5

    def __post_init__(self) -> None:
        LayerBase.__post_init__(self)
        if isinstance(self.p, bool) or not isinstance(self.p, (int, float)) or not 0 <= self.p < 1:
            raise FieldError("p", self.p, "a probability in [0, 1)")


@dataclass(frozen=True, kw_only=True, slots=True)
class ZeroPad(LayerBase):
    """Zero padding as its own layer (Keras `ZeroPaddingND`, PyTorch `ZeroPadNd`)."""

    padding: Padding = 1

    def __post_init__(self) -> None:
        LayerBase.__post_init__(self)
        check_padding("padding", self.padding)
        if isinstance(self.padding, str):
            raise FieldError(
                "padding", self.padding, "an int, per-axis ints or (before, after) pairs"
            )


@dataclass(frozen=True, kw_only=True, slots=True)
class Upsample(LayerBase):
    """Nearest-neighbour upsampling by an integer factor per axis."""

    scale_factor: IntOrTuple = 2

    def __post_init__(self) -> None:
        LayerBase.__post_init__(self)
        check_int_or_tuple("scale_factor", self.scale_factor, minimum=1)


@dataclass(frozen=True, kw_only=True, slots=True)
class Add(LayerBase):
    """The element-wise sum that joins a residual block or parallel branches."""

    inputs: int = 2

    def __post_init__(self) -> None:
        LayerBase.__post_init__(self)
        if not is_int(self.inputs) or self.inputs < 2:
            raise FieldError("inputs", self.inputs, "an integer >= 2")


@dataclass(frozen=True, kw_only=True, slots=True)
class Concat(LayerBase):
    """Concatenation of parallel branches along channels."""

    inputs: int = 2

    def __post_init__(self) -> None:
        LayerBase.__post_init__(self)
        if not is_int(self.inputs) or self.inputs < 2:
            raise FieldError("inputs", self.inputs, "an integer >= 2")


Layer: TypeAlias = (
    Conv
    | ConvTranspose
    | DepthwiseSeparableConv
    | SpatiallySeparableConv
    | MaxPool
    | AvgPool
    | AdaptiveAvgPool
    | AdaptiveMaxPool
    | GlobalAvgPool
    | GlobalMaxPool
    | Linear
    | BatchNorm
    | Activation
    | Flatten
    | Dropout
    | ZeroPad
    | Upsample
    | Add
    | Concat
)
