"""Networks: an input shape and an ordered list of layers and blocks, forming a graph.

By default each node reads the output of the node before it. Blocks express the common
shapes beyond a chain: `Sequential` (a named group, such as a stage of a pyramid or a VGG
block), `Residual` (a body added to its input, optionally through a projection shortcut)
and `Parallel` (branches joined by concatenation or addition, as in Inception). Any other
graph is written with names: a node's `inputs` names the nodes it reads (skip connections
across any number of levels, as in U-Net), a join (`Add`, `Multiply`, `Concat`) reads two
or more, and `Network.outputs` names the outputs when there are several.

Every node has a unique full name: the names of its enclosing blocks and its own, joined
by dots as PyTorch names modules (``layer1.0.conv1``), or its own name alone as Keras names
layers (``naming="flat"``). An unnamed layer is named after its type as Keras does
(``conv2d``, ``conv2d_1``, ...), and a repeated name gets the next free ``_1``, ``_2``.
An input name is looked up from the reading node's block outwards (a sibling first), then
among all full names; ``"input"`` is the network's input.

`network_cost` gives one `Row` per leaf layer and join (composite layers keep their parts)
and the totals, which are exactly the sums of the rows. `rewrite` swaps convolution
families; `compare` costs several families side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, dataclass, fields, replace
from fractions import Fraction
from operator import attrgetter, is_
from types import MappingProxyType
from typing import Any, Final, Literal, TypeAlias, TypeVar, get_args

from convcost.checks import check_bool, check_choice, check_int, suggest
from convcost.costs import LayerCost, conv_kind, join_cost, layer_cost
from convcost.errors import ConvCostError, FieldError, LayerError, Path, ShapeMismatchError
from convcost.layers import (
    BIAS_CONVENTIONS,
    JOINS,
    MID_CHANNELS,
    Add,
    BiasConvention,
    Concat,
    Conv,
    DepthwiseSeparableConv,
    Layer,
    LayerBase,
    MidChannels,
    NotCounted,
    SpatiallySeparableConv,
    check_inputs,
    check_name,
)
from convcost.limits import MAX_DEPTH, MAX_LAYERS
from convcost.shapes import Shape

__all__ = [
    "FAMILIES",
    "FAMILY_ALIASES",
    "Comparison",
    "Family",
    "Naming",
    "Network",
    "NetworkCost",
    "Node",
    "Parallel",
    "Residual",
    "RewriteStats",
    "Row",
    "Sequential",
    "Totals",
    "compare",
    "format_path",
    "group_stages",
    "network_cost",
    "parse_family",
    "rewrite",
    "rewrite_with_stats",
]

Family: TypeAlias = Literal["regular", "spatially_separable", "depthwise_separable"]
"""A convolution family: the kind of layer a regular k×k convolution is rewritten as."""
FAMILIES: Final[tuple[Family, ...]] = get_args(Family)
FAMILY_ALIASES: Final[Mapping[str, Family]] = MappingProxyType(
    {
        **{family: family for family in FAMILIES},
        "spatial": "spatially_separable",
        "depthwise": "depthwise_separable",
    }
)
"""Every name a family goes by: its own and the short ``spatial`` and ``depthwise``."""

Merge: TypeAlias = Literal["concat", "add"]
Naming: TypeAlias = Literal["scoped", "flat"]
NAMINGS: Final[tuple[Naming, ...]] = get_args(Naming)
INPUT_NAME: Final = "input"


def parse_family(text: str) -> Family:
    """A family from any of its names (``spatial``, ``depthwise-separable``, ...).

    >>> parse_family("depthwise")
    'depthwise_separable'
    """
    key = text.strip().lower().replace("-", "_") if isinstance(text, str) else text
    return FAMILY_ALIASES[check_choice("family", key, tuple(FAMILY_ALIASES))]


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


def _block_fields(block: Sequential | Residual | Parallel) -> None:
    check_name(block.name)
    inputs = block.inputs
    if isinstance(inputs, list):
        inputs = tuple(inputs)
        object.__setattr__(block, "inputs", inputs)
    check_inputs(inputs)
    if len(inputs) > 1:
        raise FieldError("inputs", inputs, "at most one name: a block reads one input")


@dataclass(frozen=True, kw_only=True, slots=True)
class Sequential:
    """Layers applied in order, under one name (a stage, a VGG block, a ResNet layer)."""

    layers: tuple[Node, ...]
    name: str | None = None
    inputs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", _nodes("layers", self.layers))
        if not self.layers:
            raise FieldError("layers", self.layers, "at least one layer")
        _block_fields(self)


@dataclass(frozen=True, kw_only=True, slots=True)
class Residual:
    """``body(x) + shortcut(x)``; an empty shortcut is the identity."""

    body: tuple[Node, ...]
    shortcut: tuple[Node, ...] = ()
    name: str | None = None
    inputs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "body", _nodes("body", self.body))
        object.__setattr__(self, "shortcut", _nodes("shortcut", self.shortcut))
        if not self.body:
            raise FieldError("body", self.body, "at least one layer")
        _block_fields(self)


@dataclass(frozen=True, kw_only=True, slots=True)
class Parallel:
    """Branches applied to the same input, joined by concatenation (channels) or addition.

    An empty branch is the identity.
    """

    branches: tuple[tuple[Node, ...], ...]
    merge: Merge = "concat"
    name: str | None = None
    inputs: tuple[str, ...] = ()

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
        check_choice("merge", self.merge, get_args(Merge))
        _block_fields(self)


Node: TypeAlias = Layer | Sequential | Residual | Parallel
Block: TypeAlias = Sequential | Residual | Parallel


def group_stages(layers: Iterable[Node], groups: Iterable[str | None]) -> tuple[Node, ...]:
    """Consecutive layers of one stage as a `Sequential` named after it; a layer of no
    stage (``None``) stays where it is. How a model file's flat list of layers becomes
    the stages its tables sum over.
    """
    nodes: list[Node] = []
    run: list[Node] = []
    current: str | None = None
    for layer, group in zip(layers, groups):
        if run and group != current:
            nodes.append(Sequential(name=current, layers=tuple(run)))
            run = []
        if group is None:
            nodes.append(layer)
        else:
            run.append(layer)
        current = group
    if run:
        nodes.append(Sequential(name=current, layers=tuple(run)))
    return tuple(nodes)


def _children(node: Node) -> tuple[tuple[Node, ...], ...]:
    if isinstance(node, Sequential):
        return (node.layers,)
    if isinstance(node, Residual):
        return (node.body, node.shortcut)
    if isinstance(node, Parallel):
        return node.branches
    return ()


def _check_size(nodes: tuple[Node, ...]) -> None:
    """Refuse more than `MAX_LAYERS` nodes, or blocks nested deeper than `MAX_DEPTH`."""
    total, level, depth = 0, [nodes], 0
    while level:
        total += sum(map(len, level))
        if total > MAX_LAYERS:
            raise ConvCostError(f"a network holds at most {MAX_LAYERS:,} layers and blocks")
        blocks = [node for group in level for node in group if not isinstance(node, LayerBase)]
        if blocks and depth >= MAX_DEPTH:
            raise ConvCostError(f"blocks nest at most {MAX_DEPTH} deep")
        level = [children for block in blocks for children in _children(block)]
        depth += 1


@dataclass(frozen=True, kw_only=True, slots=True)
class Network:
    """An input shape (one sample, no batch axis) and the layers applied to it.

    `outputs` names the output nodes (by default, the last node); `naming` says how full
    names are formed: ``"scoped"`` (``layer1.0.conv1``, as PyTorch) or ``"flat"`` (each
    layer's own name, as Keras; block names then only group rows). `group_depth` is the
    nesting level of the named blocks that are the network's stages in tables (1: the
    top-level blocks; 2: the blocks inside them, as torchvision's ``features.3``).
    """

    input_shape: Shape
    layers: tuple[Node, ...]
    name: str | None = None
    outputs: tuple[str, ...] = ()
    naming: Naming = "scoped"
    group_depth: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.input_shape, Shape):
            raise FieldError("input_shape", self.input_shape, "a Shape (see parse_shape)")
        object.__setattr__(self, "layers", _nodes("layers", self.layers))
        if not self.layers:
            raise FieldError("layers", self.layers, "at least one layer (the network is empty)")
        check_name(self.name)
        if isinstance(self.outputs, list):
            object.__setattr__(self, "outputs", tuple(self.outputs))
        check_inputs(self.outputs, "outputs")
        check_choice("naming", self.naming, NAMINGS)
        check_int("group_depth", self.group_depth, maximum=MAX_DEPTH)
        _check_size(self.layers)


@dataclass(frozen=True, kw_only=True, slots=True)
class Row:
    """One leaf layer (or join) of a network, where it sits, and what it costs.

    `path` is its position (``(2, "body", 0)``); `name` its unique full name
    (``layer1.0.conv1``); `depth` its nesting depth; `group` the full name of the
    top-level block holding it (a stage), if any; `shortcut` whether it lies on the
    shortcut of a residual block.
    """

    path: Path
    name: str
    depth: int
    group: str | None
    cost: LayerCost
    shortcut: bool = False


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
    def of(cls, costs: Iterable[LayerCost]) -> Totals:
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
    """The rows of a network, its output shapes and its totals (the sums of the rows)."""

    network: Network
    rows: tuple[Row, ...]
    output_shapes: tuple[Shape, ...]
    totals: Totals

    @property
    def output_shape(self) -> Shape:
        """The (first) output's shape."""
        return self.output_shapes[0]

    @property
    def not_counted(self) -> tuple[Row, ...]:
        """The rows of operators convcost does not know (`NotCounted`, from a model file):
        their multiply-accumulates are not in the totals, which is said wherever they are."""
        return tuple(row for row in self.rows if isinstance(row.cost.layer, NotCounted))

    def by_kind(self) -> dict[str, Totals]:
        """Totals per kind of leaf layer (separable layers split into their parts)."""
        members: dict[str, list[LayerCost]] = {}
        for row in self.rows:
            for leaf in row.cost.parts or (row.cost,):
                members.setdefault(leaf.kind, []).append(leaf)
        return {kind: Totals.of(costs) for kind, costs in members.items()}

    def groups(self) -> dict[str | None, Totals]:
        """Totals per top-level group, in order of first appearance."""
        members: dict[str | None, list[LayerCost]] = {}
        for row in self.rows:
            members.setdefault(row.group, []).append(row.cost)
        return {group: Totals.of(costs) for group, costs in members.items()}


def network_cost(network: Network) -> NetworkCost:
    """Propagate the input shape through `network` and cost every layer.

    Each distinct (layer, input shape) pair is costed once: networks repeat their blocks.
    """
    if not isinstance(network, Network):
        raise FieldError("network", network, "a Network")
    return _network_cost(network, _Costs())


def _network_cost(network: Network, costs: _Costs) -> NetworkCost:
    walk = _Walk(network, costs)
    last = walk.nodes(network.layers, network.input_shape, (), (), 0, None, shortcut=False)
    if network.outputs:
        outputs = tuple(walk.lookup(name, (), ("outputs",), network.name or "network")[1]
                        for name in network.outputs)  # fmt: skip
    else:
        outputs = (last,)
    rows = tuple(walk.rows)
    return NetworkCost(
        network=network,
        rows=rows,
        output_shapes=outputs,
        totals=Totals.of(row.cost for row in rows),
    )


def _base_name(layer: Layer, ndim: int) -> str:
    """Keras's name for an unnamed layer of this type on an input of `ndim` axes."""
    return layer.keras_name.replace("{d}", f"{max(ndim, 1)}d")


def format_path(path: Path) -> str:
    """A path as a spec file writes it: ``(2, "body", 0)`` is ``layers[2].body[0]``.

    >>> format_path((2, "branches", 1, 0))
    'layers[2].branches[1][0]'
    """
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else f".{step}"
    return f"layers{text}"


class _Walk:
    """One pass over a network: names, shapes, costs and rows, in order."""

    def __init__(self, network: Network, costs: _Costs) -> None:
        self.network = network
        self.flat = network.naming == "flat"
        self.rows: list[Row] = []
        self.shapes: dict[str, Shape] = {}  # full name -> output shape, for inputs by name
        self.taken: set[str] = {INPUT_NAME}  # full names given so far
        self.numbers: dict[str, int] = {}  # the last number given to each full name
        self.leaves: dict[str, LayerCost] = {}  # full name -> cost, for layers that share
        self.costs = costs
        self.known = costs.known  # read for every row

    def prefix(self, scope: tuple[str, ...]) -> str:
        """What the full names of the nodes in `scope` start with."""
        return "" if self.flat or not scope else ".".join(scope) + "."

    def full_name(self, prefix: str, name: str) -> str:
        """The unique full name of a node called `name` in the scope of `prefix`."""
        base = prefix + name
        # Numbers below the last one given for this name are all taken: start there, so
        # n nodes of one name cost n lookups, not n**2/2.
        number = self.numbers.get(base, 0)
        full = f"{base}_{number}" if number else base
        while full in self.taken:
            number += 1
            full = f"{base}_{number}"
        self.numbers[base] = number
        self.taken.add(full)
        return full

    def lookup(
        self, reference: str, scope: tuple[str, ...], path: Path, reader: str
    ) -> tuple[str, Shape]:
        """The full name and shape a reference read from `scope` means."""
        candidates = [] if self.flat else [".".join((*scope[:n], reference))
                                           for n in range(len(scope), 0, -1)]  # fmt: skip
        for candidate in (*candidates, reference):
            if candidate in self.shapes:
                return candidate, self.shapes[candidate]
        if reference == INPUT_NAME:
            return INPUT_NAME, self.network.input_shape
        problem = ShapeMismatchError(
            f"unknown input {reference!r}; inputs name nodes defined before the node that "
            f"reads them, or 'input'{suggest(reference, self.shapes)}"
        )
        raise LayerError(problem, path=path, name=reader)

    def source(
        self, node: Node, current: Shape, scope: tuple[str, ...], path: Path, name: str
    ) -> tuple[Shape, ...]:
        """The shapes `node` reads: its named inputs, or the current shape."""
        if not node.inputs:
            return (current,)
        return tuple(self.lookup(ref, scope, path, name)[1] for ref in node.inputs)

    def nodes(
        self,
        nodes: tuple[Node, ...],
        shape: Shape,
        path: Path,
        scope: tuple[str, ...],
        depth: int,
        group: str | None,
        *,
        shortcut: bool,
        field: tuple[str | int, ...] = ("layers",),
    ) -> Shape:
        prefix = self.prefix(scope)
        for index, node in enumerate(nodes):
            where = (*path, *field, index) if path else (index,)
            if isinstance(node, LayerBase):
                shape = self.leaf(node, shape, where, scope, prefix, depth, group, shortcut)
            else:
                shape = self.block(node, shape, where, scope, depth, group, shortcut=shortcut)
        return shape

    def leaf(
        self,
        layer: Layer,
        current: Shape,
        path: Path,
        scope: tuple[str, ...],
        prefix: str,
        depth: int,
        group: str | None,
        shortcut: bool,
    ) -> Shape:
        name = self.full_name(prefix, layer.name or _base_name(layer, current.ndim))
        cost = None
        if not layer.inputs and layer.shares is None:  # the common case: costed already?
            cost = self.known.get((id(layer), id(current)))
        if cost is None:
            cost = self.read(layer, current, path, scope, name)
        self.leaves[name] = cost
        self.rows.append(_row(path, name, depth, group, cost, shortcut))
        self.shapes[name] = cost.output_shape
        return cost.output_shape

    def read(
        self, layer: Layer, current: Shape, path: Path, scope: tuple[str, ...], name: str
    ) -> LayerCost:
        """What `layer` costs on what it reads: its named inputs, or `current`."""
        inputs = self.source(layer, current, scope, path, name)
        try:
            if isinstance(layer, JOINS):
                if not layer.inputs:
                    raise ShapeMismatchError(
                        f"{type(layer).__name__} joins named inputs: give it inputs = [...]"
                    )
                cost = join_cost(layer, inputs)
            elif len(inputs) > 1:
                raise ShapeMismatchError(
                    f"{type(layer).__name__} reads one input, got {len(inputs)}; "
                    "join them first (Add, Multiply or Concat)"
                )
            else:
                shape = inputs[0]
                cost = self.known.get((id(layer), id(shape))) or self.costs.cost(layer, shape)
            if layer.shares is not None:
                cost = self.shared(layer.shares, cost, scope, path, name)
        except LayerError:
            raise
        except ConvCostError as error:
            raise LayerError(error, path=path, name=name, input_shape=str(inputs[0])) from error
        return cost

    def shared(
        self, owner: str, cost: LayerCost, scope: tuple[str, ...], path: Path, name: str
    ) -> LayerCost:
        """`cost` without the parameters it shares with the earlier layer `owner`."""
        candidates = [] if self.flat else [".".join((*scope[:n], owner))
                                           for n in range(len(scope), 0, -1)]  # fmt: skip
        first = next((self.leaves[c] for c in (*candidates, owner) if c in self.leaves), None)
        if first is None:
            raise ShapeMismatchError(
                f"shares the weights of {owner!r}, which is no earlier layer"
                f"{suggest(owner, self.leaves)}"
            )
        if (type(first.layer), first.total_params) != (type(cost.layer), cost.total_params):
            raise ShapeMismatchError(
                f"shares the weights of {owner!r}, a {type(first.layer).__name__} of "
                f"{first.total_params:,} parameters, but is a {type(cost.layer).__name__} of "
                f"{cost.total_params:,}"
            )
        return _without_parameters(cost)

    def block(
        self,
        block: Block,
        current: Shape,
        path: Path,
        scope: tuple[str, ...],
        depth: int,
        group: str | None,
        *,
        shortcut: bool,
    ) -> Shape:
        full = own = None
        if block.name and self.flat:  # a label only: layers own the flat namespace
            full = own = block.name
        elif block.name:
            prefix = self.prefix(scope)
            full = self.full_name(prefix, block.name)
            own = full[len(prefix) :]
        inner = (*scope, own) if own is not None else scope
        if own is not None and len(inner) == self.network.group_depth:
            group = full
        (shape,) = self.source(block, current, scope, path, full or format_path(path))
        walk = self.nodes
        if isinstance(block, Sequential):
            shape = walk(block.layers, shape, path, inner, depth + 1, group, shortcut=shortcut)
        else:
            branches: tuple[tuple[Node, ...], ...]
            if isinstance(block, Residual):
                branches = (block.body, block.shortcut)
                fields: tuple[tuple[str | int, ...], ...] = (("body",), ("shortcut",))
                merge: Merge = "add"
            else:
                branches = block.branches
                fields = tuple(("branches", i) for i in range(len(branches)))
                merge = block.merge
            outputs = tuple(
                walk(branch, shape, path, inner, depth + 1, group,
                     shortcut=shortcut or field == ("shortcut",), field=field)
                for branch, field in zip(branches, fields)
            )  # fmt: skip
            shape = self.merge(block, merge, outputs, path, inner, depth, group, shortcut)
        if full is not None and full not in self.shapes:
            self.shapes[full] = shape
        return shape

    def merge(
        self,
        block: Residual | Parallel,
        merge: Merge,
        inputs: tuple[Shape, ...],
        path: Path,
        scope: tuple[str, ...],
        depth: int,
        group: str | None,
        shortcut: bool,
    ) -> Shape:
        joined: Layer = Add() if merge == "add" else Concat()
        name = self.full_name(self.prefix(scope), merge)
        try:
            cost = join_cost(joined, inputs)  # type: ignore[arg-type]
        except ConvCostError as error:
            owner = ".".join(scope) or block.name or format_path(path)
            raise LayerError(error, path=path, name=owner, what="block") from error
        self.rows.append(Row(path=(*path, merge), name=name, depth=depth + 1, group=group,
                             cost=cost, shortcut=shortcut))  # fmt: skip
        self.shapes[name] = cost.output_shape
        return cost.output_shape


class _Costs:
    """Layer costs, each costed once: by layer object and input shape object, then by
    what a cost depends on (the layer without its name, inputs and shares, and the shape's
    value). Networks repeat their layers, as objects (a list aliased in a spec, each layer
    reading the output of one cost; the families of a comparison share every layer the
    rewrite leaves) or as values that differ only by name (``conv1``, ``conv2``). What
    it has met is kept alive, so that no id is reused while it lasts."""

    def __init__(self) -> None:
        self.known: dict[tuple[int, int], LayerCost] = {}
        self.specs: dict[tuple[object, Shape], LayerCost] = {}
        self.alive: list[tuple[Layer, Shape]] = []

    def cost(self, layer: Layer, shape: Shape) -> LayerCost:
        """`layer` on `shape`; the cost is `layer`'s own (its `layer` is this one)."""
        spec = (_spec(layer), shape)
        known = self.specs.get(spec)
        if known is None:
            cost = self.specs[spec] = layer_cost(layer, shape)
        else:
            cost = known if known.layer is layer else _relabel(known, layer)
        self.known[id(layer), id(shape)] = cost
        self.alive.append((layer, shape))
        return cost


_LABELS: Final = frozenset({"name", "inputs", "shares"})  # fields no cost depends on
_SPEC_FIELDS: dict[type, Callable[[Layer], object]] = {}


def _spec(layer: Layer) -> tuple[type, object]:
    """A layer's type and every field but its name, inputs and shares: all its cost
    depends on."""
    kind = type(layer)
    values = _SPEC_FIELDS.get(kind)
    if values is None:
        names = [item.name for item in fields(layer) if item.name not in _LABELS]
        values = _SPEC_FIELDS[kind] = attrgetter(*names) if names else _nothing
    return kind, values(layer)


def _nothing(layer: Layer) -> object:
    return ()


def _row_maker() -> Callable[[Path, str, int, str | None, LayerCost, bool], Row]:
    """A fast `Row(path=..., name=..., ...)` for the walk's hot path: a row has no checks,
    and filling its slots directly takes a third of the time of the generated
    `__init__` (2.3 µs a row, as much as the rest of the walk)."""
    names = ("path", "name", "depth", "group", "cost", "shortcut")
    if names != tuple(item.name for item in fields(Row)):
        raise AssertionError("Row's fields changed: fill every one of them here")
    path_, name_, depth_, group_, cost_, shortcut_ = (getattr(Row, name).__set__ for name in names)
    new = object.__new__

    def row(
        path: Path, name: str, depth: int, group: str | None, cost: LayerCost, shortcut: bool
    ) -> Row:
        made = new(Row)
        path_(made, path)
        name_(made, name)
        depth_(made, depth)
        group_(made, group)
        cost_(made, cost)
        shortcut_(made, shortcut)
        return made

    return row


_row: Final = _row_maker()


def _relabel(cost: LayerCost, layer: Layer) -> LayerCost:
    """`cost` as the cost of `layer`, which differs from `cost.layer` only by name, inputs
    or shares: a copy (`dataclasses.replace` would also check and take longer)."""
    return _rebuilt(cost, layer=layer)


def _without_parameters(cost: LayerCost) -> LayerCost:
    """A layer's cost with its parameters counted elsewhere (its weights are shared)."""
    parts = tuple(_without_parameters(part) for part in cost.parts)
    return replace(cost, params=0, bias=0, non_trainable_params=0, parts=parts)


# --- family rewrites -----------------------------------------------------------------


def _rewritable(node: Node) -> bool:
    """A regular convolution: groups 1 and a kernel wider than 1 on two axes or more (k×k),
    or on its only axis (an int kernel k > 1, or a 1-D kernel)."""
    if not isinstance(node, Conv) or node.groups != 1:
        return False
    kernel = node.kernel_size if isinstance(node.kernel_size, tuple) else (node.kernel_size,) * 2
    return conv_kind(kernel, 1, 1) == "regular"


def _one_axis(conv: Conv) -> bool:
    """A convolution written for one spatial axis: a kernel of one size in a tuple."""
    return isinstance(conv.kernel_size, tuple) and len(conv.kernel_size) == 1


@dataclass(frozen=True, kw_only=True, slots=True)
class RewriteStats:
    """What a rewrite into one family did: regular convolutions `rewritten` (of which
    `biased` had a bias, so got the bias convention), and `kept` regular (the first)."""

    rewritten: int = 0
    biased: int = 0
    kept: int = 0


_Counts: TypeAlias = tuple[int, int, int]  # convolutions rewritten, biased, kept


class _Rewriter:
    """Rewrites nodes into one family, counting what it does.

    What it returns shares every node it leaves unchanged (rewriting into ``"regular"``
    changes nothing, so it only counts). A tuple of nodes met again (a spec's aliased list
    of layers, in every block that names it) is rewritten once: the result and the counts
    are kept by the tuple's identity and whether the first convolution is still ahead.
    """

    def __init__(
        self,
        family: Family,
        bias: BiasConvention,
        keep_first: bool,
        mid_channels: int | MidChannels,
    ) -> None:
        self.family = family
        self.bias = bias
        self.keep_first = keep_first
        self.mid_channels = mid_channels
        self.rewritten = self.biased = self.kept = 0
        # (id of a tuple, first still ahead) -> (the tuple, kept alive; its rewrite; counts)
        self.done: dict[tuple[int, bool], tuple[tuple[Node, ...], tuple[Node, ...], _Counts]]
        self.done = {}
        self.layers: dict[Conv, Layer] = {}  # each convolution's replacement

    @property
    def stats(self) -> RewriteStats:
        return RewriteStats(rewritten=self.rewritten, biased=self.biased, kept=self.kept)

    def nodes(self, nodes: tuple[Node, ...]) -> tuple[Node, ...]:
        key = (id(nodes), self.keep_first and not (self.rewritten or self.kept))
        done = self.done.get(key)
        if done is not None:
            rewritten, biased, kept = done[2]
            self.rewritten += rewritten
            self.biased += biased
            self.kept += kept
            return done[1]
        before = (self.rewritten, self.biased, self.kept)
        result = tuple(map(self.node, nodes))
        if all(map(is_, result, nodes)):
            result = nodes
        counts = (self.rewritten - before[0], self.biased - before[1], self.kept - before[2])
        self.done[key] = (nodes, result, counts)
        return result

    def node(self, node: Node) -> Node:
        if isinstance(node, Sequential):
            layers = self.nodes(node.layers)
            return node if layers is node.layers else _rebuilt(node, layers=layers)
        if isinstance(node, Residual):
            body, shortcut = self.nodes(node.body), self.nodes(node.shortcut)
            if body is node.body and shortcut is node.shortcut:
                return node
            return _rebuilt(node, body=body, shortcut=shortcut)
        if isinstance(node, Parallel):
            branches = tuple(map(self.nodes, node.branches))
            if all(map(is_, branches, node.branches)):
                return node
            return _rebuilt(node, branches=branches)
        if not isinstance(node, Conv) or not _rewritable(node):
            return node
        if self.family == "spatially_separable" and _one_axis(node):
            return node  # a 1-D convolution (of a model read from a file) has no k×1, 1×k
        if self.family == "regular" or (self.keep_first and not (self.rewritten or self.kept)):
            self.kept += 1
            return node
        self.rewritten += 1
        self.biased += node.bias
        replacement = self.layers.get(node)
        if replacement is None:
            replacement = self.layers[node] = self.replacement(node)
        return replacement

    def replacement(self, conv: Conv) -> Layer:
        """`conv` in the family: the same channels, window and name."""
        common = {
            "name": conv.name,
            "inputs": conv.inputs,
            "shares": conv.shares,
            "out_channels": conv.out_channels,
            "kernel_size": conv.kernel_size,
            "stride": conv.stride,
            "padding": conv.padding,
            "dilation": conv.dilation,
            "bias": self.bias if conv.bias else "none",
        }
        if self.family == "depthwise_separable":
            return _built(DepthwiseSeparableConv, common)
        return _built(SpatiallySeparableConv, {**common, "mid_channels": self.mid_channels})


_T = TypeVar("_T")
_Slot: TypeAlias = tuple[str, Any, Callable[[Any, Any], None]]
_SLOTS: dict[type, tuple[_Slot, ...]] = {}


def _slots(kind: type) -> tuple[_Slot, ...]:
    """Each field of a slotted dataclass: its name, its default, and its slot's setter
    (which fills it in a frozen class too)."""
    found = _SLOTS.get(kind)
    if found is None:
        found = tuple((item.name, item.default, getattr(kind, item.name).__set__)
                      for item in fields(kind))  # fmt: skip
        _SLOTS[kind] = found
    return found


def _built(kind: type[_T], values: Mapping[str, object]) -> _T:
    """``kind(**values)`` (defaults for the fields not given) without `__post_init__`'s
    checks: for the rewrite's replacement of a convolution, whose values passed them all
    already (the convolution's own, and the settings `_rewriter` checked)."""
    made: _T = object.__new__(kind)
    for name, default, fill in _slots(kind):
        value = values.get(name, default)
        if value is MISSING:
            raise TypeError(f"{kind.__name__} needs {name}")
        fill(made, value)
    return made


def _rebuilt(node: _T, **changes: object) -> _T:
    """``dataclasses.replace(node, **changes)`` without `__post_init__`'s checks: for a
    rewrite, whose changes are nodes for valid nodes, with the same nesting and as many
    layers (the checks on the whole network cost as much as the rewrite); and for a cost
    given another layer's labels."""
    made: _T = object.__new__(type(node))
    for name, _, fill in _slots(type(node)):
        fill(made, changes[name] if name in changes else getattr(node, name))
    return made


def _rewriter(
    family: Family,
    bias: BiasConvention,
    keep_first: bool,
    mid_channels: int | MidChannels,
) -> _Rewriter:
    check_choice("family", family, FAMILIES)
    check_choice("bias", bias, BIAS_CONVENTIONS)
    check_bool("keep_first", keep_first)
    if not isinstance(mid_channels, int) or isinstance(mid_channels, bool):
        check_choice("mid_channels", mid_channels, MID_CHANNELS)
    else:
        SpatiallySeparableConv(out_channels=1, kernel_size=1, mid_channels=mid_channels)
    return _Rewriter(family, bias, keep_first, mid_channels)


def rewrite(
    network: Network,
    family: Family,
    *,
    bias: BiasConvention = "pointwise",
    keep_first: bool = False,
    mid_channels: int | MidChannels = "min",
) -> Network:
    """The same network with every regular k×k convolution (groups 1) in `family`.

    The replacement keeps input and output channels, kernel, stride, padding and
    dilation. A biased convolution gets the `bias` convention (``"pointwise"`` is Keras
    `SeparableConv2D`); an unbiased one stays unbiased. With `keep_first`, the first such
    convolution stays regular, as in MobileNet. `mid_channels` is the width between the
    parts of a spatially separable convolution (see `MidChannels`). Rewriting to
    ``"regular"`` is the identity.
    """
    return rewrite_with_stats(
        network, family, bias=bias, keep_first=keep_first, mid_channels=mid_channels
    )[0]


def rewrite_with_stats(
    network: Network,
    family: Family,
    *,
    bias: BiasConvention = "pointwise",
    keep_first: bool = False,
    mid_channels: int | MidChannels = "min",
) -> tuple[Network, RewriteStats]:
    """`rewrite`, and what it did: the family's `Comparison.rewrites` entry (rewriting
    into ``"regular"`` keeps every regular convolution, and counts them)."""
    if not isinstance(network, Network):
        raise FieldError("network", network, "a Network")
    rewriter = _rewriter(family, bias, keep_first, mid_channels)
    layers = rewriter.nodes(network.layers)
    rewritten = network if layers is network.layers else _rebuilt(network, layers=layers)
    return rewritten, rewriter.stats


Metric: TypeAlias = Literal["params", "macs"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Comparison:
    """The same network costed in several convolution families, rows aligned.

    `rewrites` says, per family, what its rewrite did.
    """

    families: tuple[Family, ...]
    costs: tuple[NetworkCost, ...]
    rewrites: tuple[RewriteStats, ...]
    bias: BiasConvention = "pointwise"
    keep_first: bool = False
    mid_channels: int | MidChannels = "min"

    def cost(self, family: Family) -> NetworkCost:
        """The network costed in `family`."""
        return self.costs[self.families.index(check_choice("family", family, self.families))]

    def ratio(self, family: Family, metric: Metric) -> Fraction | None:
        """``family`` over ``regular`` for a total, as an exact fraction (None if 0/0)."""
        check_choice("metric", metric, get_args(Metric))
        base = getattr(self.cost("regular").totals, metric)
        return Fraction(getattr(self.cost(family).totals, metric), base) if base else None


def compare(
    network: Network,
    families: tuple[Family, ...] = FAMILIES,
    *,
    bias: BiasConvention = "pointwise",
    keep_first: bool = False,
    mid_channels: int | MidChannels = "min",
) -> Comparison:
    """Cost `network` rewritten into each family (``"regular"`` is always included)."""
    if not isinstance(network, Network):
        raise FieldError("network", network, "a Network")
    if isinstance(families, str) or not isinstance(families, (tuple, list)):
        raise FieldError("families", families, "a tuple of families")
    ordered: tuple[Family, ...] = (
        "regular",
        *dict.fromkeys(check_choice("family", f, FAMILIES) for f in families if f != "regular"),
    )
    costs, stats = [], []
    layer_costs = _Costs()  # shared: the families share every layer they do not rewrite
    for family in ordered:
        rewritten, done = rewrite_with_stats(
            network, family, bias=bias, keep_first=keep_first, mid_channels=mid_channels
        )
        costs.append(_network_cost(rewritten, layer_costs))
        stats.append(done)
    return Comparison(
        families=ordered,
        costs=tuple(costs),
        rewrites=tuple(stats),
        bias=bias,
        keep_first=keep_first,
        mid_channels=mid_channels,
    )
