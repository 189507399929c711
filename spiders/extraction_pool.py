"""``ExtractionPool``: ``extract_product`` in worker processes, off the reactor thread.

Extraction is pure CPU (parse, walk, match) and holds the GIL; done by the spider
itself it stops the reactor from downloading while a large page is read. With
``[crawl] extract_workers = N`` the spider hands each page to one of N worker
processes and awaits the answer, so downloads go on meanwhile; with 0 it extracts in
the crawling process as before. Same function, same arguments, same result either way.
The page goes over as the response's bytes and Content-Type: deciding its encoding (a
page without a charset in its headers is decoded whole to find one) is work for the
worker too (:func:`extract_response`).
A crawl of fewer than ``MIN_PAGES`` pages extracts in the crawling process too: spawning
a worker (it imports the extraction code) costs more than it would save there.

Workers are spawned (forking a process that runs an event loop, threads and database
connections is unsafe) when the spider opens, and shut down when it closes; pages that
arrive before every worker is up are extracted in the crawling process. A worker
that dies (killed, out of memory) costs no page: the pages it held, and every later
one, are extracted in the crawling process (a pool that broke once is not trusted
with the rest of the crawl).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from scrapy.http import TextResponse

from repricer.config import SelectorSettings
from spiders.pages import ExtractedProduct, extract_product

log = logging.getLogger(__name__)
MIN_PAGES = 50
_UTF8 = frozenset({"utf-8", "utf8", "ascii", "us-ascii"})


def extract_response(
    kind: type[TextResponse],
    url: str,
    body: bytes,
    content_type: bytes | None,
    encoding: str | None,
    selectors: SelectorSettings | None = None,
) -> ExtractedProduct:
    """``extract_product`` of a downloaded text response of class ``kind`` (Scrapy's
    ``HtmlResponse`` …) with the given Content-Type and explicit ``encoding`` (set by
    the browser handler), decoded as Scrapy decodes it: UTF-8 bodies go to the parser
    as bytes, others as the text Scrapy reads."""
    headers = {"Content-Type": content_type} if content_type else {}
    response = kind(url, body=body, headers=headers, encoding=encoding)
    source = body if response.encoding in _UTF8 else response.text
    return extract_product(source, url, selectors)


class ExtractionPool:
    """``await pool.extract(response, selectors)``: ``extract_product`` of the page in a
    worker process (``workers`` > 0) or in this one (``workers`` == 0)."""

    def __init__(self, workers: int) -> None:
        self.workers = max(0, workers)
        self.executor: ProcessPoolExecutor | None = None
        self.starting: list[Future[int]] = []

    def start(self, pages: int = MIN_PAGES) -> None:
        """Spawn the workers for a crawl of ``pages`` pages (none for a small one)."""
        if self.workers and self.executor is None and pages >= MIN_PAGES:
            self.executor = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn")
            )
            # Start the workers now (spawned lazily otherwise, on the first pages).
            self.starting = [self.executor.submit(os.getpid) for _ in range(self.workers)]

    async def extract(
        self, response: TextResponse, selectors: SelectorSettings | None = None
    ) -> ExtractedProduct:
        """The product of a downloaded page (:func:`extract_response`)."""
        # ``_encoding``: the encoding the response was built with, if any (reading
        # ``response.encoding`` would decode an undeclared page here, in the reactor).
        explicit = getattr(response, "_encoding", None)
        content_type = response.headers.get("Content-Type")
        task = (type(response), response.url, response.body, content_type, explicit)
        executor = self.executor
        if executor is None or not self.ready():
            return extract_response(*task, selectors)
        try:
            return await asyncio.wrap_future(executor.submit(extract_response, *task, selectors))
        except BrokenProcessPool:
            if self.executor is executor:  # the first page to see it says so
                log.warning("an extraction worker died: extracting in the crawling process")
                self.executor = None
                executor.shutdown(wait=False, cancel_futures=True)
            return extract_response(*task, selectors)

    def ready(self) -> bool:
        """Every worker has started (answered its first task)."""
        if self.starting and all(f.done() for f in self.starting):
            self.starting = []
        return not self.starting

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None
