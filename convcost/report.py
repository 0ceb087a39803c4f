"""Results as reports: display-neutral tables and JSON documents (no rendering library here).

Every command of the CLI is one call here, so that a script gets exactly what a terminal
shows: `summary` (a network layer by layer), `compare_families` (a network in each
convolution family), `compare_layer` (one convolution in each family), `presets_report`,
`profiles_report` and `conventions_report`. Each returns a `Report`: tables, which
`convcost.render` draws in any text format, and a JSON document. Table cells carry numbers
(exact integers, exact fractions, shapes), not text: they are formatted only when drawn.

>>> from convcost import build_preset
>>> report = summary(build_preset("resnet18"))
>>> report.totals.params, report.totals.macs
(11689512, 1814073344)
>>> print(str(report).splitlines()[0])
resnet18 on 3x224x224
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, get_args

from convcost.checks import check_bool, check_choice
from convcost.conventions import (
    PAPER,
    PROFILES,
    Profile,
    ProfileCount,
    compare_profiles,
    count,
    profile_to_mapping,
)
from convcost.costs import LayerCost, flops, layer_cost
from convcost.errors import ConvCostError, FieldError
from convcost.layers import (
    BIAS_CONVENTIONS,
    MID_CHANNELS,
    BiasConvention,
    Conv,
    DepthwiseSeparableConv,
    Layer,
    MidChannels,
    NotCounted,
    Operator,
    SpatiallySeparableConv,
)
from convcost.memory import (
    DTYPES,
    DType,
    MemoryEstimate,
    activation_bytes,
    memory_estimate,
)
from convcost.network import (
    FAMILIES,
    Comparison,
    Family,
    Network,
    NetworkCost,
    RewriteStats,
    Row,
    Totals,
    compare,
)
from convcost.shapes import Padding, Shape
from convcost.units import format_decimal, format_megabytes, format_percent

if TYPE_CHECKING:  # imported when a device or an optimizer is asked for, not before
    from convcost.devices import Device
    from convcost.roofline import (
        Optimizer,
        Roofline,
        RooflineComparison,
        Timing,
        Traffic,
        Training,
    )

__all__ = [
    "JSON_SCHEMA_VERSION",
    "Cell",
    "Column",
    "ComparisonReport",
    "Counting",
    "Document",
    "LayerReport",
    "Name",
    "Report",
    "Rewriting",
    "Summary",
    "Table",
    "compare_families",
    "compare_layer",
    "conventions_report",
    "devices_report",
    "presets_report",
    "profiles_report",
    "summary",
]

JSON_SCHEMA_VERSION: Final = 2

# --- tables --------------------------------------------------------------------------

CellKind: TypeAlias = Literal[
    "text", "name", "shape", "count", "percent", "bytes", "seconds", "decimal", "bar"
]


@dataclass(frozen=True, slots=True)
class Name:
    """A row's name, with its nesting depth and whether it lies on a residual shortcut:
    terminals indent it and mark the shortcut; documents show the name alone."""

    text: str
    depth: int = 0
    shortcut: bool = False


Cell: TypeAlias = str | Name | Shape | int | Fraction | None
"""A table cell: text, a name, a shape, an exact count, an exact ratio, or nothing."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Column:
    """A table column: `key` names it in CSV and JSON, `header` in tables; `kind` says
    what its cells hold. A count column with `exact` is always shown in full (parameter
    counts, as torchinfo and Keras print them); others in K/M/G units unless asked. A
    ``bar`` column holds shares of a total, drawn as bars in a terminal table and left
    out of every other format (its numbers are in the columns beside it)."""

    key: str
    header: str
    kind: CellKind = "text"
    exact: bool = False

    @property
    def numeric(self) -> bool:
        """Numbers, shapes and percentages: never cut, never wrapped."""
        return self.kind != "text" and self.kind != "name"


@dataclass(frozen=True, kw_only=True, slots=True)
class Table:
    """A title, columns, sections of rows (a rule between sections), totals and notes.

    `key` is what tells this table from the others of its report in one CSV file, as
    ``("metric", "macs")``.
    """

    title: str
    columns: tuple[Column, ...]
    sections: tuple[tuple[tuple[Cell, ...], ...], ...]
    totals: tuple[Cell, ...] | None = None
    notes: tuple[str, ...] = ()
    key: tuple[str, str] | None = None

    @property
    def rows(self) -> tuple[tuple[Cell, ...], ...]:
        return tuple(row for section in self.sections for row in section)


@dataclass(frozen=True, kw_only=True)
class Report:
    """What a command shows: tables, notes on them all, a JSON document, and verbatim
    lines (`--explain`).

    ``str(report)`` is the plain-text rendering; `to_json` the JSON document.
    """

    tables: tuple[Table, ...]
    document: Mapping[str, Any]
    notes: tuple[str, ...] = ()
    explanation: tuple[str, ...] = ()

    def __str__(self) -> str:
        from convcost.render import render_text  # rendering sits above reports

        return render_text(self, "plain")

    def to_json(self) -> str:
        document = self.document
        if isinstance(document, Document):
            document = document.built
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


class Document(Mapping[str, Any]):
    """A report's JSON document, built when first read: a table format never reads it,
    and for a network of 100,000 layers it costs more than the tables."""

    __slots__ = ("_build", "_built")

    def __init__(self, build: Callable[[], dict[str, Any]]) -> None:
        self._build: Callable[[], dict[str, Any]] | None = build
        self._built: dict[str, Any] = {}

    @property
    def built(self) -> dict[str, Any]:
        """The document itself, a dict ready for `json.dumps`."""
        if self._build is not None:
            self._built = self._build()
            self._build = None  # let go of what it read
        return self._built

    def __getitem__(self, key: str) -> Any:
        return self.built[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.built)

    def __len__(self) -> int:
        return len(self.built)

    def __repr__(self) -> str:
        return repr(self.built)


# --- options ------------------------------------------------------------------------

Metric: TypeAlias = Literal["params", "macs", "flops"]
FlopsDisplay: TypeAlias = Literal["none", "beside", "only"]
FLOPS_DISPLAYS: Final[tuple[FlopsDisplay, ...]] = get_args(FlopsDisplay)


@dataclass(frozen=True, kw_only=True, slots=True)
class Counting:
    """What the count columns show: MACs counted under `convention`, FLOPs (2 × MACs)
    beside them or instead of them, with or without one FLOP per bias addition."""

    convention: Profile = PAPER
    flops: FlopsDisplay = "none"
    flops_bias: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.convention, Profile):
            raise FieldError("convention", self.convention, "a Profile (see load_profile)")
        check_choice("flops", self.flops, FLOPS_DISPLAYS)
        check_bool("flops_bias", self.flops_bias)
        if self.flops_bias and self.flops == "none":
            raise ConvCostError(
                "--flops-bias counts bias additions in FLOPs: add --flops or --flops-only"
            )
        if self.flops != "none" and self.convention.name != "paper":
            raise ConvCostError(
                f"FLOPs are 2 × the MACs papers count; they do not combine with --convention "
                f"{self.convention.name} (calflops is the profile that counts FLOPs)"
            )

    @property
    def metrics(self) -> tuple[Metric, ...]:
        if self.flops == "only":
            return ("params", "flops")
        return ("params", "macs", "flops") if self.flops == "beside" else ("params", "macs")


