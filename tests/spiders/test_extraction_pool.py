"""``ExtractionPool``: the same extraction in worker processes, and no page lost when a
worker dies."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable

import pytest
from scrapy.http import HtmlResponse
from sqlalchemy import Engine, select

from repricer.catalog import sync_competitors
from repricer.config import SelectorSettings, Settings
from repricer.crawl import run_crawl
from repricer.db.engine import session_scope
from repricer.db.models import Listing, Observation, Product
from repricer.loopback import LoopbackServer, Response
from repricer.synthetic.pages import SELECTORS, PageProduct, product_page
from spiders import extraction_pool
from spiders.extraction_pool import MIN_PAGES, ExtractionPool
from spiders.pages import ExtractedProduct, extract_product

PAGES = [
    (product_page(PageProduct(f"Товар {i}", (1000 + i) * 100, sku=f"S{i}"), markup), markup)
    for i, markup in enumerate(
        ("json-ld", "microdata", "opengraph", "selectors", "none", "json-ld")
    )
]
# Real shop pages put tens of KB of styles and scripts before their charset.
BIG_HEAD = "<style>" + ".a{color:red}" * 2000 + "</style>"
WAIT_S = 120.0  # for workers to start on a loaded machine


def _responses() -> list[HtmlResponse]:
    """The pages as served: UTF-8 without a charset, cp1251 named only in the header,
    UTF-8 with an encoding set by the handler (as the browser's are), and cp1251
    declared only late in the head (past the 4 KB that Scrapy reads)."""
    out = []
    for i, (html, _) in enumerate(PAGES):
        url = f"http://127.0.0.1/p/{i}"
        if i == 5:
            html = html.replace("<head>", f"<head>{BIG_HEAD}<meta charset='windows-1251'>", 1)
            body = html.replace("₽", "руб.").encode("cp1251")
            out.append(HtmlResponse(url, body=body, headers={"Content-Type": "text/html"}))
        elif i % 3 == 0:
            out.append(HtmlResponse(url, body=html.encode(), headers={"Content-Type": "text/html"}))
        elif i % 3 == 1:
            headers = {"Content-Type": "text/html; charset=windows-1251"}
            body = html.replace("₽", "руб.").encode("cp1251")  # no ₽ in cp1251
            out.append(HtmlResponse(url, body=body, headers=headers))
        else:
            out.append(HtmlResponse(url, body=html.encode(), encoding="utf-8"))
    return out


def _extract_all(pool: ExtractionPool) -> list[ExtractedProduct]:
    selectors = SelectorSettings.model_validate(SELECTORS)

    async def run() -> list[ExtractedProduct]:
        return await asyncio.gather(*(pool.extract(r, selectors) for r in _responses()))

    return asyncio.run(run())


def _inline() -> list[ExtractedProduct]:
    """What ``extract_product`` finds in each page's decoded text."""
    selectors = SelectorSettings.model_validate(SELECTORS)
    texts = [r.body.decode("cp1251") if i in (1, 4, 5) else r.text
             for i, r in enumerate(_responses())]  # fmt: skip
    return [extract_product(t, r.url, selectors) for t, r in zip(texts, _responses(), strict=True)]


def test_workers_extract_what_the_crawling_process_would() -> None:
    pool = ExtractionPool(2)
    pool.start(MIN_PAGES)
    try:
        assert len(pool.running) == 2
        starting = _extract_all(pool)  # read here or by workers, as they come up
        assert starting == _inline()
        assert pool.wait_ready(WAIT_S)
        before = dict(pool.counts)
        results = _extract_all(pool)
        assert pool.counts["worker"] > before["worker"]
    finally:
        pool.close()
    assert results == _inline()
    assert [r.price is not None for r in results] == [True, True, True, True, False, True]
    assert results[1].title == "Товар 1"  # cp1251, named in the header only
    assert results[5].title == "Товар 5"  # cp1251, declared only late in the head
    assert pool.running == []


@pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="Linux scheduling policy")
def test_workers_run_as_batch_tasks() -> None:
    """A page arriving must not let the worker preempt the crawling process."""
    pool = ExtractionPool(1)
    pool.start(MIN_PAGES)
    try:
        assert pool.wait_ready(WAIT_S)
        policy = os.sched_getscheduler(pool.running[0].process.pid)
    finally:
        pool.close()
    assert policy == os.SCHED_BATCH
    assert os.sched_getscheduler(0) != os.SCHED_BATCH  # the crawling process is untouched


