"""Bytes moved, the roofline bound and training costs: worked examples, laws and bad input.

The worked examples are computed by hand in the comments (float32 is 4 bytes, float16 2).
The laws run over Hypothesis' random layers and networks. One oracle is independent of
convcost's formulas: PyTorch itself, whose eval-mode forward is intercepted operator by
operator to add up the bytes of the real tensors each one reads and writes.
"""

from __future__ import annotations

import dataclasses
import doctest
import importlib
import itertools
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from network_strategies import networks
from strategies import (
    Case,
    conv_cases,
    conv_transpose_cases,
    depthwise_separable_cases,
    pool_cases,
    spatially_separable_cases,
)

from convcost import (
    Activation,
    AvgPool,
    BatchNorm,
    Conv,
    ConvTranspose,
    DepthwiseSeparableConv,
    Dropout,
    Flatten,
    GlobalAvgPool,
    Linear,
    MaxPool,
    Shape,
    SpatiallySeparableConv,
    Upsample,
    ZeroPad,
    build_preset,
    layer_cost,
    network_cost,
    parse_shape,
)
from convcost.costs import LayerCost, join_cost
from convcost.devices import DEVICES, Device, get_device, parse_device
from convcost.errors import ConvCostError, DeviceError, FieldError
from convcost.layers import Add, Concat, Layer, Multiply, NotCounted, Operator, Reshape, Select
from convcost.limits import MAX_BATCH
from convcost.memory import DTYPE_BYTES, DTYPES, memory_estimate
from convcost.network import Network, NetworkCost, Residual, Sequential, compare, rewrite
from convcost.roofline import (
    OPTIMIZER_STATE,
    OPTIMIZERS,
    Kernel,
    Timing,
    Traffic,
    TrainingCost,
    compare_roofline,
    kernel_timing,
    kernel_traffic,
    kernels,
    layer_traffic,
    layer_training,
    roofline,
    training,
)

A100 = get_device("a100-sxm4-80gb")
X16 = Shape(16, (128, 128))  # Matani & Singh's layer input: 16 channels, 128×128
P = 128 * 128  # its positions

# --- worked examples ------------------------------------------------------------------------


class Example(NamedTuple):
    cost: LayerCost
    dtype: str
    batch: int
    flops: int
    activations_read: int
    weights_read: int
    written: int
    kernels: int
    exact: bool = True


def one(layer: Layer, shape: Shape) -> LayerCost:
    return layer_cost(layer, shape)


