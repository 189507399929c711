"""The YML and tabular parsers on the fixture feeds, and on broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from repricer.config import SupplierSettings
from repricer.exceptions import InputFileError
from repricer.feeds.parsers import iter_rows
from tests.feeds.conftest import FEEDS


def supplier(fmt: str, path: Path, **extra: object) -> SupplierSettings:
    return SupplierSettings.model_validate({"name": "s", "path": path, "format": fmt, **extra})


def test_yml_utf8_fields() -> None:
    rows = dict(iter_rows(FEEDS / "offers-utf8.yml", supplier("yml", FEEDS / "offers-utf8.yml")))
    first = rows["A-1"]
    assert first["cost"] == "1299.90" and first["old_price"] == "1499"
    assert first["vendor_code"] == "BSH-1" and first["name"] == "Дрель Bosch PSB 500"
    assert first["stock"] == "7" and first["available"] == "true"
    assert rows["A-3"]["stock"] == 5  # summed over outlets
    assert rows[52]["sku"] is None  # an offer without id is reported by its line


def test_yml_windows_1251_from_declaration() -> None:
    path = FEEDS / "offers-cp1251.yml"
    assert b"windows-1251" in path.read_bytes()[:60]
    rows = dict(iter_rows(path, supplier("yml", path)))
    assert rows["A-1"]["name"] == "Дрель ударная «Бош»"


def test_yml_purchase_price_is_the_cost(tmp_path: Path) -> None:
    path = tmp_path / "f.yml"
    path.write_text(
        '<yml_catalog><shop><offers><offer id="1"><price>150</price>'
        "<purchase_price>100</purchase_price></offer></offers></shop></yml_catalog>"
    )
    ((_ref, fields),) = iter_rows(path, supplier("yml", path))
    assert fields["cost"] == "100" and fields["retail_price"] == "150"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b'<?xml version="1.0"?><yml_catalog><shop><offers><offer id="1"><price>1',
            "not well-formed",
        ),
        (b"<html><body>502 Bad Gateway</body></html>", "not a YML catalog"),
        (b"\x00\x01 binary garbage", "not well-formed"),
        (b"", "not well-formed"),
    ],
    ids=["truncated", "html-page", "binary", "empty-file"],
)
def test_yml_unreadable(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.yml"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=message):
        list(iter_rows(path, supplier("yml", path)))


def test_csv_cp1251_semicolons_title_row() -> None:
    path = FEEDS / "price-cp1251.csv"
    rows = list(iter_rows(path, supplier("csv", path)))
    assert rows[0] == (
        3,
        {
            "sku": "A-1",
            "name": "Дрель",
            "cost": "1\u00a0199,50 руб.",
            "stock": "5",
            "barcode": "4601234567890",
        },
    )
    assert rows[1][1]["stock"] == "нет"


def test_xlsx_header_located_below_title() -> None:
    path = FEEDS / "price.xlsx"
    rows = list(iter_rows(path, supplier("xlsx", path)))
    assert rows[0][0] == 4
    assert rows[0][1]["sku"] == "A-1" and rows[0][1]["cost"] == 1210.5
    assert rows[0][1]["retail_price"] == 1590 and rows[0][1]["stock"] == 2


def test_table_column_map_from_settings(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("Код;Закупка;Склад\nA-1;10,5;3\n", encoding="utf-8")
    cols = {"sku": "Код", "cost": "Закупка", "stock": "Склад"}
    rows = list(iter_rows(path, supplier("csv", path, columns=cols)))
    assert rows == [(2, {"sku": "A-1", "cost": "10,5", "stock": "3"})]


def test_table_without_cost_column(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("Артикул;Название\nA-1;Дрель\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="no column for cost"):
        list(iter_rows(path, supplier("csv", path)))


def test_xlsx_garbage(tmp_path: Path) -> None:
    path = tmp_path / "p.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputFileError, match="not a readable XLSX"):
        list(iter_rows(path, supplier("xlsx", path)))


def test_yml_encoding_setting_overrides(tmp_path: Path) -> None:
    path = tmp_path / "f.yml"
    body = '<yml_catalog><shop><offers><offer id="1"><price>5</price><name>Дрель</name></offer></offers></shop></yml_catalog>'
    path.write_bytes(body.encode("cp1251"))  # no declaration: UTF-8 would be assumed
    with pytest.raises(InputFileError):
        list(iter_rows(path, supplier("yml", path)))
    ((_ref, fields),) = iter_rows(path, supplier("yml", path, encoding="windows-1251"))
    assert fields["name"] == "Дрель"
