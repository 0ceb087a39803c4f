"""The `convcost` command line, through click's `CliRunner`.

Every command and format; JSON checked number by number against the library; the text
formats against golden files (``pytest --update-golden`` rewrites them); totals rows
against the sums of the rows they total; the seed 000 and seed 001 settings; errors (exit
2, one ``Error:`` line on stderr, never a traceback), and a hypothesis fuzz of the
arguments of `compare` and `layer` built from the commands' own click parameters.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
import sys
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any, NamedTuple

import click
import pytest
from click.testing import CliRunner, Result
from hypothesis import example, given
from hypothesis import strategies as st

import convcost
from convcost import (
    Conv,
    DepthwiseSeparableConv,
    LayerCost,
    Shape,
    SpatiallySeparableConv,
    layer_cost,
    parse_shape,
)
from convcost.builders import pyramid
from convcost.cli import (
    PYRAMID_OPTIONS,
    FamiliesType,
    ShapeType,
    main,
    resolve_format,
)
from convcost.network import Family, NetworkCost, compare
from convcost.render import FORMATS
from convcost.units import format_percent

Golden = Callable[[str, str], None]

SEED_000 = "seed 000 (000_62c80d1e414757ec.txt)"
SEED_001 = "seed 001 (001_0fb61eedebb4352d.txt)"
SEED_002 = "seed 002 (002_7ff4c6134a4ec42b.txt)"
TEXT_FORMATS = [name for name in FORMATS if name not in ("rich", "json")]
# The environment of a run: no colour forced, no width inherited from the terminal.
QUIET_ENV: dict[str, str | None] = {
    "NO_COLOR": None,
    "FORCE_COLOR": None,
    "TTY_COMPATIBLE": None,
    "TTY_INTERACTIVE": None,
    "COLUMNS": None,
}


def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(
        main, list(args), prog_name="convcost", env={**QUIET_ENV, **(env or {})}
    )


def run_ok(*args: str, env: dict[str, str | None] | None = None) -> str:
    """Stdout of a run that must succeed with nothing on stderr."""
    result = run(*args, env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout
    return result.stdout


def run_json(*args: str) -> dict[str, Any]:
    document = json.loads(run_ok(*args, "--format", "json"))
    assert isinstance(document, dict)
    return document


# --- help, version --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--help"], id="main"),
        pytest.param(["-h"], id="main-short"),
        pytest.param(["compare", "--help"], id="compare"),
        pytest.param(["layer", "-h"], id="layer"),
    ],
)
def test_help_has_examples(args: list[str]) -> None:
    text = run_ok(*args)
    assert text.startswith("Usage: convcost")
    assert "Examples:" in text


def help_examples(command: list[str]) -> Iterator[list[str]]:
    """The example command lines of a --help text that need no file (comments and pipes cut)."""
    text = run_ok(*command, "--help")
    for line in text.splitlines():
        line = line.split("#")[0].split("|")[0].strip()
        if not line.startswith("convcost ") or re.search(r"\.(toml|json|ya?ml)\b|>", line):
            continue
        yield shlex.split(line)[1:]


@pytest.mark.parametrize("command", [[], ["compare"], ["layer"]], ids=["main", "compare", "layer"])
def test_help_examples_run(command: list[str]) -> None:
    """Every example printed by --help runs and succeeds."""
    examples = list(help_examples(command))
    assert examples
    for args in examples:
        run_ok(*args, "--format", "plain")


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag: str) -> None:
    assert run_ok(flag) == f"convcost, version {convcost.__version__}\n"


# --- every format ---------------------------------------------------------------------------

MARKERS = {
    "plain": "\n------",
    "markdown": "|:--",
    "github": "|---",
    "latex": "\\begin{tabular}",
    "rst": "\n=====",
    "html": "<table>",
    "csv": "table,",
}
COMMANDS = {
    "compare": ["compare"],
    "layer": ["layer", "3x15x15", "--out", "10", "-k", "3"],
}


@pytest.mark.parametrize("format", TEXT_FORMATS)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_text_formats(command: str, format: str) -> None:
    """Every text format of every command: exit 0, nothing on stderr, the format's markup."""
    text = run_ok(*COMMANDS[command], "--format", format)
    assert MARKERS[format] in text
    assert "Regular" in text
    assert text.endswith("\n")


@pytest.mark.parametrize("command", list(COMMANDS))
def test_json_format(command: str) -> None:
    """JSON on stdout and nothing else: it parses whole."""
    document = run_json(*COMMANDS[command])
    assert document["schema"] == f"convcost.{command}"
    assert document["version"] == 1


@pytest.mark.parametrize("command", list(COMMANDS))
def test_csv_parses(command: str) -> None:
    rows = list(csv.reader(io.StringIO(run_ok(*COMMANDS[command], "--format", "csv"))))
    assert rows[0][0] == "table"
    assert all(len(row) == len(rows[0]) for row in rows if row)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_default_format_off_a_terminal_is_plain(command: str) -> None:
    """CliRunner's stdout is not a terminal: the default is plain text."""
    assert run_ok(*COMMANDS[command]) == run_ok(*COMMANDS[command], "--format", "plain")


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("terminal", "no_color", "given", "expected"),
    [
        pytest.param(True, None, None, "rich", id="terminal"),
        pytest.param(True, "1", None, "plain", id="terminal-no-color"),
        pytest.param(False, None, None, "plain", id="pipe"),
        pytest.param(False, None, "rich", "rich", id="pipe-asked-for-rich"),
        pytest.param(True, "1", "markdown", "markdown", id="explicit-wins"),
    ],
)
def test_resolve_format(
    monkeypatch: pytest.MonkeyPatch,
    terminal: bool,
    no_color: str | None,
    given: str | None,
    expected: str,
) -> None:
    monkeypatch.setattr(sys, "stdout", FakeTerminal() if terminal else io.StringIO())
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    assert resolve_format(given) == expected


