"""Memory estimates in the manner of torchinfo's summary footer.

torchinfo 1.8.0 reports, for a batch: the input bytes; "forward/backward pass" bytes, twice
the output bytes of every leaf layer that has parameters (the factor 2 keeps room for
gradients; parameter-free layers such as ReLU and pooling are left out); the parameter
bytes (buffers such as batch-norm statistics are left out); and their sum. MB is 10**6
bytes. torchinfo's input size also carries a few dozen bytes of Python object overhead
per tensor, invisible at two decimals; convcost counts the tensor bytes alone.

>>> from convcost import Conv, Network, network_cost, parse_shape
>>> net = Network(input_shape=parse_shape("16x128x128"),
...               layers=[Conv(out_channels=32, kernel_size=3, padding=1, bias=False)])
>>> memory = memory_estimate(network_cost(net))
>>> memory.input_bytes, memory.forward_backward_bytes, memory.params_bytes
(1048576, 4194304, 18432)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal, TypeAlias, get_args

from convcost.checks import check_choice, check_int
from convcost.costs import LayerCost
from convcost.errors import FieldError
from convcost.limits import MAX_BATCH
from convcost.network import NetworkCost

__all__ = [
    "DTYPES",
    "DTYPE_BYTES",
    "DType",
    "MemoryEstimate",
    "activation_bytes",
    "memory_estimate",
]

DType: TypeAlias = Literal["float32", "float16", "bfloat16", "int8"]
DTYPES: Final[tuple[DType, ...]] = get_args(DType)
DTYPE_BYTES: Final[Mapping[str, int]] = MappingProxyType(
    {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}
)
"""Bytes per element of each data type."""


@dataclass(frozen=True, kw_only=True, slots=True)
class MemoryEstimate:
    """Bytes for one forward and backward pass of a batch of `batch_size` in `dtype`."""

    input_bytes: int
    forward_backward_bytes: int
    params_bytes: int
    dtype: DType = "float32"
    batch_size: int = 1

    @property
    def total_bytes(self) -> int:
        return self.input_bytes + self.forward_backward_bytes + self.params_bytes


def leaves(cost: LayerCost) -> Iterator[LayerCost]:
    """The layers a framework runs: a composite layer's parts, else the layer itself."""
    if cost.parts:
        for part in cost.parts:
            yield from leaves(part)
    else:
        yield cost


def _element_bytes(dtype: object, batch_size: object) -> int:
    return DTYPE_BYTES[check_choice("dtype", dtype, DTYPES)] * check_int(
        "batch_size", batch_size, maximum=MAX_BATCH
    )


def memory_estimate(
    cost: NetworkCost, *, dtype: DType = "float32", batch_size: int = 1
) -> MemoryEstimate:
    """torchinfo's memory lines for `cost` (float32 and batch 1 by default)."""
    if not isinstance(cost, NetworkCost):
        raise FieldError("cost", cost, "a NetworkCost (see network_cost)")
    per_element = _element_bytes(dtype, batch_size)
    outputs = sum(
        leaf.output_shape.numel for row in cost.rows for leaf in leaves(row.cost) if leaf.params
    )
    return MemoryEstimate(
        input_bytes=cost.network.input_shape.numel * per_element,
        forward_backward_bytes=2 * outputs * per_element,
        params_bytes=cost.totals.params * DTYPE_BYTES[dtype],
        dtype=dtype,
        batch_size=batch_size,
    )


def activation_bytes(cost: LayerCost, *, dtype: DType = "float32", batch_size: int = 1) -> int:
    """Bytes of the output a layer writes (its activations), for a batch."""
    return cost.output_shape.numel * _element_bytes(dtype, batch_size)