@dataclass(frozen=True, kw_only=True, slots=True)
class Rewriting:
    """How regular convolutions become separable ones: the `bias` convention of a biased
    one, whether the first is kept regular, and the spatially separable middle width."""

    bias: BiasConvention = "pointwise"
    keep_first: bool = False
    mid_channels: int | MidChannels = "min"

    def __post_init__(self) -> None:
        check_choice("bias", self.bias, BIAS_CONVENTIONS)
        check_bool("keep_first", self.keep_first)
        if isinstance(self.mid_channels, str):
            check_choice("mid_channels", self.mid_channels, MID_CHANNELS)
        else:
            SpatiallySeparableConv(out_channels=1, kernel_size=1, mid_channels=self.mid_channels)


FAMILY_TITLES: Final[Mapping[str, str]] = {
    "regular": "Regular",
    "spatially_separable": "Spatially separable",
    "depthwise_separable": "Depthwise separable",
}
FAMILY_HEADERS: Final[Mapping[str, str]] = {  # short, so comparisons fit narrow terminals
    "regular": "Regular",
    "spatially_separable": "Spatial",
    "depthwise_separable": "Depthwise",
}
METRIC_TITLES: Final[Mapping[str, str]] = {"params": "Parameters", "macs": "MACs", "flops": "FLOPs"}
_BIAS_WORDS: Final[Mapping[str, str]] = {
    "none": "no bias",
    "pointwise": "one bias, on the last part (Keras SeparableConv2D)",
    "both": "a bias on every part",
}
_MID_WORDS: Final[Mapping[str, str]] = {
    "min": "min(C_in, C_out) middle channels",
    "out": "C_out middle channels",
    "in": "C_in middle channels",
}


def _mid_words(mid: int | MidChannels) -> str:
    return _MID_WORDS[mid] if isinstance(mid, str) else f"{mid} middle channels"


def _metric_header(metric: Metric, counting: Counting) -> str:
    """A metric as tables title it: MACs under another convention than paper's say which."""
    if metric == "macs" and counting.convention.name != "paper":
        return f"MACs ({counting.convention.name})"
    return METRIC_TITLES[metric]


def _metric_key(metric: Metric, counting: Counting) -> str:
    """A metric as CSV and JSON name it: ``macs``, or ``macs_thop`` under thop's convention."""
    if metric == "macs" and counting.convention.name != "paper":
        return "macs_" + re.sub(r"[^a-z0-9]+", "_", counting.convention.name.lower()).strip("_")
    return metric


def counting_note(counting: Counting) -> str:
    """What the count columns count, in one line."""
    profile = counting.convention
    if profile.name == "paper":
        text = (
            "Per sample; MACs as papers count them: multiply-accumulates of convolutions "
            "and dense layers"
        )
    else:
        text = (
            f"Per sample; MACs counted as {profile.peer or profile.name} counts them "
            f"(convention {profile.name!r}: {profile.description})"
        )
    if counting.flops != "none":
        text += "; FLOPs = 2 × MACs" + (" + bias additions" if counting.flops_bias else "")
    return text


def _value_of(metric: Metric, counting: Counting) -> Callable[[LayerCost | Totals], int]:
    if metric == "params":
        return lambda cost: cost.params
    if metric == "macs":
        return lambda cost: cost.macs
    return lambda cost: flops(cost.macs, cost.bias_adds, count_bias=counting.flops_bias)


def _ratio(part: int, whole: int) -> Fraction | None:
    return Fraction(part, whole) if whole else None


# --- JSON pieces ---------------------------------------------------------------------


def shape_json(shape: Shape) -> list[int]:
    return [shape.channels, *shape.spatial]


def _ratio_json(ratio: Fraction | None) -> dict[str, Any] | None:
    if ratio is None:
        return None
    return {"fraction": str(ratio), "value": float(ratio)}


def _cost_json(cost: LayerCost | Totals, counting: Counting) -> dict[str, int]:
    return {
        "params": cost.params,
        "non_trainable_params": cost.non_trainable_params,
        "macs": cost.macs,
        "bias_adds": cost.bias_adds,
        "flops": flops(cost.macs, cost.bias_adds, count_bias=counting.flops_bias),
    }


def _part_json(cost: LayerCost, counting: Counting) -> dict[str, Any]:
    document: dict[str, Any] = {
        "name": cost.layer.label,
        "type": type(cost.layer).__name__,
        "kind": cost.kind,
        "output_shape": shape_json(cost.output_shape),
        **_cost_json(cost, counting),
        "bias": cost.bias,
        "macs_terms": [list(term) for term in cost.macs_terms],
        "weight_terms": [list(term) for term in cost.weight_terms],
    }
    if cost.parts:
        document["parts"] = [_part_json(part, counting) for part in cost.parts]
    return document


def _row_json(row: Row, counting: Counting, counted: int) -> dict[str, Any]:
    cost = row.cost
    document: dict[str, Any] = {
        "path": list(row.path),
        "name": row.name,
        "group": row.group,
        "shortcut": row.shortcut,
        "shares": cost.layer.shares,
        "type": type(cost.layer).__name__,
        "kind": cost.kind,
        "input_shape": shape_json(cost.input_shape),
        "output_shape": shape_json(cost.output_shape),
        **_cost_json(cost, counting),
        "counted": counted,
    }
    if isinstance(cost.layer, (Operator, NotCounted)):
        document["op_type"] = cost.layer.op_type
    if cost.parts:
        document["parts"] = [_part_json(part, counting) for part in cost.parts]
    return document


def _type_name(layer: Layer) -> str:
    """What a table's Type column says: the layer's class, or for an operator read from a
    model file (`Operator`, `NotCounted`) the operator's own name (``MatMul``, ``Erf``)."""
    return layer.op_type if isinstance(layer, (Operator, NotCounted)) else type(layer).__name__


def _network_json(network: Network) -> dict[str, Any]:
    return {"name": network.name, "input_shape": shape_json(network.input_shape)}


def _counted_json(counted: ProfileCount) -> dict[str, Any]:
    return {
        "profile": counted.profile.name,
        "total": counted.total,
        "breakdown": dict(counted.breakdown),
        "differences_from_paper": dict(counted.differences),
    }


def _cost_document(cost: NetworkCost, counted: ProfileCount, counting: Counting) -> dict[str, Any]:
    """One costed network: its rows, groups and totals, exact integers."""
    return {
        "rows": [_row_json(row, counting, value) for row, value in zip(cost.rows, counted.rows)],
        "groups": {
            group: _cost_json(totals, counting)
            for group, totals in cost.groups().items()
            if group is not None
        },
        "totals": _cost_json(cost.totals, counting),
        "output_shapes": [shape_json(shape) for shape in cost.output_shapes],
        "counted": _counted_json(counted),
    }


