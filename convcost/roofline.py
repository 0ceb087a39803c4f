"""Bytes moved, arithmetic intensity and the roofline time bound; what training costs.

MACs are not latency: a depthwise convolution does few multiply-adds per byte it moves,
so a device's memory bandwidth, not its arithmetic, bounds it. This module counts the
bytes each layer moves, and on a `Device` bounds its time below by the roofline.

The convention, stated once (``docs/roofline.md`` has it in full):

* A layer runs as **kernels**, one after another. A plain layer is one kernel. A
  composite layer (depthwise or spatially separable) runs one kernel per part, so the
  tensor between its parts is written by one kernel and read back by the next. A
  **view** runs none and moves nothing: flatten, dropout (the identity at inference),
  reshape, selection and the identity activation.
* A kernel **reads** its input activations (every input of a join) and its weights,
  meaning every parameter it holds: biases, and batch norm's γ, β, running mean and
  variance. Weights are read once per batch, not once per sample. A kernel **writes**
  its output activations. Nothing else is counted. Every tensor crosses memory exactly
  once per kernel, as if the caches kept nothing between kernels and everything within
  one. There is no re-read of tiles, no im2col buffer, no fusion of a convolution with
  its batch norm and activation, and no kernel launch time.
* Each layer kind under that rule: convolutions of every kind, dense layers, batch norm,
  pooling, activations, zero padding and upsampling read their input and weights and
  write their output. A join (`Add`, `Concat`, `Multiply`) reads every input at its own
  size (a C×1×1 gate of a `Multiply` is C elements). An `Operator` reads its first
  operand and its parameters, and is flagged inexact when it reads more operands than
  that. A `NotCounted` operator moves
  its input, parameters and output, and its FLOPs are unknown (taken as 0, flagged).
* **FLOPs** are 2 × MACs for the batch, the multiply-adds of convolutions and dense
  layers as papers count them. Batch norm, activations, pooling, joins and bias additions
  do some work per element but have no MACs. Their FLOPs are 0 here, so they are
  memory-bound by construction, which they are on any real device anyway.
* **Arithmetic intensity** is FLOPs per byte moved (None when nothing moves).
* On a device, for a data type, a kernel's **time bound** is
  ``max(FLOPs / peak[dtype], bytes / bandwidth)``. The larger term names the **bound**:
  ``"compute"`` (also at a tie, on the ridge point) or ``"memory"``; ``"none"`` when both
  are 0. A layer's bound is the sum over its kernels; a stage's and a network's are the
  sums over their layers, because layers run one after another. A layer whose kernels
  disagree, and most stages, are ``"mixed"``. Every time is an exact `Fraction` of a
  second.

Training, for a batch of N with an optimizer (`training`):

* **activations kept** for the backward pass are every kernel's output (the bytes it
  writes), plus the network's input. PyTorch keeps the inputs each backward needs, and
  each layer's input is the output of the layer before it. Counting every output is
  therefore an upper bound. Autograd frees an output no backward needs (a batch norm's
  output feeding an addition), and an in-place ReLU shares its input's memory.
* **gradients** are one per trainable parameter. **Optimizer state** is 0 per trainable
  parameter for plain SGD, 1 for SGD with momentum and 2 for Adam. All of them are in
  `dtype`, as the parameters are; mixed precision's float32 master copies are not
  modelled. The parameters themselves include the non-trainable ones.
* **training multiply-adds**: each forward MAC ``x·w`` of a convolution or dense layer
  has two backward products, ``dy·w`` for the input gradient and ``dy·x`` for the weight
  gradient. So both equal the forward count, layer by layer. The first layer's input
  gradient is counted too: frameworks skip it because the input needs no gradient, but
  it is not assumed away here. Layers without MACs have none in training either.

The worked example of Matani & Singh (2023): a 3×3 convolution from 16 to 32 channels on
16×128×128, against its depthwise separable form, in float32 on an A100.

>>> from convcost import Conv, Network, compare, parse_shape
>>> from convcost.devices import get_device
>>> net = Network(input_shape=parse_shape("16x128x128"),
...               layers=[Conv(out_channels=32, kernel_size=3, padding=1, bias=False)])
>>> result = compare_roofline(compare(net, ("depthwise_separable",)),
...                           get_device("a100-sxm4-80gb"), dtype="float32")
>>> regular, separable = result.rooflines
>>> regular.totals.traffic.flops, regular.totals.traffic.moved
(150994944, 3164160)
>>> [kernel.traffic.moved for kernel in separable.rows[0].kernels]  # depthwise, pointwise
[2097728, 3147776]
>>> [kernel.timing.bound for kernel in separable.rows[0].kernels]
['memory', 'memory']
>>> regular.rows[0].timing.bound, f"{float(regular.totals.timing.time) * 1e6:.3f} µs"
('compute', '7.743 µs')
>>> f"{float(separable.totals.timing.time) * 1e6:.3f} µs"
'2.573 µs'
>>> for metric in ("flops", "moved", "time"):  # separable / regular: MACs 14.2 %, time 33.2 %
...     print(metric, f"{float(result.ratio('depthwise_separable', metric)):.1%}")
flops 14.2%
moved 165.8%
time 33.2%
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import Final, Literal, TypeAlias, get_args

from convcost.checks import check_choice, check_int, is_int
from convcost.costs import LayerCost
from convcost.devices import Device
from convcost.errors import FieldError
from convcost.layers import (
    Activation,
    Add,
    Concat,
    Dropout,
    Flatten,
    Multiply,
    Operator,
    Reshape,
    Select,
)
from convcost.limits import MAX_BATCH
from convcost.memory import DTYPE_BYTES, DTYPES, DType
from convcost.network import Comparison, Family, NetworkCost, Row

__all__ = [
    "BOUNDS",
    "METRICS",
    "OPTIMIZERS",
    "OPTIMIZER_STATE",
    "Bound",
    "Kernel",
    "Metric",
    "Optimizer",
    "Roofline",
    "RooflineComparison",
    "RooflineRow",
    "RooflineTotals",
    "Timing",
    "Traffic",
    "Training",
    "TrainingCost",
    "TrainingRow",
    "compare_roofline",
    "kernel_timing",
    "kernel_traffic",
    "kernels",
    "layer_traffic",
    "layer_training",
    "roofline",
    "training",
]

Bound: TypeAlias = Literal["compute", "memory", "mixed", "none"]
"""What bounds a kernel's time (``compute``, ``memory``), or, for several kernels, whether
they all agree (``mixed`` when they do not); ``none`` when nothing is computed or moved."""
BOUNDS: Final[tuple[Bound, ...]] = get_args(Bound)

Optimizer: TypeAlias = Literal["sgd", "momentum", "adam"]
"""Plain SGD, SGD with momentum, Adam (or AdamW: the same two moments)."""
OPTIMIZERS: Final[tuple[Optimizer, ...]] = get_args(Optimizer)
OPTIMIZER_STATE: Final[Mapping[str, int]] = MappingProxyType({"sgd": 0, "momentum": 1, "adam": 2})
"""Values of optimizer state kept per trainable parameter: none, the momentum buffer, or
Adam's first and second moments."""