def test_rich_format_through_the_cli(golden: Golden) -> None:
    """`--format rich` at 100 columns draws what `render_rich` draws (test_render's golden)."""
    text = run_ok("compare", "--format", "rich", env={"COLUMNS": "100"})
    assert "\x1b" not in text
    assert max(len(line) for line in text.splitlines()) <= 100
    golden("compare_default.rich.txt", text)


# --- JSON against the library ---------------------------------------------------------------


class CompareCase(NamedTuple):
    args: list[str]
    network: dict[str, Any]  # pyramid() arguments
    families: tuple[Family, ...]
    bias: Any
    keep_first: bool = False
    count_bias: bool = False


ALL_FAMILIES: tuple[Family, ...] = ("regular", "spatially_separable", "depthwise_separable")
SEED_000_ARGS = [
    "--input", "hwc:32x32x3", "--base-channels", "64", "--stages", "3", "--convs-per-stage", "2",
    "--head", "flatten", "--classes", "10", "--bias", "pointwise",
]  # fmt: skip
SEED_000_NETWORK: dict[str, Any] = {
    "input_shape": Shape(3, (32, 32)),
    "base_channels": 64,
    "stages": 3,
    "convs_per_stage": 2,
    "head": "flatten",
    "classes": 10,
    "bias": True,
}

COMPARE_CASES = [
    pytest.param(CompareCase([], {}, ALL_FAMILIES, "none"), id="seed-001-default"),
    pytest.param(CompareCase(SEED_000_ARGS, SEED_000_NETWORK, ALL_FAMILIES, "pointwise"),
                 id="seed-000-vgg"),
    pytest.param(
        CompareCase(
            ["--input", "3x64x64", "--base-channels", "16", "--stages", "3", "--downsample",
             "stride", "--batch-norm", "--head", "global", "--classes", "10"],
            {"input_shape": Shape(3, (64, 64)), "base_channels": 16, "stages": 3,
             "downsample": "stride", "batch_norm": True, "head": "global", "classes": 10},
            ALL_FAMILIES, "none",
        ),
        id="stride-batchnorm-global-head",
    ),
    pytest.param(
        CompareCase(
            ["--input", "8x32x32", "--base-channels", "8", "--stages", "2", "--kernel", "5",
             "--convs-per-stage", "2", "--families", "depthwise", "--bias", "both",
             "--keep-first", "--flops", "--flops-bias"],
            {"input_shape": Shape(8, (32, 32)), "base_channels": 8, "stages": 2,
             "kernel_size": 5, "convs_per_stage": 2, "bias": True},
            ("regular", "depthwise_separable"), "both", True, True,
        ),
        id="depthwise-keep-first-bias-both-flops-bias",
    ),
    pytest.param(
        CompareCase(
            ["--channels-last", "--input", "32x32x3", "--stages", "2", "--families", "spatial"],
            {"input_shape": Shape(3, (32, 32)), "stages": 2},
            ("regular", "spatially_separable"), "none",
        ),
        id="channels-last-spatial",
    ),
]  # fmt: skip


def shape_json(shape: Shape) -> list[int]:
    return [shape.channels, *shape.spatial]


def cost_json(cost: Any, *, count_bias: bool) -> dict[str, int]:
    return {
        "params": cost.params,
        "non_trainable_params": cost.non_trainable_params,
        "macs": cost.macs,
        "bias_adds": cost.bias_adds,
        "flops": 2 * cost.macs + (cost.bias_adds if count_bias else 0),
    }


def check_ratio(document: dict[str, Any] | None, ratio: Fraction | None) -> None:
    """A JSON ratio is the exact fraction as text, and its float value."""
    if ratio is None:
        assert document is None
        return
    assert document is not None
    assert Fraction(document["fraction"]) == ratio
    assert document["value"] == float(ratio)


def check_network(document: dict[str, Any], cost: NetworkCost, *, count_bias: bool) -> None:
    assert len(document["rows"]) == len(cost.rows)
    for row_document, row in zip(document["rows"], cost.rows):
        assert row_document["path"] == row.path
        assert row_document["name"] == row.name
        assert row_document["group"] == row.group
        assert row_document["type"] == type(row.cost.layer).__name__
        assert row_document["kind"] == row.cost.kind
        assert row_document["input_shape"] == shape_json(row.cost.input_shape)
        assert row_document["output_shape"] == shape_json(row.cost.output_shape)
        for key, value in cost_json(row.cost, count_bias=count_bias).items():
            assert row_document[key] == value, (row.path, key)
        parts = [part["params"] for part in row_document.get("parts", [])]
        assert parts == [part.params for part in row.cost.parts]
    groups = {str(g): t for g, t in cost.groups().items() if g is not None}
    assert document["groups"] == {
        group: cost_json(totals, count_bias=count_bias) for group, totals in groups.items()
    }
    assert document["totals"] == cost_json(cost.totals, count_bias=count_bias)
    assert document["output_shape"] == shape_json(cost.output_shape)


