"""The `convcost` command line, through click's `CliRunner`.

Every command and format; JSON documents against the library call that makes them (the
command line computes nothing of its own); text against a few golden files
(``pytest --update-golden`` rewrites them); totals rows against the sums of their rows;
the published one-layer figures; what each option means (bias, middle channels,
conventions, FLOPs, memory, input); errors (exit 2, one ``Error:`` line, never a
traceback) and a Hypothesis fuzz of the arguments built from the commands' own click
parameters.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
import shlex
import sys
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from hypothesis import example, given
from hypothesis import strategies as st

import convcost
from convcost.cli import main, resolve_format
from convcost.conventions import get_profile
from convcost.options import FamiliesType, ShapeType
from convcost.presets import PRESETS, build_preset
from convcost.render import FORMATS, format_cell
from convcost.report import (
    Counting,
    Report,
    compare_families,
    compare_layer,
    conventions_report,
    presets_report,
    profiles_report,
    summary,
)
from convcost.shapes import Shape, parse_shape

Golden = Callable[[str, str], None]

# The published figures this file checks, by source.
CHNG_2022 = "Chng 2022, Using Depthwise Separable Convolutions in Tensorflow"
MATANI_SINGH_2023 = "Matani & Singh 2023, Efficient Image Segmentation Using PyTorch, part 3"
VERSLOOT_2019 = "Versloot 2019, Understanding separable convolutions"

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


def check_error(result: Result) -> str:
    """Exit 2, nothing on stdout, no traceback, and stderr ending in one ``Error:`` line
    (a ``Hint:`` line may come before it)."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines
    assert lines[-1].startswith("Error: ")
    assert all(line.startswith("Hint: ") for line in lines[:-1])
    return lines[-1]


# --- help, version ----------------------------------------------------------------------

COMMANDS = ("compare", "summary", "sweep", "layer", "presets", "export", "conventions", "devices")


@pytest.mark.parametrize("args", [["--help"], ["-h"], *([name, "--help"] for name in COMMANDS)])
def test_help_has_examples(args: list[str]) -> None:
    text = run_ok(*args)
    assert text.startswith("Usage: convcost")
    assert "Examples:" in text


def help_examples(command: list[str]) -> Iterator[list[str]]:
    """The example command lines of a --help text that need no file (comments cut)."""
    text = run_ok(*command, "--help")
    for line in text.splitlines():
        line = line.split("#")[0].strip()
        if not line.startswith("convcost ") or re.search(
            r"\.(toml|json|ya?ml|png|svg|pdf|onnx|keras|py)\b|>", line
        ):
            continue
        yield shlex.split(line)[1:]


@pytest.mark.parametrize("command", [[], *([name] for name in COMMANDS)])
def test_help_examples_run(command: list[str]) -> None:
    """Every example printed by --help runs and succeeds."""
    examples = list(help_examples(command))
    assert examples
    for args in examples:
        if "--output" in args:
            continue
        if args[0] == "export":
            run_ok(*args)
        else:
            run_ok(*args, "--format", "plain")


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag: str) -> None:
    assert run_ok(flag) == f"convcost, version {convcost.__version__}\n"


def test_pyramid_options_show_the_presets_defaults() -> None:
    """The pyramid's options take their help and defaults from the preset (declared once)."""
    text = " ".join(run_ok("compare", "--help").split())
    for name, parameter in (("--stages", "stages"), ("--base-channels", "base_channels")):
        declared = PRESETS["pyramid"].parameter(parameter)
        assert f"{name} VALUE Pyramid: {declared.help} [default: {declared.default}]" in text


def test_no_internal_shorthand_in_what_users_read() -> None:
    """Help texts and the presets list cite sources by author and year, never as 'seeds'."""
    texts = [run_ok(*args, "--help") for args in ([], *([name] for name in COMMANDS))]
    texts.append(run_ok("presets", "--format", "plain"))
    for text in texts:
        assert "seed" not in text.lower()
    assert "Matani & Singh 2023" in run_ok("presets", "--format", "plain")


# --- every format, and JSON equal to the library ---------------------------------------

MARKERS = {
    "plain": "\n------",
    "markdown": "|:--",
    "github": "|---",
    "latex": "\\begin{tabular}",
    "rst": "\n=====",
    "html": "<table>",
    "csv": "\r\n",
}
COMMAND_LINES: dict[str, list[str]] = {
    "compare": ["compare"],
    "compare-resnet18": ["compare", "resnet18", "--convention", "thop"],
    "summary": ["summary", "vgg-cifar"],
    "layer": ["layer", "3x15x15", "--out", "10", "-k", "3"],
    "presets": ["presets"],
    "profiles": ["conventions"],
    "conventions": ["conventions", "resnet18"],
}
LIBRARY_CALLS: dict[str, Callable[[], Report]] = {
    "compare": lambda: compare_families(build_preset("pyramid")),
    "compare-resnet18": lambda: compare_families(
        build_preset("resnet18"), counting=Counting(convention=get_profile("thop"))
    ),
    "summary": lambda: summary(build_preset("vgg-cifar")),
    "layer": lambda: compare_layer(parse_shape("3x15x15"), out_channels=10, kernel_size=3),
    "presets": presets_report,
    "profiles": profiles_report,
    "conventions": lambda: conventions_report(build_preset("resnet18")),
}


@pytest.mark.parametrize("format", TEXT_FORMATS)
@pytest.mark.parametrize("command", list(COMMAND_LINES))
def test_text_formats(command: str, format: str) -> None:
    """Every text format of every command: exit 0, nothing on stderr, the format's markup
    (CSV: RFC 4180 line ends, read from the bytes, which click's runner does not alter)."""
    result = run(*COMMAND_LINES[command], "--format", format)
    assert result.exit_code == 0
    text = result.stdout_bytes.decode("utf-8")
    assert MARKERS[format] in text
    assert text.endswith("\n")