def _conventions_json(counting: Counting) -> dict[str, Any]:
    return {
        "mac": "one multiply-accumulate of a convolution or dense layer",
        "flops": "2 * macs" + (" + bias_adds" if counting.flops_bias else ""),
        "per_sample": True,
        "bias_adds_in_macs": False,
        "profile": profile_to_mapping(counting.convention),
    }


def _rewriting_json(rewriting: Rewriting) -> dict[str, Any]:
    return {
        "bias": rewriting.bias,
        "keep_first": rewriting.keep_first,
        "mid_channels": rewriting.mid_channels,
    }


def _stats_json(stats: RewriteStats) -> dict[str, int]:
    return {"rewritten": stats.rewritten, "biased": stats.biased, "kept": stats.kept}


# --- what a rewrite did, in words ------------------------------------------------------


def rewrite_notes(
    families: tuple[Family, ...], stats: tuple[RewriteStats, ...], rewriting: Rewriting
) -> tuple[str, ...]:
    """What rewriting into each family did, as the notes under a comparison say it."""
    done = [(family, stat) for family, stat in zip(families, stats) if family != "regular"]
    if not done:
        return ()
    rewritten = max(stat.rewritten for _, stat in done)
    if not rewritten:
        return (
            "Nothing to rewrite: the network has no regular k×k convolution (groups 1)"
            + (" besides the first, kept regular" if rewriting.keep_first and done[0][1].kept
               else "")
            + ", so every family counts it as given.",
        )  # fmt: skip
    kept = ", all but the first (kept regular)" if done[0][1].kept else ""
    notes = [
        f"Regular is the network as given; the others rewrite its {rewritten:,} regular "
        f"k×k convolution{'s' * (rewritten != 1)} (groups 1){kept}."
    ]
    notes += [rewrite_note(family, stat, rewriting) for family, stat in done]
    return tuple(notes)


def rewrite_note(family: Family, stats: RewriteStats, rewriting: Rewriting) -> str:
    """How `family` replaces a regular convolution, and the biases it got."""
    how = "k×1 then 1×k" if family == "spatially_separable" else "depthwise then pointwise"
    if family == "spatially_separable":
        how += f" with {_mid_words(rewriting.mid_channels)}"
    if not stats.biased:
        bias = "no biases (the convolutions replaced have none)"
    elif stats.biased == stats.rewritten:
        bias = _BIAS_WORDS[rewriting.bias]
    else:
        bias = f"{_BIAS_WORDS[rewriting.bias]} where the convolution replaced had one"
    return f"{FAMILY_TITLES[family]}: {how}; {bias}."


# --- a network, layer by layer -------------------------------------------------------

KIND_TITLES: Final[Mapping[str, str]] = {
    "regular": "Conv k×k",
    "asymmetric": "Conv k×1 / 1×k",
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
    "multiply": "Multiply",
    "concat": "Concat",
    "operator": "Other operators",
    "not_counted": "Not counted",
}


@dataclass(frozen=True, kw_only=True)
class Summary(Report):
    """One network layer by layer, as data and as a report (what `convcost summary` shows).

    `cost` holds the rows and totals; `counted` the count under the convention; `memory`
    torchinfo's memory lines.
    """

    cost: NetworkCost
    counted: ProfileCount
    memory: MemoryEstimate
    roofline: Roofline | None = None
    training: Training | None = None

    @property
    def rows(self) -> tuple[Row, ...]:
        return self.cost.rows

    @property
    def totals(self) -> Totals:
        return self.cost.totals


def not_counted_note(cost: NetworkCost) -> tuple[str, ...]:
    """The line saying which operators are not in the totals, when some are not."""
    flagged = cost.not_counted
    if not flagged:
        return ()
    kinds = ", ".join(dict.fromkeys(str(getattr(row.cost.layer, "op_type", "")) for row in flagged))
    return (
        f"Not counted: {len(flagged):,} operator(s) convcost does not know ({kinds}), marked "
        "as such: their multiply-accumulates are not in the totals (--strict refuses them).",
    )


def _memory_note(memory: MemoryEstimate) -> str:
    lines = (
        ("input", memory.input_bytes),
        ("forward/backward", memory.forward_backward_bytes),
        ("params", memory.params_bytes),
        ("total", memory.total_bytes),
    )
    sizes = ", ".join(f"{name} {format_megabytes(count)}" for name, count in lines)
    return f"Memory ({memory.dtype}, batch {memory.batch_size:,}, as torchinfo reports it): {sizes}"


def _memory_json(memory: MemoryEstimate) -> dict[str, Any]:
    return {
        "dtype": memory.dtype,
        "batch_size": memory.batch_size,
        "input_bytes": memory.input_bytes,
        "forward_backward_bytes": memory.forward_backward_bytes,
        "params_bytes": memory.params_bytes,
        "total_bytes": memory.total_bytes,
    }


def summary(
    network: Network,
    *,
    family: Family = "regular",
    rewriting: Rewriting = Rewriting(),
    counting: Counting = Counting(),
    by_type: bool = False,
    dtype: DType = "float32",
    batch_size: int = 1,
    memory_column: bool = False,
    device: Device | None = None,
    optimizer: Optimizer | None = None,
) -> Summary:
    """`network` layer by layer (rewritten into `family` first), as torchinfo and Keras
    summaries show it: output shapes, parameters, MACs (or what `counting` asks), totals
    and torchinfo's memory lines for a batch of `batch_size` in `dtype`; with `by_type`, a
    second table per layer kind; with `memory_column`, each layer's activation bytes; on a
    `device`, the bytes each layer moves, its arithmetic intensity and its roofline time
    bound (`convcost.roofline`); with an `optimizer`, what training costs."""
    _check_network(network)
    _check_settings(rewriting, counting)
    check_choice("family", family, FAMILIES)
    check_bool("by_type", by_type)
    check_bool("memory_column", memory_column)
    check_choice("dtype", dtype, DTYPES)
    _check_device(device)
    if optimizer is not None:
        from convcost.roofline import OPTIMIZERS

        check_choice("optimizer", optimizer, OPTIMIZERS)
    comparison = compare(
        network,
        (family,),
        bias=rewriting.bias,
        keep_first=rewriting.keep_first,
        mid_channels=rewriting.mid_channels,
    )
    cost = comparison.cost(family)
    stats = comparison.rewrites[comparison.families.index(family)]
    counted = count(cost, counting.convention)
    memory = memory_estimate(cost, dtype=dtype, batch_size=batch_size)
    notes = [
        f"Trainable params: {cost.totals.params:,}; non-trainable: "
        f"{cost.totals.non_trainable_params:,}; total: {cost.totals.total_params:,}",
        counting_note(counting),
    ]
    if family != "regular":
        notes[:0] = rewrite_notes(("regular", family), (RewriteStats(), stats), rewriting)
    notes += not_counted_note(cost)
    if counting.convention.name != "paper":
        notes.append(
            f"{_metric_header('macs', counting)} in total: {counted.total:,}; papers "
            f"count {count(cost).total:,}"
        )
    notes.append(_memory_note(memory))
    tables = [_summary_table(cost, counted, counting, notes, memory if memory_column else None)]
    if by_type:
        tables.append(_by_kind_table(cost))
    bound = None
    if device is not None:
        from convcost.roofline import roofline

        bound = roofline(cost, device, dtype=dtype, batch_size=batch_size)
        tables.append(_roofline_table(bound))
    trained = None
    if optimizer is not None:
        from convcost.roofline import training

        trained = training(cost, optimizer=optimizer, dtype=dtype, batch_size=batch_size)
        tables.append(_training_table(trained, optimizer, dtype, batch_size))

    def document() -> dict[str, Any]:
        built: dict[str, Any] = {
            "schema": "convcost.summary",
            "version": JSON_SCHEMA_VERSION,
            "network": _network_json(network),
            "family": family,
            "rewriting": _rewriting_json(rewriting),
            "rewrite": _stats_json(stats),
            "conventions": _conventions_json(counting),
            **_cost_document(cost, counted, counting),
            "by_kind": {
                kind: _cost_json(totals, counting) for kind, totals in cost.by_kind().items()
            },
            "memory": _memory_json(memory),
        }
        if bound is not None:
            built["roofline"] = _roofline_json(bound)
        if trained is not None and optimizer is not None:
            built["training"] = _training_json(trained, optimizer, dtype, batch_size)
        return built

    return Summary(
        tables=tuple(tables),
        document=Document(document),
        cost=cost,
        counted=counted,
        memory=memory,
        roofline=bound,
        training=trained,
    )


