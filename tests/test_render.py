"""Rendering `Table`s to text: plain, tabulate's formats, CSV, JSON and rich.

Worked examples on a small hand-made table, round-trip properties (plain text and CSV
parse back to the cells they were drawn from), and the rich tables of `convcost compare`
at a fixed width without colour, with a golden file.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from convcost import Conv, DepthwiseSeparableConv, SpatiallySeparableConv, layer_cost, parse_shape
from convcost.builders import pyramid
from convcost.cli import main
from convcost.network import compare
from convcost.render import (
    FORMATS,
    TABULATE_FORMATS,
    render_csv,
    render_json,
    render_plain,
    render_rich,
    render_tabulate,
    render_text,
)
from convcost.report import Column, Table, comparison_tables, layer_table

Golden = Callable[[str, str], None]

DEMO = Table(
    title="Demo",
    columns=(Column("Name", "left"), Column("Count"), Column("Share")),
    sections=(
        (("a", "1,234", "10.00%"), ("bb", "5", "0.40%")),
        (("c d", "78", "89.60%"),),
    ),
    totals=("Total", "1,317", "100.00%"),
    notes=("counted by hand",),
)

DEMO_PLAIN = """\
Demo
Name   Count    Share
-----  -----  -------
a      1,234   10.00%
bb         5    0.40%

c d       78   89.60%
-----  -----  -------
Total  1,317  100.00%
counted by hand
"""


def rich_text(tables: tuple[Table, ...], width: int = 100) -> str:
    """What `render_rich` draws on a `StringIO` console of `width` columns, without colour."""
    buffer = io.StringIO()
    render_rich(tables, Console(file=buffer, width=width, color_system=None, force_terminal=False))
    return buffer.getvalue()


def test_formats_agree_with_the_cli() -> None:
    """The renderer's formats are exactly the CLI's `--format` choices."""
    for command in main.commands.values():
        for param in command.params:
            if param.name == "output_format":
                assert tuple(param.type.choices) == FORMATS  # type: ignore[attr-defined]
    assert set(TABULATE_FORMATS) == set(FORMATS) - {"rich", "plain", "csv", "json"}


def test_plain_worked_example() -> None:
    """Left and right alignment, a blank line between sections, a rule above the totals."""
    assert render_plain((DEMO,)) == DEMO_PLAIN


def test_plain_tables_are_separated_by_a_blank_line() -> None:
    assert render_plain((DEMO, DEMO)) == DEMO_PLAIN + "\n" + DEMO_PLAIN


def test_plain_without_totals_or_notes() -> None:
    table = Table(title="T", columns=(Column("x", "left"),), sections=((("1",),),))
    assert render_plain((table,)) == "T\nx\n-\n1\n"


@pytest.mark.parametrize(
    ("format", "fragments"),
    [
        pytest.param("markdown", ["**Demo**", "|:-------|--------:|", "| c d    |",
                                  "counted by hand"], id="markdown"),
        pytest.param("github", ["**Demo**", "|--------|---------|", "counted by hand"],
                     id="github"),
        pytest.param("latex", ["% Demo\n% counted by hand\n\\begin{tabular}{lrr}", "\\toprule",
                               "10.00\\%", "\\bottomrule\n\\end{tabular}"], id="latex"),
        pytest.param("rst", ["Demo\n\n======  =======  =======", "Total     1,317  100.00%",
                             "counted by hand"], id="rst"),
        pytest.param("html", ["<p><b>Demo</b></p>\n<table>", '<td style="text-align: right;">',
                              "<p>counted by hand</p>"], id="html"),
    ],
)  # fmt: skip
def test_tabulate_formats(format: str, fragments: list[str]) -> None:
    """Every cell is there, with the format's own title, alignment and note markup."""
    text = render_tabulate((DEMO,), format)
    for fragment in fragments:
        assert fragment in text
    for row in (*DEMO.rows, DEMO.totals):
        assert row is not None
        for cell in row:
            assert cell.replace("%", "\\%" if format == "latex" else "%") in text
    assert text.endswith("\n")
    assert not text.endswith("\n\n")


