"""Downloader middlewares: retries with exponential backoff, and a robots.txt
middleware that gives every waiting request the parsed rules."""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.utils.httpobj import urlparse_cached


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