def check_conventions(document: dict[str, Any], *, bias: str, count_bias: bool) -> None:
    assert document["separable_bias"] == bias
    assert document["flops"] == "2 * macs" + (" + bias_adds" if count_bias else "")
    assert document["per_sample"] is True
    assert document["bias_adds_in_macs"] is False


@pytest.mark.parametrize("case", COMPARE_CASES)
def test_compare_json_equals_the_library(case: CompareCase) -> None:
    """Every row, group, total, ratio and convention of the JSON, against
    `compare(pyramid(...))` called directly with the same settings.
    """
    document = run_json("compare", *case.args)
    network = pyramid(**case.network)
    comparison = compare(network, case.families, bias=case.bias, keep_first=case.keep_first)
    assert document["schema"] == "convcost.compare"
    assert document["network"]["input_shape"] == shape_json(network.input_shape)
    assert list(document["families"]) == list(comparison.families)
    for family, cost in zip(comparison.families, comparison.costs):
        check_network(document["families"][family], cost, count_bias=case.count_bias)
    assert list(document["ratios_to_regular"]) == list(comparison.families[1:])
    for family in comparison.families[1:]:
        for metric in ("params", "macs"):
            check_ratio(
                document["ratios_to_regular"][family][metric],
                comparison.ratio(family, metric),
            )
    check_conventions(document["conventions"], bias=case.bias, count_bias=case.count_bias)


class LayerCase(NamedTuple):
    args: list[str]
    shape: str
    window: dict[str, Any]  # what the three families share
    regular: dict[str, Any]
    spatial: dict[str, Any] | None  # None: no spatial factorisation (1-D)
    depthwise: dict[str, Any]


LAYER_CASES = [
    pytest.param(
        LayerCase(["3x15x15", "--out", "10", "-k", "3"], "3x15x15",
                  {"out_channels": 10, "kernel_size": 3}, {"bias": False}, {"bias": "none"},
                  {"bias": "none"}),
        id="seed-002",
    ),
    pytest.param(
        LayerCase(["16x128x128", "-o", "32", "-k", "3", "-p", "same"], "16x128x128",
                  {"out_channels": 32, "kernel_size": 3, "padding": "same"}, {"bias": False},
                  {"bias": "none"}, {"bias": "none"}),
        id="seed-001",
    ),
    pytest.param(
        LayerCase(["hwc:32x32x3", "-o", "64", "-k", "3", "--bias", "both"], "3x32x32",
                  {"out_channels": 64, "kernel_size": 3}, {"bias": True}, {"bias": "both"},
                  {"bias": "both"}),
        id="seed-000-bias-both",
    ),
    pytest.param(
        LayerCase(["4x17x19", "-o", "6", "-k", "3,5", "-s", "2,1", "-p", "1,2", "-d", "1,2",
                   "-g", "2", "--depth-multiplier", "2", "--mid-channels", "3",
                   "--bias", "pointwise"], "4x17x19",
                  {"out_channels": 6, "kernel_size": (3, 5), "stride": (2, 1),
                   "padding": (1, 2), "dilation": (1, 2)},
                  {"bias": True, "groups": 2}, {"bias": "pointwise", "mid_channels": 3},
                  {"bias": "pointwise", "depth_multiplier": 2}),
        id="every-option",
    ),
    pytest.param(
        LayerCase(["4x20", "-o", "8", "-k", "5", "-p", "valid"], "4x20",
                  {"out_channels": 8, "kernel_size": 5, "padding": "valid"}, {"bias": False},
                  None, {"bias": "none"}),
        id="1d-no-spatial-family",
    ),
    pytest.param(
        LayerCase(["2x6x6x6", "-o", "4", "-k", "3", "-p", "same-pytorch"], "2x6x6x6",
                  {"out_channels": 4, "kernel_size": 3, "padding": "same-pytorch"},
                  {"bias": False}, {"bias": "none"}, {"bias": "none"}),
        id="3d-same-pytorch",
    ),
]  # fmt: skip


def check_layer_entry(document: dict[str, Any], cost: LayerCost) -> None:
    assert document["input_shape"] == shape_json(cost.input_shape)
    assert document["output_shape"] == shape_json(cost.output_shape)
    assert document["kind"] == cost.kind
    for key, value in cost_json(cost, count_bias=False).items():
        assert document[key] == value, key
    assert document["macs_terms"] == [list(term) for term in cost.macs_terms]
    assert document["weight_terms"] == [list(term) for term in cost.weight_terms]
    assert len(document.get("parts", [])) == len(cost.parts)
    for part_document, part in zip(document.get("parts", []), cost.parts):
        check_layer_entry(part_document, part)


@pytest.mark.parametrize("case", LAYER_CASES)
def test_layer_json_equals_the_library(case: LayerCase) -> None:
    """Each family of `convcost layer` against `layer_cost` of the same layer spec."""
    document = run_json("layer", *case.args)
    shape = parse_shape(case.shape)
    costs: dict[str, LayerCost] = {
        "regular": layer_cost(Conv(**case.window, **case.regular), shape),
        "depthwise_separable": layer_cost(
            DepthwiseSeparableConv(**case.window, **case.depthwise), shape
        ),
    }
    if case.spatial is not None:
        costs["spatially_separable"] = layer_cost(
            SpatiallySeparableConv(**case.window, **case.spatial), shape
        )
    assert document["schema"] == "convcost.layer"
    assert set(document["families"]) == set(costs)
    for family, cost in costs.items():
        check_layer_entry(document["families"][family], cost)
        if family != "regular":
            regular = costs["regular"]
            ratios = document["ratios_to_regular"][family]
            check_ratio(ratios["params"], Fraction(cost.params, regular.params))
            check_ratio(ratios["macs"], Fraction(cost.macs, regular.macs))


