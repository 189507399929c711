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

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from repricer.pricing.codes import CODE, METHOD_NAMES, Method, Reason
from repricer.pricing.guards import share_of
from repricer.pricing.market import Market
from repricer.pricing.params import (
    ALL_OUT_OF_STOCK,
    NO_COMPETITORS,
    OFF,
    WE_OUT_OF_STOCK,
    RuleParams,
)
from repricer.pricing.rule_values import DEN

I64 = npt.NDArray[Any]  # int64 columns
Codes = npt.NDArray[Any]  # int8 code columns
Bools = npt.NDArray[Any]  # bool columns

METHODS: tuple[str, ...] = tuple(METHOD_NAMES)
CEILING, SKIP, KEEP, COST_PLUS = Method.CEILING, Method.SKIP, Method.KEEP, Method.COST_PLUS
COMPETITIVE = [m for m in Method if m < Method.COST_PLUS]
_NO_COMP_METHOD = np.array([Method[b.upper()] for b in NO_COMPETITORS], dtype=CODE)
_ALL_OUT_METHOD = np.array([Method[b.upper()] for b in ALL_OUT_OF_STOCK], dtype=CODE)
_WE_OUT_METHOD = np.array([Method[b.upper()] for b in WE_OUT_OF_STOCK], dtype=CODE)


@dataclass(frozen=True)
class Targets:
    """``method``: :class:`~repricer.pricing.codes.Method`, ``reason``:
    :class:`~repricer.pricing.codes.Reason` (int8 codes); ``target`` and ``base``
    (before raise-back) int64 minor units; ``ref_*`` the competitor price the target
    was taken from (int64 minor units, competitor index -1 when none, age seconds)."""

    target: I64
    base: I64  # before raise-back
    method: Codes
    reason: Codes
    ref_price: I64
    ref_comp: Any
    ref_age: I64
    raised_back: Bools


def choose_methods(
    market: Market, has_cost: Bools, we_out: Bools, has_rule: Bools, cols: RuleParams
) -> tuple[Codes, Codes]:
    """(method, reason) per row after the behaviours."""
    strategy = cols.strategy
    competitive = strategy < Method.COST_PLUS
    no_comp = competitive & (market.n_any == 0)
    all_out = competitive & (market.n_any > 0) & (market.n_in == 0)
    method = np.select(
        [no_comp, all_out],
        [_NO_COMP_METHOD[cols.no_competitors], _ALL_OUT_METHOD[cols.all_out_of_stock]],
        strategy,
    ).astype(CODE)
    reason = np.select(
        [no_comp, all_out], [CODE(Reason.NO_COMPETITORS), CODE(Reason.ALL_OUT_OF_STOCK)], CODE(0)
    ).astype(CODE)
    no_cost = ~has_cost
    method[no_cost] = Method.KEEP
    reason[no_cost] = Reason.NO_COST
    method = np.where(we_out, _WE_OUT_METHOD[cols.we_out_of_stock], method).astype(CODE)
    reason[we_out] = Reason.WE_OUT_OF_STOCK
    no_rule = ~has_rule
    method[no_rule] = Method.SKIP
    reason[no_rule] = Reason.NO_RULE
    return method, reason


def compute_targets(
    method: I64,
    reason: I64,
    market: Market,
    cost: I64,
    old: I64,
    has_old: Bools,
    ceiling: I64,
    cols: RuleParams,
) -> Targets:
    """The target per row for its method, then raise-back."""
    m = market
    beat_low = m.low_price - share_of(m.low_price, cols.beat_share) - cols.beat_amount
    beat_kth = m.kth_price - share_of(m.kth_price, cols.beat_share) - cols.beat_amount
    follow = m.low_price + share_of(m.low_price, cols.adjust_share) + cols.adjust_amount
    cost_plus = cost + share_of(cost, cols.markup) + cols.fixed_fee
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
    del choices, beat_low, beat_kth, follow, cost_plus
    no_ceiling = (method == CEILING) & (ceiling >= 2**62)
    method = np.where(no_ceiling, CODE(KEEP), method)
    reason = np.where(no_ceiling, CODE(Reason.NO_CEILING), reason)
    target[no_ceiling] = old[no_ceiling]
    no_price = (method == KEEP) & ~has_old
    method[no_price] = SKIP
    reason[no_price] = Reason.NO_PRICE
    is_kth = method == Method.POSITION
    uses_low = (
        (method == Method.BEAT_LOWEST) | (method == Method.MATCH_LOWEST) | (method == Method.FOLLOW)
    )
    ref_price = np.where(is_kth, m.kth_price, np.where(uses_low, m.low_price, 0))
    ref_comp = np.where(is_kth, m.kth_comp, np.where(uses_low, m.low_comp, -1))
    ref_age = np.where(is_kth, m.kth_age, np.where(uses_low, m.low_age, 0))
    gap = cols.raise_back
    raise_back = (gap != OFF) & (method != SKIP) & (m.n_in > 0)
    raise_back &= target * DEN < m.low_price * (DEN - np.maximum(gap, 0))
    raised = np.where(raise_back, m.low_price - 1, target)
    return Targets(raised, target, method, reason, ref_price, ref_comp, ref_age, raise_back)
