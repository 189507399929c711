"""``ExtractionPool``: ``extract_product`` in worker processes, beside the reactor.

Extraction is pure CPU (parse, walk, match) and holds the GIL; done by the spider
itself it stops the reactor from downloading while a large page is read. With
``[crawl] extract_workers = N`` the spider hands each page to one of N worker
processes (:mod:`spiders.extraction_worker`) and awaits the answer, so downloads go on
meanwhile; with 0 it extracts in the crawling process. Same function, same arguments,
same result either way.

The reactor's own event loop talks to the workers over pipes (no executor threads to
contend for the GIL): a page goes over as its raw bytes and the encoding its headers
and head declare (:func:`spiders.decoding.response_encoding`); the worker decodes it,
if it is not UTF-8. A page goes to the worker with the fewest pages waiting; when every
worker already has ``QUEUE_PER_WORKER`` waiting, the crawling process reads it itself,
so its spare time is not lost while the workers are busy (real shop pages take longer
to read than to download).

A crawl of fewer than ``MIN_PAGES`` pages extracts in the crawling process too:
starting a worker (it imports the extraction code) costs more than it would save
there. Workers start when the spider opens and end when it closes; pages that arrive
before a worker has said it is up are read in the crawling process. A worker that dies
(killed, out of memory) costs no page: the pages it held, and every later one, are
extracted in the crawling process (a pool that broke once is not trusted with the rest
of the crawl).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import logging
import os
import pickle
import select
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from scrapy.http import TextResponse

from repricer.config import SelectorSettings
from spiders.decoding import response_encoding
from spiders.extraction_worker import HELLO, RESULT, TASK, extract_page
from spiders.pages import ExtractedProduct

log = logging.getLogger(__name__)
MIN_PAGES = 50
QUEUE_PER_WORKER = 3
# A pipe that holds a whole real-size page takes it in one write (Linux; the default
# 64 KB costs a round of the event loop per 64 KB).
_PIPE_BYTES = 1024 * 1024
_READ_BYTES = 256 * 1024
_IOV = 512  # buffers per write (the system allows 1024)
_STOP_WAIT_S = 5.0


class PageTask(NamedTuple):
    """A page to extract: what :func:`spiders.extraction_worker.extract_page` takes."""

    url: str
    body: bytes
    encoding: str | None
    selectors: SelectorSettings | None

    def extract(self) -> ExtractedProduct:
        return extract_page(self.url, self.body, self.encoding, self.selectors)


class ExtractionPool:
    """``await pool.extract(response, selectors)``: ``extract_product`` of the page in a
    worker process (``workers`` > 0) or in this one (``workers`` == 0)."""

    def __init__(self, workers: int) -> None:
        self.workers = max(0, workers)
        self.running: list[_Worker] = []
        self.broken = False
        self.counts = {"worker": 0, "here": 0}  # pages extracted in workers / in this process

    def start(self, pages: int = MIN_PAGES) -> None:
        """Start the workers for a crawl of ``pages`` pages (none for a small one)."""
        if self.workers and not self.running and not self.broken and pages >= MIN_PAGES:
            self.running = [_Worker(self._lost) for _ in range(self.workers)]

    async def extract(
        self, response: TextResponse, selectors: SelectorSettings | None = None
    ) -> ExtractedProduct:
        """The product of a downloaded page."""
        task = PageTask(response.url, response.body, response_encoding(response), selectors)
        worker = self._pick()
        if worker is None:
            self.counts["here"] += 1
            return task.extract()
        self.counts["worker"] += 1
        return await worker.submit(task)

    def _pick(self) -> _Worker | None:
        """The ready worker with the fewest pages waiting, if it has room for one more."""
        ready = [w for w in self.running if w.ready or w.poll_hello()]
        worker = min(ready, key=lambda w: len(w.pending), default=None)
        if worker is None or len(worker.pending) >= QUEUE_PER_WORKER:
            return None
        return worker

    def ready(self) -> bool:
        """Every worker has started (said hello)."""
        return bool(self.running) and all(w.ready or w.poll_hello() for w in self.running)

    def wait_ready(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for every worker to start."""
        deadline = time.monotonic() + timeout
        for worker in self.running:
            while not worker.ready and not worker.dead and time.monotonic() < deadline:
                worker.poll_hello(deadline - time.monotonic())
        return self.ready()

    def _lost(self, dead: _Worker) -> None:
        """A worker died: its pages, and the rest of the crawl's, are read here."""
        log.warning("an extraction worker died: extracting in the crawling process")
        self.broken = True
        workers, self.running = self.running, []
        for worker in workers:
            worker.stop(kill=worker is not dead)
            worker.finish_locally()

    def close(self) -> None:
        workers, self.running = self.running, []
        for worker in workers:
            worker.stop()


