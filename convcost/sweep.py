"""Sweeps: one network costed at every point of a grid of preset parameters.

A grid is written as the command line writes it, one ``NAME=VALUES`` per parameter:
values separated by commas (``width=0.25,0.5,0.75,1``), or an inclusive range
``start:stop[:step]`` of numbers (``resolution=128:224:32``; decimals are exact:
``width=0.25:1:0.25``), or both (``resolution=96:128:32,224``). Several parameters give
their Cartesian product, the first varying slowest. Values stay text until the preset's
own parameter reads them, so a sweep accepts exactly what ``--param`` accepts, one value
at a time. Bad grids (an empty list, a reversed range, a step of 0, a name given twice,
more than `MAX_POINTS` points) are refused with one line before any work, the number of
points computed from the sizes, never by listing them.

>>> grid = parse_grid(["width=1,0.75,0.5,0.25", "resolution=224:128:-32"])
Traceback (most recent call last):
  ...
convcost.errors.ConvCostError: --param 'resolution=224:128:-32': a range's step must be ...
>>> grid = parse_grid(["width=1,0.75,0.5,0.25", "resolution=128:224:32"])
>>> grid.size, grid.names
(16, ('width', 'resolution'))

MobileNet's Table 6 (width at 224) and the depthwise separable family's saving on its
regular first convolution, exactly:

>>> report = sweep("mobilenet-v1", grid, families=("depthwise_separable",))
>>> [point.family("regular").counted for point in report.points[3::4]]
[568740352, 325400448, 149497088, 41030272]
>>> report.points[3].ratio("depthwise_separable", "macs")
Fraction(2185333, 2221642)

Each point is the network `load_network` builds from the point's parameters, costed in
each family exactly as `convcost.report.compare_families` costs it: a point's totals are
that report's totals. What repeats between points is costed once: a network is a chain
of its top-level layers and blocks, so each (block, input shape) pair's totals are kept
and reused by every later point that has it (ResNet-50's body at one resolution, for
every number of classes).
"""

from __future__ import annotations

import itertools
import re
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, TypeVar, get_args

from convcost.checks import check_choice, check_int
from convcost.conventions import Profile, count, count_row, profile_to_mapping
from convcost.costs import LayerCost, flops, join_cost, layer_cost
from convcost.errors import ConvCostError, FieldError, PresetError, show
from convcost.layers import JOINS, Add, Concat, Layer
from convcost.limits import MAX_BATCH, MAX_POINTS
from convcost.memory import DTYPES, DType
from convcost.network import (
    FAMILIES,
    Family,
    Network,
    Node,
    Parallel,
    Residual,
    RewriteStats,
    Sequential,
    Totals,
    compare,
    rewrite_with_stats,
)
from convcost.report import (
    FAMILY_HEADERS,
    JSON_SCHEMA_VERSION,
    METRIC_TITLES,
    Cell,
    Column,
    Counting,
    Document,
    Report,
    Rewriting,
    Table,
    counting_note,
    rewrite_notes,
    shape_json,
)
from convcost.shapes import Shape

if TYPE_CHECKING:
    from convcost.devices import Device
    from convcost.presets import Value
    from convcost.roofline import Timing

__all__ = [
    "Axis",
    "FamilyResult",
    "Grid",
    "SweepPoint",
    "SweepReport",
    "parse_grid",
    "split_grid",
    "sweep",
]


MAX_CACHED_SEGMENTS: Final = 4096
"""(block, input shape) totals a sweep keeps; the oldest go first."""
MAX_CACHED_LAYERS: Final = 16384
"""(layer, input shape) costs a sweep keeps; the oldest go first."""

SweepMetric: TypeAlias = Literal["params", "macs", "flops", "time"]
SWEEP_METRICS: Final[tuple[SweepMetric, ...]] = get_args(SweepMetric)

