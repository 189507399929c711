"""File connector: the whole catalog as a price feed for storefronts that import files.

Every push writes ``<storefront.file.path>/prices.csv`` and/or ``prices.yml``
(``storefront.file.formats``), each atomically: a temp file in the same folder, fsynced,
then ``os.replace`` — an importer never sees half a file.

One row per product: ``sku, price, currency, stock, available``; a SKU that a
spreadsheet would run as a formula (``=...``, ``-...``) is written with a leading
apostrophe (:mod:`repricer.cells`), which :meth:`FileConnector.fetch_prices` removes. ``price`` is plain
decimal text (``1299.00``; empty when the product has no price yet) — the pushed price
for the products being pushed, the catalog price for the rest. ``stock``/``available``
come from :func:`repricer.stock.levels.wanted_stock` (the cheapest in-stock supplier,
its safety buffer, plus our own ``products.stock``): a product no supplier has in stock
and we do not hold is written with stock 0 and available false, so the storefront never
offers goods nobody has. Stock is empty when a supplier has it but does not say how many.

The YML file is a Yandex Market ``yml_catalog`` with one ``<offer id="SKU"
available="true|false">`` per priced product (``price``, ``currencyId``, ``count``).
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from xml.etree import ElementTree
from xml.sax.saxutils import escape, quoteattr

import pandas as pd
from sqlalchemy import Engine, select

from repricer.cells import safe_text, unsafe_text
from repricer.config import Settings
from repricer.db.models import Product
from repricer.exceptions import StorefrontError
from repricer.storefront.base import (
    Price,
    PushItem,
    PushResult,
    Stock,
    StockItem,
    decimal_text,
    parse_decimal_text,
)

COLUMNS = ["sku", "price", "currency", "stock", "available"]


class FileConnector:
    """See the module docstring and :mod:`repricer.storefront.base`."""

    name = "file"
    max_batch = 1_000_000  # the file is rewritten whole on every call: one call per push

    def __init__(
        self,
        folder: Path,
        formats: list[str],
        *,
        engine: Engine,
        settings: Settings | None = None,
    ) -> None:
        self.folder = folder
        self.formats = formats or ["csv"]
        self.engine = engine
        self.settings = settings or Settings()

    @classmethod
    def from_settings(cls, settings: Settings, engine: Engine) -> FileConnector:
        conf = settings.storefront.file
        return cls(conf.path, list(conf.formats), engine=engine, settings=settings)

    def close(self) -> None:
        pass

    def push(self, items: list[PushItem]) -> list[PushResult]:
        """Write the whole catalog with ``items``' prices; every item is accepted."""
        self.export({i.product_id: i.price for i in items})
        return [PushResult(i.change_id, True) for i in items]

    def push_stock(self, items: list[StockItem]) -> list[PushResult]:
        """Write the whole catalog (its stock is always current); every item is accepted."""
        self.export()
        return [PushResult(i.product_id, True) for i in items]

    def export(self, overrides: dict[int, int] | None = None) -> list[Path]:
        """Write the configured files; ``overrides`` maps product id -> price to write."""
        frame = catalog_frame(self.engine, overrides or {}, self.settings)
        writers: dict[str, Callable[[pd.DataFrame, IO[str]], None]] = {
            "csv": _write_csv,
            "yml": _write_yml,
        }
        written = []
        for fmt in self.formats:
            path = self.folder / f"prices.{fmt}"
            with atomic_write(path) as fh:
                writers[fmt](frame, fh)
            written.append(path)
        return written

    def fetch_prices(self, skus: list[str]) -> dict[str, Price]:
        """Prices as the written CSV (else YML) says; SKUs not in it are absent."""
        wanted = set(skus)
        return {sku: price for sku, price in self._read() if sku in wanted}

    def fetch_stock(self, skus: list[str]) -> dict[str, Stock]:
        """Stock as the written CSV (else YML) says; SKUs not in it are absent."""
        wanted = set(skus)
        return {sku: stock for sku, _, stock in self._read_rows() if sku in wanted}

    def _read(self) -> Iterator[tuple[str, Price]]:
        for sku, price, _ in self._read_rows():
            if price is not None:
                yield sku, price

    def _read_rows(self) -> Iterator[tuple[str, Price | None, Stock]]:
        path = self.folder / "prices.csv"
        if "csv" in self.formats and path.exists():
            with path.open(encoding="utf-8", newline="") as fh:
                for row in csv.DictReader(fh):
                    amount = parse_decimal_text(row.get("price"), row.get("currency") or "")
                    price = None if amount is None else Price(amount, row["currency"])
                    count = int(row["stock"]) if (row.get("stock") or "").isdigit() else None
                    yield (
                        unsafe_text(row["sku"]),
                        price,
                        Stock(count, row.get("available") == "true"),
                    )
        elif (self.folder / "prices.yml").exists():
            yield from _read_yml(self.folder / "prices.yml")

    def check(self) -> str:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.folder, prefix=".check-"):
                pass
        except OSError as exc:
            raise StorefrontError(f"{self.folder}: cannot write there: {exc.strerror}") from None
        return f"file storefront: {self.folder} is writable ({', '.join(self.formats)})"


