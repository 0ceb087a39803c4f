"""Memory estimates in the manner of torchinfo's summary footer.

torchinfo 1.8.0 reports, for a batch: the input bytes; "forward/backward pass" bytes, twice
the output bytes of every leaf layer that has parameters (the factor 2 keeps room for
gradients; parameter-free layers such as ReLU and pooling are left out); the parameter
bytes (buffers such as batch-norm statistics are left out); and their sum. MB is 10**6
bytes. torchinfo's input size also carries a few dozen bytes of Python object overhead
per tensor, invisible at two decimals; convcost counts the tensor bytes alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from convcost.costs import LayerCost
from convcost.errors import FieldError
from convcost.network import NetworkCost
from convcost.shapes import is_int

__all__ = ["MemoryEstimate", "memory_estimate"]


@dataclass(frozen=True, kw_only=True, slots=True)
class MemoryEstimate:
    """Bytes for one forward and backward pass of a batch."""

    input_bytes: int
    forward_backward_bytes: int
    params_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.input_bytes + self.forward_backward_bytes + self.params_bytes


def _leaves(cost: LayerCost) -> Iterator[LayerCost]:
    """The layers a framework runs: a composite layer's parts, else the layer itself."""
    if cost.parts:
        for part in cost.parts:
            yield from _leaves(part)
    else:
        yield cost


def memory_estimate(
    cost: NetworkCost, *, bytes_per_element: int = 4, batch: int = 1
) -> MemoryEstimate:
    """torchinfo's memory lines for `cost` (float32 and batch 1 by default)."""
    for field, value in (("bytes_per_element", bytes_per_element), ("batch", batch)):
        if not is_int(value) or value < 1:
            raise FieldError(field, value, "a positive integer")
    leaves = [leaf for row in cost.rows for leaf in _leaves(row.cost)]
    outputs = sum(leaf.output_shape.numel for leaf in leaves if leaf.params)
    return MemoryEstimate(
        input_bytes=cost.network.input_shape.numel * bytes_per_element * batch,
        forward_backward_bytes=2 * outputs * bytes_per_element * batch,
        params_bytes=cost.totals.params * bytes_per_element,
    )
