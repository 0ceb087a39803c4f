"""Charts of reports, written to PNG, SVG or PDF files (the optional extra ``convcost[plot]``).

matplotlib is imported inside the functions that draw, so that nothing else pays for it,
and only its figure and Agg canvas are used: no ``pyplot``, no global state, no display.
Each function checks its arguments and the file name (the suffix picks the format:
``.png``, ``.svg`` or ``.pdf``) before drawing anything, draws into memory, then writes
the file through a temporary file beside it, renamed over it only once complete, so
that a failing plot leaves an existing file as it was.

Every chart carries a title, axis labels with their units (MACs, not FLOPs, unless FLOPs
were asked for), the counting convention and the input shape. The numbers drawn are the
report's own: the cells of its tables, or its points.

>>> from convcost.sweep import parse_grid, sweep
>>> report = sweep("mobilenet-v1", parse_grid(["width=0.25,0.5,0.75,1"]))
>>> plot_sweep(report, "mobilenet.gif")
Traceback (most recent call last):
  ...
convcost.errors.ConvCostError: mobilenet.gif: a chart is written as .png, .svg or .pdf (the file name's suffix picks it)
"""  # noqa: E501

from __future__ import annotations

import io
import itertools
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from convcost.checks import check_bool
from convcost.errors import ConvCostError, FieldError
from convcost.files import check_output, source_name
from convcost.network import FAMILIES
from convcost.report import FAMILY_TITLES, ComparisonReport, Name, Summary, Table
from convcost.sweep import SweepReport
from convcost.units import format_count

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from convcost.roofline import Roofline

__all__ = [
    "PLOT_FORMATS",
    "check_plot_path",
    "load_matplotlib",
    "plot_comparison",
    "plot_summary",
    "plot_sweep",
]

PLOT_FORMATS: Final = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
"""File suffixes and the format each writes."""

MAX_BARS: Final = 2000
"""Bars (or points, or lines) one chart draws at most; beyond that nothing can be read."""

_INCHES_PER_BAR: Final = 0.22
_MAX_INCHES: Final = 60.0  # matplotlib's Agg canvas refuses images past 2**16 pixels a side
_DPI: Final = 100
_PARAM_KEYS: Final = ("params", "non_trainable")
_FAMILY_STYLES: Final = {
    "regular": ("C0", "-", "o"),
    "spatially_separable": ("C1", "--", "s"),
    "depthwise_separable": ("C2", ":", "^"),
}


# --- the file ----------------------------------------------------------------------------


def check_plot_path(path: str | os.PathLike[str]) -> tuple[Path, str]:
    """The file a chart would be written to and its format (png, svg, pdf), checked as
    an output file: for a command to refuse a bad ``--plot`` before any work. Needs no
    matplotlib.

    >>> check_plot_path("chart.jpg")
    Traceback (most recent call last):
      ...
    convcost.errors.ConvCostError: chart.jpg: a chart is written as .png, .svg or .pdf (the file name's suffix picks it)
    """  # noqa: E501
    if not isinstance(path, (str, os.PathLike)) or isinstance(path, bytes):
        raise FieldError("path", path, "a file name ending in .png, .svg or .pdf")
    suffix = Path(os.fspath(path)).suffix.lower()
    if suffix not in PLOT_FORMATS:
        raise ConvCostError(
            f"{source_name(path)}: a chart is written as .png, .svg or .pdf "
            "(the file name's suffix picks it)"
        )
    return check_output(path), PLOT_FORMATS[suffix]


def _write_bytes(target: Path, data: bytes) -> None:
    """`data` to `target` through a temporary file beside it, renamed over it only once
    complete (as `convcost.files.write_atomic` writes text); an existing file keeps its
    permissions, a new one gets what the umask gives."""
    descriptor, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name[:64]}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            mask = os.umask(0o022)
            os.umask(mask)
            mode = 0o666 & ~mask
        Path(temporary).chmod(mode)
        Path(temporary).replace(target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_matplotlib() -> Any:
    """matplotlib, or a `ConvCostError` saying how to install it."""
    try:
        import matplotlib
    except ImportError:
        raise ConvCostError(
            "charts need matplotlib: pip install convcost[plot] (or pip install matplotlib)"
        ) from None
    return matplotlib


@contextmanager
def _figure(width: float, height: float) -> Iterator[Figure]:
    """A figure on an Agg canvas, with settings that make files reproducible: SVG text
    kept as text (searchable, and read by the tests) and fixed SVG ids."""
    matplotlib = load_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    settings = {"svg.fonttype": "none", "svg.hashsalt": "convcost", "pdf.fonttype": 42}
    with matplotlib.rc_context(settings):
        figure = Figure(
            figsize=(min(width, _MAX_INCHES), min(height, _MAX_INCHES)),
            dpi=_DPI,
            layout="constrained",
        )
        FigureCanvasAgg(figure)
        yield figure


def _save(figure: Figure, target: Path, format: str) -> Path:
    buffer = io.BytesIO()
    metadata = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}
    figure.savefig(buffer, format=format, metadata=metadata[format])
    _write_bytes(target, buffer.getvalue())
    return target