@pytest.mark.parametrize("command", list(COMMAND_LINES))
def test_json_is_the_library_document(command: str) -> None:
    """The JSON document is exactly the library call's: the CLI computes nothing itself."""
    document = run_json(*COMMAND_LINES[command])
    expected = json.loads(LIBRARY_CALLS[command]().to_json())
    assert document == expected
    assert document["version"] == 2


@pytest.mark.parametrize("command", list(COMMAND_LINES))
def test_plain_is_the_library_text(command: str) -> None:
    """``str(report)`` is what the command prints in plain text."""
    assert run_ok(*COMMAND_LINES[command], "--format", "plain") == str(LIBRARY_CALLS[command]())


@pytest.mark.parametrize("command", list(COMMAND_LINES))
def test_default_format_off_a_terminal_is_plain(command: str) -> None:
    """CliRunner's stdout is not a terminal: the default is plain text."""
    args = COMMAND_LINES[command]
    assert run_ok(*args) == run_ok(*args, "--format", "plain")


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("terminal", "no_color", "given", "output", "expected"),
    [
        pytest.param(True, None, None, None, "rich", id="terminal"),
        pytest.param(True, "1", None, None, "plain", id="terminal-no-color"),
        pytest.param(False, None, None, None, "plain", id="pipe"),
        pytest.param(False, None, "rich", None, "rich", id="pipe-asked-for-rich"),
        pytest.param(True, "1", "markdown", None, "markdown", id="explicit-wins"),
        pytest.param(True, None, None, "out.txt", "plain", id="to-a-file"),
    ],
)
def test_resolve_format(
    monkeypatch: pytest.MonkeyPatch,
    terminal: bool,
    no_color: str | None,
    given: str | None,
    output: str | None,
    expected: str,
) -> None:
    monkeypatch.setattr(sys, "stdout", FakeTerminal() if terminal else io.StringIO())
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    assert resolve_format(given, output) == expected


# --- golden files: one per command and format that matters -----------------------------

GOLDEN = {
    "compare.plain.txt": ["compare", "--format", "plain"],
    "compare.csv": ["compare", "--format", "csv"],
    "compare.rich-80.txt": ["compare", "--format", "rich"],
    "layer_explain.plain.txt": [
        "layer", "3x15x15", "--out", "10", "-k", "3", "--no-bias", "--explain", "--format",
        "plain",
    ],
    "summary_resnet18.plain.txt": ["summary", "resnet18", "--format", "plain"],
    "conventions_resnet18.md": ["conventions", "resnet18", "--format", "markdown"],
}  # fmt: skip


@pytest.mark.parametrize("name", list(GOLDEN))
def test_golden_output(golden: Golden, name: str) -> None:
    """A few outputs byte for byte (tests/golden/): what a change of wording changes."""
    golden(name, run_ok(*GOLDEN[name], env={"COLUMNS": "80"}))


def test_golden_files_are_used() -> None:
    """Every golden file belongs to a test (none left behind)."""
    present = {path.name for path in (Path(__file__).parent / "golden").iterdir()}
    assert present == set(GOLDEN)


# --- CSV that spreadsheets read ----------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        *COMMAND_LINES.values(),
        ["compare", "--flops", "--by-type"],
        ["summary", "mobilenet-v1", "--by-type", "--memory"],
        ["layer", "3x8x8", "-o", "4", "--explain"],
    ],
)
def test_csv_is_one_table(args: list[str]) -> None:
    """One header row of unique names, every row as long, names without indentation,
    counts as plain integers: what `pandas.read_csv` reads with no options."""
    rows = list(csv.reader(io.StringIO(run_ok(*args, "--format", "csv"), newline="")))
    header, body = rows[0], rows[1:]
    assert len(set(header)) == len(header)
    assert all(re.fullmatch(r"[a-z_]+", name) for name in header)
    assert body
    assert all(len(row) == len(header) for row in body)
    for row in body:
        for name, cell in zip(header, row):
            assert cell == cell.strip(), (name, cell)
            if name in ("params", "macs", "regular", "total", "non_trainable"):
                assert cell == "" or re.fullmatch(r"-?[0-9]+", cell), (name, cell)


# --- totals rows are the sums of the rows -------------------------------------------------

TOTALS_CASES = [
    pytest.param(["--exact"], id="stages"),
    pytest.param(["--layers", "--exact"], id="layers"),
    pytest.param(["vgg-cifar", "--layers", "--exact"], id="vgg-cifar-layers"),
    pytest.param(["--layers", "--exact", "--batch-norm", "--head", "global", "--downsample",
                  "stride", "--flops", "--flops-bias", "--input", "3x96x96",
                  "--base-channels", "16"], id="everything"),
    pytest.param(["--exact", "--families", "depthwise", "--keep-first", "--convs-per-stage", "3"],
                 id="keep-first"),
    pytest.param(["resnet18", "--convention", "thop", "--exact"], id="thop"),
]  # fmt: skip
FAMILY_KEYS = ("regular", "spatially_separable", "depthwise_separable")


@pytest.mark.parametrize("args", TOTALS_CASES)
def test_csv_totals_are_sums(args: list[str]) -> None:
    """In every metric of the CSV, each family column sums to its totals row, and each
    ratio is the family's total over regular's."""
    rows = list(csv.DictReader(io.StringIO(run_ok("compare", *args, "--format", "csv"))))
    metrics = dict.fromkeys(row["metric"] for row in rows)
    assert metrics
    for metric in metrics:
        table = [row for row in rows if row["metric"] == metric]
        body, totals = table[:-1], table[-1]
        assert totals.get("stage", totals.get("layer")) == "Total"
        for family in FAMILY_KEYS:
            if not totals.get(family):
                continue
            assert int(totals[family]) == sum(int(row[family]) for row in body), family
            if family != "regular" and int(totals["regular"]):
                ratio = float(Fraction(int(totals[family]), int(totals["regular"])))
                assert float(totals[f"{family}_ratio"]) == ratio


