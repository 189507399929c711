"""The XLSX report: a Summary sheet and a Changes sheet for catalog managers in Excel.

Money cells are numbers in major units with the currency's number format (``1 299,90 ₽``
shows as ``1,299.90 ₽`` or per the user's locale); change cells are green when the price
goes up and red when it goes down; the header is frozen and has an autofilter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from repricer._currencies import SYMBOLS
from repricer.money import from_minor, minor_digits
from repricer.reports._frames import records
from repricer.reports.build import Report

PERCENT_FORMAT = "+0.0%;-0.0%;0.0%"
DATE_FORMAT = "yyyy-mm-dd hh:mm"
HEADER_FILL = PatternFill("solid", fgColor="1E293B")
UP_FILL, DOWN_FILL = PatternFill("solid", fgColor="DCFCE7"), PatternFill("solid", fgColor="FEE2E2")
UP_FONT, DOWN_FONT = Font(color="166534", bold=True), Font(color="991B1B", bold=True)


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
COLOURED = ("change", "change_pct")


def money_format(currency: str) -> str:
    """Excel number format for ``currency``: thousands separators, its minor digits, symbol."""
    digits = minor_digits(currency)
    number = "#,##0" + ("." + "0" * digits if digits else "")
    symbol = SYMBOLS.get(currency, currency).replace('"', "")
    return f'{number} "{symbol}"'


def write_xlsx(report: Report, path: Path) -> Path:
    """Write the run report to ``path`` and return the path."""
    book = Workbook()
    _summary_sheet(book.active, report)  # type: ignore[arg-type]
    _changes_sheet(book.create_sheet("Changes"), report)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def _summary_sheet(sheet: Worksheet, report: Report) -> None:
    sheet.title = "Summary"
    run, s = report.run, report.summary
    _header(sheet, ["Metric", "Value"], [34, 22])
    rows: list[tuple[str, Any, str]] = [
        ("Run", run.id, "int"),
        ("Run status", run.status, "text"),
        ("Started", run.started_at, "date"),
        ("Finished", run.finished_at, "date"),
        ("Circuit breaker", run.breaker or "", "text"),
        ("Currency", s.currency, "text"),
        *((label, value, "money" if kind == "money" else kind) for label, value, kind in s.rows()),
        *((f"Status: {status}", count, "count") for status, count in s.statuses.items()),
    ]
    for r, (label, value, kind) in enumerate(rows, start=2):
        sheet.cell(r, 1, label)
        cell = sheet.cell(r, 2, _value(_scaled(value, kind), kind, s.currency))
        _format(cell, kind, s.currency)


def _changes_sheet(sheet: Worksheet, report: Report) -> None:
    _header(sheet, [c.header for c in CHANGE_COLUMNS], [c.width for c in CHANGE_COLUMNS])
    rows = records(report.changes)
    for r, row in enumerate(rows, start=2):
        currency = str(row["currency"])
        direction = row["direction"]
        for index, column in enumerate(CHANGE_COLUMNS, start=1):
            value = _value(_scaled(row[column.key], column.kind), column.kind, currency)
            cell = sheet.cell(r, index, value)
            _format(cell, column.kind, currency)
            if column.key in COLOURED and direction in ("up", "down"):
                cell.fill = UP_FILL if direction == "up" else DOWN_FILL
                cell.font = UP_FONT if direction == "up" else DOWN_FONT
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(CHANGE_COLUMNS))}{len(rows) + 1}"


def _header(sheet: Worksheet, headers: list[str], widths: list[int]) -> None:
    sheet.append(headers)
    for index, width in enumerate(widths, start=1):
        cell = sheet.cell(1, index)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"


def _scaled(value: Any, kind: str) -> Any:
    return value / 100 if kind == "percent" and value is not None else value


def _value(value: Any, kind: str, currency: str) -> Any:
    if value is None:
        return None
    if kind == "money":
        return from_minor(int(value), currency)
    if kind == "date" and isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)  # Excel has no time zones
    if kind in ("int", "count"):
        return int(value)
    return value


_FORMATS: dict[str, Callable[[str], str]] = {
    "money": money_format,
    "percent": lambda _: PERCENT_FORMAT,
    "date": lambda _: DATE_FORMAT,
}


def _format(cell: Any, kind: str, currency: str) -> None:
    if kind in _FORMATS:
        cell.number_format = _FORMATS[kind](currency)