@pytest.mark.parametrize(
    ("args", "regular", "depthwise", "source"),
    [
        pytest.param(["3x15x15", "--out", "10", "-k", "3"], (270, 45_630), (57, 9_633),
                     f"{SEED_002} lines 87 and 180-186", id="seed-002"),
        pytest.param(["16x128x128", "-o", "32", "-k", "3", "-p", "same"],
                     (4_608, 75_497_472), (656, 10_747_904),
                     f"{SEED_001} lines 65-83 and 135-177", id="seed-001"),
        pytest.param(["hwc:32x32x3", "-o", "64", "-k", "3", "--bias", "both"],
                     (1_792, 1_555_200), (286, 197_100),
                     f"{SEED_000} line 41 (params; MACs worked by hand on the 30×30 output: "
                     "27·64·900 and (27 + 192)·900)", id="seed-000"),
    ],
)  # fmt: skip
def test_layer_seed_figures(
    args: list[str], regular: tuple[int, int], depthwise: tuple[int, int], source: str
) -> None:
    """The seeds' one-layer figures, read off the JSON (params, MACs)."""
    families = run_json("layer", *args)["families"]
    assert (families["regular"]["params"], families["regular"]["macs"]) == regular, source
    separable = families["depthwise_separable"]
    assert (separable["params"], separable["macs"]) == depthwise, source


def test_layer_explain_prints_the_seed_002_arithmetic() -> None:
    """--explain writes each product with its numbers, as seed 002 does (lines 87, 180-186)."""
    text = run_ok("layer", "3x15x15", "--out", "10", "-k", "3", "--explain", "--format", "plain")
    assert "3 × 3 × 3 × 10 × 13 × 13 = 45,630" in text
    assert "3 × 3 × 1 × 3 × 13 × 13 = 4,563" in text
    assert "1 × 1 × 3 × 10 × 13 × 13 = 5,070" in text
    assert "4,563 + 5,070 = 9,633" in text


def test_layer_explain_keeps_json_pure() -> None:
    """--explain with --format json: stdout is still exactly one JSON document."""
    plain = run_json("layer", "3x15x15", "--out", "10", "-k", "3")
    assert run_json("layer", "3x15x15", "--out", "10", "-k", "3", "--explain") == plain


@pytest.mark.parametrize(
    ("text", "families"),
    [
        pytest.param("depthwise", ["regular", "depthwise_separable"], id="one"),
        pytest.param("depthwise,regular", ["regular", "depthwise_separable"], id="regular-first"),
        pytest.param(" spatial , depthwise-separable ",
                     ["regular", "spatially_separable", "depthwise_separable"], id="spaces-dashes"),
        pytest.param("regular", ["regular"], id="regular-alone"),
        pytest.param("depthwise,depthwise", ["regular", "depthwise_separable"], id="repeated"),
    ],
)  # fmt: skip
def test_families_option(text: str, families: list[str]) -> None:
    assert list(run_json("compare", "--families", text)["families"]) == families


def test_channels_last_option_equals_the_layout_prefix() -> None:
    assert run_json("compare", "--channels-last", "--input", "32x32x3") == run_json(
        "compare", "--input", "hwc:32x32x3"
    )
    assert run_json("layer", "--channels-last", "15x15x3", "-o", "10") == run_json(
        "layer", "3x15x15", "-o", "10"
    )


def test_flops_adds_a_table() -> None:
    """--flops adds a FLOPs table whose cells are 2 × MACs (+ bias adds with --flops-bias)."""
    args = ["compare", "--exact", "--bias", "both", "--stages", "2"]
    plain = run_ok(*args, "--format", "csv")
    with_flops = run_ok(*args, "--flops", "--format", "csv")
    with_bias = run_ok(*args, "--flops", "--flops-bias", "--format", "csv")
    assert "FLOPs" not in plain
    macs = csv_tables(plain)["MACs by convolution family"]
    flops = csv_tables(with_flops)["FLOPs by convolution family"]
    biased = csv_tables(with_bias)["FLOPs by convolution family"]
    document = run_json(*args)
    bias_adds = document["families"]["regular"]["totals"]["bias_adds"]
    assert bias_adds > 0
    assert number(flops[-1][2]) == 2 * number(macs[-1][2])
    assert number(biased[-1][2]) == 2 * number(macs[-1][2]) + bias_adds


# --- golden files ---------------------------------------------------------------------------

GOLDEN_COMMANDS = {
    "compare_default": ["compare"],
    "compare_layers_exact": ["compare", "--layers", "--exact"],
    "layer_explain": ["layer", "3x15x15", "--out", "10", "-k", "3", "--explain"],
}
GOLDEN_SUFFIXES = {"plain": "txt", "markdown": "md", "latex": "tex", "csv": "csv"}


