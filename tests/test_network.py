"""Networks: shape propagation through blocks, errors that say where, totals, rewrites.

The property tests draw networks of Conv / BatchNorm / Activation / MaxPool layers, in
named stages and in residual blocks, while tracking the expected shape by hand (the
oracle for shape propagation); totals and group totals are checked against sums of the
rows, and the family rewrite against the spec it was given.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import Any, NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcost import (
    Activation,
    Add,
    BatchNorm,
    Concat,
    Conv,
    ConvCostError,
    DepthwiseSeparableConv,
    FieldError,
    Flatten,
    LayerError,
    Linear,
    MaxPool,
    Shape,
    SpatiallySeparableConv,
    Upsample,
)
from convcost.network import (
    FAMILIES,
    Family,
    Network,
    Node,
    Parallel,
    Residual,
    Sequential,
    compare,
    network_cost,
    rewrite,
)

X = Shape(8, (8, 8))


def conv(out: int, kernel: int | tuple[int, int] = 3, **kwargs: Any) -> Conv:
    return Conv(out_channels=out, kernel_size=kernel, **kwargs)


# --- shape propagation through blocks ----------------------------------------------------


class Propagation(NamedTuple):
    layers: tuple[Node, ...]
    rows: tuple[tuple[tuple[str | int, ...], str, str, str], ...]  # path, name, kind, output
    output: str


PROPAGATIONS = [
    pytest.param(
        Propagation(
            (Residual(name="res", body=(conv(8, padding=1), BatchNorm())),),
            (((0, "body", 0), "res.conv2d", "regular", "8x8x8"),
             ((0, "body", 1), "res.batch_normalization", "norm", "8x8x8"),
             ((0, "add"), "res.add", "add", "8x8x8")),
            "8x8x8",
        ),
        id="residual-identity-shortcut",
    ),
    pytest.param(
        Propagation(
            (Residual(body=(conv(16, stride=2, padding="same"),),
                      shortcut=(conv(16, 1, stride=2),)),),
            (((0, "body", 0), "conv2d", "regular", "16x4x4"),
             ((0, "shortcut", 0), "conv2d_1", "pointwise", "16x4x4"),
             ((0, "add"), "add", "add", "16x4x4")),
            "16x4x4",
        ),
        id="residual-projection-shortcut",
    ),
    pytest.param(
        Propagation(
            (Parallel(branches=((conv(4, padding="same"),), (conv(6, 1),), ())),),
            (((0, "branches", 0, 0), "conv2d", "regular", "4x8x8"),
             ((0, "branches", 1, 0), "conv2d_1", "pointwise", "6x8x8"),
             ((0, "concat"), "concat", "concat", "18x8x8")),
            "18x8x8",
        ),
        id="parallel-concat-with-identity-branch",
    ),
    pytest.param(
        Propagation(
            (Parallel(merge="add", branches=((conv(8, 1),), (MaxPool(kernel_size=3, stride=1,
                                                                    padding=1),))),),
            (((0, "branches", 0, 0), "conv2d", "pointwise", "8x8x8"),
             ((0, "branches", 1, 0), "max_pooling2d", "pool", "8x8x8"),
             ((0, "add"), "add", "add", "8x8x8")),
            "8x8x8",
        ),
        id="parallel-add",
    ),
    pytest.param(
        Propagation(
            (Sequential(name="s", layers=(conv(4), Residual(body=(conv(4, padding=1),)))),
             Flatten(), Linear(out_features=3)),
            (((0, "layers", 0), "s.conv2d", "regular", "4x6x6"),
             ((0, "layers", 1, "body", 0), "s.conv2d_1", "regular", "4x6x6"),
             ((0, "layers", 1, "add"), "s.add", "add", "4x6x6"),
             ((1,), "flatten", "reshape", "144"), ((2,), "dense", "dense", "3")),
            "3",
        ),
        id="nested-sequential-residual-then-head",
    ),
]  # fmt: skip


@pytest.mark.parametrize("case", PROPAGATIONS)
def test_shape_propagation(case: Propagation) -> None:
    """Rows, their paths, full names and output shapes, worked by hand on an 8×8×8 input."""
    cost = network_cost(Network(input_shape=X, layers=case.layers))
    rows = tuple(
        (row.path, row.name, row.cost.kind, str(row.cost.output_shape)) for row in cost.rows
    )
    assert rows == case.rows
    assert str(cost.output_shape) == case.output
    assert len({row.name for row in cost.rows}) == len(cost.rows)


BAD_NETWORKS = [
    pytest.param(
        (conv(8, padding=1), Residual(name="res", body=(conv(16, padding=1),))),
        ("block res", "16x8x8", "8x8x8", "add"),
        id="residual-channels-differ",
    ),
    pytest.param(
        (Parallel(name="inc", branches=((conv(4),), (conv(4, 1),))),),
        ("block inc", "4x6x6", "4x8x8", "concatenate"),
        id="concat-sizes-differ",
    ),
    pytest.param(
        (Parallel(merge="add", branches=((conv(4, 1),), ())),),
        ("block layers[0]", "4x8x8", "8x8x8"),
        id="unnamed-add-shapes-differ",
    ),
    pytest.param(
        (Sequential(name="st", layers=(conv(4), Residual(body=(conv(4, 9, name="big"),)))),),
        ("layer st.big on input 4x6x6", "window of 9"),
        id="nested-layer-path-and-name",
    ),
    pytest.param(
        (conv(4, name="c1"), Flatten(), conv(4, name="c2")),
        ("layer c2", "on input 144", "flat vector"),
        id="conv-after-flatten",
    ),
    pytest.param(
        (conv(6, groups=3),),
        ("layer conv2d", "8x8x8", "groups=3"),
        id="groups-do-not-divide-input",
    ),
]


@pytest.mark.parametrize(("layers", "fragments"), BAD_NETWORKS)
def test_layer_errors_say_where(layers: tuple[Node, ...], fragments: tuple[str, ...]) -> None:
    """A misfit names the layer or block (index path and name) and the shapes involved."""
    with pytest.raises(LayerError) as caught:
        network_cost(Network(input_shape=X, layers=layers))
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message
    assert isinstance(caught.value.cause, ConvCostError)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        pytest.param(lambda: Network(input_shape=X, layers=()), "layers", id="empty-network"),
        pytest.param(lambda: Network(input_shape=(8, 8), layers=(conv(1),)),  # type: ignore[arg-type]
                     "input_shape",
                     id="input-not-a-shape"),
        pytest.param(lambda: Network(input_shape=X, layers=("conv",)),  # type: ignore[arg-type]
                     "layers",
                     id="not-a-layer"),
        pytest.param(lambda: Network(input_shape=X, layers=(conv(1),), name=""), "name",
                     id="empty-name"),
        pytest.param(lambda: Sequential(layers=()), "layers", id="empty-sequential"),
        pytest.param(lambda: Residual(body=()), "body", id="empty-residual"),
        pytest.param(lambda: Parallel(branches=((conv(1),),)), "branches", id="one-branch"),
        pytest.param(lambda: Parallel(branches=((), ()), merge="mul"),  # type: ignore[arg-type]
                     "merge",
                     id="unknown-merge"),
    ],
)  # fmt: skip
def test_invalid_blocks(build: Any, field: str) -> None:
    """Blocks are valid from birth: a bad field raises a `FieldError` naming it."""
    with pytest.raises(FieldError) as caught:
        build()
    assert caught.value.field == field


def test_lists_are_stored_as_tuples() -> None:
    network = Network(input_shape=X, layers=[conv(4), Sequential(layers=[BatchNorm()])])  # type: ignore[arg-type]
    assert isinstance(network.layers, tuple)
    assert isinstance(network.layers[1], Sequential)
    assert isinstance(network.layers[1].layers, tuple)


def test_groups_follow_top_level_blocks() -> None:
    """A row's group is its top-level block's name; top-level layers and unnamed blocks: None."""
    network = Network(
        input_shape=X,
        layers=(
            conv(4, padding=1),
            Sequential(name="a", layers=(conv(4, padding=1), Sequential(name="inner",
                                                                        layers=(BatchNorm(),)))),
            Sequential(layers=(conv(2, 1),)),
            Residual(name="b", body=(conv(2, padding=1),)),
        ),
    )  # fmt: skip
    cost = network_cost(network)
    assert [row.group for row in cost.rows] == [None, "a", "a", None, "b", "b"]
    groups = cost.groups()
    assert list(groups) == [None, "a", "b"]
    assert groups["a"].params == (3 * 3 * 4 * 4 + 4) + 2 * 4
    assert groups["a"].non_trainable_params == 2 * 4


# --- generated networks ------------------------------------------------------------------


class Drawn(NamedTuple):
    """A network and the output shape worked out while drawing it."""

    network: Network
    output: Shape


KERNELS: list[int | tuple[int, ...]] = [1, 3, 5, (3, 1), (1, 3), (3, 3)]


def _same_size(size: int, stride: int) -> int:
    return -(-size // stride)


@st.composite
def networks(draw: st.DrawFn) -> Drawn:
    """Stages of Conv ("same" padding, stride 1 or 2, kernel 1, 3, 5, 3×1 or 1×3, groups 1 or
    depthwise, biased or not), BatchNorm, Activation, 2×2 MaxPool (when the size allows)
    and shape-keeping or projecting residual blocks, on a square input of 1 to 16 pixels.
    """
    channels = draw(st.integers(1, 6))
    size = draw(st.integers(1, 16))
    input_shape = Shape(channels, (size, size))
    nodes: list[Node] = []
    for stage in range(draw(st.integers(1, 4))):
        layers: list[Node] = []
        for _ in range(draw(st.integers(1, 4))):
            kind = draw(st.sampled_from(["conv", "conv", "bn", "act", "pool", "residual"]))
            if kind == "conv":
                stride = draw(st.integers(1, 2))
                if draw(st.booleans()):
                    groups, out = channels, channels * draw(st.integers(1, 2))
                else:
                    groups, out = 1, draw(st.integers(1, 12))
                layers.append(
                    Conv(
                        out_channels=out,
                        kernel_size=draw(st.sampled_from(KERNELS)),
                        stride=stride,
                        padding="same",
                        groups=groups,
                        bias=draw(st.booleans()),
                    )
                )
                channels, size = out, _same_size(size, stride)
            elif kind == "bn":
                layers.append(BatchNorm(affine=draw(st.booleans())))
            elif kind == "act":
                layers.append(Activation(function=draw(st.sampled_from(["relu", "relu6"]))))
            elif kind == "pool" and size >= 2:
                layers.append(MaxPool(kernel_size=2))
                size //= 2
            elif kind == "residual":
                if draw(st.booleans()):
                    body: tuple[Node, ...] = (conv(channels, padding="same"), BatchNorm())
                    layers.append(Residual(body=body))
                else:
                    out = draw(st.integers(1, 12))
                    layers.append(
                        Residual(
                            body=(conv(out, stride=2, padding="same"), Activation()),
                            shortcut=(conv(out, 1, stride=2, padding="same", bias=False),),
                        )
                    )
                    channels, size = out, _same_size(size, 2)
        if not layers:
            layers.append(Activation())
        if draw(st.booleans()):
            nodes.append(Sequential(name=f"stage{stage + 1}", layers=tuple(layers)))
        else:
            nodes.extend(layers)
    return Drawn(
        Network(input_shape=input_shape, layers=tuple(nodes)), Shape(channels, (size, size))
    )


@given(networks())
def test_output_shape_oracle(drawn: Drawn) -> None:
    """Generated networks: the propagated output shape is the one tracked while drawing."""
    assert network_cost(drawn.network).output_shape == drawn.output


@given(networks())
def test_totals_are_sums_of_rows(drawn: Drawn) -> None:
    """Generated networks: totals, and the totals of each group, are sums of the rows."""
    cost = network_cost(drawn.network)
    rows = [row.cost for row in cost.rows]
    assert cost.totals.params == sum(row.params for row in rows)
    assert cost.totals.non_trainable_params == sum(row.non_trainable_params for row in rows)
    assert cost.totals.macs == sum(row.macs for row in rows)
    assert cost.totals.bias_adds == sum(row.bias_adds for row in rows)
    assert cost.totals.total_params == cost.totals.params + cost.totals.non_trainable_params
    groups = cost.groups()
    assert list(groups) == list(dict.fromkeys(row.group for row in cost.rows))
    for metric in ("params", "non_trainable_params", "macs", "bias_adds"):
        assert sum(getattr(totals, metric) for totals in groups.values()) == getattr(
            cost.totals, metric
        )


def _rewritable(layer: object) -> bool:
    """The rewrite's domain, stated independently: groups 1 and every kernel side above 1."""
    if not isinstance(layer, Conv) or layer.groups != 1:
        return False
    kernel = layer.kernel_size
    return all(k > 1 for k in (kernel if isinstance(kernel, tuple) else (kernel,)))


