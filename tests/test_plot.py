"""Charts: the files written are read back (PNG signature and size, SVG parsed as XML
with its title and axis labels, PDF header); no pixel is compared. Bad file names are
refused before any drawing, and a failing plot leaves an existing file as it was."""

from __future__ import annotations

import struct
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("matplotlib")

from convcost.conventions import get_profile
from convcost.devices import get_device
from convcost.errors import ConvCostError, FileError
from convcost.plot import check_plot_path, plot_comparison, plot_summary, plot_sweep
from convcost.report import (
    ComparisonReport,
    Counting,
    Summary,
    compare_families,
    summary,
)
from convcost.roofline import Roofline, roofline
from convcost.sources import load_network
from convcost.sweep import SweepReport, parse_grid, sweep

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def comparison() -> ComparisonReport:
    return compare_families(load_network("pyramid"))


@pytest.fixture(scope="module")
def network_summary() -> Summary:
    return summary(load_network("mobilenet-v1", parameters={"width": "0.5"}))


@pytest.fixture(scope="module")
def device_roofline(network_summary: Summary) -> Roofline:
    return roofline(network_summary.cost, get_device("a100-sxm4-80gb"))


@pytest.fixture(scope="module")
def sweep_report() -> SweepReport:
    return sweep("mobilenet-v1", parse_grid(["width=0.25,0.5,0.75,1", "resolution=128,224"]))


def svg_texts(path: Path) -> list[str]:
    """Every text element of an SVG file (matplotlib writes one per line of text)."""
    root = ElementTree.parse(path).getroot()
    return ["".join(element.itertext()) for element in root.iter() if element.tag.endswith("text")]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# --- what each chart says -------------------------------------------------------------------


def test_comparison_chart(comparison: ComparisonReport, tmp_path: Path) -> None:
    written = plot_comparison(comparison, tmp_path / "compare.svg")
    assert written == (tmp_path / "compare.svg").resolve()
    texts = svg_texts(written)
    assert "pyramid: parameters and MACs by convolution family" in texts
    assert "input 64x128x128; MACs as papers count them, per sample" in texts
    assert {"Parameters", "MACs per sample", "Stage (input shape)"} <= set(texts)
    assert {"Regular", "Spatially separable", "Depthwise separable"} <= set(texts)
    assert {"stage1", "stage4", "512x16x16"} <= set(texts)  # each stage and its input
    assert not any("FLOP" in text for text in texts)


def test_comparison_chart_in_flops_when_only_flops_were_asked(tmp_path: Path) -> None:
    report = compare_families(load_network("pyramid"), counting=Counting(flops="only"))
    texts = svg_texts(plot_comparison(report, tmp_path / "flops.svg", log=True))
    assert "FLOPs per sample" in texts
    assert "MACs per sample" not in texts
    assert any(text.endswith("; log scale") for text in texts)


def test_comparison_chart_names_another_convention(tmp_path: Path) -> None:
    counting = Counting(convention=get_profile("ptflops"))
    report = compare_families(load_network("resnet18"), counting=counting, by_layer=True)
    texts = svg_texts(plot_comparison(report, tmp_path / "ptflops.svg"))
    assert "MACs (ptflops) per sample" in texts
    assert "input 3x224x224; MACs counted as 'ptflops' counts them, per sample" in texts
    assert "Layer (output shape)" in texts


def test_summary_chart(network_summary: Summary, tmp_path: Path) -> None:
    texts = svg_texts(plot_summary(network_summary, tmp_path / "summary.svg"))
    assert "mobilenet-v1 (width=0.5): MACs per layer" in texts
    assert "input 3x224x224; MACs as papers count them, per sample" in texts
    assert {"MACs per sample", "Layer", "conv1", "conv_pw_13", "fc"} <= set(texts)
    assert "conv1_bn" not in texts  # no MACs: not a bar


def test_summary_chart_with_a_roofline(
    network_summary: Summary, device_roofline: Roofline, tmp_path: Path
) -> None:
    path = plot_summary(network_summary, tmp_path / "roofline.svg", roofline=device_roofline)
    texts = svg_texts(path)
    assert "Roofline on a100-sxm4-80gb (float32, batch 1)" in texts
    assert "Arithmetic intensity (FLOPs per byte moved; FLOPs = 2 × MACs)" in texts
    assert "Attained performance bound (FLOP/s)" in texts
    assert {"regular", "depthwise", "pointwise", "dense"} <= set(texts)  # coloured by kind
    assert any(text.startswith("roofline: a100-sxm4-80gb, ridge point") for text in texts)


def test_summary_refuses_the_roofline_of_another_network(
    device_roofline: Roofline, tmp_path: Path
) -> None:
    other = summary(load_network("resnet18"))
    with pytest.raises(ConvCostError, match="another network"):
        plot_summary(other, tmp_path / "x.png", roofline=device_roofline)
    assert not (tmp_path / "x.png").exists()


def test_sweep_chart(sweep_report: SweepReport, tmp_path: Path) -> None:
    texts = svg_texts(plot_sweep(sweep_report, tmp_path / "sweep.svg"))
    assert "mobilenet-v1: cost against width" in texts
    assert "inputs 3x128x128 to 3x224x224; MACs as papers count them, per sample" in texts
    assert {"width", "Parameters", "MACs per sample"} <= set(texts)
    assert "Depthwise separable, resolution=224" in texts  # a line per family and resolution