def _check_device(device: object) -> None:
    if device is not None:
        from convcost.devices import Device

        if not isinstance(device, Device):
            raise FieldError("device", device, "a Device (see convcost.devices.load_device)")


def _check_network(network: object) -> None:
    if not isinstance(network, Network):
        raise FieldError("network", network, "a Network (see convcost.sources.load_network)")


def _check_settings(rewriting: object, counting: object) -> None:
    if not isinstance(rewriting, Rewriting):
        raise FieldError("rewriting", rewriting, "a Rewriting")
    if not isinstance(counting, Counting):
        raise FieldError("counting", counting, "a Counting")


def _runs(rows: tuple[Row, ...]) -> list[tuple[str | None, list[int]]]:
    """Consecutive rows of the same group, in order, with their row indices."""
    runs: list[tuple[str | None, list[int]]] = []
    for index, row in enumerate(rows):
        if runs and runs[-1][0] == row.group:
            runs[-1][1].append(index)
        else:
            runs.append((row.group, [index]))
    return runs


def _summary_table(
    cost: NetworkCost,
    counted: ProfileCount,
    counting: Counting,
    notes: list[str],
    memory: MemoryEstimate | None,
) -> Table:
    metrics = counting.metrics[1:]  # parameters have their own two columns
    values = {metric: _value_of(metric, counting) for metric in metrics}
    columns = [
        Column(key="layer", header="Layer", kind="name"),
        Column(key="type", header="Type"),
        Column(key="output", header="Output", kind="shape"),
        Column(key="params", header="Params", kind="count", exact=True),
        Column(key="non_trainable", header="Non-train.", kind="count", exact=True),
        *(
            Column(
                key=_metric_key(metric, counting),
                header=_metric_header(metric, counting),
                kind="count",
            )
            for metric in metrics
        ),
        Column(key="share_bar", header="", kind="bar"),  # of the last: MACs, or FLOPs
    ]
    if memory is not None:
        columns.append(Column(key="activation_bytes", header="Activations", kind="bytes"))

    totals = cost.totals
    total_counts: list[int] = [
        counted.total if metric == "macs" else values[metric](totals) for metric in metrics
    ]
    shared = total_counts[-1]  # the bar shows each row's share of the last count

    known: dict[int, tuple[Cell, ...]] = {}  # by cost: rows share costs, and all but names

    def cells(index: int) -> tuple[Cell, ...]:
        row = cost.rows[index]
        layer_cost = row.cost
        after = known.get(id(layer_cost))
        if after is None:
            counts: list[int] = [
                counted.rows[index] if metric == "macs" else values[metric](layer_cost)
                for metric in metrics
            ]
            extra: list[Cell] = [_ratio(counts[-1], shared)]
            if memory is not None:
                extra.append(
                    activation_bytes(layer_cost, dtype=memory.dtype, batch_size=memory.batch_size)
                )
            after = known[id(layer_cost)] = (
                _type_name(layer_cost.layer),
                layer_cost.output_shape,
                layer_cost.params,
                layer_cost.non_trainable_params,
                *counts,
                *extra,
            )
        return (Name(row.name, row.depth, row.shortcut), *after)

    sums: list[Cell] = [*total_counts, None]  # no bar on the totals row
    if memory is not None:
        sums.append(
            sum(
                activation_bytes(row.cost, dtype=memory.dtype, batch_size=memory.batch_size)
                for row in cost.rows
            )
        )
    return Table(
        title=f"{cost.network.name or 'network'} on {cost.network.input_shape}",
        columns=tuple(columns),
        sections=tuple(tuple(map(cells, indices)) for _, indices in _runs(cost.rows)),
        totals=(
            "Total",
            "",
            cost.output_shape,
            totals.params,
            totals.non_trainable_params,
            *sums,
        ),
        notes=tuple(notes),
    )


def _by_kind_table(cost: NetworkCost, title: str = "") -> Table:
    """MACs and parameters per layer kind, as shares (MobileNet's Table 2)."""
    total = cost.totals
    rows = tuple(
        (
            KIND_TITLES.get(kind, kind),
            totals.macs,
            _ratio(totals.macs, total.macs),
            totals.params,
            _ratio(totals.params, total.params),
        )
        for kind, totals in sorted(cost.by_kind().items(), key=lambda item: -item[1].macs)
        if totals.macs or totals.params
    )
    return Table(
        title=title or f"{cost.network.name or 'network'}: MACs and parameters by layer type",
        columns=(
            Column(key="type", header="Type"),
            Column(key="macs", header="MACs", kind="count"),
            Column(key="macs_share", header="MACs %", kind="percent"),
            Column(key="params", header="Params", kind="count", exact=True),
            Column(key="params_share", header="Params %", kind="percent"),
        ),
        sections=(rows,),
        totals=(
            "Total",
            total.macs,
            _ratio(total.macs, total.macs),
            total.params,
            _ratio(total.params, total.params),
        ),
        key=("table", "by_type"),
    )


# --- will it run faster: bytes moved and the roofline bound --------------------------


def _seconds_json(seconds: Fraction) -> dict[str, Any]:
    return {"fraction": str(seconds), "value": float(seconds)}


def _traffic_json(traffic: Traffic) -> dict[str, Any]:
    return {
        "flops": traffic.flops,
        "activations_read": traffic.activations_read,
        "weights_read": traffic.weights_read,
        "written": traffic.written,
        "moved": traffic.moved,
        "intensity": _ratio_json(traffic.intensity),
        "exact": traffic.exact,
    }


