"""Durations and percentages written the way people write them in config and rule files.

``"15m"``, ``"6h"``, ``"2d"``, ``"90s"`` or a bare number of seconds; ``"12%"`` or ``0.12``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)?\s*$", re.IGNORECASE)
_SECONDS = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: object) -> timedelta:
    """``"15m"`` -> 15 minutes. Raises ``ValueError`` with the accepted forms."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=float(value))
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"not a duration: {value!r} (use e.g. 90s, 15m, 6h, 2d)")
    unit = match.group(2).lower() if match.group(2) else None
    return timedelta(seconds=float(match.group(1)) * _SECONDS[unit])


def parse_fraction(value: object) -> Decimal:
    """``"12%"`` -> ``Decimal("0.12")``; a bare number is already a fraction (``0.12``).

    Raises ``ValueError`` for anything else.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a percentage: {value!r}")
    text = str(value).strip().replace(",", ".")
    try:
        if text.endswith("%"):
            return Decimal(text[:-1].strip()) / 100
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f'not a percentage: {value!r} (use e.g. "12%" or 0.12)') from None


def format_duration(delta: timedelta) -> str:
    """timedelta -> ``"2 h"`` / ``"15 min"`` / ``"3 d"`` for explanations and tables."""
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"
