"""Results as display-neutral tables and JSON documents (no rendering library here).

`Table` is what every text format draws: a title, columns, sections of rows (a rule
between sections: stages), a totals row and notes. Cells are already formatted strings;
`render` turns a table into rich, plain, markdown, LaTeX, ... text. JSON documents keep
exact integers and exact ratios.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Final, Literal, TypeAlias

from convcost.costs import LayerCost, flops
from convcost.network import Comparison, Family, NetworkCost, Row, Totals
from convcost.shapes import Shape
from convcost.units import format_count, format_percent, format_ratio_exact

__all__ = [
    "FAMILY_TITLES",
    "JSON_SCHEMA_VERSION",
    "METRICS",
    "Column",
    "Metric",
    "Table",
    "comparison_document",
    "comparison_tables",
    "conventions_note",
]

JSON_SCHEMA_VERSION: Final = 1
Metric: TypeAlias = Literal["params", "macs", "flops"]
METRICS: Final[tuple[Metric, ...]] = ("params", "macs", "flops")
METRIC_TITLES: Final[dict[str, str]] = {"params": "Parameters", "macs": "MACs", "flops": "FLOPs"}
METRIC_SHORT: Final[dict[str, str]] = {"params": "params", "macs": "MACs", "flops": "FLOPs"}
FAMILY_TITLES: Final[dict[str, str]] = {
    "regular": "Regular",
    "spatially_separable": "Spatially separable",
    "depthwise_separable": "Depthwise separable",
}
# Column headers: short, so the comparison fits an 80-column terminal.
FAMILY_HEADERS: Final[dict[str, str]] = {
    "regular": "Regular",
    "spatially_separable": "Spatial",
    "depthwise_separable": "Depthwise",
}


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    align: Literal["left", "right"] = "right"
    wrap: bool = False  # long text that may wrap in a terminal; numbers never do


@dataclass(frozen=True, slots=True)
class Table:
    title: str
    columns: tuple[Column, ...]
    sections: tuple[tuple[tuple[str, ...], ...], ...]
    totals: tuple[str, ...] | None = None
    notes: tuple[str, ...] = ()

    @property
    def rows(self) -> tuple[tuple[str, ...], ...]:
        return tuple(row for section in self.sections for row in section)


def metric_of(metric: Metric, *, count_bias: bool) -> Callable[[LayerCost | Totals], int]:
    """The function reading `metric` off a cost or totals."""
    if metric == "params":
        return lambda cost: cost.params
    if metric == "macs":
        return lambda cost: cost.macs
    return lambda cost: flops(cost.macs, cost.bias_adds, count_bias=count_bias)


def conventions_note(*, bias: str, count_bias: bool, metrics: Iterable[Metric]) -> str:
    """The line printed under every table: what was counted."""
    parts = [
        "Per sample; MACs as papers count them (convention 'paper'): multiply-accumulates "
        "of convolutions and dense layers"
    ]
    if "flops" in metrics:
        parts.append("FLOPs = 2 × MACs" + (" + bias additions" if count_bias else ""))
    parts.append(f"separable bias: {bias}")
    return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class _Line:
    """One line of a comparison: a layer or a group, in every family."""

    label: str
    shape: Shape
    costs: tuple[LayerCost | Totals, ...]


def _runs(rows: tuple[Row, ...]) -> list[tuple[str | None, list[int]]]:
    """Consecutive rows of the same top-level group, in order, with their row indices."""
    runs: list[tuple[str | None, list[int]]] = []
    for index, row in enumerate(rows):
        if runs and runs[-1][0] == row.group:
            runs[-1][1].append(index)
        else:
            runs.append((row.group, [index]))
    return runs


def _has_cost(costs: tuple[LayerCost, ...]) -> bool:
    return any(cost.params or cost.macs or cost.non_trainable_params for cost in costs)


def _lines(comparison: Comparison, *, by_group: bool) -> list[list[_Line]]:
    """The lines of a comparison, in sections.

    By group: one line per stage (a named top-level block), with the stage's input shape,
    and one line per costly layer outside any stage, in network order. By layer: one line
    per costly layer, with its output shape, a section per stage. Rows of no parameters and
    no MACs (activations, pooling, reshapes) are left out of layer lines.
    """
    family_rows = [cost.rows for cost in comparison.costs]
    sections: list[list[_Line]] = []
    for group, indices in _runs(family_rows[0]):
        aligned = [tuple(rows[i] for rows in family_rows) for i in indices]
        if by_group and group is not None:
            totals = tuple(Totals.of(row.cost for row in rows) for rows in zip(*aligned))
            lines = [_Line(group, aligned[0][0].cost.input_shape, totals)]
        else:
            lines = [
                _Line(
                    rows[0].qualified_name,
                    rows[0].cost.input_shape if by_group else rows[0].cost.output_shape,
                    tuple(row.cost for row in rows),
                )
                for rows in aligned
                if _has_cost(tuple(row.cost for row in rows))
            ]
        if by_group and sections:
            sections[0].extend(lines)  # stages are rows of one section
        elif lines:
            sections.append(lines)
    return sections


def _comparison_cells(
    line: _Line,
    *,
    value: Callable[[LayerCost | Totals], int],
    families: tuple[Family, ...],
    exact: bool,
) -> tuple[str, ...]:
    base = value(line.costs[0])
    row = [line.label, str(line.shape)]
    for family, cost in zip(families, line.costs):
        row.append(format_count(value(cost), exact=exact))
        if family != "regular":
            row.append(format_percent(Fraction(value(cost), base) if base else None))
    return tuple(row)


def comparison_tables(
    comparison: Comparison,
    *,
    metrics: tuple[Metric, ...] = ("params", "macs"),
    by_group: bool = True,
    exact: bool = False,
    count_bias: bool = False,
    bias: str = "pointwise",
) -> tuple[Table, ...]:
    """One table per metric: a row per stage (or layer), a column per family and ratio.

    Stage rows show the stage's input shape (the resolution its convolutions run at);
    layer rows show the layer's output shape, as torchinfo and Keras summaries do.
    """
    columns = [
        Column("Stage" if by_group else "Layer", "left"),
        Column("Input" if by_group else "Output", "left"),
    ]
    for family in comparison.families:
        columns.append(Column(FAMILY_HEADERS[family]))
        if family != "regular":
            columns.append(Column("ratio"))
    sections = _lines(comparison, by_group=by_group)
    network_cost = comparison.costs[0]
    total_line = _Line(
        "Total",
        network_cost.network.input_shape if by_group else network_cost.output_shape,
        tuple(cost.totals for cost in comparison.costs),
    )
    note = conventions_note(bias=bias, count_bias=count_bias, metrics=metrics)
    tables = []
    for metric in metrics:
        value = metric_of(metric, count_bias=count_bias)
        cells = functools.partial(
            _comparison_cells, value=value, families=comparison.families, exact=exact
        )
        tables.append(
            Table(
                title=f"{METRIC_TITLES[metric]} by convolution family",
                columns=tuple(columns),
                sections=tuple(tuple(map(cells, section)) for section in sections),
                totals=cells(total_line),
                notes=(_exact_ratios(comparison, value), note),
            )
        )
    return tuple(tables)


def _exact_ratios(comparison: Comparison, value: Callable[[LayerCost | Totals], int]) -> str:
    """The totals' ratios to regular as exact fractions, and what "regular" means."""
    base = value(comparison.costs[0].totals)
    ratios = ", ".join(
        f"{FAMILY_TITLES[family].lower()} {format_ratio_exact(_ratio(value(cost.totals), base))}"
        for family, cost in zip(comparison.families[1:], comparison.costs[1:])
    )
    return (
        f"Exact total ratios to regular: {ratios or '-'}. Regular is the network as given; "
        "its regular k×k convolutions (groups 1) are what the other families rewrite."
    )