@pytest.mark.parametrize("format", sorted(TABULATE_FORMATS))
def test_tabulate_keeps_cells_as_text(format: str) -> None:
    """No number parsing: "007", "1e3" and "1,000" come out as written, not as 7 or 1000.0."""
    table = Table(
        title="t", columns=(Column("a", "left"), Column("b")), sections=((("007", "1e3"),),),
        totals=("1,000", "0.50"),
    )  # fmt: skip
    text = render_tabulate((table,), format)
    for cell in ("007", "1e3", "1,000", "0.50"):
        assert cell in text


def test_html_escapes_cells() -> None:
    table = Table(title="t", columns=(Column("a", "left"),), sections=((("x<y&z",),),))
    assert "x&lt;y&amp;z" in render_tabulate((table,), "html")


@pytest.mark.parametrize("format", ["plain", "csv", *sorted(TABULATE_FORMATS)])
def test_render_text_dispatches(format: str) -> None:
    if format == "plain":
        expected = render_plain((DEMO,))
    elif format == "csv":
        expected = render_csv((DEMO,))
    else:
        expected = render_tabulate((DEMO,), format)
    assert render_text((DEMO,), format) == expected


def test_csv_worked_example() -> None:
    """A header row led by "table", then one row per table row, totals last; counts lose
    their thousands separators, so spreadsheets read them as numbers."""
    rows = list(csv.reader(io.StringIO(render_csv((DEMO,)), newline="")))
    assert rows == [
        ["table", "Name", "Count", "Share"],
        ["Demo", "a", "1234", "10.00%"],
        ["Demo", "bb", "5", "0.40%"],
        ["Demo", "c d", "78", "89.60%"],
        ["Demo", "Total", "1317", "100.00%"],
    ]


def test_json_keeps_big_integers_exact() -> None:
    document: dict[str, Any] = {"macs": 2**70 + 1, "ratio": {"fraction": "137/1152"}, "n": None}
    text = render_json(document)
    assert json.loads(text) == document
    assert text.endswith("}\n")
    assert '\n  "macs": 1180591620717411303425' in text


# --- round trips --------------------------------------------------------------------------

# A non-empty single-line word or phrase without outer spaces, like a label or a count.
_CELL = st.text("ab01,.%×x_- ", min_size=1, max_size=10).map(str.strip).filter(bool)


@st.composite
def tables(draw: st.DrawFn, *, cell: st.SearchStrategy[str] = _CELL) -> Table:
    """1-5 columns of either alignment with non-empty headers, 1-3 sections of 1-4 rows
    whose first cell is non-empty (a label), optional totals, 0-2 notes.
    """
    width = draw(st.integers(1, 5))
    columns = tuple(
        Column(draw(_CELL), draw(st.sampled_from(["left", "right"]))) for _ in range(width)
    )
    row = st.tuples(_CELL, *[cell | st.just("")] * (width - 1))
    sections = tuple(
        tuple(draw(st.lists(row, min_size=1, max_size=4))) for _ in range(draw(st.integers(1, 3)))
    )
    totals = draw(st.none() | row)
    notes = tuple(draw(st.lists(_CELL, max_size=2)))
    return Table(title=draw(_CELL), columns=columns, sections=sections, totals=totals, notes=notes)


def parse_plain(
    text: str, notes: int
) -> tuple[list[str], list[tuple[str, ...]], tuple[str, ...] | None]:
    """Headers, rows and totals of one plain table with `notes` note lines, cut at the
    column spans of its rule.
    """
    lines = text.splitlines()
    lines = lines[: len(lines) - notes]
    rule = lines[2]
    spans = [match.span() for match in re.finditer(r"-+", rule)]

    def cells(line: str) -> tuple[str, ...]:
        line = line.ljust(len(rule))
        return tuple(line[start:end].strip() for start, end in spans)

    body = lines[3:]
    end = body.index(rule) if rule in body else len(body)
    rows = [cells(line) for line in body[:end] if line]
    totals = cells(body[end + 1]) if end < len(body) else None
    return list(cells(lines[1])), rows, totals