# --- pieces every chart shares -----------------------------------------------------------


def _caption(figure: Figure, title: str, *lines: str) -> None:
    figure.suptitle(title + "".join(f"\n{line}" for line in lines), fontsize="medium")


def _count_axis(axes: Axes, label: str, *, log: bool, which: str = "y") -> None:
    """Counts in K/M/G units on a linear or log axis, labelled with their unit."""
    from matplotlib.ticker import FuncFormatter

    def shown(value: float, _position: object) -> str:
        return format_count(round(value)) if value >= 0 else ""

    axis = axes.yaxis if which == "y" else axes.xaxis
    if log:
        (axes.set_yscale if which == "y" else axes.set_xscale)("log")
    else:
        axis.set_major_formatter(FuncFormatter(shown))
    (axes.set_ylabel if which == "y" else axes.set_xlabel)(label)


def _convention_line(name: str, per_sample: bool = True) -> str:
    words = "as papers count them" if name == "paper" else f"counted as {name!r} counts them"
    return f"MACs {words}" + (", per sample" if per_sample else "")


def _check_count(what: str, count: int) -> None:
    if count > MAX_BARS:
        raise ConvCostError(
            f"the chart would draw {count:,} {what}; a chart draws at most {MAX_BARS:,}"
        )


# --- compare -----------------------------------------------------------------------------


def _metric_tables(report: ComparisonReport) -> list[Table]:
    """The comparison's params table and its MACs (or FLOPs) table: two panels."""
    tables = [table for table in report.tables if table.key and table.key[0] == "metric"]
    params = [table for table in tables if table.key and table.key[1] == "params"]
    macs = [table for table in tables if table.key and table.key[1].startswith("macs")]
    flops = [table for table in tables if table.key and table.key[1] == "flops"]
    if not params or not (macs or flops):
        raise FieldError("report", report, "a ComparisonReport with params and MACs tables")
    return [params[0], (macs or flops)[0]]


def plot_comparison(
    report: ComparisonReport, path: str | os.PathLike[str], *, log: bool = False
) -> Path:
    """Grouped bars per stage (the rows of the comparison's tables), one bar per family:
    parameters above, MACs below (FLOPs when only FLOPs were asked for); a log scale
    with `log`. Returns the file written."""
    if not isinstance(report, ComparisonReport):
        raise FieldError("report", report, "a ComparisonReport (see compare_families)")
    check_bool("log", log)
    target, format = check_plot_path(path)
    tables = _metric_tables(report)
    families = [column.key for column in tables[0].columns if column.key in FAMILIES]
    by_layer = tables[0].columns[0].key == "layer"
    labels = [
        f"{_label(row[0])} ({row[1]})" if by_layer else f"{_label(row[0])}\n{row[1]}"
        for row in tables[0].rows
    ]
    _check_count("bars", len(labels) * len(families))
    network = report.comparison.costs[0].network
    width = max(7.0, 1.0 + len(labels) * len(families) * _INCHES_PER_BAR)
    with _figure(width, 7.5) as figure:
        panels = figure.subplots(2, 1, sharex=True)
        for axes, table in zip(panels, tables):
            keys = [column.key for column in table.columns]
            metric = table.key[1] if table.key else ""
            step = 0.8 / len(families)
            for index, family in enumerate(families):
                column = keys.index(family)
                values = [_number(row[column]) for row in table.rows]
                positions = [i - 0.4 + step * (index + 0.5) for i in range(len(labels))]
                color, _, _ = _FAMILY_STYLES[family]
                axes.bar(positions, values, step, label=FAMILY_TITLES[family], color=color)
            _count_axis(axes, _metric_label(metric, table), log=log)
            axes.grid(axis="y", alpha=0.3)
        panels[0].legend(title="Convolution family", fontsize="small")
        panels[1].set_xticks(range(len(labels)), labels, rotation=90 if len(labels) > 8 else 0)
        panels[1].set_xlabel("Layer (output shape)" if by_layer else "Stage (input shape)")
        _caption(
            figure,
            f"{network.name or 'network'}: parameters and MACs by convolution family",
            f"input {network.input_shape}; {_convention_line(report.counted[0].profile.name)}"
            + ("; log scale" if log else ""),
        )
        return _save(figure, target, format)


def _label(cell: object) -> str:
    return cell.text if isinstance(cell, Name) else str(cell)


