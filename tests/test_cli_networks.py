"""The commands that take a NETWORK (a preset or a spec file): compare, summary, export,
presets and conventions, through click's CliRunner, checked against the library."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from test_cli import check_error, run, run_ok
from test_specs import BAD_SPECS

from convcost.conventions import count, get_profile
from convcost.network import compare, network_cost, rewrite
from convcost.presets import PRESETS, build_preset
from convcost.specs import load_spec, parse_spec

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_json(*args: str) -> Any:
    return json.loads(run_ok(*args, "--format", "json"))


# --- the "done means" ----------------------------------------------------------


def test_presets_lists_every_preset_with_its_source() -> None:
    listing = run_json("presets")
    assert [preset["name"] for preset in listing["presets"]] == list(PRESETS)
    assert all(preset["source"] and preset["description"] for preset in listing["presets"])
    plain = run_ok("presets", "--format", "plain")
    for name in PRESETS:
        assert name in plain


def test_compare_mobilenet_v1_at_half_width() -> None:
    """`convcost compare mobilenet-v1 --width 0.5`: the library's numbers, per family."""
    document = run_json("compare", "mobilenet-v1", "--width", "0.5")
    expected = compare(build_preset("mobilenet-v1", width=0.5))
    for family, cost in zip(expected.families, expected.costs):
        totals = document["families"][family]["totals"]
        assert (totals["params"], totals["macs"]) == (cost.totals.params, cost.totals.macs)
    # Table 6 of the MobileNet paper: 149 million mult-adds at width 0.5.
    assert document["families"]["regular"]["totals"]["macs"] == 149_497_088


def test_summary_resnet18_matches_torchvision() -> None:
    """torchvision's ResNet-18: 11,689,512 parameters, 1,814,073,344 MACs (torch 2.14.1)."""
    document = run_json("summary", "resnet18")
    assert document["totals"]["params"] == 11_689_512
    assert document["totals"]["macs"] == 1_814_073_344
    assert document["totals"]["non_trainable_params"] == 9_600
    text = run_ok("summary", "resnet18", "--format", "plain", "--exact")
    assert "layer1.0.conv1" in text
    assert "11,689,512" in text


def test_compare_a_spec_file() -> None:
    """`convcost compare FILE` (Chng 2022's VGG model as a spec): Keras's 1,186,378 and
    174,821 parameters (SeparableConv2D, bias on the pointwise part)."""
    document = run_json("compare", str(EXAMPLES / "vgg-cifar.toml"), "--families", "depthwise")
    assert document["families"]["regular"]["totals"]["params"] == 1_186_378
    assert document["families"]["depthwise_separable"]["totals"]["params"] == 174_821


def test_summary_vgg16_with_the_thop_convention_carries_its_count() -> None:
    """The issue's example: thop counts 15,470,314,496 on VGG-16."""
    document = run_json("summary", "vgg16", "--convention", "thop")
    assert document["counted"]["total"] == 15_470_314_496
    assert document["counted"]["profile"] == "thop"
    assert document["conventions"]["profile"]["name"] == "thop"


def test_conventions_resnet18_prints_all_eight_totals() -> None:
    """The eight profiles of the issue, to the unit, from `convcost conventions resnet18`."""
    expected = {
        "paper": 1_814_073_344,
        "torchinfo": 1_814_083_944,
        "ptflops-aten": 1_814_074_344,
        "ptflops": 1_825_313_768,
        "thop": 1_824_033_792,
        "fvcore": 1_819_065_856,
        "torchprofile": 1_816_557_568,
        "calflops": 3_636_250_112,
    }
    document = run_json("conventions", "resnet18")
    totals = {entry["profile"]: entry["total"] for entry in document["counts"]}
    assert {name: totals[name] for name in expected} == expected
    text = run_ok("conventions", "resnet18", "--format", "plain")
    for total in expected.values():
        assert f"{total:,}" in text


# --- every command against the library --------------------------------------------------


@pytest.mark.parametrize("family", ["regular", "spatial", "depthwise"])
def test_summary_rows_are_the_librarys(family: str) -> None:
    network = build_preset("vgg-cifar")
    full_name = {"spatial": "spatially_separable", "depthwise": "depthwise_separable"}
    if family != "regular":
        network = rewrite(network, full_name[family], bias="pointwise")  # type: ignore[arg-type]
    cost = network_cost(network)
    first = {
        "regular": "conv2d",
        "spatial": "spatially_separable_conv2d",
        "depthwise": "separable_conv2d",
    }[family]  # Keras's names of each type
    assert cost.rows[0].name == first
    document = run_json("summary", "vgg-cifar", "--family", family)
    assert [row["params"] for row in document["rows"]] == [row.cost.params for row in cost.rows]
    assert [row["macs"] for row in document["rows"]] == [row.cost.macs for row in cost.rows]
    assert document["totals"]["params"] == sum(row["params"] for row in document["rows"])


