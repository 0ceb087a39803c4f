"""The README's promises: its set-up commands and its tables are what the tool prints."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from convcost.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_block(name: str) -> str:
    match = re.search(rf"<!-- {name}:[^>]*-->\n(.*?)<!-- /{name} -->", README.read_text(), re.S)
    assert match, f"README has no block {name!r}"
    return match.group(1)


def test_readme_starts_with_the_two_setup_commands() -> None:
    """Exactly two commands at the top: install and run the main job; install and test."""
    fence = re.search(r"```sh\n(.*?)```", README.read_text(), re.S)
    assert fence is not None
    assert fence.group(1).splitlines() == [
        "pip install . && convcost compare",
        "pip install -e '.[test]' && pytest",
    ]


def test_readme_conventions_table_is_the_commands_output() -> None:
    """The "Why do tools disagree?" table equals `convcost conventions resnet18`."""
    result = CliRunner().invoke(
        main, ["conventions", "resnet18", "--exact", "--format", "markdown"]
    )
    assert result.exit_code == 0, result.output
    assert readme_block("conventions-resnet18") == result.output


def test_readme_compare_example_is_the_commands_output() -> None:
    """The main job's table in the README is what `convcost compare` prints."""
    result = CliRunner().invoke(main, ["compare", "--format", "plain"])
    assert result.exit_code == 0, result.output
    block = readme_block("compare-default")
    assert block == f"```\n$ convcost compare --format plain\n{result.output}```\n"
