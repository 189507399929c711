"""Fixtures for crawls on real Scrapyd nodes: a PostgreSQL database of the test's own,
competitor pages on 127.0.0.1, and a seeding helper for products and listings."""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from repricer.catalog import sync_competitors
from repricer.config import Settings, load_settings
from repricer.db.engine import session_scope
from repricer.db.models import Competitor, Listing, Product
from repricer.loopback import LoopbackServer, Request, Response
from repricer.synthetic.pages import PageProduct
from repricer.synthetic.pages import product_page as product_page_html
from tests.support.scrapyd import ScrapydProcess


def product_page(sku: str) -> str:
    """A JSON-LD page for ``sku`` with a price worked out from it (1 000 to 1 899 ₽)."""
    price = (1000 + sum(map(ord, sku)) % 900) * 100
    return product_page_html(PageProduct(f"Item {sku}", price, sku=sku))


@pytest.fixture
def pg_db_url(pg_engine: Engine) -> str:
    return pg_engine.url.render_as_string(hide_password=False)


class ShopServer(LoopbackServer):
    """Serves /<competitor>/<sku> as a product page; ``delay`` slows every page."""

    def __init__(self) -> None:
        super().__init__()
        self.delay = 0.0
        self.fallback = self._page

    def _page(self, request: Request) -> Response:
        time.sleep(self.delay)
        sku = request.path.rsplit("/", 1)[-1]
        return Response(200, product_page(sku), {"Content-Type": "text/html; charset=utf-8"})


@pytest.fixture
def shop_server() -> Iterator[ShopServer]:
    with ShopServer() as server:
        yield server


@pytest.fixture
def cluster_config(tmp_path: Path, pg_db_url: str) -> Callable[..., Settings]:
    """Write config.toml for a scrapyd-backed crawl of the named competitors."""

    def make(nodes: list[str], competitors: list[str], extra: str = "") -> Settings:
        body = f"""
        [database]
        url = "{pg_db_url}"

        [crawl]
        backend = "scrapyd"
        scrapyd_nodes = {json.dumps(nodes)}
        timeout = "5s"
        retries = 1
        autothrottle = false
        poll_interval = "0.3s"
        node_timeout = "2s"
        run_timeout = "5m"
        {textwrap.dedent(extra)}
        """
        for name in competitors:
            body += f"""
        [[competitors]]
        name = "{name}"
        domain = "127.0.0.1"
        local = true
        obey_robots = false
        concurrency = 4
        delay = 0
        """
        path = tmp_path / "config.toml"
        path.write_text(textwrap.dedent(body), encoding="utf-8")
        return load_settings(path)

    return make


def seed_listings(
    engine: Engine, settings: Settings, server: LoopbackServer, per_competitor: dict[str, int]
) -> int:
    """Products SKU-00000.. and one listing per (competitor, product); returns listings."""
    count = max(per_competitor.values())
    with session_scope(engine) as session:
        ids = sync_competitors(settings, session)
        session.execute(
            insert(Product), [{"sku": f"SKU-{i:05d}", "currency": "RUB"} for i in range(count)]
        )
        products = dict(session.execute(select(Product.sku, Product.id)).all())
        rows = [
            {"product_id": products[f"SKU-{i:05d}"], "competitor_id": ids[name],
             "url": server.url(f"/{name}/SKU-{i:05d}")}
            for name, n in per_competitor.items() for i in range(n)
        ]  # fmt: skip
        session.execute(insert(Listing), rows)
    return sum(per_competitor.values())


@pytest.fixture
def scrapyd_nodes(pg_db_url: str) -> Iterator[Callable[..., list[ScrapydProcess]]]:
    started: list[ScrapydProcess] = []

    def start(count: int, max_proc: int = 1) -> list[ScrapydProcess]:
        for _ in range(count):
            node = ScrapydProcess({"REPRICER_DATABASE__URL": pg_db_url}, max_proc=max_proc)
            started.append(node.__enter__())
        return started[-count:]

    yield start
    for node in started:
        node.__exit__(None, None, None)


def competitor_id(engine: Engine, name: str) -> int:
    with session_scope(engine) as session:
        return int(
            session.execute(select(Competitor.id).where(Competitor.name == name)).scalar_one()
        )
