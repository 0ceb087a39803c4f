"""Rendering: reports to text. The only module that touches rich and tabulate.

Both are imported inside the function that needs them, so `--format json`, `csv` and
`plain` never load them. Cells arrive as numbers and are formatted here: parameter counts
in full, MACs and FLOPs in K/M/G units unless `exact`, CSV and JSON always exact.

A number, unit, shape or percentage is never cut: the rich layout gives every numeric
column the width of its widest cell, lets names wrap visibly when the terminal is narrow,
and falls back to a stacked layout (one block per row) when even that does not fit.
Names are text, never markup: ``[red]net`` prints as written in every format.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction
from operator import itemgetter
from typing import TYPE_CHECKING, Final, Literal, TypeAlias, get_args

from convcost.errors import printable
from convcost.units import (
    format_count,
    format_decimal,
    format_megabytes,
    format_percent,
    format_seconds,
)

if TYPE_CHECKING:  # the engine is imported when a report is drawn, not to list the formats
    from rich.console import Console

    from convcost.report import Cell, Column, Name, Report, Table

__all__ = [
    "FORMATS",
    "TABULATE_FORMATS",
    "Format",
    "format_cell",
    "printable_report",
    "render_csv",
    "render_plain",
    "render_rich",
    "render_tabulate",
    "render_text",
    "without_bars",
]

Format: TypeAlias = Literal[
    "rich", "plain", "markdown", "github", "latex", "rst", "html", "csv", "json"
]
FORMATS: Final[tuple[Format, ...]] = get_args(Format)
# convcost's format name -> tabulate's table format
TABULATE_FORMATS: Final[dict[str, str]] = {
    "markdown": "pipe",
    "github": "github",
    "latex": "latex_booktabs",
    "rst": "rst",
    "html": "html",
}
Style: TypeAlias = Literal["terminal", "document", "csv"]
SHORTCUT_MARK: Final = "↳ "
MIN_NAME_WIDTH: Final = 10  # names narrower than this are unreadable: stack instead
_GAP: Final = 2  # a column's right padding, then the (blank) rule between two columns
NOTE_WIDTH: Final = 100
BAR_WIDTH: Final = 10  # a terminal table's share bar, in characters
_EIGHTHS: Final = ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")


def format_cell(
    cell: Cell, column: Column, *, exact: bool = False, style: Style = "terminal"
) -> str:
    """One cell as text. Counts: in full when `exact` or the column asks for it (and
    always in CSV), else K/M/G; ratios as percentages (decimal fractions in CSV)."""
    if column.kind == "bar":
        return _bar(cell) if isinstance(cell, Fraction) else " " * BAR_WIDTH
    if cell is None:
        return "" if column.kind != "percent" or style == "csv" else "–"
    if isinstance(cell, Fraction):
        if style == "csv":
            return repr(float(cell))
        if column.kind == "seconds":
            return format_seconds(cell)
        if column.kind == "decimal":
            return format_decimal(cell)
        return format_percent(cell)
    if isinstance(cell, int) and not isinstance(cell, bool):
        if style == "csv":
            return str(cell)
        if column.kind == "bytes":
            return format_megabytes(cell)
        return format_count(cell, exact=exact or column.exact)
    from convcost.report import Name

    if isinstance(cell, Name):
        return _name_text(cell, style)
    return str(cell)  # text, and shapes (C×H×W)


def _name_text(name: Name, style: Style) -> str:
    """A row's name: indented, and marked when on a shortcut, in a terminal."""
    if style == "terminal":
        return " " * name.depth + (SHORTCUT_MARK if name.shortcut else "") + name.text
    if style == "document" and name.shortcut:
        return f"{name.text} (shortcut)"
    return name.text


_NUMBERS: Final = frozenset({int, Fraction})  # types whose values may equal each other's


