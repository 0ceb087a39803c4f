"""Rendering reports to text: plain, tabulate's formats, CSV, JSON and rich.

Worked examples on a small hand-made report whose cells are numbers; what each format
escapes (names are text, never markup); the rich layout, which never cuts a number at any
width (a Hypothesis property over random tables and widths); CSV as one table.
"""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from convcost.render import (
    FORMATS,
    TABULATE_FORMATS,
    format_cell,
    render_csv,
    render_plain,
    render_rich,
    render_tabulate,
    render_text,
)
from convcost.report import Cell, Column, Name, Report, Table
from convcost.shapes import Shape

COLUMNS = (
    Column(key="name", header="Name", kind="name"),
    Column(key="output", header="Output", kind="shape"),
    Column(key="params", header="Params", kind="count", exact=True),
    Column(key="macs", header="MACs", kind="count"),
    Column(key="share", header="Share", kind="percent"),
)
DEMO = Report(
    tables=(
        Table(
            title="Demo",
            columns=COLUMNS,
            sections=(
                ((Name("a"), Shape(8, (4, 4)), 1_234, 1_207_959_552, Fraction(1, 10)),
                 (Name("b", 1, shortcut=True), Shape(8), 5, 999_995, Fraction(1, 250))),
                ((Name("c d"), Shape(2, (1, 1)), 78, 0, None),),
            ),
            totals=("Total", Shape(2, (1, 1)), 1_317, 1_208_959_547, Fraction(1)),
            notes=("counted by hand",),
            key=("metric", "demo"),
        ),
    ),
    notes=("a note on the whole report",),
    document={"schema": "demo", "count": 10**30},
)  # fmt: skip

DEMO_PLAIN = """\
Demo
Name   Output  Params   MACs    Share
-----  ------  ------  -----  -------
a      8x4x4    1,234  1.21G   10.00%
 ↳ b   8            5  1.00M    0.40%

c d    2x1x1       78      0        –
-----  ------  ------  -----  -------
Total  2x1x1    1,317  1.21G  100.00%
counted by hand

a note on the whole report
"""


def test_plain_worked_example() -> None:
    """Parameters in full, MACs in units (999,995 is 1.00M), shapes and names left,
    numbers right, the shortcut marked, sections apart, notes after the table."""
    assert render_plain(DEMO) == DEMO_PLAIN
    assert str(DEMO) == DEMO_PLAIN


def test_exact_shows_every_count_in_full() -> None:
    text = render_plain(DEMO, exact=True)
    assert "1,207,959,552" in text
    assert "999,995" in text


@pytest.mark.parametrize(
    ("cell", "column", "style", "text"),
    [
        pytest.param(1_207_959_552, COLUMNS[3], "terminal", "1.21G", id="count-units"),
        pytest.param(1_207_959_552, COLUMNS[3], "csv", "1207959552", id="count-csv"),
        pytest.param(1_234, COLUMNS[2], "terminal", "1,234", id="params-exact"),
        pytest.param(Fraction(1, 8), COLUMNS[4], "terminal", "12.50%", id="percent"),
        pytest.param(Fraction(1, 8), COLUMNS[4], "csv", "0.125", id="percent-csv"),
        pytest.param(None, COLUMNS[4], "terminal", "–", id="undefined-ratio"),
        pytest.param(None, COLUMNS[4], "csv", "", id="undefined-ratio-csv"),
        pytest.param(Name("x", 2, True), COLUMNS[0], "terminal", "  ↳ x", id="name-terminal"),
        pytest.param(Name("x", 2, True), COLUMNS[0], "document", "x (shortcut)", id="name-doc"),
        pytest.param(Name("x", 2, True), COLUMNS[0], "csv", "x", id="name-csv"),
        pytest.param(Shape(3, (4, 5)), COLUMNS[1], "csv", "3x4x5", id="shape"),
        pytest.param(
            4_194_304, Column(key="b", header="B", kind="bytes"), "terminal", "4.19 MB", id="bytes"
        ),
    ],
)
def test_format_cell(cell: Cell, column: Column, style: str, text: str) -> None:
    assert format_cell(cell, column, style=style) == text  # type: ignore[arg-type]


def test_markdown_worked_example() -> None:
    text = render_tabulate(DEMO, "markdown")
    assert text.startswith("**Demo**\n\n| Name")
    assert "| b (shortcut) | 8        |        5 |  1.00M |   0.40% |" in text
    assert text.endswith("counted by hand\n\na note on the whole report\n")


def test_latex_has_a_rule_above_the_totals() -> None:
    lines = render_tabulate(DEMO, "latex").splitlines()
    assert lines[0] == "% Demo"
    assert lines[lines.index("\\bottomrule") - 2] == "\\midrule"


CSV_DEMO = (
    "metric,name,output,params,macs,share\r\n"
    "demo,a,8x4x4,1234,1207959552,0.1\r\n"
    "demo,b,8,5,999995,0.004\r\n"
    "demo,c d,2x1x1,78,0,\r\n"
    "demo,Total,2x1x1,1317,1208959547,1.0\r\n"
)


def test_csv_worked_example() -> None:
    """One header row of machine names, the table's key as a column, exact integers."""
    assert render_csv(DEMO) == CSV_DEMO