def _timing_json(timing: Timing) -> dict[str, Any]:
    return {
        "compute_time": _seconds_json(timing.compute_time),
        "memory_time": _seconds_json(timing.memory_time),
        "time": _seconds_json(timing.time),
        "bound": timing.bound,
    }


def _roofline_json(result: Roofline) -> dict[str, Any]:
    from convcost.devices import device_to_mapping

    return {
        "device": device_to_mapping(result.device),
        "dtype": result.dtype,
        "batch_size": result.batch_size,
        "ridge_point": _ratio_json(result.ridge_point),
        "rows": [
            {"name": row.row.name, **_traffic_json(row.traffic), **_timing_json(row.timing)}
            for row in result.rows
        ],
        "totals": {**_traffic_json(result.totals.traffic), **_timing_json(result.totals.timing)},
    }


def _roofline_note(result: Roofline) -> str:
    device = result.device
    return (
        f"Roofline on {device.description} ({result.dtype}, batch {result.batch_size:,}): "
        "per kernel, time >= max(FLOPs / peak, bytes / bandwidth), summed over the layers; "
        f"ridge point {format_decimal(result.ridge_point)} FLOP per byte. A bound from shapes, "
        "not a prediction: no caches, no fusion (docs/roofline.md)."
    )


def _bound_text(traffic: Traffic, timing: Timing, kernels: int) -> str:
    if not kernels:
        return "view"
    return timing.bound + ("" if traffic.exact else " (≥)")


def _roofline_table(result: Roofline) -> Table:
    """A row per layer: bytes moved, arithmetic intensity, the bound that applies, time."""
    rows = result.rows
    cost = result.cost
    columns = (
        Column(key="layer", header="Layer", kind="name"),
        Column(key="moved_bytes", header="Moved", kind="bytes"),
        Column(key="intensity", header="FLOP/B", kind="decimal"),
        Column(key="bound", header="Bound"),
        Column(key="time", header="Time", kind="seconds"),
    )

    def cells(index: int) -> tuple[Cell, ...]:
        entry = rows[index]
        row = entry.row
        return (
            Name(row.name, row.depth, row.shortcut),
            entry.traffic.moved,
            entry.traffic.intensity,
            _bound_text(entry.traffic, entry.timing, len(entry.kernels)),
            entry.timing.time,
        )

    totals = result.totals
    return Table(
        title=f"Roofline of {cost.network.name or 'network'} on {result.device.name}",
        columns=columns,
        sections=tuple(tuple(map(cells, indices)) for _, indices in _runs(cost.rows)),
        totals=(
            "Total",
            totals.traffic.moved,
            totals.traffic.intensity,
            totals.timing.bound,
            totals.timing.time,
        ),
        notes=(_roofline_note(result),),
        key=("table", "roofline"),
    )


def _training_table(result: Training, optimizer: Optimizer, dtype: DType, batch_size: int) -> Table:
    """A row per layer: what training keeps in memory, and its multiply-adds."""
    columns = (
        Column(key="layer", header="Layer", kind="name"),
        Column(key="activation_bytes", header="Activations", kind="bytes"),
        Column(key="gradient_bytes", header="Gradients", kind="bytes"),
        Column(key="optimizer_bytes", header="Optimizer", kind="bytes"),
        Column(key="forward_macs", header="Fwd MACs", kind="count"),
        Column(key="input_gradient_macs", header="dX MACs", kind="count"),
        Column(key="weight_gradient_macs", header="dW MACs", kind="count"),
    )
    rows = result.rows

    def cells(index: int) -> tuple[Cell, ...]:
        entry = rows[index]
        spent = entry.training
        return (
            Name(entry.row.name, entry.row.depth, entry.row.shortcut),
            spent.activation_bytes,
            spent.gradient_bytes,
            spent.optimizer_bytes,
            spent.forward_macs,
            spent.input_gradient_macs,
            spent.weight_gradient_macs,
        )

    totals = result.totals
    network_rows = tuple(entry.row for entry in rows)
    return Table(
        title=f"Training with {optimizer}, batch {batch_size:,} in {dtype}",
        columns=columns,
        sections=tuple(tuple(map(cells, indices)) for _, indices in _runs(network_rows)),
        totals=(
            "Total",
            totals.activation_bytes,
            totals.gradient_bytes,
            totals.optimizer_bytes,
            totals.forward_macs,
            totals.input_gradient_macs,
            totals.weight_gradient_macs,
        ),
        notes=(
            f"Training memory: {format_megabytes(result.memory_bytes)} in all (the input, "
            "the weights, the activations kept for the backward pass, one gradient per "
            f"trainable parameter, {optimizer}'s state); {totals.macs:,} multiply-adds per "
            "step (forward, input gradient, weight gradient). Activations kept are every "
            "layer's output: an upper bound (docs/roofline.md).",
        ),
        key=("table", "training"),
    )


def _training_json(
    result: Training, optimizer: Optimizer, dtype: DType, batch_size: int
) -> dict[str, Any]:
    def spent_json(spent: Any) -> dict[str, Any]:
        return {
            "activation_bytes": spent.activation_bytes,
            "weight_bytes": spent.weight_bytes,
            "gradient_bytes": spent.gradient_bytes,
            "optimizer_bytes": spent.optimizer_bytes,
            "forward_macs": spent.forward_macs,
            "input_gradient_macs": spent.input_gradient_macs,
            "weight_gradient_macs": spent.weight_gradient_macs,
            "exact": spent.exact,
        }

    return {
        "optimizer": optimizer,
        "dtype": dtype,
        "batch_size": batch_size,
        "input_bytes": result.input_bytes,
        "memory_bytes": result.memory_bytes,
        "rows": [{"name": row.row.name, **spent_json(row.training)} for row in result.rows],
        "totals": spent_json(result.totals),
    }


def devices_report(extra: Iterable[Device] = ()) -> Report:
    """The device profiles: peak per data type, bandwidth, ridge point, source (what
    `convcost devices` shows)."""
    from convcost.devices import DEVICES, device_to_mapping

    devices = (*DEVICES.values(), *extra)
    dtypes = DTYPES
    columns = (
        Column(key="name", header="Device", kind="name"),
        Column(key="kind", header="Kind"),
        *(Column(key=f"peak_{dtype}", header=f"{dtype} op/s", kind="count") for dtype in dtypes),
        Column(key="bandwidth", header="Bandwidth B/s", kind="count"),
        Column(key="ridge_float32", header="Ridge f32", kind="decimal"),
    )
    rows = tuple(
        (
            device.name,
            device.kind,
            *(device.peak.get(dtype) for dtype in dtypes),
            device.bandwidth,
            device.ridge_point("float32") if "float32" in device.peak else None,
        )
        for device in devices
    )
    table = Table(
        title="Device profiles",
        columns=columns,
        sections=(rows,),
        notes=(
            "Vendor peak figures for dense operations (no sparsity), decimal units; the ridge "
            "point is the arithmetic intensity (FLOP per byte) where compute and memory bounds "
            "meet. Sources: `convcost devices --format json`, docs/roofline.md.",
        ),
    )
    document = {
        "schema": "convcost.devices",
        "version": JSON_SCHEMA_VERSION,
        "devices": [device_to_mapping(device) for device in devices],
    }
    return Report(tables=(table,), document=document)


