"""Each shortcut the engine, the counts, the reports and the renderer take, against the
plain computation it stands for, on random networks and tables.

The walk costs a (layer, input shape) pair once, by identity and by value without names;
`compare` shares those costs between its families and rewrites a list of layers met
again (a spec's alias) once; `count` counts a cost object once; `summary` and
`compare_families` build their JSON document when it is first read; the renderer formats
each distinct value of a column once and aligns with one `str.format`; `format_count`
rounds in integers. Every property holds on any network the strategies draw (named
inputs, named outputs and flat naming included) and any table of any cells.
"""

from __future__ import annotations

import copy
import json
import textwrap
from collections.abc import Sequence
from dataclasses import fields
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from network_strategies import networks

from convcost.conventions import PAPER, PROFILES, _row_counts, count, count_row, get_profile
from convcost.costs import layer_cost
from convcost.errors import ConvCostError, printable
from convcost.layers import JOINS, BatchNorm, Conv, DepthwiseSeparableConv
from convcost.network import (
    FAMILIES,
    Family,
    Network,
    NetworkCost,
    Sequential,
    compare,
    network_cost,
    rewrite,
    rewrite_with_stats,
)
from convcost.render import _cells, format_cell, render_plain, render_text
from convcost.report import (
    Cell,
    Column,
    Document,
    Name,
    Report,
    Rewriting,
    Table,
    compare_families,
    summary,
)
from convcost.shapes import Shape
from convcost.units import format_count

X = Shape(8, (8, 8))


def families_for(network: Network) -> tuple[Family, ...]:
    """Every family, but spatial separation on fewer than two spatial axes."""
    if network.input_shape.ndim < 2:
        return ("regular", "depthwise_separable")
    return FAMILIES


def node_at(network: Network, path: Sequence[str | int]) -> Any:
    """The node a row's path names: ``(2, "body", 0)`` is ``layers[2].body[0]``,
    ``(1, "branches", 0, 2)`` is ``layers[1].branches[0][2]``."""
    node: Any = network.layers[int(path[0])]
    steps = list(path[1:])
    while steps:
        field = steps.pop(0)
        group = node.branches[steps.pop(0)] if field == "branches" else getattr(node, str(field))
        node = group[steps.pop(0)]
    return node


def error_of(work: Any) -> str | None:
    try:
        work()
    except ConvCostError as error:
        return str(error)
    return None


# --- the walk's costs ------------------------------------------------------------------------


def assert_rows_cost_their_own_layer(network: Network, cost: NetworkCost) -> None:
    """Every leaf row's cost names the row's own layer object and is what that layer costs
    alone on the row's input (joins and layers that share weights aside)."""
    for row in cost.rows:
        if not isinstance(row.path[-1], int):
            continue  # a block's join
        layer = node_at(network, row.path)
        assert row.cost.layer is layer, row.name
        if isinstance(layer, JOINS) or getattr(layer, "shares", None) is not None:
            continue
        assert row.cost == layer_cost(layer, row.cost.input_shape), row.name


@given(network=networks())
def test_every_row_costs_what_its_layer_costs_alone(network: Network) -> None:
    assert_rows_cost_their_own_layer(network, network_cost(network))


def conv(out: int, **kwargs: Any) -> Conv:
    return Conv(out_channels=out, kernel_size=3, padding=1, **kwargs)


SHARED_BODY = (conv(8, name="a"), BatchNorm(name="bn"), conv(8, name="b"), BatchNorm())
NAMED_ALIKE = [
    pytest.param(
        Network(input_shape=X, layers=tuple(conv(8, name=f"conv{i}") for i in range(5))),
        id="equal-but-for-names",
    ),
    pytest.param(
        Network(
            input_shape=X,
            layers=(conv(8, name="a"), conv(8, name="b", shares="a"), conv(8, shares="a"), conv(8)),
        ),
        id="shares",
    ),
    pytest.param(
        Network(
            input_shape=X,
            layers=(
                Sequential(name="s1", layers=SHARED_BODY),
                Sequential(name="s2", layers=SHARED_BODY),
                Sequential(name="s3", layers=SHARED_BODY[:2]),
            ),
        ),
        id="one-tuple-in-three-blocks",
    ),
    pytest.param(
        Network(
            input_shape=Shape(4, (9, 9)),
            layers=(
                conv(4, name="same"),
                Conv(out_channels=4, kernel_size=3, name="same_1"),
                conv(4, name="same"),
            ),
        ),
        id="one-layer-on-two-shapes",
    ),
]


