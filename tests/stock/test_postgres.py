"""The stock push and the stock-only sync on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, update

from repricer.db.models import SupplierOffer
from repricer.stock import push_stock, sync_stock_feeds
from tests.storefront.fakes import FakeWooCommerce
from tests.storefront.seed import add_offer, add_products

KEY, SECRET = "ck_pg", "cs_pg"


def test_stock_round_trip_on_postgresql(
    pg_engine: Engine, settings_from, http_server, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("REPRICER_WOOCOMMERCE_KEY", KEY)
    monkeypatch.setenv("REPRICER_WOOCOMMERCE_SECRET", SECRET)
    (tmp_path / "stock.csv").write_text("sku;stock\nA;0\nB;9\n", encoding="utf-8")
    settings = settings_from(
        f"""
        [[suppliers]]
        name = "acme"
        path = "full.csv"
        format = "csv"
        delimiter = ";"
        stock_path = "stock.csv"
        max_missing_share = "60%"
        min_stock = 2

        [storefront]
        kind = "woocommerce"
        [storefront.woocommerce]
        url = "{http_server.url("")}"
        """
    )
    shop = FakeWooCommerce(http_server, KEY, SECRET)
    add_products(pg_engine, ["A", "B", "C"], stock=None)
    for n, sku in enumerate(["A", "B", "C"]):
        shop.add(10 + n, sku)
        add_offer(pg_engine, sku, 5000, 4)
    with pg_engine.begin() as conn:
        conn.execute(update(SupplierOffer).where(SupplierOffer.key == "C").values(stock_qty=1))
    first = push_stock(settings, pg_engine)
    assert (first.pushed, first.confirmed, first.stockouts) == (3, 3, 1)  # C is below the buffer
    [synced] = sync_stock_feeds(settings, pg_engine)
    assert (synced.status, synced.changed, synced.stockouts) == ("ok", 2, 1)
    second = push_stock(settings, pg_engine)
    assert (second.pushed, second.stockouts) == (2, 1)
    assert shop.items[10]["stock_status"] == "outofstock" and shop.items[11]["stock_quantity"] == 9
    assert push_stock(settings, pg_engine).candidates == 0