@pytest.mark.parametrize("args", TOTALS_CASES)
def test_plain_totals_are_the_librarys(args: list[str]) -> None:
    """The plain table's totals row shows the library's totals, formatted."""
    text = run_ok("compare", *args, "--format", "plain")
    document = run_json("compare", *args)
    for family in document["families"]:
        params = document["families"][family]["totals"]["params"]
        assert f"{params:,}" in text


# --- the published one-layer figures -----------------------------------------------------


@pytest.mark.parametrize(
    ("args", "regular", "depthwise", "source"),
    [
        pytest.param(["3x15x15", "--out", "10", "-k", "3", "--no-bias"], (270, 45_630),
                     (57, 9_633), f"{VERSLOOT_2019}: 45,630 and 4,563 + 5,070 = 9,633",
                     id="versloot-2019"),
        pytest.param(["16x128x128", "-o", "32", "-k", "3", "-p", "same", "--no-bias"],
                     (4_608, 75_497_472), (656, 10_747_904),
                     f"{MATANI_SINGH_2023}: 4,608 vs 656 params, 75.50M vs 10.75M mult-adds",
                     id="matani-singh-2023"),
        pytest.param(["hwc:32x32x3", "-o", "64", "-k", "3", "--bias", "both"],
                     (1_792, 1_555_200), (286, 197_100),
                     f"{CHNG_2022}: 1,792 and 286 params (MACs worked by hand on the 30×30 "
                     "output: 27·64·900 and (27 + 192)·900)", id="chng-2022-both"),
        pytest.param(["hwc:32x32x3", "-o", "64", "-k", "3"], (1_792, 1_555_200),
                     (283, 197_100), f"{CHNG_2022}: Keras SeparableConv2D, 283 params",
                     id="chng-2022-keras"),
    ],
)  # fmt: skip
def test_layer_published_figures(
    args: list[str], regular: tuple[int, int], depthwise: tuple[int, int], source: str
) -> None:
    """The one-layer figures of the tutorials, read off the JSON (params, MACs)."""
    families = run_json("layer", *args)["families"]
    assert (families["regular"]["params"], families["regular"]["macs"]) == regular, source
    separable = families["depthwise_separable"]
    assert (separable["params"], separable["macs"]) == depthwise, source


def test_layer_explain_prints_the_arithmetic() -> None:
    """--explain writes each product with its numbers, as Versloot (2019) does."""
    text = run_ok("layer", "3x15x15", "--out", "10", "-k", "3", "--explain", "--format", "plain")
    assert "3 × 3 × 3 × 10 × 13 × 13 = 45,630" in text
    assert "3 × 3 × 1 × 3 × 13 × 13 = 4,563" in text
    assert "1 × 1 × 3 × 10 × 13 × 13 = 5,070" in text
    assert "4,563 + 5,070 = 9,633" in text
    assert "params = k_h × k_w × C_in × C_out + C_out = 3 × 3 × 3 × 10 + 10 = 280" in text


def test_layer_explain_keeps_json_pure() -> None:
    """--explain with --format json: stdout is still exactly one JSON document."""
    plain = run_json("layer", "3x15x15", "--out", "10", "-k", "3")
    assert run_json("layer", "3x15x15", "--out", "10", "-k", "3", "--explain") == plain


def test_compare_default_is_matani_singh_2023() -> None:
    """`convcost compare` is Matani & Singh's (2023) comparison: 64 channels at 128×128,
    four 3×3 steps halving the resolution and doubling the channels, no bias. Depthwise
    separable per step: 1/C_out + 1/9 of the MACs (0.118924, 0.115017, 0.113064,
    0.112088 in their notebook); in total 11.25 % of the parameters and 11.48 % of the
    MACs, within the article's "about 11% to 12%". (Their notebook costs every step at
    128×128; at the stated sizes each step is 1,207,959,552 regular MACs: see
    tests/test_tutorials.py.)"""
    document = run_json("compare")
    regular = document["families"]["regular"]["groups"]
    separable = document["families"]["depthwise_separable"]["groups"]
    for stage, out, printed in zip(regular, (128, 256, 512, 1024),
                                   (0.118924, 0.115017, 0.113064, 0.112088)):  # fmt: skip
        ratio = Fraction(separable[stage]["macs"], regular[stage]["macs"])
        assert ratio == Fraction(1, out) + Fraction(1, 9)
        assert round(float(ratio), 6) == printed
    ratios = document["ratios_to_regular"]["depthwise_separable"]
    assert Fraction(ratios["params"]["fraction"]) == Fraction(704_960, 6_266_880)
    assert Fraction(ratios["macs"]["fraction"]) == Fraction(554_565_632, 4_831_838_208)
    plain = run_ok("compare", "--format", "plain")
    assert re.search(r"Total .* 11\.25%\n", plain)
    assert re.search(r"Total .* 11\.48%\n", plain)


# --- one meaning of bias -----------------------------------------------------------------


def test_a_layers_convolution_is_biased_by_default() -> None:
    """PyTorch's and Keras's default Conv2d(3, 64, 3) has 1,792 parameters; --no-bias drops
    the bias (1,728) and then no separable part has one."""
    biased = run_json("layer", "3x32x32", "-o", "64", "-k", "3")["families"]
    assert biased["regular"]["params"] == 1_792
    unbiased = run_json("layer", "3x32x32", "-o", "64", "-k", "3", "--no-bias")["families"]
    assert unbiased["regular"]["params"] == 1_728
    assert all(entry["bias"] == 0 for entry in unbiased.values())


