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
from typing import ClassVar, Final, Literal, TypeAlias, get_args

from convcost.checks import check_bool, check_int, is_int
from convcost.errors import FieldError
from convcost.limits import MAX_SIZE, MAX_SPATIAL_DIMS
from convcost.shapes import (
    IntOrTuple,
    Padding,
    Shape,
    check_int_or_tuple,
    check_padding,
)

__all__ = [
    "ACTIVATIONS",
    "BIAS_CONVENTIONS",
    "JOINS",
    "MID_CHANNELS",
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
    "MidChannels",
    "Multiply",
    "NotCounted",
    "Operator",
    "Reshape",
    "Select",
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

MidChannels: TypeAlias = Literal["min", "out", "in"]
"""The channels between the k×1 and 1×k parts of a spatially separable convolution.

``min``: the smaller of the input and output channels — never more parameters than the
k×k convolution replaced, and Inception-v3's factorisation when they are equal; ``out``:
the output channels; ``in``: the input channels. An integer gives the count itself.
"""
MID_CHANNELS: Final[tuple[MidChannels, ...]] = get_args(MidChannels)
MAX_INPUTS: Final = 1_000  # names a node may list as its inputs

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


def check_name(value: object) -> None:
    """A node's name: None (named after its type) or a non-empty line of text."""
    if value is not None and (not isinstance(value, str) or value.splitlines() != [value]):
        raise FieldError("name", value, "a non-empty line of text or None")


def check_inputs(value: object, field: str = "inputs") -> None:
    """A node's inputs (or a network's outputs): node names, none for the previous node."""
    if not isinstance(value, tuple) or len(value) > MAX_INPUTS:
        raise FieldError(field, value, f"a list of at most {MAX_INPUTS} node names")
    for item in value:
        if not isinstance(item, str) or not item:
            raise FieldError(field, value, "a list of node names")


@dataclass(frozen=True, kw_only=True, slots=True)
class LayerBase:
    """Fields every layer has.

    `name` labels the layer in tables (when None, the layer is named after its type,
    numbered as Keras numbers layers: ``conv2d``, ``conv2d_1``, ...). `inputs` names the
    nodes whose outputs the layer reads; empty, it reads the previous node's output.
    `shares` names an earlier layer whose weights this one uses (a layer called again: a
    Keras layer applied to several inputs, a PyTorch module called twice): its MACs are
    counted at every call, its parameters once, at the first.
    """

    name: str | None = None
    inputs: tuple[str, ...] = ()
    shares: str | None = None
    keras_name: ClassVar[str]  # names an unnamed layer, as Keras would: "conv{d}" -> conv2d

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:  # keras_name too: a ClassVar, never a list
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, _tuples(value))
        check_name(self.name)
        check_inputs(self.inputs)
        if self.shares is not None and (not isinstance(self.shares, str) or not self.shares):
            raise FieldError("shares", self.shares, "the name of an earlier layer, or None")

    @property
    def label(self) -> str:
        """The name if given, else the layer type."""
        return self.name or type(self).__name__


def _bias_convention(value: object) -> None:
    if value not in BIAS_CONVENTIONS:
        raise FieldError("bias", value, "one of " + ", ".join(map(repr, BIAS_CONVENTIONS)))


def _window(layer: _Window) -> None:
    check_int_or_tuple("kernel_size", layer.kernel_size, minimum=1)
    check_int_or_tuple("stride", layer.stride, minimum=1)
    check_int_or_tuple("dilation", layer.dilation, minimum=1)
    check_padding("padding", layer.padding)
    strides = layer.stride if isinstance(layer.stride, tuple) else (layer.stride,)
    if layer.padding == "same-pytorch" and any(step != 1 for step in strides):
        raise FieldError(
            "padding",
            layer.padding,
            f"'same' or explicit padding with stride {layer.stride!r}: 'same-pytorch' is "
            "PyTorch's rule, which needs stride 1",
        )


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

    keras_name: ClassVar[str] = "conv{d}"

    out_channels: int
    groups: int = 1
    bias: bool = True

    def __post_init__(self) -> None:
        _Window.__post_init__(self)
        check_int("out_channels", self.out_channels)
        check_int("groups", self.groups)
        check_bool("bias", self.bias)
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

    keras_name: ClassVar[str] = "conv{d}_transpose"

    out_channels: int
    output_padding: IntOrTuple = 0
    groups: int = 1
    bias: bool = True

    def __post_init__(self) -> None:
        _Window.__post_init__(self)
        check_int("out_channels", self.out_channels)
        check_int("groups", self.groups)
        check_bool("bias", self.bias)
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

    keras_name: ClassVar[str] = "separable_conv{d}"

    out_channels: int
    depth_multiplier: int = 1
    bias: BiasConvention = "pointwise"

    def __post_init__(self) -> None:
        _Window.__post_init__(self)
        check_int("out_channels", self.out_channels)
        check_int("depth_multiplier", self.depth_multiplier)
        _bias_convention(self.bias)