# --- a network in each family ----------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ComparisonReport(Report):
    """A network in several convolution families, as data and as a report (what
    `convcost compare` shows): `comparison` holds each family's cost, `counted` each
    family's count under the convention."""

    comparison: Comparison
    counted: tuple[ProfileCount, ...]
    roofline: RooflineComparison | None = None


@dataclass(frozen=True, slots=True)
class _Line:
    """One line of a comparison: a stage or a layer, in every family."""

    label: str
    shape: Shape
    indices: tuple[int, ...]  # the rows it sums


def _lines(
    cost: NetworkCost, *, by_group: bool, counts: Callable[[int], bool]
) -> list[list[_Line]]:
    """The lines of a comparison, in sections.

    By group: one line per stage (a named block at the network's group depth) with the
    stage's input shape, and one line per counted layer outside any stage. By layer: one
    line per counted layer, with its output shape, a section per stage. A row counts when
    `counts(index)` says so (it has parameters, MACs, or operations the convention counts);
    the others (activations, pooling, reshapes, as papers count) are left out.
    """
    sections: list[list[_Line]] = []
    for group, indices in _runs(cost.rows):
        rows = [cost.rows[i] for i in indices]
        if by_group and group is not None:
            lines = [_Line(group, rows[0].cost.input_shape, tuple(indices))]
        else:
            lines = [
                _Line(
                    row.name, row.cost.input_shape if by_group else row.cost.output_shape, (index,)
                )
                for index, row in zip(indices, rows)
                if counts(index)
            ]
        if by_group and sections:
            sections[0].extend(lines)  # stages are rows of one section
        elif lines:
            sections.append(lines)
    return sections


def compare_families(
    network: Network,
    *,
    families: tuple[Family, ...] = FAMILIES,
    rewriting: Rewriting = Rewriting(),
    counting: Counting = Counting(),
    by_layer: bool = False,
    by_type: bool = False,
    device: Device | None = None,
    dtype: DType = "float32",
    batch_size: int = 1,
) -> ComparisonReport:
    """`network` costed in each of `families` side by side: one table per metric, a row per
    stage (or per layer with `by_layer`), a column per family and its ratio to regular;
    on a `device`, a table of roofline time bounds too (batch of `batch_size` in `dtype`).

    Stage rows show the stage's input shape (the resolution its convolutions run at);
    layer rows show the layer's output shape, as torchinfo and Keras summaries do. With
    fewer than two spatial axes there is no spatially separable family; it is left out.
    """
    _check_network(network)
    _check_settings(rewriting, counting)
    check_bool("by_layer", by_layer)
    check_bool("by_type", by_type)
    _check_device(device)
    if network.input_shape.ndim < 2:
        families = tuple(family for family in families if family != "spatially_separable")
    comparison = compare(
        network,
        families,
        bias=rewriting.bias,
        keep_first=rewriting.keep_first,
        mid_channels=rewriting.mid_channels,
    )
    counted = tuple(count(cost, counting.convention) for cost in comparison.costs)
    regular = comparison.costs[0]

    def counts(index: int) -> bool:
        return any(
            family_cost.rows[index].cost.total_params or result.rows[index]
            for family_cost, result in zip(comparison.costs, counted)
        )

    sections = _lines(regular, by_group=not by_layer, counts=counts)
    notes = (
        *rewrite_notes(comparison.families, comparison.rewrites, rewriting),
        counting_note(counting),
        *not_counted_note(regular),
    )
    tables = tuple(
        _comparison_table(comparison, counted, metric, counting, sections, by_layer)
        for metric in counting.metrics
    )
    bound = None
    if device is not None:
        from convcost.roofline import compare_roofline

        bound = compare_roofline(comparison, device, dtype=dtype, batch_size=batch_size)
        time_table, time_notes = _roofline_comparison(
            comparison, bound, sections, by_layer, counted
        )
        tables += (time_table,)
        notes += time_notes
    if by_type:
        tables += tuple(
            _by_kind_table(cost, f"{FAMILY_TITLES[family]}: MACs and parameters by layer type")
            for family, cost in zip(comparison.families, comparison.costs)
        )

    def document() -> dict[str, Any]:
        built: dict[str, Any] = {
            "schema": "convcost.compare",
            "version": JSON_SCHEMA_VERSION,
            "network": _network_json(network),
            "rewriting": _rewriting_json(rewriting),
            "conventions": _conventions_json(counting),
            "families": {
                family: {**_cost_document(cost, result, counting), "rewrite": _stats_json(stats)}
                for family, cost, result, stats in zip(
                    comparison.families, comparison.costs, counted, comparison.rewrites
                )
            },
            "ratios_to_regular": {
                family: {
                    "params": _ratio_json(comparison.ratio(family, "params")),
                    "macs": _ratio_json(_ratio(result.total, counted[0].total)),
                }
                for family, result in zip(comparison.families[1:], counted[1:])
            },
        }
        if bound is not None:
            built["roofline"] = {
                family: _roofline_json(result)
                for family, result in zip(comparison.families, bound.rooflines)
            }
            for family in comparison.families[1:]:
                built["ratios_to_regular"][family]["roofline_time"] = _ratio_json(
                    bound.ratio(family, "time")
                )
        return built

    return ComparisonReport(
        tables=tables,
        notes=notes,
        document=Document(document),
        comparison=comparison,
        counted=counted,
        roofline=bound,
    )


def _comparison_table(
    comparison: Comparison,
    counted: tuple[ProfileCount, ...],
    metric: Metric,
    counting: Counting,
    sections: list[list[_Line]],
    by_layer: bool,
) -> Table:
    value = _value_of(metric, counting)
    per_row = [
        result.rows if metric == "macs" else _row_values(cost, value)
        for cost, result in zip(comparison.costs, counted)
    ]

    def amount(family_index: int, indices: tuple[int, ...]) -> int:
        return sum(map(per_row[family_index].__getitem__, indices))

    every = tuple(range(len(comparison.costs[0].rows)))
    base = amount(0, every)
    ratios = ", ".join(
        f"{FAMILY_TITLES[family].lower()} {_fraction_text(_ratio(amount(i, every), base))}"
        for i, family in enumerate(comparison.families)
        if i
    )
    return _family_table(
        comparison,
        sections,
        by_layer,
        amount=amount,
        title=f"{_metric_header(metric, counting)} by convolution family",
        key=_metric_key(metric, counting),
        kind="count",
        exact=metric == "params",
        notes=(f"Exact total ratios to regular: {ratios or '-'}.",),
        bar=metric != "params",
    )


def _row_values(cost: NetworkCost, value: Callable[[LayerCost], int]) -> list[int]:
    """`value` of each row's cost, computed once per cost object (rows share them)."""
    known: dict[int, int] = {}
    values = []
    for row in cost.rows:
        found = known.get(id(row.cost))
        if found is None:
            found = known[id(row.cost)] = value(row.cost)
        values.append(found)
    return values


