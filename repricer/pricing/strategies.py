"""Strategies and behaviours: the target price per product before the guards.

Strategies (the rule's ``strategy``): ``beat_lowest`` (cheapest competitor minus
``beat_by``), ``match_lowest``, ``match_median``, ``match_average``, ``position``
(just under the ``rank``-th cheapest competitor, by ``beat_by``), ``follow`` (the named
``competitor`` plus ``adjust``), ``cost_plus`` (cost + ``markup`` + fixed fee) and
``keep``. Behaviours replace the strategy, in rising precedence: no usable competitor
price (``no_competitors``), all of them out of stock (``all_out_of_stock``), no cost
known (keep, flagged), we are out of stock (``we_out_of_stock``). A product without a
current price that would keep it is skipped. Then raise-back: a target cheaper than the
cheapest competitor by more than ``raise_back`` goes up to just under it (1 minor unit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from repricer.pricing.codes import Reason
from repricer.pricing.guards import share_of
from repricer.pricing.market import Market
from repricer.pricing.params import ALL_OUT_OF_STOCK, NO_COMPETITORS, OFF, WE_OUT_OF_STOCK
from repricer.pricing.rule_values import DEN
from repricer.pricing.rules import STRATEGIES

I64 = npt.NDArray[Any]  # int64 columns
Bools = npt.NDArray[Any]  # bool columns

METHODS = (*STRATEGIES, "ceiling", "skip")
CEILING, SKIP = METHODS.index("ceiling"), METHODS.index("skip")
KEEP, COST_PLUS = METHODS.index("keep"), METHODS.index("cost_plus")
COMPETITIVE = [STRATEGIES.index(s) for s in STRATEGIES if s not in ("cost_plus", "keep")]


@dataclass(frozen=True)
class Targets:
    """``method`` indexes :data:`METHODS`, ``reason`` :class:`~repricer.pricing.codes.Reason`; ``ref_*`` is the
    competitor price the target was taken from (-1 competitor when none)."""

    target: I64
    base: I64  # before raise-back
    method: I64
    reason: I64
    ref_price: I64
    ref_comp: I64
    ref_age: I64
    raised_back: Bools


def choose_methods(
    strategy: I64,
    market: Market,
    has_cost: Bools,
    we_out: Bools,
    has_rule: Bools,
    cols: Mapping[str, I64],
) -> tuple[I64, I64]:
    """(method, reason) per row after the behaviours."""
    competitive = np.isin(strategy, COMPETITIVE)
    no_comp = competitive & (market.n_any == 0)
    all_out = competitive & (market.n_any > 0) & (market.n_in == 0)
    no_comp_method = np.array([METHODS.index(b) for b in NO_COMPETITORS])[cols["no_competitors"]]
    all_out_method = np.array([METHODS.index(b) for b in ALL_OUT_OF_STOCK])[
        cols["all_out_of_stock"]
    ]
    we_out_method = np.array([SKIP if b == "skip" else KEEP for b in WE_OUT_OF_STOCK])[
        cols["we_out_of_stock"]
    ]
    method = np.select([no_comp, all_out], [no_comp_method, all_out_method], strategy)
    reason = np.select(
        [no_comp, all_out], [int(Reason.NO_COMPETITORS), int(Reason.ALL_OUT_OF_STOCK)], 0
    )
    method = np.where(has_cost, method, KEEP)
    reason = np.where(has_cost, reason, int(Reason.NO_COST))
    method = np.where(we_out, we_out_method, method)
    reason = np.where(we_out, int(Reason.WE_OUT_OF_STOCK), reason)
    method = np.where(has_rule, method, SKIP)
    reason = np.where(has_rule, reason, int(Reason.NO_RULE))
    return method.astype(np.int64), reason.astype(np.int64)


def compute_targets(
    method: I64,
    reason: I64,
    market: Market,
    cost: I64,
    old: I64,
    has_old: Bools,
    ceiling: I64,
    cols: Mapping[str, I64],
) -> Targets:
    """The target per row for its method, then raise-back."""
    m = market
    beat_low = m.low_price - share_of(m.low_price, cols["beat_share"]) - cols["beat_amount"]
    beat_kth = m.kth_price - share_of(m.kth_price, cols["beat_share"]) - cols["beat_amount"]
    follow = m.low_price + share_of(m.low_price, cols["adjust_share"]) + cols["adjust_amount"]
    cost_plus = cost + share_of(cost, cols["markup"]) + cols["fixed_fee"]
    choices = [
        beat_low,
        m.low_price,
        m.median,
        m.mean,
        beat_kth,
        follow,
        cost_plus,
        old,
        ceiling,
        old,
    ]
    target = np.choose(method, choices)
    no_ceiling = (method == CEILING) & (ceiling >= 2**62)
    method = np.where(no_ceiling, KEEP, method)
    reason = np.where(no_ceiling, int(Reason.NO_CEILING), reason)
    target = np.where(no_ceiling, old, target)
    no_price = (method == KEEP) & ~has_old
    method = np.where(no_price, SKIP, method)
    reason = np.where(no_price, int(Reason.NO_PRICE), reason)
    is_kth = method == STRATEGIES.index("position")
    uses_low = np.isin(method, [0, 1, 5])
    ref_price = np.where(is_kth, m.kth_price, np.where(uses_low, m.low_price, 0))
    ref_comp = np.where(is_kth, m.kth_comp, np.where(uses_low, m.low_comp, -1))
    ref_age = np.where(is_kth, m.kth_age, np.where(uses_low, m.low_age, 0))
    base = target
    gap = cols["raise_back"]
    raise_back = (gap != OFF) & (method != SKIP) & (m.n_in > 0)
    raise_back &= target * DEN < m.low_price * (DEN - np.maximum(gap, 0))
    target = np.where(raise_back, m.low_price - 1, target)
    return Targets(
        target,
        base,
        method.astype(np.int64),
        reason.astype(np.int64),
        ref_price,
        ref_comp,
        ref_age,
        raise_back,
    )