FAMILY_TYPES = {
    "regular": Conv,
    "depthwise_separable": DepthwiseSeparableConv,
    "spatially_separable": SpatiallySeparableConv,
}


@given(
    networks(),
    st.sampled_from(FAMILIES),
    st.sampled_from(["none", "pointwise", "both"]),
    st.booleans(),
)
def test_rewrite_keeps_geometry(drawn: Drawn, family: Family, bias: Any, keep_first: bool) -> None:
    """Generated networks, every family and bias convention, with and without `keep_first`.

    Rows stay aligned (same paths and output shapes); every regular k×k convolution
    becomes the family's layer with the same name, channels, kernel, stride, padding and
    dilation, and the bias convention when it was biased; everything else is untouched;
    with `keep_first` the first such convolution stays regular.
    """
    before = network_cost(drawn.network)
    after = network_cost(rewrite(drawn.network, family, bias=bias, keep_first=keep_first))
    assert [row.path for row in after.rows] == [row.path for row in before.rows]
    assert [row.cost.output_shape for row in after.rows] == [
        row.cost.output_shape for row in before.rows
    ]
    rewritable = [i for i, row in enumerate(before.rows) if _rewritable(row.cost.layer)]
    kept = set(rewritable[:1]) if keep_first else set()
    for index, (old_row, new_row) in enumerate(zip(before.rows, after.rows)):
        old, new = old_row.cost.layer, new_row.cost.layer
        if index not in rewritable or index in kept or family == "regular":
            assert new == old
            continue
        assert isinstance(old, Conv)
        assert type(new) is FAMILY_TYPES[family]
        assert isinstance(new, (DepthwiseSeparableConv, SpatiallySeparableConv))
        for name in ("name", "out_channels", "kernel_size", "stride", "padding", "dilation"):
            assert getattr(new, name) == getattr(old, name), name
        assert new.bias == (bias if old.bias else "none")