def _number(cell: object) -> int:
    if not isinstance(cell, int) or isinstance(cell, bool):
        raise FieldError("cell", cell, "a count")
    return cell


def _metric_label(metric: str, table: Table) -> str:
    """The panel's unit: the table's own header for the metric (``MACs (ptflops)``)."""
    if metric == "params":
        return "Parameters"
    header = table.title.split(" by ")[0]
    return f"{header} per sample"


# --- summary -----------------------------------------------------------------------------


def plot_summary(
    report: Summary,
    path: str | os.PathLike[str],
    *,
    roofline: Roofline | None = None,
    log: bool = False,
) -> Path:
    """MACs per layer (horizontal bars, layers that compute nothing left out; FLOPs when
    only FLOPs were asked for); with a `roofline` of the report's network
    (`convcost.roofline.roofline(report.cost, device)`), a second panel: each layer as a
    point, coloured by kind, under the device's roof. Returns the file written."""
    if not isinstance(report, Summary):
        raise FieldError("report", report, "a Summary (see convcost.report.summary)")
    check_bool("log", log)
    if roofline is not None:
        from convcost.roofline import Roofline

        if not isinstance(roofline, Roofline):
            raise FieldError("roofline", roofline, "a Roofline (see convcost.roofline.roofline)")
        if roofline.cost is not report.cost and roofline.cost != report.cost:
            raise ConvCostError("the roofline is of another network than the summary")
    target, format = check_plot_path(path)
    table = report.tables[0]
    counts = [c for c in table.columns if c.kind == "count" and c.key not in _PARAM_KEYS]
    if not counts:
        raise FieldError("report", report, "a Summary with a MACs column")
    column = table.columns.index(counts[0])  # MACs (under the convention), else FLOPs
    bars = [(_label(row[0]), _number(row[column])) for row in table.rows if row[column]]
    _check_count("bars", len(bars))
    network = report.cost.network
    height = max(4.0, 1.5 + len(bars) * _INCHES_PER_BAR)
    panels = 1 if roofline is None else 2
    with _figure(8.0 * panels, height) as figure:
        axes = figure.subplots(1, panels, squeeze=False)[0]
        names = [name for name, _ in bars]
        axes[0].barh(range(len(bars)), [value for _, value in bars], color="C0")
        axes[0].set_yticks(range(len(bars)), names, fontsize="small")
        axes[0].invert_yaxis()  # the first layer on top, as the table lists it
        header = counts[0].header
        _count_axis(axes[0], f"{header} per sample", log=log, which="x")
        axes[0].set_ylabel("Layer")
        axes[0].grid(axis="x", alpha=0.3)
        if roofline is not None:
            axes[0].set_title(f"{header} per layer", fontsize="medium")
        lines = [f"input {network.input_shape}; {_convention_line(report.counted.profile.name)}"]
        if roofline is not None:
            lines.append(_draw_roofline(axes[1], roofline))
        _caption(figure, f"{network.name or 'network'}: {header} per layer", *lines)
        return _save(figure, target, format)


def _draw_roofline(axes: Axes, roofline: Roofline) -> str:
    """Layers as points (intensity, attained FLOP/s) under the roof; the caption line."""
    device, dtype = roofline.device, roofline.dtype
    peak, bandwidth = device.peak_for(dtype), device.bandwidth
    by_kind: dict[str, list[tuple[float, float]]] = {}
    skipped = 0
    for item in roofline.rows:
        intensity, time = item.traffic.intensity, item.timing.time
        if not item.traffic.flops or intensity is None or not time:
            skipped += 1
            continue
        attained = Fraction(item.traffic.flops) / time
        by_kind.setdefault(item.row.cost.kind, []).append((float(intensity), float(attained)))
    _check_count("points", sum(map(len, by_kind.values())))
    ridge = float(roofline.ridge_point)
    xs = [x for points in by_kind.values() for x, _ in points] or [ridge]
    low, high = min(min(xs), ridge) / 4, max(max(xs), ridge) * 4
    roof_x = [low, ridge, high]
    axes.plot(roof_x, [min(peak, bandwidth * x) for x in roof_x], color="black", linewidth=1.5,
              label=f"roof: {format_count(peak)}FLOP/s, {format_count(bandwidth)}B/s")  # fmt: skip
    axes.axvline(ridge, color="grey", linestyle=":", linewidth=1)
    for index, (kind, points) in enumerate(by_kind.items()):
        axes.scatter(
            [x for x, _ in points],
            [y for _, y in points],
            s=18,
            color=f"C{index % 10}",
            label=kind,
            zorder=3,
        )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("Arithmetic intensity (FLOPs per byte moved; FLOPs = 2 × MACs)")
    axes.set_ylabel("Attained performance bound (FLOP/s)")
    axes.set_title(
        f"Roofline on {device.name} ({dtype}, batch {roofline.batch_size:,})", fontsize="medium"
    )
    axes.grid(which="both", alpha=0.3)
    axes.legend(title="Layer kind", fontsize="small")
    shown = f"; {skipped:,} layers moving data only are not shown" if skipped else ""
    return f"roofline: {device.name}, ridge point {ridge:.3g} FLOPs per byte{shown}"


