"""Price endings on int64 minor units, whole columns at a time.

An ending is a (modulus, remainder) pair: ``ends_in_9`` in roubles is (1000, 900), so
1 339 ₽ = 133900 kopecks fits because 133900 % 1000 == 900. :func:`round_into` takes the
nearest fitting price (half way goes up) and keeps it inside a window: a price that
would fall under the window's low end (the floor) is rounded up instead, one above the
high end is rounded down; when no fitting price lies in the window the unrounded price
is kept and reported.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[Any]  # int64 columns
Bools = npt.NDArray[Any]  # bool columns


def round_down(price: I64, modulus: I64, remainder: I64) -> I64:
    """The largest fitting price <= ``price``."""
    down: I64 = price - np.mod(price - remainder, modulus)
    return down


def round_up(price: I64, modulus: I64, remainder: I64) -> I64:
    """The smallest fitting price >= ``price``."""
    up: I64 = price + np.mod(remainder - price, modulus)
    return up


def round_nearest(price: I64, modulus: I64, remainder: I64) -> I64:
    """The nearest fitting price; exactly half way rounds up."""
    down = round_down(price, modulus, remainder)
    up = round_up(price, modulus, remainder)
    return np.where(price - down < up - price, down, up)


def round_into(price: I64, modulus: I64, remainder: I64, low: I64, high: I64) -> tuple[I64, Bools]:
    """Round to the nearest ending inside ``[low, high]``; returns (prices, no_fit).

    ``price`` must already lie in the window. Where no ending fits the window the
    price is returned unchanged and ``no_fit`` is True.
    """
    rounded = round_nearest(price, modulus, remainder)
    rounded = np.where(rounded < low, round_up(low, modulus, remainder), rounded)
    rounded = np.where(rounded > high, round_down(high, modulus, remainder), rounded)
    no_fit = (rounded < low) | (rounded > high)
    return np.where(no_fit, price, rounded), no_fit
