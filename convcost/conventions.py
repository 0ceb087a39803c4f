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
channels + per_param × trainable parameters + per_position × output positions`` (a
position is one spatial location: output elements / channels), times `as_module` when the
layer is a module or `as_function` when it is a function call (the ``functional`` flag of
activation and pooling layers), and only on inputs whose number of spatial axes is in
`spatial_ranks`. An addition of k branches is k − 1 binary additions; its rule fires
k − 1 times. Counts are exact integers.

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
from types import MappingProxyType
from typing import Final, Literal, TypeAlias, get_args

from convcost.costs import LayerCost
from convcost.errors import ConventionError
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
    SpatiallySeparableConv,
    Upsample,
)
from convcost.network import NetworkCost
from convcost.shapes import MAX_SPATIAL_DIMS, is_int

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
    "describe_rule",
    "get_profile",
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
    "concat",
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
    "concat": "concat",
}
RULE_KEYS: Final[tuple[str, ...]] = tuple(_KEY_TYPES)
"""Every key of a resolved profile's rule table (one per activation function)."""
_INPUT_KEYS: Final[tuple[str, ...]] = ("activation", *RULE_KEYS)  # what a mapping may name

Unit: TypeAlias = Literal["output", "input", "channel", "param", "position"]
UNITS: Final[tuple[Unit, ...]] = get_args(Unit)
_UNIT_WORDS: Final[dict[Unit, str]] = {
    "output": "output element",
    "input": "input element",
    "channel": "channel",
    "param": "parameter",
    "position": "output position",
}
_ALL_RANKS: Final = tuple(range(MAX_SPATIAL_DIMS + 1))

TransposedPositions: TypeAlias = Literal["input", "output"]
TRANSPOSED_POSITIONS: Final[tuple[str, ...]] = get_args(TransposedPositions)


def _choices(values: Iterable[str]) -> str:
    return ", ".join(values)


def _count_field(where: str, value: object, minimum: int) -> None:
    if not is_int(value) or value < minimum:  # type: ignore[operator]
        raise ConventionError(f"{where} must be an integer >= {minimum}, got {value!r}")


@dataclass(frozen=True, kw_only=True, slots=True)
class Rule:
    """How many operations one layer of an operation class counts.

    ``per_output × output elements + per_input × input elements + per_channel × output
    channels + per_param × trainable parameters + per_position × output positions``,
    times `as_module` (the layer is a module) or `as_function` (a function call), and 0
    on inputs whose number of spatial axes is not in `spatial_ranks`. Coefficients are
    non-negative, except `per_position`, which may go down to ``-per_output`` (thop's
    softmax: 3 per element − 1 per position), so a rule never counts below 0.
    """

    per_output: int = 0
    per_input: int = 0
    per_channel: int = 0
    per_param: int = 0
    per_position: int = 0
    as_module: int = 1
    as_function: int = 1
    spatial_ranks: tuple[int, ...] = _ALL_RANKS

    def __post_init__(self) -> None:
        for name in ("per_output", "per_input", "per_channel", "per_param"):
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
                f"{_choices(map(str, _ALL_RANKS))}, got {self.spatial_ranks!r}"
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
            raise ConventionError(f"per: unknown unit {unit!r}; valid units: {_choices(UNITS)}")
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
        coefficients = (self.per_output, self.per_input, self.per_channel, self.per_param)
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
        )
        return per_call * (self.as_function if functional else self.as_module) * times


_ZERO: Final = Rule()


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
                raise ConventionError(f"{name} must be a non-empty line of text, got {value!r}")
        if not isinstance(self.peer, str) or "\n" in self.peer:
            raise ConventionError(f"peer must be a line of text, got {self.peer!r}")
        _count_field("mac_factor", self.mac_factor, 1)
        if self.transposed_conv not in TRANSPOSED_POSITIONS:
            raise ConventionError(
                f"transposed_conv must be one of {_choices(TRANSPOSED_POSITIONS)}, "
                f"got {self.transposed_conv!r}"
            )
        object.__setattr__(self, "rules", MappingProxyType(_resolve(self.rules)))

    def rule(self, key: str) -> Rule:
        """The rule for one key of `RULE_KEYS`."""
        try:
            return self.rules[key]
        except KeyError:
            raise ConventionError(
                f"unknown operation {key!r}; valid operations: {_choices(RULE_KEYS)}"
            ) from None


