"""What the market says per product: the competitor prices a rule may use, summarised.

Observations arrive as columns (product row, competitor code, price, in stock, age in
seconds). Per product and its rule, the usable ones are those not older than the
rule's ``stale_after`` (and not after ``now``), from the rule's competitors; the
in-stock ones (or all, with ``include_out_of_stock``) are then sorted once by
(product, price, competitor name) and read by group offsets: lowest, k-th lowest,
median and mean. Ties on price go to the competitor first by name; among a competitor's
listings at the same price, the newest observation is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from repricer.pricing.params import RuleTable

I64 = npt.NDArray[Any]  # int64 columns
Bools = npt.NDArray[Any]  # bool columns


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
    present = np.zeros(len(table.col("rank")), dtype=bool)  # the rules (rows) in use
    present[rule_idx] = True
    usable = (obs.age >= 0) & (obs.age <= _by_rule(table.col("stale_after"), present, rule))
    if not table.allowed[present].all():
        usable &= table.allowed[rule, obs.comp]
    n_any = np.bincount(obs.pos[usable], minlength=n).astype(np.int64)
    counted = usable & (obs.in_stock | (_by_rule(table.col("include_oos"), present, rule) == 1))
    idx = np.flatnonzero(counted)
    order = idx[_sort_order(obs.pos[idx], obs.price[idx], obs.comp[idx])]
    pos, price, comp = obs.pos[order], obs.price[order], obs.comp[order]
    age = _newest_of_ties(pos, price, comp, obs.age[order])
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


def _by_rule(values: I64, present: Bools, rule: I64) -> Any:
    """``values[rule]`` per observation, or the one value when all rules in use share it."""
    used = values[present]
    if len(used) and bool((used == used[0]).all()):
        return used[0]
    return values[rule]


def _sort_order(pos: I64, price: I64, comp: I64) -> I64:
    """Order by (product, price, competitor): one stable sort of a packed key when the
    three fit in 62 bits (observations arrive grouped by product, so it is quick)."""
    if len(pos) == 0:
        return np.zeros(0, dtype=np.int64)
    bits = [int(v.max()).bit_length() for v in (pos, price, comp)]
    if sum(bits) > 62 or price.min() < 0:
        return np.lexsort((comp, price, pos))
    key = pos << (bits[1] + bits[2])
    key |= price << bits[2]  # in place: fewer columns allocated
    key |= comp
    return np.argsort(key, kind="stable")


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