@pytest.mark.parametrize("format", list(GOLDEN_SUFFIXES))
@pytest.mark.parametrize("name", list(GOLDEN_COMMANDS))
def test_golden_output(golden: Golden, name: str, format: str) -> None:
    """The output of three commands in four formats, byte for byte (tests/golden/)."""
    text = run_ok(*GOLDEN_COMMANDS[name], "--format", format)
    golden(f"{name}.{format}.{GOLDEN_SUFFIXES[format]}", text)


# --- totals rows are the sums of the rows -----------------------------------------------------

FAMILY_COLUMNS = ("Regular", "Spatial", "Depthwise")
TOTALS_CASES = [
    pytest.param(["--exact"], id="stages"),
    pytest.param(["--layers", "--exact"], id="layers"),
    pytest.param([*SEED_000_ARGS, "--layers", "--exact"], id="seed-000-layers"),
    pytest.param(["--layers", "--exact", "--batch-norm", "--head", "global", "--downsample",
                  "stride", "--flops", "--flops-bias", "--bias", "both", "--input", "3x96x96",
                  "--base-channels", "16"], id="everything"),
    pytest.param(["--exact", "--families", "depthwise", "--keep-first", "--convs-per-stage", "3"],
                 id="keep-first"),
]  # fmt: skip


def number(cell: str) -> int:
    return int(cell.replace(",", ""))


class TextTable(NamedTuple):
    title: str
    headers: list[str]
    rows: list[list[str]]
    totals: list[str]


def plain_tables(text: str) -> list[TextTable]:
    """The tables of plain output, cells cut at the column spans of each table's rule."""
    lines = text.splitlines()
    rules = [i for i, line in enumerate(lines) if line and set(line) <= {"-", " "}]
    tables = []
    for top, bottom in zip(rules[::2], rules[1::2]):
        spans = [match.span() for match in re.finditer(r"-+", lines[top])]

        def cells(line: str, spans: list[tuple[int, int]] = spans) -> list[str]:
            return [line[start:end].strip() for start, end in spans]

        rows = [cells(line) for line in lines[top + 1 : bottom] if line]
        tables.append(
            TextTable(lines[top - 2], cells(lines[top - 1]), rows, cells(lines[bottom + 1]))
        )
    return tables


def csv_tables(text: str) -> dict[str, list[list[str]]]:
    """Rows of each CSV table by title, the header row left out (totals last)."""
    tables: dict[str, list[list[str]]] = {}
    for row in csv.reader(io.StringIO(text)):
        if row and row[0] != "table":
            tables.setdefault(row[0], []).append(row[1:])
    return tables


def check_sums(headers: list[str], rows: list[list[str]], totals: list[str]) -> int:
    """Each family column's total is its column's sum; each ratio is total over regular.

    Returns the number of columns checked.
    """
    assert rows
    assert totals[0] == "Total"
    checked = 0
    regular = number(totals[headers.index("Regular")])
    for index, header in enumerate(headers):
        if header not in FAMILY_COLUMNS:
            continue
        total = number(totals[index])
        assert total == sum(number(row[index]) for row in rows), header
        checked += 1
        if header != "Regular":
            assert headers[index + 1] == "ratio"
            ratio = Fraction(total, regular) if regular else None
            assert totals[index + 1] == format_percent(ratio)
    return checked


@pytest.mark.parametrize("args", TOTALS_CASES)
def test_plain_totals_are_sums(args: list[str]) -> None:
    """Plain --exact output: in every table, every family column sums to its totals cell."""
    tables = plain_tables(run_ok("compare", *args, "--format", "plain"))
    assert tables
    for table in tables:
        assert check_sums(table.headers, table.rows, table.totals) >= 2, table.title


@pytest.mark.parametrize("args", TOTALS_CASES)
def test_csv_totals_are_sums(args: list[str]) -> None:
    """CSV output: in every table, every family column sums to its totals cell."""
    text = run_ok("compare", *args, "--format", "csv")
    headers = next(csv.reader(io.StringIO(text)))[1:]
    tables = csv_tables(text)
    assert tables
    for title, rows in tables.items():
        assert check_sums(headers, rows[:-1], rows[-1]) >= 2, title


# --- the seeds ------------------------------------------------------------------------------

SEED_001_REGULAR_PARAMS = [73_728, 294_912, 1_179_648, 4_718_592]
SEED_001_SEPARABLE_PARAMS = [8_768, 33_920, 133_376, 528_896]
SEED_001_PRINTED_RATIOS = [0.118924, 0.115017, 0.113064, 0.112088]


