"""``ExtractionPool``: ``extract_product`` in worker processes, off the reactor thread.

Extraction is pure CPU (parse, walk, match) and holds the GIL; done by the spider
itself it stops the reactor from downloading while a large page is read. With
``[crawl] extract_workers = N`` the spider hands each page to one of N worker
processes and awaits the answer, so downloads go on meanwhile; with 0 it extracts in
the crawling process as before. Same function, same arguments, same result either way.
A crawl of fewer than ``MIN_PAGES`` pages extracts in the crawling process too: spawning
a worker (it imports the extraction code) costs more than it would save there.

Workers are spawned (forking a process that runs an event loop, threads and database
connections is unsafe) when the spider opens, and shut down when it closes. A worker
that dies (killed, out of memory) costs no page: the pages it held, and every later
one, are extracted in the crawling process (a pool that broke once is not trusted
with the rest of the crawl).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from repricer.config import SelectorSettings
from spiders.pages import ExtractedProduct, extract_product

log = logging.getLogger(__name__)
MIN_PAGES = 50


class ExtractionPool:
    """``await pool.extract(html, url, selectors)``: ``extract_product`` in a worker
    process (``workers`` > 0) or in this one (``workers`` == 0)."""

    def __init__(self, workers: int) -> None:
        self.workers = max(0, workers)
        self.executor: ProcessPoolExecutor | None = None

    def start(self, pages: int = MIN_PAGES) -> None:
        """Spawn the workers for a crawl of ``pages`` pages (none for a small one)."""
        if self.workers and self.executor is None and pages >= MIN_PAGES:
            self.executor = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn")
            )
            # Start the workers now (spawned lazily otherwise, on the first pages).
            for _ in range(self.workers):
                self.executor.submit(int)

    async def extract(
        self, html: str | bytes, url: str, selectors: SelectorSettings | None = None
    ) -> ExtractedProduct:
        executor = self.executor
        if executor is None:
            return extract_product(html, url, selectors)
        try:
            future = executor.submit(extract_product, html, url, selectors)
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            if self.executor is executor:  # the first page to see it says so
                log.warning("an extraction worker died: extracting in the crawling process")
                self.executor = None
                executor.shutdown(wait=False, cancel_futures=True)
            return extract_product(html, url, selectors)

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None
