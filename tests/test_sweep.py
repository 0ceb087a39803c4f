"""Sweeps: grids parsed and refused before any work; every point is the library's own
single call; the MobileNet paper's width and resolution tables and the pyramid's
1/N + 1/K² law as sweeps; the JSON document exact."""

from __future__ import annotations

import doctest
import json
import time
from fractions import Fraction
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st
from network_strategies import networks
from test_presets import rounds_to

import convcost.sweep as sweep_module
from convcost.conventions import PAPER, Profile, count, get_profile
from convcost.devices import get_device
from convcost.errors import ConvCostError, PresetError
from convcost.limits import MAX_POINTS
from convcost.network import FAMILIES, Family, Network, compare
from convcost.render import render_csv
from convcost.report import Counting, Rewriting, compare_families
from convcost.roofline import compare_roofline
from convcost.sources import load_network
from convcost.sweep import Axis, Grid, SweepPoint, SweepReport, parse_grid, sweep

# --- grids -------------------------------------------------------------------------------

GRIDS = [
    pytest.param(["width=0.25,0.5,0.75,1"], {"width": ("0.25", "0.5", "0.75", "1")}, id="list"),
    pytest.param(
        ["resolution=128:224:32"], {"resolution": ("128", "160", "192", "224")}, id="range"
    ),
    pytest.param(["classes=1:4"], {"classes": ("1", "2", "3", "4")}, id="range-step-1"),
    pytest.param(["width=0.25:1:0.25"], {"width": ("0.25", "0.5", "0.75", "1")}, id="decimal"),
    # Exact: 0.1 + 0.1 + 0.1 is 0.3, not 0.30000000000000004, and 0.3 is reached.
    pytest.param(["width=0.1:0.3:0.1"], {"width": ("0.1", "0.2", "0.3")}, id="decimal-exact"),
    pytest.param(["width=1:1.5:0.25"], {"width": ("1", "1.25", "1.5")}, id="decimal-above-1"),
    pytest.param(
        ["resolution=128:224:30"],
        {"resolution": ("128", "158", "188", "218")},
        id="range-stops-before-stop",
    ),
    pytest.param(["resolution=224:224"], {"resolution": ("224",)}, id="range-of-one"),
    pytest.param(
        ["resolution=96:128:32,224"], {"resolution": ("96", "128", "224")}, id="range-and-list"
    ),
    pytest.param(["resolution=224x448,224"], {"resolution": ("224x448", "224")}, id="pairs"),
    pytest.param(
        ["input_shape=hwc:32x32x3"],
        {"input_shape": ("hwc:32x32x3",)},
        id="colon-in-a-value-is-not-a-range",
    ),
    pytest.param([" shallow = true , false "], {"shallow": ("true", "false")}, id="spaces"),
    pytest.param(["depth-multiplier=1,2"], {"depth_multiplier": ("1", "2")}, id="dash-name"),
    pytest.param(
        ["width=0.5,1", "resolution=128,224"],
        {"width": ("0.5", "1"), "resolution": ("128", "224")},
        id="two-parameters",
    ),
]


@pytest.mark.parametrize(("texts", "expected"), GRIDS)
def test_parse_grid(texts: list[str], expected: dict[str, tuple[str, ...]]) -> None:
    grid = parse_grid(texts)
    assert {axis.name: axis.values for axis in grid.axes} == expected
    assert grid.names == tuple(expected)
    sizes = [len(values) for values in expected.values()]
    assert grid.size == len(list(grid.points())) == __import__("math").prod(sizes)


def test_points_are_the_cartesian_product_first_parameter_slowest() -> None:
    grid = parse_grid(["width=0.5,1", "resolution=128:192:64"])
    assert list(grid.points()) == [
        {"width": "0.5", "resolution": "128"},
        {"width": "0.5", "resolution": "192"},
        {"width": "1", "resolution": "128"},
        {"width": "1", "resolution": "192"},
    ]