def test_csv_joins_tables_of_different_columns() -> None:
    """Two tables become one: the union of their columns, empty where a table has none."""
    other = Table(
        title="Other",
        columns=(Column(key="name", header="Name"), Column(key="ops", header="Ops", kind="count")),
        sections=((("x", 3),),),
        key=("metric", "ops"),
    )
    text = render_csv(Report(tables=(*DEMO.tables, other), document={}))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["metric", "name", "output", "params", "macs", "share", "ops"]
    assert rows[-1] == {
        "metric": "ops", "name": "x", "output": "", "params": "", "macs": "", "share": "",
        "ops": "3",
    }  # fmt: skip


def test_json_keeps_big_integers_exact() -> None:
    assert json.loads(render_text(DEMO, "json"))["count"] == 10**30


@pytest.mark.parametrize("format", [name for name in FORMATS if name != "json"])
def test_every_format_draws_every_number(format: str) -> None:
    text = render_text(DEMO, format, exact=True)
    for number in ("1,234", "1,207,959,552") if format != "csv" else ("1234", "1207959552"):
        assert number in text


def test_render_text_refuses_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="did you mean 'markdown'"):
        render_text(DEMO, "markdwon")


# --- names are text, never markup -------------------------------------------------------

TRICKY = ("[red]net", "net[/]", "[bold]x[/bold]", "a|b", "<b>x</b>", "50%_&$#{}", "*x*")


def tricky_report(name: str) -> Report:
    return Report(
        tables=(
            Table(
                title=f"{name} on 3x8x8",
                columns=COLUMNS[:3],
                sections=(((Name(name), Shape(3), 1),),),
                notes=(f"note on {name}",),
            ),
        ),
        document={"name": name},
    )


@pytest.mark.parametrize("name", TRICKY)
def test_rich_prints_names_as_written(name: str) -> None:
    buffer = io.StringIO()
    render_rich(tricky_report(name), Console(file=buffer, width=80, color_system=None))
    text = buffer.getvalue()
    assert f"{name} on 3x8x8" in text
    assert f"note on {name}" in text
    assert text.count(name) >= 3


@pytest.mark.parametrize("name", TRICKY)
def test_documents_escape_names(name: str) -> None:
    """HTML escapes markup, Markdown escapes its own syntax (a | never splits a cell),
    LaTeX escapes its special characters, plain and CSV keep the text as written."""
    report = tricky_report(name)
    assert "<b>x</b>" not in render_tabulate(report, "html")
    markdown = render_tabulate(report, "markdown")
    table_lines = [line for line in markdown.splitlines() if line.startswith("|")]
    assert all(line.count("|") - line.count("\\|") == 4 for line in table_lines)
    latex = render_tabulate(report, "latex")
    assert "\\begin{tabular}" in latex
    if "&" in name:
        assert "\\&" in latex
    assert name in render_plain(report)
    assert name in render_csv(report)


# --- the rich layout ----------------------------------------------------------------------


def rich_text(report: Report, width: int, *, exact: bool = False) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, highlight=False)
    render_rich(report, console, exact=exact)
    return buffer.getvalue()


def test_rich_table_fits_its_width() -> None:
    text = rich_text(DEMO, 60)
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 60
    assert "1,207,959,552" not in text  # units by default, as in plain
    assert "1.21G" in text


def test_a_narrow_terminal_stacks_the_table() -> None:
    """Too narrow for the columns: one block per row, every value whole."""
    text = rich_text(DEMO, 24)
    assert "Params 1,234" in text
    assert "MACs 1.21G" in text
    assert "Share 10.00%" in text


@st.composite
def random_reports(draw: st.DrawFn) -> Report:
    columns = (
        Column(key="name", header="Layer name", kind="name"),
        Column(key="type", header="Type"),
        *(Column(key=f"c{i}", header=f"Count {i}", kind="count")
          for i in range(draw(st.integers(1, 4)))),
        Column(key="p", header="ratio", kind="percent"),
    )  # fmt: skip
    names = st.text(st.characters(codec="ascii", categories=["L", "N", "P"]), min_size=1,
                    max_size=30)  # fmt: skip
    rows = draw(
        st.lists(
            st.tuples(
                names.map(Name), names,
                *(st.integers(0, 10**15) for _ in columns[2:-1]),
                st.fractions(0, 5) | st.none(),
            ),
            min_size=1,
            max_size=4,
        )
    )  # fmt: skip
    return Report(tables=(Table(title="t", columns=columns, sections=(tuple(rows),)),),
                  document={})  # fmt: skip


@given(report=random_reports(), width=st.integers(20, 160), exact=st.booleans())
def test_rich_never_cuts_a_number(report: Report, width: int, exact: bool) -> None:
    """Domain: tables of names (up to 30 characters), text, up to four count columns of
    up to 16 digits, and a ratio, at any width from 20 to 160 columns. Every number
    appears whole in the output, as plain text formats it."""
    text = rich_text(report, width, exact=exact)
    (table,) = report.tables
    for row in table.rows:
        for cell, column in zip(row, table.columns):
            if column.numeric:
                assert format_cell(cell, column, exact=exact) in text


@pytest.mark.parametrize("format", sorted(TABULATE_FORMATS))
def test_tabulate_formats_keep_cells_as_text(format: str) -> None:
    """Cells are never read as numbers by tabulate (no 1,234 turned into 1234)."""
    assert "1,234" in render_tabulate(DEMO, format)
