"""Every script in examples/ runs to completion and prints what it promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))

# Lines a script must print; every script must at least exit 0 and print something.
EXPECTED: dict[str, list[str]] = {
    "mobilenet_block.py": [
        # the MobileNet paper's 462M and 52.3M mult-adds, 2.36M and 0.27M parameters
        "regular                  2,359,296     462,422,016",
        "depthwise separable        266,752      52,283,392  521/4608",
        "spatially separable      1,572,864     308,281,344  2/3",
        "depthwise separable / regular = 521/4608; 1/N + 1/D_K² = 521/4608",
    ],
}


def test_examples_are_found() -> None:
    assert "mobilenet_block.py" in [script.name for script in SCRIPTS]


@pytest.mark.parametrize("script", SCRIPTS, ids=[script.name for script in SCRIPTS])
def test_example_runs(script: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=EXAMPLES.parent,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    for line in EXPECTED.get(script.name, []):
        assert line in result.stdout
