"""Where a feed comes from: an HTTP(S) URL or a local file.

HTTP fetches are conditional (``If-None-Match`` / ``If-Modified-Since`` from the last
applied sync, so a 304 skips the work), streamed to a temporary file (memory stays flat),
gunzipped (``Content-Encoding`` and gzip bodies alike), bounded by the supplier's
``timeout`` and retried ``retries`` times with exponential backoff on network errors,
429 and 5xx. Every fetch, retries included, must end within ``download_deadline``
(a server dripping a byte at a time cannot hold a sync forever) and no feed may be
larger than ``max_download`` bytes, compressed or not (a flooding server cannot fill
the disk). Basic auth uses the supplier's ``username`` and the password from
``REPRICER_SUPPLIER_<NAME>_PASSWORD``.
"""

from __future__ import annotations

import gzip
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from repricer.config import SupplierSettings, get_secret
from repricer.exceptions import InputFileError
from repricer.redact import redact

BACKOFF_S = 0.5  # first retry delay; doubles every attempt
MAX_BACKOFF_S = 30.0
_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_USER_AGENT = "repricer/0.1 (supplier feed sync)"


class FetchError(Exception):
    """The feed could not be fetched; carries the last HTTP status when there was one."""

    def __init__(self, message: str, http_status: int | None = None):
        self.http_status = http_status
        super().__init__(message)


@dataclass
class FetchedFeed:
    """A fetched feed. ``path`` is None when the server said 304 Not Modified;
    ``temporary`` files are deleted by :meth:`cleanup`."""

    path: Path | None
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    temporary: list[Path] = field(default_factory=list)

    @property
    def not_modified(self) -> bool:
        return self.path is None

    def cleanup(self) -> None:
        for tmp in self.temporary:
            tmp.unlink(missing_ok=True)


def feed_name(supplier: SupplierSettings) -> str:
    """The feed's file name or URL path for messages (``price.csv``), never a secret."""
    if supplier.path is not None:
        return supplier.path.name
    path = urlsplit(supplier.url or "").path.rstrip("/")
    return path.rsplit("/", 1)[-1] or redact(supplier.url or "")


def fetch_feed(
    supplier: SupplierSettings,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    backoff: float = BACKOFF_S,
) -> FetchedFeed:
    """Fetch the supplier's feed; raise :class:`FetchError` (or ConfigError for a
    missing password) when it cannot be had."""
    suffix = "." + supplier.format
    if supplier.path is not None:
        if not supplier.path.is_file():
            raise FetchError(f"file not found: {supplier.path}")
        return _gunzipped(FetchedFeed(supplier.path), suffix, _Limits.of(supplier))
    assert supplier.url is not None
    headers = {"User-Agent": _USER_AGENT, "Accept-Encoding": "gzip"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    auth = (supplier.username, get_secret(supplier.password_env)) if supplier.username else None
    limits = _Limits.of(supplier)
    timeout = httpx.Timeout(supplier.timeout.total_seconds())
    with httpx.Client(headers=headers, auth=auth, timeout=timeout, follow_redirects=True) as client:
        for attempt in range(supplier.retries + 1):
            try:
                return _gunzipped(_download(client, supplier.url, suffix, limits), suffix, limits)
            except _Retryable as exc:
                pause = min(MAX_BACKOFF_S, backoff * 2**attempt)
                if attempt == supplier.retries or limits.remaining() <= pause:
                    raise FetchError(
                        f"{exc} (after {attempt + 1} attempt(s))", exc.http_status
                    ) from None
                time.sleep(pause)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class _Limits:
    """The supplier's download deadline (a monotonic time) and byte cap."""

    deadline: float
    deadline_s: float
    max_bytes: int
    timeout_s: float

    @classmethod
    def of(cls, supplier: SupplierSettings) -> _Limits:
        seconds = supplier.download_deadline.total_seconds()
        return cls(
            time.monotonic() + seconds,
            seconds,
            int(supplier.max_download),
            supplier.timeout.total_seconds(),
        )

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def timeout(self) -> httpx.Timeout:
        """The per-read timeout, never past the deadline."""
        return httpx.Timeout(max(0.01, min(self.timeout_s, self.remaining())))

    def check(self, size: int) -> None:
        if size > self.max_bytes:
            raise FetchError(
                f"the feed is larger than max_download ({self.max_bytes} bytes); refused"
            )
        if self.remaining() <= 0:
            raise FetchError(
                f"the download took longer than download_deadline ({self.deadline_s:g}s); stopped"
            )


class _Retryable(FetchError):
    pass


def _download(client: httpx.Client, url: str, suffix: str, limits: _Limits) -> FetchedFeed:
    limits.check(0)
    try:
        with client.stream("GET", url, timeout=limits.timeout()) as response:
            status = response.status_code
            if status == 304:
                return FetchedFeed(None, 304, *_validators(response))
            if status == 429 or status >= 500:
                raise _Retryable(f"HTTP {status} from {url}", status)
            if status >= 400:
                raise FetchError(f"HTTP {status} from {url}", status)
            declared = response.headers.get("Content-Length", "")
            limits.check(int(declared) if declared.isdigit() else 0)
            tmp = _temp_path(suffix)
            try:
                with tmp.open("wb") as out:
                    size = 0
                    # As the bytes arrive (a chunk size would wait for that many bytes,
                    # and a dripping server would never be checked).
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        limits.check(size)
                        out.write(chunk)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            return FetchedFeed(tmp, status, *_validators(response), temporary=[tmp])
    except httpx.TimeoutException:
        limits.check(0)  # past the deadline: say so, do not retry
        raise _Retryable(f"timed out fetching {url}") from None
    except httpx.DecodingError as exc:
        raise FetchError(f"broken compressed body from {url}: {exc}") from None
    except httpx.TransportError as exc:
        raise _Retryable(f"network error fetching {url}: {exc}") from None


def _validators(response: httpx.Response) -> tuple[str | None, str | None]:
    return response.headers.get("ETag"), response.headers.get("Last-Modified")


def _gunzipped(feed: FetchedFeed, suffix: str, limits: _Limits) -> FetchedFeed:
    """Decompress a gzip file body (``feed.xml.gz``) to a temporary file, within the
    byte cap; a broken one is a bad file (InputFileError), like any other unreadable feed."""
    if feed.path is None:
        return feed
    with feed.path.open("rb") as fh:
        if fh.read(2) != _GZIP_MAGIC:
            return feed
    plain = _temp_path(suffix)
    feed.temporary.append(plain)
    try:
        with gzip.open(feed.path, "rb") as src, plain.open("wb") as dst:
            size = 0
            while chunk := src.read(_CHUNK):
                size += len(chunk)
                limits.check(size)
                dst.write(chunk)
    except FetchError:
        feed.cleanup()
        raise
    except (OSError, EOFError) as exc:
        feed.cleanup()
        raise InputFileError(f"broken gzip data: {exc}", path=feed.path) from None
    feed.path = plain
    return feed


def _temp_path(suffix: str) -> Path:
    # The suffix matters: openpyxl refuses a workbook whose name does not end in .xlsx.
    fd, name = tempfile.mkstemp(prefix="repricer-feed-", suffix=suffix)
    os.close(fd)
    return Path(name)
