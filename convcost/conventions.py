"""Counting profiles: what each tool counts, stated as a table and reproduced from shapes.

convcost's own count (`convcost.costs`) is the ``paper`` convention: convolution and dense
multiply-accumulates only. Other tools add bias additions, batch norm, activations and
pooling, each its own way, which is why seven tools give six totals for one ResNet-18. A
`Profile` states one such convention declaratively: for each operation class (a biased
convolution, batch norm, ReLU, max pooling, a residual addition, ...) a `Rule` saying how
many operations are counted per unit and how often the rule fires. `count` applies a
profile to a costed network; `compare_profiles` applies several and says, per operation
type, where each differs from ``paper``.

A rule counts ``per_output × output elements + per_input × input elements + per_channel ×
channels + per_param × trainable parameters + per_position × output positions +
per_window × output elements × window taps`` (a position is one spatial location: output
elements / channels; the window taps are a pooling kernel's, 1 for any other layer),
times `as_module` when the layer is a module or `as_function` when it is a function call
(the ``functional`` flag of activation and pooling layers), and only on inputs whose
number of spatial axes is in `spatial_ranks`. An addition of k branches is k − 1 binary
additions; its rule fires k − 1 times. Counts are exact integers.

>>> from convcost.network import Network, network_cost
>>> from convcost.layers import BatchNorm, Conv
>>> from convcost.shapes import Shape
>>> cost = network_cost(Network(
...     input_shape=Shape(3, (8, 8)),
...     layers=(Conv(out_channels=4, kernel_size=3, padding=1), BatchNorm()),
... ))
>>> [count(cost, get_profile(name)).total for name in ("paper", "torchinfo", "thop")]
[6912, 7176, 7936]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from math import prod
from pathlib import Path
from types import MappingProxyType
from typing import Final, Literal, TypeAlias, get_args

from convcost.checks import is_int, suggest
from convcost.costs import LayerCost
from convcost.errors import ConventionError, FieldError, ProfileFileError, show
from convcost.files import SUFFIX_FORMATS, is_existing_file, parse_data, read_text, source_name
from convcost.layers import (
    ACTIVATIONS,
    Activation,
    AdaptiveAvgPool,
    AdaptiveMaxPool,
    Add,
    AvgPool,
    BatchNorm,
    Concat,
    Conv,
    ConvTranspose,
    DepthwiseSeparableConv,
    GlobalAvgPool,
    GlobalMaxPool,
    Layer,
    Linear,
    MaxPool,
    Multiply,
    NotCounted,
    Operator,
    Reshape,
    Select,
    SpatiallySeparableConv,
    Upsample,
)
from convcost.limits import MAX_RULE_OPS, MAX_SPATIAL_DIMS
from convcost.network import NetworkCost
from convcost.shapes import expand

__all__ = [
    "ACTIVATION_FUNCTIONS",
    "OPERATION_TYPES",
    "PAPER",
    "PROFILES",
    "RULE_KEYS",
    "UNITS",
    "ConventionError",
    "Profile",
    "ProfileCount",
    "Rule",
    "compare_profiles",
    "count",
    "count_row",
    "describe_rule",
    "get_profile",
    "load_profile",
    "profile_from_mapping",
    "profile_names",
    "profile_to_mapping",
    "rule_table",
]


OperationType: TypeAlias = Literal[
    "conv",  # convolution multiply-adds (× the profile's mac_factor)
    "dense",  # dense multiply-adds (× mac_factor)
    "conv_bias",
    "dense_bias",
    "batch_norm",
    "activation",
    "pooling",
    "upsample",
    "add",
    "multiply",
    "concat",
    "normalization",  # layer and instance normalisation (operators from model files)
    "elementwise",  # other element-wise arithmetic and reductions (operators from model files)
]
OPERATION_TYPES: Final[tuple[OperationType, ...]] = get_args(OperationType)
"""The types of a count's breakdown, in the order tables show them."""

ACTIVATION_FUNCTIONS: Final[tuple[str, ...]] = tuple(sorted(ACTIVATIONS))