@pytest.mark.parametrize("network", NAMED_ALIKE)
def test_layers_alike_share_a_costing_but_keep_their_own_labels(network: Network) -> None:
    """Layers that differ only by name, inputs or shares are costed once per shape; each
    row still names its own layer (a layer that shares weights has no parameters)."""
    cost = network_cost(network)
    assert_rows_cost_their_own_layer(network, cost)
    for row in cost.rows:
        layer = node_at(network, row.path)
        if isinstance(layer, Conv) and layer.shares is not None:
            assert (row.cost.params, row.cost.layer.shares) == (0, layer.shares)
            assert row.cost.macs == layer_cost(layer, row.cost.input_shape).macs


@pytest.mark.parametrize("keep_first", [False, True])
@given(network=networks())
def test_compare_equals_each_family_costed_alone(network: Network, keep_first: bool) -> None:
    """`compare` shares layer costs between its families: each family's cost equals
    costing its rewrite afresh, and its counts equal what the rewrite says it did."""
    families = families_for(network)
    refused = error_of(lambda: compare(network, families, keep_first=keep_first))
    if refused is not None:
        alone = [
            error_of(lambda f=f: network_cost(rewrite(network, f, keep_first=keep_first)))
            for f in families
        ]
        assert refused in alone
        return
    comparison = compare(network, families, keep_first=keep_first)
    for family, cost, stats in zip(comparison.families, comparison.costs, comparison.rewrites):
        rewritten, done = rewrite_with_stats(network, family, keep_first=keep_first)
        assert cost == network_cost(rewritten)
        assert stats == done
        assert rewritten == rewrite(network, family, keep_first=keep_first)
        assert_rows_cost_their_own_layer(cost.network, cost)


@pytest.mark.parametrize("keep_first", [False, True])
@given(network=networks(max_layers=4), blocks=st.integers(2, 4))
def test_a_list_met_again_is_rewritten_as_its_copies_are(
    network: Network, blocks: int, keep_first: bool
) -> None:
    """A tuple of layers in several blocks (a spec's alias) is rewritten once and reused;
    the result equals rewriting distinct copies of it, family by family, with the first
    convolution kept regular only in the first block that has one."""
    body = network.layers
    aliased = Network(
        input_shape=network.input_shape,
        layers=tuple(Sequential(name=f"b{i}", layers=body) for i in range(blocks)),
    )
    copies = Network(
        input_shape=network.input_shape,
        layers=tuple(Sequential(name=f"b{i}", layers=copy.deepcopy(body)) for i in range(blocks)),
    )
    for family in FAMILIES:
        assert rewrite_with_stats(aliased, family, keep_first=keep_first) == rewrite_with_stats(
            copies, family, keep_first=keep_first
        )
    families = families_for(network)
    first = error_of(lambda: compare(aliased, families, keep_first=keep_first))
    assert first == error_of(lambda: compare(copies, families, keep_first=keep_first))
    if first is None:
        assert compare(aliased, families, keep_first=keep_first) == compare(
            copies, families, keep_first=keep_first
        )


def checked_again(value: Any) -> Any:
    """`value` built anew through its class's checks (which raise if it is not valid)."""
    return type(value)(**{item.name: getattr(value, item.name) for item in fields(value)})


def every_node(nodes: tuple[Any, ...]) -> list[Any]:
    found = []
    for node in nodes:
        found.append(node)
        for field in ("layers", "body", "shortcut"):
            found += every_node(getattr(node, field, ()))
        for branch in getattr(node, "branches", ()):
            found += every_node(branch)
    return found


@pytest.mark.parametrize("keep_first", [False, True])
@given(network=networks())
def test_what_is_built_without_checks_passes_them(network: Network, keep_first: bool) -> None:
    """The rewrite builds its blocks and replacement layers, and separable layers their
    parts, without checking values already checked: built through the checks, each is
    accepted and equal."""
    for family in FAMILIES:
        rewritten = rewrite(network, family, keep_first=keep_first)
        assert checked_again(rewritten) == rewritten
        for node in every_node(rewritten.layers):
            assert checked_again(node) == node
        if error_of(lambda r=rewritten: network_cost(r)) is None:
            for row in network_cost(rewritten).rows:
                for part in row.cost.parts:
                    assert checked_again(part.layer) == part.layer


def test_a_depthwise_part_too_wide_is_refused_as_before() -> None:
    layer = DepthwiseSeparableConv(out_channels=4, kernel_size=3, depth_multiplier=10**17)
    with pytest.raises(ConvCostError, match=r"out_channels must be .*at most 10\*\*18"):
        layer_cost(layer, Shape(100, (8, 8)))


# --- counts ------------------------------------------------------------------------------------


