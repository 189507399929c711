"""HTTP requests retried with exponential backoff and jitter, honouring ``Retry-After``.

Retried: 429, 5xx (except 501), timeouts and connection errors. Not retried: every other
status, which the caller interprets. When retries run out, the last response is
returned (the caller marks items failed); a transport error that never recovered raises
:class:`StorefrontError` naming the URL without its query string or credentials.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from repricer.exceptions import StorefrontError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 522, 524})


@dataclass
class Backoff:
    """``delay(attempt)`` = min(cap, base * 2**attempt) scaled by a random factor in
    [0.5, 1.0] ("equal jitter"); a ``Retry-After`` asks for at least that long (up to
    ``max_retry_after``)."""

    retries: int = 5
    base: float = 0.5
    cap: float = 30.0
    max_retry_after: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        wait = min(self.cap, self.base * 2.0**attempt) * self.rng.uniform(0.5, 1.0)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_retry_after))
        return wait


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date; None if absent/garbage."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def safe_url(url: httpx.URL | str) -> str:
    """The URL without userinfo and query string, fit for messages and logs."""
    parsed = httpx.URL(str(url))
    return str(parsed.copy_with(query=None, fragment=None, username=None, password=None))


def send(
    client: httpx.Client, method: str, url: str, backoff: Backoff, **kwargs: Any
) -> httpx.Response:
    """Send one request, retrying as the module docstring says."""
    attempt = 0
    while True:
        try:
            response = client.request(method, url, **kwargs)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            if attempt >= backoff.retries:
                kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
                raise StorefrontError(
                    f"{method} {safe_url(client.base_url.join(url))} {kind} "
                    f"after {attempt + 1} attempt(s): {type(exc).__name__}"
                ) from None
            backoff.sleep(backoff.delay(attempt))
            attempt += 1
            continue
        if response.status_code not in RETRY_STATUSES or attempt >= backoff.retries:
            return response
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        backoff.sleep(backoff.delay(attempt, retry_after))
        attempt += 1