def test_seed_001_figure_4() -> None:
    """`convcost compare` is seed 001's Figure 4 setting (article lines 195-199; the table
    is the notebook dhruvbird/ml-notebooks, pets_segmentation/"types of convolutions.ipynb",
    cell 84): 64 channels at 128×128, four 3×3 steps, each halving the resolution and
    doubling the channels, no bias.

    Per step the params match the notebook's table, and the MACs ratio depthwise
    separable / regular is 1/C_out + 1/9 (MobileNet's 1/N + 1/k²), printed there as
    0.118924, 0.115017, 0.113064, 0.112088. The totals' ratios are exact fractions:
    params 704,960 / 6,266,880 = 11.25 %, MACs 554,565,632 / 4,831,838,208 = 11.48 %,
    within the article's "about 11% to 12%" (line 199).

    The notebook's MAC columns carry a slip: its loop halves `_h, _w` for the table but
    calls torchinfo with ``input_size=(1, _channels, 128, 128)`` at every step, so every
    step's MACs are at 128×128. Step 1 (128→256 channels) prints 4,831,838,208 regular
    MACs = 294,912 × 128²; at its stated 64×64 it is 294,912 × 64² = 1,207,959,552, which
    is what convcost reports (every step of the halve/double pyramid costs the same
    1,207,959,552 MACs). The ratios are unaffected: both counts scale with H × W.
    """
    document = run_json("compare", "--exact")
    regular = document["families"]["regular"]
    separable = document["families"]["depthwise_separable"]
    stages = ["stage1", "stage2", "stage3", "stage4"]
    assert [regular["groups"][s]["params"] for s in stages] == SEED_001_REGULAR_PARAMS
    assert [separable["groups"][s]["params"] for s in stages] == SEED_001_SEPARABLE_PARAMS
    for stage, out_channels, printed in zip(stages, (128, 256, 512, 1024), SEED_001_PRINTED_RATIOS):
        ratio = Fraction(separable["groups"][stage]["macs"], regular["groups"][stage]["macs"])
        assert ratio == Fraction(1, out_channels) + Fraction(1, 9)
        assert round(float(ratio), 6) == printed
    assert [regular["groups"][s]["macs"] for s in stages] == [1_207_959_552] * 4
    assert regular["groups"]["stage2"]["macs"] == 294_912 * 64**2 != 294_912 * 128**2
    assert 294_912 * 128**2 == 4_831_838_208  # the notebook's step-1 figure, at 128×128
    ratios = document["ratios_to_regular"]["depthwise_separable"]
    params, macs = Fraction(ratios["params"]["fraction"]), Fraction(ratios["macs"]["fraction"])
    assert params == Fraction(704_960, 6_266_880)
    assert macs == Fraction(554_565_632, 4_831_838_208)
    assert (format_percent(params), format_percent(macs)) == ("11.25%", "11.48%")
    assert Fraction(11, 100) <= params <= macs <= Fraction(12, 100)
    plain = run_ok("compare", "--format", "plain")
    assert re.search(r"Total .* 11\.25%\n", plain)
    assert re.search(r"Total .* 11\.48%\n", plain)


SEED_000_REGULAR = [1_792, 36_928, 73_856, 147_584, 295_168, 590_080, 40_970]
SEED_000_SEPARABLE = [283, 4_736, 8_896, 17_664, 34_176, 68_096, 40_970]


def test_seed_000_through_the_cli() -> None:
    """Seed 000's VGG-block CIFAR model with Keras conventions (lines 101 and 113): Conv2D
    biased, SeparableConv2D with one bias on the pointwise part: 1,186,378 and 174,821
    params, and every per-layer count of both summaries.
    """
    document = run_json("compare", *SEED_000_ARGS, "--layers", "--exact")
    families = document["families"]
    for family, per_layer, total in (
        ("regular", SEED_000_REGULAR, 1_186_378),
        ("depthwise_separable", SEED_000_SEPARABLE, 174_821),
    ):
        rows = families[family]["rows"]
        assert [row["params"] for row in rows if row["params"]] == per_layer, SEED_000
        assert families[family]["totals"]["params"] == total, SEED_000
    plain = run_ok("compare", *SEED_000_ARGS, "--layers", "--exact", "--format", "plain")
    assert re.search(r"Total .* 1,186,378 .* 174,821 ", plain)


# --- errors ---------------------------------------------------------------------------------

ERRORS = [
    pytest.param(["compare", "--stages", "0"], ["--stages", "0"], id="stages-0"),
    pytest.param(["compare", "--kernel", "0"], ["--kernel", "0"], id="kernel-0"),
    pytest.param(["compare", "--input", "0x4x4"], ["--input", "0x4x4"], id="input-zero-size"),
    pytest.param(["compare", "--input", "abc"], ["--input", "abc"], id="input-not-a-shape"),
    pytest.param(["compare", "--input", "3x8x8x8x8"], ["--input", "3x8x8x8x8"],
                 id="input-too-many-sizes"),
    pytest.param(["compare", "--families", "foo"], ["--families", "foo"], id="families-unknown"),
    pytest.param(["compare", "--families", ","], ["--families", ","], id="families-empty"),
    pytest.param(["compare", "--format", "nope"], ["--format", "nope"], id="format-unknown"),
    pytest.param(["compare", "--downsample", "avg"], ["--downsample", "avg"],
                 id="downsample-unknown"),
    pytest.param(["compare", "--classes", "-3"], ["--classes", "-3"], id="classes-negative"),
    pytest.param(["compare", "--nope"], ["--nope"], id="unknown-option"),
    pytest.param(["compare", "--input", "3x4x4", "--stages", "5"], ["stages", "at most 2", "5"],
                 id="pyramid-runs-out-of-pixels"),
    pytest.param(["compare", "--input", "3"], ["conv1_1", "flat vector of 3"],
                 id="flat-input"),
    pytest.param(["layer"], ["INPUT"], id="layer-missing-input"),
    pytest.param(["layer", "3x2x2", "-o", "4", "-k", "3"], ["kernel 3", "size 2"],
                 id="kernel-larger-than-input"),
    pytest.param(["layer", "3x8x8", "-o", "4", "-k", "3,3,3"], ["kernel_size", "(3, 3, 3)"],
                 id="3d-kernel-on-2d-input"),
    pytest.param(["layer", "3x8x8", "-o", "4", "--padding", "-1"], ["--padding", "-1"],
                 id="padding-negative"),
    pytest.param(["layer", "3x8x8", "-o", "4", "--padding", "full"], ["--padding", "full"],
                 id="padding-full"),
    pytest.param(["layer", "16x8x8", "-o", "16", "--groups", "3"], ["groups", "3"],
                 id="groups-3-on-16"),
    pytest.param(["layer", "15x8x8", "-o", "15", "--groups", "5", "-k", "3", "-s", "0"],
                 ["--stride", "0"], id="stride-0"),
    pytest.param(["layer", "3x8x8", "-o", "4", "-k", "x"], ["--kernel", "x"],
                 id="kernel-not-a-number"),
    pytest.param(["layer", "3x8x8"], ["--out"], id="out-missing"),
    pytest.param(["layer", "3x8x8", "-o", "0"], ["--out", "0"], id="out-0"),
    pytest.param(["layer", "3x8x8", "-o", "4", "-k", "2", "-s", "2", "-p", "same-pytorch"],
                 ["same-pytorch", "stride"], id="same-pytorch-stride-2"),
    pytest.param(["layer", "3", "-o", "4"], ["flat vector of 3"], id="layer-flat-input"),
    pytest.param(["layer", "hwc:8x8"], ["hwc", "8x8"], id="layout-does-not-fit"),
    pytest.param(["layer", "3x8x8", "--bias", "yes"], ["--bias", "yes"], id="bias-unknown"),
]  # fmt: skip