@pytest.mark.parametrize("bias", ["none", "pointwise", "both"])
def test_separable_bias_never_changes_the_regular_family(bias: str) -> None:
    """--bias is the convention of the separable rewrites: the regular network is counted
    as given, and the unbiased pyramid's separable layers get no bias whatever --bias says
    (and the note says so)."""
    document = run_json("compare", "--bias", bias)
    assert document["families"]["regular"]["totals"]["params"] == 6_266_880
    assert document["families"]["depthwise_separable"]["totals"]["params"] == 704_960
    assert document["families"]["depthwise_separable"]["rewrite"]["biased"] == 0
    assert "no biases (the convolutions replaced have none)" in run_ok(
        "compare", "--bias", bias, "--format", "plain"
    )


def test_separable_bias_applies_to_biased_convolutions() -> None:
    """On VGG-cifar (biased Keras Conv2D): pointwise is Keras SeparableConv2D (174,821),
    both adds one more bias per layer, none drops them; regular stays 1,186,378."""
    totals = {
        bias: run_json("compare", "vgg-cifar", "--bias", bias)["families"]
        for bias in ("none", "pointwise", "both")
    }
    assert {t["regular"]["totals"]["params"] for t in totals.values()} == {1_186_378}
    separable = {bias: t["depthwise_separable"]["totals"]["params"] for bias, t in totals.items()}
    assert separable["pointwise"] == 174_821
    input_channels = 3 + 64 + 64 + 128 + 128 + 256  # one depthwise bias per layer
    assert separable["both"] - separable["pointwise"] == input_channels
    output_channels = 2 * (64 + 128 + 256)
    assert separable["pointwise"] - separable["none"] == output_channels


# --- the spatially separable middle width --------------------------------------------------


@given(
    channels=st.integers(1, 64),
    out=st.integers(1, 64),
    kernel=st.integers(2, 5),
    size=st.integers(5, 16),
)
def test_the_default_middle_width_never_costs_more(
    channels: int, out: int, kernel: int, size: int
) -> None:
    """Domain: one k×k convolution, stride 1, "same" padding, any channels. With the
    default middle width (min), the spatially separable form never has more parameters
    or MACs than the convolution it replaces, and is Inception-v3's when C_in = C_out."""
    args = [f"{channels}x{size}x{size}", "-o", str(out), "-k", str(kernel), "-p", "same"]
    families = run_json("layer", *args, "--no-bias")["families"]
    spatial, regular = families["spatially_separable"], families["regular"]
    assert spatial["params"] <= regular["params"]
    assert spatial["macs"] <= regular["macs"]
    if channels == out:
        assert Fraction(spatial["params"], regular["params"]) == Fraction(2, kernel)


@pytest.mark.parametrize(
    ("rule", "mid", "note"),
    [
        pytest.param([], 64, "min(C_in, C_out) middle channels", id="default-min"),
        pytest.param(["--mid-channels", "out"], 128, "C_out middle channels", id="out"),
        pytest.param(["--mid-channels", "in"], 64, "C_in middle channels", id="in"),
        pytest.param(["--mid-channels", "32"], 32, "32 middle channels", id="count"),
    ],
)
def test_mid_channels_option(rule: list[str], mid: int, note: str) -> None:
    """The middle width of 64→128, 3×3 in each rule, in the JSON and in the notes."""
    args = ["layer", "64x16x16", "-o", "128", "-k", "3", "-p", "same", *rule]
    parts = run_json(*args)["families"]["spatially_separable"]["parts"]
    assert parts[0]["output_shape"][0] == mid
    assert note in run_ok(*args, "--format", "plain")
    compare_note = run_ok("compare", "--stages", "1", *rule, "--format", "plain")
    assert note in compare_note


def test_the_pyramid_saves_with_spatial_separation() -> None:
    """The doubling pyramid with the default middle width: exactly half the regular cost
    (3·C·C + 3·C·2C = 9·C·2C / 2), no longer the 100 % of Inception's C_out rule."""
    ratios = run_json("compare")["ratios_to_regular"]["spatially_separable"]
    assert Fraction(ratios["params"]["fraction"]) == Fraction(1, 2)
    out = run_json("compare", "--mid-channels", "out")["ratios_to_regular"]
    assert Fraction(out["spatially_separable"]["params"]["fraction"]) == 1


# --- nothing to rewrite, and names ---------------------------------------------------------


def test_nothing_to_rewrite_is_said() -> None:
    """MobileNet is separable already but for its first convolution: kept regular, there
    is nothing to rewrite, one line says so, and every family counts the network as given;
    its all-regular variant has 14 regular convolutions to rewrite."""
    args = ["compare", "mobilenet-v1", "--width", "0.5", "--keep-first"]
    text = run_ok(*args, "--format", "plain")
    assert "Nothing to rewrite: the network has no regular k×k convolution (groups 1) besides " \
           "the first, kept regular" in " ".join(text.split())  # fmt: skip
    ratios = run_json(*args)["ratios_to_regular"]
    assert {Fraction(r["params"]["fraction"]) for r in ratios.values()} == {1}
    regular = run_ok("compare", "mobilenet-v1", "--param", "regular=true", "--format", "plain")
    assert "Nothing to rewrite" not in regular
    assert "rewrite its 14 regular" in regular


def test_rows_have_the_same_unique_names_in_summary_and_compare() -> None:
    """Every row of resnet18 has a unique full name, torchvision's module name, and the
    same in `summary` and `compare --layers`."""
    rows = run_json("summary", "resnet18")["rows"]
    names = [row["name"] for row in rows]
    assert len(set(names)) == len(names)
    assert names[:4] == ["conv1", "bn1", "relu", "maxpool"]
    assert "layer2.0.downsample.0" in names
    assert names[-3:] == ["avgpool", "flatten", "fc"]
    layers = run_json("compare", "resnet18", "--layers")["families"]["regular"]["rows"]
    assert [row["name"] for row in layers] == names
    shortcut = [row["name"] for row in rows if row["shortcut"]]
    assert shortcut == [f"layer{i}.0.downsample.{j}" for i in (2, 3, 4) for j in (0, 1)]
    text = run_ok("summary", "resnet18", "--format", "plain")
    assert "↳ layer2.0.downsample.0" in text


