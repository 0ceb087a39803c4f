"""Hostile input (issue 10): no hang, no traceback, no silent reinterpretation.

The promise, for the command line and the library alike: bad input is one ``Error:`` line
on stderr naming the field and the value, exit code 2, quickly, with nothing lost; a
failure that is not the user's (a full disk, a closed output) is one line and exit code
1; Ctrl-C is one line and exit code 130. One section per class of the issue:

1. numbers that multiply work are bounded before the work;  2. every file goes through
the one guarded reader;  3. names are text, never markup;  4. reject, never reinterpret;
5. very large valid numbers are exact, or refused with the bound;  6. the environment;
7. ``--output`` files survive a failing run;  8. the library checks its arguments.
Hypothesis then drives the command line with arbitrary arguments and files.

Most cases run through click's `CliRunner`. Where the process matters (a closed or full
output, Ctrl-C, a FIFO, a link to ``/dev/zero``, a huge file name) or where a regression
would hang, a real ``python -m convcost`` runs with a timeout: a hang is a failure. No
test measures time otherwise.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import example, given
from hypothesis import strategies as st
from network_strategies import networks

import convcost
from convcost import (
    ConvCostError,
    Counting,
    Rewriting,
    Shape,
    build_preset,
    compare,
    network_cost,
    parse_shape,
)
from convcost.cli import main
from convcost.errors import FileError
from convcost.files import check_output, parse_data, write_atomic
from convcost.limits import MAX_DEPTH, MAX_LAYERS, MAX_TEXT_BYTES
from convcost.render import render_text
from convcost.report import compare_families, compare_layer
from convcost.specs import load_spec, parse_spec

# No colour, width or terminal inherited from the environment running the tests.
QUIET_ENV: dict[str, str | None] = {
    "NO_COLOR": None, "FORCE_COLOR": None, "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None,
    "COLUMNS": None, "PYTHONIOENCODING": None,
}  # fmt: skip
HANG = 10.0  # seconds: a process that has not answered by then hangs (answers take < 1 s)
FORMATS = ("rich", "plain", "markdown", "github", "latex", "rst", "html", "csv", "json")
LONG_NAME = "a" * 100_000


# --- helpers ---------------------------------------------------------------------------


def invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(
        main, list(args), prog_name="convcost", env={**QUIET_ENV, **(env or {})}
    )


def error_lines(stderr: str) -> list[str]:
    """The lines of stderr that are not hints or blank, as a terminal or a line reader
    splits them: at line feeds (``str.splitlines`` would split at U+001E, U+2028 ...)."""
    lines = stderr.replace("\r\n", "\n").split("\n")
    return [line for line in lines if line.strip() and not line.startswith("Hint: ")]


def assert_clean(result: Result, codes: Sequence[int] = (0, 2)) -> None:
    """No exception but `SystemExit`, an exit code among `codes`, no traceback, and on an
    error exactly one ``Error:`` line (``Hint:`` lines may come before it)."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        assert result.exc_info is not None
        shown = "".join(traceback.format_exception(*result.exc_info))
        pytest.fail(f"an exception escaped the command line:\n{shown}")
    assert result.exit_code in codes, (result.exit_code, result.stderr[-500:])
    assert "Traceback" not in result.stderr
    if result.exit_code != 0:
        lines = error_lines(result.stderr)
        assert len(lines) == 1, result.stderr[-2000:]
        assert lines[0].startswith("Error: "), lines
        assert result.stderr.rstrip("\n").split("\n")[-1] == lines[0]  # hints come first


def refused(result: Result, *words: str) -> str:
    """The one error line of a run refused as bad input (exit 2, nothing on stdout), which
    must name each of `words`."""
    assert_clean(result, codes=(2,))
    assert result.stdout == ""
    line = error_lines(result.stderr)[0]
    for word in words:
        assert word in line, (word, line)
    return line


