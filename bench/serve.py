"""Benchmark: the workspace's review queue with 100,000 pending price changes in SQLite.

Seeds N products (20 categories, 50 brands, 4 rules) and one applied run whose N changes
all wait for approval, starts ``repricer serve`` on a free loopback port, and reads the
server time of each request from its ``Server-Timing`` header (median of several runs):

- ``queue_page_ms``: the queue's first page (latest run, pending, sorted by SKU);
- ``filtered_page_ms``: a page filtered by brand, direction, change size and a search,
  sorted by change size;
- ``approve_all_s``: approving every change matching a filter (one category: about N/20),
  the POST as the page sends it (CSRF token included), then all going down (about N/2).

The baseline does what a naive ORM handler would: load every change of the run with its
product as objects, filter and sort in Python, slice a page; and approve by loading the
matching objects and setting each one's status. Ends with one JSON line.

    .venv/bin/python bench/serve.py [--n N] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from repricer.db import make_engine
from repricer.db.migrate import upgrade
from repricer.db.models import PriceChange, Product, RepricingRun

ROOT = Path(__file__).resolve().parent.parent
FILTER = {
    "brand": "Brand-08",
    "direction": "down",
    "min": "5",
    "q": "kettle",
    "sort": "change",
    "desc": "1",
}


def seed(engine: Engine, n: int) -> None:
    products, changes = [], []
    for i in range(n):
        sku = f"SKU{i:07d}"
        products.append(
            {"id": i + 1, "sku": sku, "title": f"{('Kettle', 'Toaster', 'Lamp', 'Chair')[i % 4]} model {i}",
             "category": f"Cat-{i % 20:02d}", "brand": f"Brand-{i % 50:02d}", "currency": "RUB",
             "price": 100000 + i % 9000, "tags": []}
        )  # fmt: skip
        old = 100000 + i % 9000
        new = old + ((i * 7919) % 40001 - 20000)
        changes.append(
            {"run_id": 1, "product_id": i + 1, "sku": sku, "currency": "RUB", "old_price": old,
             "new_price": new, "cost": old // 2, "floor": old // 2 + old // 10, "rule": f"rule-{i % 4}",
             "strategy": "beat_lowest", "guards": [], "flags": [], "status": "needs_approval",
             "explanation": f"cheapest in-stock competitor shop-{i % 7} → ending 9", "inputs": {}}
        )  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(RepricingRun), [{"id": 1, "status": "applied", "summary": {}}])
        for start in range(0, n, 20_000):
            conn.execute(insert(Product), products[start : start + 20_000])
            conn.execute(insert(PriceChange), changes[start : start + 20_000])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_ms(response: httpx.Response, metric: str = "app") -> float:
    """A metric of the ``Server-Timing`` header: ``app`` wall time, ``cpu`` process CPU time."""
    if response.status_code >= 400:
        response.raise_for_status()
    found = re.search(rf"{metric};dur=([0-9.]+)", response.headers["server-timing"])
    assert found, response.headers["server-timing"]
    return float(found.group(1))


def timed_get(
    client: httpx.Client, path: str, params: dict[str, str], repeat: int
) -> tuple[float, float, str]:
    """(median server wall ms, median server CPU ms, the last page)."""
    wall, cpu, text = [], [], ""
    for _ in range(repeat):
        answer = client.get(path, params=params)
        wall.append(server_ms(answer))
        cpu.append(server_ms(answer, "cpu"))
        text = answer.text
    return statistics.median(wall), statistics.median(cpu), text


def approve_matching(client: httpx.Client, params: dict[str, str]) -> float:
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/queue").text)
    assert token, "no CSRF token on the queue page"
    data = {**params, "csrf": token.group(1), "action": "approve", "scope": "matching"}
    answer = client.post("/queue/decide", data=data)
    assert answer.status_code == 303, answer.text[:500]
    return server_ms(answer) / 1000


def naive_page(engine: Engine, brand: str | None) -> tuple[float, int]:
    started = time.perf_counter()
    with Session(engine) as session:
        rows = session.execute(
            select(PriceChange, Product).join(Product, Product.id == PriceChange.product_id)
            .where(PriceChange.run_id == 1)
        ).all()  # fmt: skip
        kept = [
            (c, p) for c, p in rows
            if c.status in ("proposed", "needs_approval") and (brand is None or p.brand == brand)
        ]  # fmt: skip
        kept.sort(key=lambda cp: cp[0].sku)
        page = kept[:50]
    return (time.perf_counter() - started) * 1000, len(page)


def naive_approve(engine: Engine, category: str) -> tuple[float, int]:
    started = time.perf_counter()
    with Session(engine) as session:
        rows = session.execute(
            select(PriceChange, Product).join(Product, Product.id == PriceChange.product_id)
            .where(PriceChange.run_id == 1, PriceChange.status == "needs_approval")
        ).all()  # fmt: skip
        chosen = [c for c, p in rows if p.category == category]
        for change in chosen:
            change.status, change.approved_by = "approved", "bench"
        session.commit()
    return time.perf_counter() - started, len(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade(url)
    engine = make_engine(url)
    started = time.perf_counter()
    seed(engine, args.n)
    print(
        f"seeded {args.n} pending changes in {time.perf_counter() - started:.1f} s", file=sys.stderr
    )
    config = folder / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPRICER_WEB_")}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "repricer"), "--config", str(config), "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    results: dict[str, Any] = {"n": args.n}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    client.get("/queue")
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            results["queue_page_ms"], results["queue_page_cpu_ms"], first = timed_get(
                client, "/queue", {}, args.repeat
            )
            assert f'<strong id="total">{args.n}</strong>' in first
            results["filtered_page_ms"], results["filtered_page_cpu_ms"], page = timed_get(
                client, "/queue", FILTER, args.repeat
            )
            results["filtered_rows"] = int(re.findall(r'<strong id="total">(\d+)', page)[0])
            last = {"page": str(args.n // 50)}
            results["last_page_ms"], _, _ = timed_get(client, "/queue", last, args.repeat)
            results["approve_all_s"] = approve_matching(client, {"category": "Cat-03"})
            results["approve_all_down_s"] = approve_matching(client, {"direction": "down"})
    finally:
        server.terminate()
        server.wait(30)
    with engine.connect() as conn:
        approved = conn.execute(
            select(func.count()).where(PriceChange.status == "approved")
        ).scalar()
    results["approved"] = int(approved or 0)
    runs = [naive_page(engine, None) for _ in range(3)]
    results["baseline_queue_page_ms"] = statistics.median(ms for ms, _ in runs)
    results["baseline_filtered_page_ms"] = naive_page(engine, "Brand-08")[0]
    results["baseline_approve_all_s"], _ = naive_approve(engine, "Cat-04")
    results["queue_page_ratio"] = results["baseline_queue_page_ms"] / results["queue_page_ms"]
    results["load_avg_1m"] = os.getloadavg()[0]  # a busy machine inflates wall times
    for key, value in results.items():
        if isinstance(value, float):
            results[key] = round(value, 3)
    print(f"queue page: {results['queue_page_ms']} ms (naive ORM {results['baseline_queue_page_ms']} ms); "
          f"filtered: {results['filtered_page_ms']} ms; approve {args.n // 20} matching: "
          f"{results['approve_all_s']} s (naive ORM {results['baseline_approve_all_s']} s)", file=sys.stderr)  # fmt: skip
    engine.dispose()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