BAD_GRIDS = [
    pytest.param(["width="], "has no values", id="empty-list"),
    pytest.param(["width=0.5,,1"], "an empty value", id="empty-item"),
    pytest.param(["width"], "write NAME=VALUES", id="no-equals"),
    pytest.param(["=0.5"], "write NAME=VALUES", id="no-name"),
    pytest.param(["9lives=1"], "write NAME=VALUES", id="bad-name"),
    pytest.param(["resolution=224:128:32"], "runs backwards", id="reversed-range"),
    pytest.param(["resolution=128:224:0"], "step must be positive, got 0", id="step-0"),
    pytest.param(["resolution=128:224:-32"], "step must be positive", id="negative-step"),
    pytest.param(["resolution=128:abc:32"], "'abc' in the range", id="not-a-number"),
    pytest.param(["width=0.25:1:1e-1"], "'1e-1' in the range", id="exponent"),
    pytest.param(["resolution=1:2:3:4"], "a range is start:stop", id="four-parts"),
    pytest.param(["classes=1:1" + "0" * 19], "at most 18 digits", id="too-many-digits"),
    pytest.param(["width=0.5,0.5"], "0.5 is listed twice", id="value-twice"),
    pytest.param(["resolution=128:224:32,224"], "224 is listed twice", id="range-overlap"),
    pytest.param(["width=1", "width=2"], "width is swept twice", id="parameter-twice"),
    pytest.param(["width=1", "width = 2"], "width is swept twice", id="parameter-twice-spaced"),
    pytest.param([], "a sweep needs a parameter", id="nothing"),
    pytest.param(["classes=1:100001"], "100,001 points", id="one-point-too-many"),
    pytest.param(["a=1:1000", "b=1:1000"], "1,000,000 points", id="a-million-by-accident"),
]


@pytest.mark.parametrize(("texts", "message"), BAD_GRIDS)
def test_bad_grids_are_refused_with_one_line(texts: list[str], message: str) -> None:
    with pytest.raises(ConvCostError, match=message) as raised:
        parse_grid(texts)
    assert "\n" not in str(raised.value)


def test_largest_grid_is_accepted() -> None:
    assert parse_grid(["classes=1:100", f"resolution=1:{MAX_POINTS // 100}"]).size == MAX_POINTS


@pytest.mark.parametrize(
    "texts",
    [
        pytest.param(["a=1:1000000", "b=1:1000000"], id="10**12-points"),
        pytest.param(["a=1:1000000000000"], id="one-range-of-10**12"),
        pytest.param(["a=0:999999999999999999:0.000000000001"], id="10**30-values"),
        pytest.param([f"p{i}=1:999999999999999999" for i in range(300)], id="300-huge-ranges"),
    ],
)
def test_a_huge_grid_is_refused_instantly_without_listing_it(texts: list[str]) -> None:
    start = time.perf_counter()
    with pytest.raises(ConvCostError, match=f"a sweep takes at most {MAX_POINTS:,}") as raised:
        parse_grid(texts)
    assert time.perf_counter() - start < 0.5  # listing 10**12 values would take hours
    assert "\n" not in str(raised.value)
    assert len(str(raised.value)) < 400


def test_grids_built_in_code_are_checked_too() -> None:
    with pytest.raises(ConvCostError, match="width lists '1' twice"):
        Axis(name="width", values=("1", "1"))
    thousand = tuple(map(str, range(1000)))
    assert Grid(axes=(Axis(name="a", values=thousand),)).size == 1000
    with pytest.raises(ConvCostError, match="a sweep takes at most"):
        Grid(axes=(Axis(name="a", values=thousand), Axis(name="b", values=thousand)))
    with pytest.raises(ConvCostError, match="a sweep needs a parameter"):
        Grid(axes=())
    with pytest.raises(ConvCostError):
        parse_grid("width=1")  # one text, not a list of them


# --- sweeps refused before any work ---------------------------------------------------------


