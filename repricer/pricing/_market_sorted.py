"""The market summary by one sort of all counted observations by (product, price,
competitor): the general way, for prices that do not pack into a key with room for the
competitor and slot, or groups too uneven to lay out one column per slot (see
:mod:`repricer.pricing.market`, which gives the same answers faster otherwise)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from repricer.pricing.market import Counting, Market, Observed

I64 = npt.NDArray[Any]  # int64 columns


def summarise_sorted(obs: Observed, c: Counting, n: int) -> Market:
    """The :class:`~repricer.pricing.market.Market` of ``n`` products."""
    from repricer.pricing.codes import Method
    from repricer.pricing.market import Market

    usable, counted = c.usable(obs, slice(None))
    idx = np.flatnonzero(counted)
    order = idx[np.lexsort((obs.comp[idx], obs.price[idx], obs.pos[idx]))]
    pos, price, comp = obs.pos[order], obs.price[order], obs.comp[order]
    age = _newest_of_ties(pos, price, comp, obs.ages(order))
    counts = np.bincount(pos, minlength=n).astype(np.int32)
    n_any = np.bincount(obs.pos[usable], minlength=n).astype(np.int32)
    starts = np.cumsum(counts, dtype=np.int64) - counts
    has = counts > 0
    rank = np.minimum(c.rank, counts) - 1

    def at(values: I64, offset: Any, empty: int = 0) -> I64:
        if len(values) == 0:
            return np.full(n, empty, dtype=values.dtype)
        return np.where(has, values[np.minimum(starts + offset, len(values) - 1)], empty)

    lower, upper = at(price, (counts - 1) // 2), at(price, counts // 2)
    sums = np.zeros(n, dtype=np.int64)
    if len(price):
        sums[has] = np.add.reduceat(price, starts[has])
    safe = np.maximum(counts, 1).astype(np.int64)
    return Market(
        n_any=n_any,
        n_in=counts,
        low_price=at(price, 0),
        low_comp=at(comp, 0, -1).astype(np.int32),
        low_age=at(age, 0),
        kth_price=at(price, rank),
        kth_comp=at(comp, rank, -1).astype(np.int32),
        kth_age=at(age, rank),
        median=np.where(c.strategy == Method.MATCH_MEDIAN, (lower + upper + 1) // 2, 0),
        mean=np.where(
            has & (c.strategy == Method.MATCH_AVERAGE), (2 * sums + counts) // (2 * safe), 0
        ),
    )


def _newest_of_ties(pos: I64, price: I64, comp: I64, age: I64) -> I64:
    """Each sorted row's age replaced by the smallest age among rows with the same
    (product, price, competitor): a tie shows the newest observation."""
    if len(pos) == 0:
        return age
    new = np.ones(len(pos), dtype=bool)
    new[1:] = (pos[1:] != pos[:-1]) | (price[1:] != price[:-1]) | (comp[1:] != comp[:-1])
    if new.all():  # no ties
        return age
    starts = np.flatnonzero(new)
    newest: I64 = np.minimum.reduceat(age, starts)[np.cumsum(new) - 1]
    return newest