def _shape_json(shape: Shape) -> list[int]:
    return [shape.channels, *shape.spatial]


def _ratio_json(ratio: Fraction | None) -> dict[str, Any] | None:
    if ratio is None:
        return None
    return {"fraction": str(ratio), "value": float(ratio)}


def _cost_json(cost: LayerCost | Totals, *, count_bias: bool) -> dict[str, int]:
    return {
        "params": cost.params,
        "non_trainable_params": cost.non_trainable_params,
        "macs": cost.macs,
        "bias_adds": cost.bias_adds,
        "flops": flops(cost.macs, cost.bias_adds, count_bias=count_bias),
    }


def _row_json(row: Row, *, count_bias: bool) -> dict[str, Any]:
    cost = row.cost
    document: dict[str, Any] = {
        "path": row.path,
        "name": row.name,
        "group": row.group,
        "type": type(cost.layer).__name__,
        "kind": cost.kind,
        "input_shape": _shape_json(cost.input_shape),
        "output_shape": _shape_json(cost.output_shape),
        **_cost_json(cost, count_bias=count_bias),
    }
    if cost.parts:
        document["parts"] = [
            {
                "name": part.layer.label,
                "kind": part.kind,
                "output_shape": _shape_json(part.output_shape),
                **_cost_json(part, count_bias=count_bias),
            }
            for part in cost.parts
        ]
    return document