@pytest.fixture
def no_network_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a sweep builds a single network."""

    def refuse(*args: object, **kwargs: object) -> Network:
        raise AssertionError("a network was built before the sweep was refused")

    monkeypatch.setattr("convcost.sources.load_network", refuse)


BAD_SWEEPS = [
    pytest.param("mobilenet-v1", ["widht=0.5,1"], {}, "did you mean 'width'", id="unknown-name"),
    pytest.param("resnet50", ["resolution=128:129:0.5"], {}, "--param resolution", id="128.5"),
    pytest.param("mobilenet-v1", ["width=0.5,.5"], {}, "same value", id="same-value-twice"),
    pytest.param("resnet50", ["resolution=31,32"], {}, "--param resolution", id="below-minimum"),
    pytest.param("mobilenet-v1", ["width=0.5"], {"width": "1"}, "given twice", id="base-and-grid"),
    pytest.param("mobilenet-v1", ["width=0.5"], {"widht": "1"}, "widht", id="bad-base"),
]


@pytest.mark.usefixtures("no_network_built")
@pytest.mark.parametrize(("source", "texts", "base", "message"), BAD_SWEEPS)
def test_bad_sweeps_are_refused_before_any_network_is_built(
    source: str, texts: list[str], base: dict[str, str], message: str
) -> None:
    with pytest.raises(ConvCostError, match=message) as raised:
        sweep(source, parse_grid(texts), base_parameters=base)
    assert "\n" not in str(raised.value)


def test_a_spec_file_takes_no_parameters() -> None:
    spec = Path(__file__).resolve().parent.parent / "examples" / "vgg-cifar.toml"
    with pytest.raises(ConvCostError, match=r"parameters \(width\) do not apply to the"):
        sweep(str(spec), parse_grid(["width=0.5"]))
    with pytest.raises(PresetError, match="unknown preset"):
        sweep("resnet", parse_grid(["resolution=224"]))


def test_a_point_that_fails_names_the_point() -> None:
    # Every value is valid alone; stages=7 needs an input of 128 pixels or more.
    grid = parse_grid(["input_shape=3x128x128,3x64x64", "stages=6,7"])
    with pytest.raises(ConvCostError, match=r"pyramid at input_shape=3x64x64, stages=7: "):
        sweep("pyramid", grid)


def test_progress_is_called_after_each_point() -> None:
    calls: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        calls.append((done, total))

    sweep("resnet18", parse_grid(["classes=10,100,1000"]), progress=progress)
    assert calls == [(1, 3), (2, 3), (3, 3)]


# --- every point is the library's single call ------------------------------------------------

SINGLE_CALLS = [
    pytest.param("mobilenet-v1", ["width=0.25,1", "resolution=128,224"], {}, id="mobilenet-v1"),
    pytest.param("mobilenet-v2", ["width=0.5,1.4"], {}, id="mobilenet-v2"),
    pytest.param("resnet50", ["resolution=64,224", "classes=10,1000"], {}, id="resnet50"),
    pytest.param("xception", ["resolution=71,299"], {}, id="xception"),
    pytest.param("vgg-cifar", ["separable=false,true"], {}, id="vgg-cifar"),
    pytest.param(
        "pyramid",
        ["kernel_size=3,5", "stages=1,3"],
        {"bias": "true", "head": "global", "classes": "10"},
        id="pyramid-biased-with-head",
    ),
]
SETTINGS = [
    pytest.param(Rewriting(), Counting(), id="defaults"),
    pytest.param(
        Rewriting(keep_first=True, bias="both", mid_channels="out"),
        Counting(flops="beside", flops_bias=True),
        id="keep-first-flops",
    ),
    pytest.param(Rewriting(), Counting(convention=get_profile("ptflops")), id="ptflops"),
]


@pytest.mark.parametrize(("rewriting", "counting"), SETTINGS)
@pytest.mark.parametrize(("source", "texts", "base"), SINGLE_CALLS)
def test_each_point_is_compare_families_of_load_network(
    source: str, texts: list[str], base: dict[str, str], rewriting: Rewriting, counting: Counting
) -> None:
    grid = parse_grid(texts)
    report = sweep(source, grid, rewriting=rewriting, counting=counting, base_parameters=base)
    assert len(report.points) == grid.size
    for point, texts_of_point in zip(report.points, grid.points()):
        network = load_network(source, parameters={**base, **texts_of_point})
        single = compare_families(network, rewriting=rewriting, counting=counting)
        document = single.document
        assert point.families == single.comparison.families
        assert point.network == network.name
        assert point.input_shape == network.input_shape
        for result in point.results:
            family = document["families"][result.family]
            assert family["totals"]["params"] == result.params
            assert family["totals"]["macs"] == result.totals.macs
            assert family["totals"]["non_trainable_params"] == result.totals.non_trainable_params
            assert family["totals"]["bias_adds"] == result.totals.bias_adds
            assert family["totals"]["flops"] == result.flops
            assert family["counted"]["total"] == result.counted
            assert family["rewrite"] == {
                "rewritten": result.rewrite.rewritten,
                "biased": result.rewrite.biased,
                "kept": result.rewrite.kept,
            }
        for family, ratios in document["ratios_to_regular"].items():
            assert point.ratio(family, "params") == Fraction(ratios["params"]["fraction"])
            assert point.ratio(family, "macs") == Fraction(ratios["macs"]["fraction"])


def test_with_a_device_each_point_has_the_roofline_bound() -> None:
    device = get_device("a100-sxm4-80gb")
    grid = parse_grid(["resolution=128,224"])
    report = sweep("mobilenet-v2", grid, device=device, dtype="float16", batch_size=8)
    for point, texts in zip(report.points, grid.points()):
        network = load_network("mobilenet-v2", parameters=texts)
        expected = compare_roofline(compare(network), device, dtype="float16", batch_size=8)
        for result, roofline in zip(point.results, expected.rooflines):
            assert result.timing == roofline.totals.timing
        assert point.ratio("depthwise_separable", "time") == expected.ratio(
            "depthwise_separable", "time"
        )
    seconds = report.document["points"][0]["families"]["regular"]["time"]["seconds"]
    assert Fraction(seconds["fraction"]) == report.points[0].family("regular").timing.time  # type: ignore[union-attr]
    assert [column.key for column in report.tables[0].columns][1:3] == [
        "regular_params",
        "regular_macs",
    ]
    keys = [column.key for column in report.tables[0].columns]
    assert {
        "regular_time_us",
        "depthwise_separable_time_us",
        "depthwise_separable_time_ratio",
    } <= set(keys)


@pytest.mark.parametrize("keep_first", [False, True])
@given(data=st.data())
def test_costing_node_by_node_equals_costing_the_whole_network(
    keep_first: bool, data: st.DataObject
) -> None:
    """The sweep's cache (a network as the chain of its top-level nodes, each costed once
    per input shape) against the engine's own costing of the whole network, on any
    network: named inputs, named outputs and flat naming included, the cache shared."""
    first: Network = data.draw(networks(max_layers=4))
    second: Network = data.draw(networks(max_layers=4))
    profile = data.draw(st.sampled_from([PAPER, get_profile("ptflops"), get_profile("fvcore")]))
    rewriting = Rewriting(keep_first=keep_first)
    costing = sweep_module._Costing(FAMILIES, rewriting, profile, None, "float32", 1)
    for network in (first, second, first, second):
        assert_costed_as_the_engine_costs(costing, network, keep_first, profile)


def assert_costed_as_the_engine_costs(
    costing: sweep_module._Costing, network: Network, keep_first: bool, profile: Profile
) -> None:
    """`costing` gives `network` the totals, counts and rewrites `compare` and `count`
    give it, or refuses it with the same message."""
    families: tuple[Family, ...] = FAMILIES
    if network.input_shape.ndim < 2:
        families = ("regular", "depthwise_separable")
    costing.families = families
    try:
        comparison = compare(network, families, keep_first=keep_first)
    except ConvCostError as error:
        refused = str(error)
    else:
        refused = ""
    if refused:
        with pytest.raises(ConvCostError) as raised:
            costing.network(network)
        assert str(raised.value) == refused
        return
    outcome = costing.network(network)
    for index, (cost, stats) in enumerate(zip(comparison.costs, comparison.rewrites)):
        assert outcome.totals(index) == cost.totals
        assert outcome.counted(index) == count(cost, profile).total
        assert outcome.rewrite(index) == stats
    assert outcome.output_shape == comparison.costs[0].output_shape


@pytest.mark.parametrize("keep_first", [False, True])
@given(data=st.data())
def test_a_sweeps_caches_at_one_entry_each_change_nothing(
    keep_first: bool, data: st.DataObject
) -> None:
    """The sweep sums each node's layers from caches of (layer, shape) costs, of joins
    and of rewrites, kept by value and by identity. With room for one entry in each, so
    that entries are dropped all the time and the objects they held are let go (their ids
    then free for new objects), network after network still costs what the engine says;
    with a device, the engine's own costing of each node does too."""
    profile = data.draw(st.sampled_from([PAPER, get_profile("thop"), get_profile("onnx-tool")]))
    device = data.draw(st.sampled_from([None, get_device("l4")]))
    costing = sweep_module._Costing(
        FAMILIES, Rewriting(keep_first=keep_first), profile, device, "float32", 1
    )
    with (
        mock.patch.object(sweep_module, "MAX_CACHED_LAYERS", 1),
        mock.patch.object(sweep_module, "MAX_CACHED_SEGMENTS", 1),
    ):
        for _ in range(data.draw(st.integers(2, 5))):
            network = data.draw(networks(max_layers=4))
            assert_costed_as_the_engine_costs(costing, network, keep_first, profile)