# Rule keys: the operation classes a profile has a rule for, and the breakdown type each
# one counts under. An activation function has its own key; "activation" in a mapping or
# a `Profile(rules=...)` is the rule of every function not given its own.
_KEY_TYPES: Final[dict[str, OperationType]] = {
    "conv_bias": "conv_bias",
    "dense_bias": "dense_bias",
    "batch_norm": "batch_norm",
    "batch_norm_no_affine": "batch_norm",
    **dict.fromkeys(ACTIVATION_FUNCTIONS, "activation"),
    "max_pool": "pooling",
    "avg_pool": "pooling",
    "adaptive_max_pool": "pooling",
    "adaptive_avg_pool": "pooling",
    "upsample": "upsample",
    "add": "add",
    "multiply": "multiply",
    "concat": "concat",
    # Operators read from model files (`Operator` rows): ONNX's Add and Mul count as add
    # and multiply; these are the others a profile may weigh.
    "layer_norm": "normalization",
    "instance_norm": "normalization",
    "subtract": "elementwise",
    "divide": "elementwise",
    "power": "elementwise",
    "sqrt": "elementwise",
    "exp": "elementwise",
    "erf": "elementwise",
    "reduce": "elementwise",
    "operator": "elementwise",  # any other operator without a contraction
}
RULE_KEYS: Final[tuple[str, ...]] = tuple(_KEY_TYPES)
"""Every key of a resolved profile's rule table (one per activation function)."""
_INPUT_KEYS: Final[tuple[str, ...]] = ("activation", *RULE_KEYS)  # what a mapping may name

Unit: TypeAlias = Literal["output", "input", "channel", "param", "position", "window"]
UNITS: Final[tuple[Unit, ...]] = get_args(Unit)
_UNIT_WORDS: Final[dict[Unit, str]] = {
    "output": "output element",
    "input": "input element",
    "channel": "channel",
    "param": "parameter",
    "position": "output position",
    "window": "window tap (output elements × pooling kernel taps)",
}
_ALL_RANKS: Final = tuple(range(MAX_SPATIAL_DIMS + 1))

TransposedPositions: TypeAlias = Literal["input", "output"]
TRANSPOSED_POSITIONS: Final[tuple[str, ...]] = get_args(TransposedPositions)


def _choices(values: Iterable[str]) -> str:
    return ", ".join(values)