def _family_table(
    comparison: Comparison,
    sections: list[list[_Line]],
    by_layer: bool,
    *,
    amount: Callable[[int, tuple[int, ...]], int | Fraction],
    title: str,
    key: str,
    kind: CellKind,
    exact: bool = False,
    notes: tuple[str, ...] = (),
    bar: bool = False,
) -> Table:
    """A row per line (stage or layer), a column per family with its ratio to regular:
    `amount(family index, row indices)` is what a family's line counts. With `bar`, a
    bar of each line's share of the regular total follows the regular column."""
    every = tuple(range(len(comparison.costs[0].rows)))
    whole = amount(0, every)

    def cells(
        label: str | Name, shape: Shape, amounts: list[int | Fraction], *, last: bool = False
    ) -> tuple[Cell, ...]:
        row: list[Cell] = [label, shape]
        for position, total in enumerate(amounts):
            row.append(total)
            if bar and not position:
                row.append(None if last or not whole else Fraction(total) / whole)
            if position:
                row.append(Fraction(total) / amounts[0] if amounts[0] else None)
        return tuple(row)

    families = comparison.families
    columns = [
        Column(
            key="layer" if by_layer else "stage",
            header="Layer" if by_layer else "Stage",
            kind="name",
        ),
        Column(
            key="output" if by_layer else "input",
            header="Output" if by_layer else "Input",
            kind="shape",
        ),
    ]
    for family in families:
        columns.append(Column(key=family, header=FAMILY_HEADERS[family], kind=kind, exact=exact))
        if bar and family == "regular":
            columns.append(Column(key="regular_share_bar", header="", kind="bar"))
        if family != "regular":
            columns.append(Column(key=f"{family}_ratio", header="ratio", kind="percent"))
    body = tuple(
        tuple(
            cells(
                Name(line.label),
                line.shape,
                [amount(i, line.indices) for i in range(len(families))],
            )
            for line in section
        )
        for section in sections
    )
    regular = comparison.costs[0]
    totals = cells(
        "Total",
        regular.network.input_shape if not by_layer else regular.output_shape,
        [amount(i, every) for i in range(len(families))],
        last=True,
    )
    return Table(
        title=title,
        columns=tuple(columns),
        sections=body,
        totals=totals,
        notes=notes,
        key=("metric", key),
    )


def _roofline_comparison(
    comparison: Comparison,
    result: RooflineComparison,
    sections: list[list[_Line]],
    by_layer: bool,
    counted: tuple[ProfileCount, ...],
) -> tuple[Table, tuple[str, ...]]:
    """The roofline time bound by family, and the notes comparing it with the MACs."""
    rooflines = result.rooflines

    def time(family_index: int, indices: tuple[int, ...]) -> Fraction:
        rows = rooflines[family_index].rows
        return sum((rows[i].timing.time for i in indices), Fraction(0))

    first = rooflines[0]
    table = _family_table(
        comparison,
        sections,
        by_layer,
        amount=time,
        title=f"Roofline time by convolution family on {first.device.name}",
        key="time",
        kind="seconds",
    )
    notes = [
        f"{FAMILY_TITLES[family]} against regular: MACs "
        f"{format_percent(_ratio(counted[i].total, counted[0].total))}, bytes moved "
        f"{format_percent(result.ratio(family, 'moved'))}, roofline time "
        f"{format_percent(result.ratio(family, 'time'))}."
        for i, family in enumerate(comparison.families)
        if i
    ]
    return table, (*notes, _roofline_note(first))


def _fraction_text(ratio: Fraction | None) -> str:
    return "–" if ratio is None else str(ratio)


# --- one layer, in each family -------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LayerReport(Report):
    """One convolution in each family (what `convcost layer` shows): `costs` per family."""

    costs: Mapping[Family, LayerCost]


def compare_layer(
    input_shape: Shape,
    *,
    out_channels: int,
    kernel_size: int | tuple[int, ...] = 3,
    stride: int | tuple[int, ...] = 1,
    padding: Padding = 0,
    dilation: int | tuple[int, ...] = 1,
    groups: int = 1,
    bias: bool = True,
    depth_multiplier: int = 1,
    rewriting: Rewriting = Rewriting(),
    counting: Counting = Counting(),
    explain: bool = False,
) -> LayerReport:
    """One convolution (biased by default, as in PyTorch and Keras) and its spatially and
    depthwise separable forms; with `explain`, every formula written out (`explanation`).

    The separable forms keep the window (kernel, stride, padding, dilation) and the
    channels; a biased convolution gives them the `rewriting` bias convention, an unbiased
    one none. With one spatial axis there is no spatially separable form.
    """
    if not isinstance(input_shape, Shape):
        raise FieldError("input_shape", input_shape, "a Shape (see parse_shape)")
    _check_settings(rewriting, counting)
    check_bool("bias", bias)
    check_bool("explain", explain)
    window: dict[str, Any] = {
        "kernel_size": kernel_size,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "out_channels": out_channels,
    }
    convention: BiasConvention = rewriting.bias if bias else "none"
    layers: dict[Family, Any] = {"regular": Conv(**window, groups=groups, bias=bias)}
    if input_shape.ndim >= 2:
        layers["spatially_separable"] = SpatiallySeparableConv(
            **window, mid_channels=rewriting.mid_channels, bias=convention
        )
    layers["depthwise_separable"] = DepthwiseSeparableConv(
        **window, depth_multiplier=depth_multiplier, bias=convention
    )
    costs: dict[Family, LayerCost] = {}
    for family, spec in layers.items():
        try:
            costs[family] = layer_cost(spec, input_shape)
        except ConvCostError as error:
            raise ConvCostError(f"{FAMILY_TITLES[family].lower()}: {error}") from error
    notes = [f"Regular: {'biased' if bias else 'no bias'}."]
    if "spatially_separable" in costs:
        notes.append(
            f"Spatially separable: {_mid_words(rewriting.mid_channels)}; {_BIAS_WORDS[convention]}."
        )
    notes.append(f"Depthwise separable: {_BIAS_WORDS[convention]}.")
    notes.append(counting_note(counting))
    document = {
        "schema": "convcost.layer",
        "version": JSON_SCHEMA_VERSION,
        "input_shape": shape_json(input_shape),
        "rewriting": _rewriting_json(rewriting),
        "conventions": _conventions_json(counting),
        "families": {family: _part_json(cost, counting) for family, cost in costs.items()},
        "ratios_to_regular": {
            family: {
                "params": _ratio_json(_ratio(cost.params, costs["regular"].params)),
                "macs": _ratio_json(_ratio(cost.macs, costs["regular"].macs)),
            }
            for family, cost in costs.items()
            if family != "regular"
        },
    }
    explanation = tuple(
        line for cost in costs.values() for line in (*explain_cost(cost), "") if explain
    )
    return LayerReport(
        tables=(_layer_table(costs, counting, tuple(notes)),),
        document=document,
        explanation=explanation,
        costs=costs,
    )