def test_the_cache_is_bounded_and_its_evictions_change_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    grid = parse_grid(["resolution=96,128", "classes=10,20,10000"])
    full = sweep("resnet18", grid)
    monkeypatch.setattr(sweep_module, "MAX_CACHED_SEGMENTS", 2)
    assert sweep("resnet18", grid).document == full.document


# --- the MobileNet paper's tables, as sweeps -------------------------------------------------

# Howard et al. 2017 (arXiv:1704.04861). Exact mult-adds from docs/presets.md ("Figures that
# agree"); the paper prints millions. Its parameter figures count weights only; convcost's
# params add batch norm's γ and β and the classifier's bias, and round to the same figures.
TABLE_6 = [  # width multiplier at 224: (width, printed mult-adds M, exact, printed params M, exact)
    ("1", "569", 568_740_352, "4.2", 4_231_976),
    ("0.75", "325", 325_400_448, "2.6", 2_585_560),
    ("0.5", "149", 149_497_088, "1.3", 1_331_592),
    ("0.25", "41", 41_030_272, "0.5", 470_072),
]
TABLE_7 = [  # resolution at width 1
    ("224", "569", 568_740_352),
    ("192", "418", 418_121_728),
    ("160", "290", 290_675_200),  # the paper scales the FC too: exact is 290.7 M (291)
    ("128", "186", 186_400_768),
]