# --- conventions, FLOPs -------------------------------------------------------------------


def test_compare_counts_with_the_convention() -> None:
    """--convention recounts every MACs cell (and names the convention in the header), in
    every format: thop counts batch norm and average pooling on ResNet-18."""
    paper = run_ok("compare", "resnet18", "--format", "csv")
    thop = run_ok("compare", "resnet18", "--convention", "thop", "--format", "csv")
    assert paper != thop
    assert "MACs (thop)" in run_ok("compare", "resnet18", "--convention", "thop",
                                   "--format", "plain")  # fmt: skip
    document = run_json("compare", "resnet18", "--convention", "thop")
    regular = document["families"]["regular"]
    assert regular["counted"]["total"] == 1_824_033_792
    assert sum(row["counted"] for row in regular["rows"]) == 1_824_033_792
    macs = [row for row in csv.DictReader(io.StringIO(thop)) if row["metric"] == "macs_thop"]
    assert int(macs[-1]["regular"]) == 1_824_033_792
    summary_csv = run_ok("summary", "resnet18", "--convention", "thop", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(summary_csv)))
    assert int(rows[-1]["macs_thop"]) == 1_824_033_792


def test_flops_beside_or_instead_of_macs() -> None:
    """--flops adds a FLOPs table (2 × MACs, + bias additions with --flops-bias);
    --flops-only shows it instead of MACs."""
    args = ["compare", "vgg-cifar", "--exact"]
    macs = run_json(*args)["families"]["regular"]["totals"]
    metrics = [row["metric"] for row in csv.DictReader(io.StringIO(
        run_ok(*args, "--flops", "--format", "csv")))]  # fmt: skip
    assert list(dict.fromkeys(metrics)) == ["params", "macs", "flops"]
    only = [row["metric"] for row in csv.DictReader(io.StringIO(
        run_ok(*args, "--flops-only", "--format", "csv")))]  # fmt: skip
    assert list(dict.fromkeys(only)) == ["params", "flops"]
    biased = run_json(*args, "--flops", "--flops-bias")["families"]["regular"]["totals"]
    assert biased["flops"] == 2 * macs["macs"] + macs["bias_adds"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        pytest.param(["compare", "--flops", "--flops-only"], "pick one", id="flops-twice"),
        pytest.param(["compare", "--flops-bias"], "add --flops", id="flops-bias-alone"),
        pytest.param(["summary", "resnet18", "--flops", "--convention", "thop"],
                     "do not combine", id="flops-and-a-convention"),
        pytest.param(["summary", "resnet18", "--param", "resolution=160", "--resolution", "224"],
                     "resolution is given twice", id="resolution-twice"),
        pytest.param(["compare", "resnet18", "--stages", "2"], "--stages", id="pyramid-option"),
        pytest.param(["layer", "3x8x8", "-o", "4", "--keep-first"], "a layer has one",
                     id="keep-first-on-a-layer"),
    ],
)  # fmt: skip
def test_options_that_conflict_are_errors(args: list[str], fragment: str) -> None:
    assert fragment in check_error(run(*args))


@pytest.mark.parametrize(
    ("args", "suggestion"),
    [
        pytest.param(["compare", "--families", "depthwize"], "'depthwise'", id="families"),
        pytest.param(["compare", "--format", "markdwon"], "'markdown'", id="format"),
        pytest.param(["compare", "--convention", "thopp"], "'thop'", id="convention"),
        pytest.param(["summary", "resnet"], "'resnet18' or 'resnet50'", id="preset"),
        pytest.param(
            ["summary", "mobilenet-v1", "--param", "widht=0.5"], "'width'", id="parameter"
        ),
    ],
)
def test_did_you_mean(args: list[str], suggestion: str) -> None:
    assert f"did you mean {suggestion}" in check_error(run(*args))


def test_channels_last_hint() -> None:
    """224x224x3 is costed as written (224 channels) with a hint on stderr."""
    result = run("layer", "224x224x3", "-o", "4", "-k", "3", "--format", "json")
    assert result.exit_code == 0
    assert result.stderr == (
        "Hint: did you mean hwc:224x224x3? '224x224x3' is read as 224 channels of 224x3\n"
    )
    assert json.loads(result.stdout)["input_shape"] == [224, 224, 3]
    assert run("layer", "hwc:224x224x3", "-o", "4", "-k", "3").stderr == ""


# --- memory, input, the summary as one library call ---------------------------------------


def test_memory_follows_batch_and_dtype() -> None:
    """--batch-size and --dtype scale torchinfo's memory lines; --memory adds a column of
    each layer's activation bytes."""
    base = run_json("summary", "resnet18")["memory"]
    half = run_json("summary", "resnet18", "--batch-size", "8", "--dtype", "float16")["memory"]
    assert half["input_bytes"] == base["input_bytes"] * 8 // 2
    assert half["forward_backward_bytes"] == base["forward_backward_bytes"] * 8 // 2
    assert half["params_bytes"] == base["params_bytes"] // 2
    text = run_ok("summary", "resnet18", "--memory", "--format", "plain")
    assert "Activations" in text
    assert "(float16, batch 8," in run_ok("summary", "resnet18", "--batch-size", "8",
                                          "--dtype", "float16", "--format", "plain")  # fmt: skip


@pytest.mark.parametrize(
    ("args", "input_shape"),
    [
        pytest.param(["resnet18", "--input", "3x224x448"], [3, 224, 448], id="preset-input"),
        pytest.param(["resnet18", "--resolution", "224x448"], [3, 224, 448], id="resolution-hxw"),
        pytest.param(["pyramid", "--input", "3x64x64"], [3, 64, 64], id="pyramid"),
        pytest.param(["examples/vgg-cifar.toml", "--input", "3x64x64"], [3, 64, 64], id="spec"),
    ],
)
def test_input_replaces_the_networks(args: list[str], input_shape: list[int]) -> None:
    document = run_json("summary", *args)
    assert document["network"]["input_shape"] == input_shape


