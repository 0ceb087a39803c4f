"""Hypothesis strategies for whole networks: every spec layer type and every block.

`networks()` draws a `Network` whose shapes propagate without error, so anything that
reads, writes or costs a network can take it. Each layer is drawn with hyper-parameters
in small ranges and then tried on the shape it receives; one that does not fit is replaced
by an activation (the engine decides fit, so the strategy never second-guesses it).
Blocks keep the rank of their input (no flatten or global pooling inside), and their
branches are made to agree by appending an adaptive pooling and a 1×1 projection where
needed, as a real network would.

Names are drawn from all of Unicode plus strings that need quoting in TOML, JSON or YAML.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from hypothesis import strategies as st

from convcost.errors import ConvCostError
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
    Dropout,
    Flatten,
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
    ZeroPad,
)
from convcost.network import Naming, Network, Node, Parallel, Residual, Sequential, network_cost
from convcost.shapes import Shape

__all__ = ["GRAPH_JOINS", "LEAF_STRATEGIES", "TRICKY_NAMES", "names", "networks", "shapes"]

# Text that a careless writer would break: quotes, escapes, comments, YAML's implicit types.
TRICKY_NAMES = (
    '"', "'", "\\", "a\nb", "\t", "\r\n", "\x00", "\x7f", "\x85", "\u2028", "\ufeff", "é",
    "yes", "no", "null", "~", "1e3", "0x1F", "12:30", "2001-01-01", "-", "? x", "# x",
    "[x]", "{x}", "a: b", "a = b", "&a", "*a", "!tag", "%x", "@x", "`x`", " x", "x ", "...",
)  # fmt: skip

ShapeToLayer = Callable[[Shape], st.SearchStrategy[Layer]]


def names() -> st.SearchStrategy[str | None]:
    """A layer or network name: none, any non-empty line of text, or a tricky one."""
    text = st.one_of(st.text(min_size=1, max_size=8), st.sampled_from(TRICKY_NAMES))
    return st.none() | text.filter(lambda name: name.splitlines() == [name])


def shapes() -> st.SearchStrategy[Shape]:
    """An input shape: 1 to 8 channels, 0 to 3 spatial sizes of 1 to 9."""
    spatial = st.lists(st.integers(1, 9), max_size=3).map(tuple)
    return st.builds(Shape, st.integers(1, 8), spatial)


def _per_axis(
    ndim: int, values: st.SearchStrategy[int]
) -> st.SearchStrategy[int | tuple[int, ...]]:
    """An int for every axis, or one per axis (both spellings of a hyper-parameter)."""
    return st.one_of(values, st.tuples(*[values] * max(ndim, 1)))


def _paddings(ndim: int, *, modes: bool = True) -> st.SearchStrategy[object]:
    pad = st.integers(0, 2)
    options: list[st.SearchStrategy[object]] = [
        _per_axis(ndim, pad),
        st.tuples(*[st.one_of(pad, st.tuples(pad, pad))] * max(ndim, 1)),
    ]
    if modes:
        options.append(st.sampled_from(("valid", "same", "same-pytorch")))
    return st.one_of(options)


def _window(ndim: int) -> dict[str, st.SearchStrategy[object]]:
    return {
        "name": names(),
        "kernel_size": _per_axis(ndim, st.integers(1, 3)),
        "stride": _per_axis(ndim, st.integers(1, 2)),
        "padding": _paddings(ndim),
        "dilation": _per_axis(ndim, st.integers(1, 2)),
    }


@st.composite
def _windowed(draw: st.DrawFn, /, cls: type[Layer], ndim: int, **extra: Any) -> Layer:
    """A sliding-window layer; "same-pytorch" padding only with stride 1, as PyTorch has
    it (a layer refuses it with another stride when it is built)."""
    fields: dict[str, Any] = draw(st.fixed_dictionaries({**_window(ndim), **extra}))
    if fields["padding"] == "same-pytorch":
        fields["stride"] = 1
    return cls(**fields)


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


@st.composite
def _grouped(draw: st.DrawFn, shape: Shape, cls: type[Conv] | type[ConvTranspose]) -> Layer:
    """A (transposed) convolution whose groups divide both channel counts."""
    groups = draw(st.sampled_from(_divisors(shape.channels)))
    fields: dict[str, Any] = draw(st.fixed_dictionaries(_window(shape.ndim)))
    if fields["padding"] == "same-pytorch":
        fields["stride"] = 1
    if cls is ConvTranspose:
        fields["output_padding"] = draw(_per_axis(shape.ndim, st.integers(0, 1)))
        if fields["padding"] == "same-pytorch":  # PyTorch has no "same" transposed convolution
            fields["padding"] = "same"
    out_channels = groups * draw(st.integers(1, 3))
    return cls(out_channels=out_channels, groups=groups, bias=draw(st.booleans()), **fields)


def _pool(cls: type[MaxPool] | type[AvgPool]) -> ShapeToLayer:
    def draw_pool(shape: Shape) -> st.SearchStrategy[Layer]:
        fields = _window(shape.ndim)
        fields["stride"] = st.one_of(st.none(), fields["stride"])
        fields["padding"] = _paddings(shape.ndim).filter(lambda pad: pad != "same-pytorch")
        return st.builds(cls, ceil_mode=st.booleans(), functional=st.booleans(), **fields)

    return draw_pool


BIASES = st.sampled_from(("none", "pointwise", "both"))

LEAF_STRATEGIES: dict[type[Layer], ShapeToLayer] = {
    Activation: lambda _: st.builds(
        Activation,
        name=names(),
        function=st.sampled_from(sorted(ACTIVATIONS)),
        functional=st.booleans(),
    ),
    Dropout: lambda _: st.builds(
        Dropout, name=names(), p=st.floats(0, 1, exclude_max=True) | st.just(0)
    ),
    BatchNorm: lambda _: st.builds(
        BatchNorm, name=names(), affine=st.booleans(), track_running_stats=st.booleans()
    ),
    Flatten: lambda _: st.builds(Flatten, name=names()),
    Linear: lambda _: st.builds(
        Linear, name=names(), out_features=st.integers(1, 16), bias=st.booleans()
    ),
    Conv: lambda shape: _grouped(shape, Conv),
    ConvTranspose: lambda shape: _grouped(shape, ConvTranspose),
    DepthwiseSeparableConv: lambda shape: _windowed(
        DepthwiseSeparableConv,
        shape.ndim,
        out_channels=st.integers(1, 8),
        depth_multiplier=st.integers(1, 2),
        bias=BIASES,
    ),
    SpatiallySeparableConv: lambda shape: _windowed(
        SpatiallySeparableConv,
        shape.ndim,
        out_channels=st.integers(1, 8),
        mid_channels=st.sampled_from(["min", "out", "in"]) | st.integers(1, 8),
        bias=BIASES,
    ),
    MaxPool: _pool(MaxPool),
    AvgPool: _pool(AvgPool),
    AdaptiveAvgPool: lambda shape: st.builds(
        AdaptiveAvgPool,
        name=names(),
        output_size=_per_axis(shape.ndim, st.integers(1, 4)),
        functional=st.booleans(),
    ),
    AdaptiveMaxPool: lambda shape: st.builds(
        AdaptiveMaxPool,
        name=names(),
        output_size=_per_axis(shape.ndim, st.integers(1, 4)),
        functional=st.booleans(),
    ),
    GlobalAvgPool: lambda _: st.builds(GlobalAvgPool, name=names(), keepdims=st.booleans()),
    GlobalMaxPool: lambda _: st.builds(GlobalMaxPool, name=names(), keepdims=st.booleans()),
    ZeroPad: lambda shape: st.builds(
        ZeroPad, name=names(), padding=_paddings(shape.ndim, modes=False)
    ),
    Upsample: lambda shape: st.builds(
        Upsample, name=names(), scale_factor=_per_axis(shape.ndim, st.integers(1, 3))
    ),
    Reshape: lambda shape: st.builds(
        Reshape,
        name=names(),
        shape=st.sampled_from([(shape.numel,), tuple(reversed((shape.channels, *shape.spatial)))]),
    ),
    Select: lambda shape: st.builds(
        Select,
        name=names(),
        shape=st.integers(1, shape.channels).map(lambda c: (c, *shape.spatial)),
    ),
    Operator: lambda shape: st.builds(
        Operator,
        name=names(),
        op_type=st.sampled_from(["MatMul", "LayerNormalization", "Div", "Erf"]),
        shape=st.just((shape.channels, *shape.spatial)),
        weights=st.integers(0, 64),
        bias=st.integers(0, 8),
        non_trainable_params=st.integers(0, 4),
        contraction=st.integers(0, 8),
        operands=st.integers(1, 3),
    ),
    NotCounted: lambda shape: st.builds(
        NotCounted,
        name=names(),
        op_type=st.sampled_from(["LSTM", "custom.Op"]),
        shape=st.just((shape.channels, *shape.spatial)),
        params=st.integers(0, 64),
    ),
}
"""For each spec layer class, a strategy for that layer given the shape it will receive."""

_BLOCKS: tuple[type[Node], ...] = (Sequential, Residual, Parallel)


_LEAF_CACHE: dict[tuple[object, Shape], st.SearchStrategy[Layer]] = {}


def _leaf(kind: type[Node], shape: Shape) -> st.SearchStrategy[Layer]:
    """`LEAF_STRATEGIES`, built once per shape: building strategies is the slow part."""
    key = (kind, shape)
    if key not in _LEAF_CACHE:
        _LEAF_CACHE[key] = LEAF_STRATEGIES[kind](shape)  # type: ignore[index]
    return _LEAF_CACHE[key]


def _output(node: Node, shape: Shape) -> Shape | None:
    """The node's output shape, or None where it does not fit `shape`."""
    try:
        return network_cost(Network(input_shape=shape, layers=(node,))).output_shape
    except ConvCostError:
        return None