@dataclass(frozen=True, kw_only=True, slots=True)
class SpatiallySeparableConv(_Window):
    """One convolution per spatial axis: k_h×1 (C → mid), then 1×k_w (mid → N).

    Each part carries the kernel, stride, padding and dilation of its own axis, so the
    output shape equals the regular convolution's. `mid_channels` is a count or a rule
    (`MidChannels`); the default, ``"min"``, never has more parameters than the k×k
    convolution and is Inception-v3's factorisation when input and output channels are
    equal. `bias` is a `BiasConvention` (``"pointwise"``: on the last part only).
    """

    keras_name: ClassVar[str] = "spatially_separable_conv{d}"

    out_channels: int
    mid_channels: int | MidChannels = "min"
    bias: BiasConvention = "pointwise"

    def __post_init__(self) -> None:
        _Window.__post_init__(self)
        check_int("out_channels", self.out_channels)
        if isinstance(self.mid_channels, str):
            if self.mid_channels not in MID_CHANNELS:
                raise FieldError(
                    "mid_channels",
                    self.mid_channels,
                    "a positive integer or one of " + ", ".join(map(repr, MID_CHANNELS)),
                )
        else:
            check_int("mid_channels", self.mid_channels)
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
        check_bool("ceil_mode", self.ceil_mode)
        check_bool("functional", self.functional)


@dataclass(frozen=True, kw_only=True, slots=True)
class MaxPool(_Pool):
    """Max pooling (PyTorch `MaxPoolNd`, Keras `MaxPoolingND`)."""

    keras_name: ClassVar[str] = "max_pooling{d}"


@dataclass(frozen=True, kw_only=True, slots=True)
class AvgPool(_Pool):
    """Average pooling (PyTorch `AvgPoolNd`, Keras `AveragePoolingND`)."""

    keras_name: ClassVar[str] = "average_pooling{d}"


@dataclass(frozen=True, kw_only=True, slots=True)
class _Adaptive(LayerBase):
    """Pooling to a fixed output size (PyTorch `AdaptiveAvgPoolNd`, `AdaptiveMaxPoolNd`)."""

    output_size: IntOrTuple = 1
    functional: bool = False

    def __post_init__(self) -> None:
        LayerBase.__post_init__(self)
        check_int_or_tuple("output_size", self.output_size, minimum=1)
        check_bool("functional", self.functional)


@dataclass(frozen=True, kw_only=True, slots=True)
class AdaptiveAvgPool(_Adaptive):
    """Adaptive average pooling; ``output_size=1`` is global average pooling (C×1×1)."""

    keras_name: ClassVar[str] = "adaptive_avg_pool{d}"


@dataclass(frozen=True, kw_only=True, slots=True)
class AdaptiveMaxPool(_Adaptive):
    """Adaptive max pooling."""

    keras_name: ClassVar[str] = "adaptive_max_pool{d}"


@dataclass(frozen=True, kw_only=True, slots=True)
class _Global(LayerBase):
    """Keras global pooling: a flat C vector, or C×1×1 with `keepdims`."""

    keepdims: bool = False

    def __post_init__(self) -> None:
        LayerBase.__post_init__(self)
        check_bool("keepdims", self.keepdims)


@dataclass(frozen=True, kw_only=True, slots=True)
class GlobalAvgPool(_Global):
    """Keras `GlobalAveragePoolingND`."""

    keras_name: ClassVar[str] = "global_average_pooling{d}"