def test_input_channels_must_be_the_presets() -> None:
    assert "reads 3 channels" in check_error(run("summary", "resnet18", "--input", "4x224x224"))


def test_the_summary_is_one_library_call() -> None:
    """`convcost.summary(network)` is data (rows, totals, memory) and text (`str`) and a
    JSON document: exactly what the command prints."""
    report = convcost.summary(build_preset("resnet18"))
    assert report.totals.params == 11_689_512
    assert report.memory.params_bytes == 4 * 11_689_512
    assert str(report) == run_ok("summary", "resnet18", "--format", "plain")
    assert json.loads(report.to_json()) == run_json("summary", "resnet18")


# --- the rich layout never cuts a number --------------------------------------------------


@pytest.mark.parametrize("args", [["summary", "vgg-cifar"], ["compare"]], ids=" ".join)
def test_a_share_bar_beside_the_macs_in_a_terminal_only(args: list[str]) -> None:
    """The bar of each row's share of the MACs is drawn in a wide terminal table, and in
    no other format: plain, documents, CSV and JSON carry the numbers alone."""
    rich = run_ok(*args, "--format", "rich", env={"COLUMNS": "160"})
    assert "█" in rich
    for output_format in ("plain", "markdown", "csv", "json"):
        text = run_ok(*args, "--format", output_format)
        assert not {"█", *"▏▎▍▌▋▊▉"} & set(text), output_format
        assert "bar" not in text, output_format


def test_the_share_bar_gives_way_before_a_name_folds() -> None:
    """The bar repeats a number the table shows: at a width where it would fold a layer's
    name onto two lines, the table drops the bar and keeps every name whole."""
    wide = run_ok("summary", "resnet18", "--format", "rich", env={"COLUMNS": "160"})
    narrow = run_ok("summary", "resnet18", "--format", "rich", env={"COLUMNS": "80"})
    assert "█" in wide or "▋" in wide
    assert not {"█", *"▏▎▍▌▋▊▉"} & set(narrow)
    assert "layer1.0.conv1 " in narrow
    assert "layer4.1.conv2 " in narrow


WIDTHS = (40, 60, 80, 100, 200)


def summary_of(name: str) -> Report:
    return summary(build_preset(name))


RICH_CASES: dict[str, tuple[list[str], Callable[[], Report]]] = {
    **{f"summary-{name}": (["summary", name], functools.partial(summary_of, name))
       for name in PRESETS},
    "compare": (["compare"], lambda: compare_families(build_preset("pyramid"))),
    "compare-layers": (["compare", "resnet18", "--layers"],
                       lambda: compare_families(build_preset("resnet18"), by_layer=True)),
    "layer": (["layer", "3x15x15", "-o", "10", "-k", "3"],
              lambda: compare_layer(Shape(3, (15, 15)), out_channels=10, kernel_size=3)),
    "conventions": (["conventions", "resnet18"],
                    lambda: conventions_report(build_preset("resnet18"))),
    "presets": (["presets"], presets_report),
}  # fmt: skip


NUMBER_IN_TEXT = re.compile(r"\d[\dx.,:]*\d")  # a number, a shape or an id in a text cell


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("case", list(RICH_CASES))
def test_rich_never_cuts_a_number(case: str, width: int) -> None:
    """At any terminal width, every number, unit, shape and percentage of the table is
    printed whole, in its own column or inside a text (names and text may wrap; a table
    too wide is stacked instead)."""
    args, make = RICH_CASES[case]
    text = run_ok(*args, "--format", "rich", env={"COLUMNS": str(width)})
    report = make()
    for table in report.tables:
        for row in (*table.rows, *([table.totals] if table.totals else [])):
            for cell, column in zip(row, table.columns):
                if column.numeric and column.kind != "bar" and cell is not None:
                    assert format_cell(cell, column) in text, (case, width, cell)
                elif column.kind == "text" and isinstance(cell, str):
                    for number in NUMBER_IN_TEXT.findall(cell):  # "64x128x128", "1.0"
                        assert number in text, (case, width, cell, number)
    if width >= 100 and case.startswith("compare"):
        assert max(map(len, text.splitlines())) <= width


# --- errors ---------------------------------------------------------------------------------