Metric: TypeAlias = Literal["time", "moved", "flops"]
"""A total that `RooflineComparison.ratio` compares: the time bound, bytes moved, FLOPs."""
METRICS: Final[tuple[Metric, ...]] = get_args(Metric)

_ZERO: Final = Fraction(0)


def _count(field: str, value: object) -> None:
    """A count of FLOPs or bytes: a non-negative integer, however large (no upper bound:
    a batch of 10**9 of a large network is still an exact integer)."""
    if not is_int(value) or value < 0:
        raise FieldError(field, value, "a non-negative integer")


def _seconds(field: str, value: object) -> None:
    if not isinstance(value, Fraction) or value < 0:
        raise FieldError(field, value, "a non-negative Fraction of a second")


def _check_dtype_batch(dtype: object, batch_size: object) -> int:
    """Bytes per element of `dtype`, after checking `dtype` and `batch_size`."""
    check_int("batch_size", batch_size, maximum=MAX_BATCH)
    return DTYPE_BYTES[check_choice("dtype", dtype, DTYPES)]


def _check_device(device: object, dtype: DType) -> Device:
    if not isinstance(device, Device):
        raise FieldError("device", device, "a Device (see convcost.devices.get_device)")
    device.peak_for(dtype)  # a DeviceError naming what the device has, before any work
    return device