def network_document(cost: NetworkCost, *, count_bias: bool) -> dict[str, Any]:
    """One costed network: its rows and totals, exact integers."""
    return {
        "rows": [_row_json(row, count_bias=count_bias) for row in cost.rows],
        "groups": {
            str(group): _cost_json(totals, count_bias=count_bias)
            for group, totals in cost.groups().items()
            if group is not None
        },
        "totals": _cost_json(cost.totals, count_bias=count_bias),
        "output_shape": _shape_json(cost.output_shape),
    }


def conventions_document(*, bias: str, count_bias: bool) -> dict[str, Any]:
    return {
        "mac": "one multiply-accumulate of a convolution or dense layer",
        "flops": "2 * macs" + (" + bias_adds" if count_bias else ""),
        "per_sample": True,
        "bias_adds_in_macs": False,
        "separable_bias": bias,
        "counted_as_zero_macs": ["batch_norm", "pooling", "activation", "add", "reshape"],
    }


def comparison_document(
    comparison: Comparison, *, count_bias: bool = False, bias: str = "pointwise"
) -> dict[str, Any]:
    """The JSON document of `convcost compare` (schema ``convcost.compare``, version 1)."""
    network = comparison.costs[0].network
    families: dict[str, Any] = {
        family: network_document(cost, count_bias=count_bias)
        for family, cost in zip(comparison.families, comparison.costs)
    }
    ratios = {
        family: {
            "params": _ratio_json(comparison.ratio(family, "params")),
            "macs": _ratio_json(comparison.ratio(family, "macs")),
        }
        for family in comparison.families
        if family != "regular"
    }
    return {
        "schema": "convcost.compare",
        "version": JSON_SCHEMA_VERSION,
        "network": {"name": network.name, "input_shape": _shape_json(network.input_shape)},
        "conventions": conventions_document(bias=bias, count_bias=count_bias),
        "families": families,
        "ratios_to_regular": ratios,
    }


# --- one layer, three families, and the arithmetic behind each number -----------------


def _product_text(terms: tuple[tuple[str, int], ...]) -> tuple[str, str]:
    names = " × ".join(name for name, _ in terms)
    values = " × ".join(str(value) for _, value in terms)
    return names, values


def explain(cost: LayerCost, *, indent: str = "  ") -> tuple[str, ...]:
    """Each formula of `cost` with the numbers substituted, as seed 002 writes them.

    >>> from convcost import Conv, Shape, layer_cost
    >>> conv = Conv(out_channels=10, kernel_size=3, bias=False)
    >>> for line in explain(layer_cost(conv, Shape(3, (15, 15)))):
    ...     print(line)
    Conv (regular) 3x15x15 -> 10x13x13
      params = k_h × k_w × C_in × C_out = 3 × 3 × 3 × 10 = 270
      MACs   = k_h × k_w × C_in × C_out × H_out × W_out = 3 × 3 × 3 × 10 × 13 × 13 = 45,630
    """
    head = f"{cost.layer.label} ({cost.kind}) {cost.input_shape} -> {cost.output_shape}"
    lines = [head]
    if cost.parts:
        for part in cost.parts:
            lines += [indent + line for line in explain(part, indent=indent)]
        params = " + ".join(f"{part.params:,}" for part in cost.parts)
        macs = " + ".join(f"{part.macs:,}" for part in cost.parts)
        lines.append(f"{indent}params = {params} = {cost.params:,}")
        lines.append(f"{indent}MACs   = {macs} = {cost.macs:,}")
        return tuple(lines)
    if cost.weight_terms:
        names, values = _product_text(cost.weight_terms)
        bias = cost.params - math.prod(value for _, value in cost.weight_terms)
        if bias:
            bias_name = "out_features" if cost.kind == "dense" else "C_out"
            names, values = f"{names} + {bias_name}", f"{values} + {bias}"
        lines.append(f"{indent}params = {names} = {values} = {cost.params:,}")
    elif cost.params or cost.non_trainable_params:
        lines.append(
            f"{indent}params = 2 × C = {cost.params:,} trainable, "
            f"{cost.non_trainable_params:,} non-trainable"
        )
    if cost.macs_terms:
        names, values = _product_text(cost.macs_terms)
        lines.append(f"{indent}MACs   = {names} = {values} = {cost.macs:,}")
    elif not cost.weight_terms:
        lines.append(f"{indent}MACs   = 0 (no multiply-accumulates)")
    return tuple(lines)