@dataclass(frozen=True, kw_only=True, slots=True)
class GlobalMaxPool(_Global):
    """Keras `GlobalMaxPoolingND`."""

    keras_name: ClassVar[str] = "global_max_pooling{d}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Linear(LayerBase):
    """A fully connected layer on a flat input (PyTorch `Linear`, Keras `Dense`)."""

    keras_name: ClassVar[str] = "dense"

    out_features: int
    bias: bool = True

    def __post_init__(self) -> None:
        LayerBase.__post_init__(self)
        check_int("out_features", self.out_features)
        check_bool("bias", self.bias)


@dataclass(frozen=True, kw_only=True, slots=True)
class BatchNorm(LayerBase):
    """Batch normalisation over channels.

    `affine` gives γ and β (trainable); `track_running_stats` gives the running mean and
    variance (non-trainable: buffers in PyTorch, non-trainable weights in Keras).
    """

    keras_name: ClassVar[str] = "batch_normalization"

    affine: bool = True
    track_running_stats: bool = True

    def __post_init__(self) -> None:
        LayerBase.__post_init__(self)
        check_bool("affine", self.affine)
        check_bool("track_running_stats", self.track_running_stats)


@dataclass(frozen=True, kw_only=True, slots=True)
class Activation(LayerBase):
    """An element-wise activation (or softmax). `function` is one of `ACTIVATIONS`."""

    keras_name: ClassVar[str] = "activation"

    function: str = "relu"
    functional: bool = False

    def __post_init__(self) -> None:
        LayerBase.__post_init__(self)
        if not isinstance(self.function, str) or self.function not in ACTIVATIONS:
            raise FieldError("function", self.function, "one of " + ", ".join(sorted(ACTIVATIONS)))
        check_bool("functional", self.functional)


@dataclass(frozen=True, kw_only=True, slots=True)
class Flatten(LayerBase):
    """Flatten to a vector of C·H·W features (PyTorch `Flatten`, Keras `Flatten`)."""

    keras_name: ClassVar[str] = "flatten"


@dataclass(frozen=True, kw_only=True, slots=True)
class Dropout(LayerBase):
    """Dropout: the identity at inference. `p` is kept for the record."""

    keras_name: ClassVar[str] = "dropout"

    p: float = 0.5

    def __post_init__(self) -> None:
        LayerBase.__post_init__(self)
        if isinstance(self.p, bool) or not isinstance(self.p, (int, float)) or not 0 <= self.p < 1:
            raise FieldError("p", self.p, "a probability in [0, 1)")


@dataclass(frozen=True, kw_only=True, slots=True)
class ZeroPad(LayerBase):
    """Zero padding as its own layer (Keras `ZeroPaddingND`, PyTorch `ZeroPadNd`)."""

    keras_name: ClassVar[str] = "zero_padding{d}"

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

    keras_name: ClassVar[str] = "up_sampling{d}"

    scale_factor: IntOrTuple = 2

    def __post_init__(self) -> None:
        LayerBase.__post_init__(self)
        check_int_or_tuple("scale_factor", self.scale_factor, minimum=1)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Join(LayerBase):
    """A layer joining several inputs into one (the branches of a block, or named inputs)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Add(_Join):
    """The element-wise sum of its inputs (residual connections, Keras `Add`, ONNX `Add`)."""

    keras_name: ClassVar[str] = "add"


@dataclass(frozen=True, kw_only=True, slots=True)
class Multiply(_Join):
    """The element-wise product of its inputs (squeeze-and-excitation gates), broadcasting
    a C×1×1 or flat C input over the other's positions."""

    keras_name: ClassVar[str] = "multiply"


@dataclass(frozen=True, kw_only=True, slots=True)
class Concat(_Join):
    """Concatenation of its inputs along channels."""

    keras_name: ClassVar[str] = "concatenate"


JOINS: Final = (Add, Multiply, Concat)


# --- layers read from model files -------------------------------------------------------
# An ONNX graph holds operators that are no layer family: reshapes, selections, matrix
# products over any axis, normalisations over any axes, element-wise arithmetic, and
# operators convcost does not know at all. Each carries the shape it gives, as the file
# (or convcost's propagation of it) says, so that the layers after it are counted exactly.

_SHAPE_FIELD: Final = (
    f"1 to {MAX_SPATIAL_DIMS + 1} positive integers (at most 10**18): channels, then spatial sizes"
)