def process(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    stdout: Any = subprocess.PIPE,
    env: dict[str, str] | None = None,
    timeout: float = HANG,
    prefix: Sequence[str] = (),
) -> subprocess.CompletedProcess[bytes]:
    """``python -m convcost ARGS`` as a process; not answering in `timeout` s fails."""
    command = [*prefix, sys.executable, "-m", "convcost", *args]
    environment = {k: v for k, v in os.environ.items() if k not in QUIET_ENV}
    try:
        return subprocess.run(
            command, cwd=cwd, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE,
            env={**environment, **(env or {})}, timeout=timeout, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        shown = " ".join(args)
        pytest.fail(f"convcost {shown[:120]} did not answer in {timeout:.0f} s: it hangs")


def process_error(done: subprocess.CompletedProcess[bytes], code: int) -> str:
    """The one stderr line of a process that failed with exit code `code`."""
    stderr = done.stderr.decode("utf-8", "backslashreplace")
    assert done.returncode == code, (done.returncode, stderr[-2000:])
    assert "Traceback" not in stderr, stderr[-2000:]
    lines = error_lines(stderr)
    assert len(lines) == 1, stderr[-2000:]
    return lines[0]


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


SPEC = '{"input": "3x8x8", "layers": [{"type": "conv", "out_channels": 4, "kernel_size": 3}]}'
PROFILE = '{"name": "mine", "base": "paper", "rules": {"batch_norm": {"per": "output", "ops": 2}}}'


def nested_blocks(levels: int, inner: str = "{type: relu}") -> str:
    """A YAML flow table of `levels` sequential blocks, one inside the other."""
    text = inner
    for _ in range(levels):
        text = f"{{type: sequential, layers: [{text}]}}"
    return text


def alias_bomb_spec(levels: int = 9, fan: int = 10) -> str:
    """A YAML spec whose `fan`**`levels` layers are written in a few hundred bytes."""
    lines = ["input: 3x8x8", "layers:", "- &l0 {type: relu}"]
    for level in range(1, levels + 1):
        items = ", ".join([f"*l{level - 1}"] * fan)
        lines.append(f"- &l{level} {{type: sequential, layers: [{items}]}}")
    return "\n".join(lines) + "\n"


def alias_bomb_value(levels: int = 9, fan: int = 10) -> list[str]:
    """YAML lines of a list whose `fan`**`levels` items are written in a few hundred
    bytes (the billion laughs), as the items of a list under some key."""
    lines = ["- &b0 [" + ", ".join(["x"] * fan) + "]"]
    for level in range(1, levels + 1):
        lines.append(f"- &b{level} [" + ", ".join([f"*b{level - 1}"] * fan) + "]")
    return lines


# --- 1. numbers that multiply work are bounded before the work --------------------------

WORK_LIMITS = [
    pytest.param(["compare", "--stages", "1", "--convs-per-stage", "1000000"],
                 ("convs_per_stage", "100,000"), id="convs-per-stage"),
    pytest.param(["summary", "pyramid", "--param", "convs_per_stage=1000000"],
                 ("convs_per_stage", "100,000"), id="param-convs-per-stage"),
    pytest.param(["compare", "--convs-per-stage", "30000"], ("convs_per_stage",),
                 id="convs-per-stage-times-stages"),
    pytest.param(["compare", "--stages", "100000000000"], ("stages",), id="stages-1e11"),
    pytest.param(["compare", "--stages", "1000000000"], ("stages",), id="stages-1e9"),
    pytest.param(["summary", "pyramid", "--param", "stages=" + "9" * 5000], ("stages",),
                 id="stages-5000-digits"),
    pytest.param(["summary", "resnet18", "--batch-size", "10000000000"], ("10000000000",),
                 id="batch-size"),
    pytest.param(["summary", "resnet18", "--batch-size", "9" * 5000], ("batch",),
                 id="batch-size-5000-digits"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "words"), WORK_LIMITS)
def test_a_number_that_multiplies_work_is_refused_before_the_work(
    args: list[str], words: tuple[str, ...]
) -> None:
    line = process_error(process(args), 2)
    for word in words:
        assert word in line


def test_the_pyramid_bounds_hold_in_the_library() -> None:
    for parameters in ({"stages": 10**11}, {"stages": 1, "convs_per_stage": 10**6}):
        with pytest.raises(ConvCostError):
            convcost.pyramid(**parameters)


SPEC_LIMITS = [
    pytest.param("bomb.yaml", alias_bomb_spec(), f"{MAX_LAYERS:,}", id="alias-bomb-1e9-layers"),
    pytest.param("deep.yaml", f"input: 3x8x8\nlayers: [{nested_blocks(MAX_DEPTH + 1)}]\n",
                 str(MAX_DEPTH), id="blocks-33-deep"),
    pytest.param("deep.json", '{"input": "3x8x8", "layers": ' + "[" * 100_000 + "]" * 100_000
                 + "}", "nested too deeply", id="json-100000-deep"),
    pytest.param("deep.toml", "input = '3x8x8'\nlayers = " + "[" * 100_000 + "]" * 100_000,
                 "nested too deeply", id="toml-100000-deep"),
    pytest.param("deep.yaml", "input: 3x8x8\nlayers: " + "[" * 100_000 + "]" * 100_000,
                 "YAML", id="yaml-100000-deep"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "word"), SPEC_LIMITS)
def test_a_spec_that_multiplies_work_is_refused_before_the_work(
    tmp_path: Path, name: str, text: str, word: str
) -> None:
    line = process_error(process(["summary", str(write(tmp_path / name, text))]), 2)
    assert word in line


def spec_of_layers(count: int) -> str:
    """A YAML spec of exactly `count` nodes (layers and blocks), through aliases: named
    blocks of nine smaller blocks (10, 91, 820 and 7,381 nodes), so that no scope holds
    many nodes of one name (see the test after next)."""
    tables = ["&r {type: relu}"]
    for level in "abcd":
        inner = tables[-1]
        alias = inner.split()[0].replace("&", "*")
        items = ", ".join([inner, *[alias] * 8])
        tables.append(f"&{level} {{type: sequential, name: {level}, layers: [{items}]}}")
    sizes = [1, 10, 91, 820, 7_381]
    lines, defined = ["input: 3x8x8", "layers:"], False
    for size, table in reversed(list(zip(sizes, tables, strict=True))):
        times, count = divmod(count, size)
        for _ in range(times):
            lines.append("- " + (table.split()[0].replace("&", "*") if defined else table))
            defined = True
    return "\n".join(lines) + "\n"


def test_the_layer_limit_is_exact_through_aliases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Aliases are read once but counted at every appearance: 100,000 nodes are read,
    100,001 are refused (by the reader; the shapes, checked after, are not the point)."""
    monkeypatch.setattr("convcost.specs._check_shapes", lambda network: None)
    network = load_spec(write(tmp_path / "at.yaml", spec_of_layers(MAX_LAYERS)))
    assert len(network.layers) == 37  # 13, 4, 8 and 3 blocks, 9 activations
    with pytest.raises(ConvCostError, match=f"more than {MAX_LAYERS:,} layers"):
        load_spec(write(tmp_path / "over.yaml", spec_of_layers(MAX_LAYERS + 1)))


@pytest.mark.parametrize("shared", ["table", "list"])
def test_an_aliased_block_is_refused_where_it_nests_too_deep(tmp_path: Path, shared: str) -> None:
    """A block read once at a shallow depth is refused where an alias puts it too deep."""
    deep = 20
    if shared == "table":
        first = f"&deep {nested_blocks(deep)}"
        again = nested_blocks(MAX_DEPTH - deep + 1, "*deep")
    else:
        first = f"{{type: sequential, layers: &deep [{nested_blocks(deep - 1)}]}}"
        again = nested_blocks(MAX_DEPTH - deep + 1, "{type: sequential, layers: *deep}")
    fine = write(tmp_path / "fine.yaml", f"input: 3x8x8\nlayers:\n- {first}\n")
    assert load_spec(fine).layers
    spec = write(tmp_path / "deep.yaml", f"input: 3x8x8\nlayers:\n- {first}\n- {again}\n")
    with pytest.raises(ConvCostError, match=f"blocks nest more than {MAX_DEPTH} deep"):
        load_spec(spec)


def test_many_nodes_of_one_name_in_one_scope_are_named_quickly(tmp_path: Path) -> None:
    """20,000 unnamed activations in one scope: naming each by trying ``activation``,
    ``activation_1`` ... from the start took n**2/2 steps (minutes at 30,000)."""
    text = "input: 3x8x8\nlayers:\n- &r {type: relu}\n" + "- *r\n" * 19_999
    done = process(["export", str(write(tmp_path / "flat.yaml", text)), "--format", "json"])
    assert done.returncode == 0, done.stderr


def test_a_field_list_behind_aliases_is_checked_once(tmp_path: Path) -> None:
    """A list of 100,000 aliases of a list of 100,000 items is refused without visiting
    its 10**10 items (it hung for minutes)."""
    text = (
        "input: 3x8x8\nlayers:\n- type: conv\n  out_channels: 4\n"
        f"  name: &a [{', '.join(['1'] * 100_000)}]\n"
        f"  kernel_size: [{', '.join(['*a'] * 100_000)}]\n"
    )
    line = process_error(process(["summary", str(write(tmp_path / "wide.yaml", text))]), 2)
    assert "layers[0].name" in line


# --- 2. every file goes through the one guarded reader ---------------------------------

READERS = {
    "spec": lambda name: ["summary", name],
    "spec-to-compare": lambda name: ["compare", name],
    "profile": lambda name: ["conventions", "--convention", name],
    "profile-to-compare": lambda name: ["compare", "--convention", name],
}


def hostile_file(tmp_path: Path, kind: str, suffix: str) -> Path:
    path = tmp_path / f"hostile{suffix}"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "directory":
        path.mkdir()
    elif kind == "oversize":
        write(path, b" " * (MAX_TEXT_BYTES + 1))
    elif kind == "invalid-utf8":
        write(path, b'{"name": "\xff\xfe"}')
    elif kind == "nul":
        write(path, b'{"name": "a\x00b", "input": "3x8x8"}\x00')
    elif kind == "deep":
        write(path, "[" * 100_000 + "]" * 100_000)
    elif kind == "huge-integer":
        write(path, '{"ops": ' + "9" * 5_000 + "}")
    elif kind == "dangling-link":
        path.symlink_to(tmp_path / "nowhere.json")
    elif kind == "empty":
        write(path, b"")
    return path


HOSTILE_KINDS = ("fifo", "dev-zero", "directory", "oversize", "invalid-utf8", "nul", "deep",
                 "huge-integer", "dangling-link", "empty")  # fmt: skip


@pytest.mark.parametrize("kind", HOSTILE_KINDS)
@pytest.mark.parametrize("reader", ["spec", "profile"])
def test_every_file_goes_through_the_guarded_reader(tmp_path: Path, reader: str, kind: str) -> None:
    """A FIFO, a link to /dev/zero, a directory ... as a spec or a profile: one line,
    exit 2, promptly (in a process, so that a FIFO that blocks fails the test)."""
    if kind in ("fifo", "dev-zero", "directory"):
        done = process(READERS[reader](str(hostile_file(tmp_path, kind, ".json"))))
        line = process_error(done, 2)
    else:
        line = refused(invoke(*READERS[reader](str(hostile_file(tmp_path, kind, ".json")))))
    assert "hostile.json" in line


@pytest.mark.parametrize("reader", ["spec-to-compare", "profile-to-compare"])
@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_files_that_never_end_are_refused_by_every_command(
    tmp_path: Path, reader: str, kind: str
) -> None:
    done = process(READERS[reader](str(hostile_file(tmp_path, kind, ".yaml"))))
    assert "is not a regular file" in process_error(done, 2)


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".toml"])
def test_a_profile_nested_deeply_is_refused(tmp_path: Path, suffix: str) -> None:
    text = {".json": "[" * 100_000 + "]" * 100_000, ".yaml": "[" * 100_000 + "]" * 100_000,
            ".toml": "a = " + "[" * 100_000 + "]" * 100_000}[suffix]  # fmt: skip
    refused(invoke("conventions", "--convention", str(write(tmp_path / f"p{suffix}", text))))


def test_a_spec_alias_bomb_in_a_field_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["input: 3x8x8", "layers: [{type: relu}]", "name:", *alias_bomb_value()]
    line = process_error(process(["summary", str(write(tmp_path / "s.yaml", "\n".join(lines)))]), 2)
    assert "name" in line


def test_a_profile_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["name: mine", "base: paper", "peer:", *alias_bomb_value()]
    path = write(tmp_path / "p.yaml", "\n".join(lines) + "\n")
    assert "peer" in process_error(process(["conventions", "--convention", str(path)]), 2)


# --- 3. names are text, never markup -----------------------------------------------------

MARKUP_SPEC = {
    "name": "net[/]",
    "input": "3x8x8",
    "layers": [
        {"type": "sequential", "name": "[bold]", "layers": [
            {"type": "conv", "name": "[red]net", "out_channels": 4, "kernel_size": 3}]},
        {"type": "conv", "name": "[/]", "out_channels": 4, "kernel_size": 1},
    ],
}  # fmt: skip


def escaped(text: str, output_format: str) -> str:
    """How `text` (brackets only) is written in `output_format`: markdown escapes."""
    if output_format in ("markdown", "github"):
        return text.replace("[", "\\[").replace("]", "\\]")
    return text


@pytest.mark.parametrize("output_format", FORMATS)
def test_names_with_markup_print_as_written(tmp_path: Path, output_format: str) -> None:
    spec = str(write(tmp_path / "markup.json", json.dumps(MARKUP_SPEC)))
    result = invoke("summary", spec, "--format", output_format)
    assert_clean(result, codes=(0,))
    if output_format == "json":
        document = json.loads(result.stdout)
        assert document["network"]["name"] == "net[/]"
        assert {row["name"] for row in document["rows"]} == {"[bold].[red]net", "[/]"}
    else:
        titled = ("net[/]",) if output_format != "csv" else ()  # CSV has no title
        for name in (*titled, "[bold].[red]net", "[/]"):
            assert escaped(name, output_format) in result.stdout, name
    result = invoke("compare", spec, "--format", output_format)
    assert_clean(result, codes=(0,))
    if output_format != "json":
        assert escaped("[bold]", output_format) in result.stdout


@pytest.mark.parametrize("output_format", ["rich", "plain", "latex", "html", "csv", "json"])
def test_profile_names_with_markup_print_as_written(tmp_path: Path, output_format: str) -> None:
    profile = {"name": "[red]mine[/]", "description": "net[/] [bold]", "base": "paper"}
    path = str(write(tmp_path / "p.json", json.dumps(profile)))
    result = invoke("conventions", "--convention", path, "--format", output_format)
    assert_clean(result, codes=(0,))
    assert "[red]mine[/]" in result.stdout
    assert "net[/] [bold]" in result.stdout
    result = invoke("compare", "--convention", path, "--format", output_format)
    assert_clean(result, codes=(0,))
    if output_format not in ("json", "csv"):  # CSV names its columns macs_red_mine
        assert "[red]mine[/]" in result.stdout


def test_a_name_with_control_characters_is_written_as_written_to_csv(tmp_path: Path) -> None:
    spec = dict(MARKUP_SPEC, layers=[{"type": "conv", "name": "\x1b[31mred", "out_channels": 4,
                                      "kernel_size": 3}])  # fmt: skip
    result = invoke("summary", str(write(tmp_path / "esc.json", json.dumps(spec))), "--format",
                    "csv")  # fmt: skip
    assert_clean(result, codes=(0,))
    assert "\x1b[31mred" in result.stdout


CONTROL_CHARACTERS = ["\x0b", "\x0c", "\x1b]0;title\x07", "\x1e", "\x85", "\u2028"]


@pytest.mark.parametrize("character", CONTROL_CHARACTERS)
def test_an_error_line_shows_control_characters_escaped(character: str) -> None:
    for args in (["compare", "--batch-norm", f"x{character}y"], ["compare", "0", character]):
        line = refused(invoke(*args))
        assert character not in line, (args, line)


# --- 4. reject, never reinterpret -------------------------------------------------------

REJECTED_LAYER_ARGUMENTS = [
    pytest.param(["3x224x", "-o", "8"], "size 3 is missing", id="trailing-x"),
    pytest.param(["3xx224x224", "-o", "8"], "size 2 is missing", id="double-x"),
    pytest.param(["x3x224", "-o", "8"], "size 1 is missing", id="leading-x"),
    pytest.param(["3x224x224x", "-o", "8"], "is missing", id="trailing-x-3d"),
    pytest.param(["3x2_24x224", "-o", "8"], "2_24", id="underscore-in-shape"),
    pytest.param(["３x224x224", "-o", "8"], "３", id="fullwidth-digit-in-shape"),
    pytest.param(["3x224x224", "-o", "8", "-k", "3_3"], "3_3", id="kernel-underscore"),
    pytest.param(["3x224x224", "-o", "8", "-k", "٣"], "٣", id="kernel-arabic-indic"),
    pytest.param(["3x224x224", "-o", "8", "-k", "1e1"], "1e1", id="kernel-exponent"),
    pytest.param(["3x224x224", "-o", "8", "-k", "3.0"], "3.0", id="kernel-decimal"),
    pytest.param(["3x224x224", "-o", "8", "-k", "3,"], "''", id="kernel-empty-axis"),
    pytest.param(["3x224x224", "-o", "0x10"], "0x10", id="out-hex"),
    pytest.param(["3x224x224", "-o", "8", "-s", "2_0"], "2_0", id="stride-underscore"),
    pytest.param(["3x224x224", "-o", "8", "-p", "1_1"], "1_1", id="padding-underscore"),
    pytest.param(["3x224x224", "-o", "8", "-d", "١"], "١", id="dilation-arabic-indic"),
    pytest.param(["3x224x224", "-o", "8", "-g", ""], "''", id="groups-empty"),
    pytest.param(["3x224x224", "-o", "-8"], "-8", id="out-negative"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "word"), REJECTED_LAYER_ARGUMENTS)
def test_the_command_line_rejects_what_it_would_reinterpret(args: list[str], word: str) -> None:
    refused(invoke("layer", *args), word)


@pytest.mark.parametrize(
    ("field", "value"),
    [("input", "3x224x"), ("input", "3xx224x224"), ("input", "3x2_24x224"), ("input", "٣x8x8"),
     ("kernel_size", "3_3"), ("kernel_size", 3.0), ("kernel_size", True), ("bias", "no"),
     ("out_channels", "8"), ("padding", "1_1")],
)  # fmt: skip
def test_a_spec_file_rejects_what_it_would_reinterpret(
    tmp_path: Path, field: str, value: object
) -> None:
    layer: dict[str, object] = {"type": "conv", "out_channels": 4, "kernel_size": 3}
    spec: dict[str, object] = {"input": "3x224x224", "layers": [layer]}
    if field == "input":
        spec["input"] = value
    else:
        layer[field] = value
    refused(invoke("summary", str(write(tmp_path / "spec.json", json.dumps(spec)))), field)


LIBRARY_REINTERPRETATIONS: list[tuple[str, Callable[[], object], str]] = [
    ("parse_shape-trailing-x", lambda: parse_shape("3x224x"), "missing"),
    ("parse_shape-double-x", lambda: parse_shape("3xx224x224"), "missing"),
    ("parse_shape-underscore", lambda: parse_shape("3x2_24x224"), "2_24"),
    ("parse_shape-channels_last-text", lambda: parse_shape("224x224x3", channels_last="no"),  # type: ignore[arg-type]
     "channels_last"),
    ("compare-keep_first-text", lambda: compare(build_preset("vgg-cifar"), keep_first="no"),  # type: ignore[arg-type]
     "keep_first"),
    ("rewrite-keep_first-text",
     lambda: convcost.rewrite(build_preset("vgg-cifar"), "depthwise_separable",
                              keep_first="no"),  # type: ignore[arg-type]
     "keep_first"),
    ("Rewriting-keep_first-text", lambda: Rewriting(keep_first="no"), "keep_first"),  # type: ignore[arg-type]
    ("Counting-flops_bias-text", lambda: Counting(flops_bias="no"), "flops_bias"),  # type: ignore[arg-type]
    ("flops-float", lambda: convcost.flops(1.5), "macs"),  # type: ignore[arg-type]
    ("flops-negative", lambda: convcost.flops(-5), "macs"),
    ("flops-bool", lambda: convcost.flops(True), "macs"),
    ("flops-count_bias-text", lambda: convcost.flops(5, 1, count_bias="no"), "count_bias"),  # type: ignore[arg-type]
    ("Conv-bias-text", lambda: convcost.Conv(out_channels=4, kernel_size=3, bias="no"), "bias"),  # type: ignore[arg-type]
    ("Conv-kernel-bool", lambda: convcost.Conv(out_channels=4, kernel_size=True), "kernel_size"),
    ("Shape-bool", lambda: Shape(True, (8, 8)), "channels"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "word"), [pytest.param(call, word, id=name) for name, call, word in
                       LIBRARY_REINTERPRETATIONS]
)  # fmt: skip
def test_the_library_rejects_what_it_would_reinterpret(
    call: Callable[[], object], word: str
) -> None:
    with pytest.raises(ConvCostError, match=word):
        call()


# --- 5. very large valid numbers: exact, or refused with the bound ----------------------


def cli_json(*args: str) -> Any:
    result = invoke(*args, "--format", "json")
    assert_clean(result, codes=(0,))
    return json.loads(result.stdout)


def test_a_huge_base_channels_is_exact() -> None:
    network = convcost.pyramid(base_channels=10**17, stages=1)
    expected = json.loads(render_text(compare_families(network), "json"))
    assert cli_json("compare", "--base-channels", str(10**17), "--stages", "1") == expected


def test_channels_beyond_the_bound_are_refused_with_the_bound() -> None:
    refused(invoke("compare", "--base-channels", str(10**17), "--stages", "5"), "10**18")
    refused(invoke("compare", "--base-channels", str(10**18 - 1), "--stages", "2"), "10**18")


def test_a_huge_out_channels_is_exact() -> None:
    shape = Shape(10**18, (10**18, 10**18))
    expected = compare_layer(shape, out_channels=10**18, kernel_size=3)
    document = cli_json("layer", "1000000000000000000x1000000000000000000x1000000000000000000",
                        "-o", str(10**18), "-k", "3")  # fmt: skip
    assert document == json.loads(render_text(expected, "json"))


def test_the_largest_classes_below_the_bound_are_exact() -> None:
    classes = 10**18 - 1
    network = build_preset("pyramid", head="global", classes=classes)
    document = cli_json("summary", "pyramid", "--param", "head=global", "--classes", str(classes))
    assert document["totals"]["params"] == network_cost(network).totals.params


def test_classes_at_the_bound_are_accepted() -> None:
    cli_json("summary", "pyramid", "--param", "head=global", "--classes", str(10**18))


def test_classes_beyond_the_bound_are_refused_with_the_bound() -> None:
    refused(invoke("summary", "resnet18", "--classes", "9" * 400), "10**18")
    refused(invoke("compare", "--base-channels", str(10**19)), "10**18")


@pytest.mark.parametrize(
    "args",
    [["mobilenet-v1", "--width", "1e300"], ["mobilenet-v1", "--width", "9" * 400],
     ["resnet18", "--resolution", "9" * 400], ["resnet18", "--classes", "9" * 5000],
     ["mobilenet-v1", "--width", "inf"], ["mobilenet-v1", "--width", "nan"]],
)  # fmt: skip
def test_huge_preset_parameters_are_refused(args: list[str]) -> None:
    refused(invoke("summary", *args), args[1].removeprefix("--"))


def test_huge_sizes_and_batches_are_exact_in_the_memory_figures() -> None:
    """The memory note once converted counts to float: OverflowError."""
    for output_format in ("plain", "json"):
        result = invoke("summary", "resnet18", "--resolution", str(10**18 - 1), "--batch-size",
                        str(10**9), "--memory", "--format", output_format)  # fmt: skip
        assert_clean(result, codes=(0,))


def upsample_spec(count: int, factor: int) -> str:
    layers = ", ".join([f'{{"type": "upsample", "scale_factor": {factor}}}'] * count)
    return f'{{"input": "1x1x1", "layers": [{layers}]}}'


def test_an_upsample_chain_within_the_bound_is_exact(tmp_path: Path) -> None:
    spec = str(write(tmp_path / "up.json", upsample_spec(59, 2)))
    document = cli_json("summary", spec)
    assert document["output_shapes"] == [[1, 2**59, 2**59]]


@pytest.mark.parametrize(("count", "factor"), [(60, 2), (2, 2**62), (1, 2**62), (3, 10**9)])
def test_an_upsample_chain_beyond_the_bound_is_refused_with_the_bound(
    tmp_path: Path, count: int, factor: int
) -> None:
    refused(invoke("summary", str(write(tmp_path / "up.json", upsample_spec(count, factor)))),
            "10**18")  # fmt: skip


@pytest.mark.parametrize(
    ("ops", "word"), [("9" * 400, "ops"), ("9" * 5_000, "4300"), ("1e400", "ops")]
)
def test_a_profile_with_huge_ops_is_refused(tmp_path: Path, ops: str, word: str) -> None:
    profile = PROFILE.replace('"ops": 2', f'"ops": {ops}')
    refused(invoke("conventions", "--convention", str(write(tmp_path / "p.json", profile))), word)


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".toml"])
def test_a_number_of_5000_digits_in_a_spec_is_refused(tmp_path: Path, suffix: str) -> None:
    digits = "9" * 5_000
    text = {".json": SPEC.replace('"out_channels": 4', f'"out_channels": {digits}'),
            ".yaml": f"input: 3x8x8\nlayers: [{{type: conv, out_channels: {digits}, "
                     "kernel_size: 3}]\n",
            ".toml": f'input = "3x8x8"\n[[layers]]\ntype = "conv"\nout_channels = {digits}\n'
                     "kernel_size = 3\n"}[suffix]  # fmt: skip
    refused(invoke("summary", str(write(tmp_path / f"s{suffix}", text))))


@pytest.mark.parametrize("shape", ["3x" + "9" * 5_000 + "x8", "9" * 400, "3x1" + "0" * 5_000])
def test_a_shape_of_thousands_of_digits_is_refused(shape: str) -> None:
    refused(invoke("layer", shape, "-o", "4"), "shape")
    refused(invoke("summary", "resnet18", "--input", shape), "shape")


def test_a_size_of_thousands_of_leading_zeros_is_its_value() -> None:
    """Python's int() refuses 5,000 digits even when they are zeros: read them first."""
    assert parse_shape("3x8x" + "0" * 5_000 + "8") == Shape(3, (8, 8))
    assert_clean(invoke("layer", "3x8x" + "0" * 5_000 + "8", "-o", "4"), codes=(0,))


# --- 6. the environment -------------------------------------------------------------------


def test_a_closed_standard_output_is_one_line_and_exit_1() -> None:
    for args in (["layer", "3x8x8", "-o", "4"], ["summary", "resnet18", "--format", "json"],
                 ["compare", "--format", "rich"]):  # fmt: skip
        done = process(args, prefix=["sh", "-c", 'exec "$0" "$@" >&-'])
        assert "closed" in process_error(done, 1)


def test_a_closed_standard_output_does_not_stop_output_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    done = process(["summary", "resnet18", "--output", str(target)],
                   prefix=["sh", "-c", 'exec "$0" "$@" >&-'])  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert target.read_text(encoding="utf-8").startswith("resnet18")


@pytest.mark.parametrize("output_format", ["plain", "rich", "json"])
def test_a_full_disk_is_one_line_and_exit_1(output_format: str) -> None:
    with Path("/dev/full").open("wb") as full:
        done = process(["summary", "resnet50", "--format", output_format], stdout=full)
    assert "No space left" in process_error(done, 1)


def test_an_output_encoding_without_the_characters_is_one_line_and_exit_1() -> None:
    done = process(["compare", "--format", "rich"], env={"PYTHONIOENCODING": "ascii"})
    assert "PYTHONIOENCODING" in process_error(done, 1)


def test_a_reader_that_goes_away_gives_no_traceback() -> None:
    command = [sys.executable, "-m", "convcost", "summary", "resnet50", "--by-type"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        child.stdout.close()
        stderr = child.stderr.read().decode()
        child.wait(timeout=HANG)
    assert "Traceback" not in stderr
    assert len(error_lines(stderr)) <= 1


@pytest.mark.parametrize("after", ["click.types", "convcost.cli", "convcost.network"])
def test_ctrl_c_during_start_up_is_one_line_and_exit_130(after: str) -> None:
    """The interrupt arrives once `after` is imported (``-X importtime`` says when)."""
    command = [sys.executable, "-X", "importtime", "-m", "convcost", "summary", "resnet50",
               "--by-type", "--format", "json"]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as child:
        assert child.stderr is not None
        for raw in child.stderr:  # "import time: self | cumulative | module"
            if raw.decode().split("|")[-1].strip() == after:
                break
        child.send_signal(signal.SIGINT)
        rest = child.stderr.read().decode()
        code = child.wait(timeout=HANG)
    lines = [line for line in rest.splitlines() if line.strip() and "import time:" not in line]
    assert code == 130, (code, rest[-2000:])
    assert lines == ["Aborted."], rest[-2000:]


@pytest.mark.parametrize(
    "args",
    [["summary", LONG_NAME + ".json"], ["compare", LONG_NAME], ["summary", "a" * 300 + ".json"],
     ["compare", "a" * 300], ["summary", "resnet18", "--output", LONG_NAME],
     ["summary", "resnet18", "--output", "a" * 300], ["compare", "--convention",
                                                      LONG_NAME + ".json"]],
    ids=["spec", "preset", "spec-300", "preset-300", "output", "output-300", "profile"],
)  # fmt: skip
def test_a_huge_file_name_is_one_line_and_exit_2(tmp_path: Path, args: list[str]) -> None:
    line = process_error(process(args, cwd=tmp_path), 2)
    assert len(line) < 400  # the name is shown cut
    assert list(tmp_path.iterdir()) == []


def test_a_huge_profile_name_without_a_suffix_is_exit_2() -> None:
    process_error(process(["compare", "--convention", LONG_NAME]), 2)


SURROGATE_FILES = {
    "network": ("s.json", SPEC.replace('"input"', '"name": "n\\ud800", "input"')),
    "layer": ("s.json", SPEC.replace('"type": "conv"', '"type": "conv", "name": "c\\udfff"')),
    "profile": ("p.json", PROFILE.replace('"mine"', '"mi\\ud800ne"')),
}


@pytest.mark.parametrize("where", list(SURROGATE_FILES))
def test_a_lone_surrogate_in_a_json_name_is_refused(tmp_path: Path, where: str) -> None:
    name, text = SURROGATE_FILES[where]
    path = str(write(tmp_path / name, text))
    args = ["conventions", "--convention", path] if where == "profile" else ["summary", path]
    assert "surrogate" in process_error(process(args), 2)


def test_a_surrogate_pair_in_a_json_name_is_one_character(tmp_path: Path) -> None:
    spec = SPEC.replace('"input"', '"name": "net \\ud83d\\ude00", "input"')
    result = invoke("summary", str(write(tmp_path / "s.json", spec)), "--format", "plain")
    assert_clean(result, codes=(0,))
    assert "net \U0001f600" in result.stdout


def test_lone_surrogates_are_refused_in_every_data_format() -> None:
    for text, data_format in (('{"a": "\\ud800"}', "json"), ('a: "\\uD800"', "yaml"),
                              ('{"\\udc00": 1}', "json")):  # fmt: skip
        with pytest.raises(FileError, match="surrogate"):
            parse_data(text, data_format, source="<text>")  # type: ignore[arg-type]


# --- 7. --output files survive a failing run ---------------------------------------------

DOCUMENT_COMMANDS = [
    pytest.param(["compare"], id="compare"),
    pytest.param(["summary", "vgg-cifar"], id="summary"),
    pytest.param(["layer", "3x15x15", "-o", "10"], id="layer"),
    pytest.param(["presets"], id="presets"),
    pytest.param(["export", "vgg-cifar"], id="export"),
    pytest.param(["conventions", "vgg-cifar"], id="conventions"),
]


@pytest.mark.parametrize("args", DOCUMENT_COMMANDS)
def test_every_document_command_writes_its_output_file(tmp_path: Path, args: list[str]) -> None:
    target = tmp_path / "out.txt"
    shown = invoke(*args)
    assert_clean(shown, codes=(0,))
    written = invoke(*args, "--output", str(target))
    assert_clean(written, codes=(0,))
    assert written.stdout == ""
    assert target.read_text(encoding="utf-8") == shown.stdout
    assert [path.name for path in tmp_path.iterdir()] == ["out.txt"]  # no temporary left
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~current_umask()


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


FAILING_RUNS = [
    pytest.param(["summary", "{bad}"], id="bad-spec"),
    pytest.param(["summary", "{missing}"], id="missing-spec"),
    pytest.param(["layer", "3x8x", "-o", "4"], id="bad-shape"),
    pytest.param(["compare", "--stages", "1000000000"], id="bad-option"),
    pytest.param(["compare", "--convention", "{bad}"], id="bad-profile"),
    pytest.param(["compare", "--no-such-option"], id="usage"),
]


@pytest.mark.parametrize("args", FAILING_RUNS)
def test_a_failing_run_leaves_an_existing_output_untouched(tmp_path: Path, args: list[str]) -> None:
    target = write(tmp_path / "out.txt", b"precious\x00bytes\n")
    bad = write(tmp_path / "bad.json", '{"input": "3x8x", "layers": []}')
    given = [arg.format(bad=bad, missing=tmp_path / "missing.json") for arg in args]
    refused(invoke(*given, "--output", str(target)))
    assert target.read_bytes() == b"precious\x00bytes\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bad.json", "out.txt"]


@pytest.mark.parametrize("how", ["same-name", "relative", "symlink", "hard-link"])
def test_the_output_never_replaces_the_file_being_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    spec = write(tmp_path / "net.toml", 'input = "3x8x8"\n\n[[layers]]\ntype = "relu"\n')
    before = spec.read_bytes()
    monkeypatch.chdir(tmp_path)
    output = {"same-name": str(spec), "relative": "./net.toml", "symlink": "link.toml",
              "hard-link": "hard.toml"}[how]  # fmt: skip
    if how == "symlink":
        (tmp_path / "link.toml").symlink_to(spec)
    if how == "hard-link":
        (tmp_path / "hard.toml").hardlink_to(spec)
    refused(invoke("export", str(spec), "--output", output), "being read")
    assert spec.read_bytes() == before


def test_the_output_never_replaces_the_profile_being_read(tmp_path: Path) -> None:
    profile = write(tmp_path / "p.json", PROFILE)
    refused(invoke("compare", "--convention", str(profile), "--output", str(profile)),
            "being read")  # fmt: skip
    assert profile.read_text(encoding="utf-8") == PROFILE


def test_an_output_through_a_link_replaces_the_file_and_keeps_the_link(tmp_path: Path) -> None:
    real = write(tmp_path / "real.txt", "old\n")
    real.chmod(0o640)
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    assert_clean(invoke("presets", "--output", str(link)), codes=(0,))
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8") == invoke("presets").stdout
    assert stat.S_IMODE(real.stat().st_mode) == 0o640  # an existing file keeps its mode


@pytest.mark.parametrize("kind", ["fifo", "directory", "missing-directory"])
def test_an_output_that_is_not_a_regular_file_is_refused(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "out"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "directory":
        target.mkdir()
    else:
        target = tmp_path / "no" / "out"
    refused(invoke("presets", "--output", str(target)))
    if kind == "fifo":
        assert stat.S_ISFIFO(target.stat().st_mode)


def test_write_atomic_leaves_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = write(tmp_path / "out.txt", "old\n")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(check_output(target), "new \ud800 text")  # fails half-way
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [path.name for path in tmp_path.iterdir()] == ["out.txt"]


# --- 8. the library checks its arguments -------------------------------------------------

DATA = Path(__file__).resolve().parent / "data"
_NETWORK = build_preset("vgg-cifar")
_COST = network_cost(_NETWORK)
_SHAPE = Shape(3, (8, 8))

# Each public function with valid keyword arguments; every argument is then replaced, in
# turn, by values of the wrong kind.
VALID_CALLS: dict[str, tuple[Callable[..., object], dict[str, object]]] = {
    "flops": (convcost.flops, {"macs": 10, "bias_adds": 2, "count_bias": False}),
    "layer_cost": (convcost.layer_cost, {"layer": convcost.Conv(out_channels=4, kernel_size=3),
                                          "input_shape": _SHAPE}),
    "join_cost": (convcost.join_cost, {"layer": convcost.Add(), "input_shapes": (_SHAPE, _SHAPE)}),
    "memory_estimate": (convcost.memory_estimate, {"cost": _COST, "dtype": "float32",
                                                   "batch_size": 1}),
    "network_cost": (network_cost, {"network": _NETWORK}),
    "compare": (compare, {"network": _NETWORK, "families": ("regular",), "bias": "pointwise",
                          "keep_first": False, "mid_channels": "min"}),
    "rewrite": (convcost.rewrite, {"network": _NETWORK, "family": "depthwise_separable",
                                   "bias": "pointwise", "keep_first": False,
                                   "mid_channels": "min"}),
    "summary": (convcost.summary, {"network": _NETWORK, "family": "regular",
                                   "rewriting": Rewriting(), "counting": Counting(),
                                   "by_type": False, "dtype": "float32", "batch_size": 1,
                                   "memory_column": False}),
    "compare_families": (compare_families, {"network": _NETWORK, "families": ("regular",),
                                            "rewriting": Rewriting(), "counting": Counting(),
                                            "by_layer": False, "by_type": False}),
    "compare_layer": (compare_layer, {"input_shape": _SHAPE, "out_channels": 4,
                                      "kernel_size": 3, "stride": 1, "padding": 0,
                                      "dilation": 1, "groups": 1, "bias": True,
                                      "depth_multiplier": 1, "rewriting": Rewriting(),
                                      "counting": Counting()}),
    "parse_shape": (parse_shape, {"text": "3x8x8", "channels_last": False}),
    "build_preset": (build_preset, {"name": "vgg-cifar"}),
    "pyramid": (convcost.pyramid, {"stages": 2, "convs_per_stage": 1, "base_channels": 8,
                                   "kernel_size": 3, "bias": False, "batch_norm": False}),
    "load_network": (convcost.load_network, {"source": "vgg-cifar", "parameters": {},
                                             "input_shape": None}),
    "dump_spec": (convcost.dump_spec, {"network": _NETWORK, "format": "toml"}),
    "load_spec": (load_spec, {"path": "missing.toml"}),
    "parse_spec": (parse_spec, {"text": SPEC, "format": "json"}),
    "count": (convcost.count, {"network_cost": _COST, "profile": "paper"}),
    "load_profile": (convcost.load_profile, {"source": "paper"}),
    "Comparison.ratio": (compare(_NETWORK).ratio, {"family": "regular", "metric": "macs"}),
    "Network": (convcost.Network, {"input_shape": _SHAPE, "layers": (convcost.Flatten(),),
                                   "name": "n", "outputs": (), "naming": "scoped",
                                   "group_depth": 1}),
    "Rewriting": (Rewriting, {"bias": "pointwise", "keep_first": False, "mid_channels": "min"}),
    "Counting": (Counting, {"convention": Counting().convention, "flops": "none",
                            "flops_bias": False}),
    "from_onnx": (convcost.from_onnx, {"source": str(DATA / "onnx" / "resnet18.onnx"),
                                       "input_shape": None, "strict": False}),
    "from_keras": (convcost.from_keras, {"source": str(DATA / "keras" / "twin.keras"),
                                         "input_shape": None, "strict": False}),
    "get_device": (convcost.get_device, {"name": "l4"}),
    "load_device": (convcost.load_device, {"source": "peak=1T,bandwidth=1G"}),
}  # fmt: skip
if importlib.util.find_spec("torch") is not None:  # PyTorch models need torch
    import torch

    VALID_CALLS["from_torch"] = (
        convcost.from_torch,
        {"module": torch.nn.Conv2d(3, 4, 3), "input_shape": _SHAPE, "strict": False},
    )

WRONG_KINDS: dict[str, object] = {"None": None, "text": "x", "number": 1.5, "bool": True}
ALSO_VALID = {("Network", "name", "None")}  # a network without a name
# What a message says for an argument, when not its name: the thing it names.
SAID: dict[tuple[str, str], str] = {
    ("parse_shape", "text"): "shape", ("build_preset", "name"): "preset",
    ("load_profile", "source"): "profile", ("load_device", "source"): "device",
    ("from_torch", "input_shape"): "shape",  # text is read as a shape
    ("load_spec", "path"): "",  # every text is a file name; a missing one is named
}  # fmt: skip


def library_cases() -> Iterator[Any]:
    for function, (_, valid) in VALID_CALLS.items():
        for argument, good in valid.items():
            for kind, bad in WRONG_KINDS.items():
                if type(bad) is type(good) or (kind == "None" and good is None):
                    continue
                if kind == "text" and isinstance(good, str):
                    continue
                if (function, argument, kind) in ALSO_VALID:
                    continue
                yield pytest.param(function, argument, bad, id=f"{function}-{argument}-{kind}")


@pytest.mark.parametrize(("function", "argument", "bad"), list(library_cases()))
def test_every_public_function_checks_its_arguments(
    function: str, argument: str, bad: object
) -> None:
    call, valid = VALID_CALLS[function]
    with pytest.raises(ConvCostError) as caught:
        call(**{**valid, argument: bad})
    assert str(caught.value).count("\n") == 0
    assert SAID.get((function, argument), argument) in str(caught.value)


def test_the_table_covers_every_public_function() -> None:
    functions = {
        name for name in convcost.__all__
        if inspect.isfunction(getattr(convcost, name, None))
    }  # fmt: skip
    if importlib.util.find_spec("torch") is None:
        functions.discard("from_torch")  # its valid call needs a module
    assert functions <= set(VALID_CALLS)


def test_the_valid_calls_are_valid() -> None:
    for function, (call, valid) in VALID_CALLS.items():
        if function == "load_spec":
            with pytest.raises(FileError, match="no such file"):
                call(**valid)
        else:
            call(**valid)


# --- fuzz: arbitrary arguments ------------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Files a fuzzed command line may name (module-scoped, so Hypothesis may use it)."""
    base = tmp_path_factory.mktemp("fuzz")
    return {
        "spec.json": str(write(base / "spec.json", SPEC)),
        "bad.json": str(write(base / "bad.json", '{"input": "3x8x8", "layers": [{}]}')),
        "profile.json": str(write(base / "profile.json", PROFILE)),
        "markup.json": str(write(base / "markup.json", json.dumps(MARKUP_SPEC))),
        "spec.yaml": str(write(base / "spec.yaml", "input: 3x8x8\nlayers: [{type: relu}]\n")),
    }


COMMANDS = ("compare", "summary", "layer", "presets", "export", "conventions")
OPTIONS = sorted({opt for command in main.commands.values() for p in command.params
                  for opt in p.opts if opt.startswith("-") and opt != "--output"})  # fmt: skip
NUMBERS = ("0", "1", "2", "3", "-1", "4", "1e3", "3_3", "٣", " 2", "0.5", "inf", "nan", "",
           "9" * 30, "9" * 5_000, str(10**18), str(2**63), "0x10", "+3", "3,1",
           "0:1,1:0")  # fmt: skip
WORDS = ("pyramid", "vgg-cifar", "resnet18", "mobilenet-v1", "json", "csv", "rich", "markdown",
         "paper", "thop", "regular", "depthwise", "spatial", "3x8x8", "16x32x32", "hwc:8x8x3",
         "3x224x", "3xx8x8", "[red]", "net[/]", "width=0.5", "stages=2", "convs_per_stage=2",
         "=", "head=global", "none", "same", "valid", "min", "\x00", "\u2028",
         "\ud800")  # fmt: skip


def argument(files: dict[str, str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(OPTIONS),
        st.sampled_from(NUMBERS),
        st.sampled_from(WORDS),
        st.sampled_from(sorted(files.values())),
        st.text(max_size=12),
    )


@contextlib.contextmanager
def in_a_new_folder() -> Iterator[Path]:
    """Run in a new empty folder (what a fuzzed command writes lands there)."""
    before = Path.cwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        try:
            yield Path(folder)
        finally:
            os.chdir(before)


@given(data=st.data())
def test_any_command_line_is_answered_or_refused_in_one_line(
    data: st.DataObject, files: dict[str, str]
) -> None:
    command = data.draw(st.sampled_from(COMMANDS))
    args = data.draw(st.lists(argument(files), max_size=8))
    with in_a_new_folder():
        assert_clean(invoke(command, *args))


@given(text=st.text(max_size=40))
@example("3x224x")
@example("3xx224x224")
@example(" 3 x 8 ")
@example("hwc:3x8x")
@example("3×8×8")
def test_any_shape_text_is_read_as_written_or_refused(text: str) -> None:
    """Accepted text holds exactly the sizes of the shape, each a run of ASCII digits."""
    try:
        shape = parse_shape(text)
    except ConvCostError:
        return
    written = text.split(":", 1)[-1]
    digits = "".join(char if char in "0123456789" else " " for char in written).split()
    assert sorted(int(piece) for piece in digits) == sorted((shape.channels, *shape.spatial))
    assert parse_shape(str(shape)) == shape


@given(text=st.text(max_size=25))
@example("3_3")
@example("٣")
@example(" 3 ")
@example("+3")
@example("0")
@example("1e1")
def test_a_count_is_ascii_digits_or_refused(text: str) -> None:
    result = invoke("layer", "3x8x8", "-o", "2", "-g", text)
    assert_clean(result)
    if result.exit_code == 0:
        assert text.strip().isascii()
        assert text.strip().isdigit()


# --- fuzz: arbitrary files ------------------------------------------------------------------

SUFFIXES = (".json", ".toml", ".yaml")
HOSTILE_BYTES = [
    b"\x00" * 10, b"\xff\xfe\x00", b"\xef\xbb\xbf" + SPEC.encode(), SPEC.encode() + b"\x00",
    b"[" * 1_200, b"{" * 1_200, b"a = " + b"[" * 1_200, b"- " * 1_200,
    b'{"input": "3x8x8", "layers": ' + b"9" * 5_000 + b"}",
    alias_bomb_spec().encode(), "\n".join(["a:", *alias_bomb_value()]).encode(),
    b'{"name": "\\ud800", "input": "3x8x8", "layers": []}', b"input: !!python/object:os.system x",
    b"&a [*a]", b"a: &a [*a]\n", b"input: 3x8x8\nlayers: &l [{type: sequential, layers: *l}]\n",
]  # fmt: skip


def hostile_examples(test: Callable[..., None]) -> Callable[..., None]:
    for data in HOSTILE_BYTES:
        for suffix in SUFFIXES:
            test = example(data=data, suffix=suffix)(test)
    return test


@hostile_examples
@given(data=st.binary(max_size=300), suffix=st.sampled_from(SUFFIXES))
def test_a_spec_file_of_any_bytes_is_read_or_refused_in_one_line(data: bytes, suffix: str) -> None:
    with in_a_new_folder():
        Path(f"spec{suffix}").write_bytes(data)
        assert_clean(invoke("summary", f"spec{suffix}"))


@hostile_examples
@given(data=st.binary(max_size=300), suffix=st.sampled_from(SUFFIXES))
def test_a_profile_file_of_any_bytes_is_read_or_refused_in_one_line(
    data: bytes, suffix: str
) -> None:
    with in_a_new_folder():
        Path(f"p{suffix}").write_bytes(data)
        assert_clean(invoke("conventions", "--convention", f"p{suffix}"))


SPEC_KEYS = ("input", "layers", "name", "type", "out_channels", "kernel_size", "stride",
             "padding", "dilation", "groups", "bias", "scale_factor", "out_features", "inputs",
             "outputs", "body", "shortcut", "branches", "defaults", "channels_last", "naming",
             "group_depth", "function", "output_size", "p", "mid_channels", "merge")  # fmt: skip
LAYER_TYPES = ("conv", "conv_transpose", "depthwise_separable_conv", "spatially_separable_conv",
               "max_pool", "avg_pool", "adaptive_avg_pool", "global_avg_pool", "linear",
               "batch_norm", "relu", "flatten", "dropout", "zero_pad", "upsample", "add",
               "concat", "sequential", "residual", "parallel", "Conv2d", "dense")  # fmt: skip
PROFILE_KEYS = ("name", "base", "description", "peer", "mac_factor", "transposed_conv", "rules",
                "per", "ops", "per_output", "per_input", "per_channel", "per_param",
                "per_position", "as_module", "as_function", "spatial_ranks", "batch_norm",
                "relu", "conv_bias", "add", "activation")  # fmt: skip
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70),
    st.sampled_from([0, 1, 2, 3, 10**18, 10**18 + 1, 2**62, 2**63, 2**64]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["3x8x8", "1x1x1", "3x224x", "same", "valid", "relu", "pointwise", "min",
                     "output", "paper", "[red]", "net[/]", "x" * 50]),
    st.text(max_size=6),
)  # fmt: skip


def structures(keys: Sequence[str], words: Sequence[str] = ()) -> st.SearchStrategy[object]:
    scalars = st.one_of(SCALARS, st.sampled_from(words)) if words else SCALARS
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.sampled_from(keys), inner, max_size=5),
        ),
        max_leaves=25,
    )