def _check_network_cost(cost: object) -> NetworkCost:
    if not isinstance(cost, NetworkCost):
        raise FieldError("cost", cost, "a NetworkCost (see network_cost)")
    return cost


# --- bytes moved -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Traffic:
    """The work of one kernel, or of several summed, for a batch: FLOPs and bytes moved.

    `activations_read` is the bytes of input activations read (every input of a join),
    `weights_read` the bytes of parameters read (once per batch), `written` the bytes of
    output activations written. `exact` is False when a figure is a lower bound (see the
    module's convention: an `Operator`'s unrecorded inputs, a
    `NotCounted` operator's FLOPs).
    """

    flops: int
    activations_read: int
    weights_read: int
    written: int
    exact: bool = True

    def __post_init__(self) -> None:
        for name in ("flops", "activations_read", "weights_read", "written"):
            _count(name, getattr(self, name))
        if not isinstance(self.exact, bool):
            raise FieldError("exact", self.exact, "True or False")

    @property
    def read(self) -> int:
        """Bytes read: input activations and weights."""
        return self.activations_read + self.weights_read

    @property
    def moved(self) -> int:
        """Bytes read and written."""
        return self.read + self.written

    @property
    def intensity(self) -> Fraction | None:
        """FLOPs per byte moved; None when nothing moves."""
        return Fraction(self.flops, self.moved) if self.moved else None

    @classmethod
    def total(cls, items: Iterable[Traffic]) -> Traffic:
        """The sum of `items` (exact only if every one is)."""
        flops = activations = weights = written = 0
        exact = True
        for item in items:
            flops += item.flops
            activations += item.activations_read
            weights += item.weights_read
            written += item.written
            exact = exact and item.exact
        return cls(
            flops=flops,
            activations_read=activations,
            weights_read=weights,
            written=written,
            exact=exact,
        )


_VIEWS: Final = (Flatten, Dropout, Reshape, Select)


def kernels(cost: LayerCost) -> tuple[LayerCost, ...]:
    """The kernels a layer runs, in order: its parts, itself, or none for a view.

    >>> from convcost import DepthwiseSeparableConv, Flatten, Shape, layer_cost
    >>> x = Shape(16, (8, 8))
    >>> separable = DepthwiseSeparableConv(out_channels=8, kernel_size=3)
    >>> [kernel.kind for kernel in kernels(layer_cost(separable, x))]
    ['depthwise', 'pointwise']
    >>> kernels(layer_cost(Flatten(), x))
    ()
    """
    if not isinstance(cost, LayerCost):
        raise FieldError("cost", cost, "a LayerCost (see layer_cost)")
    if cost.parts:
        return tuple(kernel for part in cost.parts for kernel in kernels(part))
    match cost.layer:
        case Flatten() | Dropout() | Reshape() | Select():
            return ()
        case Activation(function="identity"):
            return ()
    return (cost,)