@given(network=networks(), profile=st.sampled_from(sorted(PROFILES)))
def test_count_counts_every_row_as_if_alone(network: Network, profile: str) -> None:
    """`count` counts each cost object once however many rows share it: its rows are each
    row counted alone, its breakdown the sums of theirs."""
    cost = network_cost(network)
    counted = count(cost, profile)
    assert counted.rows == tuple(count_row(row.cost, profile) for row in cost.rows)
    breakdown: dict[str, int] = dict.fromkeys(counted.breakdown, 0)
    for row in cost.rows:
        for operation, value in _row_counts(row.cost, get_profile(profile)).items():
            breakdown[operation] += value
    assert dict(counted.breakdown) == breakdown
    if profile == "paper":
        assert not counted.differences


def test_count_row_checks_its_arguments() -> None:
    cost = layer_cost(conv(4), X)
    assert count_row(cost) == count_row(cost, PAPER) == cost.macs
    with pytest.raises(ConvCostError, match="cost"):
        count_row("conv", PAPER)  # type: ignore[arg-type]
    with pytest.raises(ConvCostError, match="unknown counting profile"):
        count_row(cost, "papr")


# --- documents -----------------------------------------------------------------------------


@given(network=networks(max_layers=4), keep_first=st.booleans())
def test_a_document_built_when_read_equals_one_built_at_once(
    network: Network, keep_first: bool
) -> None:
    """A report's document is built when first read: after its tables are drawn in every
    format, it is what it is when read at once, and `to_json` writes it."""
    rewriting = Rewriting(keep_first=keep_first)
    for make in (
        lambda: summary(network, rewriting=rewriting),
        lambda: compare_families(network, rewriting=rewriting),
    ):
        if error_of(make) is not None:
            continue
        first, later = make(), make()
        at_once = first.to_json()
        for format in ("plain", "csv", "markdown"):
            render_text(later, format)
        assert isinstance(later.document, Document)
        assert later.to_json() == at_once
        assert json.loads(at_once) == json.loads(json.dumps(dict(later.document)))
        assert later.document == first.document == json.loads(at_once)


def test_a_document_is_a_read_only_mapping_built_once() -> None:
    built: list[int] = []

    def build() -> dict[str, Any]:
        built.append(1)
        return {"schema": "demo", "rows": [1, 2]}

    document = Document(build)
    assert not built
    assert (len(document), list(document), document["rows"]) == (2, ["schema", "rows"], [1, 2])
    assert document == {"schema": "demo", "rows": [1, 2]}
    assert document.get("none") is None
    assert built == [1]
    report = Report(tables=(), document=document)
    assert report.to_json() == Report(tables=(), document=dict(document)).to_json()


# --- rendering -----------------------------------------------------------------------------

KINDS = ("text", "name", "shape", "count", "percent", "bytes", "seconds", "decimal", "bar")
CELLS = st.one_of(
    st.none(),
    st.integers(-(10**20), 10**20),
    st.sampled_from([0, 1, 999, 1000, 999_995, 10**6]),
    st.booleans(),  # not a Cell, but equal to 0 and 1: never mistaken for them
    st.fractions(max_denominator=1000).filter(lambda f: abs(f) < 10**12),
    st.sampled_from([Fraction(1), Fraction(0), Fraction(1, 3)]),
    st.builds(Shape, st.integers(1, 64), st.lists(st.integers(1, 9), max_size=3).map(tuple)),
    st.text(max_size=6),
    st.sampled_from(["Conv", "a\nb", "\x1b[31m"]),
    st.builds(Name, st.text(min_size=1, max_size=6), st.integers(0, 3), st.booleans()),
)


@st.composite
def tables(draw: st.DrawFn) -> Table:
    """A table of 1 to 5 columns of any kind, rows of any cells (values repeat, as in a
    network's table), in 1 to 3 sections, with or without totals."""
    columns = tuple(
        Column(
            key=f"c{i}",
            header=draw(st.text(max_size=8)),
            kind=draw(st.sampled_from(KINDS)),
            exact=draw(st.booleans()),
        )
        for i in range(draw(st.integers(1, 5)))
    )
    pool = draw(st.lists(CELLS, min_size=1, max_size=6))
    row = st.tuples(*(st.sampled_from(pool) | CELLS for _ in columns))
    sections = draw(
        st.lists(st.lists(row, min_size=1, max_size=6).map(tuple), min_size=1, max_size=3)
    )
    totals = draw(st.none() | row)
    return Table(
        title=draw(st.text(max_size=10)),
        columns=columns,
        sections=tuple(sections),
        totals=totals,
        notes=tuple(draw(st.lists(st.text(max_size=30), max_size=2))),
    )


