"""Shopify inventory: inventorySetQuantities at the configured location, paced by cost."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine

from repricer.config import Settings
from repricer.loopback import LoopbackServer
from repricer.stock import push_stock
from repricer.storefront.base import StockItem
from repricer.storefront.retry import Backoff
from repricer.storefront.shopify import ShopifyConnector
from tests.storefront.fakes import FakeShopify
from tests.storefront.seed import add_offer, add_products

TOKEN = "shpat_stock_0123456789abcdef"


@pytest.fixture
def shop(http_server: LoopbackServer) -> FakeShopify:
    shop = FakeShopify(http_server, TOKEN, "2025-01")
    shop.locations = {1, 7}
    return shop


def make_settings(
    settings_from, server: LoopbackServer, monkeypatch, location: str | None
) -> Settings:
    monkeypatch.setenv("REPRICER_SHOPIFY_TOKEN", TOKEN)
    where = f'location_id = "{location}"\n' if location else ""
    return settings_from(
        f'[storefront]\nkind = "shopify"\nretries = 8\ntimeout = "2s"\n'
        f'[storefront.shopify]\nshop_url = "{server.url("")}"\n{where}'
        "[storefront.stock]\nunknown_quantity = 5\n"
    )


def seed(engine: Engine, shop: FakeShopify, stock: dict[str, int | None]) -> None:
    add_products(engine, list(stock))
    for n, (sku, qty) in enumerate(stock.items()):
        shop.add(100 + n // 3, 1000 + n, sku, stock=2)
        add_offer(engine, sku, 5000, qty)


def mutations(shop: FakeShopify) -> list[dict]:
    bodies = [json.loads(r.body) for r in shop.server.requests if r.method == "POST"]
    return [b["variables"]["input"] for b in bodies if "inventorySetQuantities" in b["query"]]


def test_quantities_set_at_the_location(
    settings_from, http_server, monkeypatch, engine, shop
) -> None:
    settings = make_settings(settings_from, http_server, monkeypatch, "gid://shopify/Location/7")
    seed(engine, shop, {"A": 4, "B": 0, "C": None})
    summary = push_stock(settings, engine)
    assert (summary.pushed, summary.confirmed, summary.mismatched) == (3, 3, 0)
    [sent] = mutations(shop)
    assert (sent["name"], sent["reason"], sent["ignoreCompareQuantity"]) == (
        "available",
        "correction",
        True,
    )
    assert sent["quantities"] == [
        {
            "inventoryItemId": "gid://shopify/InventoryItem/901001",
            "locationId": "gid://shopify/Location/7",
            "quantity": 0,
        },
        {
            "inventoryItemId": "gid://shopify/InventoryItem/901000",
            "locationId": "gid://shopify/Location/7",
            "quantity": 4,
        },
        {
            "inventoryItemId": "gid://shopify/InventoryItem/901002",
            "locationId": "gid://shopify/Location/7",
            "quantity": 5,
        },
    ]
    assert shop.levels[(901000, 7)] == 4 and shop.levels[(901000, 1)] == 2  # other location kept


def test_at_most_250_per_call_through_throttling(
    settings_from, http_server, monkeypatch, engine, shop
) -> None:
    settings = make_settings(settings_from, http_server, monkeypatch, "1")
    seed(engine, shop, {f"S{i:04d}": i % 4 for i in range(600)})
    shop.maximum = shop.bucket = 30.0  # three calls' worth
    shop.restore_rate = 100.0
    shop.throttle_next = 2
    summary = push_stock(settings, engine)
    assert (summary.pushed, summary.failed, summary.confirmed) == (600, 0, 600)
    assert shop.stock_calls == [250, 250, 100]
    assert shop.throttled >= 2
    assert shop.levels[(901005, 1)] == 1 and shop.levels[(901004, 1)] == 0


def test_a_rejected_item_does_not_block_the_rest(engine, shop) -> None:
    add_products(engine, ["A", "B", "C"])
    for n, sku in enumerate(["A", "B", "C"]):
        shop.add(100, 1000 + n, sku)
    connector = ShopifyConnector(
        shop.server.url(""),
        TOKEN,
        engine=engine,
        currency="RUB",
        location_id="1",
        backoff=Backoff(retries=2, base=0.01, cap=0.02),
    )
    shop.bad_items = {901001}  # B's inventory item is refused
    results = connector.push_stock(
        [StockItem(1, "A", 3, True), StockItem(2, "B", 0, False), StockItem(3, "C", 1, True)]
    )
    assert {r.change_id: r.ok for r in results} == {1: True, 2: False, 3: True}
    assert shop.stock_calls == [3, 2]  # the first call was refused whole, then A and C went
    assert shop.levels[(901000, 1)] == 3 and shop.levels[(901001, 1)] == 0
    shop.locations = {2}
    results = connector.push_stock([StockItem(1, "A", 4, True)])
    assert not results[0].ok and results[0].error == "The specified location could not be found."


def test_location_is_required_for_stock(
    settings_from, http_server, monkeypatch, engine, shop
) -> None:
    settings = make_settings(settings_from, http_server, monkeypatch, None)
    seed(engine, shop, {"A": 4})
    summary = push_stock(settings, engine)
    assert summary.pushed == 0 and "storefront.shopify.location_id" in (summary.error or "")


def test_read_back_mismatch(settings_from, http_server, monkeypatch, engine, shop) -> None:
    settings = make_settings(settings_from, http_server, monkeypatch, "1")
    seed(engine, shop, {"A": 4, "B": 6})
    shop.sticky_stock = {901001: 1}
    summary = push_stock(settings, engine)
    assert (summary.confirmed, summary.mismatched) == (1, 1)
    assert (summary.mismatches[0].sku, summary.mismatches[0].seen.quantity) == ("B", 1)
