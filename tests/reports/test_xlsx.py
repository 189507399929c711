"""The XLSX report re-opened with openpyxl: sheets, columns, formats, colours, filter."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl
from sqlalchemy import Engine

from repricer.reports import Report, build_report, write_xlsx
from repricer.reports.xlsx import CHANGE_COLUMNS, PERCENT_FORMAT, money_format
from tests.reports.factory import add_run

MONEY_HEADERS = [
    "Proposed price",
    "Old price",
    "New price",
    "Change",
    "Cost",
    "Margin before",
    "Margin after",
    "Cheapest competitor price",
]


def test_money_format_per_currency() -> None:
    assert money_format("RUB") == '#,##0.00 "₽"'
    assert money_format("JPY") == '#,##0 "¥"'
    assert money_format("KWD") == '#,##0.000 "KWD"'


def test_xlsx_sheets_columns_and_formats(report: Report, tmp_path: Path) -> None:
    path = write_xlsx(report, tmp_path / "out" / "run.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Summary", "Changes"]
    sheet = book["Changes"]
    headers = [c.value for c in sheet[1]]
    assert headers == [c.header for c in CHANGE_COLUMNS]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:Z{len(report.changes) + 1}"
    assert sheet.max_row == 21
    col = {h: i + 1 for i, h in enumerate(headers)}
    by_sku = {sheet.cell(r, col["SKU"]).value: r for r in range(2, sheet.max_row + 1)}
    k1 = by_sku["K-1"]
    assert sheet.cell(k1, col["Old price"]).value == 1000
    assert sheet.cell(k1, col["New price"]).value == 969
    s5 = by_sku["S-5"]  # rejected: the old price stays, the proposal is still shown
    assert (
        sheet.cell(s5, col["New price"]).value,
        sheet.cell(s5, col["Proposed price"]).value,
    ) == (990, 790)
    for header in MONEY_HEADERS:
        assert sheet.cell(k1, col[header]).number_format == '#,##0.00 "₽"', header
    change_pct = sheet.cell(k1, col["Change %"])
    assert change_pct.number_format == PERCENT_FORMAT and abs(change_pct.value + 0.031) < 1e-9
    decided = sheet.cell(k1, col["Decided at"])
    assert decided.number_format == "yyyy-mm-dd hh:mm"
    assert decided.value == datetime(2026, 11, 20, 12, 10)  # UTC wall time
    assert sheet.cell(k1, col["Decided by"]).value == "maria"


def test_xlsx_colours_up_green_and_down_red(report: Report, tmp_path: Path) -> None:
    sheet = openpyxl.load_workbook(write_xlsx(report, tmp_path / "run.xlsx"))["Changes"]
    headers = [c.value for c in sheet[1]]
    change = headers.index("Change") + 1
    fills = {
        sheet.cell(r, 2).value: sheet.cell(r, change).fill.fgColor.rgb
        for r in range(2, sheet.max_row + 1)
    }
    assert fills["K-2"].endswith("DCFCE7")  # up
    assert fills["K-1"].endswith("FEE2E2")  # down
    assert fills["K-3"] == "00000000"  # unchanged: no fill
    assert sheet.cell(1, 1).font.bold


def test_xlsx_summary_sheet(report: Report, tmp_path: Path) -> None:
    sheet = openpyxl.load_workbook(write_xlsx(report, tmp_path / "run.xlsx"))["Summary"]
    values = {row[0].value: row[1] for row in sheet.iter_rows(min_row=2)}
    assert values["Run"].value == report.run.id
    assert values["Prices up"].value == 6 and values["Prices down"].value == 9
    assert values["Margin impact"].value == -431.6
    assert values["Margin impact"].number_format == '#,##0.00 "₽"'
    assert values["Cheaper than market, after"].value == 0.25
    assert values["Cheaper than market, after"].number_format == PERCENT_FORMAT
    assert values["Status: needs_approval"].value == 1
    assert sheet.freeze_panes == "A2"


def test_xlsx_of_an_empty_run(engine: Engine, tmp_path: Path) -> None:
    path = write_xlsx(build_report(engine, add_run(engine, [])), tmp_path / "empty.xlsx")
    book = openpyxl.load_workbook(path)
    assert book["Changes"].max_row == 1 and book["Summary"]["B2"].value is not None