def layer_table(
    costs: dict[Family, LayerCost],
    *,
    exact: bool = False,
    count_bias: bool = False,
    tree: bool = True,
    bias: str = "none",
    metrics: tuple[Metric, ...] = ("params", "macs"),
) -> Table:
    """One layer in several families: a row per family and per part, ratios to regular.

    `metrics` are the count columns, each followed (on family rows) by its ratio to
    regular. Parts are drawn as a tree (``├ depthwise``) for terminals; with `tree` off,
    for documents and spreadsheets, they are named ``Depthwise separable: depthwise``.
    """
    regular = costs["regular"]
    values = [metric_of(metric, count_bias=count_bias) for metric in metrics]
    columns = [Column("Family", "left"), Column("Output", "left")]
    for metric in metrics:
        columns += [Column(METRIC_TITLES[metric]), Column(f"{METRIC_SHORT[metric]} %")]
    section = []
    for family, cost in costs.items():
        title = FAMILY_TITLES[family]
        entries = [(title, cost)]
        entries += [
            (
                ("└ " if i == len(cost.parts) - 1 else "├ ") + part.layer.label
                if tree
                else f"{title}: {part.layer.label}",
                part,
            )
            for i, part in enumerate(cost.parts)
        ]
        for label, entry in entries:
            row = [label, str(entry.output_shape)]
            for value in values:
                row.append(format_count(value(entry), exact=exact))
                ratio = _ratio(value(entry), value(regular))
                row.append("" if entry is not cost else format_percent(ratio))
            section.append(tuple(row))
    return Table(
        title=f"One layer on {regular.input_shape}, by convolution family",
        columns=tuple(columns),
        sections=(tuple(section),),
        notes=(conventions_note(bias=bias, count_bias=count_bias, metrics=metrics),),
    )


def _ratio(part: int, whole: int) -> Fraction | None:
    return Fraction(part, whole) if whole else None


def layer_document(
    costs: dict[Family, LayerCost], *, count_bias: bool = False, bias: str = "none"
) -> dict[str, Any]:
    """The JSON document of `convcost layer` (schema ``convcost.layer``, version 1)."""
    regular = costs["regular"]

    def entry(cost: LayerCost) -> dict[str, Any]:
        document: dict[str, Any] = {
            "name": cost.layer.label,
            "kind": cost.kind,
            "input_shape": _shape_json(cost.input_shape),
            "output_shape": _shape_json(cost.output_shape),
            **_cost_json(cost, count_bias=count_bias),
            "macs_terms": [list(term) for term in cost.macs_terms],
            "weight_terms": [list(term) for term in cost.weight_terms],
        }
        if cost.parts:
            document["parts"] = [entry(part) for part in cost.parts]
        return document

    return {
        "schema": "convcost.layer",
        "version": JSON_SCHEMA_VERSION,
        "conventions": conventions_document(bias=bias, count_bias=count_bias),
        "families": {family: entry(cost) for family, cost in costs.items()},
        "ratios_to_regular": {
            family: {
                "params": _ratio_json(_ratio(cost.params, regular.params)),
                "macs": _ratio_json(_ratio(cost.macs, regular.macs)),
            }
            for family, cost in costs.items()
            if family != "regular"
        },
    }


