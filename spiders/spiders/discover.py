"""The ``discover`` spider: find a competitor's product pages through its sitemaps.

    scrapy crawl discover -a competitor=NAME [-a limit=N]

Reads robots.txt ``Sitemap:`` lines (or the competitor's configured ``sitemaps``),
follows sitemap indexes and gzip sitemaps (Scrapy's ``SitemapSpider``), optionally
queries the configured ``search_url`` with our products' GTINs and model codes, and
fetches the product pages politely (the competitor's delay and concurrency, robots.txt,
the project's downloader middlewares). ``spiders.pages.extract_product`` parses each
page; ``spiders.candidates.CandidateStorePipeline`` stores what it found.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.spiders import SitemapSpider

from repricer.config import CompetitorSettings, Settings, load_settings
from repricer.db.engine import make_engine
from repricer.matching.discovery import search_queries
from spiders.candidates import CandidateItem
from spiders.pages import extract_product

_LINKS_PER_SEARCH = 10


@dataclass(frozen=True)
class DiscoveryTarget:
    """What the egress policy middleware reads from ``request.meta["target"]``."""

    competitor: CompetitorSettings


class DiscoverSpider(SitemapSpider):
    name = "discover"
    custom_settings = {  # noqa: RUF012 (Scrapy's own class attribute)
        "ITEM_PIPELINES": {"spiders.candidates.CandidateStorePipeline": 300},
    }

    def __init__(self, competitor: str = "", limit: str = "", **kwargs: Any) -> None:
        self.repricer_settings: Settings = load_settings()
        self.competitor: CompetitorSettings = self.repricer_settings.competitor(competitor)
        self.limit = int(limit) if limit else None
        self.engine = make_engine(self.repricer_settings.database.url)
        self.sitemap_urls = self.competitor.sitemaps or [
            f"https://{self.competitor.domain}/robots.txt"
        ]
        self.pages = 0
        # A request made for no listing (robots.txt) must be on this competitor's site.
        self.egress_sites = [self.competitor]
        super().__init__(**kwargs)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> DiscoverSpider:
        spider: DiscoverSpider = super().from_crawler(crawler, *args, **kwargs)
        spider.apply_settings(crawler.settings)
        return spider

    def apply_settings(self, scrapy_settings: Any) -> None:
        """The competitor's politeness as Scrapy settings: every host discovery talks to
        gets the competitor's concurrency and (unrandomised, so a floor) delay."""
        crawl, c = self.repricer_settings.crawl, self.competitor
        scrapy_settings.set("USER_AGENT", crawl.user_agent, priority="spider")
        scrapy_settings.set("DOWNLOAD_TIMEOUT", crawl.timeout.total_seconds(), priority="spider")
        scrapy_settings.set("RETRY_TIMES", crawl.retries, priority="spider")
        scrapy_settings.set("AUTOTHROTTLE_ENABLED", crawl.autothrottle, priority="spider")
        scrapy_settings.set("ROBOTSTXT_OBEY", c.obey_robots, priority="spider")
        scrapy_settings.set("DOWNLOAD_DELAY", c.delay, priority="spider")
        scrapy_settings.set("RANDOMIZE_DOWNLOAD_DELAY", False, priority="spider")
        slot = {"concurrency": c.concurrency, "delay": c.delay, "randomize_delay": False}
        hosts = {urlsplit(u).netloc for u in [*self.sitemap_urls, c.search_url or ""] if u}
        hosts |= {urlsplit(u).hostname or "" for u in self.sitemap_urls}
        hosts.add(c.domain)
        scrapy_settings.set("DOWNLOAD_SLOTS", {h: slot for h in hosts if h}, priority="spider")

    def _guarded(self, request: scrapy.Request) -> scrapy.Request:
        """Mark a request with its competitor so the egress policy middleware checks it
        (domain and aliases, no private addresses unless ``local``) like a crawl's."""
        return request.replace(meta={**request.meta, "target": DiscoveryTarget(self.competitor)})

    async def start(self) -> AsyncIterator[Any]:
        async for request in super().start():
            yield self._guarded(request)
        if self.competitor.search_url:
            for query in search_queries(self.engine, self.limit):
                url = self.competitor.search_url.replace("{query}", quote(query))
                yield self._guarded(scrapy.Request(url, callback=self.parse_search))

    def _parse_sitemap(self, response: Response) -> Iterable[scrapy.Request]:
        return [self._guarded(r) for r in super()._parse_sitemap(response)]

    def sitemap_filter(self, entries: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        """Stop handing out product pages once ``limit`` is reached."""
        if getattr(entries, "type", "") == "sitemapindex":
            yield from entries
            return
        for entry in entries:
            if self.limit is not None and self.pages >= self.limit:
                return
            self.pages += 1
            yield entry

    def parse_search(self, response: Response) -> list[scrapy.Request]:
        """Follow the first links of a search result page that stay on its host."""
        if not isinstance(response, TextResponse):
            return []
        host = urlsplit(response.url).netloc
        links: list[str] = []
        for href in response.css("a::attr(href)").getall():
            url = urljoin(response.url, href)
            if urlsplit(url).netloc == host and url != response.url and url not in links:
                links.append(url)
        return [
            self._guarded(scrapy.Request(u, callback=self.parse, cb_kwargs={"found_via": "search"}))
            for u in links[:_LINKS_PER_SEARCH]
        ]

    def parse(self, response: Response, found_via: str = "sitemap", **kwargs: Any) -> list[Any]:
        if not isinstance(response, TextResponse) or response.status >= 400:
            return []
        extracted = extract_product(response.text, response.url, self.competitor.selectors)
        if not extracted.is_product:
            return []
        currency = extracted.currency or self.competitor.currency
        return [
            CandidateItem(
                competitor=self.competitor.name, url=response.url, title=extracted.title,
                gtin=extracted.gtin, brand=extracted.brand, sku=extracted.sku, price=extracted.price,
                currency=currency, found_via=found_via,
            )
        ]  # fmt: skip

    def closed(self, reason: str) -> None:
        self.engine.dispose()