def _activations_read(cost: LayerCost) -> tuple[int, bool]:
    """Elements of input activations one sample's kernel reads, and whether that is exact."""
    first = cost.input_shape.numel
    match cost.layer:
        case Add() | Multiply() | Concat() if cost.input_shapes:
            return sum(shape.numel for shape in cost.input_shapes), True  # each at its size
        case Add() | Multiply() | Concat():  # a join's cost made by hand, shapes unknown
            return cost.inputs * first, False
        case Operator(weights=weights, bias=bias, non_trainable_params=statistics):
            # The operands it reads beside the first are its parameter tensors when there
            # are no more of them than kinds of parameters it holds; others are unrecorded.
            known = 1 + (weights > 0) + (bias > 0) + (statistics > 0)
            return first, cost.layer.operands <= known
    return first, True


def kernel_traffic(cost: LayerCost, *, dtype: DType = "float32", batch_size: int = 1) -> Traffic:
    """What one kernel moves and computes for a batch of `batch_size` in `dtype`.

    `cost` must be one kernel: a layer that is not composite (or a composite layer's
    part). A view is one too if asked directly, though `kernels` leaves views out.

    >>> from convcost import Conv, Shape, layer_cost
    >>> cost = layer_cost(Conv(out_channels=32, kernel_size=3, padding=1), Shape(16, (8, 8)))
    >>> kernel_traffic(cost, batch_size=2)  # weights 16·32·9 + 32 biases, read once
    Traffic(flops=1179648, activations_read=8192, weights_read=18560, written=16384, exact=True)
    """
    size = _check_dtype_batch(dtype, batch_size)
    if not isinstance(cost, LayerCost):
        raise FieldError("cost", cost, "a LayerCost (see layer_cost)")
    if cost.parts:
        raise FieldError("cost", cost.layer, "one kernel, not a composite layer (see kernels)")
    elements, exact = _activations_read(cost)
    return Traffic(
        flops=2 * cost.macs * batch_size,
        activations_read=elements * size * batch_size,
        weights_read=cost.total_params * size,
        written=cost.output_shape.numel * size * batch_size,
        exact=exact and cost.kind != "not_counted",
    )


def layer_traffic(cost: LayerCost, *, dtype: DType = "float32", batch_size: int = 1) -> Traffic:
    """What a layer moves and computes for a batch: the sum over its `kernels`.

    >>> from convcost import DepthwiseSeparableConv, Shape, layer_cost
    >>> layer = DepthwiseSeparableConv(out_channels=32, kernel_size=3, padding=1, bias="none")
    >>> traffic = layer_traffic(layer_cost(layer, Shape(16, (128, 128))))
    >>> traffic.moved, f"{float(traffic.intensity):.3f} FLOPs per byte"  # the 16×128×128
    (5245504, '4.098 FLOPs per byte')
    """
    _check_dtype_batch(dtype, batch_size)
    return Traffic.total(
        kernel_traffic(kernel, dtype=dtype, batch_size=batch_size) for kernel in kernels(cost)
    )


# --- time on a device ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Timing:
    """The roofline terms of one kernel, or their sums over several, in seconds.

    `compute_time` is FLOPs / peak, `memory_time` bytes / bandwidth, `time` the bound,
    max of the two for one kernel and the sum of those maxima for several.
    `memory_bound_time` is the part of `time` spent in memory-bound kernels.
    """

    compute_time: Fraction
    memory_time: Fraction
    time: Fraction
    memory_bound_time: Fraction

    def __post_init__(self) -> None:
        for name in ("compute_time", "memory_time", "time", "memory_bound_time"):
            _seconds(name, getattr(self, name))
        if not max(self.compute_time, self.memory_time) <= self.time:
            raise FieldError("time", self.time, "at least compute_time and memory_time")
        if self.time > self.compute_time + self.memory_time:
            raise FieldError("time", self.time, "at most compute_time + memory_time")
        if self.memory_bound_time > self.time:
            raise FieldError("memory_bound_time", self.memory_bound_time, "at most time")

    @property
    def compute_bound_time(self) -> Fraction:
        """The part of `time` spent in compute-bound kernels."""
        return self.time - self.memory_bound_time

    @property
    def bound(self) -> Bound:
        """``compute`` or ``memory`` when every kernel that takes time agrees, else
        ``mixed``; ``none`` when no kernel takes time."""
        if not self.time:
            return "none"
        if not self.memory_bound_time:
            return "compute"
        return "memory" if self.memory_bound_time == self.time else "mixed"

    @classmethod
    def total(cls, items: Iterable[Timing]) -> Timing:
        """The sum of `items`: kernels run one after another."""
        compute = memory = time = memory_bound = _ZERO
        for item in items:
            compute += item.compute_time
            memory += item.memory_time
            time += item.time
            memory_bound += item.memory_bound_time
        return cls(
            compute_time=compute, memory_time=memory, time=time, memory_bound_time=memory_bound
        )