def test_mobilenet_table_6_width_multiplier_as_a_sweep() -> None:
    report = sweep("mobilenet-v1", parse_grid(["width=1,0.75,0.5,0.25"]), families=())
    for point, (width, printed, exact, printed_params, params) in zip(report.points, TABLE_6):
        regular = point.family("regular")
        assert point.parameters["width"] == Fraction(width)
        assert (regular.counted, regular.params) == (exact, params)
        assert rounds_to(regular.counted, printed)
        assert rounds_to(regular.params, printed_params)
    assert [row[1:3] for row in report.tables[0].rows] == [(t[4], t[2]) for t in TABLE_6]


def test_mobilenet_table_7_resolution_as_a_sweep() -> None:
    report = sweep("mobilenet-v1", parse_grid(["resolution=224,192,160,128"]))
    counted = [point.family("regular").counted for point in report.points]
    assert counted == [exact for _, _, exact in TABLE_7]
    for (_, printed, exact), point in zip(TABLE_7, report.points):
        assert rounds_to(exact, printed) == (printed != "290")  # docs/presets.md, note 3
        assert point.family("regular").params == 4_231_976  # resolution changes no weight


def test_mobilenet_tables_6_and_7_together_are_one_grid() -> None:
    report = sweep("mobilenet-v1", parse_grid(["width=1,0.75,0.5,0.25", "resolution=224"]))
    table_6 = [point.family("regular").counted for point in report.points]
    assert table_6 == [exact for _, _, exact, _, _ in TABLE_6]


# --- the pyramid's law ------------------------------------------------------------------------