def _texts(
    cells: Sequence[Cell], column: Column, *, exact: bool, style: Style, escape: bool
) -> list[str]:
    """The text of each of `cells`, from one `column`; with `escape`, names and text as
    `printable_report` escapes them.

    A cell's text depends on its value and its column alone, and a long table repeats few
    values (counts, shapes, layer types): a column of such values has each formatted once.
    """
    from convcost.report import Name
    from convcost.shapes import Shape

    def text(cell: Cell) -> str:
        if type(cell) is Name and column.kind != "bar":
            shown = _name_text(cell, style)
        else:
            shown = format_cell(cell, column, exact=exact, style=style)
        return printable(shown) if escape and isinstance(cell, (str, Name)) else shown

    kinds = set(map(type, cells))
    if kinds <= {int, Fraction, str, Shape, type(None)} and len(kinds & _NUMBERS) <= 1:
        known = {cell: text(cell) for cell in set(cells)}  # equal cells, equal texts
        return list(map(known.__getitem__, cells))
    return list(map(text, cells))


def _column_texts(
    table: Table, *, exact: bool, style: Style, escape: bool = False, bars: bool = True
) -> tuple[list[list[str]], list[str] | None] | None:
    """The texts of `table`'s cells column by column, and of its totals row (see
    `_texts`), without the bar columns unless `bars`; None if a row has fewer cells than
    the table has columns."""
    columns, body = table.columns, table.rows
    if min(map(len, body), default=len(columns)) < len(columns):
        return None
    kept = [bars or column.kind != "bar" for column in columns]
    texts = functools.partial(_texts, exact=exact, style=style, escape=escape)
    by_column = [
        texts(cells, column)
        for cells, column, keep in zip(zip(*body) if body else [()] * len(columns), columns, kept)
        if keep
    ]
    totals = table.totals and [
        texts((cell,), column)[0] for cell, column, keep in zip(table.totals, columns, kept) if keep
    ]
    return by_column, totals or None


def _cells(
    table: Table, *, exact: bool, style: Style, escape: bool = False
) -> tuple[list[Sequence[str]], list[str] | None]:
    """`_column_texts` row by row; a short row gives as many texts as it has cells."""
    texts = _column_texts(table, exact=exact, style=style, escape=escape)
    if texts is not None:
        by_column, totals = texts
        return (list(zip(*by_column)) if by_column else [[] for _ in table.rows]), totals

    def row_texts(row: Sequence[Cell]) -> list[str]:
        return [_texts((cell,), column, exact=exact, style=style, escape=escape)[0]
                for cell, column in zip(row, table.columns)]  # fmt: skip

    return list(map(row_texts, table.rows)), row_texts(table.totals) if table.totals else None


# --- plain ---------------------------------------------------------------------------


def _bar(share: Fraction) -> str:
    """A share of a total as a bar `BAR_WIDTH` characters wide, in eighths of a cell.

    >>> _bar(Fraction(1, 2)), _bar(Fraction(1, 16)), _bar(Fraction(0))
    ('█████     ', '▋         ', '          ')
    """
    eighths = round(min(max(share, Fraction(0)), Fraction(1)) * BAR_WIDTH * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + _EIGHTHS[part]).ljust(BAR_WIDTH)[:BAR_WIDTH]


def without_bars(report: Report) -> Report:
    """`report` without its bar columns: what every format but a terminal table shows."""
    from dataclasses import replace

    return replace(report, tables=tuple(map(_table_without_bars, report.tables)))


def _table_without_bars(table: Table) -> Table:
    from dataclasses import replace

    keep = [index for index, column in enumerate(table.columns) if column.kind != "bar"]
    if len(keep) == len(table.columns):
        return table
    row = _picker(keep)
    return replace(
        table,
        columns=tuple(table.columns[index] for index in keep),
        sections=tuple(tuple(map(row, section)) for section in table.sections),
        totals=None if table.totals is None else row(table.totals),
    )