def _count_field(where: str, value: object, minimum: int) -> None:
    if not is_int(value) or not minimum <= value <= MAX_RULE_OPS:
        shown = show(value)
        raise ConventionError(
            f"{where} must be an integer from {minimum} to {MAX_RULE_OPS:,}, got {shown}"
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class Rule:
    """How many operations one layer of an operation class counts.

    ``per_output × output elements + per_input × input elements + per_channel × output
    channels + per_param × trainable parameters + per_position × output positions +
    per_window × output elements × window taps`` (a pooling layer's kernel taps; 1 for
    other layers), times `as_module` (the layer is a module) or `as_function` (a function
    call), and 0 on inputs whose number of spatial axes is not in `spatial_ranks`. Coefficients are
    non-negative, except `per_position`, which may go down to ``-per_output`` (thop's
    softmax: 3 per element − 1 per position), so a rule never counts below 0.
    """

    per_output: int = 0
    per_input: int = 0
    per_channel: int = 0
    per_param: int = 0
    per_position: int = 0
    per_window: int = 0
    as_module: int = 1
    as_function: int = 1
    spatial_ranks: tuple[int, ...] = _ALL_RANKS

    def __post_init__(self) -> None:
        for name in ("per_output", "per_input", "per_channel", "per_param", "per_window"):
            _count_field(name, getattr(self, name), 0)
        _count_field("per_position", self.per_position, -self.per_output)
        _count_field("as_module", self.as_module, 0)
        _count_field("as_function", self.as_function, 0)
        ranks = self.spatial_ranks
        if isinstance(ranks, list):
            ranks = tuple(ranks)
        if not isinstance(ranks, tuple) or any(
            not is_int(rank) or rank not in _ALL_RANKS for rank in ranks
        ):
            raise ConventionError(
                f"spatial_ranks must be a list of spatial ranks from "
                f"{_choices(map(str, _ALL_RANKS))}, got {show(self.spatial_ranks)}"
            )
        object.__setattr__(self, "spatial_ranks", tuple(sorted(set(ranks))))

    @classmethod
    def per(
        cls,
        unit: Unit,
        ops: int = 1,
        *,
        as_module: int = 1,
        as_function: int = 1,
        spatial_ranks: tuple[int, ...] = _ALL_RANKS,
    ) -> Rule:
        """``ops`` operations per `unit`: ``Rule.per("output", 2)`` is 2 per output element."""
        if unit not in UNITS:
            raise ConventionError(f"per: unknown unit {show(unit)}; valid units: {_choices(UNITS)}")
        coefficients = {f"per_{unit}": ops}
        return cls(
            **coefficients,
            as_module=as_module,
            as_function=as_function,
            spatial_ranks=spatial_ranks,
        )

    @property
    def is_zero(self) -> bool:
        """True when the rule counts nothing on any layer."""
        coefficients = (
            self.per_output,
            self.per_input,
            self.per_channel,
            self.per_param,
            self.per_window,
        )
        fires = self.as_module or self.as_function
        return not fires or not self.spatial_ranks or not any((*coefficients, self.per_position))

    def count(self, cost: LayerCost, *, functional: bool = False, times: int = 1) -> int:
        """The operations this rule counts for `cost` (fired `times` times)."""
        if cost.input_shape.ndim not in self.spatial_ranks:
            return 0
        output = cost.output_shape
        per_call = (
            self.per_output * output.numel
            + self.per_input * cost.input_shape.numel
            + self.per_channel * output.channels
            + self.per_param * cost.params
            + self.per_position * (output.numel // output.channels)
            + (self.per_window * output.numel * _window_taps(cost) if self.per_window else 0)
        )
        return per_call * (self.as_function if functional else self.as_module) * times


_ZERO: Final = Rule()


def _window_taps(cost: LayerCost) -> int:
    """The kernel taps of a pooling layer's window; 1 for any other layer."""
    layer = cost.layer
    if isinstance(layer, (MaxPool, AvgPool)):
        return prod(expand("kernel_size", layer.kernel_size, cost.input_shape.ndim))
    return 1


def describe_rule(rule: Rule) -> str:
    """One line for a rule, e.g. ``"2 per output element"``; ``"0"`` for a zero rule."""
    if rule.is_zero:
        return "0"
    text = ""
    for unit in UNITS:
        coefficient: int = getattr(rule, f"per_{unit}")
        if coefficient:
            sign = ("− " if coefficient < 0 else "+ ") if text else ""
            text += f" {sign}{abs(coefficient)} per {_UNIT_WORDS[unit]}"
    text = text.strip()
    if (rule.as_module, rule.as_function) != (1, 1):
        if rule.as_function == 0 and rule.as_module == 1:
            text += "; modules only (a function call counts 0)"
        elif rule.as_module == 0 and rule.as_function == 1:
            text += "; function calls only (a module counts 0)"
        else:
            text += f"; ×{rule.as_module} as a module, ×{rule.as_function} as a function call"
    if rule.spatial_ranks != _ALL_RANKS:
        ranks = "/".join(f"{rank}-D" for rank in rule.spatial_ranks)
        text += f"; on {ranks} inputs only"
    return text


@dataclass(frozen=True, kw_only=True, slots=True)
class Profile:
    """A counting convention: a rule per operation class, and how MACs are weighted.

    `rules` may be partial and may hold an ``"activation"`` rule for every activation
    function not given its own; it is stored resolved, with one rule for every key of
    `RULE_KEYS` (missing ones count 0). `mac_factor` multiplies convolution and dense
    multiply-adds (2 for a FLOP counter). `transposed_conv` says whether a transposed
    convolution's multiply-adds are counted over its input positions (as convcost and
    PyTorch count) or its output positions (as torchinfo and thop do). `peer` names the
    tool and exact version the profile reproduces ("" for none).
    """

    name: str
    description: str
    peer: str = ""
    mac_factor: int = 1
    transposed_conv: TransposedPositions = "input"
    rules: Mapping[str, Rule] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        for name in ("name", "description"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip() or "\n" in value:
                raise ConventionError(f"{name} must be a non-empty line of text, got {show(value)}")
        if not isinstance(self.peer, str) or "\n" in self.peer:
            raise ConventionError(f"peer must be a line of text, got {show(self.peer)}")
        _count_field("mac_factor", self.mac_factor, 1)
        if self.transposed_conv not in TRANSPOSED_POSITIONS:
            raise ConventionError(
                f"transposed_conv must be one of {_choices(TRANSPOSED_POSITIONS)}, "
                f"got {show(self.transposed_conv)}"
            )
        object.__setattr__(self, "rules", MappingProxyType(_resolve(self.rules)))

    def rule(self, key: str) -> Rule:
        """The rule for one key of `RULE_KEYS`."""
        try:
            return self.rules[key]
        except KeyError:
            raise ConventionError(
                f"unknown operation {show(key)}; valid operations: {_choices(RULE_KEYS)}"
            ) from None


def _resolve(rules: object) -> dict[str, Rule]:
    if not isinstance(rules, Mapping):
        raise ConventionError(f"rules must be a mapping of operation to rule, got {show(rules)}")
    for key, rule in rules.items():
        if key not in _INPUT_KEYS:
            raise ConventionError(
                f"rules: unknown operation {show(key)}; valid operations: {_choices(_INPUT_KEYS)}"
            )
        if not isinstance(rule, Rule):
            raise ConventionError(f"rules.{key} must be a Rule, got {show(rule)}")
    default = rules.get("activation", _ZERO)
    return {
        key: rules.get(key, default if _KEY_TYPES[key] == "activation" else _ZERO)
        for key in RULE_KEYS
    }


def rule_table(profile: Profile) -> tuple[tuple[str, str], ...]:
    """``(operation, description)`` for every rule of `profile` that counts something.

    Multiply-adds come first (with the profile's factor and transposed-convolution
    positions), then the non-zero rules in `RULE_KEYS` order.
    """
    rows = [("conv, dense multiply-adds", f"{profile.mac_factor} per multiply-add")]
    if profile.transposed_conv == "output":
        rows.append(("transposed conv", "multiply-adds over output positions"))
    rows += [(key, describe_rule(rule)) for key, rule in profile.rules.items() if not rule.is_zero]
    return tuple(rows)


# --- the named profiles ------------------------------------------------------------------

_BIASES: Final = {"conv_bias": Rule.per("output"), "dense_bias": Rule.per("output")}


def _ptflops_activations() -> dict[str, Rule]:
    # The module hook fires, and so does the patched torch.nn.functional call inside the
    # module's forward: ReLU, ELU and GELU count twice. ReLU6 (F.hardtanh) and LeakyReLU
    # (F.leaky_relu) call unpatched functions; SiLU and Softmax have no module hook.
    twice = Rule.per("output", as_module=2)
    once = Rule.per("output")
    return {
        "relu": twice,
        "elu": twice,
        "gelu": twice,
        "relu6": once,
        "silu": once,
        "swish": once,
        "softmax": once,
        "leaky_relu": Rule.per("output", as_function=0),
    }


def _calflops_activations() -> dict[str, Rule]:
    # calflops patches torch.nn.functional only: a module counts when its forward calls a
    # patched function. nn.ReLU6 calls F.hardtanh, which is not patched.
    once = Rule.per("input")
    return {
        **dict.fromkeys(("relu", "leaky_relu", "elu", "gelu", "silu", "swish", "softmax"), once),
        "relu6": Rule.per("input", as_module=0),
    }


_POOLS: Final = ("max_pool", "avg_pool", "adaptive_max_pool", "adaptive_avg_pool")


def _onnx_tool_rules() -> dict[str, Rule]:
    # onnx-tool 1.0.1 (onnx_tool/node.py) weighs each operation in multiply-add units:
    # add, multiply, compare 1, divide 4, square root 24, exp 32 (so sigmoid 32, power 32),
    # tanh exp + 2 adds + divide (38, and its node counts it twice). An element-wise node
    # counts its output elements × weight × (inputs − 1); a unary one × 1.
    per = Rule.per
    return {
        **_BIASES,  # a Conv, Gemm or MatMul + Add bias: 1 per output element
        "batch_norm": per("output", 31),  # add 1 + sqrt 24 + divide 4 + add 1 + multiply 1
        "batch_norm_no_affine": per("output", 31),
        "relu": per("output"),
        "relu6": per("output", 2),  # Clip: 2 compares
        "leaky_relu": per("output", 2),
        "elu": per("output", 35),
        "gelu": per("output", 34),  # the Gelu operator (opset 20): exp + 2 multiplies
        "sigmoid": per("output", 32),
        "silu": per("output", 33),  # exported as Sigmoid, then Mul
        "swish": per("output", 33),
        "hardsigmoid": per("output", 4),
        "hardswish": per("output", 5),
        "tanh": per("output", 76),
        "softmax": per("output", 36),
        "max_pool": per("window"),  # output elements × kernel taps
        "avg_pool": per("window"),
        "adaptive_avg_pool": Rule(per_input=1, per_output=4),  # GlobalAveragePool: add, divide
        "add": per("output"),
        "multiply": per("output"),
        "layer_norm": Rule(per_output=7, per_position=29),  # 7 per element + 29 per row
        "instance_norm": per("output", 14),
        "subtract": per("output"),
        "divide": per("output", 4),
        "power": per("output", 32),
        "sqrt": per("output", 24),
        "exp": per("output", 32),
        "reduce": per("input"),
    }


_PROFILE_LIST: Final = (
    Profile(
        name="paper",
        description="convolution and dense multiply-adds only: what papers quote",
        peer="PyTorch FlopCounterMode total / 2; calflops 0.3.2 macs",
    ),
    Profile(
        name="torchinfo",
        description="paper + biases (1 per output) + batch norm as its parameter count",
        peer="torchinfo 1.8.0 summary().total_mult_adds",
        transposed_conv="output",
        rules={
            **_BIASES,
            "batch_norm": Rule.per("param"),
            "batch_norm_no_affine": Rule.per("param"),
        },
    ),
    Profile(
        name="ptflops-aten",
        description="paper + biases (1 per output element)",
        peer="ptflops 0.7.5 get_model_complexity_info(backend='aten')",
        rules=_BIASES,
    ),
    Profile(
        name="ptflops",
        description="paper + biases, batch norm, activations and pooling, some counted twice",
        peer="ptflops 0.7.5 get_model_complexity_info() (default backend 'pytorch')",
        rules={
            **_BIASES,
            "batch_norm": Rule.per("input", 2),
            "batch_norm_no_affine": Rule.per("input"),
            **_ptflops_activations(),
            **dict.fromkeys(_POOLS, Rule.per("input", as_module=2)),
            "upsample": Rule.per("output", as_module=2),
        },
    ),
    Profile(
        name="thop",
        description="paper (no biases) + batch norm 4 per element + average pooling",
        peer="thop 0.1.1.post2209072238 profile()",
        transposed_conv="output",
        # thop hooks modules only: a function call counts 0. Its adaptive average pooling
        # is (window + 1) per output, window = input / output size: input + output.
        rules={
            "batch_norm": Rule.per("input", 4, as_function=0),
            "batch_norm_no_affine": Rule.per("input", 2, as_function=0),
            "softmax": Rule(per_output=3, per_position=-1, as_function=0),
            "avg_pool": Rule.per("output", as_function=0),
            "adaptive_avg_pool": Rule(per_input=1, per_output=1, as_function=0),
            "upsample": Rule.per("output", as_function=0),
        },
    ),
    Profile(
        name="fvcore",
        description="paper (no biases) + batch norm 2 per element + adaptive average pooling",
        peer="fvcore 0.1.5.post20221221 FlopCountAnalysis().total(), model in eval mode",
        rules={
            "batch_norm": Rule.per("input", 2),
            "batch_norm_no_affine": Rule.per("input"),
            "adaptive_avg_pool": Rule.per("input", spatial_ranks=(2,)),
            "upsample": Rule.per("output", spatial_ranks=(2,)),
        },
    ),
    Profile(
        name="fvcore-train",
        description="fvcore with the model in training mode: batch norm 5 per element",
        peer="fvcore 0.1.5.post20221221 FlopCountAnalysis().total(), model in train mode",
        rules={
            "batch_norm": Rule.per("input", 5),
            "batch_norm_no_affine": Rule.per("input", 4),
            "adaptive_avg_pool": Rule.per("input", spatial_ranks=(2,)),
            "upsample": Rule.per("output", spatial_ranks=(2,)),
        },
    ),
    Profile(
        name="torchprofile",
        description="paper (no biases) + batch norm 1 per element + average pooling outputs",
        peer="torchprofile 0.1.0 profile_macs()",
        transposed_conv="output",  # per group, as thop; see docs/conventions.md for groups
        rules={
            "batch_norm": Rule.per("output"),
            "leaky_relu": Rule.per("output"),
            "avg_pool": Rule.per("output"),
            "adaptive_avg_pool": Rule.per("output"),
        },
    ),
    Profile(
        name="calflops",
        description="FLOPs: 2 × paper + conv bias, batch norm, activations and pooling",
        peer="calflops 0.3.2 calculate_flops() flops",
        mac_factor=2,
        rules={
            "conv_bias": Rule.per("output"),
            "batch_norm": Rule.per("input", 2),
            "batch_norm_no_affine": Rule.per("input"),
            **_calflops_activations(),
            **dict.fromkeys(_POOLS, Rule.per("input")),
            "upsample": Rule.per("input"),
        },
    ),
    Profile(
        name="onnx-tool",
        description="ONNX profiler: paper + biases, batch norm 31 per element, activations, "
        "pooling windows, element-wise operators",
        peer="onnx-tool 1.0.1 model_profile() Forward_MACs (default hidden_ops NoMacsOps)",
        transposed_conv="output",
        rules=_onnx_tool_rules(),
    ),
)

PROFILES: Final[Mapping[str, Profile]] = MappingProxyType(
    {profile.name: profile for profile in _PROFILE_LIST}
)
"""The built-in profiles by name, ``paper`` (the default) first."""
PAPER: Final = PROFILES["paper"]


def profile_names() -> tuple[str, ...]:
    """The names of the built-in profiles, ``paper`` first."""
    return tuple(PROFILES)


def get_profile(name: str) -> Profile:
    """The built-in profile called `name`, or a `ConventionError` naming the valid ones."""
    if isinstance(name, str) and name in PROFILES:
        return PROFILES[name]
    hint = suggest(name, PROFILES) if isinstance(name, str) else ""
    raise ConventionError(
        f"unknown counting profile {show(name)}{hint or '; valid profiles: ' + _choices(PROFILES)}"
    )


def load_profile(source: str) -> Profile:
    """A built-in profile by name, or a profile of your own from a .json, .toml or .yaml
    file (read through the same guarded reader as spec files)."""
    if isinstance(source, str) and source in PROFILES:
        return PROFILES[source]
    suffix = Path(source).suffix.lower() if isinstance(source, str) else ""
    if suffix not in SUFFIX_FORMATS:
        if isinstance(source, str) and (suffix or is_existing_file(source)):
            raise ConventionError(
                f"{source_name(source)}: a counting profile of your own is a .json, .toml "
                "or .yaml file"
            )
        return get_profile(source)
    name = source_name(source)
    text = read_text(source, error=ProfileFileError)
    data = parse_data(text, SUFFIX_FORMATS[suffix], source=name, error=ProfileFileError)
    try:
        return profile_from_mapping(data)
    except ConventionError as error:
        raise ProfileFileError(name, str(error)) from None


# --- user-defined profiles ---------------------------------------------------------------

_PROFILE_KEYS: Final = (
    "name",
    "base",
    "description",
    "peer",
    "mac_factor",
    "transposed_conv",
    "rules",
)
_RULE_FIELDS: Final = (
    *(f"per_{unit}" for unit in UNITS),
    "as_module",
    "as_function",
    "spatial_ranks",
)


def _unknown_keys(where: str, data: Mapping[object, object], valid: tuple[str, ...]) -> None:
    for key in data:
        if key not in valid:
            raise ConventionError(f"{where}unknown key {show(key)}; valid keys: {_choices(valid)}")


def _rule_from_mapping(where: str, data: object) -> Rule:
    if not isinstance(data, Mapping):
        raise ConventionError(
            f"{where} must be a mapping with keys from {_choices(('per', 'ops', *_RULE_FIELDS))}, "
            f"got {show(data)}"
        )
    _unknown_keys(f"{where}: ", data, ("per", "ops", *_RULE_FIELDS))
    fields = {key: data[key] for key in _RULE_FIELDS if key in data}
    if ("per" in data) != ("ops" in data):
        raise ConventionError(f"{where}: give 'per' and 'ops' together (e.g. per: output, ops: 2)")
    if "per" in data:
        unit = data["per"]
        if unit not in UNITS:
            raise ConventionError(
                f"{where}.per: unknown unit {show(unit)}; valid units: {_choices(UNITS)}"
            )
        if f"per_{unit}" in fields:
            raise ConventionError(f"{where}: give either per: {unit} and ops, or per_{unit}")
        fields[f"per_{unit}"] = data["ops"]
    try:
        return Rule(**fields)
    except ConventionError as error:
        raise ConventionError(f"{where}.{error}") from None


def profile_from_mapping(data: object) -> Profile:
    """A user-defined profile from a mapping, as read from a spec file or JSON.

    Keys: ``name`` (required; not a built-in name), ``base`` (a built-in profile whose
    rules, factor and transposed positions are the starting point; ``paper`` by default),
    ``description``, ``peer``, ``mac_factor``, ``transposed_conv`` and ``rules``: a
    mapping from an operation (`RULE_KEYS`, or ``activation`` for every activation
    function) to a rule, written ``{"per": "output", "ops": 2}`` or with `Rule`'s field
    names (``{"per_input": 1, "per_output": 1, "as_function": 0}``). A rule given replaces
    the base's rule for that operation; ``activation`` is applied before the functions
    named on their own.

    >>> profile = profile_from_mapping(
    ...     {"name": "bn-too", "rules": {"batch_norm": {"per": "output", "ops": 2}}}
    ... )
    >>> describe_rule(profile.rule("batch_norm"))
    '2 per output element'
    """
    if not isinstance(data, Mapping):
        raise ConventionError(f"a counting profile must be a mapping, got {show(data)}")
    _unknown_keys("counting profile: ", data, _PROFILE_KEYS)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConventionError(
            f"counting profile: name must be a non-empty string, got {show(name)}"
        )
    where = f"counting profile {show(name)}: "
    if name in PROFILES:
        raise ConventionError(
            f"{where}name is a built-in profile; choose another than {_choices(PROFILES)}"
        )
    base_name = data.get("base", "paper")
    if not isinstance(base_name, str) or base_name not in PROFILES:
        raise ConventionError(
            f"{where}base: unknown profile {show(base_name)}; valid profiles: {_choices(PROFILES)}"
        )
    base = PROFILES[base_name]
    rules = dict(base.rules)
    given = data.get("rules", {})
    if not isinstance(given, Mapping):
        raise ConventionError(
            f"{where}rules must be a mapping of operation to rule, got {show(given)}"
        )
    _unknown_keys(f"{where}rules: ", given, _INPUT_KEYS)
    if "activation" in given:
        every = _rule_from_mapping(f"{where}rules.activation", given["activation"])
        rules.update(dict.fromkeys(ACTIVATION_FUNCTIONS, every))
    for key, value in given.items():
        if key != "activation":
            rules[key] = _rule_from_mapping(f"{where}rules.{key}", value)
    try:
        return Profile(
            name=name,
            description=data.get("description", f"user-defined, based on {base_name}"),
            peer=data.get("peer", ""),
            mac_factor=data.get("mac_factor", base.mac_factor),
            transposed_conv=data.get("transposed_conv", base.transposed_conv),
            rules=rules,
        )
    except ConventionError as error:
        raise ConventionError(f"{where}{error}") from None


def _rule_to_mapping(rule: Rule) -> dict[str, object]:
    defaults = _ZERO
    return {
        key: list(value) if isinstance(value, tuple) else value
        for key in _RULE_FIELDS
        if (value := getattr(rule, key)) != getattr(defaults, key)
    }


def profile_to_mapping(profile: Profile) -> dict[str, object]:
    """The mapping `profile_from_mapping` reads back (JSON-ready; base ``paper``).

    ``profile_from_mapping(profile_to_mapping(p))`` equals ``p`` for a user-defined
    profile; for a built-in one, give the mapping another name first.
    """
    return {
        "name": profile.name,
        "base": "paper",
        "description": profile.description,
        "peer": profile.peer,
        "mac_factor": profile.mac_factor,
        "transposed_conv": profile.transposed_conv,
        "rules": {
            key: _rule_to_mapping(rule) for key, rule in profile.rules.items() if rule != _ZERO
        },
    }


# --- counting ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class ProfileCount:
    """A network counted under one profile.

    `rows` are aligned with the `NetworkCost`'s rows; `breakdown` has every type of
    `OPERATION_TYPES`, in order; `differences` is, per type, this count minus ``paper``'s,
    non-zero types only. The total is the sum of the rows and of the breakdown.
    """

    profile: Profile
    total: int
    rows: tuple[int, ...]
    breakdown: Mapping[str, int] = field(hash=False)
    differences: Mapping[str, int] = field(hash=False)

    def __post_init__(self) -> None:
        if sum(self.rows) != self.total or sum(self.breakdown.values()) != self.total:
            # An invariant of `count`, not the caller's input: a bug if it ever fails.
            raise AssertionError(
                f"profile {self.profile.name!r}: rows and breakdown must sum to {self.total}"
            )
        object.__setattr__(self, "breakdown", MappingProxyType(dict(self.breakdown)))
        object.__setattr__(self, "differences", MappingProxyType(dict(self.differences)))


def _functional(layer: Layer) -> bool:
    match layer:
        case Activation() | MaxPool() | AvgPool() | AdaptiveAvgPool() | AdaptiveMaxPool():
            return layer.functional
        case _:
            return False


def _rule_key(layer: Layer) -> str | None:
    """The rule key of a layer that is neither a convolution nor dense."""
    match layer:
        case BatchNorm():
            return "batch_norm" if layer.affine else "batch_norm_no_affine"
        case Activation():
            return layer.function
        case MaxPool():
            return "max_pool"
        case AvgPool():
            return "avg_pool"
        case AdaptiveMaxPool() | GlobalMaxPool():
            return "adaptive_max_pool"
        case AdaptiveAvgPool() | GlobalAvgPool():
            return "adaptive_avg_pool"
        case Upsample():
            return "upsample"
        case Add():
            return "add"
        case Multiply():
            return "multiply"
        case Concat():
            return "concat"
        case Operator():
            return _OPERATOR_KEYS.get(layer.op_type, None if layer.contraction else "operator")
        case Reshape() | Select() | NotCounted():
            return None  # shape-only; or not counted at all, and said so
        case _:
            return None  # flatten, dropout, zero padding: nothing to count


# The rule key of an `Operator` row, by the ONNX operator it stands for; any other counts
# under "operator", except a matrix product (a contraction), whose multiply-adds are dense.
_OPERATOR_KEYS: Final[Mapping[str, str]] = MappingProxyType({
    "Add": "add", "Sum": "add", "Sub": "subtract", "Mul": "multiply", "Div": "divide",
    "Pow": "power", "Sqrt": "sqrt", "Exp": "exp", "Erf": "erf",
    "LayerNormalization": "layer_norm", "InstanceNormalization": "instance_norm",
    **dict.fromkeys(
        ("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
         "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"),
        "reduce",
    ),
})  # fmt: skip


def _conv_macs(cost: LayerCost, profile: Profile) -> int:
    if isinstance(cost.layer, ConvTranspose) and profile.transposed_conv == "output":
        return cost.weights * prod(cost.output_shape.spatial)
    return cost.macs


def _row_counts(cost: LayerCost, profile: Profile) -> dict[OperationType, int]:
    layer = cost.layer
    if isinstance(layer, (Conv, ConvTranspose, DepthwiseSeparableConv, SpatiallySeparableConv)):
        parts = cost.parts or (cost,)
        bias = profile.rules["conv_bias"]
        return {
            "conv": sum(_conv_macs(part, profile) for part in parts) * profile.mac_factor,
            "conv_bias": sum(bias.count(part) for part in parts if part.bias_adds),
        }
    if isinstance(layer, Linear):
        bias_count = profile.rules["dense_bias"].count(cost) if layer.bias else 0
        return {"dense": cost.macs * profile.mac_factor, "dense_bias": bias_count}
    if isinstance(layer, Operator):  # a contraction's multiply-adds are dense, as a Linear's
        counts: dict[OperationType, int] = {
            "dense": cost.macs * profile.mac_factor,
            "dense_bias": profile.rules["dense_bias"].count(cost) if layer.bias else 0,
        }
        key = _rule_key(layer)
        if key is not None:
            kind = _KEY_TYPES[key]
            counts[kind] = counts.get(kind, 0) + profile.rules[key].count(cost)
        return counts
    key = _rule_key(layer)
    if key is None:
        return {}
    times = cost.inputs - 1 if isinstance(layer, (Add, Multiply)) else 1
    rule = profile.rules[key]
    return {_KEY_TYPES[key]: rule.count(cost, functional=_functional(layer), times=times)}


def _tally(network_cost: NetworkCost, profile: Profile) -> tuple[tuple[int, ...], dict[str, int]]:
    """Each row's count, and the breakdown by operation type. Rows share costs (networks
    repeat their layers): each cost object is counted once, by identity (the rows keep
    every cost alive, so no id is reused meanwhile)."""
    counted: dict[int, tuple[int, dict[OperationType, int]]] = {}
    uses: dict[int, int] = {}
    rows = []
    for row in network_cost.rows:
        key = id(row.cost)
        found = counted.get(key)
        if found is None:
            counts = _row_counts(row.cost, profile)
            found = counted[key] = (sum(counts.values()), counts)
            uses[key] = 0
        uses[key] += 1
        rows.append(found[0])
    breakdown: dict[str, int] = dict.fromkeys(OPERATION_TYPES, 0)
    for key, (_, counts) in counted.items():
        for operation, value in counts.items():
            breakdown[operation] += value * uses[key]
    return tuple(rows), breakdown


def count(network_cost: NetworkCost, profile: Profile | str = PAPER) -> ProfileCount:
    """`network_cost` counted under `profile` (a `Profile` or a built-in profile's name)."""
    if not isinstance(network_cost, NetworkCost):
        raise FieldError("network_cost", network_cost, "a NetworkCost (see convcost.network_cost)")
    if isinstance(profile, str):
        profile = get_profile(profile)
    if not isinstance(profile, Profile):
        raise ConventionError(f"profile must be a Profile or a profile name, got {show(profile)}")
    rows, breakdown = _tally(network_cost, profile)
    paper = breakdown if profile is PAPER else _tally(network_cost, PAPER)[1]
    differences: dict[str, int] = {
        operation: breakdown[operation] - paper[operation]
        for operation in OPERATION_TYPES
        if breakdown[operation] != paper[operation]
    }
    return ProfileCount(
        profile=profile,
        total=sum(rows),
        rows=rows,
        breakdown=breakdown,
        differences=differences,
    )


def count_row(cost: LayerCost, profile: Profile | str = PAPER) -> int:
    """What `profile` counts for one layer's cost: its row's entry in `count`'s rows."""
    if not isinstance(cost, LayerCost):
        raise FieldError("cost", cost, "a LayerCost (see convcost.layer_cost)")
    if isinstance(profile, str):
        profile = get_profile(profile)
    if not isinstance(profile, Profile):
        raise ConventionError(f"profile must be a Profile or a profile name, got {show(profile)}")
    return sum(_row_counts(cost, profile).values())


def compare_profiles(
    network_cost: NetworkCost, profiles: Iterable[Profile | str] | None = None
) -> tuple[ProfileCount, ...]:
    """`network_cost` counted under each profile (all built-in ones by default), in order.

    Each count's `differences` says, per operation type, where it departs from ``paper``:
    the answer to "why do these tools disagree on my network?".
    """
    chosen = tuple(PROFILES.values()) if profiles is None else tuple(profiles)
    return tuple(count(network_cost, profile) for profile in chosen)