def check_shape_field(field: str, value: object) -> None:
    """A shape given as sizes, channels first: ``(64, 56, 56)``; ``(1000,)`` is flat."""
    if (
        not isinstance(value, tuple)
        or not 1 <= len(value) <= MAX_SPATIAL_DIMS + 1
        or not all(is_int(size) and 1 <= size <= MAX_SIZE for size in value)
    ):
        raise FieldError(field, value, _SHAPE_FIELD)


def check_op_type(value: object) -> None:
    """An operator's name as the model file spells it (``MatMul``): a non-empty line."""
    if not isinstance(value, str) or value.splitlines() != [value] or len(value) > 200:
        raise FieldError("op_type", value, "an operator name: a non-empty line of text")


@dataclass(frozen=True, kw_only=True, slots=True)
class _Shaped(LayerBase):
    """A layer that states the shape it gives: `shape`, channels first, no batch axis."""

    shape: tuple[int, ...]

    def __post_init__(self) -> None:
        LayerBase.__post_init__(self)
        check_shape_field("shape", self.shape)

    @property
    def output_shape(self) -> Shape:
        """`shape` as a `Shape`."""
        return Shape(self.shape[0], self.shape[1:])


@dataclass(frozen=True, kw_only=True, slots=True)
class Reshape(_Shaped):
    """The same elements in another shape: ONNX Reshape, Transpose, Squeeze, Unsqueeze,
    DepthToSpace, a Flatten that keeps an axis. The input must have as many elements as
    `shape`. No weights, no MACs."""

    keras_name: ClassVar[str] = "reshape"


@dataclass(frozen=True, kw_only=True, slots=True)
class Select(_Shaped):
    """Some of the input's elements, in `shape`: ONNX Slice, Split or Gather with constant
    indices (ShuffleNet's channel split). `shape` may not hold more elements than the input.
    No weights, no MACs."""

    keras_name: ClassVar[str] = "select"


@dataclass(frozen=True, kw_only=True, slots=True)
class Operator(_Shaped):
    """An operator whose cost convcost states from shapes, with no layer family: a matrix
    product (ConvNeXt's channels-last Linear is ``MatMul`` by a weight, then ``Add`` of a
    bias), a normalisation over any axes (``LayerNormalization``), element-wise arithmetic
    (``Sub``, ``Div``, ``Erf``, ``Pow``) or a reduction.

    `op_type` names the operator as the file does; `shape` is the shape it gives.
    `weights` and `bias` are the trainable parameters it reads (the elements of its weight
    tensors; a bias is added to each output element), `non_trainable_params` statistics.
    Its multiply-accumulates are ``output elements × contraction``: the length of the axis
    a matrix product sums over; 0, the default, for every other operator, which costs no
    MACs in convcost's convention. `operands` is the number of tensors it reads, constants
    included: conventions that count element-wise operations count one per operand pair.
    """

    keras_name: ClassVar[str] = "operator"

    op_type: str
    weights: int = 0
    bias: int = 0
    non_trainable_params: int = 0
    contraction: int = 0
    operands: int = 1

    def __post_init__(self) -> None:
        _Shaped.__post_init__(self)
        check_op_type(self.op_type)
        for name in ("weights", "bias", "non_trainable_params", "contraction"):
            check_int(name, getattr(self, name), minimum=0)
        check_int("operands", self.operands, maximum=MAX_INPUTS)


@dataclass(frozen=True, kw_only=True, slots=True)
class NotCounted(_Shaped):
    """An operator convcost does not know (``LSTM``, a custom operator): a row of its own,
    flagged "not counted". Its multiply-accumulates are unknown, never taken as 0: the
    totals say how many such nodes there are. `shape` is the shape it gives (from the
    file), so that the layers after it are counted; `params` are the elements of the
    weight tensors it reads, which are known even when its cost is not."""

    keras_name: ClassVar[str] = "not_counted"

    op_type: str
    params: int = 0

    def __post_init__(self) -> None:
        _Shaped.__post_init__(self)
        check_op_type(self.op_type)
        check_int("params", self.params, minimum=0)


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
    | Multiply
    | Concat
    | Reshape
    | Select
    | Operator
    | NotCounted
)