def _picker(keep: list[int]) -> Callable[[tuple[Cell, ...]], tuple[Cell, ...]]:
    """A function giving the cells at `keep` of a row (`itemgetter`, at C speed)."""
    if len(keep) > 1:
        return itemgetter(*keep)
    return lambda cells: tuple(cells[index] for index in keep)


def printable_report(report: Report) -> Report:
    """`report` with control characters in its text escaped (``\\x1b``), for the formats
    people read: a name cannot break a table's lines or command the terminal showing it.
    CSV and JSON keep names as written."""
    return _printable(report, cells=True)


def _printable(report: Report, *, cells: bool) -> Report:
    """`printable_report`, or with `cells` false, everything but the cells (which
    ``_cells(..., escape=True)`` escapes as it formats them: one pass over them, not two)."""
    from dataclasses import replace

    from convcost.report import Name

    def cell(value: Cell) -> Cell:
        if isinstance(value, Name) and not value.text.isprintable():
            return replace(value, text=printable(value.text))
        return printable(value) if isinstance(value, str) else value

    def table(one: Table) -> Table:
        sections, totals = one.sections, one.totals
        if cells:
            sections = tuple(tuple(tuple(map(cell, row)) for row in section)
                             for section in sections)  # fmt: skip
            totals = None if totals is None else tuple(map(cell, totals))
        return replace(
            one,
            title=printable(one.title),
            columns=tuple(
                replace(column, header=printable(column.header)) for column in one.columns
            ),
            sections=sections,
            totals=totals,
            notes=tuple(map(printable, one.notes)),
        )

    return replace(
        report,
        tables=tuple(map(table, report.tables)),
        notes=tuple(map(printable, report.notes)),
        explanation=tuple(map(printable, report.explanation)),
    )


def render_plain(report: Report, *, exact: bool = False) -> str:
    """Aligned plain text with no dependency: for pipes, files and NO_COLOR."""
    report = _printable(report, cells=False)
    blocks = []
    for table in report.tables:
        columns = tuple(column for column in table.columns if column.kind != "bar")
        header = [column.header for column in columns]
        texts = _column_texts(table, exact=exact, style="terminal", escape=True, bars=False)
        if texts is None:
            raise IndexError(f"{table.title}: a row has fewer cells than the table has columns")
        by_column, totals = texts
        widths = [
            max(len(head), max(map(len, cells), default=0), len(totals[i]) if totals else 0)
            for i, (head, cells) in enumerate(zip(header, by_column))
        ]
        line = _plain_line(widths, columns)
        lines = list(map(line, *by_column)) if by_column else [""] * len(table.rows)
        rule = "  ".join("-" * width for width in widths)
        out = [table.title, line(*header), rule]
        position = 0
        for index, section in enumerate(table.sections):
            if index:
                out.append("")
            out += lines[position : position + len(section)]
            position += len(section)
        if totals:
            out += [rule, line(*totals)]
        out += [_wrap(note) for note in table.notes]
        blocks.append("\n".join(out))
    if report.notes:
        blocks.append("\n".join(_wrap(note) for note in report.notes))
    return "\n\n".join(blocks) + "\n" + _explanation(report, "plain")


def _wrap(note: str) -> str:
    import textwrap  # csv, html and textwrap are imported where used: json needs none

    return textwrap.fill(note, width=NOTE_WIDTH, break_on_hyphens=False, break_long_words=False)


def _plain_line(widths: list[int], columns: tuple[Column, ...]) -> Callable[..., str]:
    """A function aligning a row's cells, one argument each, in columns of `widths`."""
    template = "  ".join(
        f"{{:{'>' if _right(column) else '<'}{width}}}" for width, column in zip(widths, columns)
    )

    def line(*cells: str) -> str:
        return template.format(*cells).rstrip()

    return line


def _right(column: Column) -> bool:
    """Counts and percentages align right; names, text and shapes left."""
    return column.numeric and column.kind not in ("shape", "bar")