# Values a layer field plausibly takes, so that drawn specs often get past the first check.
PLAUSIBLE = st.one_of(
    st.integers(1, 4),
    st.sampled_from([True, False, "same", "valid", [1, 1], [3, 1], [2, 2], [[0, 1], [1, 0]],
                     "relu", "min", "concat", "add", 0, 8, 16]),
)  # fmt: skip
LAYER_FIELDS = ("out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
                "bias", "scale_factor", "out_features", "function", "output_size", "p",
                "mid_channels", "merge", "name", "inputs", "output_padding",
                "depth_multiplier")  # fmt: skip


# Required fields per type, so that drawn layers are often whole.
REQUIRED: dict[str, tuple[str, ...]] = {
    "conv": ("out_channels", "kernel_size"), "conv_transpose": ("out_channels", "kernel_size"),
    "depthwise_separable_conv": ("out_channels", "kernel_size"),
    "spatially_separable_conv": ("out_channels", "kernel_size"), "max_pool": ("kernel_size",),
    "avg_pool": ("kernel_size",), "linear": ("out_features",), "upsample": (), "relu": (),
    "batch_norm": (), "flatten": (), "add": (), "concat": (), "global_avg_pool": (),
    "zero_pad": (), "dropout": (), "adaptive_avg_pool": (),
}  # fmt: skip