ERRORS = [
    pytest.param(["compare", "--stages", "0"], ["stages", "0"], id="stages-0"),
    pytest.param(["compare", "--kernel", "0"], ["kernel_size", "0"], id="kernel-0"),
    pytest.param(["compare", "--input", "0x4x4"], ["--input", "0x4x4"], id="input-zero-size"),
    pytest.param(["compare", "--input", "abc"], ["--input", "abc"], id="input-not-a-shape"),
    pytest.param(["compare", "--input", "3x224x"], ["size 3 is missing"], id="input-missing-size"),
    pytest.param(["compare", "--input", "3x8x8x8x8"], ["--input", "3x8x8x8x8"],
                 id="input-too-many-sizes"),
    pytest.param(["compare", "--families", "foo"], ["--families", "foo"], id="families-unknown"),
    pytest.param(["compare", "--families", ","], ["--families"], id="families-empty"),
    pytest.param(["compare", "--format", "nope"], ["--format", "nope"], id="format-unknown"),
    pytest.param(["compare", "--downsample", "avg"], ["downsample", "avg"],
                 id="downsample-unknown"),
    pytest.param(["compare", "--head", "global", "--classes", "-3"], ["classes", "-3"],
                 id="classes-negative"),
    pytest.param(["compare", "--nope"], ["--nope"], id="unknown-option"),
    pytest.param(["compare", "--input", "3x4x4", "--stages", "5"], ["stages", "at most 2", "5"],
                 id="pyramid-runs-out-of-pixels"),
    pytest.param(["compare", "--input", "3"], ["stage1.conv1", "flat vector of 3"],
                 id="flat-input"),
    pytest.param(["layer"], ["INPUT"], id="layer-missing-input"),
    pytest.param(["layer", "3x2x2", "-o", "4", "-k", "3"], ["kernel 3", "size 2"],
                 id="kernel-larger-than-input"),
    pytest.param(["layer", "3x8x8", "-o", "4", "-k", "3,3,3"], ["kernel_size", "(3, 3, 3)"],
                 id="3d-kernel-on-2d-input"),
    pytest.param(["layer", "3x8x8", "-o", "4", "-k", "3_3"], ["--kernel", "'3_3'"],
                 id="kernel-with-underscore"),
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
    pytest.param(["layer", "3x8x8", "-o", "4", "--bias", "yes"], ["--bias", "yes"],
                 id="bias-unknown"),
    pytest.param(["layer", "3x8x8", "-o", "4", "--mid-channels", "most"], ["mid_channels"],
                 id="mid-channels-unknown"),
    pytest.param(["summary", "resnet18", "--batch-size", "0"], ["--batch-size", "0"],
                 id="batch-0"),
    pytest.param(["summary", "resnet18", "--dtype", "float64"], ["--dtype", "float64"],
                 id="dtype-unknown"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "fragments"), ERRORS)
def test_errors(args: list[str], fragments: list[str]) -> None:
    """Bad input exits 2 with one Error line naming the option (or layer) and the value."""
    line = check_error(run(*args))
    for fragment in fragments:
        assert fragment in line


@pytest.mark.parametrize(("args", "fragments"), ERRORS)
def test_errors_with_json_keep_stdout_empty(args: list[str], fragments: list[str]) -> None:
    """With --format json as well: stdout stays empty (never half a document)."""
    if "--format" not in args and args[0] != "presets":
        check_error(run(*args, "--format", "json"))


def test_usage_errors_point_to_help() -> None:
    result = run("compare", "--nope")
    check_error(result)
    assert "(see 'convcost compare --help')" in result.stderr


# --- fuzz ---------------------------------------------------------------------------------

