"""The ``product`` spider: fetch each active listing's page and yield one observation.

    scrapy crawl product [-a competitor=a,b] [-a sku=X,Y] [-a run_id=N]

On a Scrapyd node the dispatcher adds ``-a shard=N -a config=<json>`` (and
``sku_from``/``sku_to`` for part of a large competitor); see ``spiders.shard``.

Reads config.toml like the CLI ($REPRICER_CONFIG, else ./config.toml) and the listings
from the DB. Without ``run_id`` it records its own crawl run. The spider only fetches;
``spiders.pages.extract_product`` parses and ``spiders.status`` names the outcome.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from functools import cached_property
from typing import Any

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from repricer.cluster.node import settings_from_payload
from repricer.config import CompetitorSettings, Settings, load_settings
from repricer.crawl import finish_run, start_run
from repricer.db.engine import make_engine
from repricer.egress import response_refusal
from spiders.browser import CHROMIUM_ARGS, egress_guard
from spiders.decoding import head_text, response_encoding
from spiders.extraction_pool import ExtractionPool
from spiders.items import ObservationItem
from spiders.middlewares import EGRESS_REFUSED
from spiders.pages import ExtractedProduct
from spiders.shard import ShardClaim, shard_targets
from spiders.status import observe_failure, observe_page
from spiders.targets import Target, load_targets


class ProductSpider(scrapy.Spider):
    name = "product"

    def __init__(
        self,
        competitor: str = "",
        sku: str = "",
        run_id: str = "",
        shard: str = "",
        config: str = "",
        sku_from: str = "",
        sku_to: str = "",
        repricer_version: str = "",
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.competitor_names = [c.strip() for c in competitor.split(",") if c.strip()]
        self.skus = [s.strip() for s in sku.split(",") if s.strip()]
        # On a Scrapyd node the settings come with the job (see repricer.cluster.node).
        self.repricer_settings: Settings = (
            settings_from_payload(config, repricer_version) if config else load_settings()
        )
        self.engine = make_engine(self.repricer_settings.database.url)
        self.own_run = not run_id
        self.run_id = int(run_id) if run_id else start_run(self.engine, self._crawled_names())
        # Scrapyd passes its job id as ``_job``; a shard is stored only by the job it names.
        self.shard = ShardClaim(int(shard), str(kwargs.get("_job", ""))) if shard else None
        self.targets: list[Target] = load_targets(
            self.repricer_settings, self.engine, self.competitor_names, self.skus
        )
        if self.shard is not None:
            self.targets = shard_targets(
                self.engine, self.targets, self.run_id, sku_from or None, sku_to or None
            )
        # Started here, not when the crawl opens: a worker's imports (most of a second
        # of CPU) overlap Scrapy's own start instead of competing with the first pages.
        self.extraction = ExtractionPool(self.repricer_settings.crawl.extract_workers)
        self.extraction.start(len(self.targets))

    @cached_property
    def egress_sites(self) -> list[CompetitorSettings]:
        """The competitors of this crawl: a request made for no listing (robots.txt)
        must be on one's site (:class:`spiders.middlewares.EgressPolicyMiddleware`)."""
        return list({t.competitor.name: t.competitor for t in self.targets}.values())

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> ProductSpider:
        spider: ProductSpider = super().from_crawler(crawler, *args, **kwargs)
        spider.apply_settings(crawler.settings)
        return spider

    def apply_settings(self, scrapy_settings: Any) -> None:
        """Config values -> Scrapy settings (before Scrapy freezes them)."""
        crawl = self.repricer_settings.crawl
        competitors = {t.competitor.name: t.competitor for t in self.targets}
        scrapy_settings.set("USER_AGENT", crawl.user_agent, priority="spider")
        scrapy_settings.set("DOWNLOAD_TIMEOUT", crawl.timeout.total_seconds(), priority="spider")
        scrapy_settings.set("RETRY_TIMES", crawl.retries, priority="spider")
        scrapy_settings.set("AUTOTHROTTLE_ENABLED", crawl.autothrottle, priority="spider")
        self._trim_per_page_work(scrapy_settings)
        slots = {
            name: {
                "concurrency": c.concurrency,
                "delay": c.delay,
                "jitter": 0.5 if c.delay > 0 else 0.0,
            }
            for name, c in competitors.items()
        }
        scrapy_settings.set("DOWNLOAD_SLOTS", slots, priority="spider")
        if competitors:
            self._keep_connections(
                scrapy_settings, max(c.concurrency for c in competitors.values())
            )
            scrapy_settings.set(
                "DOWNLOAD_DELAY", min(c.delay for c in competitors.values()), priority="spider"
            )
        if any(c.render == "browser" for c in competitors.values()):
            self._enable_browser(scrapy_settings)

    @staticmethod
    def _keep_connections(scrapy_settings: Any, busiest: int) -> None:
        """Scrapy's HTTP connection pool keeps CONCURRENT_REQUESTS_PER_DOMAIN idle
        connections per host: below a competitor's concurrency, every request past it
        opened a new connection. Listing requests go by their competitor's download
        slot, so only robots.txt (one request per site) takes this as its concurrency."""
        per_domain = scrapy_settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        scrapy_settings.set(
            "CONCURRENT_REQUESTS_PER_DOMAIN", max(per_domain, busiest), priority="spider"
        )

    @staticmethod
    def _trim_per_page_work(scrapy_settings: Any) -> None:
        """Drop per-page work this spider has no use for: it follows no links (so depth,
        URL length and referer bookkeeping on its output never matters), lets every
        HTTP status through to ``parse`` (``HTTPERROR_ALLOW_ALL``, so the HTTP error
        filter passes everything), sets no ``allowed_domains`` and no HTTP credentials
        (the egress policy keeps requests on the competitor's site, so the offsite and
        HTTP auth middlewares pass everything), records each page's status in the
        database (so Scrapy's per-request byte and status counters go unread) and logs
        at INFO (so per-page DEBUG records are not built). Each middleware left out is
        one call less per request and per response."""
        unused = ("referer.RefererMiddleware", "urllength.UrlLengthMiddleware",
                  "depth.DepthMiddleware", "metacopy.MetaCopyDetectionMiddleware")  # fmt: skip
        middlewares = dict(scrapy_settings.getdict("SPIDER_MIDDLEWARES"))
        middlewares.update({f"scrapy.spidermiddlewares.{name}": None for name in unused})
        if scrapy_settings.getbool("HTTPERROR_ALLOW_ALL"):
            middlewares["scrapy.spidermiddlewares.httperror.HttpErrorMiddleware"] = None
        scrapy_settings.set("SPIDER_MIDDLEWARES", middlewares, priority="spider")
        downloader = dict(scrapy_settings.getdict("DOWNLOADER_MIDDLEWARES"))
        passing = ("offsite.OffsiteMiddleware", "httpauth.HttpAuthMiddleware")
        downloader.update({f"scrapy.downloadermiddlewares.{name}": None for name in passing})
        scrapy_settings.set("DOWNLOADER_MIDDLEWARES", downloader, priority="spider")
        scrapy_settings.set("DOWNLOADER_STATS", False, priority="spider")
        # A page yields one observation: Scrapy starts a task per parallel item slot for
        # every response, used or not.
        scrapy_settings.set("CONCURRENT_ITEMS", 1, priority="spider")
        formatter = "spiders.logformat.QuietLogFormatter"
        scrapy_settings.set("LOG_FORMATTER", formatter, priority="spider")

    def _enable_browser(self, scrapy_settings: Any) -> None:
        handler = "spiders.handlers.PooledPlaywrightHandler"
        scrapy_settings.set(
            "DOWNLOAD_HANDLERS", {"http": handler, "https": handler}, priority="spider"
        )
        launch = {
            "executable_path": str(self.repricer_settings.crawl.chromium_path),
            "headless": True,
            "args": CHROMIUM_ARGS,
        }
        scrapy_settings.set("PLAYWRIGHT_LAUNCH_OPTIONS", launch, priority="spider")
        browser = [t.competitor for t in self.targets if t.competitor.render == "browser"]
        unique = list({c.name: c for c in browser}.values())
        scrapy_settings.set("PLAYWRIGHT_ABORT_REQUEST", egress_guard(unique), priority="spider")
        timeout_ms = self.repricer_settings.crawl.timeout.total_seconds() * 1000
        scrapy_settings.set("PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT", timeout_ms, priority="spider")

    async def start(self) -> AsyncIterator[scrapy.Request]:
        # What exists now (modules, settings, listings, Scrapy's components) lives as
        # long as the crawl: the garbage collector's full passes need not walk it.
        gc.freeze()
        workers = len(self.extraction.running)
        self.logger.info(
            "crawl run %s: %d listings, %d extraction worker(s)",
            self.run_id,
            len(self.targets),
            workers,
        )
        for target in self.targets:
            yield self.request_for(target)

    def request_for(self, target: Target) -> scrapy.Request:
        competitor = target.competitor
        meta: dict[str, Any] = {
            "target": target,
            "download_slot": competitor.name,
            "dont_obey_robotstxt": not competitor.obey_robots,
        }
        if competitor.render == "browser":
            meta.update(playwright=True, playwright_context=f"competitor-{competitor.name}")
        return scrapy.Request(
            target.url, callback=self.parse, errback=self.on_error, meta=meta, dont_filter=True
        )

    async def parse(self, response: Response, **kwargs: Any) -> list[ObservationItem]:
        # A coroutine returning a list, not a generator: Scrapy re-reads a generator
        # callback's source (inspect + ast) on every response to warn about ``return``.
        target: Target = response.meta["target"]
        competitor = target.competitor
        refusal = response_refusal(
            response.url,
            getattr(response, "ip_address", None),
            competitor.domain,
            competitor.aliases,
            local=competitor.local,
        )
        if refusal is not None:  # e.g. a redirect followed inside the browser
            return [observe_failure(target, IgnoreRequest(f"{EGRESS_REFUSED}: {refusal}"))]
        if not isinstance(response, TextResponse):
            return [
                observe_page(target, response.status, response.url, None, self.repricer_settings)
            ]
        if response.status >= 400:  # an error page: only its text matters (captcha?)
            extracted = ExtractedProduct(reason=f"HTTP {response.status}")
        else:
            try:
                extracted = await self.extraction.extract(response, target.competitor.selectors)
            except Exception as exc:  # a page must never cost the rest of the crawl
                self.logger.exception("extraction failed on %s", response.url)
                return [observe_failure(target, exc, response.status)]
        # The head of the text is decoded only when the outcome needs it (a captcha page?).
        page = (lambda: head_text(response.body, response_encoding(response)), extracted)
        return [observe_page(target, response.status, response.url, page, self.repricer_settings)]

    def on_error(self, failure: Failure) -> ObservationItem:
        target: Target = failure.request.meta["target"]  # type: ignore[attr-defined]
        return observe_failure(target, failure.value or RuntimeError("unknown failure"))

    def closed(self, reason: str) -> None:
        self.logger.info(
            "pages extracted: %(worker)d in workers, %(here)d here", self.extraction.counts
        )
        self.extraction.close()
        if self.shard is not None:
            self.shard.finish(self.engine, reason)
        if self.own_run:
            finish_run(self.engine, self.run_id, "ok" if reason == "finished" else "aborted")
        self.engine.dispose()

    def _crawled_names(self) -> list[str]:
        return self.competitor_names or [c.name for c in self.repricer_settings.competitors]
