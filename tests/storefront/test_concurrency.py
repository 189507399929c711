"""A push running while managers decide, and two pushes at once, against a slow store.

The push runs as a real ``repricer push`` process against a loopback WooCommerce that
holds the first batch request until the test lets it go. While it is held: a change rejected before its batch is sent
stays rejected and never reaches the store; a change in the batch being sent cannot be
rejected (it is on its way). Two pushes started together: one sends everything, the
other exits 1 naming the first; every change reaches the store exactly once.
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from repricer.db.models import PriceChange
from repricer.exceptions import ReviewError
from repricer.loopback import LoopbackServer, Request, Response
from repricer.review import reject
from tests.storefront.child import child_env, repricer_argv, woocommerce_config
from tests.storefront.fakes import WC, FakeWooCommerce
from tests.storefront.seed import add_changes, add_products, add_run, statuses
from tests.support.waiting import wait_until

KEY, SECRET = "ck_conc", "cs_conc"
N = 300  # three batches of 100


def _setup(
    engine: Engine, server: LoopbackServer, tmp_path: Path
) -> tuple[FakeWooCommerce, Path, threading.Event]:
    """Catalog, approved changes, the store and its gate (batch requests wait for it),
    and the push's config file."""
    shop = FakeWooCommerce(server, KEY, SECRET)
    gate = threading.Event()
    batch = server.routes[f"{WC}/products/batch"]

    def held(req: Request) -> Response:
        gate.wait(120)
        return batch(req)

    server.route(f"{WC}/products/batch", held)
    skus = [f"C{i:04d}" for i in range(N)]
    for i, sku in enumerate(skus):
        add_products(engine, [sku], storefront_id=str(7000 + i))
        shop.add(7000 + i, sku)
    add_changes(engine, add_run(engine), {s: 20000 + i for i, s in enumerate(skus)})
    config = woocommerce_config(
        tmp_path / "push.toml", engine, server, storefront='timeout = "150s"\n'
    )
    return shop, config, gate


def _push(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        repricer_argv(config, "push"),
        env=child_env(KEY, SECRET),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _ids_by_sku(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(PriceChange.sku, PriceChange.id)).all())  # type: ignore[arg-type]


def _in_flight(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.scalars(select(PriceChange.id).where(PriceChange.status == "pushing")))


@pytest.mark.slow
def test_reject_during_push_is_never_undone(
    any_engine: Engine, http_server: LoopbackServer, tmp_path: Path
) -> None:
    shop, config, gate = _setup(any_engine, http_server, tmp_path)
    ids = _ids_by_sku(any_engine)
    last_batch = [ids[f"C{i:04d}"] for i in range(250, 260)]
    child = _push(config)
    try:
        wait_until(
            lambda: _in_flight(any_engine), "a batch in flight", timeout=120
        )  # the first batch is on its way
        on_the_way = _in_flight(any_engine)[0]
        with pytest.raises(ReviewError, match="cannot go from pushing to rejected"):
            reject(any_engine, ids=[on_the_way], by="manager")
        assert reject(any_engine, ids=last_batch, by="manager") == sorted(last_batch)
        gate.set()
        _, err = child.communicate(timeout=180)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    rejected = {f"C{i:04d}" for i in range(250, 260)}
    final = statuses(any_engine)
    assert {sku for sku, s in final.items() if s == "rejected"} == rejected
    assert not rejected & set(shop.received)  # never sent
    assert len(shop.received) == N - len(rejected)
    assert set(shop.received.values()) == {1}


@pytest.mark.slow
def test_two_pushes_at_once_send_each_change_once(
    any_engine: Engine, http_server: LoopbackServer, tmp_path: Path
) -> None:
    shop, config, gate = _setup(any_engine, http_server, tmp_path)
    first = _push(config)
    wait_until(
        lambda: _in_flight(any_engine), "a batch in flight", timeout=120
    )  # the first push is sending its first batch
    second = _push(config)
    try:
        second_out = second.communicate(timeout=180)
        gate.set()
        outcomes = [first.communicate(timeout=180), second_out]
    finally:
        for p in (first, second):
            if p.poll() is None:
                p.kill()
                p.wait()
    codes = sorted((first.returncode, second.returncode))
    assert codes == [0, 1], outcomes
    loser = first if first.returncode == 1 else second
    winner = second if loser is first else first
    message = outcomes[(first, second).index(loser)][1]
    assert "another push is running" in message and f"pid {winner.pid}" in message
    assert "Traceback" not in message and len(message.strip().splitlines()) == 1
    assert len(shop.received) == N and set(shop.received.values()) == {1}
    assert set(statuses(any_engine).values()) == {"confirmed"}
