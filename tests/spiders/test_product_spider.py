"""``ProductSpider`` as Scrapy builds it: extraction workers up before the crawl opens,
and per-page work it has no use for left out, while every safety middleware stays."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.core.downloader.middleware import DownloaderMiddlewareManager
from scrapy.core.spidermw import SpiderMiddlewareManager
from scrapy.crawler import AsyncCrawlerRunner, Crawler, CrawlerRunner
from scrapy.utils.reactor import is_reactor_installed
from scrapy.utils.test import get_reactor_settings
from sqlalchemy import Engine

from repricer.catalog import sync_competitors
from repricer.config import load_settings
from repricer.db.engine import session_scope
from repricer.db.models import Listing, Product
from spiders import settings as project_settings
from spiders.extraction_pool import MIN_PAGES
from spiders.spiders.product import ProductSpider

CONFIG = """
[crawl]
extract_workers = {workers}

[[competitors]]
name = "shop"
domain = "127.0.0.1"
local = true
delay = 0
"""


@pytest.fixture
def spider_for(
    write_config: Callable[[str], Path], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[int, int], tuple[Crawler, ProductSpider]]]:
    """Build the spider as ``scrapy crawl product`` does, over ``pages`` listings."""
    built: list[ProductSpider] = []

    def build(pages: int, workers: int) -> tuple[Crawler, ProductSpider]:
        path = write_config(CONFIG.format(workers=workers))
        monkeypatch.setenv("REPRICER_CONFIG", str(path))
        with session_scope(engine) as session:
            [shop_id] = sync_competitors(load_settings(path), session).values()
            products = [Product(sku=f"S{i}") for i in range(pages)]
            session.add_all(products)
            session.flush()
            session.add_all(
                Listing(product_id=p.id, competitor_id=shop_id, url=f"http://127.0.0.1/p/{p.id}")
                for p in products
            )
        crawler = _crawler()
        built.append(crawler.spider)
        return crawler, crawler.spider

    yield build
    for spider in built:
        spider.extraction.close()


def test_extraction_workers_are_up_before_the_crawl_opens(
    spider_for: Callable[[int, int], tuple[Crawler, ProductSpider]],
) -> None:
    _crawler, spider = spider_for(MIN_PAGES, 1)
    # Nothing of the crawl has run yet (no start request asked for), and the worker
    # is already importing: it says hello while Scrapy is still starting.
    assert len(spider.extraction.running) == 1
    assert spider.extraction.wait_ready(60)


def test_a_small_crawl_starts_no_worker(
    spider_for: Callable[[int, int], tuple[Crawler, ProductSpider]],
) -> None:
    _crawler, spider = spider_for(MIN_PAGES - 1, 1)
    assert spider.extraction.running == []


def _crawler(**settings: object) -> Crawler:
    """A crawler with the project's settings and the spider built and applied, as
    ``scrapy crawl product -a competitor=shop`` has it just before the crawl opens."""
    values = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    values.update(get_reactor_settings(), TELNETCONSOLE_ENABLED=False, **settings)
    runner = CrawlerRunner(values) if is_reactor_installed() else AsyncCrawlerRunner(values)
    crawler = runner.create_crawler(ProductSpider)
    crawler.spider = crawler._create_spider(competitor="shop")
    crawler._apply_settings()
    return crawler


def _names(manager: DownloaderMiddlewareManager | SpiderMiddlewareManager) -> set[str]:
    return {type(m).__name__ for m in manager.middlewares}


def test_middlewares_that_pass_everything_are_left_out_and_safety_stays(
    spider_for: Callable[[int, int], tuple[Crawler, ProductSpider]],
) -> None:
    crawler, _spider = spider_for(1, 0)
    downloader = _names(DownloaderMiddlewareManager.from_crawler(crawler))
    spider_side = _names(SpiderMiddlewareManager.from_crawler(crawler))
    left_out = {"OffsiteMiddleware", "HttpAuthMiddleware", "DownloaderStats"}
    assert downloader.isdisjoint(left_out)
    assert "HttpErrorMiddleware" not in spider_side
    safety = {"EgressPolicyMiddleware", "SharedRobotsTxtMiddleware", "BackoffRetryMiddleware",
              "SlotConcurrencyMiddleware", "HeadMetaRefreshMiddleware", "RedirectMiddleware",
              "DownloadTimeoutMiddleware", "UserAgentMiddleware", "CookiesMiddleware",
              "HttpCompressionMiddleware", "HttpProxyMiddleware"}  # fmt: skip
    assert safety <= downloader
    assert crawler.settings.getint("CONCURRENT_ITEMS") == 1  # one observation per page


def test_the_http_error_filter_stays_when_errors_are_not_all_let_through(
    write_config: Callable[[str], Path], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPRICER_CONFIG", str(write_config(CONFIG.format(workers=0))))
    crawler = _crawler(HTTPERROR_ALLOW_ALL=False)
    assert "HttpErrorMiddleware" in _names(SpiderMiddlewareManager.from_crawler(crawler))


def test_what_exists_when_the_crawl_starts_is_left_out_of_full_collections(
    spider_for: Callable[[int, int], tuple[Crawler, ProductSpider]],
) -> None:
    _crawler, spider = spider_for(3, 0)
    gc.unfreeze()

    async def first_request() -> Request:
        return await anext(aiter(spider.start()))

    try:
        request = asyncio.run(first_request())
        frozen = gc.get_freeze_count()
    finally:
        gc.unfreeze()
    assert request.meta["target"] in spider.targets
    assert frozen > 0
