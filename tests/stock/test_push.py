"""Stock pushes against the storefront contract servers: payloads, once per change, read-back."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from sqlalchemy import Engine, select, update

from repricer.config import Settings
from repricer.db.models import StockState, SupplierOffer
from repricer.exceptions import LeaseLostError, StorefrontError
from repricer.lease import Lease
from repricer.loopback import LoopbackServer
from repricer.stock import push_stock
from repricer.stock.journal import pushed_states
from tests.storefront.fakes import WC, FakeHttpStorefront, FakeWooCommerce
from tests.storefront.seed import add_offer, add_products

KEY, SECRET = "ck_stock_0123456789", "cs_stock_9876543210"


@pytest.fixture
def shop(http_server: LoopbackServer) -> FakeWooCommerce:
    return FakeWooCommerce(http_server, KEY, SECRET)


def wc_settings(settings_from, server: LoopbackServer, monkeypatch, extra: str = "") -> Settings:
    monkeypatch.setenv("REPRICER_WOOCOMMERCE_KEY", KEY)
    monkeypatch.setenv("REPRICER_WOOCOMMERCE_SECRET", SECRET)
    return settings_from(
        f'[storefront]\nkind = "woocommerce"\nretries = 2\ntimeout = "2s"\n'
        f'[storefront.woocommerce]\nurl = "{server.url("")}"\n' + extra
    )


@pytest.fixture
def settings(settings_from, http_server, monkeypatch) -> Settings:
    return wc_settings(settings_from, http_server, monkeypatch)


def set_stock(engine: Engine, sku_qty: dict[str, int]) -> None:
    with engine.begin() as conn:
        for key, qty in sku_qty.items():
            conn.execute(
                update(SupplierOffer)
                .where(SupplierOffer.key == key)
                .values(stock_qty=qty, available=qty > 0)
            )


def seed_simple(engine: Engine, shop: FakeWooCommerce, stock: dict[str, int | None]) -> None:
    add_products(engine, list(stock))
    for n, (sku, qty) in enumerate(stock.items()):
        shop.add(100 + n, sku)
        add_offer(engine, sku, 5000, qty)


def stock_updates(shop: FakeWooCommerce) -> list[tuple[str, list[dict]]]:
    posts = [r for r in shop.server.requests if r.method == "POST"]
    return [(r.path, json.loads(r.body)["update"]) for r in posts]


def test_simple_products_get_quantity_with_managed_stock(settings, engine, shop) -> None:
    seed_simple(engine, shop, {"A": 7, "B": 0, "C": None})
    summary = push_stock(settings, engine)
    assert (summary.pushed, summary.failed, summary.confirmed, summary.mismatched) == (3, 0, 3, 0)
    [(path, sent)] = stock_updates(shop)
    assert path == f"{WC}/products/batch"
    # stock-outs first, then by product; a count-less item is in stock without managed stock
    assert sent == [
        {"id": 101, "manage_stock": True, "stock_quantity": 0},
        {"id": 100, "manage_stock": True, "stock_quantity": 7},
        {"id": 102, "manage_stock": False, "stock_status": "instock"},
    ]
    assert [shop.items[i]["stock_status"] for i in (100, 101, 102)] == [
        "instock",
        "outofstock",
        "instock",
    ]
    assert shop.items[100]["stock_quantity"] == 7


def test_variations_go_to_their_parent_and_are_read_back(settings, engine, shop) -> None:
    add_products(engine, ["SHIRT-S", "SHIRT-M", "MUG"])
    shop.add(50, "SHIRT")
    shop.add(51, "SHIRT-S", parent=50)
    shop.add(52, "SHIRT-M", parent=50)
    shop.add(60, "MUG")
    for sku, qty in {"SHIRT-S": 3, "SHIRT-M": 0, "MUG": 12}.items():
        add_offer(engine, sku, 5000, qty)
    summary = push_stock(settings, engine)
    assert (summary.pushed, summary.confirmed, summary.stockouts) == (3, 3, 1)
    sent = dict(stock_updates(shop))
    assert sent[f"{WC}/products/50/variations/batch"] == [
        {"id": 52, "manage_stock": True, "stock_quantity": 0},
        {"id": 51, "manage_stock": True, "stock_quantity": 3},
    ]
    assert sent[f"{WC}/products/batch"] == [{"id": 60, "manage_stock": True, "stock_quantity": 12}]
    assert shop.items[52]["stock_status"] == "outofstock"
    with engine.connect() as conn:
        cached = conn.execute(select(StockState.status)).scalars().all()
    assert cached == ["confirmed"] * 3


def test_status_mode_sends_only_the_flag(
    settings_from, http_server, monkeypatch, engine, shop
) -> None:
    settings = wc_settings(
        settings_from, http_server, monkeypatch, '[storefront.stock]\nmode = "status"\n'
    )
    seed_simple(engine, shop, {"A": 7, "B": 0})
    assert push_stock(settings, engine).confirmed == 2
    [(_, sent)] = stock_updates(shop)
    assert sent == [
        {"id": 101, "manage_stock": False, "stock_status": "outofstock"},
        {"id": 100, "manage_stock": False, "stock_status": "instock"},
    ]


def test_each_change_is_pushed_once_stockouts_first(settings, engine, shop) -> None:
    skus = {f"S{i:03d}": 5 for i in range(250)}
    seed_simple(engine, shop, skus)
    first = push_stock(settings, engine)
    assert first.pushed == 250 and shop.batch_sizes == [100, 100, 50]
    assert push_stock(settings, engine).candidates == 0  # nothing changed: nothing sent
    assert set(shop.stock_received.values()) == {1}
    shop.server.requests.clear()
    set_stock(engine, {"S010": 9, "S200": 0, "S201": 0})
    again = push_stock(settings, engine)
    assert (again.pushed, again.stockouts) == (3, 2)
    [(_, sent)] = stock_updates(shop)
    assert [e["id"] for e in sent] == [300, 301, 110]  # S200, S201 out of stock first
    assert shop.stock_received["S010"] == 2 and shop.stock_received["S011"] == 1


def test_failed_items_are_retried_next_time(settings, engine, shop) -> None:
    seed_simple(engine, shop, {"A": 3, "B": 4})
    shop.bad_ids = {101}
    summary = push_stock(settings, engine)
    assert (summary.pushed, summary.failed) == (1, 1)
    assert summary.failures == [("B", "woocommerce_rest_product_invalid_id: Invalid ID.")]
    shop.bad_ids = set()
    assert push_stock(settings, engine).pushed == 1
    assert dict(shop.stock_received) == {"A": 1, "B": 1}


def test_read_back_mismatch_is_reported(settings, engine, shop) -> None:
    seed_simple(engine, shop, {"A": 3, "B": 4})
    shop.sticky_stock = {100: 10}  # something on the shop keeps A at 10
    summary = push_stock(settings, engine)
    assert (summary.confirmed, summary.mismatched) == (1, 1)
    [mismatch] = summary.mismatches
    assert (mismatch.sku, mismatch.pushed.quantity, mismatch.seen.quantity) == ("A", 3, 10)
    assert "mismatch 1" in str(summary)
    with engine.connect() as conn:
        rows = dict(conn.execute(select(StockState.status, StockState.detail)).all())
    assert rows["mismatch"] == "storefront shows in stock (10)"


def test_dry_run_sends_nothing(settings, engine, shop) -> None:
    seed_simple(engine, shop, {"A": 3})
    summary = push_stock(settings, engine, dry_run=True)
    assert (summary.candidates, summary.pushed) == (1, 0) and not shop.server.requests


def test_stock_push_can_be_off(settings_from, engine) -> None:
    off = settings_from('[storefront.stock]\nmode = "off"\n')
    with pytest.raises(StorefrontError, match="stock pushing is off"):
        push_stock(off, engine)


def test_http_storefront_gets_signed_stock(settings_from, http_server, monkeypatch, engine) -> None:
    store = FakeHttpStorefront(http_server, secret="s3cret")
    monkeypatch.setenv("REPRICER_HTTP_SECRET", "s3cret")
    settings = settings_from(
        f'[storefront]\nkind = "http"\n[storefront.http]\nurl = "{http_server.url("/prices")}"\n'
    )
    add_products(engine, ["A", "B", "C"])
    add_offer(engine, "A", 5000, 2)
    add_offer(engine, "B", 5000, 0)
    add_offer(engine, "C", 5000, None)
    store.reject = {"C"}
    summary = push_stock(settings, engine)
    assert (summary.pushed, summary.failed, summary.confirmed) == (2, 1, 2)
    post = next(r for r in http_server.requests if r.method == "POST")
    body = json.loads(post.body)
    assert body["stock"] == [
        {"sku": "B", "quantity": 0, "in_stock": False},
        {"sku": "A", "quantity": 2, "in_stock": True},
        {"sku": "C", "quantity": None, "in_stock": True},
    ]
    signature = "sha256=" + hmac.new(b"s3cret", post.body, hashlib.sha256).hexdigest()
    assert post.headers["x-repricer-signature"] == signature
    assert store.stock["A"] == {"quantity": 2, "in_stock": True}


def test_file_storefront_carries_the_same_stock(settings_from, engine, tmp_path) -> None:
    settings = settings_from(
        '[[suppliers]]\nname = "acme"\npath = "a.csv"\nformat = "csv"\nmin_stock = 2\n'
    )
    add_products(engine, ["A", "B"])
    add_offer(engine, "A", 5000, 1)  # below the buffer: shown as none
    add_offer(engine, "B", 5000, 6)
    summary = push_stock(settings, engine)
    assert (summary.pushed, summary.confirmed) == (2, 2)
    lines = (settings.storefront.file.path / "prices.csv").read_text().splitlines()
    assert lines[1:] == ["A,100.00,RUB,0,false", "B,100.00,RUB,6,true"]


def test_a_storefront_outage_stops_the_push_and_loses_nothing(
    settings, engine, shop, monkeypatch
) -> None:
    seed_simple(engine, shop, {f"S{i:03d}": 5 for i in range(250)})
    monkeypatch.setenv("REPRICER_WOOCOMMERCE_SECRET", "cs_wrong_secret_value")
    down = push_stock(settings, engine)
    assert (down.pushed, down.failed) == (0, 100) and "HTTP 401" in (down.error or "")
    assert len(down.failures) == 20 and down.failures[0][0] == "S000"
    assert not shop.stock_received and pushed_states(engine, "woocommerce").empty
    monkeypatch.setenv("REPRICER_WOOCOMMERCE_SECRET", SECRET)
    up = push_stock(settings, engine)
    assert (up.candidates, up.pushed, up.confirmed, up.error) == (250, 250, 250, None)
    assert len(shop.stock_received) == 250 and set(shop.stock_received.values()) == {1}


def test_a_push_that_lost_its_lease_stops_before_the_next_batch(
    settings, engine, shop, monkeypatch
) -> None:
    seed_simple(engine, shop, {f"S{i:03d}": 5 for i in range(250)})
    sent = Lease.check

    def lose_after_first(lease: Lease) -> None:
        if shop.batch_sizes:
            raise LeaseLostError("the push lease was taken over by another process")
        sent(lease)

    monkeypatch.setattr(Lease, "check", lose_after_first)
    summary = push_stock(settings, engine)
    assert summary.pushed == 100 and "taken over" in (summary.error or "")
    assert len(shop.stock_received) == 100
    monkeypatch.setattr(Lease, "check", sent)
    assert push_stock(settings, engine).pushed == 150