# --- one network, the way torchinfo and Keras summaries show it -------------------------

KIND_TITLES: Final[dict[str, str]] = {
    "regular": "Conv k×k",
    "spatial": "Conv k×1 / 1×k",
    "pointwise": "Conv 1×1 (pointwise)",
    "depthwise": "Conv DW (depthwise)",
    "grouped": "Conv grouped",
    "transposed": "Conv transposed",
    "dense": "Fully connected",
    "norm": "Batch norm",
    "pool": "Pooling",
    "activation": "Activation",
    "reshape": "Reshape",
    "add": "Add",
    "concat": "Concat",
}


def summary_table(
    cost: NetworkCost,
    *,
    exact: bool = False,
    counts: tuple[int, ...] | None = None,
    count_title: str = "MACs",
    notes: tuple[str, ...] = (),
) -> Table:
    """A row per layer (indented by depth, stages as sections), output shapes, params, MACs.

    `counts` replaces the MACs column (one per row), e.g. a counting profile's operations.
    """
    values = counts if counts is not None else tuple(row.cost.macs for row in cost.rows)
    sections = [
        tuple(
            (
                "  " * cost.rows[i].depth + cost.rows[i].full_name,
                type(cost.rows[i].cost.layer).__name__,
                str(cost.rows[i].cost.output_shape),
                format_count(cost.rows[i].cost.params, exact=exact),
                format_count(cost.rows[i].cost.non_trainable_params, exact=exact),
                format_count(values[i], exact=exact),
            )
            for i in indices
        )
        for _, indices in _runs(cost.rows)
    ]
    totals = cost.totals
    return Table(
        title=f"{cost.network.name or 'network'} on {cost.network.input_shape}",
        columns=(
            Column("Layer", "left"),
            Column("Type", "left"),
            Column("Output", "left"),
            Column("Params"),
            Column("Non-train."),
            Column(count_title),
        ),
        sections=tuple(sections),
        totals=(
            "Total",
            "",
            str(cost.output_shape),
            format_count(totals.params, exact=exact),
            format_count(totals.non_trainable_params, exact=exact),
            format_count(sum(values), exact=exact),
        ),
        notes=(
            f"Trainable params: {totals.params:,}; non-trainable: "
            f"{totals.non_trainable_params:,}; total: {totals.total_params:,}",
            *notes,
        ),
    )


def by_kind_table(cost: NetworkCost, *, exact: bool = False, title: str = "") -> Table:
    """MACs and parameters per layer type, as shares (MobileNet's Table 2)."""
    kinds = cost.by_kind()
    total = cost.totals
    rows = tuple(
        (
            KIND_TITLES.get(kind, kind),
            format_count(totals.macs, exact=exact),
            format_percent(_ratio(totals.macs, total.macs)),
            format_count(totals.params, exact=exact),
            format_percent(_ratio(totals.params, total.params)),
        )
        for kind, totals in sorted(kinds.items(), key=lambda item: -item[1].macs)
        if totals.macs or totals.params
    )
    return Table(
        title=title or f"{cost.network.name or 'network'}: MACs and parameters by layer type",
        columns=(
            Column("Type", "left"),
            Column("MACs"),
            Column("MACs %"),
            Column("Params"),
            Column("Params %"),
        ),
        sections=(rows,),
        totals=(
            "Total",
            format_count(total.macs, exact=exact),
            format_percent(_ratio(total.macs, total.macs)),
            format_count(total.params, exact=exact),
            format_percent(_ratio(total.params, total.params)),
        ),
    )


def summary_document(
    cost: NetworkCost, *, count_bias: bool = False, bias: str = "as specified"
) -> dict[str, Any]:
    """The JSON document of `convcost summary` (schema ``convcost.summary``, version 1)."""
    return {
        "schema": "convcost.summary",
        "version": JSON_SCHEMA_VERSION,
        "network": {
            "name": cost.network.name,
            "input_shape": _shape_json(cost.network.input_shape),
        },
        "conventions": conventions_document(bias=bias, count_bias=count_bias),
        **network_document(cost, count_bias=count_bias),
        "by_kind": {
            kind: _cost_json(totals, count_bias=count_bias)
            for kind, totals in cost.by_kind().items()
        },
    }