def _resolve(rules: object) -> dict[str, Rule]:
    if not isinstance(rules, Mapping):
        raise ConventionError(f"rules must be a mapping of operation to rule, got {rules!r}")
    for key, rule in rules.items():
        if key not in _INPUT_KEYS:
            raise ConventionError(
                f"rules: unknown operation {key!r}; valid operations: {_choices(_INPUT_KEYS)}"
            )
        if not isinstance(rule, Rule):
            raise ConventionError(f"rules.{key} must be a Rule, got {rule!r}")
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
    try:
        return PROFILES[name]
    except (KeyError, TypeError):
        raise ConventionError(
            f"unknown counting profile {name!r}; valid profiles: {_choices(PROFILES)}"
        ) from None


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
            raise ConventionError(f"{where}unknown key {key!r}; valid keys: {_choices(valid)}")


def _rule_from_mapping(where: str, data: object) -> Rule:
    if not isinstance(data, Mapping):
        raise ConventionError(
            f"{where} must be a mapping with keys from {_choices(('per', 'ops', *_RULE_FIELDS))}, "
            f"got {data!r}"
        )
    _unknown_keys(f"{where}: ", data, ("per", "ops", *_RULE_FIELDS))
    fields = {key: data[key] for key in _RULE_FIELDS if key in data}
    if ("per" in data) != ("ops" in data):
        raise ConventionError(f"{where}: give 'per' and 'ops' together (e.g. per: output, ops: 2)")
    if "per" in data:
        unit = data["per"]
        if unit not in UNITS:
            raise ConventionError(
                f"{where}.per: unknown unit {unit!r}; valid units: {_choices(UNITS)}"
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
        raise ConventionError(f"a counting profile must be a mapping, got {data!r}")
    _unknown_keys("counting profile: ", data, _PROFILE_KEYS)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConventionError(f"counting profile: name must be a non-empty string, got {name!r}")
    where = f"counting profile {name!r}: "
    if name in PROFILES:
        raise ConventionError(
            f"{where}name is a built-in profile; choose another than {_choices(PROFILES)}"
        )
    base_name = data.get("base", "paper")
    if not isinstance(base_name, str) or base_name not in PROFILES:
        raise ConventionError(
            f"{where}base: unknown profile {base_name!r}; valid profiles: {_choices(PROFILES)}"
        )
    base = PROFILES[base_name]
    rules = dict(base.rules)
    given = data.get("rules", {})
    if not isinstance(given, Mapping):
        raise ConventionError(f"{where}rules must be a mapping of operation to rule, got {given!r}")
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
        case Concat():
            return "concat"
        case _:
            return None  # flatten, dropout, zero padding: nothing to count


def _conv_macs(cost: LayerCost, profile: Profile) -> int:
    if isinstance(cost.layer, ConvTranspose) and profile.transposed_conv == "output":
        weights = prod(value for _, value in cost.weight_terms)
        return weights * prod(cost.output_shape.spatial)
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
    key = _rule_key(layer)
    if key is None:
        return {}
    times = layer.inputs - 1 if isinstance(layer, Add) else 1
    rule = profile.rules[key]
    return {_KEY_TYPES[key]: rule.count(cost, functional=_functional(layer), times=times)}


def _tally(network_cost: NetworkCost, profile: Profile) -> tuple[tuple[int, ...], dict[str, int]]:
    breakdown: dict[str, int] = dict.fromkeys(OPERATION_TYPES, 0)
    rows = []
    for row in network_cost.rows:
        counts = _row_counts(row.cost, profile)
        for operation, value in counts.items():
            breakdown[operation] += value
        rows.append(sum(counts.values()))
    return tuple(rows), breakdown


def count(network_cost: NetworkCost, profile: Profile | str = PAPER) -> ProfileCount:
    """`network_cost` counted under `profile` (a `Profile` or a built-in profile's name)."""
    if isinstance(profile, str):
        profile = get_profile(profile)
    if not isinstance(profile, Profile):
        raise ConventionError(f"profile must be a Profile or a profile name, got {profile!r}")
    rows, breakdown = _tally(network_cost, profile)
    _, paper = _tally(network_cost, PAPER)
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


def compare_profiles(
    network_cost: NetworkCost, profiles: Iterable[Profile | str] | None = None
) -> tuple[ProfileCount, ...]:
    """`network_cost` counted under each profile (all built-in ones by default), in order.

    Each count's `differences` says, per operation type, where it departs from ``paper``:
    the answer to "why do these tools disagree on my network?".
    """
    chosen = tuple(PROFILES.values()) if profiles is None else tuple(profiles)
    return tuple(count(network_cost, profile) for profile in chosen)
