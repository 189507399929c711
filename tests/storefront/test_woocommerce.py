"""WooCommerce connector against a local server speaking the REST v3 contract."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import Engine, select

from repricer.config import Settings
from repricer.db.models import Product
from repricer.exceptions import ConfigError, StorefrontError
from repricer.loopback import LoopbackServer, Response
from repricer.storefront import check_storefront, push_changes
from repricer.storefront.base import PushItem
from repricer.storefront.retry import Backoff
from repricer.storefront.woocommerce import WooCommerceConnector
from tests.storefront.fakes import WC, FakeWooCommerce
from tests.storefront.seed import add_changes, add_products, add_run, attempts, statuses

KEY, SECRET = "ck_live_0123456789abcdef", "cs_live_fedcba9876543210"


@pytest.fixture
def shop(http_server: LoopbackServer) -> FakeWooCommerce:
    return FakeWooCommerce(http_server, KEY, SECRET)


@pytest.fixture
def settings(
    settings_from, http_server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    monkeypatch.setenv("REPRICER_WOOCOMMERCE_KEY", KEY)
    monkeypatch.setenv("REPRICER_WOOCOMMERCE_SECRET", SECRET)
    return settings_from(
        f'[storefront]\nkind = "woocommerce"\nretries = 3\ntimeout = "1s"\n'
        f'[storefront.woocommerce]\nurl = "{http_server.url("")}"\n'
    )


def connector(engine: Engine, server: LoopbackServer, **kw) -> WooCommerceConnector:
    backoff = Backoff(retries=kw.pop("retries", 3), base=0.01, cap=0.05)
    return WooCommerceConnector(
        server.url(""), KEY, SECRET, engine=engine, currency="RUB", backoff=backoff, **kw
    )


def seed(engine: Engine, shop: FakeWooCommerce, n: int, *, cached: bool = False) -> dict[str, int]:
    skus = [f"SKU-{i:04d}" for i in range(n)]
    for i, sku in enumerate(skus):
        add_products(engine, [sku], storefront_id=str(1000 + i) if cached else None)
    for i, sku in enumerate(skus):
        shop.add(1000 + i, sku)
    return add_changes(engine, add_run(engine), {s: 12000 + i for i, s in enumerate(skus)})


def test_push_batches_at_100_and_verifies(
    engine: Engine, settings: Settings, shop: FakeWooCommerce
) -> None:
    seed(engine, shop, 250)
    summary = push_changes(settings, engine)
    assert (summary.pushed, summary.failed, summary.confirmed) == (250, 0, 250)
    assert shop.batch_sizes == [100, 100, 50]
    assert set(shop.received.values()) == {1} and len(shop.received) == 250
    assert shop.items[1007]["regular_price"] == "120.07"
    # ids were resolved once and cached in the catalog
    with engine.connect() as conn:
        cached = dict(conn.execute(select(Product.sku, Product.storefront_id)).all())
    assert cached["SKU-0007"] == "1007"
    shop.requests = 0
    add_changes(engine, add_run(engine), {"SKU-0001": 15000})
    push_changes(settings, engine)
    assert shop.requests == 2  # one batch + one read-back, no SKU lookup


def test_variations_go_to_the_parent_batch_endpoint(engine: Engine, shop: FakeWooCommerce) -> None:
    add_products(engine, ["V1", "V2", "P"])
    shop.add(50, "P")
    shop.add(51, "V1", parent=50)
    shop.add(52, "V2", parent=50)
    wc = connector(engine, shop.server)
    items = [
        PushItem(1, 1, "V1", 1999, "RUB"),
        PushItem(2, 2, "V2", 2999, "RUB", "50:52"),
        PushItem(3, 3, "P", 999, "RUB"),
    ]
    results = wc.push(items)
    assert all(r.ok for r in results)
    paths = [r.path for r in shop.server.requests if r.method == "POST"]
    assert sorted(paths) == [f"{WC}/products/50/variations/batch", f"{WC}/products/batch"]
    assert shop.items[51]["regular_price"] == "19.99"
    assert {k: p.amount for k, p in wc.fetch_prices(["V1", "V2", "P"]).items()} == {
        "V1": 1999,
        "V2": 2999,
        "P": 999,
    }


def test_sale_price_field(engine: Engine, shop: FakeWooCommerce) -> None:
    add_products(engine, ["A"])
    shop.add(1, "A", price="100.00")
    wc = connector(engine, shop.server, price_field="sale")
    assert wc.push([PushItem(1, 1, "A", 8999, "RUB")])[0].ok
    assert (shop.items[1]["regular_price"], shop.items[1]["sale_price"]) == ("100.00", "89.99")
    assert wc.fetch_prices(["A"])["A"].amount == 8999


def test_413_halves_the_batch(engine: Engine, shop: FakeWooCommerce) -> None:
    shop.limit = 30  # a store that lowered the batch limit
    seed(engine, shop, 100)
    wc = connector(engine, shop.server)
    items = [PushItem(i, i, f"SKU-{i:04d}", 500, "RUB", str(1000 + i)) for i in range(100)]
    assert all(r.ok for r in wc.push(items))
    assert max(shop.batch_sizes) <= 30 and sum(shop.batch_sizes) == 100


def test_partial_failure_inside_a_batch(
    engine: Engine, settings: Settings, shop: FakeWooCommerce
) -> None:
    seed(engine, shop, 5)
    shop.bad_ids = {1002}
    summary = push_changes(settings, engine)
    assert (summary.pushed, summary.failed) == (4, 1)
    assert summary.failures == [("SKU-0002", "woocommerce_rest_product_invalid_id: Invalid ID.")]
    assert statuses(engine)["SKU-0002"] == "failed"
    shop.bad_ids = set()
    assert push_changes(settings, engine).pushed == 1  # the re-run sends only the failed one
    assert set(shop.received.values()) == {1}


def test_unknown_sku_fails_that_item(
    engine: Engine, settings: Settings, shop: FakeWooCommerce
) -> None:
    add_products(engine, ["GHOST"])
    add_changes(engine, add_run(engine), {"GHOST": 100})
    summary = push_changes(settings, engine)
    assert summary.failures == [("GHOST", "SKU not found in WooCommerce")]


def test_429_with_retry_after_and_500_are_retried(engine: Engine, shop: FakeWooCommerce) -> None:
    seed(engine, shop, 3)
    slept: list[float] = []
    wc = connector(engine, shop.server)
    wc.backoff.sleep = slept.append
    shop.canned = [
        Response(429, "slow down", {"Retry-After": "2"}),
        Response(500, "oops"),
        Response(503, ""),
    ]
    results = wc.push([PushItem(i, i, f"SKU-{i:04d}", 500, "RUB", str(1000 + i)) for i in range(3)])
    assert all(r.ok for r in results)
    assert len(slept) == 3 and slept[0] >= 2.0 and all(s <= 0.05 for s in slept[1:])


def test_5xx_after_all_retries_fails_the_batch_but_not_the_run(
    engine: Engine, settings: Settings, shop: FakeWooCommerce, monkeypatch
) -> None:
    seed(engine, shop, 2, cached=True)
    monkeypatch.setattr("repricer.storefront.retry.Backoff.delay", lambda self, a, r=None: 0.0)
    shop.canned = [Response(500, "down")] * 4
    summary = push_changes(settings, engine)  # retries=3 in settings: 4 attempts
    assert summary.failed == 2 and summary.error is None
    assert "HTTP 500" in summary.failures[0][1]


def test_timeouts_stop_the_push_and_lose_nothing(
    engine: Engine, settings: Settings, shop: FakeWooCommerce, monkeypatch
) -> None:
    seed(engine, shop, 3)
    shop.delay = 0.6  # longer than the timeout
    monkeypatch.setattr("repricer.storefront.retry.Backoff.delay", lambda self, a, r=None: 0.0)
    fast = settings.model_copy(
        update={
            "storefront": settings.storefront.model_copy(
                update={"timeout": timedelta(seconds=0.3), "retries": 1}
            )
        }
    )
    summary = push_changes(fast, engine)
    assert summary.pushed == 0 and "timed out after 2 attempt(s)" in (summary.error or "")
    assert set(statuses(engine).values()) <= {"failed", "approved"}  # sent again next time


def test_bad_credentials(
    engine: Engine, settings: Settings, shop: FakeWooCommerce, monkeypatch, caplog
) -> None:
    seed(engine, shop, 2)
    monkeypatch.setenv("REPRICER_WOOCOMMERCE_SECRET", "cs_wrong_secret_value")
    caplog.set_level(logging.DEBUG)
    summary = push_changes(settings, engine)
    assert summary.pushed == 0 and "HTTP 401" in (summary.error or "")
    assert "REPRICER_WOOCOMMERCE_KEY" in summary.error
    with pytest.raises(StorefrontError) as err:
        check_storefront(settings, engine)
    text = str(err.value) + summary.error + caplog.text + json.dumps(attempts(engine), default=str)
    assert "cs_wrong_secret_value" not in text and KEY not in text


def test_secrets_never_in_messages_or_logs(
    engine: Engine, settings: Settings, shop: FakeWooCommerce, caplog, monkeypatch
) -> None:
    seed(engine, shop, 4, cached=True)
    monkeypatch.setattr("repricer.storefront.retry.Backoff.delay", lambda self, a, r=None: 0.0)
    shop.bad_ids = {1001}
    shop.canned = [Response(500, json.dumps({"message": f"echo {SECRET}"}))] * 4
    caplog.set_level(logging.DEBUG)
    summary = push_changes(settings, engine)
    blob = caplog.text + str(summary) + repr(summary) + json.dumps(attempts(engine), default=str)
    assert summary.failed == 4 and "***" in blob
    assert SECRET not in blob and KEY not in blob


def test_check_reports_ok_and_what_is_wrong(
    engine: Engine, settings: Settings, shop: FakeWooCommerce, settings_from, monkeypatch
) -> None:
    assert "credentials accepted" in check_storefront(settings, engine)
    monkeypatch.delenv("REPRICER_WOOCOMMERCE_SECRET")
    with pytest.raises(ConfigError, match="REPRICER_WOOCOMMERCE_SECRET"):
        check_storefront(settings, engine)
    monkeypatch.setenv("REPRICER_WOOCOMMERCE_SECRET", SECRET)
    plain = settings_from(
        '[storefront]\nkind = "woocommerce"\n[storefront.woocommerce]\nurl = "http://shop.example"\n'
    )
    with pytest.raises(StorefrontError, match="https"):
        check_storefront(plain, engine)
    missing = settings_from('[storefront]\nkind = "woocommerce"\n')
    with pytest.raises(StorefrontError, match=r"storefront\.woocommerce\.url"):
        check_storefront(missing, engine)
    wrong = settings_from(
        f'[storefront]\nkind = "woocommerce"\nretries = 0\n[storefront.woocommerce]\nurl = "{shop.server.url("/nowhere")}"\n'
    )
    with pytest.raises(StorefrontError, match=r"HTTP 404.*permalinks"):
        check_storefront(wrong, engine)
    dead = settings_from(
        '[storefront]\nkind = "woocommerce"\nretries = 0\n[storefront.woocommerce]\nurl = "http://127.0.0.1:9"\n'
    )
    with pytest.raises(StorefrontError, match="failed after 1 attempt"):
        check_storefront(dead, engine)


def test_read_back_mismatch(engine: Engine, settings: Settings, shop: FakeWooCommerce) -> None:
    seed(engine, shop, 3)
    shop.sticky = {1001: "99.00"}  # a store plugin overrides this price
    summary = push_changes(settings, engine)
    assert summary.confirmed == 2
    assert [(m.sku, m.pushed, m.seen) for m in summary.mismatches] == [("SKU-0001", 12001, 9900)]
    assert any(a["status"] == "mismatch" for a in attempts(engine))


def test_garbage_responses_fail_items_clearly(engine: Engine, shop: FakeWooCommerce) -> None:
    seed(engine, shop, 2)
    wc = connector(engine, shop.server)
    shop.canned = [Response(200, "<html>not json</html>")]
    results = wc.push([PushItem(i, i, f"SKU-{i:04d}", 500, "RUB", str(1000 + i)) for i in range(2)])
    assert [r.error for r in results] == ["not in the batch response"] * 2
    assert isinstance(httpx.URL(wc.api), httpx.URL)