def spec_like() -> st.SearchStrategy[object]:
    """Specs of any shape: mostly tables with an input and layers whose fields are mostly
    plausible, nested in blocks; sometimes anything at all."""
    # Deferred: a strategy's repr would otherwise spell out every part (tens of kB).
    field = st.deferred(
        lambda: st.one_of(PLAUSIBLE, PLAUSIBLE, PLAUSIBLE, SCALARS, structures(SPEC_KEYS))
    )
    typed = [
        st.fixed_dictionaries(
            {"type": st.just(name), **dict.fromkeys(required, PLAUSIBLE)},
            optional=dict.fromkeys(set(LAYER_FIELDS[:9]) - set(required), field),
        )
        for name, required in REQUIRED.items()
    ]
    wild = st.fixed_dictionaries(
        {"type": st.sampled_from(LAYER_TYPES)}, optional=dict.fromkeys(LAYER_FIELDS, field)
    )
    layer = st.recursive(
        st.one_of(*typed, wild),
        lambda inner: st.one_of(
            st.fixed_dictionaries({"type": st.just("sequential"),
                                   "layers": st.lists(inner, min_size=1, max_size=3)},
                                  optional={"name": field}),
            st.fixed_dictionaries({"type": st.just("residual"),
                                   "body": st.lists(inner, min_size=1, max_size=3)},
                                  optional={"shortcut": st.lists(inner, max_size=2)}),
            st.fixed_dictionaries({"type": st.just("parallel"), "branches": st.lists(
                st.lists(inner, min_size=1, max_size=2), min_size=2, max_size=3)},
                                  optional={"merge": field}),
            st.fixed_dictionaries({"type": st.sampled_from(("sequential", "parallel"))},
                                  optional=dict.fromkeys(("layers", "body", "branches"), field)),
        ),
        max_leaves=8,
    )  # fmt: skip
    shapes = st.sampled_from(["3x8x8", "4x16x16", "8", "2x9", "1x1x1", "2x4x4x4"])
    return st.one_of(
        st.fixed_dictionaries(
            {"input": shapes,
             "layers": st.lists(layer, min_size=1, max_size=5)},
            optional={"name": st.text(max_size=8), "naming": st.sampled_from(["flat", "scoped"]),
                      "outputs": st.lists(st.sampled_from(["conv2d", "x", "input"]), max_size=2)},
        ),
        structures(SPEC_KEYS, LAYER_TYPES),
        st.fixed_dictionaries(
            {"input": SCALARS, "layers": st.lists(layer, max_size=3)},
            optional={"name": SCALARS, "defaults": structures(SPEC_KEYS, LAYER_TYPES),
                      "outputs": structures(SPEC_KEYS), "channels_last": SCALARS},
        ),
    )  # fmt: skip


