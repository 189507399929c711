"""CSV for scripts: the changes table, money as plain decimals in major units
(``1299.90``, dot separator) beside the ISO currency, percentages as numbers.
UTF-8 without BOM, comma-separated, one header row. Text that a spreadsheet would run
as a formula (``=...``, ``+``, ``-``, ``@``) is written quoted (:mod:`repricer.cells`).
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

from repricer.cells import safe_cell, safe_text
from repricer.money import from_minor
from repricer.reports._frames import records
from repricer.reports.build import Report
from repricer.reports.history import PriceHistory

CSV_COLUMNS = (
    "id",
    "sku",
    "title",
    "category",
    "brand",
    "currency",
    "old_price",
    "new_price",
    "final_price",
    "change",
    "change_pct",
    "cost",
    "margin_before",
    "margin_after",
    "market_min",
    "market_median",
    "market_competitor",
    "competitors",
    "position_after_pct",
    "rule",
    "strategy",
    "status",
    "approved_by",
    "approved_at",
    "flags",
    "guards",
    "explanation",
)
MONEY = frozenset(
    {
        "old_price",
        "new_price",
        "final_price",
        "change",
        "cost",
        "margin_before",
        "margin_after",
        "market_min",
        "market_median",
    }
)
HISTORY_COLUMNS = ("sku", "at", "series", "kind", "price", "currency")


def write_csv(report: Report, path: Path) -> Path:
    """Write the run's changes to ``path`` and return the path."""
    rows = [
        {c: _cell(c, row[c], str(row["currency"])) for c in CSV_COLUMNS}
        for row in records(report.changes)
    ]
    return _write(path, CSV_COLUMNS, rows)


def write_history_csv(history: PriceHistory, path: Path) -> Path:
    """Write one SKU's history points (sku, at, series, kind, price, currency)."""
    rows = [
        {
            "sku": safe_text(history.sku),
            "at": row["at"].isoformat(),
            "series": safe_cell(row["series"]),
            "kind": safe_cell(row["kind"]),
            "price": from_minor(int(row["price"]), history.currency),
            "currency": history.currency,
        }
        for row in records(history.points)
    ]
    return _write(path, HISTORY_COLUMNS, rows)


def _cell(column: str, value: Any, currency: str) -> Any:
    if value is None:
        return ""
    if column in MONEY:
        return from_minor(int(value), currency)
    if column.endswith("_pct"):
        return Decimal(f"{value:.2f}")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    return safe_text(str(value))


def _write(path: Path, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path
