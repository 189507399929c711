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
    method: Codes,
    reason: Codes,
    market: Market,
    cost: I64,
    old: I64,
    has_old: Bools,
    ceiling: I64,
    cols: RuleParams,
) -> Targets:
    """The target per row for its method (each computed for its own rows only), then
    raise-back."""
    m, n = market, len(method)
    target = old.copy()  # keep and skip
    ref_price, ref_age = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    ref_comp = np.full(n, -1, dtype=np.int32)
    for code, rows in _rows_by_method(method):
        target[rows] = _target_of(code, rows, m, cost, ceiling, cols)
        if code in _REFERENCE:
            price, comp, age = _REFERENCE[code](m)
            ref_price[rows], ref_comp[rows], ref_age[rows] = price[rows], comp[rows], age[rows]
    no_ceiling = (method == CEILING) & (ceiling >= 2**62)
    method = np.where(no_ceiling, CODE(KEEP), method)
    reason = np.where(no_ceiling, CODE(Reason.NO_CEILING), reason)
    target[no_ceiling] = old[no_ceiling]
    no_price = (method == KEEP) & ~has_old
    method[no_price] = SKIP
    reason[no_price] = Reason.NO_PRICE
    raised, raise_back = _raise_back(target, method, m, cols.raise_back)
    return Targets(raised, target, method, reason, ref_price, ref_comp, ref_age, raise_back)


def _rows_by_method(method: Codes) -> list[tuple[Method, I64]]:
    """The rows of each method that prices from something (not keep or skip)."""
    order = np.argsort(method, kind="stable")  # int8 codes: a linear radix sort
    ends = np.cumsum(np.bincount(method, minlength=len(Method)))
    groups = []
    for code in Method:
        start = ends[code - 1] if code else 0
        if code not in (KEEP, SKIP) and ends[code] > start:
            groups.append((code, order[start : ends[code]]))
    return groups


def _at(values: Any, rows: I64) -> Any:
    """``values[rows]``, or the one value."""
    return values[rows] if np.ndim(values) else values


def _target_of(
    code: Method, rows: I64, m: Market, cost: I64, ceiling: I64, cols: RuleParams
) -> I64:
    """The target of ``rows``, all priced by ``code``."""
    if code in (Method.BEAT_LOWEST, Method.POSITION):
        price = (m.low_price if code == Method.BEAT_LOWEST else m.kth_price)[rows]
        beaten: I64 = (
            price - share_of(price, _at(cols.beat_share, rows)) - _at(cols.beat_amount, rows)
        )
        return beaten
    if code == Method.FOLLOW:
        low = m.low_price[rows]
        followed: I64 = (
            low + share_of(low, _at(cols.adjust_share, rows)) + _at(cols.adjust_amount, rows)
        )
        return followed
    if code == Method.COST_PLUS:
        base = cost[rows]
        plus: I64 = base + share_of(base, _at(cols.markup, rows)) + _at(cols.fixed_fee, rows)
        return plus
    plain = {
        Method.MATCH_LOWEST: m.low_price,
        Method.MATCH_MEDIAN: m.median,
        Method.MATCH_AVERAGE: m.mean,
        Method.CEILING: ceiling,
    }
    found: I64 = plain[code][rows]
    return found


_REFERENCE = {  # the competitor price a method's target was taken from
    Method.BEAT_LOWEST: lambda m: (m.low_price, m.low_comp, m.low_age),
    Method.MATCH_LOWEST: lambda m: (m.low_price, m.low_comp, m.low_age),
    Method.FOLLOW: lambda m: (m.low_price, m.low_comp, m.low_age),
    Method.POSITION: lambda m: (m.kth_price, m.kth_comp, m.kth_age),
}


def _raise_back(target: I64, method: Codes, m: Market, gap: Any) -> tuple[I64, Bools]:
    """A target cheaper than the cheapest competitor by more than ``gap`` goes up to
    just under it: (targets, which were raised)."""
    if np.ndim(gap) == 0 and gap == OFF:
        return target, np.zeros(len(target), dtype=bool)
    raise_back = (gap != OFF) & (method != SKIP) & (m.n_in > 0)
    raise_back &= target * DEN < m.low_price * (DEN - np.maximum(gap, 0))
    return np.where(raise_back, m.low_price - 1, target), raise_back