def test_pyramid_depthwise_ratio_is_one_over_n_plus_one_over_k_squared_on_each_stage() -> None:
    """Stage i of the pyramid (N = base_channels × 2**(i-1) output channels, k×k, no
    bias): depthwise separable over regular is 1/N + 1/k², for MACs and parameters. A
    stage's cost is the difference between the pyramids of i and i - 1 stages."""
    grid = parse_grid(["kernel_size=3,5,7", "base_channels=16,32,64", "stages=1:4"])
    report = sweep("pyramid", grid, families=("depthwise_separable",))
    by_point = {
        (p.parameters["kernel_size"], p.parameters["base_channels"], p.parameters["stages"]): p
        for p in report.points
    }

    def stage(point: SweepPoint, family: Family, metric: str) -> int:
        """What the last stage of `point`'s pyramid costs in `family`."""
        kernel, base, stages = (point.parameters[name] for name in grid.names)
        assert isinstance(stages, int)
        before = by_point.get((kernel, base, stages - 1))
        result = point.family(family)
        earlier = before.family(family) if before else None
        if metric == "macs":
            return result.counted - (earlier.counted if earlier else 0)
        return result.params - (earlier.params if earlier else 0)

    for (kernel, base, stages), point in by_point.items():
        assert isinstance(kernel, int)
        assert isinstance(base, int)
        assert isinstance(stages, int)
        law = Fraction(1, base << (stages - 1)) + Fraction(1, kernel**2)
        for metric in ("macs", "params"):
            ratio = Fraction(stage(point, "depthwise_separable", metric))
            assert ratio / stage(point, "regular", metric) == law
        if stages == 1:
            assert point.ratio("depthwise_separable", "macs") == law


# --- the report -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small() -> SweepReport:
    return sweep("mobilenet-v1", parse_grid(["width=0.5,1", "resolution=128,224"]))


def test_json_document_is_exact(small: SweepReport) -> None:
    document = json.loads(small.to_json())
    assert document["schema"] == "convcost.sweep"
    assert document["version"] == 2
    assert document["grid"] == [
        {"name": "width", "values": ["0.5", "1"]},
        {"name": "resolution", "values": ["128", "224"]},
    ]
    assert document["families"] == list(FAMILIES)
    assert document["conventions"]["profile"]["name"] == "paper"
    assert document["device"] is None
    assert len(document["points"]) == 4
    last = document["points"][-1]
    assert last["parameters"] == {"width": 1, "resolution": 224}
    assert last["network"] == {"name": "mobilenet-v1", "input_shape": [3, 224, 224]}
    regular = last["families"]["regular"]
    assert regular["macs"] == regular["counted"] == 568_740_352
    assert regular["params"] == 4_231_976
    assert isinstance(regular["flops"], int)
    assert regular["flops"] == 2 * 568_740_352
    for point, data in zip(small.points, document["points"]):
        for family, ratios in data["ratios_to_regular"].items():
            for metric, ratio in ratios.items():
                assert Fraction(ratio["fraction"]) == point.ratio(family, metric)
                assert ratio["value"] == float(Fraction(ratio["fraction"]))


def test_table_has_a_row_per_point_and_unique_machine_keys(small: SweepReport) -> None:
    (table,) = small.tables
    keys = [column.key for column in table.columns]
    assert len(keys) == len(set(keys))
    assert all(key.isidentifier() for key in keys)
    assert keys[:4] == ["width", "resolution", "regular_params", "regular_macs"]
    assert [row[:2] for row in table.rows] == [("0.5", 128), ("0.5", 224), ("1", 128), ("1", 224)]
    csv = render_csv(small).splitlines()
    assert csv[0].split(",") == keys
    assert csv[-1].split(",")[:4] == ["1", "224", "4231976", "568740352"]


def test_column_keys_name_another_convention() -> None:
    counting = Counting(convention=get_profile("ptflops"))
    report = sweep("resnet18", parse_grid(["classes=10"]), counting=counting, families=())
    assert [column.key for column in report.tables[0].columns] == [
        "classes",
        "regular_params",
        "regular_macs_ptflops",
    ]
    assert report.tables[0].columns[2].header == "Regular MACs (ptflops)"


def test_plain_rendering_says_what_was_counted(small: SweepReport) -> None:
    text = str(small)
    assert text.startswith("mobilenet-v1 on 3x128x128 to 3x224x224: width × resolution, 4 points")
    assert "MACs as papers count them" in text


def test_the_examples_of_docs_sweeps_md_run() -> None:
    """docs/sweeps.md shows what the library prints."""
    path = Path(__file__).resolve().parent.parent / "docs" / "sweeps.md"
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testfile(str(path), module_relative=False, optionflags=flags)
    assert result.attempted >= 6
    assert result.failed == 0