@pytest.mark.parametrize("profile", ["paper", "torchinfo", "ptflops", "calflops"])
def test_compare_convention_is_stored_for_every_family(profile: str) -> None:
    comparison = compare(build_preset("resnet18"))
    document = run_json("compare", "resnet18", "--convention", profile)
    for family, cost in zip(comparison.families, comparison.costs):
        counted = document["families"][family]["counted"]
        assert counted["total"] == count(cost, get_profile(profile)).total
    plain = run_ok("compare", "resnet18", "--convention", profile, "--format", "plain")
    assert (f"'{profile}'" in plain) is (profile != "paper")


def test_summary_by_type_shares_sum_to_the_totals() -> None:
    document = run_json("summary", "mobilenet-v1", "--by-type")
    by_kind = document["by_kind"]
    assert sum(entry["macs"] for entry in by_kind.values()) == document["totals"]["macs"]
    assert sum(entry["params"] for entry in by_kind.values()) == document["totals"]["params"]
    text = run_ok("summary", "mobilenet-v1", "--by-type", "--format", "plain")
    assert "Conv 1×1 (pointwise)" in text


@pytest.mark.parametrize("spec_format", ["toml", "json", "yaml"])
def test_export_reads_back_as_the_preset(spec_format: str) -> None:
    text = run_ok("export", "mobilenet-v2", "--width", "0.5", "--format", spec_format)
    assert parse_spec(text, spec_format) == build_preset("mobilenet-v2", width=0.5)  # type: ignore[arg-type]


def test_preset_parameters_by_option_and_by_param() -> None:
    document = run_json("summary", "mobilenet-v1", "--resolution", "160", "--param", "shallow=true")
    expected = network_cost(build_preset("mobilenet-v1", resolution=160, shallow=True))
    assert document["totals"]["macs"] == expected.totals.macs


def test_a_spec_file_round_trips_through_export(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    path.write_text(run_ok("export", str(EXAMPLES / "vgg-cifar.toml"), "--format", "json"))
    assert load_spec(path) == load_spec(EXAMPLES / "vgg-cifar.toml")


# --- bad input: exit 2 and one line ----------------------------------------------------


@pytest.mark.parametrize(("text", "message"), BAD_SPECS)
def test_a_bad_spec_file_exits_2_naming_the_place(tmp_path: Path, text: str, message: str) -> None:
    """Every bad spec of the spec tests, through `convcost compare FILE`."""
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    line = check_error(run("compare", str(path)))
    assert line == f"Error: {path}: {message}"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        pytest.param(["summary", "resnet"], "unknown preset 'resnet'", id="unknown-preset"),
        pytest.param(["summary", "missing.toml"], "missing.toml", id="missing-file"),
        pytest.param(["compare", "resnet18", "--stages", "3"], "--stages", id="pyramid-option"),
        pytest.param(["summary", "resnet18", "--width", "0.5"], "'width'", id="no-such-param"),
        pytest.param(
            ["summary", "mobilenet-v1", "--param", "shallow=maybe"], "shallow", id="bad-param"
        ),
        pytest.param(["summary", "resnet18", "--param", "oops"], "NAME=VALUE", id="param-form"),
        pytest.param(
            ["summary", "vgg16", "--convention", "flops"],
            "did you mean 'ptflops' or 'calflops'?",
            id="unknown-convention",
        ),
        pytest.param(
            ["summary", "vgg16", "--convention", "x.csv"],
            ".json, .toml or .yaml",
            id="profile-suffix",
        ),
        pytest.param(["export", "nope"], "unknown preset 'nope'", id="export-unknown"),
        pytest.param(["conventions", "nope"], "unknown preset 'nope'", id="conventions-unknown"),
    ],
)
def test_network_errors(args: list[str], fragment: str) -> None:
    assert fragment in check_error(run(*args))


def test_a_malformed_user_profile_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps({"name": "mine", "rules": {"batch_norm": {"per": "pixel"}}}))
    line = check_error(run("summary", "resnet18", "--convention", str(path)))
    assert "per" in line
    path.write_text("{not json")
    assert "invalid JSON" in check_error(run("summary", "resnet18", "--convention", str(path)))


def test_a_user_profile_equal_to_paper_counts_as_paper(tmp_path: Path) -> None:
    path = tmp_path / "profile.toml"
    path.write_text('name = "mine"\n')
    mine = run_json("summary", "resnet18", "--convention", str(path))
    assert mine["counted"]["total"] == 1_814_073_344


def test_convcost_alone_prints_the_help() -> None:
    result = run()
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: convcost")
    assert "compare" in result.stdout


def test_flops_beside_or_instead_of_macs() -> None:
    """--flops adds FLOPs (2 × MACs) beside MACs; --flops-only shows them instead."""
    beside = run_ok("compare", "--flops", "--format", "plain")
    assert "MACs by convolution family" in beside
    assert "FLOPs by convolution family" in beside
    instead = run_ok("compare", "--flops-only", "--format", "plain")
    assert "MACs by convolution family" not in instead
    assert "FLOPs by convolution family" in instead
    layer = run_ok("layer", "3x15x15", "-o", "10", "-k", "3", "--flops-only", "--exact",
                   "--format", "plain")  # fmt: skip
    assert "91,260" in layer  # Versloot 2019: 2 × 45,630
    assert "45,630" not in layer
    summary = run_ok("summary", "resnet18", "--flops-only", "--exact", "--format", "plain")
    assert "3,628,146,688" in summary  # 2 × 1,814,073,344