C8 = Shape(8, (4, 4))  # 128 elements
# fmt: off
EXAMPLES: dict[str, Example] = {
    # Conv 16→32, 3×3, no bias: MACs = 16,384 positions × 32 × 16 × 9 = 75,497,472.
    # Reads the input 16·P·4 B and the weights 4,608·4 B; writes 32·P·4 B.
    "matani-regular": Example(
        one(Conv(out_channels=32, kernel_size=3, padding=1, bias=False), X16),
        "float32", 1, 2 * 75_497_472, 16 * P * 4, 4_608 * 4, 32 * P * 4, 1,
    ),
    # The same at batch 4 in float16: activations ×4 ×½, weights only ×½ (read once).
    "matani-regular-b4-f16": Example(
        one(Conv(out_channels=32, kernel_size=3, padding=1, bias=False), X16),
        "float16", 4, 4 * 2 * 75_497_472, 4 * 16 * P * 2, 4_608 * 2, 4 * 32 * P * 2, 1,
    ),
    # Depthwise 3×3 (16·9 = 144 weights, 16·9·P MACs), then pointwise 16→32 (512 weights,
    # 512·P MACs). The 16×128×128 intermediate is written by one and read by the other.
    "matani-depthwise-separable": Example(
        one(DepthwiseSeparableConv(out_channels=32, kernel_size=3, padding=1, bias="none"), X16),
        "float32", 1, 2 * (144 + 512) * P, (16 + 16) * P * 4, (144 + 512) * 4,
        (16 + 32) * P * 4, 2,
    ),
    # 3×1 16→16 (mid "min" = 16: 768 weights), then 1×3 16→32 (1,536 weights).
    "matani-spatially-separable": Example(
        one(SpatiallySeparableConv(out_channels=32, kernel_size=3, padding=1, bias="none"), X16),
        "float32", 1, 2 * (768 + 1_536) * P, (16 + 16) * P * 4, (768 + 1_536) * 4,
        (16 + 32) * P * 4, 2,
    ),
    # "both" biases: the depthwise part holds 16 biases, the pointwise 32.
    "separable-both-biases": Example(
        one(DepthwiseSeparableConv(out_channels=32, kernel_size=3, padding=1, bias="both"), X16),
        "float32", 1, 2 * (144 + 512) * P, (16 + 16) * P * 4, (144 + 16 + 512 + 32) * 4,
        (16 + 32) * P * 4, 2,
    ),
    # Depthwise 3×3 stride 2 on 32×56×56 → 32×28×28: 288 weights, 288·784 MACs.
    "depthwise-strided": Example(
        one(Conv(out_channels=32, kernel_size=3, stride=2, padding=1, groups=32, bias=False),
            Shape(32, (56, 56))),
        "float32", 1, 2 * 288 * 784, 32 * 3_136 * 4, 288 * 4, 32 * 784 * 4, 1,
    ),
    # Transposed 8→4, 2×2 stride 2 on 8×4×4 → 4×8×8: 128 weights + 4 biases, 128·16 MACs.
    "transposed": Example(
        one(ConvTranspose(out_channels=4, kernel_size=2, stride=2), C8),
        "float32", 1, 2 * 128 * 16, 128 * 4, 132 * 4, 256 * 4, 1,
    ),
    # Dense 512→10 with bias: 5,120 MACs; reads 512 features and 5,130 parameters.
    "dense": Example(
        one(Linear(out_features=10), Shape(512)),
        "float32", 1, 2 * 5_120, 512 * 4, 5_130 * 4, 10 * 4, 1,
    ),
    # Batch norm on 32×16×16, batch 2: γ, β and the running mean and variance (4·32) are
    # read once; input and output per sample. No MACs, so no FLOPs.
    "batch-norm": Example(
        one(BatchNorm(), Shape(32, (16, 16))),
        "float32", 2, 0, 2 * 32 * 256 * 4, 4 * 32 * 4, 2 * 32 * 256 * 4, 1,
    ),
    # Max pool 2×2 on 32×16×16 → 32×8×8.
    "max-pool": Example(
        one(MaxPool(kernel_size=2), Shape(32, (16, 16))),
        "float32", 1, 0, 32 * 256 * 4, 0, 32 * 64 * 4, 1,
    ),
    "avg-pool-int8": Example(
        one(AvgPool(kernel_size=2), Shape(32, (16, 16))),
        "int8", 3, 0, 3 * 32 * 256, 0, 3 * 32 * 64, 1,
    ),
    # Global average pool on 64×7×7 → 64.
    "global-pool": Example(
        one(GlobalAvgPool(), Shape(64, (7, 7))), "float32", 1, 0, 64 * 49 * 4, 0, 64 * 4, 1
    ),
    # An activation reads and writes the whole tensor (in place or not).
    "relu": Example(one(Activation(), C8), "float32", 1, 0, 128 * 4, 0, 128 * 4, 1),
    # Zero padding by 1 copies 8×4×4 into 8×6×6.
    "zero-pad": Example(one(ZeroPad(padding=1), C8), "float32", 1, 0, 128 * 4, 0, 288 * 4, 1),
    # Nearest upsampling ×2 reads 8×4×4 once and writes 8×8×8.
    "upsample": Example(
        one(Upsample(scale_factor=2), C8), "float32", 1, 0, 128 * 4, 0, 512 * 4, 1
    ),
    # Views: no kernel, nothing moved.
    "flatten": Example(one(Flatten(), C8), "float32", 1, 0, 0, 0, 0, 0),
    "dropout": Example(one(Dropout(), C8), "float32", 1, 0, 0, 0, 0, 0),
    "identity": Example(one(Activation(function="identity"), C8), "float32", 1, 0, 0, 0, 0, 0),
    "reshape": Example(one(Reshape(shape=(2, 64)), C8), "float32", 1, 0, 0, 0, 0, 0),
    "select": Example(one(Select(shape=(4, 4, 4)), C8), "float32", 1, 0, 0, 0, 0, 0),
    # Add of three 8×4×4 inputs: reads all three, writes one.
    "add": Example(join_cost(Add(), (C8, C8, C8)), "float32", 1, 0, 3 * 128 * 4, 0, 128 * 4, 1),
    # Concat of 8×4×4 and 4×4×4: reads 128 + 64 elements, writes 12×4×4 = 192.
    "concat": Example(
        join_cost(Concat(), (C8, Shape(4, (4, 4)))), "float32", 1, 0, 192 * 4, 0, 192 * 4, 1
    ),
    # A gate first: the other input must be the full 8×4×4 tensor, so this is exact.
    "multiply-gate-first": Example(
        join_cost(Multiply(), (Shape(8, (1, 1)), C8)),
        "float32", 1, 0, (8 + 128) * 4, 0, 128 * 4, 1,
    ),
    # The gate second: the same bytes.
    "multiply-full-first": Example(
        join_cost(Multiply(), (C8, Shape(8, (1, 1)))),
        "float32", 1, 0, (128 + 8) * 4, 0, 128 * 4, 1,
    ),
    # x·y of equal shapes: both read in full.
    "multiply-equal": Example(
        join_cost(Multiply(), (C8, C8)), "float32", 1, 0, 2 * 128 * 4, 0, 128 * 4, 1
    ),
    # One value per channel everywhere: nothing to guess.
    "multiply-all-gates": Example(
        join_cost(Multiply(), (Shape(8, (1, 1)), Shape(8, (1, 1)))),
        "float32", 1, 0, 16 * 4, 0, 8 * 4, 1,
    ),
    # A matrix product by a weight (ONNX MatMul): data and weight, both recorded.
    "operator-matmul": Example(
        one(Operator(op_type="MatMul", shape=(4, 10), weights=80, contraction=8, operands=2),
            Shape(4, (8,))),
        "float32", 1, 2 * 40 * 8, 32 * 4, 80 * 4, 40 * 4, 1,
    ),
    # Sub(x, y) of two data tensors: only the first is recorded, so a lower bound.
    "operator-two-inputs": Example(
        one(Operator(op_type="Sub", shape=(8, 4, 4), operands=2), C8),
        "float32", 1, 0, 128 * 4, 0, 128 * 4, 1, exact=False,
    ),
    # An unknown operator moves its tensors, but its FLOPs are unknown (taken as 0).
    "not-counted": Example(
        one(NotCounted(op_type="LSTM", shape=(8, 4, 4), params=100), C8),
        "float32", 1, 0, 128 * 4, 100 * 4, 128 * 4, 1, exact=False,
    ),
}
# fmt: on


