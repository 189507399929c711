"""Cluster crawl benchmark: the same crawl on one Scrapyd node, then on two.

Serves N product pages (~20 KB, the crawl benchmark's mix of JSON-LD, microdata,
OpenGraph and text-only pages) spread over 8 competitor hosts on 127.0.0.1 (one port
each, served by a separate asyncio process), starts a throwaway PostgreSQL cluster and
two real Scrapyd processes (one crawl at a time each), and crawls every listing with
``[crawl] backend = "scrapyd"``: first with one node, then with both. Each competitor
keeps a concurrency of 4 and is never crawled by two nodes at once. The one-node run is
the baseline. Last line: one JSON object.

    .venv/bin/python bench/crawl_cluster.py [--n 20000] [--hosts 8] [--shard-size 1250]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawl import product_page  # noqa: E402  (bench/crawl.py: the same pages)
from sqlalchemy import func, insert, select  # noqa: E402

from repricer.catalog import sync_competitors  # noqa: E402
from repricer.cluster.client import ScrapydNode  # noqa: E402
from repricer.cluster.egg import build_egg  # noqa: E402
from repricer.config import load_settings  # noqa: E402
from repricer.crawl import run_crawl  # noqa: E402
from repricer.db import migrate  # noqa: E402
from repricer.db.engine import make_engine, session_scope  # noqa: E402
from repricer.db.models import Listing, Observation, Product  # noqa: E402
from tests.support.postgres import throwaway_cluster  # noqa: E402
from tests.support.scrapyd import ScrapydProcess  # noqa: E402


def serve_pages(ports: list[int], n: int, ready: multiprocessing.synchronize.Event) -> None:
    """HTTP/1.1 keep-alive on every port; ``GET /p/<i>`` is page i. Runs until killed."""
    pages = {
        f"/p/{i}".encode(): (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: "
            + str(len(body := product_page(i).encode())).encode()
            + b"\r\n\r\n"
            + body
        )
        for i in range(n)
    }
    missing = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                path = head.split(b" ", 2)[1]
                writer.write(pages.get(path, missing))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        servers = [await asyncio.start_server(handle, "127.0.0.1", p, backlog=512) for p in ports]
        ready.set()
        await asyncio.gather(*(s.serve_forever() for s in servers))

    asyncio.run(main())


def free_ports(count: int) -> list[int]:
    from tests.support.scrapyd import _free_port

    return [_free_port() for _ in range(count)]


def write_config(folder: Path, url: str, nodes: list[str], hosts: int, shard_size: int) -> Path:
    body = f"""
[database]
url = "{url}"

[crawl]
backend = "scrapyd"
scrapyd_nodes = {json.dumps(nodes)}
autothrottle = false
retries = 1
timeout = "30s"
shard_size = {shard_size}
jobs_per_node = 1
poll_interval = "0.25s"
run_timeout = "30m"
"""
    for h in range(hosts):
        body += f"""
[[competitors]]
name = "shop{h}"
domain = "127.0.0.1"
local = true
obey_robots = false
concurrency = 4
delay = 0
"""
    path = folder / "config.toml"
    path.write_text(body, encoding="utf-8")
    return path


def seed(config: Path, ports: list[int], per_host: int) -> None:
    settings = load_settings(config)
    engine = make_engine(settings.database.url)
    with session_scope(engine) as session:
        ids = sync_competitors(settings, session)
        session.execute(insert(Product), [{"sku": f"SKU-{i:06d}"} for i in range(per_host)])
        products = dict(session.execute(select(Product.sku, Product.id)).all())
        for h, port in enumerate(ports):
            session.execute(insert(Listing), [
                {"product_id": products[f"SKU-{i:06d}"], "competitor_id": ids[f"shop{h}"],
                 "url": f"http://127.0.0.1:{port}/p/{h * per_host + i}"}
                for i in range(per_host)
            ])  # fmt: skip
    engine.dispose()


def crawl(config: Path) -> tuple[float, int, int, int]:
    """(seconds, pages, lost, duplicates) of one run."""
    settings = load_settings(config)
    started = time.monotonic()
    result = run_crawl(settings)
    elapsed = time.monotonic() - started
    if result.status != "ok":
        raise SystemExit(f"crawl {result.status}: {result.error}")
    engine = make_engine(settings.database.url)
    with session_scope(engine) as session:
        listings = session.execute(select(func.count()).select_from(Listing)).scalar_one()
        per_listing = (
            select(Observation.listing_id, func.count().label("n"))
            .where(Observation.crawl_run_id == result.run_id)
            .group_by(Observation.listing_id)
            .subquery()
        )
        seen, extra = session.execute(
            select(func.count(), func.coalesce(func.sum(per_listing.c.n - 1), 0))
        ).one()
    engine.dispose()
    return elapsed, int(seen), int(listings - seen), int(extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="product pages in all")
    parser.add_argument("--hosts", type=int, default=8, help="competitor hosts")
    parser.add_argument("--shard-size", type=int, default=1250, help="listings per shard")
    args = parser.parse_args()
    per_host = args.n // args.hosts
    ports = free_ports(args.hosts)
    ready = multiprocessing.Event()
    server = multiprocessing.Process(
        target=serve_pages, args=(ports, per_host * args.hosts, ready), daemon=True
    )
    server.start()
    ready.wait(120)
    with throwaway_cluster() as url, tempfile.TemporaryDirectory() as tmp:
        migrate.upgrade(url)
        env = {"REPRICER_DATABASE__URL": url}
        with ScrapydProcess(env) as first, ScrapydProcess(env) as second:
            egg = build_egg()
            for node in (first, second):  # deployed before timing: a one-off per version
                client = ScrapydNode(node.url)
                client.add_version("repricer", egg.version, egg.data)
                client.close()
            folder = Path(tmp)
            config = write_config(folder, url, [first.url], args.hosts, args.shard_size)
            seed(config, ports, per_host)
            one_s, one_pages, one_lost, one_dupes = crawl(config)
            print(f"1 node : {one_pages} pages in {one_s:.1f} s = {one_pages / one_s:.0f} pages/s")
            config = write_config(folder, url, [first.url, second.url], args.hosts, args.shard_size)
            two_s, two_pages, two_lost, two_dupes = crawl(config)
            print(f"2 nodes: {two_pages} pages in {two_s:.1f} s = {two_pages / two_s:.0f} pages/s")
    server.kill()
    one_rate, two_rate = one_pages / one_s, two_pages / two_s
    print(f"scale ratio (2 nodes / 1 node): {two_rate / one_rate:.2f}")
    print(json.dumps({
        "pages": per_host * args.hosts,
        "hosts": args.hosts,
        "one_node_pages_per_s": round(one_rate, 1),
        "two_nodes_pages_per_s": round(two_rate, 1),
        "scale_ratio": round(two_rate / one_rate, 3),
        "lost_pages": one_lost + two_lost,
        "duplicate_observations": one_dupes + two_dupes,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