@given(networks(), st.booleans())
def test_compare_ratios_are_exact(drawn: Drawn, keep_first: bool) -> None:
    """Generated networks: `compare` puts regular first and its ratios are exact fractions."""
    comparison = compare(drawn.network, ("depthwise_separable",), keep_first=keep_first)
    assert comparison.families == ("regular", "depthwise_separable")
    regular, separable = (cost.totals for cost in comparison.costs)
    for metric in ("params", "macs"):
        base = getattr(regular, metric)
        expected = Fraction(getattr(separable, metric), base) if base else None
        assert comparison.ratio("depthwise_separable", metric) == expected
        assert comparison.ratio("regular", metric) == (1 if base else None)


@given(
    channels=st.integers(1, 64),
    out=st.integers(1, 64),
    kernel=st.integers(2, 7),
    size=st.integers(1, 32),
)
def test_mobilenet_ratio(channels: int, out: int, kernel: int, size: int) -> None:
    """One unbiased k×k convolution, "same" padding, stride 1, k >= 2, any C, N, H = W.

    MobileNet (Howard et al. 2017, eq. 5): depthwise separable / regular = 1/N + 1/k², for
    MACs and params alike. Spatially separable with M middle channels:
    (k·C·M + k·M·N) / (k²·C·N) = M·(C + N) / (k·C·N); with M = min(C, N) (the default)
    that is never above 1, and with C = N it is 2/k, Inception-v3's factorisation.
    """
    network = Network(
        input_shape=Shape(channels, (size, size)),
        layers=(conv(out, kernel, padding="same", bias=False),),
    )
    for rule, mid in (("min", min(channels, out)), ("out", out), ("in", channels)):
        comparison = compare(network, mid_channels=rule)  # type: ignore[arg-type]
        for metric in ("params", "macs"):
            depthwise = comparison.ratio("depthwise_separable", metric)
            assert depthwise == Fraction(1, out) + Fraction(1, kernel**2)
            spatial = comparison.ratio("spatially_separable", metric)
            assert spatial == Fraction(mid * (channels + out), kernel * channels * out)
            if rule == "min":
                assert spatial is not None
                assert spatial <= 1
                assert channels != out or spatial == Fraction(2, kernel)


