"""Download handler for browser-rendered competitors: scrapy-playwright with page reuse.

Opening a browser page costs more than the navigation itself, so
:class:`PooledPlaywrightHandler` hands each finished page to the next request of the
same context; a page is closed after ``MAX_PAGE_USES`` navigations or an error, the
rest with their context when the crawl ends. Importing this module loads Playwright,
so the spider names it only when a ``render = "browser"`` competitor is crawled.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from scrapy import Request
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

MAX_PAGE_USES = 50


class PooledPlaywrightHandler(ScrapyPlaywrightDownloadHandler):  # type: ignore[misc]
    """scrapy-playwright's download handler, reusing pages (see the module docstring).

    A page is taken from the pool when the download really starts (not when the
    request is queued) and returned once the rendered HTML has been read. Open pages
    never exceed the competitor's concurrency, so PLAYWRIGHT_MAX_PAGES_PER_CONTEXT must
    stay above it (idle pages count against that limit).
    """

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self.idle_pages: dict[str, list[Any]] = defaultdict(list)
        self.page_uses: dict[int, int] = {}
        self.closing: set[asyncio.Future[Any]] = set()

    async def _download_request(self, request: Request, spider: Any = None) -> Any:
        context = request.meta.setdefault("playwright_context", "default")
        request.meta["playwright_include_page"] = True
        idle = self.idle_pages[context]
        while idle and "playwright_page" not in request.meta:
            page = idle.pop()
            if not page.is_closed():
                request.meta["playwright_page"] = page
        try:
            response = await super()._download_request(request, spider)
        except BaseException:
            self._discard(request.meta.pop("playwright_page", None))
            raise
        self._release(context, request.meta.pop("playwright_page", None))
        return response

    def _release(self, context: str, page: Any) -> None:
        if page is None:
            return
        uses = self.page_uses.pop(id(page), 0) + 1
        if uses < MAX_PAGE_USES and not page.is_closed():
            self.page_uses[id(page)] = uses
            self.idle_pages[context].append(page)
        else:
            self._discard(page)

    def _discard(self, page: Any) -> None:
        if page is not None and not page.is_closed():
            closing = asyncio.ensure_future(page.close())
            self.closing.add(closing)
            closing.add_done_callback(self.closing.discard)