def one_by_one(table: Table, exact: bool, style: str, escape: bool) -> list[list[str]]:
    """Every cell formatted on its own, escaped as `printable_report` escapes it."""

    def text(cell: Cell, column: Column) -> str:
        if escape and isinstance(cell, Name) and not cell.text.isprintable():
            cell = Name(printable(cell.text), cell.depth, cell.shortcut)
        elif escape and isinstance(cell, str):
            cell = printable(cell)
        return format_cell(cell, column, exact=exact, style=style)  # type: ignore[arg-type]

    return [
        [text(cell, column) for cell, column in zip(row, table.columns)]
        for row in (*table.rows, *((table.totals,) if table.totals else ()))
    ]


@given(
    table=tables(),
    exact=st.booleans(),
    style=st.sampled_from(["terminal", "document", "csv"]),
    escape=st.booleans(),
)
def test_cells_are_formatted_as_one_by_one(
    table: Table, exact: bool, style: Any, escape: bool
) -> None:
    rows, totals = _cells(table, exact=exact, style=style, escape=escape)
    assert [list(row) for row in rows] + ([totals] if totals else []) == one_by_one(
        table, exact, style, escape
    )


def padded(cells: list[str], widths: list[int], columns: list[Column]) -> str:
    """Cells padded to their columns' widths: numbers to the right, the rest to the left."""
    right = [column.numeric and column.kind not in ("shape", "bar") for column in columns]
    return "  ".join(
        cell.rjust(width) if r else cell.ljust(width)
        for cell, width, r in zip(cells, widths, right)
    ).rstrip()


def plain_one_by_one(report: Report, exact: bool) -> str:
    """`render_plain` as first written: bars dropped, each cell formatted and padded."""
    blocks = []
    for table in report.tables:
        keep = [i for i, column in enumerate(table.columns) if column.kind != "bar"]
        columns = [table.columns[i] for i in keep]
        texts = one_by_one(table, exact, "terminal", escape=True)
        body = [[row[i] for i in keep] for row in texts]
        header = [printable(column.header) for column in columns]
        everything = [header, *body]
        widths = [max(len(row[i]) for row in everything) for i in range(len(columns))]

        rule = "  ".join("-" * width for width in widths)
        out = [printable(table.title), padded(header, widths, columns), rule]
        position = 0
        for index, section in enumerate(table.sections):
            rows = body[position:][: len(section)]
            out += [""] * bool(index) + [padded(row, widths, columns) for row in rows]
            position += len(section)
        if table.totals and columns:  # a totals row of bars alone is no row
            out += [rule, padded(body[-1], widths, columns)]
        out += [
            textwrap.fill(
                printable(note), width=100, break_on_hyphens=False, break_long_words=False
            )
            for note in table.notes
        ]
        blocks.append("\n".join(out))
    return "\n\n".join(blocks) + "\n"


@given(table=tables(), exact=st.booleans())
@example(
    table=Table(
        title="t",
        columns=(Column(key="a", header="A", kind="count"), Column(key="b", header="", kind="bar")),
        sections=(((1, Fraction(1)), (True, None), (1, Fraction(1, 2))),),
    ),
    exact=False,
)
@example(
    table=Table(
        title="bars",
        columns=(Column(key="b", header="", kind="bar"),),
        sections=(((None,),),),
        totals=(None,),
    ),
    exact=False,
)
def test_plain_text_is_what_formatting_cell_by_cell_gives(table: Table, exact: bool) -> None:
    report = Report(tables=(table,), document={})
    assert render_plain(report, exact=exact) == plain_one_by_one(report, exact)


# --- units -----------------------------------------------------------------------------------


def count_text_by_fractions(count: int) -> str:
    """`format_count` as the README states it, with exact fractions."""
    if abs(count) < 1000:
        return f"{count:,}"
    for scale, unit in ((10**15, "P"), (10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")):
        if abs(count) >= scale:
            hundredths = round(Fraction(count, scale) * 100)
            if unit != "P" and abs(hundredths) >= 100_000:
                scale, unit = scale * 1000, {"K": "M", "M": "G", "G": "T", "T": "P"}[unit]
                hundredths = round(Fraction(count, scale) * 100)
            sign = "-" if hundredths < 0 else ""
            whole, part = divmod(abs(hundredths), 100)
            return f"{sign}{whole:,}.{part:02d}{unit}"
    raise AssertionError("unreachable")


@given(
    count=st.integers(-(10**22), 10**22)
    | st.sampled_from([999_995, 999_994_999, 1005, 1015, -999_995, 10**18 + 5 * 10**13])
)
def test_format_count_rounds_as_exact_fractions_do(count: int) -> None:
    assert format_count(count) == count_text_by_fractions(count)
