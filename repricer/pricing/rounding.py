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


def round_down(price: I64, modulus: Any, remainder: Any) -> I64:
    """The largest fitting price <= ``price``."""
    down: I64 = price - np.mod(price - remainder, modulus)
    return down


def round_up(price: I64, modulus: Any, remainder: Any) -> I64:
    """The smallest fitting price >= ``price``."""
    up: I64 = price + np.mod(remainder - price, modulus)
    return up


def round_nearest(price: I64, modulus: Any, remainder: Any) -> I64:
    """The nearest fitting price; exactly half way rounds up. With ``r`` the distance
    down to a fitting price, the one up is ``modulus - r`` away (none when r is 0)."""
    r = np.mod(price - remainder, modulus)
    nearest: I64 = price - r
    nearest += np.where(2 * r >= modulus, modulus, 0)
    return nearest


def round_into(price: I64, modulus: Any, remainder: Any, low: I64, high: I64) -> tuple[I64, Bools]:
    """Round to the nearest ending inside ``[low, high]``; returns (prices, no_fit).

    ``price`` must already lie in the window. Where no ending fits the window the
    price is returned unchanged and ``no_fit`` is True. ``modulus`` and ``remainder``
    are columns or one value for all rows (then a modulus of 1, no ending, is free).
    """
    no_fit = np.zeros(len(price), dtype=bool)
    if np.ndim(modulus) == 0 and modulus == 1:
        return price.copy(), no_fit
    rounded = round_nearest(price, modulus, remainder)
    under = np.flatnonzero(rounded < low)  # few: rounded up from the low end instead
    rounded[under] = round_up(low[under], _at(modulus, under), _at(remainder, under))
    over = np.flatnonzero(rounded > high)  # rounded down from the high end instead
    rounded[over] = round_down(high[over], _at(modulus, over), _at(remainder, over))
    outside = over[rounded[over] < low[over]]  # only these can leave the window
    rounded[outside] = price[outside]
    no_fit[outside] = True
    return rounded, no_fit


def _at(values: Any, rows: I64) -> Any:
    return values[rows] if np.ndim(values) else values
