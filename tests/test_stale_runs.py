"""Rows left ``running`` by a process that died are closed as ``interrupted`` when the
next run of the same kind starts, and never while their process is alive (it holds
the lease): crawl runs here; feed syncs in tests/feeds/test_sync.py, job runs in
tests/test_scheduler.py, push claims in tests/storefront/test_kill.py."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from repricer.config import Settings
from repricer.crawl import close_interrupted, run_crawl, start_run
from repricer.db.models import CrawlRun
from repricer.exceptions import CrawlError
from repricer.lease import hold_lease


def _statuses(engine: Engine) -> list[tuple[list[str], str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(CrawlRun.competitors, CrawlRun.status).order_by(CrawlRun.id))
        return [(list(c), s) for c, s in rows]


def test_crawl_runs_of_the_crawled_competitors_are_closed(any_engine: Engine) -> None:
    start_run(any_engine, ["shop-a"])
    start_run(any_engine, ["shop-b", "shop-c"])
    start_run(any_engine, ["shop-d"])
    assert close_interrupted(any_engine, ["shop-b", "shop-a"]) == 2
    assert _statuses(any_engine) == [
        (["shop-a"], "interrupted"),
        (["shop-b", "shop-c"], "interrupted"),
        (["shop-d"], "running"),
    ]


def test_a_crawl_of_a_competitor_already_being_crawled_is_refused(
    engine: Engine, settings_from
) -> None:
    settings: Settings = settings_from(
        '[[competitors]]\nname = "shop-a"\ndomain = "shop-a.example"\n'
    )
    start_run(engine, ["shop-a"])  # its process is alive: it holds the lease
    with hold_lease(engine, "crawl:shop-a"), pytest.raises(CrawlError, match="crawl:shop-a"):
        run_crawl(settings, competitors=["shop-a"])
    assert _statuses(engine) == [(["shop-a"], "running")]
