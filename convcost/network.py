"""Networks: an input shape and an ordered list of layers and blocks.

Blocks express what real CNNs need beyond a chain: `Sequential` (a named group, such as a
stage of a pyramid or a VGG block), `Residual` (a body added to its input, optionally
through a projection shortcut) and `Parallel` (branches joined by concatenation or
addition, as in Inception). Shapes propagate through them; a layer that does not fit its
input raises a `LayerError` naming the layer and the shapes.

`network_cost` gives one `Row` per leaf layer (composite layers keep their parts) and the
totals, which are exactly the sums of the rows. `rewrite` swaps convolution families;
`compare` costs several families side by side.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Final, Literal, NamedTuple, TypeAlias, get_args

from convcost.costs import LayerCost, conv_kind, layer_cost
from convcost.errors import ConvCostError, FieldError, LayerError, ShapeMismatchError
from convcost.layers import (
    BIAS_CONVENTIONS,
    Add,
    BiasConvention,
    Concat,
    Conv,
    DepthwiseSeparableConv,
    Layer,
    LayerBase,
    SpatiallySeparableConv,
)
from convcost.shapes import Shape

__all__ = [
    "FAMILIES",
    "Comparison",
    "Family",
    "Network",
    "NetworkCost",
    "Node",
    "Parallel",
    "Residual",
    "Row",
    "Sequential",
    "Totals",
    "compare",
    "network_cost",
    "rewrite",
]

Family: TypeAlias = Literal["regular", "spatially_separable", "depthwise_separable"]
FAMILIES: Final[tuple[str, ...]] = get_args(Family)
Merge: TypeAlias = Literal["concat", "add"]


def _nodes(field_name: str, value: object) -> tuple[Node, ...]:
    """Check a sequence of layers and blocks; lists are accepted and stored as tuples."""
    if isinstance(value, list):
        value = tuple(value)
    if not isinstance(value, tuple):
        raise FieldError(field_name, value, "a sequence of layers and blocks")
    for node in value:
        if not isinstance(node, (LayerBase, Sequential, Residual, Parallel)):
            raise FieldError(field_name, node, "a layer or a block")
    return value


def _name(value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise FieldError("name", value, "a non-empty string or None")


@dataclass(frozen=True, kw_only=True, slots=True)
class Sequential:
    """Layers applied in order, under one name (a stage, a VGG block, a ResNet layer)."""

    layers: tuple[Node, ...]
    name: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", _nodes("layers", self.layers))
        if not self.layers:
            raise FieldError("layers", self.layers, "at least one layer")
        _name(self.name)


@dataclass(frozen=True, kw_only=True, slots=True)
class Residual:
    """``body(x) + shortcut(x)``; an empty shortcut is the identity."""

    body: tuple[Node, ...]
    shortcut: tuple[Node, ...] = ()
    name: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "body", _nodes("body", self.body))
        object.__setattr__(self, "shortcut", _nodes("shortcut", self.shortcut))
        if not self.body:
            raise FieldError("body", self.body, "at least one layer")
        _name(self.name)


@dataclass(frozen=True, kw_only=True, slots=True)
class Parallel:
    """Branches applied to the same input, joined by concatenation (channels) or addition.

    An empty branch is the identity.
    """

    branches: tuple[tuple[Node, ...], ...]
    merge: Merge = "concat"
    name: str | None = None

    def __post_init__(self) -> None:
        branches = self.branches
        if isinstance(branches, list):
            branches = tuple(branches)
        if not isinstance(branches, tuple) or len(branches) < 2:
            raise FieldError("branches", self.branches, "two or more branches")
        object.__setattr__(
            self,
            "branches",
            tuple(_nodes(f"branches[{i}]", branch) for i, branch in enumerate(branches)),
        )
        if self.merge not in get_args(Merge):
            raise FieldError("merge", self.merge, "'concat' or 'add'")
        _name(self.name)


Node: TypeAlias = Layer | Sequential | Residual | Parallel


@dataclass(frozen=True, kw_only=True, slots=True)
class Network:
    """An input shape (one sample, no batch axis) and the layers applied to it."""

    input_shape: Shape
    layers: tuple[Node, ...]
    name: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.input_shape, Shape):
            raise FieldError("input_shape", self.input_shape, "a Shape")
        object.__setattr__(self, "layers", _nodes("layers", self.layers))
        if not self.layers:
            raise FieldError("layers", self.layers, "at least one layer (the network is empty)")
        _name(self.name)


class Row(NamedTuple):
    """One leaf layer of a network, where it sits, and what it costs.

    `path` is the layer's position (``"3"``, ``"2.body.1"``); `group` is the name of the
    top-level block holding it (a stage), if any; `block`, the name of the innermost named
    block holding it; `depth` is its nesting depth. A named tuple, as `LayerCost` is, for
    the same reason: one is built per layer.
    """

    path: str
    name: str
    depth: int
    group: str | None
    cost: LayerCost
    block: str | None = None

    @property
    def qualified_name(self) -> str:
        """The name within its innermost block when that is not the group: ``layer1.0.conv1``."""
        if self.block is None or self.block == self.group:
            return self.name
        return f"{self.block}.{self.name}"

    @property
    def full_name(self) -> str:
        """The name within the whole network: ``block1.conv1``, ``layer1.0.conv1``."""
        name = self.qualified_name
        if self.group is None or name == self.group or name.startswith(f"{self.group}."):
            return name
        return f"{self.group}.{name}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Totals:
    """Sums over rows."""

    params: int = 0
    non_trainable_params: int = 0
    macs: int = 0
    bias_adds: int = 0

    @property
    def total_params(self) -> int:
        return self.params + self.non_trainable_params

    @classmethod
    def of(cls, costs: Iterator[LayerCost] | tuple[LayerCost, ...]) -> Totals:
        params = non_trainable = macs = bias_adds = 0
        for cost in costs:
            params += cost.params
            non_trainable += cost.non_trainable_params
            macs += cost.macs
            bias_adds += cost.bias_adds
        return cls(
            params=params, non_trainable_params=non_trainable, macs=macs, bias_adds=bias_adds
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class NetworkCost:
    """The rows of a network, its output shape and its totals (the sums of the rows)."""

    network: Network
    rows: tuple[Row, ...]
    output_shape: Shape
    totals: Totals

    def by_kind(self) -> dict[str, Totals]:
        """Totals per kind of leaf layer (separable layers split into their parts)."""
        members: dict[str, list[LayerCost]] = {}
        for row in self.rows:
            for leaf in row.cost.parts or (row.cost,):
                members.setdefault(leaf.kind, []).append(leaf)
        return {kind: Totals.of(tuple(costs)) for kind, costs in members.items()}

    def groups(self) -> dict[str | None, Totals]:
        """Totals per top-level group, in order of first appearance."""
        members: dict[str | None, list[LayerCost]] = {}
        for row in self.rows:
            members.setdefault(row.group, []).append(row.cost)
        return {group: Totals.of(tuple(costs)) for group, costs in members.items()}


def network_cost(network: Network) -> NetworkCost:
    """Propagate the input shape through `network` and cost every layer."""
    rows: list[Row] = []
    output = _walk(network.layers, network.input_shape, "", 0, None, None, rows)
    return NetworkCost(
        network=network,
        rows=tuple(rows),
        output_shape=output,
        totals=Totals.of(row.cost for row in rows),
    )


def _label(node: Node) -> str:
    return node.name or type(node).__name__


def _walk(
    nodes: tuple[Node, ...],
    shape: Shape,
    prefix: str,
    depth: int,
    group: str | None,
    block: str | None,
    rows: list[Row],
) -> Shape:
    for index, node in enumerate(nodes):
        path = f"{prefix}{index}"
        if isinstance(node, LayerBase):  # a leaf, the common case first
            try:
                cost = layer_cost(node, shape)
            except LayerError:
                raise
            except ConvCostError as error:
                where = f"layer {path} ({_label(node)}) on input {shape}"
                raise LayerError(where, error, path=path, input_shape=str(shape)) from error
            rows.append(Row(path, node.name or type(node).__name__, depth, group, cost, block))
            shape = cost.output_shape
            continue
        node_group = group if depth else node.name
        inner = node.name or block
        if isinstance(node, Sequential):
            shape = _walk(node.layers, shape, f"{path}.", depth + 1, node_group, inner, rows)
        elif isinstance(node, Residual):
            body = _walk(node.body, shape, f"{path}.body.", depth + 1, node_group, inner, rows)
            shortcut = _walk(
                node.shortcut, shape, f"{path}.shortcut.", depth + 1, node_group, inner, rows
            )
            shape = _merge(node, path, (body, shortcut), "add", depth, node_group, inner, rows)
        else:
            outputs = tuple(
                _walk(branch, shape, f"{path}.{i}.", depth + 1, node_group, inner, rows)
                for i, branch in enumerate(node.branches)
            )
            shape = _merge(node, path, outputs, node.merge, depth, node_group, inner, rows)
    return shape


def _merge(
    block: Residual | Parallel,
    path: str,
    inputs: tuple[Shape, ...],
    merge: Merge,
    depth: int,
    group: str | None,
    enclosing: str | None,
    rows: list[Row],
) -> Shape:
    first = inputs[0]
    shapes = ", ".join(map(str, inputs))
    if merge == "add":
        if any(shape != first for shape in inputs):
            raise LayerError(
                f"block {path} ({_label(block)})",
                ShapeMismatchError(f"cannot add branches of different shapes: {shapes}"),
                path=path,
            )
        joined: Layer = Add(inputs=len(inputs))
        output = first
    else:
        if any(shape.spatial != first.spatial for shape in inputs):
            raise LayerError(
                f"block {path} ({_label(block)})",
                ShapeMismatchError(f"cannot concatenate branches of different sizes: {shapes}"),
                path=path,
            )
        joined = Concat(inputs=len(inputs))
        output = Shape(sum(shape.channels for shape in inputs), first.spatial)
    cost = LayerCost(
        layer=joined,
        kind=merge,
        input_shape=first,
        output_shape=output,
    )
    rows.append(
        Row(
            path=f"{path}.{merge}",
            name=merge,
            depth=depth + 1,
            group=group,
            cost=cost,
            block=enclosing,
        )
    )
    return output


# --- family rewrites -----------------------------------------------------------------


def _rewritable(node: Node) -> bool:
    """A regular convolution: groups 1 and a kernel wider than 1 on two axes or more (k×k),
    or on its only axis (an int kernel k > 1, or a 1-D kernel)."""
    if not isinstance(node, Conv) or node.groups != 1:
        return False
    kernel = node.kernel_size if isinstance(node.kernel_size, tuple) else (node.kernel_size,) * 2
    return conv_kind(kernel, 1, 1) == "regular"


def _rewrite_conv(conv: Conv, family: Family, bias: BiasConvention) -> Layer:
    if family == "regular":
        return conv
    convention: BiasConvention = bias if conv.bias else "none"
    common = {
        "name": conv.name,
        "out_channels": conv.out_channels,
        "kernel_size": conv.kernel_size,
        "stride": conv.stride,
        "padding": conv.padding,
        "dilation": conv.dilation,
        "bias": convention,
    }
    if family == "depthwise_separable":
        return DepthwiseSeparableConv(**common)  # type: ignore[arg-type]
    return SpatiallySeparableConv(**common)  # type: ignore[arg-type]


@dataclass
class _Rewriter:
    family: Family
    bias: BiasConvention
    keep_first: bool
    seen: int = field(default=0)

    def nodes(self, nodes: tuple[Node, ...]) -> tuple[Node, ...]:
        return tuple(self.node(node) for node in nodes)

    def node(self, node: Node) -> Node:
        if isinstance(node, Sequential):
            return replace(node, layers=self.nodes(node.layers))
        if isinstance(node, Residual):
            return replace(node, body=self.nodes(node.body), shortcut=self.nodes(node.shortcut))
        if isinstance(node, Parallel):
            return replace(node, branches=tuple(self.nodes(b) for b in node.branches))
        if not _rewritable(node):
            return node
        assert isinstance(node, Conv)  # for mypy: _rewritable checked it
        self.seen += 1
        if self.keep_first and self.seen == 1:
            return node
        return _rewrite_conv(node, self.family, self.bias)


def rewrite(
    network: Network,
    family: Family,
    *,
    bias: BiasConvention = "pointwise",
    keep_first: bool = False,
) -> Network:
    """The same network with every regular k×k convolution (groups 1) in `family`.

    The replacement keeps input and output channels, kernel, stride, padding and
    dilation. A biased convolution gets the `bias` convention (``"pointwise"`` is Keras
    `SeparableConv2D`); an unbiased one stays unbiased. With `keep_first`, the first such
    convolution stays regular, as in MobileNet. Rewriting to ``"regular"`` is the identity.
    """
    if family not in FAMILIES:
        raise FieldError("family", family, "one of " + ", ".join(FAMILIES))
    if bias not in BIAS_CONVENTIONS:
        raise FieldError("bias", bias, "one of " + ", ".join(BIAS_CONVENTIONS))
    rewriter = _Rewriter(family, bias, keep_first)
    return replace(network, layers=rewriter.nodes(network.layers))


@dataclass(frozen=True, kw_only=True, slots=True)
class Comparison:
    """The same network costed in several convolution families, rows aligned."""

    families: tuple[Family, ...]
    costs: tuple[NetworkCost, ...]

    def cost(self, family: Family) -> NetworkCost:
        if family not in self.families:
            raise FieldError("family", family, "one of " + ", ".join(self.families))
        return self.costs[self.families.index(family)]

    def ratio(self, family: Family, metric: Literal["params", "macs"]) -> Fraction | None:
        """``family`` over ``regular`` for a total, as an exact fraction (None if 0/0)."""
        base = getattr(self.cost("regular").totals, metric)
        return Fraction(getattr(self.cost(family).totals, metric), base) if base else None


def compare(
    network: Network,
    families: tuple[Family, ...] = ("regular", "spatially_separable", "depthwise_separable"),
    *,
    bias: BiasConvention = "pointwise",
    keep_first: bool = False,
) -> Comparison:
    """Cost `network` rewritten into each family (``"regular"`` is always included)."""
    ordered: tuple[Family, ...] = ("regular", *(f for f in families if f != "regular"))
    costs = tuple(
        network_cost(rewrite(network, family, bias=bias, keep_first=keep_first))
        for family in ordered
    )
    return Comparison(families=ordered, costs=costs)
