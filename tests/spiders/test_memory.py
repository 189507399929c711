"""The parser's freed memory is kept for the next page where the C library allows it."""

from __future__ import annotations

import platform

import pytest

from spiders.pages._memory import keep_freed_memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_glibc_takes_the_thresholds() -> None:
    assert keep_freed_memory() is True
    assert keep_freed_memory() is True  # once per process, the same answer after