@given(tables())
def test_plain_round_trips(table: Table) -> None:
    """Any table whose cells are single-line words without outer spaces and whose rows
    start with a label: cutting the plain text at the rule's column spans gives the cells
    back, and every line is as wide as the rule at most.
    """
    text = render_plain((table,))
    headers, rows, totals = parse_plain(text, len(table.notes))
    assert headers == [column.header for column in table.columns]
    assert rows == list(table.rows)
    assert totals == table.totals
    lines = text.splitlines()
    table_lines = lines[1 : len(lines) - len(table.notes)]
    assert all(len(line) <= len(lines[2]) for line in table_lines)


_ANY_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00\r"))


@given(st.lists(tables(cell=_ANY_TEXT), min_size=1, max_size=3))
def test_csv_round_trips(tables_: list[Table]) -> None:
    """Any tables, cells of any text (commas, quotes, newlines) but NUL and carriage return:
    the CSV reads back as one block per table, its header row and then each row and the
    totals, tagged with the table's title.

    A lone carriage return is outside the domain: the writer's line terminator is "\\n",
    so a cell holding "\\r" is written unquoted and read back as a line break.
    """
    rows = list(csv.reader(io.StringIO(render_csv(tuple(tables_)), newline="")))
    blocks: list[list[list[str]]] = [[]]
    for row in rows:
        if row:
            blocks[-1].append(row)
        else:
            blocks.append([])
    assert len(blocks) == len(tables_)
    for block, table in zip(blocks, tables_):
        expected = [["table", *(column.header for column in table.columns)]]
        expected += [[table.title, *row] for row in table.rows]
        if table.totals:
            expected.append([table.title, *table.totals])
        assert block == expected


# --- rich ---------------------------------------------------------------------------------


def test_rich_worked_example() -> None:
    """No colour codes; the title, every cell, the totals and the note are drawn."""
    text = rich_text((DEMO,))
    assert "\x1b" not in text
    assert text.splitlines()[0].strip() == "Demo"
    for row in (*DEMO.rows, DEMO.totals):
        assert row is not None
        assert re.search(r"\s+".join(map(re.escape, row)), text)
    assert text.rstrip().endswith("counted by hand")


def compare_default_tables(**options: Any) -> tuple[Table, ...]:
    """The tables `convcost compare` draws with no arguments (seed 001's setting)."""
    return comparison_tables(compare(pyramid(), bias="none"), bias="none", **options)


def seed_002_layer_table() -> Table:
    """`convcost layer 3x15x15 --out 10 -k 3` (seed 002's layer)."""
    shape = parse_shape("3x15x15")
    window: dict[str, Any] = {"out_channels": 10, "kernel_size": 3}
    costs: dict[Any, Any] = {
        "regular": layer_cost(Conv(**window, bias=False), shape),
        "spatially_separable": layer_cost(SpatiallySeparableConv(**window, bias="none"), shape),
        "depthwise_separable": layer_cost(DepthwiseSeparableConv(**window, bias="none"), shape),
    }
    return layer_table(costs)


RICH_TABLES = [
    pytest.param({}, id="compare"),
    pytest.param({"by_group": False, "exact": True}, id="compare-layers-exact"),
    pytest.param({"metrics": ("params", "macs", "flops")}, id="compare-flops"),
    pytest.param({"metrics": ("flops",), "count_bias": True}, id="compare-flops-bias"),
]


@pytest.mark.parametrize("options", RICH_TABLES)
def test_rich_tables_fit_100_columns(options: dict[str, Any]) -> None:
    """At 100 columns every line fits and no cell is cut short with an ellipsis."""
    text = rich_text(compare_default_tables(**options))
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "…" not in text


def test_rich_layer_table_fits_100_columns() -> None:
    """The layer table too, its long note included (wrapped, not run past the edge)."""
    text = rich_text((seed_002_layer_table(),))
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "…" not in text


def test_rich_compare_is_not_cut_at_80_columns() -> None:
    """The default table fits a default 80-column terminal."""
    assert "…" not in rich_text(compare_default_tables(), width=80)


def test_rich_golden(golden: Golden) -> None:
    """`convcost compare` (seed 001's setting) drawn by rich at 100 columns, no colour."""
    golden("compare_default.rich.txt", rich_text(compare_default_tables()))


def test_rich_layer_golden(golden: Golden) -> None:
    """`convcost layer 3x15x15 --out 10 -k 3` drawn by rich at 100 columns, no colour."""
    golden("layer.rich.txt", rich_text((seed_002_layer_table(),)))