@pytest.mark.parametrize("example", EXAMPLES.values(), ids=EXAMPLES.keys())
def test_worked_example(example: Example) -> None:
    traffic = layer_traffic(example.cost, dtype=example.dtype, batch_size=example.batch)  # type: ignore[arg-type]
    assert traffic == Traffic(
        flops=example.flops,
        activations_read=example.activations_read,
        weights_read=example.weights_read,
        written=example.written,
        exact=example.exact,
    )
    assert len(kernels(example.cost)) == example.kernels


def test_matani_singh_on_an_a100() -> None:
    """The module's worked example, term by term (A100: 19.5 TFLOP/s float32, 2,039 GB/s).

    Regular: 150,994,944 FLOPs / 19.5e12 = 7.743 µs against 3,164,160 B / 2.039e12 =
    1.552 µs: compute-bound. Depthwise: 4,718,592 FLOPs (0.242 µs) against 2,097,728 B
    (1.029 µs); pointwise: 16,777,216 FLOPs (0.860 µs) against 3,147,776 B (1.544 µs): both
    memory-bound, 2.573 µs in all. MACs 14.2 %, roofline time 33.2 %.
    """
    result = compare_roofline(
        compare(
            Network(
                input_shape=X16,
                layers=(Conv(out_channels=32, kernel_size=3, padding=1, bias=False),),
            ),
            ("depthwise_separable",),
        ),
        A100,
    )
    regular, separable = result.rooflines
    peak, bandwidth = 19_500 * 10**9, 2_039 * 10**9
    assert regular.totals.timing == Timing(
        compute_time=Fraction(150_994_944, peak),
        memory_time=Fraction(3_164_160, bandwidth),
        time=Fraction(150_994_944, peak),
        memory_bound_time=Fraction(0),
    )
    depthwise, pointwise = separable.rows[0].kernels
    assert depthwise.timing.time == Fraction(2_097_728, bandwidth)
    assert pointwise.timing.time == Fraction(3_147_776, bandwidth)
    assert separable.totals.timing.time == Fraction(2_097_728 + 3_147_776, bandwidth)
    assert separable.totals.timing.bound == "memory"
    assert result.ratio("depthwise_separable", "flops") == Fraction(1, 32) + Fraction(1, 9)
    assert result.ratio("depthwise_separable", "time") == Fraction(
        5_245_504 * peak, 150_994_944 * bandwidth
    )
    time_ratio = result.ratio("depthwise_separable", "time")
    assert time_ratio is not None
    assert f"{float(time_ratio):.1%}" == "33.2%"


def test_bound_names() -> None:
    """A kernel below the ridge point is memory-bound, above it compute-bound, on it
    compute-bound; a row of two disagreeing kernels is mixed; a view is none."""
    device = parse_device("peak=10T,bandwidth=1T")  # ridge: 10 FLOPs per byte

    def bound(flops: int) -> str:
        traffic = Traffic(flops=flops, activations_read=10, weights_read=0, written=0)
        return kernel_timing(traffic, device).bound

    assert (bound(99), bound(100), bound(101), bound(0)) == (
        "memory",
        "compute",
        "compute",
        "memory",
    )
    assert (
        kernel_timing(Traffic(flops=0, activations_read=0, weights_read=0, written=0), device).bound
        == "none"
    )
    mixed = Timing.total(
        kernel_timing(Traffic(flops=f, activations_read=10, weights_read=0, written=0), device)
        for f in (1, 1_000)
    )
    assert mixed.bound == "mixed"
    assert mixed.time == mixed.memory_bound_time + mixed.compute_bound_time


def test_stage_totals_of_the_pyramid() -> None:
    """Each pyramid stage holds a conv and a pool; the stages add up to the network."""
    cost = network_cost(build_preset("pyramid"))
    result = roofline(cost, get_device("l4"), dtype="float16", batch_size=8)
    stages = result.stages()
    assert list(stages) == ["stage1", "stage2", "stage3", "stage4"]
    assert Traffic.total(s.traffic for s in stages.values()) == result.totals.traffic
    assert Timing.total(s.timing for s in stages.values()) == result.totals.timing
    # Stage 1: conv 64→128 on 128×128 then a 2×2 pool, batch 8, float16.
    stage1 = stages["stage1"].traffic
    assert stage1.activations_read == 8 * 2 * (64 + 128) * 128 * 128
    assert stage1.weights_read == 2 * 64 * 128 * 9
    assert stage1.written == 8 * 2 * (128 * 128 * 128 + 128 * 64 * 64)


def test_exact_integers_at_the_largest_batch() -> None:
    """MAX_BATCH of ResNet-18 in float32: bytes far beyond 2**53, still exact."""
    cost = network_cost(build_preset("resnet18"))
    one_sample = roofline(cost, A100).totals.traffic
    many = roofline(cost, A100, batch_size=MAX_BATCH).totals.traffic
    assert many.activations_read == MAX_BATCH * one_sample.activations_read
    assert many.written == MAX_BATCH * one_sample.written
    assert many.weights_read == one_sample.weights_read == 4 * 11_689_512 + 4 * 9_600
    assert many.moved > 2**53


