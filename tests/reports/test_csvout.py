"""CSV for scripts: decimals in major units, one header, every product once."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import Engine

from repricer.reports import Report, price_history, write_csv, write_history_csv
from repricer.reports.csvout import CSV_COLUMNS


def test_changes_csv(report: Report, tmp_path: Path) -> None:
    path = write_csv(report, tmp_path / "run.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        assert not fh.read(1).startswith("\ufeff")
        fh.seek(0)
        rows = {r["sku"]: r for r in csv.DictReader(fh)}
    assert len(rows) == 20
    assert list(next(iter(rows.values()))) == list(CSV_COLUMNS)
    k1 = rows["K-1"]
    assert (k1["old_price"], k1["new_price"], k1["change"], k1["change_pct"]) == (
        "1000.00",
        "969.00",
        "-31.00",
        "-3.10",
    )
    assert (k1["market_min"], k1["market_competitor"], k1["competitors"]) == (
        "970.00",
        "alpha-shop",
        "2",
    )
    assert rows["S-6"]["new_price"] == "" and rows["S-6"]["cost"] == ""
    assert rows["S-5"]["explanation"] == "<b>bold</b> & co"  # CSV is data: not escaped


def test_history_csv(engine: Engine, scene: int, tmp_path: Path) -> None:
    path = write_history_csv(price_history(engine, "K-1"), tmp_path / "k1.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["series"] for r in rows} == {
        "our price",
        "proposed",
        "cost",
        "alpha-shop",
        "beta-market",
    }
    assert all(r["currency"] == "RUB" and r["sku"] == "K-1" for r in rows)
    assert "0.01" not in {r["price"] for r in rows}  # the anomaly is not history
