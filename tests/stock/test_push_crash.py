"""A stock push SIGKILLed right after the storefront accepted a batch, before journaling
it: the next push sends that batch again and everything else once; nothing is lost
(SQLite and PostgreSQL). The stock push runs in the same loop as the price push, with
its own crash points (``stock-push:claimed``, ``stock-push:sent``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine

from repricer.config import load_settings
from repricer.loopback import LoopbackServer
from repricer.stock import push_stock
from repricer.stock.journal import pushed_states
from tests.storefront.child import child_env, repricer_argv, woocommerce_config
from tests.storefront.fakes import FakeWooCommerce
from tests.storefront.seed import add_offer, add_products

KEY, SECRET = "ck_stock_crash", "cs_stock_crash"
N = 250  # batches of 100, 100, 50


@pytest.mark.slow
@pytest.mark.parametrize("point", ["stock-push:claimed", "stock-push:sent"])
def test_sigkill_at_each_step_of_the_stock_push(
    any_engine: Engine,
    http_server: LoopbackServer,
    tmp_path: Path,
    point: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = FakeWooCommerce(http_server, KEY, SECRET)
    skus = [f"Q{i:04d}" for i in range(N)]
    add_products(any_engine, skus)
    for i, sku in enumerate(skus):
        shop.add(7000 + i, sku)
        add_offer(any_engine, sku, 5000, 3)
    config = woocommerce_config(
        tmp_path / "stock.toml", any_engine, http_server, database='lease_ttl = "2s"\n'
    )
    child = subprocess.run(
        repricer_argv(config, "stock", "push"),
        env=child_env(KEY, SECRET, REPRICER_CRASH_AT=point),
        capture_output=True,
        timeout=300,
    )
    assert child.returncode == -9, child.stderr
    assert pushed_states(any_engine, "woocommerce").empty  # nothing journaled
    assert sum(shop.stock_received.values()) == (100 if point == "stock-push:sent" else 0)

    monkeypatch.setenv("REPRICER_WOOCOMMERCE_KEY", KEY)
    monkeypatch.setenv("REPRICER_WOOCOMMERCE_SECRET", SECRET)
    summary = push_stock(load_settings(config), any_engine, wait=60)
    assert (summary.pushed, summary.confirmed, summary.error) == (N, N, None)
    assert len(shop.stock_received) == N and len(pushed_states(any_engine, "woocommerce")) == N
    twice = sorted(s for s, n in shop.stock_received.items() if n > 1)
    assert twice == (skus[:100] if point == "stock-push:sent" else [])