class _Worker:
    """One worker process and the two pipes to it, driven by the running event loop."""

    def __init__(self, on_death: Callable[[_Worker], None]) -> None:
        task_read, self.task_fd = os.pipe()
        self.result_fd, result_write = os.pipe()
        for fd in (self.task_fd, result_write):
            _widen(fd)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "spiders.extraction_worker", str(task_read), str(result_write)],
            pass_fds=(task_read, result_write),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env=_worker_env(),
        )
        os.close(task_read)
        os.close(result_write)
        os.set_blocking(self.task_fd, False)
        os.set_blocking(self.result_fd, False)
        self.on_death = on_death
        self.ids = itertools.count(HELLO + 1)
        self.pending: dict[int, tuple[asyncio.Future[ExtractedProduct], PageTask]] = {}
        self.outbox: deque[memoryview] = deque()
        self.inbox = bytearray()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.writing = False
        self.flush_soon = False
        self.ready = False
        self.dead = False

    def submit(self, task: PageTask) -> asyncio.Future[ExtractedProduct]:
        loop = self._attach()
        future: asyncio.Future[ExtractedProduct] = loop.create_future()
        task_id = next(self.ids)
        self.pending[task_id] = (future, task)
        meta = pickle.dumps((task.url, task.encoding, task.selectors), pickle.HIGHEST_PROTOCOL)
        header = TASK.pack(task_id, len(meta), len(task.body))
        self.outbox += (memoryview(header + meta), memoryview(task.body))
        if not self.flush_soon and not self.writing:  # one write for the pages of this round
            self.flush_soon = True
            loop.call_soon(self._flush)
        return future

    def poll_hello(self, timeout: float = 0.0) -> bool:
        """Read what the worker has answered (its hello first), waiting up to ``timeout``."""
        if not self.dead and select.select([self.result_fd], [], [], max(0.0, timeout))[0]:
            self._on_readable()
        return self.ready

    def _attach(self) -> asyncio.AbstractEventLoop:
        """Watch the result pipe from the running loop (a test runs several loops)."""
        loop = asyncio.get_running_loop()
        if self.loop is not loop:
            self._detach()
            self.loop = loop
            loop.add_reader(self.result_fd, self._on_readable)
        return loop

    def _detach(self) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.remove_reader(self.result_fd)
            self.loop.remove_writer(self.task_fd)
        self.loop, self.writing = None, False

    def _flush(self) -> None:
        """Write what the pipe takes now; the loop calls again when it takes more."""
        self.flush_soon = False
        while self.outbox and not self.dead:
            try:
                written = os.writev(self.task_fd, list(itertools.islice(self.outbox, _IOV)))
            except BlockingIOError:
                break
            except OSError:  # the worker is gone
                self._die()
                return
            while written:
                first = self.outbox[0]
                if written < len(first):
                    self.outbox[0], written = first[written:], 0
                else:
                    self.outbox.popleft()
                    written -= len(first)
        wanted = bool(self.outbox)
        if wanted != self.writing and self.loop is not None:
            if wanted:
                self.loop.add_writer(self.task_fd, self._flush)
            else:
                self.loop.remove_writer(self.task_fd)
            self.writing = wanted

    def _on_readable(self) -> None:
        while not self.dead:
            try:
                data = os.read(self.result_fd, _READ_BYTES)
            except BlockingIOError:
                break
            except OSError:
                data = b""
            if not data:  # the worker is gone
                self._die()
                return
            self.inbox += data
        while len(self.inbox) >= RESULT.size:
            task_id, size = RESULT.unpack_from(self.inbox)
            end = RESULT.size + size
            if len(self.inbox) < end:
                break
            ok, value = pickle.loads(self.inbox[RESULT.size : end])
            del self.inbox[:end]
            self._answered(task_id, ok, value)

    def _answered(self, task_id: int, ok: bool, value: object) -> None:
        if task_id == HELLO:
            self.ready = True
            return
        future, _task = self.pending.pop(task_id)
        if future.done():
            return
        if ok:
            future.set_result(value)  # type: ignore[arg-type]
        else:
            future.set_exception(value)  # type: ignore[arg-type]

    def _die(self) -> None:
        if not self.dead:
            self.dead = True
            self.on_death(self)

    def finish_locally(self) -> None:
        """Extract the pages this worker still held in the crawling process."""
        pending, self.pending = self.pending, {}
        for future, task in pending.values():
            if future.done():
                continue
            try:
                future.set_result(task.extract())
            except Exception as exc:
                future.set_exception(exc)

    def stop(self, *, kill: bool = False) -> None:
        """End the worker: close its task pipe (it exits), or kill it."""
        self.dead = True
        self._detach()
        for fd in (self.task_fd, self.result_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        if kill:
            self.process.kill()
        try:
            self.process.wait(_STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _widen(fd: int) -> None:
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or over the system's limit
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)


def _worker_env() -> dict[str, str]:
    """The environment with this ``spiders`` package first on the import path."""
    root = str(Path(__file__).resolve().parent.parent)
    path = os.environ.get("PYTHONPATH")
    return dict(os.environ, PYTHONPATH=os.pathsep.join([root, path]) if path else root)
