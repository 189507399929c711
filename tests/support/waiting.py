"""Waiting in tests: poll a condition until it holds, with a generous deadline, instead
of sleeping a fixed time and hoping. A loaded machine makes such a test slower, never
wrong; a condition that never comes fails the test naming what was awaited."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
POLL_S = 0.05
DEADLINE_S = 60.0


def wait_until(
    condition: Callable[[], T],
    what: str = "the condition",
    *,
    timeout: float = DEADLINE_S,
    poll: float = POLL_S,
) -> T:
    """The first truthy value of ``condition()``; AssertionError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(poll)
    return value
