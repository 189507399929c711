"""Synthetic supplier feeds read back through the feed parsers as written: YML with
escaped text and stock, cp1251 CSV with decimal commas, messy prices kept verbatim."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from repricer.config import SupplierSettings
from repricer.feeds.parsers.table import iter_table
from repricer.feeds.parsers.yml import iter_yml
from repricer.money import parse_amount
from repricer.synthetic.feeds import CSV_COLUMNS, FeedOffer, csv_feed, yml_feed

OFFERS = [
    FeedOffer(
        "A-1", cost=123450, stock=0, name="Чайник <X> & Y", brand="B&C", barcode="4600000000017"
    ),
    FeedOffer("A-2", cost=99, stock=7, name="Фильтр"),
    FeedOffer("A-3", price_text="1 299,90 руб.", name="Кружка"),
]


def test_yml_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "feed.yml"
    path.write_bytes(yml_feed(OFFERS, shop="Альфа", category="Дом", encoding="windows-1251"))
    rows = {key: fields for key, fields in iter_yml(path)}
    assert rows["A-1"]["cost"] == "1234.50" and rows["A-1"]["available"] == "false"
    assert (rows["A-1"]["name"], rows["A-1"]["vendor"]) == ("Чайник <X> & Y", "B&C")
    assert (rows["A-2"]["cost"], rows["A-2"]["stock"], rows["A-2"]["available"]) == (
        "0.99",
        "7",
        "true",
    )
    assert rows["A-3"]["cost"] == "1 299,90 руб." and rows["A-3"]["stock"] is None


def test_cp1251_csv_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "feed.csv"
    path.write_bytes(csv_feed(OFFERS))
    columns = {field: CSV_COLUMNS[field] for field in ("sku", "cost", "stock")}
    supplier = SupplierSettings(
        name="beta", path=path, format="csv", delimiter=";", columns=columns
    )
    rows = [fields for _line, fields in iter_table(path, supplier)]
    assert [r["sku"] for r in rows] == ["A-1", "A-2", "A-3"]
    assert rows[0]["cost"] == "1\u00a0234,50" and rows[0]["stock"] == "0"
    assert parse_amount(rows[0]["cost"]) == Decimal("1234.50")
    assert rows[1]["cost"] == "0,99" and rows[2]["stock"] == ""
