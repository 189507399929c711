"""Crawls sharded over real Scrapyd processes writing to one real PostgreSQL.

Covers deploy, a sharded crawl whose observations land once each, a node killed
mid-run with its shard finished by the other node, a competitor never crawled by two
nodes at once, and the scheduler dispatching through Scrapyd.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from repricer.cli import app
from repricer.cluster.egg import build_egg
from repricer.config import Settings
from repricer.crawl import run_crawl
from repricer.db.engine import session_scope
from repricer.db.models import CrawlRun, CrawlShard, CrawlSiteStats, Observation
from repricer.exceptions import RepricerError
from repricer.scheduler import run_scheduler
from tests.cluster.conftest import ShopServer, competitor_id, seed_listings
from tests.support.scrapyd import ScrapydProcess
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


def _observations_per_listing(engine: Engine, run_id: int) -> Counter[int]:
    with session_scope(engine) as session:
        rows = session.execute(
            select(Observation.listing_id).where(Observation.crawl_run_id == run_id)
        ).scalars()
        return Counter(rows)


def _shards(engine: Engine, run_id: int) -> list[CrawlShard]:
    with session_scope(engine) as session:
        shards = session.scalars(
            select(CrawlShard).where(CrawlShard.crawl_run_id == run_id).order_by(CrawlShard.id)
        ).all()
        session.expunge_all()
        return list(shards)


def test_sharded_crawl_lands_each_page_once_and_keeps_competitors_on_one_node(
    pg_engine: Engine,
    shop_server: ShopServer,
    cluster_config: Callable[..., Settings],
    scrapyd_nodes: Callable[..., list[ScrapydProcess]],
) -> None:
    nodes = scrapyd_nodes(2)
    settings = cluster_config([n.url for n in nodes], ["big", "small"], "shard_size = 40")
    total = seed_listings(pg_engine, settings, shop_server, {"big": 150, "small": 30})

    result = CliRunner().invoke(app, ["--config", str(settings.config_path), "crawl", "--json"])

    assert result.exit_code == 0, result.output
    run_id = pg_engine.connect().execute(select(func.max(CrawlRun.id))).scalar_one()
    seen = _observations_per_listing(pg_engine, run_id)
    assert len(seen) == total and set(seen.values()) == {1}
    shards = _shards(pg_engine, run_id)
    big = [s for s in shards if s.competitor == "big"]
    assert len(big) == 4 and sum(s.listings for s in big) == 150
    assert all(s.status == "ok" and s.node and s.job_id for s in shards)
    assert sum(s.pages for s in shards) == total
    # Shards of one competitor never overlap in time, wherever they ran.
    spans = sorted((s.started_at, s.finished_at) for s in big)
    assert all(prev[1] <= nxt[0] for prev, nxt in itertools.pairwise(spans))
    assert {s.node for s in shards} == {n.url for n in nodes}  # both nodes did work
    # Deployed: every node holds the egg version that ran.
    version = build_egg().version
    for node in nodes:
        listed = httpx.get(f"{node.url}/listversions.json", params={"project": "repricer"})
        assert version in listed.json()["versions"]
    with session_scope(pg_engine) as session:
        stats = session.scalars(
            select(CrawlSiteStats).where(CrawlSiteStats.crawl_run_id == run_id)
        ).all()
        assert {(s.competitor_id, s.ok, s.healthy) for s in stats} == {
            (competitor_id(pg_engine, "big"), 150, True),
            (competitor_id(pg_engine, "small"), 30, True),
        }


def test_a_node_killed_mid_run_has_its_shard_finished_by_the_other(
    pg_engine: Engine,
    shop_server: ShopServer,
    cluster_config: Callable[..., Settings],
    scrapyd_nodes: Callable[..., list[ScrapydProcess]],
) -> None:
    first, second = scrapyd_nodes(2)
    settings = cluster_config([first.url, second.url], ["slow"])
    total = seed_listings(pg_engine, settings, shop_server, {"slow": 600})
    shop_server.delay = 0.02  # ~4 pages at a time: the crawl takes a few seconds
    outcome: dict[str, object] = {}
    crawl = threading.Thread(target=lambda: outcome.update(result=run_crawl(settings)))
    crawl.start()

    def stored_pages() -> int:
        with session_scope(pg_engine) as session:
            return int(
                session.execute(select(func.coalesce(func.sum(CrawlShard.pages), 0))).scalar_one()
            )

    wait_until(stored_pages, "the first node to store a batch", timeout=120, poll=0.1)
    first.kill()
    crawl.join(timeout=300)

    result = outcome["result"]
    assert result.status == "ok", result.error  # type: ignore[attr-defined]
    seen = _observations_per_listing(pg_engine, result.run_id)  # type: ignore[attr-defined]
    assert len(seen) == total and set(seen.values()) == {1}
    (shard,) = _shards(pg_engine, result.run_id)  # type: ignore[attr-defined]
    assert (shard.status, shard.node, shard.attempts) == ("ok", second.url, 2)


def test_two_runs_at_once_never_crawl_one_competitor_at_the_same_time(
    pg_engine: Engine,
    shop_server: ShopServer,
    cluster_config: Callable[..., Settings],
    scrapyd_nodes: Callable[..., list[ScrapydProcess]],
) -> None:
    (node,) = scrapyd_nodes(1, max_proc=2)
    settings = cluster_config([node.url], ["shop"], "jobs_per_node = 2")
    total = seed_listings(pg_engine, settings, shop_server, {"shop": 60})
    shop_server.delay = 0.02
    results: list[object] = []

    def crawl() -> None:
        try:
            results.append(run_crawl(settings))
        except RepricerError as exc:
            results.append(exc)

    runs = [threading.Thread(target=crawl) for _ in "ab"]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=600)

    done = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    # The site's lease lets one run crawl; the other is refused, naming the holder.
    assert [r.status for r in done] == ["ok"]  # type: ignore[attr-defined]
    assert len(refused) == 1 and "crawl:shop" in str(refused[0])
    assert len(_observations_per_listing(pg_engine, done[0].run_id)) == total  # type: ignore[attr-defined]
    with session_scope(pg_engine) as session:
        assert session.execute(select(func.count()).select_from(CrawlShard)).scalar_one() == 1


def test_no_reachable_node_is_a_clear_error(
    pg_engine: Engine, shop_server: ShopServer, cluster_config: Callable[..., Settings]
) -> None:
    settings = cluster_config(["http://127.0.0.1:9"], ["shop"])
    seed_listings(pg_engine, settings, shop_server, {"shop": 3})

    result = CliRunner().invoke(app, ["--config", str(settings.config_path), "crawl"])

    assert result.exit_code == 1
    assert "no Scrapyd node can take the crawl" in result.output
    assert "127.0.0.1:9" in result.output
    with session_scope(pg_engine) as session:
        assert session.execute(select(CrawlRun.status)).scalar_one() == "aborted"


def test_the_scheduler_dispatches_crawls_through_scrapyd(
    pg_engine: Engine,
    shop_server: ShopServer,
    cluster_config: Callable[..., Settings],
    scrapyd_nodes: Callable[..., list[ScrapydProcess]],
) -> None:
    (node,) = scrapyd_nodes(1)
    settings = cluster_config([node.url], ["shop"])
    total = seed_listings(pg_engine, settings, shop_server, {"shop": 20})
    stop = threading.Event()
    scheduler = threading.Thread(
        target=run_scheduler, args=(settings,), kwargs={"stop_event": stop}
    )
    scheduler.start()
    try:

        def finished_shard() -> CrawlShard | None:
            with session_scope(pg_engine) as session:
                shard = session.execute(
                    select(CrawlShard).where(CrawlShard.status == "ok")
                ).scalar_one_or_none()
                if shard is not None:
                    session.expunge(shard)
                return shard

        done = wait_until(finished_shard, "a shard done", timeout=120, poll=0.2)
    finally:
        stop.set()
        scheduler.join(timeout=120)
    assert done is not None and done.node == node.url and done.competitor == "shop"
    assert len(_observations_per_listing(pg_engine, done.crawl_run_id)) == total