# --- laws over random layers and networks --------------------------------------------------

layer_cases = st.one_of(
    conv_cases(),
    depthwise_separable_cases(),
    spatially_separable_cases(),
    conv_transpose_cases(),
    pool_cases(),
)
dtypes = st.sampled_from(DTYPES)
batches = st.integers(1, 64)


@st.composite
def devices(draw: st.DrawFn) -> Device:
    """A device with a peak for every data type, rates from 1 to 10**15 per second."""
    return Device(
        name="drawn",
        description="a drawn device",
        kind="test",
        peak={dtype: draw(st.integers(1, 10**15)) for dtype in DTYPES},
        bandwidth=draw(st.integers(1, 10**15)),
        source="hypothesis",
    )


def cost_of(case: Case) -> LayerCost:
    return layer_cost(case.layer, case.shape)


@given(case=layer_cases, dtype=dtypes, batch=batches)
def test_activations_scale_with_the_batch_weights_do_not(
    case: Case, dtype: Any, batch: int
) -> None:
    cost = cost_of(case)
    one_sample = layer_traffic(cost, dtype=dtype)
    batched = layer_traffic(cost, dtype=dtype, batch_size=batch)
    assert batched.activations_read == batch * one_sample.activations_read
    assert batched.written == batch * one_sample.written
    assert batched.flops == batch * one_sample.flops == 2 * batch * cost.macs
    assert batched.weights_read == one_sample.weights_read == cost.total_params * DTYPE_BYTES[dtype]


@given(case=layer_cases, batch=batches)
def test_bytes_scale_with_the_element_size(case: Case, batch: int) -> None:
    cost = cost_of(case)
    by_dtype = {d: layer_traffic(cost, dtype=d, batch_size=batch) for d in DTYPES}
    for dtype, traffic in by_dtype.items():
        assert traffic.moved == DTYPE_BYTES[dtype] * by_dtype["int8"].moved
        assert traffic.flops == by_dtype["int8"].flops


@given(case=layer_cases, dtype=dtypes, batch=batches)
def test_a_layer_is_the_sum_of_its_kernels(case: Case, dtype: Any, batch: int) -> None:
    cost = cost_of(case)
    found = kernels(cost)
    assert len(found) == (len(cost.parts) or 1)
    assert layer_traffic(cost, dtype=dtype, batch_size=batch) == Traffic.total(
        kernel_traffic(k, dtype=dtype, batch_size=batch) for k in found
    )
    # Each kernel reads the previous one's output: what one writes, the next reads.
    for before, after in itertools.pairwise(found):
        assert before.output_shape == after.input_shape


@given(
    case=st.one_of(depthwise_separable_cases(), spatially_separable_cases()),
    dtype=dtypes,
    batch=batches,
)
def test_a_separable_layer_moves_its_intermediate_twice(case: Case, dtype: Any, batch: int) -> None:
    cost = cost_of(case)
    traffic = layer_traffic(cost, dtype=dtype, batch_size=batch)
    element = DTYPE_BYTES[dtype] * batch
    intermediates = sum(part.output_shape.numel for part in cost.parts[:-1]) * element
    assert traffic.moved >= 2 * intermediates
    # ... and exactly: the input and output once, every intermediate twice, the weights.
    assert traffic.moved == (
        (cost.input_shape.numel + cost.output_shape.numel) * element
        + 2 * intermediates
        + cost.total_params * DTYPE_BYTES[dtype]
    )


@given(case=layer_cases, dtype=dtypes, batch=batches)
def test_intensity_is_flops_per_byte(case: Case, dtype: Any, batch: int) -> None:
    traffic = layer_traffic(cost_of(case), dtype=dtype, batch_size=batch)
    assert traffic.moved > 0  # every drawn layer reads its input
    assert traffic.intensity == Fraction(traffic.flops, traffic.moved)


@given(network=networks(), device=devices(), dtype=dtypes, batch=batches)
def test_roofline_of_a_network(network: Network, device: Device, dtype: Any, batch: int) -> None:
    cost = network_cost(network)
    result = roofline(cost, device, dtype=dtype, batch_size=batch)
    assert [item.row for item in result.rows] == list(cost.rows)
    for item in result.rows:
        assert item.traffic == layer_traffic(item.row.cost, dtype=dtype, batch_size=batch)
        timing = item.timing
        assert timing.time >= max(timing.compute_time, timing.memory_time)
        assert timing.time <= timing.compute_time + timing.memory_time
        for kernel in item.kernels:
            terms = (
                Fraction(kernel.traffic.flops, device.peak[dtype]),
                Fraction(kernel.traffic.moved, device.bandwidth),
            )
            assert (kernel.timing.compute_time, kernel.timing.memory_time) == terms
            assert kernel.timing.time == max(terms)
            assert kernel.timing.bound in ("compute", "memory", "none")
    # Totals are the sums of the rows, and the stages partition the rows.
    assert result.totals.traffic == Traffic.total(item.traffic for item in result.rows)
    assert result.totals.timing.time == sum(item.timing.time for item in result.rows)
    stages = result.stages()
    assert list(stages) == list(cost.groups())
    assert Timing.total(s.timing for s in stages.values()) == result.totals.timing
    assert Traffic.total(s.traffic for s in stages.values()) == result.totals.traffic
    # Layers running one after another take at least as long as either roof for all of them.
    totals = result.totals.timing
    assert totals.time >= max(totals.compute_time, totals.memory_time)
    assert result.totals.traffic.flops == 2 * batch * cost.totals.macs


