"""A push SIGKILLed right after claiming a batch, or right after the storefront accepted
it: the next push re-sends exactly that batch, nothing else twice, nothing lost, and a
change never ends in two states (SQLite and PostgreSQL)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine

from repricer.config import load_settings
from repricer.lease import PUSH, lease_holder
from repricer.loopback import LoopbackServer
from repricer.storefront import push_changes
from tests.storefront.child import child_env, repricer_argv, woocommerce_config
from tests.storefront.fakes import FakeWooCommerce
from tests.storefront.seed import add_changes, add_products, add_run, statuses

KEY, SECRET = "ck_crash", "cs_crash"
N = 250  # batches of 100, 100, 50


@pytest.mark.slow
@pytest.mark.parametrize("point", ["push:claimed", "push:sent"])
def test_sigkill_at_each_step_of_push(
    any_engine: Engine,
    http_server: LoopbackServer,
    tmp_path: Path,
    point: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = FakeWooCommerce(http_server, KEY, SECRET)
    skus = [f"K{i:04d}" for i in range(N)]
    for i, sku in enumerate(skus):
        add_products(any_engine, [sku], storefront_id=str(9000 + i))
        shop.add(9000 + i, sku)
    add_changes(any_engine, add_run(any_engine), {s: 30000 + i for i, s in enumerate(skus)})
    config = woocommerce_config(
        tmp_path / "push.toml", any_engine, http_server, database='lease_ttl = "2s"\n'
    )
    child = subprocess.run(
        repricer_argv(config, "push"),
        env=child_env(KEY, SECRET, REPRICER_CRASH_AT=point),
        capture_output=True,
        timeout=300,
    )
    assert child.returncode == -9, child.stderr
    left = statuses(any_engine)
    assert sorted(set(left.values())) == ["approved", "pushing"]
    assert list(left.values()).count("pushing") == 100  # the first batch, claimed
    assert sum(shop.received.values()) == (100 if point == "push:sent" else 0)
    assert lease_holder(any_engine, PUSH) is not None  # the dead push's lease, until it lapses

    monkeypatch.setenv("REPRICER_WOOCOMMERCE_KEY", KEY)
    monkeypatch.setenv("REPRICER_WOOCOMMERCE_SECRET", SECRET)
    summary = push_changes(load_settings(config), any_engine, wait=60)
    assert summary.recovered == 100 and summary.pushed == N and not summary.error
    assert set(statuses(any_engine).values()) == {"confirmed"}
    assert len(shop.received) == N
    twice = sorted(s for s, n in shop.received.items() if n > 1)
    assert twice == (skus[:100] if point == "push:sent" else [])
