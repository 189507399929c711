"""Fault injection for the crash and concurrency tests, off unless asked for.

``$REPRICER_CRASH_AT=<point>`` makes the process SIGKILL itself when it reaches that
point (no cleanup, no rollback message: like a power cut); ``$REPRICER_PAUSE_AT=<point>``
makes it sleep there for ``$REPRICER_PAUSE_S`` seconds (default 1), to hold a
transaction open while another process runs. Points: ``apply:locked``,
``apply:stored``, ``apply:reviewed``, ``apply:committed`` (:mod:`repricer.flow`),
``push:claimed``, ``push:sent`` (the price push) and ``stock-push:claimed``,
``stock-push:sent`` (the stock push), both in :mod:`repricer.storefront.batches`.
"""

from __future__ import annotations

import os
import signal
import time

CRASH_ENV = "REPRICER_CRASH_AT"
PAUSE_ENV = "REPRICER_PAUSE_AT"
PAUSE_SECONDS_ENV = "REPRICER_PAUSE_S"


def fault_point(name: str) -> None:
    """Crash or pause here when the environment asks for it (see the module docstring)."""
    if os.environ.get(PAUSE_ENV) == name:
        time.sleep(float(os.environ.get(PAUSE_SECONDS_ENV) or 1))
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
