"""Downloader middlewares: the egress policy, retries with exponential backoff, a
robots.txt middleware that gives every waiting request the parsed rules, and a meta
refresh middleware that reads only the page's head."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.utils.httpobj import urlparse_cached
from w3lib.html import get_base_url, get_meta_refresh

from repricer.egress import crawl_refusal, parse_ip, untargeted_refusal
from spiders.decoding import HEAD_BYTES, ascii_compatible, response_encoding

EGRESS_REFUSED = "egress refused"


class EgressPolicyMiddleware:
    """Refuse a request (the first one and every redirect, which comes back through
    here) that leaves its competitor's domain and aliases, or that resolves to a
    loopback / private / link-local / reserved address when the competitor is not
    marked ``local`` (:func:`repricer.egress.crawl_refusal`). A request made for no
    listing (robots.txt, fetched by the robots.txt middleware, and its redirects) is held
    to the competitor whose site it is on, among the spider's ``egress_sites``
    (:func:`repricer.egress.untargeted_refusal`); on no competitor's site it is refused.
    Placed first, so nothing else (robots.txt included) is fetched for a refused request.

    The policy reads only the scheme, host and port, so a decision is remembered per
    (competitor, scheme, host, port): one that needed no name resolution for the whole
    crawl, one that resolved a name for ``LOOKUP_TTL_S`` (the address a page really
    came from is checked again after the download, ``repricer.egress.response_refusal``).
    Only a name resolution leaves the reactor thread.
    """

    LOOKUP_TTL_S = 60.0

    def __init__(self, crawler: Any = None) -> None:
        self.crawler = crawler
        self.decisions: dict[tuple[str | None, str, str, int | None], tuple[str | None, float]] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> EgressPolicyMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        reason = await self.decide(request)
        if reason is not None:
            raise IgnoreRequest(f"{EGRESS_REFUSED}: {reason}")

    async def decide(self, request: Request) -> str | None:
        """The remembered decision for the request's site, or a fresh one."""
        target = request.meta.get("target")
        parts = urlparse_cached(request)
        try:
            port = parts.port
        except ValueError:  # a port out of range: the policy names the reason
            return self.refusal(request)
        host = (parts.hostname or "").lower()
        if not host:
            return self.refusal(request)
        key = (target.competitor.name if target is not None else None, parts.scheme, host, port)
        known = self.decisions.get(key)
        now = time.monotonic()
        if known is not None and known[1] > now:
            return known[0]
        if self.needs_lookup(request, host):
            reason = await asyncio.get_running_loop().run_in_executor(
                None, lambda: self.refusal(request)
            )
            expires = now + self.LOOKUP_TTL_S
        else:
            reason, expires = self.refusal(request), math.inf
        self.decisions[key] = (reason, expires)
        return reason

    def needs_lookup(self, request: Request, host: str) -> bool:
        """A host name (not an address) that a non-local competitor's check resolves."""
        if parse_ip(host) is not None:
            return False
        target = request.meta.get("target")
        if target is not None:
            return not target.competitor.local
        spider = getattr(self.crawler, "spider", None)
        return any(not site.local for site in getattr(spider, "egress_sites", ()))

    def refusal(self, request: Request) -> str | None:
        """Why ``request`` must not be sent, or None."""
        target = request.meta.get("target")
        if target is None:
            spider = getattr(self.crawler, "spider", None)
            return untargeted_refusal(request.url, getattr(spider, "egress_sites", ()))
        competitor = target.competitor
        return crawl_refusal(
            request.url, competitor.domain, competitor.aliases, local=competitor.local
        )