# --- rich ----------------------------------------------------------------------------


def _layout(table: Table, texts: Sequence[Sequence[str]], width: int) -> list[int] | None:
    """Column widths that fit `width` without cutting a number, or None (stack instead).

    Numeric columns get their widest cell (and the longest word of their header); text
    columns share what is left, down to `MIN_NAME_WIDTH` each (a text column to no less
    than its longest unbreakable piece), wrapping their text.
    """
    columns = table.columns
    headers = [column.header for column in columns]
    natural = [max(len(row[i]) for row in [headers, *texts]) for i in range(len(columns))]
    fixed = [
        max(
            max((len(word) for word in column.header.split()), default=0),
            max((len(row[i]) for row in texts), default=0),
        )
        if column.numeric
        else None
        for i, column in enumerate(columns)
    ]
    available = width - _GAP * (len(columns) - 1)
    flexible = [i for i, size in enumerate(fixed) if size is None]
    budget = available - sum(size for size in fixed if size is not None)
    if sum(natural[i] for i in flexible) <= budget:
        return [natural[i] if size is None else size for i, size in enumerate(fixed)]
    # A name may fold at its dots (`_fold`); text wraps between words, and inside a long
    # word only where `_wrap_text` may break it, never inside a number or a shape.
    floors = {
        i: min(natural[i], MIN_NAME_WIDTH)
        if columns[i].kind == "name"
        else max(min(natural[i], MIN_NAME_WIDTH), _longest_piece(row[i] for row in texts))
        for i in flexible
    }
    if sum(floors.values()) > budget:
        return None
    # Water-fill: the narrowest text columns keep their natural width, the rest share.
    widths = dict(floors)
    remaining = budget - sum(floors.values())
    order = sorted(flexible, key=lambda i: natural[i])
    for position, i in enumerate(order):
        share = remaining // (len(order) - position)
        grant = min(natural[i] - widths[i], share)
        widths[i] += grant
        remaining -= grant
    return [widths[i] if size is None else size for i, size in enumerate(fixed)]


def _longest_piece(texts: Iterable[str]) -> int:
    return max((len(piece) for text in texts for piece in _pieces(text)), default=0)


def _fitted(
    table: Table, *, exact: bool, width: int
) -> tuple[Table, list[Sequence[str]], list[str] | None, list[int] | None]:
    """`table`, its texts and its column widths at `width` (None: stack it). A share bar
    is a picture of a number already shown: it is left out before a name would fold."""
    texts, totals = _cells(table, exact=exact, style="terminal", escape=True)
    widths = _layout(table, [*texts, *([totals] if totals else [])], width)
    bars = [i for i, column in enumerate(table.columns) if column.kind == "bar"]
    if bars and (
        widths is None or any(len(text) > size for row in texts for text, size in zip(row, widths))
    ):
        bare = _table_without_bars(table)

        def without(row: Sequence[str]) -> list[str]:  # the texts already made, less the bars
            return [text for i, text in enumerate(row) if i not in bars]

        bare_texts: list[Sequence[str]] = [without(row) for row in texts]
        bare_totals = without(totals) if totals else None
        bare_widths = _layout(bare, [*bare_texts, *([bare_totals] if bare_totals else [])], width)
        if bare_widths is not None:
            return bare, bare_texts, bare_totals, bare_widths
    return table, texts, totals, widths


