"""Benchmark: pushing N approved price changes to a local WooCommerce-contract server.

Seeds a SQLite catalog of N products (storefront ids known, as after the first push or
a catalog import carrying them) with N approved changes, then times ``push_changes``
against the fake WooCommerce server of the test suite on 127.0.0.1: batches of 100
through ``products/batch``, one transaction per batch, then a read-back of every price.
The baseline sends one request per item (the same endpoint with a single item, as a
naive integration would) on a sample and is extrapolated to N. Ends with one JSON line.

    .venv/bin/python bench/push.py [--n N] [--sample S]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import Engine, insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from repricer.config import load_settings
from repricer.db import Base, make_engine
from repricer.db.models import PriceChange, Product, RepricingRun
from repricer.loopback import LoopbackServer
from repricer.storefront import push_changes
from tests.storefront.fakes import WC, FakeWooCommerce

KEY, SECRET = "ck_bench", "cs_bench"


def seed(engine: Engine, n: int) -> None:
    products = [
        {"id": i + 1, "sku": f"SKU{i:07d}", "currency": "RUB", "price": 10000, "tags": []}
        | {"storefront_id": str(100_000 + i)}
        for i in range(n)
    ]
    changes = [
        {
            "run_id": 1,
            "product_id": i + 1,
            "sku": f"SKU{i:07d}",
            "currency": "RUB",
            "old_price": 10000,
            "new_price": 10000 + i % 5000,
            "status": "approved",
            "approved_by": "auto",
        }
        for i in range(n)
    ]
    with engine.begin() as conn:
        conn.execute(insert(RepricingRun), [{"id": 1, "status": "applied"}])
        conn.execute(insert(Product), products)
        conn.execute(insert(PriceChange), changes)


def run_ours(shop: FakeWooCommerce, workdir: Path, n: int) -> dict[str, float | int]:
    url = shop.server.url("")
    config = workdir / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{workdir / "bench.db"}"\n'
        f'[storefront]\nkind = "woocommerce"\n[storefront.woocommerce]\nurl = "{url}"\n'
    )
    settings = load_settings(config)
    engine = make_engine(settings.database.url)
    Base.metadata.create_all(engine)
    seed(engine, n)
    started = time.perf_counter()
    summary = push_changes(settings, engine)
    wall = time.perf_counter() - started
    posts = sum(1 for r in shop.server.requests if r.method == "POST")
    assert summary.pushed == n and summary.confirmed == n, summary
    return {
        "ours_s": round(wall, 2),
        "push_requests": posts,
        "readback_requests": len(shop.server.requests) - posts,
        "pushed": summary.pushed,
        "confirmed": summary.confirmed,
    }


def run_baseline(shop: FakeWooCommerce, sample: int) -> float:
    """One request per item: seconds per item over ``sample`` items."""
    with httpx.Client(base_url=shop.server.url(f"{WC}/"), auth=(KEY, SECRET)) as client:
        started = time.perf_counter()
        for i in range(sample):
            body = {"update": [{"id": 100_000 + i, "regular_price": "101.00"}]}
            client.post("products/batch", json=body).raise_for_status()
        return (time.perf_counter() - started) / sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=2_000)
    args = parser.parse_args()
    os.environ["REPRICER_WOOCOMMERCE_KEY"], os.environ["REPRICER_WOOCOMMERCE_SECRET"] = KEY, SECRET
    with tempfile.TemporaryDirectory() as tmp, LoopbackServer() as server:
        shop = FakeWooCommerce(server, KEY, SECRET)
        for i in range(args.n):
            shop.add(100_000 + i, f"SKU{i:07d}")
        ours = run_ours(shop, Path(tmp), args.n)
        per_item = run_baseline(shop, min(args.sample, args.n))
    baseline_s = per_item * args.n
    print(
        f"ours:     {args.n} changes in {ours['ours_s']} s, {ours['push_requests']} push "
        f"requests + {ours['readback_requests']} read-back requests"
    )
    print(
        f"baseline: one request per item, {per_item * 1000:.2f} ms/item on {args.sample} "
        f"items -> {baseline_s:.1f} s and {args.n} requests for {args.n}"
    )
    result = {
        "changes": args.n,
        **ours,
        "baseline_requests": args.n,
        "baseline_ms_per_item": round(per_item * 1000, 3),
        "baseline_est_s": round(baseline_s, 2),
        "ratio": round(baseline_s / ours["ours_s"], 1) if ours["ours_s"] else None,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
