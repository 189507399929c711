"""Row normalisation: money, stock and availability cells, and the reasons rows are skipped."""

from __future__ import annotations

from typing import Any

import pytest

from repricer.feeds.records import FeedRecord, build_record, parse_minor, parse_stock

MONEY = [
    ("1299", 129900),
    ("1299.9", 129990),
    ("1299,90", 129990),
    ("1\u00a0299,90 руб.", 129990),
    ("1\u2009299", 129900),
    ("₽ 1 299", 129900),
    (1210.5, 121050),
    (15, 1500),
    ("abc", None),
    ("", None),
    (None, None),
    ("2 x 300", None),
]


@pytest.mark.parametrize(("cell", "minor"), MONEY, ids=[repr(c) for c, _ in MONEY])
def test_parse_minor(cell: Any, minor: int | None) -> None:
    assert parse_minor(cell, "RUB") == minor


STOCK = [("7", 7), (">10", 10), ("10+", 10), ("нет", 0), ("есть", None), (3.0, 3), ("", None)]


@pytest.mark.parametrize(("cell", "qty"), STOCK, ids=[repr(c) for c, _ in STOCK])
def test_parse_stock(cell: Any, qty: int | None) -> None:
    assert parse_stock(cell) == qty


SKIPPED = [
    ({"cost": "100"}, "no sku"),
    ({"sku": "  ", "cost": "100"}, "no sku"),
    ({"sku": "A", "cost": "abc"}, "cost 'abc' is not a number"),
    ({"sku": "A", "cost": "0"}, "cost must be positive, got '0'"),
    ({"sku": "A", "cost": "-5"}, "cost must be positive, got '-5'"),
    ({"sku": "A"}, "no cost"),
    ({"sku": "A", "cost": "1", "currency": "doubloons"}, "unknown currency 'doubloons'"),
    ({"sku": "x" * 101, "cost": "1"}, "sku longer than 100 characters"),
]


@pytest.mark.parametrize(("raw", "reason"), SKIPPED, ids=[r for _, r in SKIPPED])
def test_junk_rows_give_a_reason(raw: dict[str, Any], reason: str) -> None:
    assert build_record(raw, "sku", "RUB") == reason


def test_record_fields() -> None:
    raw = {
        "sku": " A-1 ",
        "cost": "1 299,90",
        "old_price": "1499",
        "currency": "RUR",
        "stock": "0",
        "available": "true",
        "barcode": "4601234567890",
        "name": "Дрель",
    }
    record = build_record(raw, "sku", "RUB")
    assert isinstance(record, FeedRecord)
    assert (record.key, record.cost, record.old_price, record.currency) == (
        "A-1",
        129990,
        149900,
        "RUB",
    )
    assert record.stock_qty == 0 and record.available is False  # zero stock is not available
    assert record.barcode == "4601234567890"


def test_key_by_barcode_and_bad_barcode_dropped() -> None:
    record = build_record({"barcode": 4601234567890.0, "cost": 5}, "barcode", "RUB")
    assert isinstance(record, FeedRecord) and record.key == "4601234567890"
    kept = build_record({"sku": "A", "cost": 5, "barcode": "n/a"}, "sku", "RUB")
    assert isinstance(kept, FeedRecord) and kept.barcode is None