def dumped(value: object, suffix: str) -> str:
    if suffix == ".json":
        return json.dumps(value, allow_nan=True)
    import yaml

    return str(yaml.safe_dump(value, allow_unicode=False))


@given(value=st.deferred(spec_like), suffix=st.sampled_from((".json", ".yaml")),
       command=st.sampled_from(("summary", "compare", "export")))  # fmt: skip
def test_a_spec_of_any_structure_is_read_or_refused_in_one_line(
    value: object, suffix: str, command: str
) -> None:
    with in_a_new_folder():
        Path(f"spec{suffix}").write_text(dumped(value, suffix), encoding="utf-8")
        assert_clean(invoke(command, f"spec{suffix}"))


def tables_in(value: object) -> Iterator[dict[str, object]]:
    if isinstance(value, dict):
        yield value
        values: Iterator[object] = iter(value.values())
    elif isinstance(value, list):
        values = iter(value)
    else:
        return
    for item in values:
        yield from tables_in(item)


@st.composite
def mutated_specs(draw: st.DrawFn) -> str:
    """A valid network's spec with one field of one table changed to anything, or gone."""
    data = json.loads(convcost.dump_spec(draw(networks(max_layers=4, max_depth=2)), "json"))
    table = draw(st.sampled_from(list(tables_in(data))))
    key = draw(st.sampled_from(sorted({*table, *SPEC_KEYS})))
    if draw(st.booleans()) and key in table:
        del table[key]
    else:
        table[key] = draw(st.one_of(PLAUSIBLE, SCALARS, structures(SPEC_KEYS, LAYER_TYPES)))
    return json.dumps(data, allow_nan=True)


