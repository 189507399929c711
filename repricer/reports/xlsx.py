"""The XLSX report: a Summary sheet and a Changes sheet for catalog managers in Excel.

Money cells are numbers in major units with the currency's number format (``1 299,90 ₽``
shows as ``1,299.90 ₽`` or per the user's locale); change cells are green when the price
goes up and red when it goes down; the header is frozen and has an autofilter. Text
cells are stored as text, and text that would start a formula is quoted
(:mod:`repricer.cells`): a title like ``=HYPERLINK(...)`` never runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from repricer._currencies import SYMBOLS
from repricer.cells import safe_cell, safe_text
from repricer.money import from_minor, minor_digits
from repricer.reports._frames import records
from repricer.reports.build import Report

PERCENT_FORMAT = "+0.0%;-0.0%;0.0%"
DATE_FORMAT = "yyyy-mm-dd hh:mm"
HEADER_FILL = PatternFill("solid", fgColor="1E293B")
UP_FILL, DOWN_FILL = PatternFill("solid", fgColor="DCFCE7"), PatternFill("solid", fgColor="FEE2E2")
UP_FONT, DOWN_FONT = Font(color="166534", bold=True), Font(color="991B1B", bold=True)
HEADER_FONT = Font(bold=True, color="FFFFFF")


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    kind: str = "text"  # text | money | percent | date | int
    width: int = 14


CHANGE_COLUMNS = (
    Column("ID", "id", "int", 8),
    Column("SKU", "sku", width=16),
    Column("Product", "title", width=40),
    Column("Category", "category", width=16),
    Column("Brand", "brand"),
    Column("Currency", "currency", width=9),
    Column("Old price", "old_price", "money"),
    Column("New price", "final_price", "money"),
    Column("Proposed price", "new_price", "money"),
    Column("Change", "change", "money"),
    Column("Change %", "change_pct", "percent", 10),
    Column("Cost", "cost", "money"),
    Column("Margin before", "margin_before", "money"),
    Column("Margin after", "margin_after", "money"),
    Column("Margin after %", "margin_after_pct", "percent", 10),
    Column("Cheapest competitor price", "market_min", "money", 16),
    Column("Cheapest competitor", "market_competitor", width=18),
    Column("Vs market after %", "position_after_pct", "percent", 10),
    Column("Rule", "rule", width=18),
    Column("Strategy", "strategy"),
    Column("Status", "status"),
    Column("Decided by", "approved_by"),
    Column("Decided at", "approved_at", "date", 17),
    Column("Guards", "guards", width=18),
    Column("Flags", "flags", width=18),
    Column("Explanation", "explanation", width=70),
)
COLOURED_INDEXES = [i for i, c in enumerate(CHANGE_COLUMNS) if c.key in ("change", "change_pct")]


def money_format(currency: str) -> str:
    """Excel number format for ``currency``: thousands separators, its minor digits, symbol."""
    digits = minor_digits(currency)
    number = "#,##0" + ("." + "0" * digits if digits else "")
    symbol = SYMBOLS.get(currency, currency).replace('"', "")
    return f'{number} "{symbol}"'


def write_xlsx(report: Report, path: Path) -> Path:
    """Write the run report to ``path`` and return the path (rows are streamed: a
    write-only workbook keeps memory flat on large catalogs)."""
    book = Workbook(write_only=True)
    _summary_sheet(book.create_sheet("Summary"), report)
    _changes_sheet(book.create_sheet("Changes"), report)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def _summary_sheet(sheet: Any, report: Report) -> None:
    run, s = report.run, report.summary
    rows: list[tuple[str, Any, str]] = [
        ("Run", run.id, "int"),
        ("Run status", run.status, "text"),
        ("Started", run.started_at, "date"),
        ("Finished", run.finished_at, "date"),
        ("Circuit breaker", run.breaker or "", "text"),
        ("Currency", s.currency, "text"),
        *s.rows(),
        *((f"Status: {status}", count, "count") for status, count in s.statuses.items()),
    ]
    _header(sheet, ["Metric", "Value"], [34, 22], len(rows))
    for label, value, kind in rows:
        sheet.append([label, _cell(sheet, value, kind, s.currency)])


def _changes_sheet(sheet: Any, report: Report) -> None:
    rows = records(report.changes)
    _header(sheet, [c.header for c in CHANGE_COLUMNS], [c.width for c in CHANGE_COLUMNS], len(rows))
    for row in rows:
        currency, direction = str(row["currency"]), row["direction"]
        cells = [_cell(sheet, row[c.key], c.kind, currency) for c in CHANGE_COLUMNS]
        if direction in ("up", "down"):
            for index in COLOURED_INDEXES:
                cells[index].fill = UP_FILL if direction == "up" else DOWN_FILL
                cells[index].font = UP_FONT if direction == "up" else DOWN_FONT
        sheet.append(cells)


def _header(sheet: Any, headers: list[str], widths: list[int], rows: int) -> None:
    """Header row, column widths, frozen header and an autofilter over ``rows`` rows
    (write-only sheets need all of it before the first row)."""
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{rows + 1}"
    cells = []
    for title in headers:
        cell = WriteOnlyCell(sheet, value=safe_text(title))
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        cells.append(cell)
    sheet.append(cells)


def _cell(sheet: Any, value: Any, kind: str, currency: str) -> Cell:
    value = _value(_scaled(value, kind), kind, currency)
    cell = WriteOnlyCell(sheet, value=safe_cell(value))
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would store "=..." as a formula
    if kind in _FORMATS:
        cell.number_format = _FORMATS[kind](currency)
    return cell


def _scaled(value: Any, kind: str) -> Any:
    return value / 100 if kind == "percent" and value is not None else value


def _value(value: Any, kind: str, currency: str) -> Any:
    if value is None:
        return None
    if kind == "money":
        return from_minor(int(value), currency)
    if kind == "date" and isinstance(value, datetime):
        # Excel has no time zones: UTC wall time (naive values from SQLite are UTC)
        return (
            value.replace(tzinfo=None)
            if value.tzinfo is None
            else value.astimezone(UTC).replace(tzinfo=None)
        )
    if kind in ("int", "count"):
        return int(value)
    return value


_FORMATS: dict[str, Callable[[str], str]] = {
    "money": money_format,
    "percent": lambda _: PERCENT_FORMAT,
    "date": lambda _: DATE_FORMAT,
}
