"""Shopify connector against a local server speaking the Admin GraphQL contract."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import Engine, select

from repricer.config import Settings
from repricer.db.models import Product
from repricer.exceptions import StorefrontError
from repricer.loopback import LoopbackServer, Response
from repricer.storefront import check_storefront, push_changes
from repricer.storefront.base import PushItem
from repricer.storefront.retry import Backoff
from repricer.storefront.shopify import ShopifyConnector
from tests.storefront.fakes import FakeShopify
from tests.storefront.seed import add_changes, add_products, add_run, attempts, statuses

TOKEN = "shpat_0123456789abcdef0123456789abcdef"


@pytest.fixture
def shop(http_server: LoopbackServer) -> FakeShopify:
    return FakeShopify(http_server, TOKEN, "2025-01")


@pytest.fixture
def settings(
    settings_from, http_server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    monkeypatch.setenv("REPRICER_SHOPIFY_TOKEN", TOKEN)
    return settings_from(
        f'[storefront]\nkind = "shopify"\nretries = 3\ntimeout = "1s"\n'
        f'[storefront.shopify]\nshop_url = "{http_server.url("")}"\napi_version = "2025-01"\n'
    )


def seed(engine: Engine, shop: FakeShopify, products: int, variants: int) -> list[str]:
    skus = []
    for p in range(products):
        for v in range(variants):
            sku = f"P{p}-V{v}"
            shop.add(100 + p, 10_000 * (p + 1) + v, sku)
            skus.append(sku)
    add_products(engine, skus)
    add_changes(engine, add_run(engine), {s: 15000 + i for i, s in enumerate(skus)})
    return skus


def test_one_call_per_product_at_most_250_variants(
    engine: Engine, settings: Settings, shop: FakeShopify
) -> None:
    skus = seed(engine, shop, 2, 300)
    summary = push_changes(settings, engine)
    assert (summary.pushed, summary.failed, summary.confirmed) == (600, 0, 600)
    assert max(shop.mutations) == 250 and sum(shop.mutations) == 600 and len(shop.mutations) == 4
    assert set(shop.received.values()) == {1} and len(shop.received) == len(skus)
    with engine.connect() as conn:
        cached = dict(conn.execute(select(Product.sku, Product.storefront_id)).all())
    assert cached["P1-V7"] == "101:20007"


def test_user_errors_fail_the_variants(
    engine: Engine, settings: Settings, shop: FakeShopify
) -> None:
    seed(engine, shop, 1, 3)
    with engine.begin() as conn:  # a stale cached id: this variant now belongs elsewhere
        conn.execute(
            Product.__table__.update().where(Product.sku == "P0-V1").values(storefront_id="100:999")
        )
    summary = push_changes(settings, engine)
    failures = dict(summary.failures)
    assert failures["P0-V1"] == "Product variant does not exist"
    # Shopify applied nothing in that call, so the others failed too (the next push retries)
    assert failures["P0-V0"] == "variant not updated by Shopify"
    assert set(statuses(engine).values()) == {"failed"}


def test_throttled_calls_wait_and_retry(engine: Engine, shop: FakeShopify) -> None:
    seed(engine, shop, 3, 1)
    shop.throttle_next = 2
    slept: list[float] = []
    connector = ShopifyConnector(
        shop.server.url(""),
        TOKEN,
        engine=engine,
        currency="RUB",
        backoff=Backoff(retries=3, base=0.01, cap=0.02, sleep=slept.append),
    )
    items = [
        PushItem(i, i, f"P{i}-V0", 500, "RUB", f"{100 + i}:{10_000 * (i + 1)}") for i in range(3)
    ]
    assert all(r.ok for r in connector.push(items))
    assert shop.throttled == 2 and len(slept) >= 2


def test_pacing_follows_throttle_status(engine: Engine, shop: FakeShopify) -> None:
    seed(engine, shop, 4, 1)
    shop.bucket = shop.maximum = 25.0  # room for two calls, then 20 points/s
    shop.restore_rate = 20.0
    slept: list[float] = []
    connector = ShopifyConnector(
        shop.server.url(""),
        TOKEN,
        engine=engine,
        currency="RUB",
        backoff=Backoff(retries=5, sleep=slept.append),
    )
    items = [
        PushItem(i, i, f"P{i}-V0", 500, "RUB", f"{100 + i}:{10_000 * (i + 1)}") for i in range(4)
    ]
    # sleep is recorded, not slept: the fake's bucket refills in real time, so pace it too
    import time

    def sleep(s: float) -> None:
        slept.append(s)
        time.sleep(s)

    connector.backoff.sleep = sleep
    assert all(r.ok for r in connector.push(items))
    assert shop.throttled == 0  # paced before the bucket ran dry
    assert slept and all(0 < s <= 0.5 for s in slept)


def test_throttled_for_good_fails_the_items(engine: Engine, shop: FakeShopify) -> None:
    seed(engine, shop, 1, 1)
    shop.throttle_next = 10
    connector = ShopifyConnector(
        shop.server.url(""),
        TOKEN,
        engine=engine,
        currency="RUB",
        backoff=Backoff(retries=2, sleep=lambda s: None),
    )
    [result] = connector.push([PushItem(1, 1, "P0-V0", 500, "RUB", "100:10000")])
    assert not result.ok and "THROTTLED" in (result.error or "")


def test_429_and_500_are_retried(engine: Engine, shop: FakeShopify) -> None:
    seed(engine, shop, 1, 1)
    shop.canned = [Response(429, "", {"Retry-After": "1"}), Response(502, "bad gateway")]
    slept: list[float] = []
    connector = ShopifyConnector(
        shop.server.url(""),
        TOKEN,
        engine=engine,
        currency="RUB",
        backoff=Backoff(retries=3, base=0.01, sleep=slept.append),
    )
    assert connector.push([PushItem(1, 1, "P0-V0", 500, "RUB", "100:10000")])[0].ok
    assert slept[0] >= 1.0


def test_bad_token_and_check(
    engine: Engine, settings: Settings, shop: FakeShopify, monkeypatch, caplog
) -> None:
    assert "token accepted (shop 'Test shop', currency RUB)" in check_storefront(settings, engine)
    seed(engine, shop, 1, 2)
    monkeypatch.setenv("REPRICER_SHOPIFY_TOKEN", "shpat_wrong_token_value")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(StorefrontError, match=r"refused the access token.*REPRICER_SHOPIFY_TOKEN"):
        check_storefront(settings, engine)
    summary = push_changes(settings, engine)
    assert summary.pushed == 0 and "HTTP 401" in (summary.error or "")
    blob = caplog.text + str(summary.error) + json.dumps(attempts(engine), default=str)
    assert "shpat_wrong_token_value" not in blob and TOKEN not in blob


def test_read_back_mismatch(engine: Engine, settings: Settings, shop: FakeShopify) -> None:
    seed(engine, shop, 1, 2)
    original = shop._bulk_update

    def lossy(variables):  # the shop rounds one price
        out = original(variables)
        shop.variants[10_001]["price"] = "150.00"
        return out

    shop._bulk_update = lossy
    summary = push_changes(settings, engine)
    assert summary.pushed == 2 and summary.confirmed == 1
    assert [(m.sku, m.seen) for m in summary.mismatches] == [("P0-V1", 15000)]


def test_check_refuses_a_shop_in_another_currency(
    engine: Engine, settings: Settings, shop: FakeShopify
) -> None:
    original = shop._execute
    shop._execute = lambda q, v: (
        {"shop": {"name": "US shop", "currencyCode": "USD"}}
        if "shop" in q and "productVariants" not in q
        else original(q, v)
    )
    with pytest.raises(StorefrontError, match="currency is USD but"):
        check_storefront(settings, engine)
