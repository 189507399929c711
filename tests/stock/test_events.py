"""Event-driven stock: a feed sync that sees a stock-out gets it onto the storefront at
once, without waiting for the (debounced) repricing or any approval."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from repricer.config import Settings
from repricer.db.models import JobRun, RepricingRun
from repricer.jobs import REPRICE, STOCK_PUSH, default_jobs
from repricer.loopback import LoopbackServer
from repricer.scheduler import run_scheduler
from tests.storefront.fakes import FakeWooCommerce
from tests.storefront.seed import add_products
from tests.support.waiting import wait_until

KEY, SECRET = "ck_events", "cs_events"
SKUS = [f"S{i}" for i in range(5)]


def feed(path: Path, stock: dict[str, int]) -> None:
    rows = "".join(f"{sku};100,00;{stock.get(sku, 5)}\n" for sku in SKUS)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("sku;cost;stock\n" + rows, encoding="utf-8")
    tmp.replace(path)


@pytest.fixture
def settings(settings_from, http_server: LoopbackServer, tmp_path: Path, monkeypatch) -> Settings:
    monkeypatch.setenv("REPRICER_WOOCOMMERCE_KEY", KEY)
    monkeypatch.setenv("REPRICER_WOOCOMMERCE_SECRET", SECRET)
    feed(tmp_path / "feed.csv", {})
    return settings_from(
        f"""
        [[suppliers]]
        name = "acme"
        path = "feed.csv"
        format = "csv"
        delimiter = ";"
        every = "1m"

        [storefront]
        kind = "woocommerce"
        auto_push = true
        [storefront.woocommerce]
        url = "{http_server.url("")}"
        [storefront.stock]
        debounce = "0.2s"

        [scheduler]
        reprice_debounce = "4h"
        """
    )


def test_feed_jobs_request_the_stock_push_first(settings: Settings) -> None:
    jobs = {j.id: j for j in default_jobs(settings)}
    assert jobs["feeds:acme"].then == (STOCK_PUSH, REPRICE)
    assert jobs[STOCK_PUSH].debounce is not None and jobs[STOCK_PUSH].every is None


def test_stock_out_reaches_the_storefront_before_any_repricing(
    settings: Settings, engine: Engine, http_server: LoopbackServer, tmp_path: Path
) -> None:
    shop = FakeWooCommerce(http_server, KEY, SECRET)
    add_products(engine, SKUS)
    for n, sku in enumerate(SKUS):
        shop.add(10 + n, sku)
    stop = threading.Event()
    thread = threading.Thread(
        target=run_scheduler,
        args=(settings,),
        kwargs={"stop_event": stop, "speed": 60.0, "engine": engine},
    )
    thread.start()
    try:
        wait_until(
            lambda: all(i["stock_quantity"] == 5 for i in shop.items.values()),
            "first push",
            timeout=90,
        )
        feed(tmp_path / "feed.csv", {"S3": 0})
        wait_until(
            lambda: shop.items[13]["stock_status"] == "outofstock", "the stock-out", timeout=90
        )
    finally:
        stop.set()
        thread.join()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(RepricingRun)).scalar() == 0
        reprices = conn.execute(select(func.count()).where(JobRun.job_id == REPRICE)).scalar()
    assert reprices == 0  # repricing is still waiting for its debounce: stock did not
    assert shop.stock_received["S3"] == 2 and shop.stock_received["S0"] == 1
    assert not shop.received  # no price was sent