@given(text=mutated_specs(), command=st.sampled_from(("summary", "compare", "export")))
def test_a_valid_spec_changed_anywhere_is_read_or_refused_in_one_line(
    text: str, command: str
) -> None:
    with in_a_new_folder():
        Path("spec.json").write_text(text, encoding="utf-8")
        assert_clean(invoke(command, "spec.json"))


def profile_like() -> st.SearchStrategy[object]:
    rule = structures(PROFILE_KEYS, ("output", "input", "channel", "param", "position"))
    return st.one_of(
        structures(PROFILE_KEYS, ("paper", "thop", "fvcore", "input", "output")),
        st.fixed_dictionaries(
            {"name": st.one_of(st.sampled_from(["mine", "[red]", "paper"]), SCALARS)},
            optional={"base": st.one_of(st.sampled_from(["paper", "thop"]), SCALARS),
                      "rules": st.dictionaries(st.sampled_from(PROFILE_KEYS), rule, max_size=3),
                      "mac_factor": SCALARS, "transposed_conv": SCALARS},
        ),
    )  # fmt: skip


@given(value=st.deferred(profile_like), suffix=st.sampled_from((".json", ".yaml")))
def test_a_profile_of_any_structure_is_read_or_refused_in_one_line(
    value: object, suffix: str
) -> None:
    with in_a_new_folder():
        Path(f"p{suffix}").write_text(dumped(value, suffix), encoding="utf-8")
        assert_clean(invoke("conventions", "vgg-cifar", "--convention", f"p{suffix}"))