@given(network=networks(), dtype=dtypes, batch=batches, optimizer=st.sampled_from(OPTIMIZERS))
@example(  # a product of two inputs: no weight gradient, two input gradients
    network=Network(
        input_shape=Shape(1, ()),
        layers=(Operator(op_type="MatMul", shape=(1,), contraction=1),),
    ),
    dtype="float32",
    batch=1,
    optimizer="sgd",
)
def test_training_memory_laws(network: Network, dtype: Any, batch: int, optimizer: Any) -> None:
    cost = network_cost(network)
    size = DTYPE_BYTES[dtype]
    step = training(cost, optimizer=optimizer, dtype=dtype, batch_size=batch)
    totals = step.totals
    params = cost.totals.params
    # One gradient per trainable parameter; 0, 1 or 2 state values per trainable parameter.
    assert totals.gradient_bytes == params * size
    assert totals.optimizer_bytes == OPTIMIZER_STATE[optimizer] * params * size
    assert totals.weight_bytes == cost.totals.total_params * size
    # The activations kept are the bytes every kernel writes in the forward pass.
    forward = roofline(cost, get_device("h100-sxm5-80gb"), dtype=dtype, batch_size=batch)
    assert totals.activation_bytes == forward.totals.traffic.written
    assert step.input_bytes == cost.network.input_shape.numel * size * batch
    assert step.memory_bytes == step.input_bytes + totals.memory_bytes
    # Per stage and per row, summed, give the totals.
    assert type(totals).total(step.stages().values()) == totals
    # Training multiply-adds: the forward pass, then as many again for the input's gradient
    # and as many for the weights' (a product of two inputs has no weights: both its
    # gradients are inputs'), so three times the forward in all. Without such products,
    # forward, input gradient and weight gradient are equal.
    assert totals.forward_macs == batch * cost.totals.macs
    assert totals.input_gradient_macs + totals.weight_gradient_macs == 2 * totals.forward_macs
    assert totals.weight_gradient_macs <= totals.forward_macs
    if not any(isinstance(row.cost.layer, Operator) for row in cost.rows):
        assert totals.forward_macs == totals.input_gradient_macs == totals.weight_gradient_macs
    assert totals.macs == 3 * batch * cost.totals.macs


@given(network=networks(), dtype=dtypes, batch=batches)
def test_optimizers_differ_by_their_state_alone(network: Network, dtype: Any, batch: int) -> None:
    """Adam holds params × (1 gradient + 2 state) beyond the weights, momentum × (1 + 1),
    plain SGD × 1; activations and multiply-adds do not depend on the optimizer."""
    cost = network_cost(network)
    params_bytes = cost.totals.params * DTYPE_BYTES[dtype]
    steps = {
        o: training(cost, optimizer=o, dtype=dtype, batch_size=batch).totals for o in OPTIMIZERS
    }
    beyond = {o: s.gradient_bytes + s.optimizer_bytes for o, s in steps.items()}
    assert beyond == {"sgd": params_bytes, "momentum": 2 * params_bytes, "adam": 3 * params_bytes}
    same = {dataclasses.replace(s, optimizer_bytes=0) for s in steps.values()}
    assert len(same) == 1


@given(network=networks(), dtype=dtypes)
def test_activation_memory_grows_with_the_batch_weights_do_not(
    network: Network, dtype: Any
) -> None:
    cost = network_cost(network)
    one_sample = training(cost, optimizer="adam", dtype=dtype).totals
    eight = training(cost, optimizer="adam", dtype=dtype, batch_size=8).totals
    assert eight.activation_bytes == 8 * one_sample.activation_bytes
    assert eight.macs == 8 * one_sample.macs
    assert (eight.weight_bytes, eight.gradient_bytes, eight.optimizer_bytes) == (
        one_sample.weight_bytes,
        one_sample.gradient_bytes,
        one_sample.optimizer_bytes,
    )


def test_training_of_the_seed_layer_and_torchinfo_unchanged() -> None:
    """Matani & Singh's layer, batch 1, Adam: the torchinfo lines of convcost.memory stay
    what they were (input 1,048,576 B, forward/backward 4,194,304 B, params 18,432 B); the
    training figures sit beside them."""
    cost = network_cost(
        Network(
            input_shape=X16, layers=(Conv(out_channels=32, kernel_size=3, padding=1, bias=False),)
        )
    )
    memory = memory_estimate(cost)
    assert (memory.input_bytes, memory.forward_backward_bytes, memory.params_bytes) == (
        1_048_576,
        4_194_304,
        18_432,
    )
    step = training(cost, optimizer="adam")
    assert step.input_bytes == memory.input_bytes
    assert step.totals.weight_bytes == step.totals.gradient_bytes == memory.params_bytes
    assert step.totals.optimizer_bytes == 2 * 18_432
    assert step.totals.activation_bytes == 32 * P * 4  # the conv's output
    assert step.memory_bytes == 1_048_576 + 2_097_152 + 4 * 18_432
    assert (
        step.totals.forward_macs,
        step.totals.input_gradient_macs,
        step.totals.weight_gradient_macs,
    ) == (75_497_472,) * 3