def kernel_timing(traffic: Traffic, device: Device, *, dtype: DType = "float32") -> Timing:
    """The roofline bound of one kernel's `traffic` on `device` for `dtype`.

    At a tie (a kernel on the ridge point) the kernel counts as compute-bound. A
    `DeviceError` when `device` has no peak for `dtype`.

    >>> from convcost.devices import parse_device
    >>> device = parse_device("peak=10T,bandwidth=1T")  # ridge point: 10 FLOPs per byte
    >>> timing = kernel_timing(Traffic(flops=40, activations_read=4, weights_read=0,
    ...                                written=4), device)
    >>> timing.compute_time, timing.memory_time, timing.bound
    (Fraction(1, 250000000000), Fraction(1, 125000000000), 'memory')
    """
    if not isinstance(traffic, Traffic):
        raise FieldError("traffic", traffic, "a Traffic (see kernel_traffic)")
    check_choice("dtype", dtype, DTYPES)
    peak = _check_device(device, dtype).peak_for(dtype)
    compute = Fraction(traffic.flops, peak)
    memory = Fraction(traffic.moved, device.bandwidth)
    time = max(compute, memory)
    return Timing(
        compute_time=compute,
        memory_time=memory,
        time=time,
        memory_bound_time=time if memory > compute else _ZERO,
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class Kernel:
    """One kernel of a layer: its own cost (the layer, or one part of a composite
    layer), what it moves and computes, and its roofline terms."""

    cost: LayerCost
    traffic: Traffic
    timing: Timing

    def __post_init__(self) -> None:
        if not isinstance(self.cost, LayerCost) or self.cost.parts:
            raise FieldError("cost", self.cost, "the LayerCost of one kernel")
        if not isinstance(self.traffic, Traffic):
            raise FieldError("traffic", self.traffic, "a Traffic")
        if not isinstance(self.timing, Timing):
            raise FieldError("timing", self.timing, "a Timing")


@dataclass(frozen=True, kw_only=True, slots=True)
class RooflineTotals:
    """Sums over layers (a stage, a network): what they move and compute, and their time."""

    traffic: Traffic
    timing: Timing

    def __post_init__(self) -> None:
        if not isinstance(self.traffic, Traffic):
            raise FieldError("traffic", self.traffic, "a Traffic")
        if not isinstance(self.timing, Timing):
            raise FieldError("timing", self.timing, "a Timing")

    @classmethod
    def of(cls, items: Iterable[RooflineRow | RooflineTotals | Kernel]) -> RooflineTotals:
        """The sums over `items`."""
        listed = tuple(items)
        return cls(
            traffic=Traffic.total(item.traffic for item in listed),
            timing=Timing.total(item.timing for item in listed),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class RooflineRow:
    """One row of a network (a layer or a join) and its kernels; `traffic` and `timing`
    are the sums over `kernels` (none for a view)."""

    row: Row
    kernels: tuple[Kernel, ...]
    traffic: Traffic
    timing: Timing

    def __post_init__(self) -> None:
        if not isinstance(self.row, Row):
            raise FieldError("row", self.row, "a Row of a NetworkCost")
        if not isinstance(self.kernels, tuple) or not all(
            isinstance(kernel, Kernel) for kernel in self.kernels
        ):
            raise FieldError("kernels", self.kernels, "a tuple of Kernels")
        sums = RooflineTotals.of(self.kernels)
        if (self.traffic, self.timing) != (sums.traffic, sums.timing):
            raise FieldError("traffic", self.traffic, "the sum over the kernels")


@dataclass(frozen=True, kw_only=True, slots=True)
class Roofline:
    """A network's rows on a device, for a data type and a batch size, and their totals.

    `totals` are the sums over `rows`; `stages` sums per top-level group.
    """

    cost: NetworkCost
    device: Device
    dtype: DType
    batch_size: int
    rows: tuple[RooflineRow, ...]
    totals: RooflineTotals

    def __post_init__(self) -> None:
        _check_network_cost(self.cost)
        _check_dtype_batch(self.dtype, self.batch_size)
        _check_device(self.device, self.dtype)
        if not isinstance(self.rows, tuple) or len(self.rows) != len(self.cost.rows):
            raise FieldError("rows", self.rows, "one RooflineRow per row of cost")
        if self.totals != RooflineTotals.of(self.rows):
            raise FieldError("totals", self.totals, "the sums over rows")

    @property
    def ridge_point(self) -> Fraction:
        """FLOPs per byte at which the device's two roofs meet for `dtype`."""
        return self.device.ridge_point(self.dtype)

    def stages(self) -> dict[str | None, RooflineTotals]:
        """Totals per top-level group (`Row.group`), in order of first appearance."""
        members: dict[str | None, list[RooflineRow]] = {}
        for item in self.rows:
            members.setdefault(item.row.group, []).append(item)
        return {group: RooflineTotals.of(items) for group, items in members.items()}


def roofline(
    cost: NetworkCost, device: Device, *, dtype: DType = "float32", batch_size: int = 1
) -> Roofline:
    """Every row of `cost` on `device`: bytes, FLOPs, intensity and the time bound.

    A `DeviceError` when `device` has no peak for `dtype`; a `FieldError` naming the
    argument for anything else out of its domain.
    """
    _check_network_cost(cost)
    _check_dtype_batch(dtype, batch_size)
    _check_device(device, dtype)
    rows = []
    for row in cost.rows:
        found = []
        for kernel in kernels(row.cost):
            traffic = kernel_traffic(kernel, dtype=dtype, batch_size=batch_size)
            found.append(
                Kernel(
                    cost=kernel, traffic=traffic, timing=kernel_timing(traffic, device, dtype=dtype)
                )
            )
        sums = RooflineTotals.of(found)
        rows.append(
            RooflineRow(row=row, kernels=tuple(found), traffic=sums.traffic, timing=sums.timing)
        )
    return Roofline(
        cost=cost,
        device=device,
        dtype=dtype,
        batch_size=batch_size,
        rows=tuple(rows),
        totals=RooflineTotals.of(rows),
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class RooflineComparison:
    """A `Comparison`'s families on one device: `rooflines` in the order of its families."""

    comparison: Comparison
    rooflines: tuple[Roofline, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.comparison, Comparison):
            raise FieldError("comparison", self.comparison, "a Comparison (see compare)")
        if not isinstance(self.rooflines, tuple) or len(self.rooflines) != len(
            self.comparison.families
        ):
            raise FieldError("rooflines", self.rooflines, "one Roofline per family compared")

    def roofline(self, family: Family) -> Roofline:
        """The roofline of the network rewritten in `family`."""
        families = self.comparison.families
        return self.rooflines[families.index(check_choice("family", family, families))]

    def ratio(self, family: Family, metric: Metric) -> Fraction | None:
        """``family`` over ``regular`` for a total (None when regular's is 0).

        `metric` is ``"time"`` (the bound), ``"moved"`` (bytes) or ``"flops"`` (2 × MACs,
        so its ratio is the MAC ratio).
        """
        check_choice("metric", metric, METRICS)

        def total(roofline: Roofline) -> int | Fraction:
            if metric == "time":
                return roofline.totals.timing.time
            return getattr(roofline.totals.traffic, metric)  # type: ignore[no-any-return]

        base = total(self.roofline("regular"))
        return Fraction(total(self.roofline(family))) / base if base else None


def compare_roofline(
    comparison: Comparison, device: Device, *, dtype: DType = "float32", batch_size: int = 1
) -> RooflineComparison:
    """The `roofline` of every family of `comparison` on `device`."""
    if not isinstance(comparison, Comparison):
        raise FieldError("comparison", comparison, "a Comparison (see compare)")
    _check_dtype_batch(dtype, batch_size)
    _check_device(device, dtype)
    return RooflineComparison(
        comparison=comparison,
        rooflines=tuple(
            roofline(cost, device, dtype=dtype, batch_size=batch_size) for cost in comparison.costs
        ),
    )


# --- training ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class TrainingCost:
    """Memory and multiply-adds of one training step of a batch, for a layer or summed.

    Bytes: `activation_bytes` kept for the backward pass (every kernel's output),
    `weight_bytes` the parameters (trainable and not), `gradient_bytes` one per trainable
    parameter, `optimizer_bytes` the optimizer's state. Multiply-adds for the batch:
    `forward_macs`, `input_gradient_macs`, `weight_gradient_macs`. `exact` is False when
    a layer's MACs are unknown (a `NotCounted` operator's, taken as 0).
    """

    activation_bytes: int = 0
    weight_bytes: int = 0
    gradient_bytes: int = 0
    optimizer_bytes: int = 0
    forward_macs: int = 0
    input_gradient_macs: int = 0
    weight_gradient_macs: int = 0
    exact: bool = True

    def __post_init__(self) -> None:
        for name in _TRAINING_COUNTS:
            _count(name, getattr(self, name))
        if not isinstance(self.exact, bool):
            raise FieldError("exact", self.exact, "True or False")

    @property
    def memory_bytes(self) -> int:
        """Activations kept, parameters, gradients and optimizer state."""
        return (
            self.activation_bytes + self.weight_bytes + self.gradient_bytes + self.optimizer_bytes
        )

    @property
    def macs(self) -> int:
        """Forward, input-gradient and weight-gradient multiply-adds."""
        return self.forward_macs + self.input_gradient_macs + self.weight_gradient_macs

    @classmethod
    def total(cls, items: Iterable[TrainingCost]) -> TrainingCost:
        """The sum of `items` (exact only if every one is)."""
        sums = dict.fromkeys(_TRAINING_COUNTS, 0)
        exact = True
        for item in items:
            for name in _TRAINING_COUNTS:
                sums[name] += getattr(item, name)
            exact = exact and item.exact
        return cls(**sums, exact=exact)


_TRAINING_COUNTS: Final = (
    "activation_bytes",
    "weight_bytes",
    "gradient_bytes",
    "optimizer_bytes",
    "forward_macs",
    "input_gradient_macs",
    "weight_gradient_macs",
)


def layer_training(
    cost: LayerCost, *, optimizer: Optimizer, dtype: DType = "float32", batch_size: int = 1
) -> TrainingCost:
    """A layer's training memory and multiply-adds for a batch (see the module's convention).

    >>> from convcost import Conv, Shape, layer_cost
    >>> conv = layer_cost(Conv(out_channels=32, kernel_size=3, padding=1, bias=False),
    ...                   Shape(16, (128, 128)))
    >>> step = layer_training(conv, optimizer="adam", batch_size=8)
    >>> step.activation_bytes, step.gradient_bytes, step.optimizer_bytes  # 8·32·128·128·4
    (16777216, 18432, 36864)
    >>> step.macs == 3 * 8 * conv.macs
    True
    """
    size = _check_dtype_batch(dtype, batch_size)
    state = OPTIMIZER_STATE[check_choice("optimizer", optimizer, OPTIMIZERS)]
    forward = input_gradient = weight_gradient = 0
    kept = 0
    for kernel in kernels(cost):
        kept += kernel.output_shape.numel * size * batch_size
        macs = kernel.macs * batch_size
        forward += macs
        input_gradient += macs
        # dy·x: a weight's gradient, or, for a product of two inputs, the other input's.
        if kernel.weights:
            weight_gradient += macs
        else:
            input_gradient += macs
    return TrainingCost(
        activation_bytes=kept,
        weight_bytes=cost.total_params * size,
        gradient_bytes=cost.params * size,
        optimizer_bytes=state * cost.params * size,
        forward_macs=forward,
        input_gradient_macs=input_gradient,
        weight_gradient_macs=weight_gradient,
        exact=all(kernel.kind != "not_counted" for kernel in kernels(cost)),
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class TrainingRow:
    """One row of a network and its training cost."""

    row: Row
    training: TrainingCost

    def __post_init__(self) -> None:
        if not isinstance(self.row, Row):
            raise FieldError("row", self.row, "a Row of a NetworkCost")
        if not isinstance(self.training, TrainingCost):
            raise FieldError("training", self.training, "a TrainingCost")


@dataclass(frozen=True, kw_only=True, slots=True)
class Training:
    """A network's training step for a batch: per row, the input and the totals.

    `input_bytes` is the batch of inputs (kept for the first layer's backward);
    `totals` the sums over `rows`; `memory_bytes` everything held at the end of the
    forward pass.
    """

    cost: NetworkCost
    optimizer: Optimizer
    dtype: DType
    batch_size: int
    input_bytes: int
    rows: tuple[TrainingRow, ...]
    totals: TrainingCost

    def __post_init__(self) -> None:
        _check_network_cost(self.cost)
        size = _check_dtype_batch(self.dtype, self.batch_size)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        if self.input_bytes != self.cost.network.input_shape.numel * size * self.batch_size:
            raise FieldError("input_bytes", self.input_bytes, "the batch of inputs, in bytes")
        if not isinstance(self.rows, tuple) or len(self.rows) != len(self.cost.rows):
            raise FieldError("rows", self.rows, "one TrainingRow per row of cost")
        if self.totals != TrainingCost.total(item.training for item in self.rows):
            raise FieldError("totals", self.totals, "the sums over rows")

    @property
    def memory_bytes(self) -> int:
        """The input, activations kept, parameters, gradients and optimizer state."""
        return self.input_bytes + self.totals.memory_bytes

    def stages(self) -> dict[str | None, TrainingCost]:
        """Totals per top-level group (`Row.group`), in order of first appearance."""
        members: dict[str | None, list[TrainingCost]] = {}
        for item in self.rows:
            members.setdefault(item.row.group, []).append(item.training)
        return {group: TrainingCost.total(items) for group, items in members.items()}


def training(
    cost: NetworkCost, *, optimizer: Optimizer, dtype: DType = "float32", batch_size: int = 1
) -> Training:
    """The training memory and multiply-adds of every row of `cost`, for a batch.

    >>> from convcost import build_preset, network_cost
    >>> step = training(network_cost(build_preset("resnet18")), optimizer="momentum")
    >>> step.totals.gradient_bytes == step.totals.optimizer_bytes == 4 * 11_689_512
    True
    """
    _check_network_cost(cost)
    size = _check_dtype_batch(dtype, batch_size)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    rows = tuple(
        TrainingRow(
            row=row,
            training=layer_training(
                row.cost, optimizer=optimizer, dtype=dtype, batch_size=batch_size
            ),
        )
        for row in cost.rows
    )
    return Training(
        cost=cost,
        optimizer=optimizer,
        dtype=dtype,
        batch_size=batch_size,
        input_bytes=cost.network.input_shape.numel * size * batch_size,
        rows=rows,
        totals=TrainingCost.total(item.training for item in rows),
    )
