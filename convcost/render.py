"""Rendering: `Table`s to text. The only module that touches rich and tabulate.

Both are imported inside the function that needs them, so `--format json`, `csv` and
`plain` never load them. rich draws to a `Console` handed in by the caller (tests pass
one writing to a `StringIO` at a fixed width, without colour).
"""

from __future__ import annotations

import csv
import functools
import html
import io
import json
import re
import textwrap
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, get_args

from convcost.report import Column, Table

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "FORMATS",
    "TABULATE_FORMATS",
    "Format",
    "render_csv",
    "render_json",
    "render_plain",
    "render_rich",
    "render_tabulate",
    "render_text",
]

Format: TypeAlias = Literal[
    "rich", "plain", "markdown", "github", "latex", "rst", "html", "csv", "json"
]
FORMATS: Final[tuple[str, ...]] = get_args(Format)
# convcost's format name -> tabulate's table format
TABULATE_FORMATS: Final[dict[str, str]] = {
    "markdown": "pipe",
    "github": "github",
    "latex": "latex_booktabs",
    "rst": "rst",
    "html": "html",
}


def render_rich(tables: tuple[Table, ...], console: Console) -> None:
    """Draw `tables` on `console`: stages as sections, totals as a footer, notes below."""
    from rich import box
    from rich.table import Table as RichTable

    for index, table in enumerate(tables):
        if index:
            console.print()
        rich_table = RichTable(
            title=table.title,
            box=box.HORIZONTALS,
            show_footer=table.totals is not None,
            title_justify="left",
            pad_edge=False,
        )
        footers = table.totals or ("",) * len(table.columns)
        for column, footer in zip(table.columns, footers):
            rich_table.add_column(
                column.header,
                justify=column.align,
                footer=footer,
                no_wrap=not column.wrap,
                overflow="fold",  # never an ellipsis: a cut number would be a wrong number
                header_style="bold",
            )
        for section in table.sections:
            for position, row in enumerate(section):
                rich_table.add_row(*row, end_section=position == len(section) - 1)
        console.print(rich_table)
        for note in table.notes:
            console.print(note, style="dim", highlight=False)


def render_plain(tables: tuple[Table, ...]) -> str:
    """Aligned plain text with no dependency: for pipes, files and NO_COLOR."""
    blocks = []
    for table in tables:
        rows = [tuple(column.header for column in table.columns), *table.rows]
        if table.totals:
            rows.append(table.totals)
        widths = [max(len(row[i]) for row in rows) for i in range(len(table.columns))]
        line = functools.partial(_plain_line, widths=widths, columns=table.columns)
        rule = "  ".join("-" * width for width in widths)
        out = [table.title, line(rows[0]), rule]
        for index, section in enumerate(table.sections):
            if index:
                out.append("")
            out.extend(line(row) for row in section)
        if table.totals:
            out += [rule, line(table.totals)]
        out += [textwrap.fill(note, width=100, break_on_hyphens=False) for note in table.notes]
        blocks.append("\n".join(out))
    return "\n\n".join(blocks) + "\n"


def _plain_line(row: tuple[str, ...], *, widths: list[int], columns: tuple[Column, ...]) -> str:
    cells = (
        cell.ljust(width) if column.align == "left" else cell.rjust(width)
        for cell, width, column in zip(row, widths, columns)
    )
    return "  ".join(cells).rstrip()


def _markdown_escape(text: str) -> str:
    """Text as Markdown shows it literally (names from spec files may hold * or _)."""
    return re.sub(r"([\\`*_\[\]<>|#])", r"\\\1", text)


def render_tabulate(tables: tuple[Table, ...], format: str) -> str:
    """Markdown, GitHub, LaTeX (booktabs, ready to paste), reStructuredText or HTML."""
    from tabulate import tabulate

    blocks = []
    for table in tables:
        rows: list[tuple[str, ...]] = list(table.rows)
        if table.totals:
            rows.append(table.totals)
        text = tabulate(
            rows,
            headers=[column.header for column in table.columns],
            tablefmt=TABULATE_FORMATS[format],
            colalign=[column.align for column in table.columns],
            disable_numparse=True,
        )
        if format in ("markdown", "github"):
            notes = "\n\n".join(_markdown_escape(note) for note in table.notes)
            text = f"**{_markdown_escape(table.title)}**\n\n{text}\n\n{notes}"
        elif format == "latex":
            if table.totals:  # a rule above the totals row, as papers set them
                lines = text.splitlines()
                lines.insert(lines.index("\\bottomrule") - 1, "\\midrule")
                text = "\n".join(lines)
            notes = "".join(f"% {note}\n" for note in table.notes)
            text = f"% {table.title}\n{notes}{text}"
        elif format == "html":
            text = f"<p><b>{html.escape(table.title)}</b></p>\n{text}\n" + "".join(
                f"<p>{html.escape(note)}</p>\n" for note in table.notes
            )
        else:
            text = f"{table.title}\n\n{text}\n\n" + "\n".join(table.notes)
        blocks.append(text.rstrip())
    return "\n\n".join(blocks) + "\n"


_GROUPED_INTEGER = re.compile(r"-?\d{1,3}(?:,\d{3})+")


def _csv_cell(cell: str) -> str:
    """Exact counts without thousands separators, so spreadsheets read them as numbers."""
    return cell.replace(",", "") if _GROUPED_INTEGER.fullmatch(cell) else cell


def render_csv(tables: tuple[Table, ...]) -> str:
    """One CSV block per table (RFC 4180 line ends), the table's title in a first column."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for index, table in enumerate(tables):
        if index:
            buffer.write("\r\n")
        writer.writerow(["table", *(column.header for column in table.columns)])
        rows = (*table.rows, table.totals) if table.totals else table.rows
        for row in rows:
            writer.writerow([table.title, *map(_csv_cell, row)])
    return buffer.getvalue()


def render_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"


def render_text(tables: tuple[Table, ...], format: str) -> str:
    """Any text format but rich (which draws on a console) and json (documents)."""
    if format == "plain":
        return render_plain(tables)
    if format == "csv":
        return render_csv(tables)
    return render_tabulate(tables, format)
