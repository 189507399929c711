"""Column formatting for explanations: money, ages and shares as object arrays of text.

``money_text`` gives exactly what :func:`repricer.money.format_money` gives for each
value, built from lookup tables and array concatenation instead of a loop.
"""

from __future__ import annotations

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


def group_text(whole: I64) -> Texts:
    """Non-negative integers with a no-break space every three digits."""
    out: Texts = _PLAIN[whole % 1000]
    big = whole >= 1000
    if big.any():
        out[big] = group_text(whole[big] // 1000) + NBSP + _PADDED[whole[big] % 1000]
    return out


def money_text(minor: I64, currency: str) -> Texts:
    """Minor units -> ``"1 299 ₽"`` / ``"1 299,90 ₽"`` / ``"−5 ₽"`` per value."""
    digits = minor_digits(currency)
    unit = 10**digits
    value = np.abs(minor)
    text = group_text(value // unit)
    if digits:
        fractions = np.array([str(i).zfill(digits) for i in range(unit)], dtype=object)
        frac = value % unit
        has_frac = frac > 0
        text[has_frac] = text[has_frac] + "," + fractions[frac[has_frac]]
    negative = minor < 0
    text[negative] = "−" + text[negative]
    return text + (NBSP + SYMBOLS.get(currency, currency))


def age_text(seconds: I64) -> Texts:
    """Seconds -> ``"45 s"``, ``"15 min"``, ``"2 h"``, ``"3 d"`` (as format_duration)."""
    limits = [seconds < 120, seconds < 7200, seconds < 172800]
    value = np.select(limits, [seconds, seconds // 60, seconds // 3600], seconds // 86400)
    unit = np.select(limits, [" s", " min", " h"], " d").astype(object)
    text: Texts = group_text(value) + unit
    return text


def share_text(share: int, *, signed: bool = False) -> str:
    """120000 -> ``"12%"`` (x DEN); with ``signed``, ``"+12%"`` / ``"−12%"``."""
    percent = (Decimal(abs(share)) * 100 / DEN).normalize()
    text = f"{percent:f}%"
    if signed:
        return ("−" if share < 0 else "+") + text
    return text