def _fit(shape: Shape, target: Shape, *, channels: bool) -> tuple[Layer, ...]:
    """Layers taking `shape` to `target`'s sizes (and channels): same rank assumed."""
    layers: list[Layer] = []
    if shape.spatial != target.spatial:
        layers.append(AdaptiveAvgPool(output_size=target.spatial))
    if channels and shape.channels != target.channels:
        layers.append(
            Conv(out_channels=target.channels, kernel_size=1)
            if shape.ndim
            else Linear(out_features=target.channels)
        )
    return tuple(layers)


@st.composite
def _node_list(
    draw: st.DrawFn,
    shape: Shape,
    depth: int,
    max_depth: int,
    *,
    min_size: int,
    max_size: int,
    keep_rank: bool,
) -> tuple[tuple[Node, ...], Shape]:
    nodes: list[Node] = []
    for _ in range(draw(st.integers(min_size, max_size))):
        node, shape = draw(_node(shape, depth, max_depth, keep_rank=keep_rank))
        nodes.append(node)
    return tuple(nodes), shape


@st.composite
def _node(
    draw: st.DrawFn, shape: Shape, depth: int, max_depth: int, *, keep_rank: bool
) -> tuple[Node, Shape]:
    kinds: list[type[Node]] = [*LEAF_STRATEGIES, *(_BLOCKS if depth < max_depth else ())]
    kind = draw(st.sampled_from(kinds))
    if kind in LEAF_STRATEGIES:
        node: Node = draw(_leaf(kind, shape))
    else:
        node = draw(_block(kind, shape, depth, max_depth, keep_rank=keep_rank))
    output = _output(node, shape)
    if output is None or (keep_rank and output.ndim != shape.ndim):
        return Activation(function="identity"), shape
    return node, output


