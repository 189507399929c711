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
from repricer.pricing.rule_values import DEN

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
def _suffixes(currency: str, after: str) -> Texts:
    """``",51 ₽" + after`` for every fraction of a major unit ("" for none)."""
    digits = minor_digits(currency)
    unit = NBSP + SYMBOLS.get(currency, currency) + after
    fractions = ["" if i == 0 else "," + str(i).zfill(digits) for i in range(10**digits)]
    return np.array([f + unit for f in fractions], dtype=object)


def money_parts(minor: I64, currency: str, after: str = "") -> tuple[Texts, Texts]:
    """The two pieces of :func:`money_text`: the signed whole part (``"−1 299"``) and
    the fraction, symbol and ``after`` (``",90 ₽"``). Both come from cached tables, so
    no text is built per value except for negative or very large amounts."""
    unit = 10 ** minor_digits(currency)
    value = np.abs(minor)
    whole = group_text(value // unit)
    negative = minor < 0
    if negative.any():
        whole[negative] = "−" + whole[negative]
    suffix: Texts = _suffixes(currency, after)[value % unit]
    return whole, suffix


def money_text(minor: I64, currency: str, after: str = "") -> Texts:
    """Minor units -> ``"1 299 ₽"`` / ``"1 299,90 ₽"`` / ``"−5 ₽"`` per value, each
    followed by the constant ``after``."""
    whole, suffix = money_parts(minor, currency, after)
    text: Texts = whole + suffix
    return text


AGE_UNITS = ((0, 1, "s"), (120, 60, "min"), (7200, 3600, "h"), (172800, 86400, "d"))


@functools.cache
def age_table() -> Texts:
    """Every age text ``" (N unit ago)"``, indexed by :func:`age_codes`."""
    return np.concatenate([" (" + _PLAIN + f" {unit} ago)" for _, _, unit in AGE_UNITS])


def age_codes(seconds: I64) -> I64:
    """Seconds -> index into :func:`age_table` (units as ``format_duration``; at most 999 d)."""
    codes: I64 = np.zeros(len(seconds), dtype=np.int64)
    for i, (low, size, _) in enumerate(AGE_UNITS):
        mask = seconds >= low
        codes[mask] = i * 1000 + np.minimum(seconds[mask] // size, 999)
    return codes


def age_text(seconds: I64) -> Texts:
    """Seconds -> ``" (45 s ago)"``, ``" (15 min ago)"``, ``" (2 h ago)"``, ``" (3 d ago)"``."""
    texts: Texts = age_table()[age_codes(seconds)]
    return texts


def share_text(share: int, *, signed: bool = False) -> str:
    """120000 -> ``"12%"`` (x DEN); with ``signed``, ``"+12%"`` / ``"−12%"``."""
    percent = (Decimal(abs(share)) * 100 / DEN).normalize()
    text = f"{percent:f}%"
    if signed:
        return ("−" if share < 0 else "+") + text
    return text