# --- the grid ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Axis:
    """One swept parameter: its `name` and its `values`, as text, in order, each once."""

    name: str
    values: tuple[str, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise FieldError("name", self.name, "a parameter name (a Python identifier)")
        if isinstance(self.values, list):
            object.__setattr__(self, "values", tuple(self.values))
        values = self.values
        if not isinstance(values, tuple) or not values:
            raise FieldError(self.name, values, "one value or more")
        if not all(isinstance(value, str) and value.strip() for value in values):
            raise FieldError(self.name, values, "non-empty texts")
        if len(values) > MAX_POINTS:
            raise FieldError(self.name, len(values), f"at most {MAX_POINTS:,} values")
        repeated = _first_repeat(values)
        if repeated is not None:
            raise ConvCostError(f"{self.name} lists {show(repeated)} twice")


@dataclass(frozen=True, kw_only=True, slots=True)
class Grid:
    """Swept parameters, in order; the points are their Cartesian product, the first
    parameter varying slowest. At most `MAX_POINTS` points."""

    axes: tuple[Axis, ...]

    def __post_init__(self) -> None:
        if isinstance(self.axes, list):
            object.__setattr__(self, "axes", tuple(self.axes))
        if not isinstance(self.axes, tuple) or not self.axes:
            raise ConvCostError("a sweep needs a parameter to sweep: --param NAME=VALUES")
        if not all(isinstance(axis, Axis) for axis in self.axes):
            raise FieldError("axes", self.axes, "a tuple of Axis")
        repeated = _first_repeat(self.names)
        if repeated is not None:
            raise ConvCostError(f"{repeated} is swept twice: give it one --param")
        _check_points([(axis.name, len(axis.values)) for axis in self.axes])

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(axis.name for axis in self.axes)

    @property
    def size(self) -> int:
        """The number of points."""
        size = 1
        for axis in self.axes:
            size *= len(axis.values)
        return size

    def points(self) -> Iterator[dict[str, str]]:
        """Each point's parameters, as text, in order."""
        for values in itertools.product(*(axis.values for axis in self.axes)):
            yield dict(zip(self.names, values))


def _first_repeat(items: Sequence[str]) -> str | None:
    seen: set[str] = set()
    for item in items:
        if item in seen:
            return item
        seen.add(item)
    return None


def _check_points(sizes: list[tuple[str, int]]) -> None:
    """Refuse a grid of more than `MAX_POINTS` points, from the sizes alone (multiplied
    only while the product stays small, so that it is always cheap to write)."""
    product = 1
    for index, (_, size) in enumerate(sizes):
        product *= size
        if product > MAX_POINTS and (product > 10**30 or index + 1 == len(sizes)):
            shown = " × ".join(f"{count:,} {name}" for name, count in sizes[: index + 1])
            more = " or more" if index + 1 < len(sizes) else ""
            raise ConvCostError(
                f"the grid has {product:,} points{more} ({shown}); a sweep takes at most "
                f"{MAX_POINTS:,}: sweep fewer values"
            )


_NUMBER: Final = r"-?(?:[0-9]{1,18}(?:\.[0-9]{1,12})?|\.[0-9]{1,12})"
_NUMBER_RE: Final = re.compile(_NUMBER)
_NAME_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXAMPLE: Final = "e.g. --param width=0.25,0.5,1 or --param resolution=128:224:32"


@dataclass(frozen=True, slots=True)
class _Range:
    """``start:stop:step``, inclusive of `stop` when a step lands on it."""

    start: Fraction
    step: Fraction
    size: int
    places: int  # decimals of its values; 0 for an integer range

    def texts(self) -> tuple[str, ...]:
        return tuple(_decimal(self.start + i * self.step, self.places) for i in range(self.size))


def _decimal(value: Fraction, places: int) -> str:
    """`value` (a multiple of 10**-places) as a decimal, without trailing zeros."""
    scaled = value * 10**places
    sign = "-" if scaled < 0 else ""
    whole, fraction = divmod(abs(int(scaled)), 10**places)
    decimals = f"{fraction:0{places}d}".rstrip("0") if places else ""
    return f"{sign}{whole}" + (f".{decimals}" if decimals else "")


def _places(text: str) -> int:
    return len(text.partition(".")[2])


def _is_range(item: str) -> bool:
    """A range starts with a number before its colon (``hwc:32x32x3`` is a shape)."""
    head, colon, _ = item.partition(":")
    return bool(colon) and bool(re.fullmatch(r"\s*[-.0-9].*", head))


def _parse_range(item: str, where: str) -> _Range:
    parts = [part.strip() for part in item.split(":")]
    if len(parts) not in (2, 3):
        raise ConvCostError(f"{where}: a range is start:stop or start:stop:step, got {item!r}")
    for part in parts:
        if not _NUMBER_RE.fullmatch(part):
            raise ConvCostError(
                f"{where}: {show(part)} in the range {show(item)} is not a number; a range "
                "is start:stop:step of decimal numbers (at most 18 digits and 12 decimals), "
                "e.g. 128:224:32 or 0.25:1:0.25"
            )
    start, stop = Fraction(parts[0]), Fraction(parts[1])
    step = Fraction(parts[2]) if len(parts) == 3 else Fraction(1)
    if step <= 0:
        raise ConvCostError(f"{where}: a range's step must be positive, got {parts[2]}")
    if start > stop:
        raise ConvCostError(
            f"{where}: the range {item!r} runs backwards; write start:stop:step with start <= stop"
        )
    places = max(_places(parts[0]), _places(parts[2]) if len(parts) == 3 else 0)
    return _Range(start=start, step=step, size=int((stop - start) // step) + 1, places=places)


def _parse_axis(text: str) -> tuple[str, list[str | _Range]]:
    """One ``NAME=VALUES`` text as a name and its items (values and unexpanded ranges)."""
    if not isinstance(text, str):
        raise FieldError("grid", text, "NAME=VALUES text")
    where = f"--param {show(text)}"
    name, separator, body = text.partition("=")
    name = name.strip().replace("-", "_")
    if not separator or not _NAME_RE.fullmatch(name):
        raise ConvCostError(f"{where}: write NAME=VALUES, {_EXAMPLE}")
    items: list[str | _Range] = []
    for raw in body.split(","):
        item = raw.strip()
        if not item:
            what = "no values" if not body.strip() else "an empty value"
            raise ConvCostError(f"{where}: {name} has {what}; {_EXAMPLE}")
        items.append(_parse_range(item, where) if _is_range(item) else item)
    return name, items


def parse_grid(texts: Sequence[str]) -> Grid:
    """A grid from ``NAME=VALUES`` texts (``--param``), checked and sized before any
    value is listed: a list ``a,b,c``, an inclusive range ``start:stop[:step]`` (step 1
    by default; decimals exact), or both, per parameter.

    >>> [axis.values for axis in parse_grid(["width=0.25:1:0.25", "classes=10,100"]).axes]
    [('0.25', '0.5', '0.75', '1'), ('10', '100')]
    >>> parse_grid(["resolution=1:1000000", "classes=1:1000000"])
    Traceback (most recent call last):
      ...
    convcost.errors.ConvCostError: the grid has 1,000,000,000,000 points (1,000,000 resolution × 1,000,000 classes); a sweep takes at most 100,000: sweep fewer values
    """  # noqa: E501
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise FieldError("grid", texts, "a sequence of NAME=VALUES texts")
    parsed = [_parse_axis(text) for text in texts]
    repeated = _first_repeat([name for name, _ in parsed])
    if repeated is not None:
        raise ConvCostError(f"{repeated} is swept twice: give it one --param")
    sizes = [
        (name, sum(item.size if isinstance(item, _Range) else 1 for item in items))
        for name, items in parsed
    ]
    if not sizes:
        raise ConvCostError(f"a sweep needs a parameter to sweep: {_EXAMPLE}")
    _check_points(sizes)  # before any range is listed
    axes = []
    for name, items in parsed:
        values: list[str] = []
        for item in items:
            values.extend(item.texts() if isinstance(item, _Range) else (item,))
        repeated = _first_repeat(values)
        if repeated is not None:
            raise ConvCostError(f"--param {name}=...: {repeated} is listed twice")
        axes.append(Axis(name=name, values=tuple(values)))
    return Grid(axes=tuple(axes))


def split_grid(parameters: Mapping[str, str]) -> tuple[Grid, dict[str, str]]:
    """Parameters as a command line gives them, ``NAME: VALUES`` text: those given several
    values (a list or a range) as the grid, the others as fixed values.

    >>> grid, fixed = split_grid({"width": "0.25:1:0.25", "classes": "10"})
    >>> grid.names, fixed
    (('width',), {'classes': '10'})
    """
    if not isinstance(parameters, Mapping):
        raise FieldError("parameters", parameters, "a mapping of names to text")
    nothing = f"nothing to sweep: give a parameter several values, {_EXAMPLE}"
    if not parameters:
        raise ConvCostError(nothing)
    given = parse_grid([f"{name}={text}" for name, text in parameters.items()])
    swept = tuple(axis for axis in given.axes if len(axis.values) > 1)
    if not swept:
        raise ConvCostError(nothing)
    fixed = {axis.name: axis.values[0] for axis in given.axes if len(axis.values) == 1}
    return Grid(axes=swept), fixed


# --- results ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class FamilyResult:
    """A network in one family: its `totals` (MACs as papers count them), its MACs
    `counted` under the sweep's convention (what tables show), its FLOPs (2 × MACs, plus
    bias additions when asked), what the rewrite did, and with a device its roofline
    `timing`."""

    family: Family
    totals: Totals
    counted: int
    flops: int
    rewrite: RewriteStats
    timing: Timing | None = None

    @property
    def params(self) -> int:
        """Trainable parameters."""
        return self.totals.params


@dataclass(frozen=True, kw_only=True, slots=True)
class SweepPoint:
    """One point of a sweep: the swept `parameters` (as the preset reads them), the
    network's name and input, and its cost in each family (regular first)."""

    parameters: Mapping[str, Value] = field(hash=False)
    network: str
    input_shape: Shape
    results: tuple[FamilyResult, ...]

    @property
    def families(self) -> tuple[Family, ...]:
        return tuple(result.family for result in self.results)

    def family(self, family: Family) -> FamilyResult:
        """The result of `family`."""
        for result in self.results:
            if result.family == family:
                return result
        check_choice("family", family, self.families)
        raise AssertionError("unreachable: check_choice refuses a family not swept")

    def value(self, family: Family, metric: SweepMetric) -> int | Fraction | None:
        """A total of `family`: params, MACs (counted), FLOPs, or the time bound in
        seconds (None without a device)."""
        check_choice("metric", metric, SWEEP_METRICS)
        result = self.family(family)
        if metric == "time":
            return None if result.timing is None else result.timing.time
        if metric == "params":
            return result.params
        return result.counted if metric == "macs" else result.flops

    def ratio(self, family: Family, metric: SweepMetric) -> Fraction | None:
        """`family` over regular for a total, exact; None when regular's is 0 or absent."""
        part, whole = self.value(family, metric), self.value("regular", metric)
        return None if part is None or not whole else Fraction(part, whole)


@dataclass(frozen=True, kw_only=True)
class SweepReport(Report):
    """A sweep as data and as a report (what `convcost sweep` shows): `points` in grid
    order; one table, a row per point; the JSON document ``convcost.sweep``."""

    source: str
    grid: Grid
    points: tuple[SweepPoint, ...]
    families: tuple[Family, ...]
    counting: Counting
    rewriting: Rewriting
    device: Device | None = None
    dtype: DType = "float32"
    batch_size: int = 1

    @property
    def metrics(self) -> tuple[SweepMetric, ...]:
        """The totals its table shows per family, in order."""
        return (*self.counting.metrics, *(("time",) if self.device is not None else ()))


# --- costing, with what repeats costed once --------------------------------------------


_FIELDS: Final = 8
"""Numbers kept per family: params, non-trainable params, MACs, bias additions, MACs
counted under the convention, and the rewrite's rewritten, biased and kept."""


@dataclass(frozen=True, slots=True)
class _Outcome:
    """A network, or one top-level node of it, in every family of a sweep: `numbers`
    holds `_FIELDS` integers per family, in order (flat, so that parts add up fast)."""

    output_shape: Shape
    numbers: tuple[int, ...]
    timings: tuple[Timing, ...] | None

    @property
    def kept_regular(self) -> int:
        """Regular convolutions met: the regular family keeps every one."""
        return self.numbers[7]

    @classmethod
    def chain(cls, parts: list[_Outcome]) -> _Outcome:
        """Parts one after another: their sums, and the last part's output."""
        timings = None
        if parts[0].timings is not None:
            from convcost.roofline import Timing

            columns = zip(*(part.timings or () for part in parts))
            timings = tuple(Timing.total(column) for column in columns)
        return cls(
            output_shape=parts[-1].output_shape,
            numbers=tuple(map(sum, zip(*(part.numbers for part in parts)))),
            timings=timings,
        )

    def totals(self, index: int) -> Totals:
        params, non_trainable, macs, bias_adds = self.numbers[index * _FIELDS :][:4]
        return Totals(
            params=params, non_trainable_params=non_trainable, macs=macs, bias_adds=bias_adds
        )

    def counted(self, index: int) -> int:
        return self.numbers[index * _FIELDS + 4]

    def rewrite(self, index: int) -> RewriteStats:
        rewritten, biased, kept = self.numbers[index * _FIELDS + 5 :][:3]
        return RewriteStats(rewritten=rewritten, biased=biased, kept=kept)


class _NotAChain(Exception):
    """A network whose nodes read named inputs: costed whole, not node by node."""


def _reads_names(node: Node) -> bool:
    if node.inputs:
        return True
    if isinstance(node, Sequential):
        return any(map(_reads_names, node.layers))
    if isinstance(node, Residual):
        return any(map(_reads_names, (*node.body, *node.shortcut)))
    if isinstance(node, Parallel):
        return any(_reads_names(child) for branch in node.branches for child in branch)
    return False


_Rewrites: TypeAlias = tuple[Node, tuple[tuple[Node, RewriteStats], ...]]


class _Costing:
    """Costs networks in the families of a sweep, keeping the totals of each top-level
    (node, input shape) pair: a network without named inputs is the chain of its
    top-level nodes, each reading the output of the one before, so its totals are the
    sums of theirs, and the rewrite's "keep the first convolution regular" moves to the
    first node that has one. Rows, names and paths are not kept: totals do not depend
    on them. A network that reads named inputs, or names its outputs, is costed whole.

    A node met for the first time is rewritten into each family (once per node object),
    and its totals summed from its layers' and joins' costs and counts, each (layer,
    input shape) costed once per sweep: what the engine's walk adds up, without the
    names, paths and rows only its tables need. Where that needs names (a layer that
    shares weights, a join of named inputs) or the roofline is asked for, the node is
    costed by the engine itself."""

    def __init__(
        self,
        families: tuple[Family, ...],
        rewriting: Rewriting,
        profile: Profile,
        device: Device | None,
        dtype: DType,
        batch_size: int,
    ) -> None:
        self.families = families
        self.rewriting = rewriting
        self.profile = profile
        self.device = device
        self.dtype: DType = dtype
        self.batch_size = batch_size
        self.cache: OrderedDict[tuple[Node, Shape, bool], _Outcome] = OrderedDict()
        # The same by the identity of the node and the shape, which a sweep meets again
        # (a network is built once for all its resolutions, and a part's output shape is
        # the next part's input): no hashing of a block at every point. The entry keeps
        # both alive, so their ids are not reused while it lasts.
        self.seen: OrderedDict[tuple[int, int, bool], tuple[Node, Shape, _Outcome]]
        self.seen = OrderedDict()
        # Each (layer, input shape) costed and counted, by value and by identity (the
        # entry keeping both alive), and each join of branches.
        self.values: OrderedDict[tuple[Layer, Shape], tuple[LayerCost, int]] = OrderedDict()
        self.by_id: OrderedDict[tuple[int, int], tuple[Layer, Shape, tuple[LayerCost, int]]]
        self.by_id = OrderedDict()
        self.joins: OrderedDict[tuple[str, tuple[Shape, ...]], tuple[LayerCost, int]]
        self.joins = OrderedDict()
        self.rewritten: OrderedDict[tuple[int, bool, tuple[Family, ...]], _Rewrites]
        self.rewritten = OrderedDict()

    def whole(
        self, network: Network, keep_first: bool, families: tuple[Family, ...] | None = None
    ) -> _Outcome:
        """The engine's own costing: what `compare_families` does, totals only."""
        rewriting = self.rewriting
        comparison = compare(
            network,
            self.families if families is None else families,
            bias=rewriting.bias,
            keep_first=keep_first,
            mid_channels=rewriting.mid_channels,
        )
        timings = None
        if self.device is not None:
            from convcost.roofline import roofline

            timings = tuple(
                roofline(
                    cost, self.device, dtype=self.dtype, batch_size=self.batch_size
                ).totals.timing
                for cost in comparison.costs
            )
        numbers: list[int] = []
        for cost, stats in zip(comparison.costs, comparison.rewrites):
            totals = cost.totals
            numbers += (totals.params, totals.non_trainable_params, totals.macs,
                        totals.bias_adds, count(cost, self.profile).total, stats.rewritten,
                        stats.biased, stats.kept)  # fmt: skip
        return _Outcome(
            output_shape=comparison.costs[0].output_shape,
            numbers=tuple(numbers),
            timings=timings,
        )

    def network(self, network: Network) -> _Outcome:
        if network.outputs:
            return self.whole(network, self.rewriting.keep_first)
        try:
            return self.chain(network)
        except (_NotAChain, ConvCostError, TypeError):
            # Named inputs, a node that cannot be hashed, or an error: the whole network
            # gives the authoritative result, or the error with the network's own paths.
            return self.whole(network, self.rewriting.keep_first)

    def part(self, network: Network, keep_first: bool) -> _Outcome:
        """One node alone: summed from its layers' costs, or, for the roofline (or a layer
        that shares weights, or a join), the engine's costing. Where it holds no regular
        k×k convolution, every family costs what regular costs (MobileNet's blocks)."""
        if self.device is None:
            try:
                return self.summed(network, keep_first)
            except _NotAChain:
                pass
        count = len(self.families)
        if count == 1 or rewrite_with_stats(network, "regular")[1].kept:
            return self.whole(network, keep_first)
        alone = self.whole(network, keep_first, ("regular",))
        timings = None if alone.timings is None else alone.timings * count
        return _Outcome(alone.output_shape, alone.numbers * count, timings)

    def summed(self, network: Network, keep_first: bool) -> _Outcome:
        """What `whole` gives for a network of one node, summed over the layers and joins
        of each family's rewrite of it, each (layer, input shape) costed and counted once
        per sweep."""
        (node,) = network.layers
        numbers: list[int] = []
        regular: list[int] = []
        output = network.input_shape
        for version, stats in self.rewrites(network, keep_first):
            if regular and version is node:
                sums = regular  # nothing rewritten: what regular costs
            else:
                sums = [0] * 5
                shape = self.add(version, network.input_shape, sums)
                if not regular:  # the first family
                    regular, output = sums, shape
            numbers += (*sums, stats.rewritten, stats.biased, stats.kept)
        return _Outcome(output_shape=output, numbers=tuple(numbers), timings=None)

    def rewrites(self, network: Network, keep_first: bool) -> tuple[tuple[Node, RewriteStats], ...]:
        """Each family's rewrite of the node of a network of one, and what it did; kept by
        the node's identity (a sweep meets a node at every resolution)."""
        (node,) = network.layers
        key = (id(node), keep_first, self.families)
        done = self.rewritten.get(key)
        if done is None:
            rewriting = self.rewriting
            versions = []
            for family in self.families:
                rewritten, stats = rewrite_with_stats(
                    network,
                    family,
                    bias=rewriting.bias,
                    keep_first=keep_first,
                    mid_channels=rewriting.mid_channels,
                )
                versions.append((rewritten.layers[0], stats))
            done = _bounded(self.rewritten, key, (node, tuple(versions)), MAX_CACHED_SEGMENTS)
        return done[1]

    def add(self, node: Node, shape: Shape, sums: list[int]) -> Shape:
        """Add what `node` costs on `shape` to `sums` (params, non-trainable params, MACs,
        bias additions, MACs counted under the profile), as the engine's walk costs it;
        `node`'s output shape."""
        if isinstance(node, Sequential):
            for child in node.layers:
                shape = self.add(child, shape, sums)
            return shape
        if isinstance(node, (Residual, Parallel)):
            merge, branches = (
                ("add", (node.body, node.shortcut))
                if isinstance(node, Residual)
                else (node.merge, node.branches)
            )
            outputs = []
            for branch in branches:
                out = shape
                for child in branch:
                    out = self.add(child, out, sums)
                outputs.append(out)
            cost, counted = self.joined(merge, tuple(outputs))
        else:
            cost, counted = self.layer(node, shape)
        sums[0] += cost.params
        sums[1] += cost.non_trainable_params
        sums[2] += cost.macs
        sums[3] += cost.bias_adds
        sums[4] += counted
        return cost.output_shape

    def layer(self, layer: Layer, shape: Shape) -> tuple[LayerCost, int]:
        """`layer` on `shape`: its cost and its count under the profile."""
        seen = self.by_id.get((id(layer), id(shape)))
        if seen is not None:
            return seen[2]
        if layer.shares is not None or isinstance(layer, JOINS):
            raise _NotAChain  # a name to look up: the engine's walk
        key = (layer, shape)
        costed = self.values.get(key)
        if costed is None:
            cost = layer_cost(layer, shape)
            costed = (cost, count_row(cost, self.profile))
            _bounded(self.values, key, costed, MAX_CACHED_LAYERS)
        _bounded(self.by_id, (id(layer), id(shape)), (layer, shape, costed), MAX_CACHED_LAYERS)
        return costed

    def joined(self, merge: str, shapes: tuple[Shape, ...]) -> tuple[LayerCost, int]:
        """A block's branches joined: its cost and its count under the profile."""
        key = (merge, shapes)
        costed = self.joins.get(key)
        if costed is None:
            cost = join_cost(Add() if merge == "add" else Concat(), shapes)
            costed = (cost, count_row(cost, self.profile))
            _bounded(self.joins, key, costed, MAX_CACHED_LAYERS)
        return costed

    def chain(self, network: Network) -> _Outcome:
        parts: list[_Outcome] = []
        self.links(network.layers, network.input_shape, self.rewriting.keep_first, parts)
        return _Outcome.chain(parts)

    def links(
        self, nodes: tuple[Node, ...], shape: Shape, pending: bool, parts: list[_Outcome]
    ) -> tuple[Shape, bool]:
        """Append the outcomes of `nodes`, one after another from `shape`, to `parts`; a
        `Sequential` is its children in turn, so that equal blocks inside it (ResNet's
        repeated bottlenecks, which differ by name alone) are costed once. `pending`:
        the first regular convolution is still ahead. The shape and `pending` after."""
        for node in nodes:
            if isinstance(node, Sequential) and not node.inputs:
                shape, pending = self.links(node.layers, shape, pending, parts)
                continue
            seen = self.seen.get((id(node), id(shape), pending))
            if seen is not None:
                part = seen[2]
            else:
                part = self.cached(node, shape, pending)
                entry = (node, shape, part)
                _bounded(self.seen, (id(node), id(shape), pending), entry, MAX_CACHED_SEGMENTS)
            pending = pending and not part.kept_regular
            shape = part.output_shape
            parts.append(part)
        return shape, pending

    def cached(self, node: Node, shape: Shape, pending: bool) -> _Outcome:
        """`node` alone on `shape`, costed once for every node and shape equal to these."""
        key = (node, shape, pending)
        part = self.cache.get(key)
        if part is None:
            if _reads_names(node):
                raise _NotAChain
            part = self.part(Network(input_shape=shape, layers=(node,)), pending)
            _bounded(self.cache, key, part, MAX_CACHED_SEGMENTS)
        return part


_K = TypeVar("_K")
_V = TypeVar("_V")


def _bounded(cache: OrderedDict[_K, _V], key: _K, value: _V, limit: int) -> _V:
    """Keep `value` in `cache` under `key`, dropping the oldest entry when `cache` holds
    `limit` (`OrderedDict` drops it at once: a dict would skip all the deleted slots)."""
    if len(cache) >= limit:
        cache.popitem(last=False)
    cache[key] = value
    return value


# --- the sweep --------------------------------------------------------------------------


_REWRITING: Final = Rewriting()
_COUNTING: Final = Counting()


def _check_families(families: object) -> tuple[Family, ...]:
    if isinstance(families, str) or not isinstance(families, (tuple, list)):
        raise FieldError("families", families, "a tuple of families")
    chosen = dict.fromkeys(check_choice("family", f, FAMILIES) for f in families)
    return ("regular", *(family for family in chosen if family != "regular"))


def _point_text(point: Mapping[str, str]) -> str:
    """``width=0.5, resolution=160``, each value cut to a short line."""
    return ", ".join(f"{name}={show(value)[1:-1]}" for name, value in point.items())


def sweep(
    source: str,
    grid: Grid,
    *,
    families: tuple[Family, ...] = FAMILIES,
    rewriting: Rewriting = _REWRITING,
    counting: Counting = _COUNTING,
    input_shape: Shape | None = None,
    base_parameters: Mapping[str, str] = {},
    device: Device | None = None,
    dtype: DType = "float32",
    batch_size: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> SweepReport:
    """`source` (a preset) at every point of `grid`, in each of `families`.

    Each point's network is ``load_network(source, parameters={**base_parameters,
    **point}, input_shape=input_shape)``, costed as `compare_families` costs it; its
    totals, MACs counted under `counting`'s convention, FLOPs when asked, and with a
    `device` the roofline time bound for a batch of `batch_size` in `dtype`. Every grid
    value is read by the preset's own parameter before the first point is built.
    `progress`, if given, is called after each point with the points done and the total.
    """
    from convcost.sources import preset_names

    if not isinstance(grid, Grid):
        raise FieldError("grid", grid, "a Grid (see parse_grid)")
    families = _check_families(families)
    if not isinstance(rewriting, Rewriting):
        raise FieldError("rewriting", rewriting, "a Rewriting")
    if not isinstance(counting, Counting):
        raise FieldError("counting", counting, "a Counting")
    if not isinstance(base_parameters, Mapping) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in base_parameters.items()
    ):
        raise FieldError("base_parameters", base_parameters, "a mapping of names to text")
    if progress is not None and not callable(progress):
        raise FieldError("progress", progress, "a function of (done, total)")
    if device is not None:
        from convcost.devices import Device

        if not isinstance(device, Device):
            raise FieldError("device", device, "a Device (see convcost.devices.get_device)")
        check_choice("dtype", dtype, DTYPES)
        check_int("batch_size", batch_size, maximum=MAX_BATCH)
        device.peak_for(dtype)
    both = [name for name in grid.names if name in base_parameters]
    if both:
        raise PresetError(f"{both[0]} is given twice: swept by the grid and set by --param")
    values = _read_values(source, grid, base_parameters, preset_names())

    builder = _Builder(source, base_parameters, input_shape, values)
    costing: _Costing | None = None
    total = grid.size
    points: list[SweepPoint] = []
    for done, point in enumerate(grid.points(), start=1):
        try:
            network = builder.build(point)
            chosen = families
            if network.input_shape.ndim < 2:  # as compare_families: no spatial separation
                chosen = tuple(f for f in families if f != "spatially_separable")
            if costing is None:
                costing = _Costing(chosen, rewriting, counting.convention, device, dtype,
                                   batch_size)  # fmt: skip
            elif chosen != costing.families:
                raise ConvCostError(
                    f"its input {network.input_shape} has {network.input_shape.ndim} spatial "
                    "axes, unlike the first point's: spatially separable convolutions need two"
                )
            outcome = costing.network(network)
        except ConvCostError as error:
            raise ConvCostError(f"{source} at {_point_text(point)}: {error}") from error
        parameters = {name: values[name][text] for name, text in point.items()}
        points.append(_point(parameters, network, chosen, outcome, counting))
        if progress is not None:
            progress(done, total)
    return _report(
        source, grid, tuple(points), rewriting, counting, base_parameters, device, dtype,
        batch_size,
    )  # fmt: skip


class _Builder:
    """Each point's network, as `load_network` builds it; a preset's ``resolution`` sets
    only the input's size, so a network is built once for all the resolutions swept."""

    def __init__(
        self,
        source: str,
        base: Mapping[str, str],
        input_shape: Shape | None,
        values: dict[str, dict[str, Value]],
    ) -> None:
        self.source, self.base, self.input_shape, self.values = source, base, input_shape, values
        self.built: dict[tuple[tuple[str, str], ...], Network] = {}

    def build(self, point: Mapping[str, str]) -> Network:
        from convcost.presets import get_preset
        from convcost.sources import load_network

        if "resolution" not in point or self.input_shape is not None:
            return load_network(
                self.source, parameters={**self.base, **point}, input_shape=self.input_shape
            )
        others = tuple((name, text) for name, text in point.items() if name != "resolution")
        network = self.built.get(others)
        if network is None:
            network = load_network(self.source, parameters={**self.base, **dict(others)})
            self.built[others] = network
        preset = get_preset(self.source)
        values = {name: self.values[name][text] for name, text in point.items()}
        return preset.with_resolution(network, {**preset.parse(self.base), **values})


def _read_values(
    source: str, grid: Grid, base: Mapping[str, str], presets: tuple[str, ...]
) -> dict[str, dict[str, Value]]:
    """Every grid value as the preset reads it (a `PresetError` naming the first bad one);
    for a source that is not a preset, `load_network`'s own refusal."""
    from convcost.sources import load_network

    if source not in presets:
        first = next(iter(grid.points()))
        load_network(source, parameters={**base, **first})  # refuses: parameters need a preset
        raise AssertionError("unreachable: a spec file takes no parameters")
    from convcost.presets import get_preset

    preset = get_preset(source)
    preset.parse(base)
    values: dict[str, dict[str, Value]] = {}
    for axis in grid.axes:
        read = {text: preset.parse({axis.name: text})[axis.name] for text in axis.values}
        seen: dict[object, str] = {}
        for text, value in read.items():
            key = (type(value), value)
            if key in seen:
                raise PresetError(
                    f"--param {axis.name}: {seen[key]} and {text} are the same value; "
                    "list each value once"
                )
            seen[key] = text
        values[axis.name] = read
    return values


def _point(
    parameters: dict[str, Value],
    network: Network,
    families: tuple[Family, ...],
    outcome: _Outcome,
    counting: Counting,
) -> SweepPoint:
    results = []
    for index, family in enumerate(families):
        totals = outcome.totals(index)
        results.append(
            FamilyResult(
                family=family,
                totals=totals,
                counted=outcome.counted(index),
                flops=flops(totals.macs, totals.bias_adds, count_bias=counting.flops_bias),
                rewrite=outcome.rewrite(index),
                timing=None if outcome.timings is None else outcome.timings[index],
            )
        )
    return SweepPoint(
        parameters=MappingProxyType(parameters),
        network=network.name or "network",
        input_shape=network.input_shape,
        results=tuple(results),
    )


# --- the report -------------------------------------------------------------------------


def _value_cell(value: Value) -> Cell:
    """A parameter's value as a cell: integers as numbers, the rest as the text a
    command line writes (``0.75``, ``224x448``, ``true``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    if isinstance(value, Shape):
        return value
    if isinstance(value, tuple):
        return "x".join(map(str, value))
    if isinstance(value, Fraction):
        return _fraction_text(value)
    return str(value)


def _fraction_text(value: Fraction) -> str:
    """An exact decimal when there is one (every width written as a decimal has one)."""
    for places in range(19):
        if (value * 10**places).denominator == 1:
            return _decimal(value, places)
    return str(value)


def _value_json(value: Value) -> Any:
    """A parameter's value in a document: as the ``convcost.presets`` document gives
    defaults (numbers, lists for pairs and shapes)."""
    if isinstance(value, Shape):
        return shape_json(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else float(value)
    return value


def _ratio_json(ratio: Fraction | None) -> dict[str, Any] | None:
    return None if ratio is None else {"fraction": str(ratio), "value": float(ratio)}


def _time_text(seconds: Fraction) -> str:
    """Microseconds to three decimals, rounded half to even."""
    micro = round(seconds * 10**9)
    return f"{micro // 1000}.{micro % 1000:03d}"


def _metric_key(metric: SweepMetric, counting: Counting) -> str:
    """A total as CSV names it, as report's tables do: ``macs``, or ``macs_thop`` under
    thop's convention; the time bound in microseconds, ``time_us``."""
    if metric == "macs" and counting.convention.name != "paper":
        return "macs_" + re.sub(r"[^a-z0-9]+", "_", counting.convention.name.lower()).strip("_")
    return "time_us" if metric == "time" else metric


def _metric_header(metric: SweepMetric, counting: Counting) -> str:
    if metric == "macs" and counting.convention.name != "paper":
        return f"MACs ({counting.convention.name})"
    if metric == "time":
        return "Time µs"
    return METRIC_TITLES[metric] if metric != "params" else "Params"


def _table(report_points: tuple[SweepPoint, ...], grid: Grid, families: tuple[Family, ...],
           metrics: tuple[SweepMetric, ...], counting: Counting, title: str,
           notes: tuple[str, ...]) -> Table:  # fmt: skip
    known: dict[tuple[type, Value], Cell] = {}  # a grid repeats each value many times

    def value_cell(value: Value) -> Cell:
        key = (type(value), value)
        if key not in known:
            known[key] = _value_cell(value)
        return known[key]

    columns = []
    for axis in grid.axes:
        numbers = all(
            isinstance(value_cell(point.parameters[axis.name]), int) for point in report_points
        )
        columns.append(
            Column(key=axis.name, header=axis.name, kind="count" if numbers else "text",
                   exact=True)
        )  # fmt: skip
    for family in families:
        short = FAMILY_HEADERS[family]
        for metric in metrics:
            columns.append(
                Column(
                    key=f"{family}_{_metric_key(metric, counting)}",
                    header=f"{short} {_metric_header(metric, counting)}",
                    kind="text" if metric == "time" else "count",
                    exact=metric == "params",
                )
            )
            if family != "regular":
                columns.append(
                    Column(
                        key=f"{family}_{_metric_key(metric, counting).removesuffix('_us')}_ratio",
                        header="ratio",
                        kind="percent",
                    )
                )
    rows = []
    for point in report_points:
        row: list[Cell] = [value_cell(point.parameters[name]) for name in grid.names]
        for family in families:
            for metric in metrics:
                value = point.value(family, metric)
                row.append(_time_text(value) if isinstance(value, Fraction) else value)
                if family != "regular":
                    row.append(point.ratio(family, metric))
        rows.append(tuple(row))
    return Table(title=title, columns=tuple(columns), sections=(tuple(rows),), notes=notes)


def _report(
    source: str,
    grid: Grid,
    points: tuple[SweepPoint, ...],
    rewriting: Rewriting,
    counting: Counting,
    base: Mapping[str, str],
    device: Device | None,
    dtype: DType,
    batch_size: int,
) -> SweepReport:
    families = points[0].families
    metrics: tuple[SweepMetric, ...] = counting.metrics
    if device is not None:
        metrics += ("time",)
    shapes = list(dict.fromkeys(point.input_shape for point in points))
    inputs = f"on {shapes[0]}" if len(shapes) == 1 else f"on {shapes[0]} to {shapes[-1]}"
    title = f"{source} {inputs}: {' × '.join(grid.names)}, {len(points):,} point" + "s" * (
        len(points) != 1
    )
    notes: list[str] = []
    stats = {tuple(result.rewrite for result in point.results) for point in points}
    if len(families) > 1 and len(stats) == 1:
        notes += rewrite_notes(families, stats.pop(), rewriting)
    elif len(families) > 1:
        notes.append(
            "Regular is each network as given; the other families rewrite its regular k×k "
            "convolutions (groups 1), as `convcost compare` does; how many varies by point."
        )
    notes.append(counting_note(counting))
    if device is not None:
        notes.append(
            f"Time: the roofline bound on {device.name} for a batch of {batch_size:,} in "
            f"{dtype}, in µs (the JSON document has it exactly)."
        )
    if base:
        notes.append("Fixed: " + ", ".join(f"{name}={value}" for name, value in base.items()))
    table = _table(points, grid, families, metrics, counting, title, tuple(notes))
    parameters = dict(base)  # as it is now: the document is built when first read

    def document() -> dict[str, Any]:
        return {
            "schema": "convcost.sweep",
            "version": JSON_SCHEMA_VERSION,
            "source": source,
            "parameters": parameters,
            "grid": [{"name": axis.name, "values": list(axis.values)} for axis in grid.axes],
            "families": list(families),
            "rewriting": {
                "bias": rewriting.bias,
                "keep_first": rewriting.keep_first,
                "mid_channels": rewriting.mid_channels,
            },
            "conventions": {
                "mac": "one multiply-accumulate of a convolution or dense layer",
                "flops": "2 * macs" + (" + bias_adds" if counting.flops_bias else ""),
                "per_sample": True,
                "bias_adds_in_macs": False,
                "profile": profile_to_mapping(counting.convention),
            },
            "device": None
            if device is None
            else {"name": device.name, "dtype": dtype, "batch_size": batch_size},
            "points": [_point_json(point, device is not None) for point in points],
        }

    return SweepReport(
        tables=(table,),
        document=Document(document),
        source=source,
        grid=grid,
        points=points,
        families=families,
        counting=counting,
        rewriting=rewriting,
        device=device,
        dtype=dtype,
        batch_size=batch_size,
    )


def _point_json(point: SweepPoint, timed: bool) -> dict[str, Any]:
    families: dict[str, Any] = {}
    for result in point.results:
        totals = result.totals
        entry: dict[str, Any] = {
            "params": totals.params,
            "non_trainable_params": totals.non_trainable_params,
            "macs": totals.macs,
            "bias_adds": totals.bias_adds,
            "flops": result.flops,
            "counted": result.counted,
            "rewrite": {
                "rewritten": result.rewrite.rewritten,
                "biased": result.rewrite.biased,
                "kept": result.rewrite.kept,
            },
        }
        if timed and result.timing is not None:
            entry["time"] = {
                "seconds": _ratio_json(result.timing.time),
                "bound": result.timing.bound,
            }
        families[result.family] = entry
    metrics: tuple[SweepMetric, ...] = ("params", "macs", "time") if timed else ("params", "macs")
    return {
        "parameters": {name: _value_json(value) for name, value in point.parameters.items()},
        "network": {"name": point.network, "input_shape": shape_json(point.input_shape)},
        "families": families,
        "ratios_to_regular": {
            result.family: {
                metric: _ratio_json(point.ratio(result.family, metric)) for metric in metrics
            }
            for result in point.results[1:]
        },
    }
