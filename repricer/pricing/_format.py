"""Column formatting for explanations: money, ages and shares as object arrays of text.

``money_text`` gives exactly what :func:`repricer.money.format_money` gives for each
value, built from lookup tables and array concatenation instead of a loop.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from repricer._currencies import SYMBOLS
from repricer.money import NBSP, minor_digits
from repricer.pricing._values import DEN

I64 = npt.NDArray[Any]  # int64 columns
Texts = npt.NDArray[Any]  # object (str) columns

_PLAIN = np.array([str(i) for i in range(1000)], dtype=object)
_PADDED = np.array([f"{i:03d}" for i in range(1000)], dtype=object)


_TABLE_LIMIT = 1_000_000


@functools.cache
def _whole_table() -> Texts:
    """``"0"`` .. ``"999 999"``: every whole amount under a million, built by one outer add."""
    high = _PLAIN[1:].astype(object)
    grouped = np.add.outer(high, (NBSP + _PADDED).astype(object)).ravel()
    return np.concatenate([_PLAIN, grouped])


def group_text(whole: I64) -> Texts:
    """Non-negative integers with a no-break space every three digits."""
    small = whole < _TABLE_LIMIT
    out: Texts = _whole_table()[np.where(small, whole, 0)]
    if not small.all():
        big = ~small
        out[big] = group_text(whole[big] // 1000) + NBSP + _PADDED[whole[big] % 1000]
    return out


@functools.cache
def _fraction_suffixes(currency: str) -> tuple[Texts, str]:
    digits = minor_digits(currency)
    unit = NBSP + SYMBOLS.get(currency, currency)
    fractions = ["" if i == 0 else "," + str(i).zfill(digits) for i in range(10**digits)]
    return np.array([f + unit for f in fractions], dtype=object), unit


def money_text(minor: I64, currency: str) -> Texts:
    """Minor units -> ``"1 299 ₽"`` / ``"1 299,90 ₽"`` / ``"−5 ₽"`` per value."""
    unit = 10 ** minor_digits(currency)
    suffixes, _ = _fraction_suffixes(currency)
    value = np.abs(minor)
    text: Texts = group_text(value // unit) + suffixes[value % unit]
    negative = minor < 0
    if negative.any():
        text[negative] = "−" + text[negative]
    return text


@functools.cache
def _age_tables() -> dict[str, Texts]:
    return {u: " (" + _PLAIN + f" {u} ago)" for u in ("s", "min", "h", "d")}


def age_text(seconds: I64) -> Texts:
    """Seconds -> ``" (45 s ago)"``, ``" (15 min ago)"``, ``" (2 h ago)"``, ``" (3 d ago)"``
    (the units of :func:`repricer.units.format_duration`)."""
    tables = _age_tables()
    out: Texts = np.empty(len(seconds), dtype=object)
    bounds = [(0, 120, 1, "s"), (120, 7200, 60, "min"), (7200, 172800, 3600, "h")]
    for low, high, size, unit in bounds:
        mask = (seconds >= low) & (seconds < high)
        out[mask] = tables[unit][seconds[mask] // size]
    days = seconds >= 172800
    out[days] = tables["d"][np.minimum(seconds[days] // 86400, 999)]
    return out


def share_text(share: int, *, signed: bool = False) -> str:
    """120000 -> ``"12%"`` (x DEN); with ``signed``, ``"+12%"`` / ``"−12%"``."""
    percent = (Decimal(abs(share)) * 100 / DEN).normalize()
    text = f"{percent:f}%"
    if signed:
        return ("−" if share < 0 else "+") + text
    return text