def _layer_table(
    costs: Mapping[Family, LayerCost], counting: Counting, notes: tuple[str, ...]
) -> Table:
    """A row per family and per part, each count followed by its ratio to regular."""
    regular = costs["regular"]
    metrics = counting.metrics
    values = [_value_of(metric, counting) for metric in metrics]
    columns = [
        Column(key="family", header="Family", kind="name"),
        Column(key="output", header="Output", kind="shape"),
    ]
    for metric in metrics:
        title = METRIC_TITLES[metric]
        columns += [
            Column(key=metric, header=title, kind="count", exact=metric == "params"),
            Column(
                key=f"{metric}_ratio",
                header=f"{'params' if metric == 'params' else title} %",
                kind="percent",
            ),
        ]
    section = []
    for family, cost in costs.items():
        entries = [(Name(FAMILY_TITLES[family]), cost)]
        entries += [
            (Name(f"{FAMILY_TITLES[family]}: {part.layer.label}", 1), part) for part in cost.parts
        ]
        for label, entry in entries:
            row: list[Cell] = [label, entry.output_shape]
            for value in values:
                row.append(value(entry))
                row.append(_ratio(value(entry), value(regular)) if entry is cost else None)
            section.append(tuple(row))
    return Table(
        title=f"One layer on {regular.input_shape}, by convolution family",
        columns=tuple(columns),
        sections=(tuple(section),),
        notes=notes,
    )


def _product_text(terms: tuple[tuple[str, int], ...]) -> tuple[str, str]:
    names = " × ".join(name for name, _ in terms)
    values = " × ".join(str(value) for _, value in terms)
    return names, values


def explain_cost(cost: LayerCost, *, indent: str = "  ") -> tuple[str, ...]:
    """Each formula of `cost` with the numbers substituted, as tutorials write them.

    >>> from convcost import Conv, Shape, layer_cost
    >>> conv = Conv(out_channels=10, kernel_size=3, bias=False)
    >>> for line in explain_cost(layer_cost(conv, Shape(3, (15, 15)))):
    ...     print(line)
    Conv (regular) 3x15x15 -> 10x13x13
      params = k_h × k_w × C_in × C_out = 3 × 3 × 3 × 10 = 270
      MACs   = k_h × k_w × C_in × C_out × H_out × W_out = 3 × 3 × 3 × 10 × 13 × 13 = 45,630
    """
    head = f"{cost.layer.label} ({cost.kind}) {cost.input_shape} -> {cost.output_shape}"
    lines = [head]
    if cost.parts:
        for part in cost.parts:
            lines += [indent + line for line in explain_cost(part, indent=indent)]
        params = " + ".join(f"{part.params:,}" for part in cost.parts)
        macs = " + ".join(f"{part.macs:,}" for part in cost.parts)
        lines.append(f"{indent}params = {params} = {cost.params:,}")
        lines.append(f"{indent}MACs   = {macs} = {cost.macs:,}")
        return tuple(lines)
    if cost.weight_terms:
        names, values = _product_text(cost.weight_terms)
        if cost.bias:
            bias_name = "out_features" if cost.kind == "dense" else "C_out"
            names, values = f"{names} + {bias_name}", f"{values} + {cost.bias}"
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


# --- the lists: presets, profiles, and how each profile counts a network ------------------


def presets_report() -> Report:
    """The built-in networks, their parameters and sources (what `convcost presets` shows)."""
    from convcost.presets import PRESETS  # presets are built only when asked for

    def shown(value: object) -> str:
        return "x".join(map(str, value)) if isinstance(value, tuple) else str(value)

    rows = tuple(
        (
            preset.name,
            preset.description,
            ", ".join(f"{p.name}={shown(p.default)}" for p in preset.parameters) or "-",
            preset.source,
        )
        for preset in PRESETS.values()
    )
    table = Table(
        title="Presets",
        columns=(
            Column(key="name", header="Name", kind="name"),
            Column(key="description", header="Description"),
            Column(key="parameters", header="Parameters"),
            Column(key="source", header="Source"),
        ),
        sections=(rows,),
    )
    document = {
        "schema": "convcost.presets",
        "version": JSON_SCHEMA_VERSION,
        "presets": [
            {
                "name": preset.name,
                "description": preset.description,
                "source": preset.source,
                "parameters": [
                    {
                        "name": p.name,
                        "type": p.type_name,
                        "default": _json_value(p.default),
                        "help": p.help,
                        **({"choices": list(p.choices)} if p.choices else {}),
                    }
                    for p in preset.parameters
                ],
            }
            for preset in PRESETS.values()
        ],
    }
    return Report(tables=(table,), document=document)


def _json_value(value: object) -> object:
    if isinstance(value, Shape):
        return shape_json(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Fraction):
        return float(value)
    return value


def profiles_report(extra: Iterable[Profile] = ()) -> Report:
    """The counting profiles, one line each (what `convcost conventions` shows)."""
    profiles = (*PROFILES.values(), *extra)
    table = Table(
        title="Counting conventions",
        columns=(
            Column(key="profile", header="Profile", kind="name"),
            Column(key="counts", header="Counts"),
            Column(key="peer", header="Peer"),
        ),
        sections=(tuple((p.name, p.description, p.peer) for p in profiles),),
    )
    document = {
        "schema": "convcost.conventions",
        "version": JSON_SCHEMA_VERSION,
        "profiles": [profile_to_mapping(p) for p in profiles],
    }
    return Report(tables=(table,), document=document)


def conventions_report(network: Network, extra: Iterable[Profile] = ()) -> Report:
    """How each profile counts `network`: its total and, per operation type, where it
    differs from ``paper`` — why the tools disagree (what `convcost conventions NETWORK`
    shows). Totals are exact: the differences are what the table is for."""
    from convcost.network import network_cost

    _check_network(network)
    cost = network_cost(network)
    counts = compare_profiles(cost, (*PROFILES.values(), *extra))
    table = Table(
        title=f"{network.name or 'network'}: counted by each tool's convention",
        columns=(
            Column(key="profile", header="Profile", kind="name"),
            Column(key="total", header="Total", kind="count", exact=True),
            Column(key="differences", header="Differs from paper by"),
        ),
        sections=(
            tuple(
                (counted.profile.name, counted.total, _differences(counted)) for counted in counts
            ),
        ),
        notes=(
            "paper: multiply-adds of convolutions and dense layers only, as papers quote",
            *not_counted_note(cost),
        ),
    )
    document = {
        "schema": "convcost.conventions",
        "version": JSON_SCHEMA_VERSION,
        "network": _network_json(network),
        "params": cost.totals.params,
        "counts": [{**_counted_json(counted), "peer": counted.profile.peer} for counted in counts],
    }
    return Report(tables=(table,), document=document)


def _differences(counted: ProfileCount) -> str:
    parts = [
        f"{kind} {'+' if value > 0 else '−'}{abs(value):,}"
        for kind, value in counted.differences.items()
    ]
    return ", ".join(parts) or "—"