JUNK = st.sampled_from(
    ["", " ", "-", "--", "x", "abc", "0", "-1", "1e3", "3.5", "nan", "inf", "é", "a\nb",
     "--nope", "-z", "3x", "x3", "1,", ",1", "2**70", "99999999999999999999", "3_3", "[red]"]
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
FAMILY_WORDS = ["regular", "spatial", "depthwise", "depthwise_separable", "spatially-separable"]
# (valid, invalid) values of options whose values are text, by parameter name
TEXT_VALUES: dict[str, tuple[list[str], list[str]]] = {
    "kernel": (["1", "2", "3", "5", "3,1", "1,3", "2,2"], ["0", "-1", "3,3,3", "1,2,3,4"]),
    "stride": (["1", "2", "2,1"], ["0", "-1", "1,1,1,1"]),
    "dilation": (["1", "2", "1,2"], ["0", "-2", "2,2,2,2"]),
    "padding": (["0", "1", "2", "1,2", "valid", "same", "same-pytorch", "0:1,1:0"],
                ["full", "-1", "1,-1", "1:"]),
    "raw_parameters": (["width=0.5", "shallow=true"], ["x", "=1", "classes=x", "nope=1"]),
    "convention": (["paper", "thop"], ["nope"]),
    "mid_channels": (["min", "out", "in", "4"], ["max", "0", "-1"]),
    "base_channels": (["8", "16"], ["0", "x"]),
    "stages": (["1", "2", "3"], ["0", "-1", "100"]),
    "convs_per_stage": (["1", "2"], ["0", "1000000"]),
    "downsample": (["pool", "stride"], ["avg"]),
    "head": (["none", "global", "flatten"], ["fc"]),
    "classes": (["10"], ["0", "x"]),
    "width": (["0.5", "1"], ["0", "-1", "1e300"]),
    "resolution": (["64", "64x96"], ["0", "x"]),
    "out_channels": (["4", "8"], ["0", "x"]),
    "groups": (["1", "2"], ["0", "3_3"]),
    "depth_multiplier": (["1", "2"], ["0"]),
    "batch_size": (["1", "4"], ["0", "10000000000"]),
}  # fmt: skip


def option_values(option: click.Option, *, valid: bool) -> st.SearchStrategy[str]:
    """Values of an option from its click type (or name): valid ones, or wrong ones."""
    kind = option.type
    good: st.SearchStrategy[str]
    bad: st.SearchStrategy[str]
    if isinstance(kind, ShapeType):
        good, bad = GOOD_SHAPES, BAD_SHAPES
    elif isinstance(kind, FamiliesType):
        good = st.lists(st.sampled_from(FAMILY_WORDS), min_size=1, max_size=3).map(",".join)
        bad = st.sampled_from(["", ",", "foo", "regular,foo", "depthwise;spatial"])
    elif hasattr(kind, "choices"):
        good, bad = st.sampled_from([str(choice) for choice in kind.choices]), JUNK
    elif option.name in TEXT_VALUES:
        good_values, bad_values = TEXT_VALUES[option.name]
        good, bad = st.sampled_from(good_values), st.sampled_from(bad_values)
    else:
        good, bad = st.text(max_size=5), st.text(max_size=5)
    return good if valid else st.one_of(bad, bad, JUNK)


@st.composite
def command_lines(draw: st.DrawFn, name: str) -> list[str]:
    """`convcost NAME ...` built from the command's own click parameters: each option given
    or not, in any order; in half of the lines every value is valid for its type, in the
    other half each value is wrong a third of the time; the positional argument present or
    not; now and then a stray token.
    """
    command = main.commands[name]
    sloppy = draw(st.booleans())

    def valid() -> bool:
        return not sloppy or draw(st.integers(0, 2)) > 0

    groups: list[list[str]] = []
    for param in command.params:
        if isinstance(param, click.Argument):
            if name in ("compare", "summary", "conventions", "export"):
                names = list(PRESETS) if valid() else ["nope", "missing.toml", "-", ".", ""]
                if param.required or draw(st.booleans()):
                    groups.append([draw(st.sampled_from(names))])
            elif not sloppy or draw(st.integers(0, 9)):
                groups.append([draw(GOOD_SHAPES if valid() else BAD_SHAPES)])
            continue
        if not isinstance(param, click.Option) or draw(st.integers(0, 3)):
            continue
        if param.name == "output_path":
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
    assert all(line.startswith("Hint: ") for line in result.stderr.splitlines())
    if "--format" in args and args[args.index("--format") + 1] == "json":
        json.loads(result.stdout)


@given(command_lines("compare"))
@example(["compare", "--input", "3x4x4", "--stages", "5", "--format", "json"])
@example(["compare", "--format", "json", "--families", "regular", "--head", "global"])
@example(["compare", "--stages", "100000000000"])
@example(["compare", "--convs-per-stage", "1000000"])
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


@given(command_lines("summary"))
def test_fuzz_summary(args: list[str]) -> None:
    """Any argument list built from `summary`'s own options (as `test_fuzz_compare`)."""
    check_any_outcome(args)


# --- will it run faster: devices, the roofline, training -----------------------------------


def test_devices_lists_every_profile() -> None:
    from convcost.devices import DEVICES

    document = run_json("devices")
    assert [device["name"] for device in document["devices"]] == list(DEVICES)
    assert all(device["source"] for device in document["devices"])
    assert "a100-sxm4-80gb" in run_ok("devices", "--format", "plain")


def test_summary_on_a_device_is_the_library_roofline() -> None:
    """--device adds bytes moved, intensity, bound and time per layer: the library's."""
    from convcost.devices import get_device
    from convcost.roofline import roofline

    document = run_json("summary", "mobilenet-v2", "--device", "jetson-orin-nano-8gb",
                        "--dtype", "float16", "--batch-size", "4")  # fmt: skip
    cost = summary(build_preset("mobilenet-v2")).cost
    expected = roofline(cost, get_device("jetson-orin-nano-8gb"), dtype="float16", batch_size=4)
    assert document["roofline"]["totals"]["moved"] == expected.totals.traffic.moved
    assert (
        Fraction(document["roofline"]["totals"]["time"]["fraction"]) == expected.totals.timing.time
    )
    assert [row["bound"] for row in document["roofline"]["rows"]] == [
        row.timing.bound for row in expected.rows
    ]
    text = run_ok("summary", "mobilenet-v2", "--device", "jetson-orin-nano-8gb", "--format",
                  "plain")  # fmt: skip
    assert "Roofline of mobilenet-v2 on jetson-orin-nano-8gb" in text
    assert "FLOP/B" in text


def test_compare_on_a_device_says_macs_are_not_time() -> None:
    """The depthwise family's MACs fall to 11.48 % of the pyramid's, its roofline time on an
    RTX 4090 in float16 only to about 45 %: both are said, side by side."""
    text = " ".join(run_ok("compare", "--device", "rtx-4090", "--dtype", "float16",
                           "--format", "plain").split())  # fmt: skip
    assert "Roofline time by convolution family on rtx-4090" in text
    assert re.search(r"Depthwise separable against regular: MACs 11\.48%, bytes moved \S+, "
                     r"roofline time \d+\.\d\d%", text)  # fmt: skip
    document = run_json("compare", "--device", "rtx-4090", "--dtype", "float16")
    time = Fraction(
        document["ratios_to_regular"]["depthwise_separable"]["roofline_time"]["fraction"]
    )
    assert Fraction(2, 5) < time < Fraction(1, 2)


def test_a_device_of_your_own(tmp_path: Path) -> None:
    """--device takes key=value pieces or a profile file; both count the same."""
    given = run_json("compare", "--device", "peak=19.5T,bandwidth=1.555T")
    path = tmp_path / "mine.toml"
    path.write_text('name = "mine"\ndescription = "mine"\nkind = "GPU"\nsource = "me"\n'
                    'bandwidth = "1.555T"\n[peak]\nfloat32 = "19.5T"\n')  # fmt: skip
    from_file = run_json("compare", "--device", str(path))
    assert from_file["ratios_to_regular"] == given["ratios_to_regular"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        pytest.param(["--device", "a100"], "did you mean 'a100-sxm4-80gb'", id="unknown"),
        pytest.param(["--device", "peak=0,bandwidth=1T"], "peak", id="zero-peak"),
        pytest.param(["--device", "peak=1T"], "bandwidth", id="no-bandwidth"),
        pytest.param(["--device", "generic-avx2-core", "--dtype", "int8"], "int8", id="no-dtype"),
        pytest.param(["--device", "l4", "--batch-size", str(10**30)], "--batch-size",
                     id="huge-batch"),
    ],
)  # fmt: skip
def test_bad_devices_are_one_line(args: list[str], fragment: str) -> None:
    assert fragment in check_error(run("compare", *args))


def test_training_costs() -> None:
    """--optimizer adds a training table: Adam keeps two states per trainable parameter,
    and the training multiply-adds are three times the forward ones."""
    document = run_json("summary", "resnet18", "--optimizer", "adam", "--batch-size", "2")
    totals = document["training"]["totals"]
    assert totals["optimizer_bytes"] == 2 * totals["gradient_bytes"] == 2 * 4 * 11_689_512
    assert (
        totals["input_gradient_macs"] == totals["weight_gradient_macs"] == (totals["forward_macs"])
    )
    assert totals["forward_macs"] == 2 * 1_814_073_344