@st.composite
def _block(
    draw: st.DrawFn, kind: type[Node], shape: Shape, depth: int, max_depth: int, *, keep_rank: bool
) -> Node:
    name = draw(names())
    if kind is Sequential:
        layers, _ = draw(_node_list(shape, depth + 1, max_depth, min_size=1, max_size=3,
                                    keep_rank=keep_rank))  # fmt: skip
        return Sequential(layers=layers, name=name)
    if kind is Residual:
        body, output = draw(_node_list(shape, depth + 1, max_depth, min_size=1, max_size=3,
                                       keep_rank=True))  # fmt: skip
        return Residual(body=body, shortcut=_fit(shape, output, channels=True), name=name)
    merge: Literal["concat", "add"] = draw(st.sampled_from(("concat", "add")))
    branches = [
        draw(_node_list(shape, depth + 1, max_depth, min_size=0, max_size=2, keep_rank=True))
        for _ in range(draw(st.integers(2, 3)))
    ]
    target = branches[0][1]
    fitted = tuple(
        nodes + _fit(output, target, channels=merge == "add") for nodes, output in branches
    )
    return Parallel(branches=fitted, merge=merge, name=name)


GRAPH_JOINS: tuple[type[Add | Multiply | Concat], ...] = (Add, Multiply, Concat)


@st.composite
def _graph_tail(draw: st.DrawFn) -> tuple[tuple[Node, ...], tuple[str, ...]]:
    """A fork and a join by name at the end of a network (and the outputs to name):
    two identities of the last output, then Add, Multiply or Concat of both."""
    fork = Activation(name="graph fork", function="identity")
    branch = Activation(name="graph branch", function="relu", inputs=("graph fork",))
    kind: type[Add | Multiply | Concat] = draw(st.sampled_from(GRAPH_JOINS))
    join = kind(name="graph join", inputs=("graph fork", "graph branch"))
    outputs = draw(st.sampled_from([(), ("graph join",), ("graph join", "graph fork")]))
    return (fork, branch, join), outputs


@st.composite
def networks(draw: st.DrawFn, *, max_layers: int = 6, max_depth: int = 2) -> Network:
    """A network whose shapes fit, with up to `max_layers` nodes per level and blocks
    nested up to `max_depth` deep; sometimes a fork and a join by name at its end, and
    flat (Keras) naming."""
    shape = draw(shapes())
    layers, _ = draw(
        _node_list(shape, 0, max_depth, min_size=1, max_size=max_layers, keep_rank=False)
    )
    outputs: tuple[str, ...] = ()
    if draw(st.booleans()):
        tail, outputs = draw(_graph_tail())
        layers += tail
    naming: Naming = draw(st.sampled_from(["scoped", "flat"]))
    return Network(
        input_shape=shape, layers=layers, name=draw(names()), outputs=outputs, naming=naming
    )