def check_error(result: Result) -> str:
    """Exit 2, nothing on stdout, no traceback, and stderr ending in one ``Error:`` line."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines
    assert lines[-1].startswith("Error: ")
    assert sum(line.startswith("Error:") for line in lines) == 1
    return lines[-1]


@pytest.mark.parametrize(("args", "fragments"), ERRORS)
def test_errors(args: list[str], fragments: list[str]) -> None:
    """Bad input exits 2 with one Error line naming the option (or layer) and the value."""
    line = check_error(run(*args))
    for fragment in fragments:
        assert fragment in line


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["compare", "--stages", "0"], id="out-of-range"),
        pytest.param(["layer", "3x8x8", "--padding", "full"], id="bad-value"),
    ],
)
def test_usage_errors_are_one_line(args: list[str]) -> None:
    """A usage error is one line on stderr, as errors of content are, with a --help hint."""
    result = run(*args)
    check_error(result)
    assert len(result.stderr.splitlines()) == 1
    assert f"(see 'convcost {args[0]} --help')" in result.stderr


def test_content_errors_are_one_line() -> None:
    """An error found while computing (a layer that does not fit) is exactly one line."""
    result = run("layer", "3x2x2", "-o", "4", "-k", "3")
    check_error(result)
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(("args", "fragments"), ERRORS)
def test_errors_with_json_keep_stdout_empty(args: list[str], fragments: list[str]) -> None:
    """With --format json as well: stdout stays empty (never half a document)."""
    if "--format" in args:
        return
    check_error(run(*args, "--format", "json"))


# --- fuzz ---------------------------------------------------------------------------------

JUNK = st.sampled_from(
    ["", " ", "-", "--", "x", "abc", "0", "-1", "1e3", "3.5", "nan", "inf", "é", "a\nb",
     "--nope", "-z", "3x", "x3", "1,", ",1", "2**70", "99999999999999999999"]
)  # fmt: skip


def shape_text(channels: int, sizes: list[int], channels_last: bool) -> str:
    """``"3x32x32"``, or with the layout prefix, ``"hwc:32x32x3"``."""
    if not channels_last:
        return "x".join(map(str, [channels, *sizes]))
    return "dhw"[3 - len(sizes) :] + "c:" + "x".join(map(str, [*sizes, channels]))


GOOD_SHAPES = st.builds(
    shape_text,
    st.integers(1, 16),
    st.lists(st.integers(4, 64), min_size=1, max_size=3),
    st.booleans(),
)
BAD_SHAPES = st.builds(
    lambda prefix, sizes: prefix + "x".join(map(str, sizes)),
    st.sampled_from(["", "hwc:", "chw:", "c:", "xyz:"]),
    st.lists(st.integers(-1, 3), min_size=0, max_size=5),
)
PRESET_OPTIONS = ("width", "resolution", "raw_parameters")
FAMILY_WORDS = ["regular", "spatial", "depthwise", "depthwise_separable", "spatially-separable"]
# (valid, invalid) values of the options whose click type is plain text, by option name
TEXT_VALUES: dict[str, tuple[list[str], list[str]]] = {
    "kernel": (["1", "2", "3", "5", "3,1", "1,3", "2,2"], ["0", "-1", "3,3,3", "1,2,3,4"]),
    "stride": (["1", "2", "2,1"], ["0", "-1", "1,1,1,1"]),
    "dilation": (["1", "2", "1,2"], ["0", "-2", "2,2,2,2"]),
    "padding": (["0", "1", "2", "1,2", "valid", "same", "same-pytorch"], ["full", "-1", "1,-1"]),
    "raw_parameters": (["width=0.5", "shallow=true"], ["x", "=1", "classes=x", "nope=1"]),
    "convention": (["paper"], ["nope"]),
}


def option_values(option: click.Option, *, valid: bool) -> st.SearchStrategy[str]:
    """Values of an option from its click type (or name): valid ones, or wrong ones."""
    kind = option.type
    good: st.SearchStrategy[str]
    bad: st.SearchStrategy[str]
    if isinstance(kind, click.IntRange):
        low = int(kind.min or 0)
        good, bad = st.integers(low, low + 4).map(str), st.integers(low - 3, low - 1).map(str)
    elif isinstance(kind, click.Choice):
        good, bad = st.sampled_from([str(choice) for choice in kind.choices]), JUNK
    elif isinstance(kind, click.types.FloatParamType):
        good = st.sampled_from(["0.25", "0.5", "1"])
        bad = st.sampled_from(["0", "-1", "inf", "-inf", "nan", "1e300", "1e-300"])
    elif isinstance(kind, ShapeType):
        good, bad = GOOD_SHAPES, BAD_SHAPES
    elif isinstance(kind, FamiliesType):
        good = st.lists(st.sampled_from(FAMILY_WORDS), min_size=1, max_size=3).map(",".join)
        bad = st.sampled_from(["", ",", "foo", "regular,foo", "depthwise;spatial"])
    elif option.name in TEXT_VALUES:
        good_values, bad_values = TEXT_VALUES[option.name]
        good, bad = st.sampled_from(good_values), st.sampled_from(bad_values)
    else:
        good, bad = st.text(max_size=5), st.text(max_size=5)
    return good if valid else st.one_of(bad, bad, JUNK)


def network_arguments(*, valid: bool) -> st.SearchStrategy[list[str]]:
    """compare's optional NETWORK: mostly absent (the pyramid), else a preset or a bad name."""
    from convcost.presets import PRESETS

    names = list(PRESETS) if valid else ["nope", "missing.toml", "-", ".", ""]
    return st.one_of(
        st.just([]), st.just([]), st.just([]), st.sampled_from(names).map(lambda n: [n])
    )


