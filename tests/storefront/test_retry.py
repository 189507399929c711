"""Backoff arithmetic and Retry-After parsing."""

from __future__ import annotations

import random
import time
from email.utils import formatdate

import pytest

from repricer.storefront.retry import Backoff, retry_after_seconds, safe_url


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    backoff = Backoff(base=1.0, cap=8.0, rng=random.Random(1))
    delays = [backoff.delay(a) for a in range(6)]
    for attempt, delay in enumerate(delays):
        full = min(8.0, 2.0**attempt)
        assert full / 2 <= delay <= full
    assert len(set(delays)) == len(delays)  # jittered


def test_retry_after_is_honoured_within_limits() -> None:
    backoff = Backoff(base=0.1, cap=1.0, max_retry_after=60)
    assert backoff.delay(0, 30.0) == 30.0
    assert backoff.delay(0, 10_000.0) == 60


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5", 5.0), (" 2.5 ", 2.5), ("-3", 0.0), ("", None), (None, None), ("soon", None)],
    ids=["seconds", "fraction", "negative", "empty", "absent", "garbage"],
)
def test_retry_after_values(value: str | None, expected: float | None) -> None:
    assert retry_after_seconds(value) == expected


def test_retry_after_http_date() -> None:
    seconds = retry_after_seconds(formatdate(time.time() + 100, usegmt=True))
    assert seconds is not None and 95 <= seconds <= 101


def test_safe_url_drops_credentials_and_query() -> None:
    assert safe_url("https://u:p@shop.example/x?consumer_secret=s") == "https://shop.example/x"
