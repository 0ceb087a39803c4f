"""The README's promises: its set-up commands and its tables are what the tool prints.

`pytest --update-golden` rewrites the README's generated blocks from the commands.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcost.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"


def check_block(request: pytest.FixtureRequest, name: str, expected: str) -> None:
    """The README block `name` equals `expected` (or is rewritten to it with --update-golden)."""
    text = README.read_text(encoding="utf-8")
    pattern = re.compile(rf"(<!-- {name}:[^>]*-->\n)(.*?)(<!-- /{name} -->)", re.S)
    match = pattern.search(text)
    assert match, f"README has no block {name!r}"
    if request.config.getoption("--update-golden"):
        README.write_text(
            text[: match.start(2)] + expected + text[match.end(2) :], encoding="utf-8"
        )
        return
    assert match.group(2) == expected


def command_output(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_readme_starts_with_the_two_setup_commands() -> None:
    """Exactly two commands at the top: install and run the main job; install and test."""
    fence = re.search(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert fence is not None
    assert fence.group(1).splitlines() == [
        "pip install . && convcost compare",
        "pip install -e '.[test]' && pytest",
    ]


def test_readme_conventions_table_is_the_commands_output(request: pytest.FixtureRequest) -> None:
    """The "Why do tools disagree?" table equals `convcost conventions resnet18`."""
    output = command_output("conventions", "resnet18", "--format", "markdown")
    check_block(request, "conventions-resnet18", output)


def test_readme_compare_example_is_the_commands_output(request: pytest.FixtureRequest) -> None:
    """The main job's table in the README is what `convcost compare` prints."""
    output = command_output("compare", "--format", "plain")
    check_block(
        request, "compare-default", f"```\n$ convcost compare --format plain\n{output}```\n"
    )


def test_readme_python_examples_run() -> None:
    """Every ``pycon`` block of the README runs and prints what it shows."""
    import doctest

    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```pycon\n(.*?)```", text, re.S)
    assert blocks
    session = "\n".join(blocks)  # the blocks read as one session, names carried over
    test = doctest.DocTestParser().get_doctest(session, {}, "README", str(README), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


OUTPUT_BLOCK = re.compile(r"<!-- output: (convcost [^>]*?) -->\n(.*?)<!-- /output -->", re.S)


def test_readme_output_blocks_are_the_commands_output(request: pytest.FixtureRequest) -> None:
    """Every ``<!-- output: convcost ... -->`` block holds what that command prints
    (`pytest --update-golden` rewrites them)."""
    text = README.read_text(encoding="utf-8")
    commands = OUTPUT_BLOCK.findall(text)
    assert commands
    for command, block in commands:
        output = command_output(*shlex.split(command)[1:])
        expected = f"```\n$ {command}\n{output}```\n"
        if request.config.getoption("--update-golden"):
            text = text.replace(
                f"<!-- output: {command} -->\n{block}<!-- /output -->",
                f"<!-- output: {command} -->\n{expected}<!-- /output -->",
            )
        else:
            assert block == expected, command
    if request.config.getoption("--update-golden"):
        README.write_text(text, encoding="utf-8")


EXCERPT = re.compile(r"```\n\$ (convcost [^\n]*)\n(.*?)```", re.S)


def test_readme_excerpts_are_lines_of_the_commands_output() -> None:
    """A shown command whose output is cut (``...``) prints every line shown, in order."""
    text = OUTPUT_BLOCK.sub("", README.read_text(encoding="utf-8"))
    excerpts = [(c, b) for c, b in EXCERPT.findall(text) if "\n...\n" in f"\n{b}"]
    assert excerpts
    for command, block in excerpts:
        lines = iter(command_output(*shlex.split(command)[1:]).splitlines())
        for shown in block.splitlines():
            if shown != "...":
                assert shown in lines, (command, shown)  # consumes up to the match: in order