# --- sweep -------------------------------------------------------------------------------


def _position(value: object) -> float | None:
    """A parameter's value on a numeric axis, or None for one that is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, Fraction)):
        return float(value)
    return None


def plot_sweep(
    report: SweepReport,
    path: str | os.PathLike[str],
    *,
    x: str | None = None,
    log: bool = False,
) -> Path:
    """Each total against the swept parameter `x` (the first one by default): one panel
    per total the sweep's table shows (parameters, MACs or FLOPs, and the time bound
    with a device); one line per family, and per value of the other swept parameters.
    Returns the file written."""
    if not isinstance(report, SweepReport):
        raise FieldError("report", report, "a SweepReport (see convcost.sweep.sweep)")
    check_bool("log", log)
    names = report.grid.names
    if x is None:
        x = names[0]
    if x not in names:
        raise ConvCostError(f"x must be a swept parameter ({', '.join(names)}), got {x!r}")
    target, format = check_plot_path(path)
    others = [name for name in names if name != x]
    groups: dict[tuple[object, ...], list[int]] = {}
    for index, point in enumerate(report.points):
        groups.setdefault(tuple(point.parameters[name] for name in others), []).append(index)
    lines = len(groups) * len(report.families)
    _check_count("lines", lines)
    _check_count("points", lines * len(report.grid.axes[names.index(x)].values))
    xs = [point.parameters[x] for point in report.points]
    numeric = all(_position(value) is not None for value in xs)
    categories = list(dict.fromkeys(str(value) for value in xs))
    metrics = report.metrics
    counting = report.counting
    with _figure(9.0, 2.0 + 3.0 * len(metrics)) as figure:
        panels = figure.subplots(len(metrics), 1, sharex=True, squeeze=False)[:, 0]
        colors = itertools.cycle(f"C{i}" for i in range(10))
        for group, indices in groups.items():
            color = next(colors) if others else None
            for family in report.families:
                family_color, style, marker = _FAMILY_STYLES[family]
                where = [
                    _position(xs[i]) if numeric else categories.index(str(xs[i])) for i in indices
                ]
                label = FAMILY_TITLES[family] + "".join(
                    f", {name}={_shown(value)}" for name, value in zip(others, group)
                )
                for axes, metric in zip(panels, metrics):
                    values = [report.points[i].value(family, metric) for i in indices]
                    axes.plot(
                        where,
                        [float(v) if v is not None else float("nan") for v in values],
                        color=color or family_color,
                        linestyle=style,
                        marker=marker,
                        markersize=3,
                        label=label,
                    )
        for axes, metric in zip(panels, metrics):
            if metric == "time":
                axes.set_ylabel("Roofline time bound (s)")
                if log:
                    axes.set_yscale("log")
            else:
                _count_axis(axes, _sweep_label(metric, report), log=log)
            axes.grid(alpha=0.3)
        if lines <= 12:
            panels[0].legend(fontsize="small")
        if not numeric:
            panels[-1].set_xticks(range(len(categories)), categories)
        panels[-1].set_xlabel(x)
        shapes = list(dict.fromkeys(point.input_shape for point in report.points))
        inputs = f"input {shapes[0]}" if len(shapes) == 1 else f"inputs {shapes[0]} to {shapes[-1]}"
        fixed = report.document.get("parameters") or {}
        caption = [
            f"{inputs}; {_convention_line(counting.convention.name)}",
        ]
        if fixed:
            caption.append("fixed: " + ", ".join(f"{k}={v}" for k, v in fixed.items()))
        if lines > 12:
            caption.append(f"{lines:,} lines: one per family and value of {', '.join(others)}")
        _caption(figure, f"{report.source}: cost against {x}", *caption)
        return _save(figure, target, format)


def _shown(value: object) -> str:
    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else str(float(value))
    if isinstance(value, tuple):
        return "x".join(map(str, value))
    return str(value).lower() if isinstance(value, bool) else str(value)


def _sweep_label(metric: str, report: SweepReport) -> str:
    convention = report.counting.convention.name
    if metric == "params":
        return "Parameters"
    if metric == "macs":
        return "MACs per sample" + ("" if convention == "paper" else f" ({convention})")
    return "FLOPs per sample"