def test_training_per_layer_kind() -> None:
    """Batch norm keeps its output and has γ, β gradients but no multiply-adds; a matrix
    product of two inputs has two input gradients and no weight gradient; a view keeps
    nothing; an unknown operator is flagged."""
    bn = layer_training(layer_cost(BatchNorm(), C8), optimizer="momentum", batch_size=2)
    assert (bn.activation_bytes, bn.weight_bytes, bn.gradient_bytes, bn.optimizer_bytes) == (
        2 * 128 * 4,
        32 * 4,
        16 * 4,
        16 * 4,
    )
    assert bn.macs == 0
    attention = layer_cost(
        Operator(op_type="MatMul", shape=(4, 4), contraction=8, operands=2), Shape(4, (8,))
    )
    product = layer_training(attention, optimizer="sgd")
    assert (product.forward_macs, product.input_gradient_macs, product.weight_gradient_macs) == (
        128,
        256,
        0,
    )
    assert layer_training(layer_cost(Flatten(), C8), optimizer="adam") == TrainingCost()
    unknown = layer_cost(NotCounted(op_type="LSTM", shape=(8, 4, 4), params=10), C8)
    assert not layer_training(unknown, optimizer="sgd").exact


def test_the_first_layer_keeps_its_input_gradient() -> None:
    """Not assumed away: a one-layer network still counts dy·w for its input."""
    step = training(
        network_cost(Network(input_shape=C8, layers=(Conv(out_channels=4, kernel_size=3),))),
        optimizer="sgd",
    )
    assert step.totals.input_gradient_macs == step.totals.forward_macs > 0


# --- PyTorch as an independent oracle -------------------------------------------------------


def torch_bytes(forward: Any, batch_shape: tuple[int, ...]) -> list[int]:
    """Bytes each operator of `forward` (modules in eval mode) reads and writes, counted on
    the real tensors, in order. Operators returning an input unchanged (views, dropout at
    inference) are left out; in-place ones (relu_) are kept: they read and write it all."""
    torch = pytest.importorskip("torch")
    # Reached through Any: subclassing torch's own typed classes is not what is tested.
    dispatch: Any = importlib.import_module("torch.utils._python_dispatch")
    pytree: Any = importlib.import_module("torch.utils._pytree")
    found: list[int] = []

    def tensors(tree: Any) -> list[Any]:
        return [t for t in pytree.tree_flatten(tree)[0] if isinstance(t, torch.Tensor)]

    class Counting(dispatch.TorchDispatchMode):  # type: ignore[misc]
        def __torch_dispatch__(
            self, func: Any, types: Any, args: Any = (), kwargs: Any = None
        ) -> Any:
            result = func(*args, **(kwargs or {}))
            ins, outs = tensors((args, kwargs)), tensors(result)
            storages = {t.untyped_storage().data_ptr() for t in ins}
            aliased = all(t.untyped_storage().data_ptr() in storages for t in outs)
            if not aliased or func._schema.is_mutable:
                found.append(sum(t.nbytes for t in ins) + sum(t.nbytes for t in outs))
            return result

    batch = torch.randn(*batch_shape)
    with torch.inference_mode(), Counting():
        forward(batch)
    return found


def convcost_bytes(network: Network, batch: int) -> list[int]:
    result = roofline(network_cost(network), A100, batch_size=batch)
    return [kernel.traffic.moved for item in result.rows for kernel in item.kernels]


@pytest.mark.torch
def test_bytes_equal_what_pytorch_operators_touch() -> None:
    """A network of every kernel kind, in convcost and in PyTorch: operator by operator,
    convcost's bytes equal the bytes of the tensors PyTorch reads and writes."""
    torch = pytest.importorskip("torch")
    nn = torch.nn

    stem = nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True)
    ).eval()
    body = nn.Sequential(
        nn.Conv2d(16, 16, 3, padding=1, groups=16), nn.Conv2d(16, 16, 1), nn.BatchNorm2d(16)
    ).eval()
    tail = nn.Sequential(
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Upsample(scale_factor=2),
        nn.ZeroPad2d(1),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Dropout(),
        nn.Linear(16 * 9 * 9, 10),
    ).eval()

    def forward(x: Any) -> Any:
        x = stem(x)
        return tail(x + body(x))

    network = Network(
        input_shape=parse_shape("3x16x16"),
        layers=(
            Sequential(
                name="stem",
                layers=(
                    Conv(out_channels=16, kernel_size=3, padding=1, bias=False),
                    BatchNorm(),
                    Activation(),
                ),
            ),
            Residual(
                body=(
                    DepthwiseSeparableConv(out_channels=16, kernel_size=3, padding=1, bias="both"),
                    BatchNorm(),
                )
            ),
            Activation(),
            MaxPool(kernel_size=2),
            Upsample(scale_factor=2),
            ZeroPad(padding=1),
            AvgPool(kernel_size=2),
            Flatten(),
            Dropout(),
            Linear(out_features=10),
        ),
    )
    # Residual's rows: the body, then the join; PyTorch's order is the same.
    assert convcost_bytes(network, 3) == torch_bytes(forward, (3, 3, 16, 16))


