"""An extraction worker process: pages in, ``extract_product`` results out.

    python -m spiders.extraction_worker TASK_FD RESULT_FD

:class:`spiders.extraction_pool.ExtractionPool` starts it with two pipes. Each task is
a ``TASK`` header (task id, length of the pickled ``(url, encoding, selectors)``,
length of the body), that pickle, then the page's raw bytes as downloaded: no
response object is pickled, and the page is decoded here, once, or not at all
(:func:`spiders.decoding.page_source`). Each answer is a ``RESULT`` header (task id,
length) and the pickled ``(True, ExtractedProduct)`` or ``(False, exception)``. The
first answer, task id ``HELLO``, says the worker has imported the extraction code.
The worker ends when the crawling process closes the task pipe (or goes away).
Imports no Scrapy.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import struct
import sys
from typing import BinaryIO

from repricer.config import SelectorSettings
from spiders.decoding import page_source
from spiders.pages import ExtractedProduct, extract_product

TASK = struct.Struct("<QII")  # task id, pickled (url, encoding, selectors) size, body size
RESULT = struct.Struct("<QI")  # task id, pickled outcome size
HELLO = 0
_READ_BUFFER = 1024 * 1024  # small pages: several per read


def extract_page(
    url: str, body: bytes, encoding: str | None, selectors: SelectorSettings | None = None
) -> ExtractedProduct:
    """``extract_product`` of a downloaded page, given its raw bytes and the encoding it
    declares (None: undeclared); the same in a worker and in the crawling process."""
    return extract_product(page_source(body, encoding), url, selectors)


def serve(tasks: BinaryIO, results: BinaryIO) -> None:
    """Answer tasks until the task pipe ends."""
    _answer(results, HELLO, (True, os.getpid()))
    while (header := _read(tasks, TASK.size)) is not None:
        task_id, meta_size, body_size = TASK.unpack(header)
        meta, body = _read(tasks, meta_size), _read(tasks, body_size)
        if meta is None or body is None:
            return
        url, encoding, selectors = pickle.loads(meta)
        try:
            outcome: tuple[bool, object] = (True, extract_page(url, body, encoding, selectors))
        except Exception as exc:  # the crawling process records it for this page
            outcome = (False, exc)
        _answer(results, task_id, outcome)


def _answer(results: BinaryIO, task_id: int, outcome: tuple[bool, object]) -> None:
    try:
        data = pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception that does not pickle: its text does
        data = pickle.dumps((False, RuntimeError(repr(outcome[1]))), pickle.HIGHEST_PROTOCOL)
    view = memoryview(RESULT.pack(task_id, len(data)) + data)
    while view:
        view = view[results.write(view) or 0 :]


def _read(stream: BinaryIO, size: int) -> bytes | None:
    """Exactly ``size`` bytes, or None at the end of the stream."""
    if size == 0:
        return b""
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        n = stream.readinto(view[got:])  # type: ignore[attr-defined]
        if not n:
            return None
        got += n
    return bytes(buffer)


def _yield_on_wakeup() -> None:
    """Run as a batch task (Linux ``SCHED_BATCH``): the same share of the CPU, but a
    page arriving does not let this process preempt the crawling process that sent
    it. Woken for every page on a busy host, it otherwise took the crawling process's
    CPU mid-download, and the reactor then fetched nothing for the page's reading time."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or not allowed
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))


def main(argv: list[str]) -> None:
    # Ctrl-C reaches the whole process group: the crawling process decides when to
    # stop (it closes the task pipe), and extracts pages itself if a worker is gone.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _yield_on_wakeup()
    gc.freeze()  # the imported code lives as long as the worker: full passes skip it
    task_fd, result_fd = int(argv[0]), int(argv[1])
    with (
        open(task_fd, "rb", buffering=_READ_BUFFER) as tasks,
        open(result_fd, "wb", buffering=0) as results,
        contextlib.suppress(BrokenPipeError),  # the crawling process went away
    ):
        serve(tasks, results)
    # Nothing is left to flush or save: skip the interpreter's teardown, which the
    # crawl would otherwise wait for as it closes.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
