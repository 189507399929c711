"""What the market says per product: the competitor prices a rule may use, summarised.

Observations arrive as columns (product row, competitor code, price, in stock, age in
seconds). Per product and its rule, the usable ones are those not older than the
rule's ``stale_after`` (and not after ``now``), from the rule's competitors; the
in-stock ones (or all, with ``include_out_of_stock``) are then sorted once by
(product, price, competitor name, age) and read by group offsets: lowest, k-th lowest,
median and mean. Ties on price go to the competitor first by name, then the newest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from repricer.pricing.params import RuleTable

I64 = npt.NDArray[Any]  # int64 columns
Bools = npt.NDArray[Any]  # bool columns
_AGE_CAP = 2**32 - 1


@dataclass(frozen=True)
class Observed:
    """Observation columns: ``pos`` is the product's row, ``comp`` the index of the
    competitor in the engine's sorted competitor names."""

    pos: I64
    comp: I64
    price: I64
    in_stock: Bools
    age: I64


@dataclass(frozen=True)
class Market:
    """Per product row. ``n_any``: usable observations; ``n_in``: those in stock.
    Prices are minor units, 0 where ``n_in`` is 0; competitor -1 when none."""

    n_any: I64
    n_in: I64
    low_price: I64
    low_comp: I64
    low_age: I64
    kth_price: I64
    kth_comp: I64
    kth_age: I64
    median: I64
    mean: I64


def summarise_market(obs: Observed, rule_idx: I64, table: RuleTable) -> Market:
    """Summarise the usable observations per product row (``len(rule_idx)`` rows)."""
    n = len(rule_idx)
    rule = rule_idx[obs.pos]
    usable = (obs.age >= 0) & (obs.age <= table.col("stale_after")[rule])
    usable &= table.allowed[rule, obs.comp]
    n_any = np.bincount(obs.pos[usable], minlength=n).astype(np.int64)
    counted = usable & (obs.in_stock | (table.col("include_oos")[rule] == 1))
    idx = np.flatnonzero(counted)
    tiebreak = obs.comp[idx] * (_AGE_CAP + 1) + np.minimum(obs.age[idx], _AGE_CAP)
    order = idx[np.lexsort((tiebreak, obs.price[idx], obs.pos[idx]))]
    pos, price = obs.pos[order], obs.price[order]
    comp, age = obs.comp[order], obs.age[order]
    counts = np.bincount(pos, minlength=n).astype(np.int64)
    starts = np.cumsum(counts) - counts
    has = counts > 0
    rank = np.minimum(table.col("rank")[rule_idx], counts) - 1

    def at(values: I64, offset: I64, empty: int = 0) -> I64:
        if len(values) == 0:
            return np.full(n, empty, dtype=np.int64)
        return np.where(has, values[np.minimum(starts + offset, len(values) - 1)], empty)

    zero = np.zeros(n, dtype=np.int64)
    lower, upper = at(price, (counts - 1) // 2), at(price, counts // 2)
    sums = np.zeros(n, dtype=np.int64)
    if len(price):
        sums[has] = np.add.reduceat(price, starts[has])
    safe = np.maximum(counts, 1)
    return Market(
        n_any=n_any,
        n_in=counts,
        low_price=at(price, zero),
        low_comp=at(comp, zero, -1),
        low_age=at(age, zero),
        kth_price=at(price, rank),
        kth_comp=at(comp, rank, -1),
        kth_age=at(age, rank),
        median=(lower + upper + 1) // 2,
        mean=np.where(has, (2 * sums + counts) // (2 * safe), 0),
    )
