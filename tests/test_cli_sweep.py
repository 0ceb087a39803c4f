"""`convcost sweep`, and `--plot` on every command that draws: the command line's side.

The sweep itself (grids, points, caching) is tested in test_sweep.py and the charts in
test_plot.py; here, that the command passes what it is given, refuses what it should
before any work, and reproduces the figures the README shows.
"""

from __future__ import annotations

import importlib.util
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from test_cli import check_error, run, run_json, run_ok
from test_presets import rounds_to

from convcost.network import network_cost
from convcost.presets import build_preset

HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


def points(*args: str) -> list[dict[str, Any]]:
    document = run_json("sweep", *args)
    assert document["schema"] == "convcost.sweep"
    return list(document["points"])


# Howard et al. 2017, MobileNets, Table 6 (width multiplier, 224) and Table 7 (resolution,
# width 1): millions of mult-adds and of parameters as printed. Table 7's 290 is the
# paper's scaling slip (docs/presets.md): exactly 290,675,200, which rounds to 291.
TABLE_6 = {"1": ("569", "4.2"), "0.75": ("325", "2.6"), "0.5": ("149", "1.3"),
           "0.25": ("41", "0.5")}  # fmt: skip
TABLE_7 = {"224": "569", "192": "418", "160": "291", "128": "186"}


def test_mobilenet_width_table() -> None:
    """`sweep mobilenet-v1 --width 1,0.75,0.5,0.25`: the paper's Table 6, exactly."""
    found = points("mobilenet-v1", "--width", ",".join(TABLE_6), "--families", "regular")
    assert [point["parameters"]["width"] for point in found] == [1, 0.75, 0.5, 0.25]
    for point, (width, (macs, params)) in zip(found, TABLE_6.items()):
        regular = point["families"]["regular"]
        exact = network_cost(build_preset("mobilenet-v1", width=float(width))).totals
        assert (regular["macs"], regular["params"]) == (exact.macs, exact.params)
        assert rounds_to(regular["macs"], macs)
        assert rounds_to(regular["params"], params)


def test_mobilenet_resolution_table() -> None:
    """`sweep mobilenet-v1 --resolution 224,192,160,128`: Table 7 (exact 160: 291)."""
    found = points("mobilenet-v1", "--resolution", ",".join(TABLE_7), "--families", "regular")
    for point, (resolution, macs) in zip(found, TABLE_7.items()):
        assert point["network"]["input_shape"] == [3, int(resolution), int(resolution)]
        assert rounds_to(point["families"]["regular"]["macs"], macs)


def test_pyramid_ratio_is_one_over_n_plus_one_over_k_squared() -> None:
    """One stage of a "same" 3×3, 5×5 or 7×7 convolution to N channels: depthwise
    separable over regular MACs is exactly 1/N + 1/K², at every point of the grid."""
    found = points("--stages", "1", "--base-channels", "32,64,128", "--kernel", "3,5,7",
                   "--families", "depthwise")  # fmt: skip
    assert len(found) == 9
    for point in found:
        n, k = point["parameters"]["base_channels"], point["parameters"]["kernel_size"]
        ratio = Fraction(point["ratios_to_regular"]["depthwise_separable"]["macs"]["fraction"])
        assert ratio == Fraction(1, n) + Fraction(1, k * k)


def test_fixed_and_swept_parameters_mix() -> None:
    """A single value is fixed for every point; several are swept, every combination."""
    document = run_json("sweep", "mobilenet-v1", "--width", "0.5", "--resolution",
                        "128:160:32", "--param", "shallow=true,false")  # fmt: skip
    assert document["parameters"] == {"width": "0.5"}
    assert [axis["name"] for axis in document["grid"]] == ["resolution", "shallow"]
    assert len(document["points"]) == 4


@pytest.mark.parametrize(
    ("args", "words"),
    [
        pytest.param(["mobilenet-v1", "--width", "0.5"], "nothing to sweep", id="one-value"),
        pytest.param(["mobilenet-v1"], "nothing to sweep", id="no-grid"),
        pytest.param(["mobilenet-v1", "--resolution", "224:128"], "224:128", id="reversed"),
        pytest.param(["mobilenet-v1", "--width", "0:1:0"], "step", id="step-0"),
        pytest.param(["resnet50", "--resolution", "1:1000000", "--classes", "1:1000"],
                     "100,000", id="a-billion-points"),
        pytest.param(["mobilenet-v1", "--width", "0.5,", "--resolution", "128,224"],
                     "empty", id="empty-value"),
        pytest.param(["mobilenet-v1", "--width", "0.5,1", "--param", "width=0.25,1"],
                     "twice", id="twice"),
        pytest.param(["mobilenet-v1", "--param", "depth=1,2"], "no parameter", id="unknown"),
        pytest.param(["resnet18", "--base-channels", "8,16"], "pyramid", id="pyramid-only"),
        pytest.param(["mobilenet-v1", "--width", "0.5,1", "--strict"], "--strict",
                     id="strict"),
        pytest.param(["net.toml", "--param", "x=1,2"], "do not apply", id="a-file"),
    ],
)  # fmt: skip
def test_bad_sweeps_are_one_line(args: list[str], words: str) -> None:
    line = check_error(run("sweep", *args))
    assert words in line


def test_a_failing_point_is_named() -> None:
    line = check_error(run("sweep", "--stages", "5,6,7", "--input", "3x32x32"))
    assert line.startswith("Error: pyramid at stages=6: stages must be at most 5")


def test_plain_and_csv_have_a_row_per_point() -> None:
    text = run_ok("sweep", "mobilenet-v1", "--width", "0.25,0.5,1", "--format", "csv")
    lines = text.splitlines()
    assert lines[0].startswith("width,regular_params,regular_macs")
    assert len(lines) == 4


@pytest.mark.skipif(not HAS_MATPLOTLIB, reason="charts need matplotlib (convcost[plot])")
@pytest.mark.parametrize(
    ("args", "label"),
    [
        pytest.param(["sweep", "mobilenet-v1", "--width", "0.5,1"], "width", id="sweep"),
        pytest.param(["compare"], "MACs", id="compare"),
        pytest.param(["summary", "vgg-cifar"], "MACs", id="summary"),
        pytest.param(["summary", "vgg-cifar", "--device", "l4"], "FLOP", id="roofline"),
    ],
)
def test_plot_writes_a_chart(tmp_path: Path, args: list[str], label: str) -> None:
    chart = tmp_path / "chart.svg"
    run_ok(*args, "--plot", str(chart), "--format", "plain")
    assert chart.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert label in chart.read_text(encoding="utf-8")


@pytest.mark.parametrize("command", [["compare"], ["summary", "resnet18"],
                                     ["sweep", "--stages", "1,2"]])  # fmt: skip
def test_a_bad_plot_file_is_refused_before_any_work(tmp_path: Path, command: list[str]) -> None:
    line = check_error(run(*command, "--plot", str(tmp_path / "chart.jpg")))
    assert ".png, .svg or .pdf" in line
    assert list(tmp_path.iterdir()) == []