@pytest.mark.torch
@given(
    case=st.one_of(
        conv_cases(ndims=(2,), modes=(), per_side=False, max_groups=2), pool_cases(ndims=(2,))
    ),
    batch=st.integers(1, 3),
)
def test_single_kernels_equal_pytorch(case: Case, batch: int) -> None:
    """Convolutions with explicit padding and max/average pools, drawn at random."""
    torch = pytest.importorskip("torch")
    nn = torch.nn
    layer, shape = case.layer, case.shape
    pads = case.window.padding
    if not isinstance(pads, int) and not (
        isinstance(pads, tuple) and all(isinstance(p, int) for p in pads)
    ):
        return  # per-side padding needs an explicit F.pad in PyTorch: another kernel
    common = {"kernel_size": case.window.kernel, "stride": case.window.stride, "padding": pads}
    module: Any
    if isinstance(layer, Conv):
        module = nn.Conv2d(
            shape.channels,
            layer.out_channels,
            dilation=case.window.dilation,
            groups=layer.groups,
            bias=layer.bias,
            **common,
        )
    elif isinstance(layer, MaxPool):
        module = nn.MaxPool2d(dilation=case.window.dilation, ceil_mode=layer.ceil_mode, **common)
    else:
        module = nn.AvgPool2d(ceil_mode=layer.ceil_mode, **common)
    network = Network(input_shape=shape, layers=(layer,))
    assert convcost_bytes(network, batch) == torch_bytes(
        module, (batch, shape.channels, *shape.spatial)
    )


# --- bad input ---------------------------------------------------------------------------

SEED = network_cost(build_preset("pyramid", stages=1))


def loose(value: object) -> Any:
    """`value` as a caller ignoring the types could pass it."""
    return value


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: roofline(SEED, A100, dtype=loose("float64")), FieldError, "dtype must be one of"),
        (
            lambda: roofline(SEED, A100, dtype=loose("flaot16")),
            FieldError,
            "did you mean 'float16'",
        ),
        (lambda: roofline(SEED, A100, batch_size=0), FieldError, "batch_size must be"),
        (lambda: roofline(SEED, A100, batch_size=-1), FieldError, "batch_size must be"),
        (lambda: roofline(SEED, A100, batch_size=10**30), FieldError, "batch_size must be"),
        (lambda: roofline(SEED, A100, batch_size=MAX_BATCH + 1), FieldError, "1,000,000,000"),
        (lambda: roofline(SEED, A100, batch_size=loose(True)), FieldError, "batch_size must be"),
        (lambda: roofline(SEED, A100, batch_size=loose(2.0)), FieldError, "batch_size must be"),
        (lambda: roofline(loose(SEED.network), A100), FieldError, "cost must be a NetworkCost"),
        (lambda: roofline(loose(None), A100), FieldError, "cost must be a NetworkCost"),
        (lambda: roofline(SEED, loose("a100-sxm4-80gb")), FieldError, "device must be a Device"),
        (
            lambda: roofline(SEED, get_device("generic-avx2-core"), dtype="float16"),
            DeviceError,
            "'generic-avx2-core' has no float16 peak; it has float32",
        ),
        (
            lambda: roofline(SEED, get_device("apple-m2-gpu"), dtype="int8"),
            DeviceError,
            "no int8 peak",
        ),
        (lambda: training(SEED, optimizer=loose("adamw")), FieldError, "optimizer must be one of"),
        (lambda: training(SEED, optimizer="adam", batch_size=10**30), FieldError, "batch_size"),
        (lambda: training(loose(SEED.network), optimizer="adam"), FieldError, "cost must be"),
        (
            lambda: layer_traffic(loose(SEED), dtype="float32"),
            FieldError,
            "cost must be a LayerCost",
        ),
        (lambda: kernel_traffic(SEED.rows[0].cost, dtype=loose("int4")), FieldError, "dtype"),
        (
            lambda: kernel_traffic(
                layer_cost(DepthwiseSeparableConv(out_channels=4, kernel_size=3), C8)
            ),
            FieldError,
            "one kernel, not a composite",
        ),
        (lambda: kernel_timing(loose(SEED), A100), FieldError, "traffic must be a Traffic"),
        (
            lambda: compare_roofline(loose(SEED), A100),
            FieldError,
            "comparison must be a Comparison",
        ),
        (
            lambda: compare_roofline(compare(SEED.network), A100).ratio("regular", loose("macs")),
            FieldError,
            "metric must be one of",
        ),
        (
            lambda: compare_roofline(compare(SEED.network, ("regular",)), A100).roofline(
                "depthwise_separable"
            ),
            FieldError,
            "family must be one of",
        ),
    ],
    ids=[
        "dtype-float64",
        "dtype-typo",
        "batch-0",
        "batch-negative",
        "batch-10**30",
        "batch-over-max",
        "batch-bool",
        "batch-float",
        "cost-network",
        "cost-none",
        "device-name",
        "device-lacks-dtype",
        "device-lacks-int8",
        "optimizer-unknown",
        "training-batch-10**30",
        "training-network",
        "layer-traffic-network",
        "kernel-dtype",
        "kernel-composite",
        "timing-not-traffic",
        "compare-not-comparison",
        "ratio-metric",
        "comparison-family",
    ],
)
def test_bad_input_is_one_clear_error(call: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message) as info:
        call()
    assert "\n" not in str(info.value)
    assert len(str(info.value)) < 300  # 10**30 is shown, not a page of digits


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: Traffic(flops=-1, activations_read=0, weights_read=0, written=0), "flops"),
        (
            lambda: Traffic(flops=0, activations_read=loose(1.5), weights_read=0, written=0),
            "activations_read",
        ),
        (
            lambda: Traffic(flops=0, activations_read=0, weights_read=0, written=0, exact=loose(1)),
            "exact",
        ),
        (
            lambda: Timing(
                compute_time=Fraction(2),
                memory_time=Fraction(1),
                time=Fraction(1),
                memory_bound_time=Fraction(0),
            ),
            "time",
        ),
        (
            lambda: Timing(
                compute_time=Fraction(1),
                memory_time=Fraction(1),
                time=Fraction(3),
                memory_bound_time=Fraction(0),
            ),
            "time",
        ),
        (
            lambda: Timing(
                compute_time=Fraction(1),
                memory_time=Fraction(0),
                time=Fraction(1),
                memory_bound_time=Fraction(2),
            ),
            "memory_bound_time",
        ),
        (
            lambda: Timing(
                compute_time=loose(0.5),
                memory_time=Fraction(0),
                time=Fraction(1),
                memory_bound_time=Fraction(0),
            ),
            "compute_time",
        ),
        (
            lambda: Kernel(cost=SEED.rows[0].cost, traffic=loose(None), timing=loose(None)),
            "traffic",
        ),
        (lambda: dataclasses.replace(roofline(SEED, A100), batch_size=0), "batch_size"),
        (lambda: dataclasses.replace(roofline(SEED, A100), rows=()), "rows"),
        (lambda: dataclasses.replace(roofline(SEED, A100), dtype=loose("float64")), "dtype"),
        (
            lambda: dataclasses.replace(training(SEED, optimizer="sgd"), optimizer=loose("lion")),
            "optimizer",
        ),
        (
            lambda: dataclasses.replace(training(SEED, optimizer="sgd"), input_bytes=1),
            "input_bytes",
        ),
    ],
)
def test_results_are_valid_from_birth(make: Any, field: str) -> None:
    with pytest.raises(FieldError, match=f"^{field} must be"):
        make()