# --- rewrite, worked examples ------------------------------------------------------------


def test_rewrite_skips_pointwise_grouped_and_spatial_convs() -> None:
    """1×1, grouped, depthwise and k×1 convolutions are not regular k×k ones."""
    untouched = (conv(8, 1), conv(8, padding=1, groups=2), conv(8, padding=1, groups=8),
                 conv(8, (3, 1), padding="same"), conv(8, (1, 3), padding="same"))  # fmt: skip
    network = Network(input_shape=X, layers=untouched)
    for family in FAMILIES:
        assert rewrite(network, family) == network


def test_rewrite_reaches_into_blocks_and_keeps_the_first() -> None:
    """`keep_first` keeps the first regular k×k conv in network order, inside blocks too."""
    network = Network(
        input_shape=X,
        layers=(
            conv(8, 1, name="pw"),  # not rewritable, so not "the first"
            Residual(body=(conv(8, padding=1, name="first"),), shortcut=(conv(8, padding=1,
                                                                          name="short"),)),
            Parallel(branches=((conv(4, padding=1, name="branch"),), ())),
        ),
    )  # fmt: skip
    rewritten = rewrite(network, "depthwise_separable", keep_first=True)
    layers = {row.name: row.cost.layer for row in network_cost(rewritten).rows}
    assert type(layers["pw"]) is Conv
    assert type(layers["first"]) is Conv
    assert type(layers["short"]) is DepthwiseSeparableConv
    assert type(layers["branch"]) is DepthwiseSeparableConv
    everything = rewrite(network, "depthwise_separable")
    assert type(network_cost(everything).rows[1].cost.layer) is DepthwiseSeparableConv