@st.composite
def command_lines(draw: st.DrawFn, name: str) -> list[str]:
    """`convcost NAME ...` built from the command's own click parameters: each option given
    or not, in any order; in half of the lines every value is valid for its type, in the
    other half each value is wrong a third of the time (junk, out of range, unknown); the
    positional argument present or not; now and then a stray token.
    """
    command = main.commands[name]
    sloppy = draw(st.booleans())

    def valid() -> bool:
        return not sloppy or draw(st.integers(0, 2)) > 0

    groups: list[list[str]] = []
    # A line without mistakes gives the pyramid's options only without NETWORK, and the
    # preset's only with one.
    excluded: set[str] = set()
    for param in command.params:
        if isinstance(param, click.Argument):
            if name == "compare":
                network = draw(network_arguments(valid=valid()))
                groups.append(network)
                if not sloppy:
                    excluded = set(PYRAMID_OPTIONS) if network else set(PRESET_OPTIONS)
            elif not sloppy or draw(st.integers(0, 9)):
                groups.append([draw(GOOD_SHAPES if valid() else BAD_SHAPES)])
            continue
        if not isinstance(param, click.Option) or param.name in excluded:
            continue
        if draw(st.integers(0, 2)):
            continue
        flag = draw(st.sampled_from(param.opts))
        groups.append(
            [flag] if param.is_flag else [flag, draw(option_values(param, valid=valid()))]
        )
    if sloppy and draw(st.integers(0, 9)) == 0:
        groups.append([draw(JUNK)])
    ordered = draw(st.permutations(groups))
    return [name, *(token for group in ordered for token in group)]


def check_any_outcome(args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code in (0, 2), (args, result.exc_info)
    assert result.exception is None or isinstance(result.exception, SystemExit), args
    assert "Traceback" not in result.stdout + result.stderr
    if result.exit_code == 2:
        check_error(result)
        return
    assert result.stdout
    assert result.stderr == ""
    if "--format" in args and args[args.index("--format") + 1] == "json":
        json.loads(result.stdout)


@given(command_lines("compare"))
@example(["compare", "--input", "3x4x4", "--stages", "5", "--format", "json"])
@example(["compare", "--format", "json", "--families", "regular", "--head", "global"])
def test_fuzz_compare(args: list[str]) -> None:
    """Any argument list built from `compare`'s own options, values valid or not: exit 0 or
    2, never a traceback; exit 2 ends stderr with one Error line; JSON output parses.
    """
    check_any_outcome(args)


@given(command_lines("layer"))
@example(["layer", "3x8x8", "-k", "3,3,3", "--format", "json"])
@example(["layer", "2x9", "-o", "4", "-k", "3", "-p", "same", "--format", "json"])
def test_fuzz_layer(args: list[str]) -> None:
    """Any argument list built from `layer`'s own options (as `test_fuzz_compare`)."""
    check_any_outcome(args)


def test_golden_files_are_used() -> None:
    """Every golden file of `compare` and `layer` belongs to a test (none left behind)."""
    expected = {
        f"{name}.{format}.{suffix}"
        for name in GOLDEN_COMMANDS
        for format, suffix in GOLDEN_SUFFIXES.items()
    } | {"compare_default.rich.txt", "layer.rich.txt"}
    present = {
        path.name
        for path in (Path(__file__).parent / "golden").iterdir()
        if path.name.startswith(("compare", "layer"))
    }
    assert present == expected