def catalog_frame(
    engine: Engine, overrides: dict[int, int], settings: Settings | None = None
) -> pd.DataFrame:
    """sku, price (minor, nullable), currency, stock (nullable), available per product;
    stock as :func:`repricer.stock.levels.wanted_stock` computes it (a product nothing
    is known about: stock 0, not available)."""
    from repricer.stock.levels import wanted_stock

    query = select(Product.id, Product.sku, Product.price, Product.currency)
    with engine.connect() as conn:
        products = pd.read_sql(query.order_by(Product.sku), conn, dtype_backend="numpy_nullable")
        stock = wanted_stock(settings or Settings(), conn)
    products = products.rename(columns={"id": "product_id"})
    if overrides:
        new = products["product_id"].map(overrides).astype("Int64")
        products["price"] = new.fillna(products["price"].astype("Int64"))
    frame = products.merge(
        stock[["product_id", "quantity", "in_stock"]], on="product_id", how="left"
    )
    known = frame["in_stock"].notna()
    frame["stock"] = frame["quantity"].astype("Int64").mask(~known, 0)
    frame["available"] = frame["in_stock"].astype("boolean").fillna(False).astype(bool)
    return frame[["sku", "price", "currency", "stock", "available"]]


@contextmanager
def atomic_write(path: Path) -> Iterator[IO[str]]:
    """Write ``path`` through a temp file in its folder, fsync, then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _rows(frame: pd.DataFrame) -> Iterator[tuple[str, str, str, str, bool]]:
    for sku, price, currency, stock, available in frame.itertuples(index=False):
        price_text = "" if pd.isna(price) else decimal_text(int(price), currency)
        stock_text = "" if pd.isna(stock) else str(int(stock))
        yield sku, price_text, currency, stock_text, bool(available)


def _write_csv(frame: pd.DataFrame, fh: IO[str]) -> None:
    # CRLF, as RFC 4180 says: a CR or LF inside a SKU is then quoted, not a line break.
    writer = csv.writer(fh, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for sku, price, currency, stock, available in _rows(frame):
        available_text = "true" if available else "false"
        writer.writerow([safe_text(sku), price, safe_text(currency), stock, available_text])


def _write_yml(frame: pd.DataFrame, fh: IO[str]) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    fh.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<yml_catalog date="{stamp}">\n<shop>\n')
    currencies = sorted(set(frame["currency"]))
    fh.write("<currencies>")
    fh.write("".join(f"<currency id={quoteattr(c)}/>" for c in currencies))
    fh.write("</currencies>\n<offers>\n")
    for sku, price, currency, stock, available in _rows(frame):
        if not price:
            continue
        count = f"<count>{stock}</count>" if stock else ""
        fh.write(
            f"<offer id={quoteattr(sku)} available={quoteattr(str(available).lower())}>"
            f"<price>{price}</price><currencyId>{escape(currency)}</currencyId>{count}</offer>\n"
        )
    fh.write("</offers>\n</shop>\n</yml_catalog>\n")


def _read_yml(path: Path) -> Iterator[tuple[str, Price | None, Stock]]:
    for _, offer in ElementTree.iterparse(path):
        if offer.tag != "offer":
            continue
        currency = offer.findtext("currencyId") or ""
        amount = parse_decimal_text(offer.findtext("price"), currency)
        count = offer.findtext("count") or ""
        stock = Stock(int(count) if count.isdigit() else None, offer.get("available") == "true")
        yield str(offer.get("id")), None if amount is None else Price(amount, currency), stock
        offer.clear()