@pytest.mark.parametrize(
    ("conv_bias", "convention", "expected"),
    [
        pytest.param(True, "pointwise", "pointwise", id="biased-keras"),
        pytest.param(True, "both", "both", id="biased-both"),
        pytest.param(True, "none", "none", id="biased-none"),
        pytest.param(False, "both", "none", id="unbiased-stays-unbiased"),
    ],
)
def test_rewrite_bias_convention(conv_bias: bool, convention: Any, expected: str) -> None:
    network = Network(input_shape=X, layers=(conv(8, padding=1, bias=conv_bias),))
    for family in ("depthwise_separable", "spatially_separable"):
        layer = rewrite(network, family, bias=convention).layers[0]
        assert isinstance(layer, (DepthwiseSeparableConv, SpatiallySeparableConv))
        assert layer.bias == expected


def test_rewrite_keeps_dilation_and_tuple_geometry() -> None:
    original = conv(8, (3, 5), stride=(2, 1), padding=(1, 2), dilation=(1, 2), name="c")
    network = Network(input_shape=Shape(4, (9, 11)), layers=(original,))
    for family in ("depthwise_separable", "spatially_separable"):
        layer = rewrite(network, family).layers[0]
        assert isinstance(layer, (DepthwiseSeparableConv, SpatiallySeparableConv))
        assert (layer.kernel_size, layer.stride, layer.padding, layer.dilation) == (
            (3, 5), (2, 1), (1, 2), (1, 2),
        )  # fmt: skip
        assert (
            network_cost(replace(network, layers=(layer,))).output_shape
            == network_cost(network).output_shape
        )


@pytest.mark.parametrize(
    ("family", "bias", "field"),
    [
        pytest.param("pointwise", "pointwise", "family", id="unknown-family"),
        pytest.param("depthwise_separable", "yes", "bias", id="unknown-bias"),
    ],
)
def test_rewrite_rejects_bad_arguments(family: Any, bias: Any, field: str) -> None:
    with pytest.raises(FieldError) as caught:
        rewrite(Network(input_shape=X, layers=(conv(8),)), family, bias=bias)
    assert caught.value.field == field


def test_ratio_of_a_network_without_weights_is_undefined() -> None:
    """0/0 is no ratio: a network of pooling alone has None, not a ZeroDivisionError."""
    comparison = compare(Network(input_shape=X, layers=(MaxPool(kernel_size=2),)))
    assert comparison.ratio("depthwise_separable", "params") is None
    assert comparison.ratio("spatially_separable", "macs") is None