def render_rich(report: Report, console: Console, *, exact: bool = False) -> None:
    """Draw `report` on `console` at its width: stages as sections, totals as a footer,
    notes below; names wrap, numbers never do. Text is never read as markup."""
    from rich import box
    from rich.table import Table as RichTable
    from rich.text import Text

    report = _printable(report, cells=False)
    for index, table in enumerate(report.tables):
        if index:
            console.print()
        table, texts, totals, widths = _fitted(table, exact=exact, width=console.width)
        if widths is None:
            _render_stacked(table, texts, totals, console)
        else:
            drawn = RichTable(
                title=Text(table.title, style="bold"),
                box=box.HORIZONTALS,
                show_footer=totals is not None,
                title_justify="left",
                show_edge=False,
                pad_edge=False,
                padding=(0, 1, 0, 0),
            )
            footers = totals or [""] * len(table.columns)
            for column, footer, size in zip(table.columns, footers, widths):
                drawn.add_column(
                    Text(column.header, style="bold"),
                    footer=Text(footer),
                    justify="right" if _right(column) else "left",
                    width=size,
                    no_wrap=column.numeric,
                    overflow="fold",
                )
            position = 0
            for section in table.sections:
                for offset in range(len(section)):
                    cells = [text if column.numeric else _wrap_cell(text, column, size)
                             for text, column, size in zip(texts[position + offset],
                                                           table.columns, widths)]  # fmt: skip
                    drawn.add_row(*map(Text, cells), end_section=offset == len(section) - 1)
                position += len(section)
            console.print(drawn)
        for note in table.notes:
            console.print(Text(note, style="dim"))
    if report.notes:
        console.print()
        for note in report.notes:
            console.print(Text(note, style="dim"))
    if report.explanation:
        console.print(Text(_explanation(report, "rich").rstrip("\n")), soft_wrap=True)


_BREAKS: Final = re.compile(r"[._/-]")  # where a name may break: after these
_NAME_PREFIX: Final = re.compile(f" *(?:{SHORTCUT_MARK})?")  # depth, and the shortcut mark


