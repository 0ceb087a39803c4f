"""docs/json.md lists exactly the top-level keys each JSON document has."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_cli import run_ok

DOCS = Path(__file__).resolve().parent.parent / "docs" / "json.md"


def documented_keys(schema: str) -> list[set[str]]:
    """The key columns of the tables under `## \\`schema\\``, one set per table."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split(f"## `{schema}`", 1)[1].split("\n## ", 1)[0]
    tables = re.split(r"\n\n(?=\| key)", section)
    return [set(re.findall(r"^\| `(\w+)` \|", table, re.M)) for table in tables if "| key" in table]


@pytest.mark.parametrize(
    ("schema", "args"),
    [
        pytest.param("convcost.compare", ["compare"], id="compare"),
        pytest.param("convcost.layer", ["layer", "3x8x8", "-o", "4"], id="layer"),
        pytest.param("convcost.summary", ["summary", "resnet18"], id="summary"),
        pytest.param(
            "convcost.summary",
            ["summary", "resnet18", "--device", "l4", "--optimizer", "adam"],
            id="summary-device-training",
        ),
        pytest.param("convcost.compare", ["compare", "--device", "l4"], id="compare-device"),
        pytest.param("convcost.devices", ["devices"], id="devices"),
        pytest.param("convcost.sweep", ["sweep", "--stages", "1,2"], id="sweep"),
        pytest.param(
            "convcost.sweep",
            ["sweep", "mobilenet-v1", "--width", "0.5,1", "--device", "l4"],
            id="sweep-device",
        ),
        pytest.param("convcost.presets", ["presets"], id="presets"),
        pytest.param("convcost.conventions", ["conventions"], id="conventions"),
        pytest.param("convcost.conventions", ["conventions", "resnet18"], id="conventions-net"),
    ],
)
def test_documented_keys_are_the_documents_keys(schema: str, args: list[str]) -> None:
    document = json.loads(run_ok(*args, "--format", "json"))
    assert document["schema"] == schema
    assert document["version"] == 2
    assert set(document) in documented_keys(schema)
