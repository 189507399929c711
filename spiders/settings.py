"""Scrapy settings of the repricer project: polite by default.

Values that come from config.toml (``[crawl]`` and each ``[[competitors]]``) are
applied by ``ProductSpider.from_crawler``: the User-Agent, timeout, retries,
AutoThrottle switch, per-competitor concurrency and delay, robots.txt override and
the Chromium path. What stays here are the defaults those refine.
"""

from __future__ import annotations

BOT_NAME = "repricer"
SPIDER_MODULES = ["spiders.spiders"]
NEWSPIDER_MODULE = "spiders.spiders"

# An honest User-Agent naming the tool and where to read about it; replaced by
# [crawl] user_agent.
USER_AGENT = "repricer/0.1 (+https://github.com/repricer/repricer; price monitoring)"

# Obey robots.txt. A competitor with obey_robots = false skips it for its requests
# only (request.meta["dont_obey_robotstxt"]).
ROBOTSTXT_OBEY = True

# Total parallel requests across all sites; each competitor is its own download slot
# (request.meta["download_slot"] = competitor name) with its own concurrency and delay
# from config (DOWNLOAD_SLOTS), so one site is never hit harder than configured.
CONCURRENT_REQUESTS = 64
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# Default delay between requests to one site (seconds), jittered 0.5x–1.5x.
DOWNLOAD_DELAY = 1.0
RANDOMIZE_DOWNLOAD_DELAY = True

# AutoThrottle: slow down when a site answers slowly; never faster than the site's
# configured delay. Switched by [crawl] autothrottle.
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# Retries of timeouts, connection errors, 408/429/5xx, with exponential backoff
# (spiders.middlewares.BackoffRetryMiddleware replaces Scrapy's RetryMiddleware).
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
RETRY_BACKOFF_BASE = 1.0
RETRY_BACKOFF_MAX = 30.0
DOWNLOADER_MIDDLEWARES = {
    # Stay on the competitor's domain/aliases and off private addresses (redirects too).
    "spiders.middlewares.EgressPolicyMiddleware": 50,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "spiders.middlewares.BackoffRetryMiddleware": 550,
    # Scrapy's own hands only the first request waiting for robots.txt its rules.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "spiders.middlewares.SharedRobotsTxtMiddleware": 100,
    # Scrapy's downloader (asyncio reactor) does not hold a slot to its concurrency.
    "spiders.middlewares.SlotConcurrencyMiddleware": 990,
    # Scrapy's decodes every whole page to look for a meta refresh in its first 4 KB;
    # ours reads the page's head bytes only (same settings, same redirect rules).
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "spiders.middlewares.HeadMetaRefreshMiddleware": 580,
}

# Per-request timeout (seconds); replaced by [crawl] timeout.
DOWNLOAD_TIMEOUT = 30
# Product pages are small; refuse anything huge instead of parsing it.
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024

# The spider records 404/410/403/5xx as observation statuses, so let them through.
HTTPERROR_ALLOW_ALL = True
# Follow redirects; the spider decides whether the final page is still the product.
REDIRECT_ENABLED = True
REDIRECT_MAX_TIMES = 5
# Cookies on: some shops set the region/currency by cookie on the first visit.
COOKIES_ENABLED = True

ITEM_PIPELINES = {"spiders.pipelines.ObservationStorePipeline": 300}
# Items of one response processed in parallel: a product page yields one, and each
# slot costs an asyncio task per response (Scrapy's default is 100).
CONCURRENT_ITEMS = 4

# No telnet console and no interactive features in an unattended crawler.
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"

# asyncio reactor: required by scrapy-playwright, fine for plain HTTP.
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

# Browser rendering (competitors with render = "browser"): the download handler is
# installed by the spider only when such a competitor is crawled. System Chromium
# (executable_path from [crawl] chromium_path), images/fonts/media not downloaded,
# pages reused between requests (spiders.handlers.PooledPlaywrightHandler: at most
# the competitor's concurrency open at once, so the per-context page limit below only
# has to stay above every competitor's concurrency), contexts closed at the end.
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_ABORT_REQUEST = "spiders.browser.abort_heavy_request"
PLAYWRIGHT_MAX_CONTEXTS = 4
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 64
