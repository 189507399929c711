"""Chromium for competitors with ``render = "browser"``: launch flags, what not to
download, and a page pool.

A new browser page per request costs more than the navigation itself, so
:class:`BrowserPagePoolMiddleware` hands each finished page to the next request of
the same context, closing it after ``MAX_PAGE_USES`` navigations, after an error and
when the spider closes (the contexts close with the browser).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from scrapy import Request, signals

BLOCKED_RESOURCES = frozenset({"image", "font", "media", "imageset", "texttrack", "object"})
MAX_PAGE_USES = 50

# Chromium flags for a headless, quiet, sandbox-less run (containers, CI).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def abort_heavy_request(request: Any) -> bool:
    """PLAYWRIGHT_ABORT_REQUEST: skip images, fonts and media; pages only need HTML+JS."""
    return str(request.resource_type) in BLOCKED_RESOURCES


class BrowserPagePoolMiddleware:
    """Reuse Chromium pages between requests (see the module docstring)."""

    def __init__(self) -> None:
        self.idle: dict[str, list[Any]] = defaultdict(list)
        self.uses: dict[int, int] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> BrowserPagePoolMiddleware:
        pool = cls()
        crawler.signals.connect(pool.close_pages, signal=signals.spider_closed)
        return pool

    def process_request(self, request: Request) -> None:
        if not request.meta.get("playwright"):
            return
        request.meta["playwright_include_page"] = True
        idle = self.idle[request.meta.get("playwright_context", "default")]
        while idle:
            page = idle.pop()
            if not page.is_closed():
                request.meta["playwright_page"] = page
                return

    async def process_response(self, request: Request, response: Any) -> Any:
        await self._release(request, reuse=True)
        return response

    async def process_exception(self, request: Request, exception: Exception) -> None:
        await self._release(request, reuse=False)

    async def close_pages(self) -> None:
        for pages in self.idle.values():
            for page in pages:
                if not page.is_closed():
                    await page.close()
        self.idle.clear()

    async def _release(self, request: Request, *, reuse: bool) -> None:
        page = request.meta.pop("playwright_page", None)
        if page is None:
            return
        uses = self.uses.pop(id(page), 0) + 1
        if reuse and uses < MAX_PAGE_USES and not page.is_closed():
            self.uses[id(page)] = uses
            self.idle[request.meta.get("playwright_context", "default")].append(page)
        elif not page.is_closed():
            await page.close()