@pytest.mark.parametrize(
    ("workers", "pages"), [(0, 1000), (2, MIN_PAGES - 1)], ids=["off", "small"]
)
def test_no_workers_when_off_or_for_a_small_crawl(workers: int, pages: int) -> None:
    pool = ExtractionPool(workers)
    pool.start(pages)
    assert pool.running == []
    assert _extract_all(pool) == _inline()
    assert pool.counts == {"worker": 0, "here": len(PAGES)}


def test_pages_past_the_workers_queue_are_read_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """A busy worker does not hold pages the crawling process could read meanwhile."""
    first_three = sum(len(r.body) for r in _responses()[:3])
    monkeypatch.setattr(extraction_pool, "QUEUE_BYTES", first_three)
    pool = ExtractionPool(1)
    pool.start(MIN_PAGES)
    try:
        assert pool.wait_ready(WAIT_S)
        results = _extract_all(pool)  # all submitted before any answer is read
    finally:
        pool.close()
    assert results == _inline()
    assert pool.counts == {"worker": 3, "here": len(PAGES) - 3}


def test_a_dead_worker_costs_no_page(caplog: pytest.LogCaptureFixture) -> None:
    pool = ExtractionPool(2)
    pool.start(MIN_PAGES)
    assert pool.wait_ready(WAIT_S)
    pool.running[0].process.kill()  # the test kills a worker
    pool.running[0].process.wait()
    with caplog.at_level("WARNING", logger=extraction_pool.__name__):
        results = _extract_all(pool)
        later = _extract_all(pool)
    assert results == later == _inline()
    assert pool.running == [] and pool.broken  # the rest is extracted in the crawling process
    assert "worker died" in caplog.text
    pool.close()


def test_pages_held_by_a_worker_that_dies_are_read_here() -> None:
    pool = ExtractionPool(1)
    pool.start(MIN_PAGES)
    assert pool.wait_ready(WAIT_S)
    worker = pool.running[0]
    selectors = SelectorSettings.model_validate(SELECTORS)

    async def run() -> list[ExtractedProduct]:
        os.kill(worker.process.pid, signal.SIGSTOP)  # it takes pages and answers none
        pages = [asyncio.ensure_future(pool.extract(r, selectors)) for r in _responses()]
        await asyncio.sleep(0)  # every page is handed out: some to the worker
        assert worker.pending
        worker.process.kill()
        return await asyncio.gather(*pages)

    assert asyncio.run(run()) == _inline()
    assert pool.broken
    pool.close()


@pytest.mark.slow
def test_a_crawl_extracts_its_pages_in_workers(
    settings_from: Callable[[str], Settings], engine: Engine, http_server: LoopbackServer
) -> None:
    settings = settings_from(
        f"""
        [crawl]
        timeout = "10s"
        retries = 0
        autothrottle = false
        extract_workers = 2

        [[competitors]]
        name = "shop"
        domain = "127.0.0.1:{http_server.port}"
        local = true
        obey_robots = false
        concurrency = 8
        delay = 0
        """
    )
    prices = {}
    with session_scope(engine) as session:
        [shop_id] = sync_competitors(settings, session).values()
        for i in range(MIN_PAGES):
            price = (1000 + i) * 100
            page = product_page(PageProduct(f"Товар {i}", price), ("json-ld", "microdata")[i % 2])
            http_server.route(f"/p/{i}", Response(200, page, {"Content-Type": "text/html"}))
            product = Product(sku=f"S{i}")
            session.add(product)
            session.flush()
            listing = Listing(
                product_id=product.id, competitor_id=shop_id, url=http_server.url(f"/p/{i}")
            )
            session.add(listing)
            session.flush()
            prices[listing.id] = price
    result = run_crawl(settings, timeout=300)
    assert result.status == "ok", result.error
    with session_scope(engine) as session:
        stored = dict(session.execute(select(Observation.listing_id, Observation.price)).all())
    assert stored == prices
