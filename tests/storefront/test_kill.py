"""kill -9 in the middle of a push: nothing lost, at most the in-flight batch sent twice.

Why at most one batch: each batch's attempt rows and status moves are written in one
transaction right after the storefront answered. A kill before that commit leaves the
batch ``approved``; the storefront may or may not have applied it (the request was in
flight), so the next push sends exactly that batch again. Every earlier batch is
recorded as pushed and is never sent again; every later batch was never sent.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from repricer.config import load_settings
from repricer.db.models import PushAttempt
from repricer.loopback import LoopbackServer, Request
from repricer.storefront import push_changes
from tests.storefront.child import child_env, repricer_argv
from tests.storefront.fakes import FakeWooCommerce
from tests.storefront.seed import add_changes, add_products, add_run, statuses
from tests.support.waiting import wait_until

KEY, SECRET = "ck_kill", "cs_kill"
N = 600  # six batches of 100


@pytest.mark.slow
def test_sigkill_mid_push_then_rerun(
    engine: Engine, write_config, http_server: LoopbackServer, tmp_path: Path
) -> None:
    shop = FakeWooCommerce(http_server, KEY, SECRET)
    skus = [f"K{i:04d}" for i in range(N)]
    add_products(engine, skus)
    for i, sku in enumerate(skus):
        shop.add(5000 + i, sku)
    add_changes(engine, add_run(engine), {s: 20000 + i for i, s in enumerate(skus)})
    config = write_config(
        f'[storefront]\nkind = "woocommerce"\n[storefront.woocommerce]\nurl = "{http_server.url("")}"\n'
    )
    text = config.read_text()  # the killed push's lease lapses after 2 s
    config.write_text(text.replace("[database]\n", '[database]\nlease_ttl = "2s"\n', 1))
    shop.delay = 0.3  # a slow store: each request takes 0.3 s
    child = subprocess.Popen(
        repricer_argv(config, "push"),
        env=child_env(KEY, SECRET),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # the third batch has reached the store, which takes 0.3 s to answer it
        wait_until(lambda: len(_batch_requests(http_server)) >= 3, "the third batch sent")
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    # the store still applies the batch the dead client left behind
    wait_until(lambda: len(shop.batch_sizes) >= 3, "the store to finish the third batch")
    pushed_before = sum(1 for s in statuses(engine).values() if s == "pushed")
    assert 100 <= pushed_before < N

    shop.delay = 0.0
    settings = load_settings(config)
    os.environ["REPRICER_WOOCOMMERCE_KEY"], os.environ["REPRICER_WOOCOMMERCE_SECRET"] = KEY, SECRET
    try:
        summary = push_changes(settings, engine, wait=60)  # until the dead push's lease lapses
    finally:
        del os.environ["REPRICER_WOOCOMMERCE_KEY"], os.environ["REPRICER_WOOCOMMERCE_SECRET"]

    assert summary.pushed == N - pushed_before and summary.failed == 0
    assert summary.recovered == 100  # the batch in flight was left "pushing", then re-sent
    final = list(statuses(engine).values())  # none lost; the dead push never read back
    assert set(final) == {"pushed", "confirmed"} and final.count("pushed") == pushed_before
    assert len(shop.received) == N and all(
        shop.items[5000 + i]["regular_price"] == f"{200 + i // 100}.{i % 100:02d}" for i in range(N)
    )
    twice = [s for s, n in shop.received.items() if n > 1]
    assert max(shop.received.values()) <= 2 and len(twice) <= 100  # at most the in-flight batch
    with engine.connect() as conn:
        pushed_rows = conn.execute(
            select(func.count()).where(PushAttempt.status == "pushed")
        ).scalar()
    assert pushed_rows == N  # one recorded push per change


def _batch_requests(server: LoopbackServer) -> list[Request]:
    return [r for r in list(server.requests) if r.path.endswith("/products/batch")]