# --- graphs: named inputs, joins, outputs, shared weights --------------------------------


def test_a_graph_by_name() -> None:
    """A skip connection across levels, a join of named inputs and two outputs, worked by
    hand on 8×8×8: names resolve from the reading node's block outwards."""
    network = Network(
        input_shape=X,
        layers=(
            Sequential(name="down", layers=(conv(16, stride=2, padding="same", name="c"),)),
            Sequential(
                name="up",
                layers=(
                    Upsample(name="u", scale_factor=2),
                    conv(8, 1, name="c"),
                    Concat(name="cat", inputs=("c", "input")),  # up.c, then the input
                ),
            ),
            Add(name="sum", inputs=("up.cat", "up.cat")),
        ),
        outputs=("sum", "down"),
    )
    cost = network_cost(network)
    assert [row.name for row in cost.rows] == ["down.c", "up.u", "up.c", "up.cat", "sum"]
    assert [str(shape) for shape in cost.output_shapes] == ["16x8x8", "16x4x4"]
    assert cost.rows[3].cost.inputs == 2


@pytest.mark.parametrize(
    ("layers", "fragment"),
    [
        pytest.param((Add(inputs=("nope", "input")),), "unknown input 'nope'", id="unknown"),
        pytest.param(
            (conv(8, name="a", inputs=("b",)), conv(8, name="b")),
            "unknown input 'b'; inputs name nodes defined before",
            id="later-node-is-a-cycle",
        ),
        pytest.param((Add(),), "give it inputs", id="join-without-inputs"),
        pytest.param((conv(8, inputs=("input", "input")),), "reads one input", id="two-inputs"),
        pytest.param(
            (conv(4, 1, name="a"), Add(inputs=("a", "input"))), "4x8x8, 8x8x8", id="mismatch"
        ),
    ],
)
def test_graph_errors_name_the_node(layers: tuple[Node, ...], fragment: str) -> None:
    with pytest.raises(LayerError) as caught:
        network_cost(Network(input_shape=X, layers=layers))
    assert fragment in str(caught.value)


def test_shared_weights_are_counted_once() -> None:
    """A layer applied twice (Keras's shared layer, a PyTorch module called twice): its
    MACs twice, its parameters once; a layer that claims another's weights must match it."""
    shared = conv(8, padding=1, name="shared")
    again = replace(shared, name="again", shares="shared")
    cost = network_cost(Network(input_shape=X, layers=(shared, again)))
    first, second = cost.rows
    assert second.cost.macs == first.cost.macs > 0
    assert (second.cost.params, first.cost.params) == (0, 8 * 8 * 9 + 8)
    assert cost.totals.params == first.cost.params
    with pytest.raises(LayerError, match="shares the weights of 'shared', a Conv of 584"):
        network_cost(Network(input_shape=X, layers=(shared, conv(4, shares="shared"))))
    with pytest.raises(LayerError, match="no earlier layer"):
        network_cost(Network(input_shape=X, layers=(conv(8, padding=1, shares="later"),)))


def test_a_one_axis_convolution_stays_in_the_spatially_separable_family() -> None:
    """A model read from a file may run a 1-D convolution inside a 2-D network (after a
    reshape). It has no k×1 then 1×k form: the spatially separable family keeps it, and
    rewrites the 2-D one; the depthwise family rewrites both."""
    from convcost import Reshape

    conv2d = Conv(out_channels=4, kernel_size=3, bias=False)
    conv1d = Conv(out_channels=8, kernel_size=(3,), bias=False)
    network = Network(input_shape=Shape(3, (8, 8)),
                      layers=(conv2d, Reshape(shape=(4, 36)), conv1d))  # fmt: skip
    spatial = rewrite(network, "spatially_separable").layers
    assert isinstance(spatial[0], SpatiallySeparableConv)
    assert spatial[2] is conv1d
    depthwise = rewrite(network, "depthwise_separable").layers
    assert all(isinstance(depthwise[i], DepthwiseSeparableConv) for i in (0, 2))
    regular, spatial_cost, depthwise_cost = compare(network).costs
    assert spatial_cost.rows[-1].cost == regular.rows[-1].cost
    assert depthwise_cost.totals.macs < spatial_cost.totals.macs < regular.totals.macs