def test_totals_that_are_not_the_sums_are_refused() -> None:
    result = roofline(SEED, A100)
    wrong = dataclasses.replace(result.totals, traffic=Traffic.total(()))
    with pytest.raises(FieldError, match=r"^totals must be the sums over rows"):
        dataclasses.replace(result, totals=wrong)


@given(
    dtype=st.sampled_from(DTYPES) | st.text(max_size=8) | st.none() | st.integers(),
    batch=st.integers(-3, 3) | st.sampled_from([MAX_BATCH, MAX_BATCH + 1, 10**30, True, 1.0]),
    optimizer=st.sampled_from(OPTIMIZERS) | st.text(max_size=5),
    device=st.sampled_from([A100, get_device("generic-avx2-core"), "l4", None]),
)
def test_any_argument_gives_a_result_or_a_convcost_error(
    dtype: Any, batch: Any, optimizer: Any, device: Any
) -> None:
    for call in (
        lambda: roofline(SEED, device, dtype=dtype, batch_size=batch),
        lambda: training(SEED, optimizer=optimizer, dtype=dtype, batch_size=batch),
        lambda: layer_traffic(SEED.rows[0].cost, dtype=dtype, batch_size=batch),
    ):
        try:
            call()
        except ConvCostError:
            continue


def test_rewrite_keeps_weights_read_once_per_batch() -> None:
    """ResNet-18 rewritten depthwise separable reads far fewer weight bytes, at any batch."""
    regular = network_cost(build_preset("resnet18"))
    separable = network_cost(rewrite(build_preset("resnet18"), "depthwise_separable"))
    for batch in (1, 32):
        r = roofline(regular, A100, batch_size=batch).totals.traffic
        s = roofline(separable, A100, batch_size=batch).totals.traffic
        assert s.weights_read < r.weights_read
        assert s.weights_read == 4 * separable.totals.total_params
    assert isinstance(regular, NetworkCost)


# --- docs/roofline.md -----------------------------------------------------------------------

DOCS = Path(__file__).resolve().parent.parent / "docs" / "roofline.md"


def test_the_docs_example_runs() -> None:
    failures, tried = doctest.testfile(
        str(DOCS), module_relative=False, optionflags=doctest.ELLIPSIS, verbose=False
    )
    assert tried > 0
    assert failures == 0


def _rate(text: str) -> int | None:
    """``19.5 T`` → 19.5 × 10**12 exactly; ``—`` → None."""
    if text == "—":
        return None
    number, _, prefix = text.partition(" ")
    return int(Decimal(number) * {"T": 10**12, "G": 10**9}[prefix])


def test_the_docs_list_every_device_with_its_figures() -> None:
    rows = {}
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 8 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells
    assert list(rows) == list(DEVICES)
    for name, cells in rows.items():
        device = DEVICES[name]
        assert cells[1] == device.kind
        assert [_rate(cell) for cell in cells[2:6]] == [device.peak.get(d) for d in DTYPES]
        assert int(Decimal(cells[6]) * 10**9) == device.bandwidth
        ridge = device.ridge_point(device.dtypes[0])
        assert cells[7] == f"{float(ridge):.1f}"