def _fold(text: str, width: int) -> str:
    """A name (possibly indented) folded to `width`, each continuation aligned with the
    name: one word breaks after a dot or an underscore where it can, several words
    between words (`_wrap_text`):

    >>> print(_fold("  ↳ layer2.0.downsample.0", 16))
      ↳ layer2.0.
        downsample.0
    >>> print(_fold(" Spatially separable: 3x1", 12))
     Spatially
     separable:
     3x1
    """
    indent = len(_NAME_PREFIX.match(text).group())  # type: ignore[union-attr]
    if len(text) <= width:
        return text
    if " " in text[indent:]:  # words ("Spatially separable: 3x1"): wrapped, aligned
        wrapped = _wrap_text(text[indent:], max(width - indent, MIN_NAME_WIDTH // 2))
        return text[:indent] + wrapped.replace("\n", "\n" + " " * indent)
    follow = " " * (indent if indent < width // 2 else 0)
    lines = []
    while len(text) > width:
        breaks = [match.end() for match in _BREAKS.finditer(text, indent + 1, width)]
        cut = breaks[-1] if breaks else width
        lines.append(text[:cut])
        text, indent = follow + text[cut:], len(follow)
    return "\n".join([*lines, text])


def _wrap_cell(text: str, column: Column, width: int) -> str:
    return _fold(text, width) if column.kind == "name" else _wrap_text(text, width)


# Where a word of text may break: after these, or after a dot that a letter follows (a
# module path); never inside a number (``1.0``, ``64x128x128``, ``1,000``), nor between a
# parameter and its value (``stages=4``).
_TEXT_BREAKS: Final = re.compile(r"[_/:;]|,(?!\d)|\.(?=[A-Za-z])")


def _pieces(text: str) -> list[str]:
    """The words of `text`, each cut after every place it may break.

    >>> _pieces("input_shape=64x128x128, torchvision.models.resnet18")
    ['input_', 'shape=64x128x128,', 'torchvision.', 'models.', 'resnet18']
    """
    pieces = []
    for word in text.split():
        start = 0
        for match in _TEXT_BREAKS.finditer(word):
            if match.end() < len(word):
                pieces.append(word[start : match.end()])
                start = match.end()
        pieces.append(word[start:])
    return pieces


def _wrap_text(text: str, width: int) -> str:
    """`text` in lines of at most `width`, broken between words, and inside a word too
    long for a line only where `_pieces` may break it (a piece longer than `width` stays
    whole: the column is never narrower than its longest piece).

    >>> print(_wrap_text("input_shape=64x128x128, base_channels=128", 18))
    input_
    shape=64x128x128,
    base_channels=128
    """
    if len(text) <= width:
        return text
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if len(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for piece in _pieces(word):
            if line and len(line) + len(piece) > width:
                lines.append(line)
                line = ""
            line += piece
    lines.append(line)
    return "\n".join(lines)


def _render_stacked(
    table: Table, texts: Sequence[Sequence[str]], totals: list[str] | None, console: Console
) -> None:
    """A block per row for terminals too narrow for the table: the row's name, then its
    ``header value`` pairs, as many to a line as fit; a pair is never split. A ratio
    follows the value it is the ratio of: ``Spatial 36,864 (50.00%)``."""
    from rich.text import Text

    from convcost.report import Name

    console.print(Text(table.title, style="bold"), soft_wrap=True)
    # A row is titled by its name, or by its first value and that value's header.
    named = any(isinstance(row[0], Name) for row in table.rows)
    header = "" if named else f"{table.columns[0].header} "
    for index, row in enumerate([*texts, *([totals] if totals else [])]):
        label = row[0].strip() or "-"
        label = label if index == len(texts) else header + label  # the totals row: "Total"
        console.print(Text(label, style="bold"), soft_wrap=True)
        pairs: list[str] = []
        for column, cell in zip(table.columns[1:], row[1:]):
            if column.kind == "bar":  # a bar needs a column to line up in
                continue
            if cell and column.header == "ratio" and pairs:  # the ratio of the pair before
                pairs[-1] += f" ({cell})"
            elif cell:
                pairs.append(f"{column.header} {cell}")
        line = ""
        for pair in pairs:
            if line and len(line) + 2 + len(pair) > console.width:
                console.print(Text(line), soft_wrap=True)
                line = ""
            if len(pair) + 2 > console.width:  # a long text: its own lines, indented
                wrapped = _wrap_text(pair, max(console.width - 4, MIN_NAME_WIDTH))
                console.print(Text("  " + wrapped.replace("\n", "\n    ")), soft_wrap=True)
                continue
            line = f"{line}  {pair}" if line else f"  {pair}"
        if line:
            console.print(Text(line), soft_wrap=True)


# --- documents -----------------------------------------------------------------------


_MARKDOWN_SPECIAL: Final = re.compile(r"([\\`*_\[\]<>|#])")


def _markdown_escape(text: str) -> str:
    """Text as Markdown shows it literally (names from spec files may hold * or |)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def render_tabulate(report: Report, format: str, *, exact: bool = False) -> str:
    """Markdown, GitHub, LaTeX (booktabs, ready to paste), reStructuredText or HTML."""
    from tabulate import tabulate

    report = _printable(without_bars(report), cells=False)
    blocks = []
    for table in report.tables:
        rows, totals = _cells(table, exact=exact, style="document", escape=True)
        if totals:
            rows.append(totals)
        headers = [column.header for column in table.columns]
        if format in ("markdown", "github"):
            rows = [[_markdown_escape(cell) for cell in row] for row in rows]
            headers = [_markdown_escape(header) for header in headers]
        text = tabulate(
            rows,
            headers=headers,
            tablefmt=TABULATE_FORMATS[format],
            colalign=["right" if _right(column) else "left" for column in table.columns],
            disable_numparse=True,
        )
        if format in ("markdown", "github"):
            notes = "\n\n".join(_markdown_escape(note) for note in table.notes)
            text = f"**{_markdown_escape(table.title)}**\n\n{text}\n\n{notes}"
        elif format == "latex":
            if totals:  # a rule above the totals row, as papers set them
                lines = text.splitlines()
                lines.insert(lines.index("\\bottomrule") - 1, "\\midrule")
                text = "\n".join(lines)
            notes = "".join(f"% {note}\n" for note in table.notes)
            text = f"% {table.title}\n{notes}{text}"
        elif format == "html":
            text = f"<p><b>{_html(table.title)}</b></p>\n{text}\n" + "".join(
                f"<p>{_html(note)}</p>\n" for note in table.notes
            )
        else:
            text = f"{table.title}\n\n{text}\n\n" + "\n".join(table.notes)
        blocks.append(text.rstrip())
    if report.notes:
        blocks.append(_document_notes(report.notes, format))
    return "\n\n".join(blocks) + "\n" + _explanation(report, format)


def _html(text: str) -> str:
    from html import escape

    return escape(text)


def _document_notes(notes: tuple[str, ...], format: str) -> str:
    """Notes on a whole report, as the document format writes prose."""
    if format in ("markdown", "github"):
        return "\n\n".join(_markdown_escape(note) for note in notes)
    if format == "latex":
        return "".join(f"% {note}\n" for note in notes).rstrip("\n")
    if format == "html":
        return "".join(f"<p>{_html(note)}</p>\n" for note in notes).rstrip("\n")
    return "\n".join(notes)


# --- CSV -------------------------------------------------------------------------------


def render_csv(report: Report) -> str:
    """One CSV table (RFC 4180 line ends) that spreadsheets and `pandas.read_csv` read
    with no options: one header row of unique machine names, exact integers, no
    indentation. Tables of one report become one, told apart by their key column
    (``metric``: params, macs); columns a table lacks stay empty."""
    tables = without_bars(report).tables
    keys = list(dict.fromkeys(table.key[0] for table in tables if table.key))
    columns: dict[str, Column] = {}
    for table in tables:
        for column in table.columns:
            columns.setdefault(column.key, column)
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*keys, *columns])
    for table in tables:
        by_key = {column.key: column for column in table.columns}
        rows = (*table.rows, table.totals) if table.totals else table.rows
        for row in rows:
            cells = dict(zip((column.key for column in table.columns), row))
            head = [table.key[1] if table.key and table.key[0] == key else "" for key in keys]
            writer.writerow(
                [
                    *head,
                    *(
                        format_cell(cells[key], by_key[key], style="csv") if key in cells else ""
                        for key in columns
                    ),
                ]
            )
    return buffer.getvalue()


# --- any format ----------------------------------------------------------------------


def _explanation(report: Report, format: str) -> str:
    """`--explain`'s formulas, fenced as the output format wants verbatim text."""
    if not report.explanation:
        return ""
    text = "\n".join(report.explanation).rstrip("\n") + "\n"
    if format in ("markdown", "github"):
        return f"\n```text\n{text}```\n"
    if format == "latex":
        return "\n" + "".join(f"% {line}\n" if line else "%\n" for line in text.splitlines())
    if format == "html":
        return f"<pre>\n{_html(text)}</pre>\n"
    if format == "rst":
        return "\n::\n\n" + "".join(f"    {line}\n" if line else "\n" for line in text.splitlines())
    return "\n" + text


def render_text(report: Report, format: str, *, exact: bool = False, width: int = 100) -> str:
    """`report` in any format as text; rich is drawn at `width` columns without colour."""
    if format == "json":
        return report.to_json()
    if format == "csv":
        return render_csv(report)
    if format == "plain":
        return render_plain(report, exact=exact)
    if format == "rich":
        from rich.console import Console

        buffer = io.StringIO()
        console = Console(
            file=buffer, width=width, color_system=None, highlight=False, emoji=False, markup=False
        )
        render_rich(report, console, exact=exact)
        return buffer.getvalue()
    if format in TABULATE_FORMATS:
        return render_tabulate(report, format, exact=exact)
    from convcost.checks import check_choice

    check_choice("format", format, FORMATS)
    raise AssertionError("unreachable: every format is handled above")
