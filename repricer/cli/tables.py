"""Tables that read at any terminal width (80 columns and up).

Headers are never cut, and neither are short values (numbers, money, dates, statuses, SKUs).
When a table is wider than the terminal:

1. the longest text columns (titles, explanations, reasons) are shortened to one line ending
   in "…", as long as each keeps at least ``USEFUL`` characters — ``--json`` has every value
   in full;
2. columns empty in every row are left out;
3. then the longest text column leaves the table and is printed under it, one line per row,
   keyed by the row's SKU (else its first column): ``KT-100: cheapest competitor …``;
4. when even the headers and short values do not fit side by side, each row is printed as a
   small two-column block (field, value) that wraps instead of cutting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

# A text column is cut to no fewer than this many characters (or its header's width).
USEFUL = 16
# Values up to this long are "short" (numbers, money, dates, statuses): never cut.
SHORT = 24
# Columns are separated by two spaces (no vertical rules, no outer edge): a header rule only.
_GAP = 2

Formatter = Callable[[Any], str]


def render_table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    width: int,
    *,
    title: str | None = None,
    formatters: dict[str, Formatter] | None = None,
) -> RenderableType:
    """A renderable of ``rows`` fitted to ``width``: a table (with notes under it when a
    long column had to leave it), or row blocks when too narrow for a table."""
    cells = [[_format(formatters, column, row.get(column)) for column in columns] for row in rows]
    shown = list(range(len(columns)))
    if fit_widths(columns, cells, width) is None:  # leave out columns with no value at all
        shown = [i for i in shown if i == 0 or any(line[i] for line in cells)]
    while (widths := fit_widths([columns[i] for i in shown], _pick(cells, shown), width)) is None:
        longest = _longest_text(columns, cells, shown)
        if longest is None:
            return _blocks(columns, cells, title)
        shown.remove(longest)
    table = Table(
        title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0)
    )
    for index, column_width in zip(shown, widths, strict=True):
        natural = _natural(columns[index], [line[index] for line in cells])
        table.add_column(
            columns[index],
            width=column_width,
            no_wrap=True,
            overflow="ellipsis" if column_width < natural else "fold",
            justify="right" if _numeric(rows, columns[index]) else "left",
        )
    for line in cells:
        table.add_row(*(Text(line[i]) for i in shown))  # user data is text, never markup
    notes = [i for i in range(len(columns)) if i not in shown and any(line[i] for line in cells)]
    key = columns.index("sku") if "sku" in columns else 0
    return Group(table, *_notes(columns, cells, notes, key)) if notes else table


def fit_widths(
    columns: Sequence[str], cells: Sequence[Sequence[str]], width: int
) -> list[int] | None:
    """Column widths whose table fits ``width``, cutting only long text columns and none
    under ``USEFUL``; ``None`` when that is not enough."""
    naturals = [_natural(column, [line[i] for line in cells]) for i, column in enumerate(columns)]
    floors = [
        natural if natural <= SHORT else max(len(column), USEFUL)
        for column, natural in zip(columns, naturals, strict=True)
    ]
    room = width - _GAP * (len(columns) - 1)
    if sum(floors) > room:
        return None
    if sum(naturals) <= room:
        return naturals
    # Lower a common cap on the widest columns until everything fits (never under a floor).
    cap = max(naturals)
    while sum(max(f, min(n, cap)) for f, n in zip(floors, naturals, strict=True)) > room:
        cap -= 1
    return [max(f, min(n, cap)) for f, n in zip(floors, naturals, strict=True)]


def _longest_text(
    columns: Sequence[str], cells: Sequence[Sequence[str]], shown: list[int]
) -> int | None:
    """The shown column (not the first: it keys the notes) with the longest long values."""
    candidates = [(_natural(columns[i], [line[i] for line in cells]), i) for i in shown[1:]]
    long = [(natural, i) for natural, i in candidates if natural > SHORT]
    return max(long)[1] if long else None


def _notes(
    columns: Sequence[str], cells: Sequence[Sequence[str]], notes: list[int], key: int
) -> list[Text]:
    """The columns taken out of the table, one line per row and column, keyed by ``key``."""
    lines = []
    for line in cells:
        for i in notes:
            if line[i]:
                label = line[key] if len(notes) == 1 else f"{line[key]} {columns[i]}"
                lines.append(Text(f"{label}: {line[i]}"))
    return lines


def _pick(cells: Sequence[Sequence[str]], shown: list[int]) -> list[list[str]]:
    return [[line[i] for i in shown] for line in cells]


def print_rows(
    console: Console,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    *,
    title: str | None = None,
    formatters: dict[str, Formatter] | None = None,
) -> None:
    """Print ``rows`` fitted to the console's width (notes wrap at it too)."""
    table = render_table(rows, columns, console.width, title=title, formatters=formatters)
    console.print(table, soft_wrap=False)


def _blocks(columns: Sequence[str], cells: Sequence[Sequence[str]], title: str | None) -> Group:
    parts: list[RenderableType] = []
    if title:
        parts.append(Text(title, style="bold"))
    for line in cells:
        block = Table.grid(padding=(0, 2))
        block.add_column(style="dim", no_wrap=True)
        block.add_column(overflow="fold")
        for column, value in zip(columns, line, strict=True):
            block.add_row(column, Text(value))
        parts += [block, Text("")]
    return Group(*parts)


def _natural(header: str, values: Sequence[str]) -> int:
    return max([len(header), *(Text(value).cell_len for value in values)])


def _numeric(rows: Sequence[dict[str, Any]], column: str) -> bool:
    values = [row.get(column) for row in rows if row.get(column) is not None]
    return bool(values) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    )


def _format(formatters: dict[str, Formatter] | None, column: str, value: Any) -> str:
    if formatters and column in formatters:
        return formatters[column](value)
    return "" if value is None else str(value)