class BackoffRetryMiddleware(RetryMiddleware):
    """Retries timeouts, connection errors and 408/429/5xx like ``RetryMiddleware``
    (``RETRY_TIMES``), waiting ``RETRY_BACKOFF_BASE * 2**(n-1)`` seconds (at most
    ``RETRY_BACKOFF_MAX``) before retry ``n``, so a struggling site gets air."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX", 30.0)

    # Scrapy awaits coroutine middleware methods; the base class declares sync ones.
    async def process_response(self, request: Request, response: Any) -> Any:  # type: ignore[override]
        result = super().process_response(request, response)
        await self._pause(result)
        return result

    async def process_exception(self, request: Request, exception: Exception) -> Any:  # type: ignore[override]
        result = super().process_exception(request, exception)
        await self._pause(result)
        return result

    async def _pause(self, result: Any) -> None:
        if isinstance(result, Request):
            tries = int(result.meta.get("retry_times", 1))
            await asyncio.sleep(min(self.backoff_max, self.backoff_base * 2 ** (tries - 1)))


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, except that requests queued while robots.txt is
    being fetched get the parsed rules too: under the asyncio reactor only the first
    waiter on the shared Deferred receives the parser, the others got ``None`` and
    were let through."""

    async def robot_parser(self, request: Request) -> Any:
        parser = await super().robot_parser(request)
        if parser is None:
            return self._parsers.get(urlparse_cached(request).netloc)
        return parser


class SlotConcurrencyMiddleware:
    """Enforce each download slot's concurrency (``DOWNLOAD_SLOTS[slot]["concurrency"]``,
    else ``CONCURRENT_REQUESTS_PER_DOMAIN``).

    Under the asyncio reactor Scrapy's downloader starts every queued request of a slot
    whose delay is 0 at once, so a competitor configured for 2 parallel requests got
    all of them. Placed last before the download handler: the permit is taken just
    before the download and returned as soon as it ends, whatever happens next.
    """

    def __init__(self, settings: Any) -> None:
        self.default = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 8)
        self.slots: dict[str, Any] = settings.getdict("DOWNLOAD_SLOTS")
        self.permits: dict[str, asyncio.Semaphore] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> SlotConcurrencyMiddleware:
        return cls(crawler.settings)

    async def process_request(self, request: Request) -> None:
        key = self._key(request)
        if key not in self.permits:
            limit = int(self.slots.get(key, {}).get("concurrency", self.default))
            self.permits[key] = asyncio.Semaphore(max(1, limit))
        await self.permits[key].acquire()
        request.meta["_slot_permit"] = key

    def process_response(self, request: Request, response: Any) -> Any:
        self._release(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._release(request)

    def _release(self, request: Request) -> None:
        key = request.meta.pop("_slot_permit", None)
        if key is not None:
            self.permits[key].release()

    @staticmethod
    def _key(request: Request) -> str:
        slot = request.meta.get("download_slot")
        return str(slot) if slot else (urlparse_cached(request).hostname or "")


class HeadMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Follow ``<meta http-equiv="refresh">`` like Scrapy's ``MetaRefreshMiddleware``
    (``METAREFRESH_ENABLED``, ``METAREFRESH_MAXDELAY``, ``METAREFRESH_IGNORE_TAGS``,
    ``REDIRECT_MAX_TIMES``; the new request comes back through the egress policy like
    any redirect), reading only the first ``HEAD_BYTES`` of the page: Scrapy's decodes
    the whole page (and detects its encoding) to look at its first 4,096 characters.
    A head without the word "refresh" is not decoded at all."""

    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        if (
            request.meta.get("dont_redirect", False)
            or request.method == "HEAD"
            or not isinstance(response, HtmlResponse)
            or urlparse_cached(request).scheme not in {"http", "https"}
        ):
            return response
        interval, url = self.head_refresh(response)
        if url is None or interval is None:
            return response
        redirected = self._redirect_request_using_get(request, response, url)
        if urlparse_cached(redirected).scheme not in {"http", "https"}:
            return response
        if interval < self._maxdelay:
            return self._redirect(redirected, request, "meta refresh")
        return response

    def head_refresh(self, response: HtmlResponse) -> tuple[float, str] | tuple[None, None]:
        """(delay, absolute URL) of the refresh the page's head declares, or (None, None)."""
        encoding = response_encoding(response) or "utf-8"
        head = response.body[:HEAD_BYTES]
        if ascii_compatible(encoding) and b"refresh" not in head.lower():  # faster than a regex
            return None, None
        text = head.decode(encoding, "replace")
        base = get_base_url(text, response.url, encoding)
        return get_meta_refresh(text, base, encoding, ignore_tags=self._ignore_tags)
