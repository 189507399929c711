from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, func, select

from repricer.catalog import import_catalog, import_listings
from repricer.config import Settings
from repricer.db import session_scope
from repricer.db.models import Listing, Product
from repricer.exceptions import InputFileError

NBSP, THIN = "\u00a0", "\u202f"

CP1251_CSV = (
    "Артикул;Наименование;Бренд;Категория;Штрихкод;Цена;Остаток;МРЦ\n"
    f"A-1;Чайник «Аква»;Aqua;Чайники;4601234567893;1{NBSP}299,90;5;1 100\n"
    "A-2;Тостер;Toast;Тостеры;;2 490;0;\n"
)


def _products(engine: Engine) -> dict[str, Product]:
    with session_scope(engine) as session:
        return {p.sku: p for p in session.scalars(select(Product))}


@pytest.fixture
def settings(settings_from: Callable[[str], Settings]) -> Settings:
    return settings_from(
        """
        [[competitors]]
        name = "citilink"
        domain = "citilink.example"
        [[competitors]]
        name = "local"
        domain = "127.0.0.1"
        """
    )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
def test_semicolon_csv_with_decimal_commas(
    tmp_path: Path, settings: Settings, engine: Engine, encoding: str
) -> None:
    path = tmp_path / "catalog.csv"
    path.write_bytes(CP1251_CSV.encode(encoding))
    report = import_catalog(settings, engine, path)
    assert (report.imported, report.rejected) == (2, [])
    products = _products(engine)
    kettle = products["A-1"]
    assert (kettle.title, kettle.price, kettle.map_price, kettle.stock) == (
        "Чайник «Аква»",
        129990,
        110000,
        5,
    )
    assert kettle.gtin == "4601234567893" and kettle.currency == "RUB"
    assert products["A-2"].price == 249000 and products["A-2"].stock == 0


def test_comma_csv_english_headers_and_tags(
    tmp_path: Path, settings: Settings, engine: Engine
) -> None:
    path = tmp_path / "c.csv"
    path.write_text('sku,title,price,currency,tags\nX1,"Mug, large",12.50,usd,"kitchen|gift"\n')
    import_catalog(settings, engine, path)
    mug = _products(engine)["X1"]
    assert (mug.title, mug.price, mug.currency, mug.tags) == (
        "Mug, large",
        1250,
        "USD",
        ["kitchen", "gift"],
    )


def test_xlsx_with_header_below_title_rows(
    tmp_path: Path, settings: Settings, engine: Engine
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["sku", "title", "price", "stock", "gtin"])
    sheet.append(["B-1", "Блендер", 4990.5, 3, 4601234567824])
    sheet.append(["B-2", "Миксер", "1 990", None, None])
    book.save(tmp_path / "c.xlsx")
    report = import_catalog(settings, engine, tmp_path / "c.xlsx")
    assert report.rejected == []
    products = _products(engine)
    assert products["B-1"].price == 499050 and products["B-1"].gtin == "4601234567824"
    assert products["B-2"].price == 199000 and products["B-2"].stock is None


BAD_ROWS = [
    pytest.param(";Без артикула;100;1", "sku is empty", id="no-sku"),
    pytest.param("C-2;Товар;сто рублей;1", "price 'сто рублей' is not a number", id="word-price"),
    pytest.param("C-3;Товар;-5;1", "price must be positive, got '-5'", id="negative-price"),
    pytest.param("C-4;Товар;100;-1", "stock must not be negative, got '-1'", id="negative-stock"),
    pytest.param("C-5;Товар;100;2,5", "stock '2,5' is not a whole number", id="fractional-stock"),
]


@pytest.mark.parametrize(("row", "reason"), BAD_ROWS)
def test_bad_row_reported_by_line_and_good_rows_kept(
    tmp_path: Path, settings: Settings, engine: Engine, row: str, reason: str
) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        f"sku;title;price;stock\nC-1;Хороший;100;1\n{row}\nC-9;Тоже хороший;200;2\n",
        encoding="utf-8",
    )
    report = import_catalog(settings, engine, path)
    assert report.imported == 2
    assert [(e.line, e.reason) for e in report.rejected] == [(3, reason)]
    assert set(_products(engine)) == {"C-1", "C-9"}


def test_reimport_is_idempotent_and_keeps_absent_columns(
    tmp_path: Path, settings: Settings, engine: Engine
) -> None:
    full = tmp_path / "full.csv"
    full.write_bytes(CP1251_CSV.encode("cp1251"))
    import_catalog(settings, engine, full)
    import_catalog(settings, engine, full)
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Product)) == 2
    prices = tmp_path / "prices.csv"
    prices.write_text("sku;price\nA-1;1 199\n")
    import_catalog(settings, engine, prices)
    kettle = _products(engine)["A-1"]
    assert kettle.price == 119900 and kettle.title == "Чайник «Аква»" and kettle.stock == 5


def test_file_without_sku_column_is_an_error(
    tmp_path: Path, settings: Settings, engine: Engine
) -> None:
    path = tmp_path / "c.csv"
    path.write_text("name;price\nx;1\n")
    with pytest.raises(InputFileError, match="no sku column"):
        import_catalog(settings, engine, path)


def test_missing_and_empty_files(tmp_path: Path, settings: Settings, engine: Engine) -> None:
    with pytest.raises(InputFileError, match="file not found"):
        import_catalog(settings, engine, tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputFileError, match="empty"):
        import_catalog(settings, engine, tmp_path / "empty.csv")
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(InputFileError, match="not a readable XLSX"):
        import_catalog(settings, engine, tmp_path / "broken.xlsx")


def test_listings_import(tmp_path: Path, settings: Settings, engine: Engine) -> None:
    catalog = tmp_path / "c.csv"
    catalog.write_bytes(CP1251_CSV.encode("cp1251"))
    import_catalog(settings, engine, catalog)
    path = tmp_path / "listings.csv"
    path.write_text(
        "sku,competitor,url,confidence\n"
        "A-1,citilink,https://www.citilink.example/p/1,0.9\n"
        "A-2,local,http://127.0.0.1:8080/p/2,\n"
        "A-9,citilink,https://citilink.example/p/9,\n"
        "A-1,nobody,https://x.example/p/1,\n"
        "A-1,citilink,https://evil.example/p/1,\n"
        "A-1,citilink,ftp://citilink.example/p/1,\n"
        "A-1,citilink,https://citilink.example/p/1b,2\n"
    )
    report = import_listings(settings, engine, path)
    assert report.imported == 2
    reasons = {e.line: e.reason for e in report.rejected}
    assert set(reasons) == {4, 5, 6, 7, 8}
    assert "unknown sku 'A-9'" in reasons[4]
    assert "unknown competitor 'nobody'" in reasons[5]
    assert "not on the competitor's domain" in reasons[6]
    assert "not an http(s) URL" in reasons[7]
    assert "between 0 and 1" in reasons[8]
    import_listings(settings, engine, path)  # idempotent
    with session_scope(engine) as session:
        listings = session.scalars(select(Listing).order_by(Listing.url)).all()
        assert [(li.url, li.confidence) for li in listings] == [
            ("http://127.0.0.1:8080/p/2", 1.0),
            ("https://www.citilink.example/p/1", 0.9),
        ]