def test_sweep_chart_against_another_parameter(sweep_report: SweepReport, tmp_path: Path) -> None:
    texts = svg_texts(plot_sweep(sweep_report, tmp_path / "sweep.svg", x="resolution"))
    assert "mobilenet-v1: cost against resolution" in texts
    assert "Regular, width=0.25" in texts
    with pytest.raises(ConvCostError, match="x must be a swept parameter"):
        plot_sweep(sweep_report, tmp_path / "sweep.svg", x="classes")


def test_sweep_chart_of_a_text_parameter_with_a_device(tmp_path: Path) -> None:
    report = sweep(
        "mobilenet-v1",
        parse_grid(["style=paper,keras"]),
        device=get_device("l4"),
        counting=Counting(flops="only"),
    )
    texts = svg_texts(plot_sweep(report, tmp_path / "style.svg"))
    assert {"paper", "keras", "style", "FLOPs per sample", "Roofline time bound (s)"} <= set(texts)
    assert "MACs per sample" not in texts


# --- the files --------------------------------------------------------------------------------

Plot = Callable[[Path], Path]


@pytest.fixture
def plots(
    comparison: ComparisonReport,
    network_summary: Summary,
    device_roofline: Roofline,
    sweep_report: SweepReport,
) -> dict[str, Plot]:
    return {
        "compare": lambda path: plot_comparison(comparison, path),
        "summary": lambda path: plot_summary(network_summary, path, roofline=device_roofline),
        "sweep": lambda path: plot_sweep(sweep_report, path),
    }


CHARTS = ["compare", "summary", "sweep"]


@pytest.mark.parametrize("chart", CHARTS)
def test_png(chart: str, plots: dict[str, Plot], tmp_path: Path) -> None:
    data = plots[chart](tmp_path / "chart.png").read_bytes()
    width, height = png_size(data)
    assert 500 <= width <= 6000
    assert 300 <= height <= 6000
    assert len(data) > 10_000
    assert data.endswith(b"IEND\xaeB`\x82")


@pytest.mark.parametrize("chart", CHARTS)
def test_pdf(chart: str, plots: dict[str, Plot], tmp_path: Path) -> None:
    data = plots[chart](tmp_path / "chart.PDF").read_bytes()  # the suffix in any case
    assert data.startswith(b"%PDF-1.")
    assert data.rstrip().endswith(b"%%EOF")
    assert len(data) > 5_000


@pytest.mark.parametrize("chart", CHARTS)
def test_svg_is_reproducible(chart: str, plots: dict[str, Plot], tmp_path: Path) -> None:
    first = plots[chart](tmp_path / "a.svg").read_bytes()
    second = plots[chart](tmp_path / "b.svg").read_bytes()
    assert first == second  # no date, fixed ids: charts can be committed and diffed
    assert first.startswith(b"<?xml")


@pytest.mark.parametrize("name", ["chart.jpg", "chart", "chart.png.txt", "chart.svgz"])
def test_other_suffixes_are_refused_before_drawing(
    name: str, plots: dict[str, Plot], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # drawing would fail differently
    for plot in plots.values():
        with pytest.raises(ConvCostError, match=r"a chart is written as \.png, \.svg or \.pdf"):
            plot(tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_a_command_checks_its_plot_file_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # checking needs no matplotlib
    assert check_plot_path(tmp_path / "a.SVG") == ((tmp_path / "a.SVG").resolve(), "svg")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "folder.png").mkdir()
    with pytest.raises(FileError, match="is a directory"):
        check_plot_path(tmp_path / "folder.png")


def test_a_missing_folder_is_refused(plots: dict[str, Plot], tmp_path: Path) -> None:
    with pytest.raises(FileError, match="no such directory"):
        plots["sweep"](tmp_path / "missing" / "chart.png")


def test_without_matplotlib_the_message_says_how_to_install_it(
    plots: dict[str, Plot], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ConvCostError, match=r"pip install convcost\[plot\]"):
        plots["compare"](tmp_path / "chart.png")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("target", "error"),
    [
        pytest.param("matplotlib.figure.Figure.savefig", RuntimeError("drawing failed"),
                     id="drawing"),
        pytest.param("os.fsync", OSError(28, "No space left on device"), id="writing"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("chart", CHARTS)
def test_a_failing_plot_leaves_an_existing_file_untouched(
    chart: str,
    target: str,
    error: Exception,
    plots: dict[str, Plot],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    existing = tmp_path / "chart.png"
    existing.write_bytes(b"the chart of yesterday")

    def fail(*args: Any, **kwargs: Any) -> None:
        raise error

    monkeypatch.setattr(target, fail)
    with pytest.raises(type(error)):
        plots[chart](existing)
    assert existing.read_bytes() == b"the chart of yesterday"
    assert list(tmp_path.iterdir()) == [existing]  # no temporary file left behind


def test_an_existing_file_is_replaced_keeping_its_permissions(
    plots: dict[str, Plot], tmp_path: Path
) -> None:
    existing = tmp_path / "chart.svg"
    existing.write_text("old")
    existing.chmod(0o640)
    plots["compare"](existing)
    assert existing.read_bytes().startswith(b"<?xml")
    assert existing.stat().st_mode & 0o777 == 0o640