def test_flops_only_does_not_mix_with_another_convention() -> None:
    line = check_error(run("summary", "resnet18", "--flops-only", "--convention", "thop"))
    assert "FLOPs" in line
    assert "thop" in line


# --- model files: every command reads them as it reads a spec --------------------------

DATA = Path(__file__).resolve().parent / "data"
KERAS = json.loads((DATA / "keras" / "figures.json").read_text(encoding="utf-8"))["models"]
ONNX = json.loads((DATA / "onnx" / "figures.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "file", ["MobileNet.keras", "functional_mix.keras", "sequential_small.keras",
             "sequential_small.json"],
)  # fmt: skip
def test_a_keras_model_is_summarised_with_keras_totals(file: str) -> None:
    """A .keras archive, or the .json of `model.to_json()` (told from a spec by its
    content), gives Keras's parameters and FlopCounterMode's multiply-adds."""
    document = run_json("summary", str(DATA / "keras" / file))
    figures = KERAS[file.split(".")[0]]
    totals = document["totals"]
    assert totals["params"] == figures["trainable_params"]
    assert totals["non_trainable_params"] == figures["non_trainable_params"]
    assert 2 * totals["macs"] == figures["flop_counter_flops"]


@pytest.mark.parametrize("command", ["summary", "compare", "conventions"])
def test_model_files_work_in_every_command(command: str) -> None:
    for path in (DATA / "keras" / "MobileNet.keras", DATA / "onnx" / "resnet18.onnx"):
        assert run_ok(command, str(path), "--format", "csv")


def test_an_onnx_models_input_is_bound_by_input() -> None:
    document = run_json("summary", str(DATA / "onnx" / "resnet18.onnx"), "--input", "3x160x160")
    assert document["network"]["input_shape"] == [3, 160, 160]
    expected = network_cost(build_preset("resnet18", resolution=160)).totals.macs
    assert document["totals"]["macs"] == expected


@pytest.mark.parametrize(
    ("content", "words"),
    [
        pytest.param(b"\x89HDF\r\n\x1a\n" + b"\0" * 64, ".keras", id="hdf5"),
        pytest.param(b"PK\x03\x04 not a zip", "", id="broken-zip"),
        pytest.param(b"\x00\xff" * 40, "", id="garbage"),
    ],
)
def test_a_broken_model_file_is_one_line(tmp_path: Path, content: bytes, words: str) -> None:
    for suffix in (".keras", ".h5", ".onnx"):
        path = tmp_path / f"model{suffix}"
        path.write_bytes(content)
        line = check_error(run("summary", str(path)))
        assert path.name in line
        assert words in line or suffix == ".onnx"


HAS_TORCH = importlib.util.find_spec("torch") is not None
TWIN = f"{DATA / 'twin_torch.py'}:build"


@pytest.mark.skipif(not HAS_TORCH, reason="PyTorch models need torch (convcost[torch])")
def test_a_pytorch_factory_is_summarised_with_torchs_totals() -> None:
    """`convcost summary model.py:build --input ...`: the twin's own figures (PyTorch's
    `sum(p.numel())`, its BN buffers, FlopCounterMode / 2), as for its Keras twin."""
    totals = run_json("summary", TWIN, "--input", "3x30x30")["totals"]
    figures = KERAS["twin"]
    assert totals["params"] == figures["trainable_params"]
    assert totals["non_trainable_params"] == figures["non_trainable_params"]
    assert 2 * totals["macs"] == figures["flop_counter_flops"]
    assert run_ok("compare", TWIN, "--input", "3x30x30", "--format", "csv")


@pytest.mark.skipif(not HAS_TORCH, reason="PyTorch models need torch (convcost[torch])")
def test_what_a_factory_prints_stays_off_the_document(tmp_path: Path) -> None:
    model = tmp_path / "noisy.py"
    model.write_text(
        "import torch\nprint('loading')\n"
        "def build():\n    print('building')\n    return torch.nn.Conv2d(3, 4, 3)\n",
        encoding="utf-8",
    )
    result = run("summary", f"{model}:build", "--input", "3x8x8", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["params"] == 3 * 4 * 9 + 4
    assert "building" in result.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        pytest.param([TWIN], "--input", id="no-input"),
        pytest.param([TWIN, "--input", "3x30x30", "--param", "x=1"], "do not apply",
                     id="parameters"),
        pytest.param(["missing.py:build", "--input", "3x30x30"], "missing.py", id="no-file"),
    ],
)  # fmt: skip
def test_a_bad_factory_is_one_line(args: list[str], words: str) -> None:
    assert words in check_error(run("summary", *args))
