"""Rules -> per-product parameter columns.

:func:`assign_rules` gives each product the index of the first rule whose ``match``
fits (or ``-1``); :func:`rule_table` turns the rules into small per-rule arrays
(:class:`RuleTable`) and :func:`rule_params` gives each product its rule's values
(:class:`RuleParams`), so strategies and guards are whole-column arithmetic whatever the
mix of rules. A loop runs over rules, never over products. "Off" values are ``-1``.
"""

from __future__ import annotations

import ctypes
import dataclasses
import fnmatch
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from repricer.exceptions import PricingError
from repricer.money import AmountError
from repricer.pricing.codes import Method
from repricer.pricing.rule_values import rounding_step, to_minor_units
from repricer.pricing.rules import Rule

I64 = npt.NDArray[Any]  # int64 columns
Bools = npt.NDArray[Any]  # bool columns

NO_COMPETITORS = ("keep", "cost_plus")
ALL_OUT_OF_STOCK = ("keep", "cost_plus", "ceiling")
WE_OUT_OF_STOCK = ("skip", "keep")
OFF = -1


@dataclass(frozen=True)
class RuleTable:
    """Per-rule int64 columns, one entry per rule plus a last one for "no rule" (so a
    product's rule index, -1 without a rule, picks its row), and the competitor filter
    ``allowed[rule, competitor]``. Shares are x :data:`DEN`, amounts minor units,
    durations seconds; "off" is :data:`OFF`."""

    strategy: I64  # :class:`repricer.pricing.codes.Method` of the rule's strategy
    min_margin: I64  # share
    fixed_fee: I64  # amount
    max_markup: I64  # share or OFF
    rule_ceiling: I64  # amount or OFF
    max_change: I64  # share or OFF
    approve_change: I64  # 1: over max_change needs approval; 0: clamp
    round_mod: I64  # ending: prices p with p % round_mod == round_rem
    round_rem: I64
    min_delta_share: I64  # share
    min_delta_amount: I64  # amount
    cooldown: I64  # seconds or OFF
    stale_after: I64  # seconds
    no_competitors: I64  # index into NO_COMPETITORS
    all_out_of_stock: I64  # index into ALL_OUT_OF_STOCK
    we_out_of_stock: I64  # index into WE_OUT_OF_STOCK
    raise_back: I64  # share or OFF
    markup: I64  # share (cost_plus)
    beat_share: I64  # share
    beat_amount: I64  # amount (signed)
    rank: I64  # k of the k-th lowest (position)
    adjust_share: I64  # share (signed, follow)
    adjust_amount: I64  # amount (signed, follow)
    include_oos: I64  # 1: out-of-stock competitors count
    allowed: Bools
    competitors: list[str]


PARAMETERS = tuple(f.name for f in dataclasses.fields(RuleTable))[:-2]


@dataclass(frozen=True)
class RuleParams:
    """Each product's rule parameters (the fields of :class:`RuleTable`, same units)
    and its own price bounds. A parameter all rules in use share is that one int64
    value, otherwise an int64 column gathered by rule index; both broadcast the same
    in column arithmetic, and a catalog under rules that mostly share their defaults
    carries few columns."""

    strategy: Any
    min_margin: Any
    fixed_fee: Any
    max_markup: Any
    rule_ceiling: Any
    max_change: Any
    approve_change: Any
    round_mod: Any
    round_rem: Any
    min_delta_share: Any
    min_delta_amount: Any
    cooldown: Any
    stale_after: Any
    no_competitors: Any
    all_out_of_stock: Any
    we_out_of_stock: Any
    raise_back: Any
    markup: Any
    beat_share: Any
    beat_amount: Any
    rank: Any
    adjust_share: Any
    adjust_amount: Any
    include_oos: Any
    min_price: I64  # the product's own (0: none)
    map_price: I64  # (0: none)
    max_price: I64  # (NO_CEILING: none)


def rule_params(
    table: RuleTable, rule_idx: I64, *, min_price: I64, map_price: I64, max_price: I64
) -> RuleParams:
    """The parameters of each product's rule (``rule_idx``: -1 for none)."""
    present = np.zeros(len(table.strategy), dtype=bool)
    present[rule_idx] = True
    values = {name: _per_product(getattr(table, name), present, rule_idx) for name in PARAMETERS}
    for name in _SMALL:  # codes and counts: a narrow column when one is gathered
        values[name] = values[name].astype(np.int8) if np.ndim(values[name]) else values[name]
    return RuleParams(**values, min_price=min_price, map_price=map_price, max_price=max_price)


_SMALL = ("strategy", "no_competitors", "all_out_of_stock", "we_out_of_stock", "include_oos")


def _per_product(column: I64, present: Bools, rule_idx: I64) -> Any:
    used = column[present]
    if len(used) and bool((used == used[0]).all()):
        return used[0]
    return column[rule_idx]


def rule_table(rules: list[Rule], competitors: list[str], digits: int) -> RuleTable:
    """Build the per-rule arrays; amounts become minor units of a currency with ``digits``."""
    rows = [_checked_row(rule, digits) for rule in rules]
    rows.append(_rule_row(Rule(name="(none)", strategy="keep"), digits))  # index -1: no rule
    columns = {key: np.array([row[key] for row in rows], dtype=np.int64) for key in rows[0]}
    allowed = np.zeros((len(rules) + 1, max(len(competitors), 1)), dtype=bool)
    for i, rule in enumerate(rules):
        names = [rule.competitor] if rule.strategy == "follow" else rule.competitors
        allowed[i, : len(competitors)] = [names is None or c in names for c in competitors]
    return RuleTable(**columns, allowed=allowed, competitors=competitors)


def _checked_row(rule: Rule, digits: int) -> dict[str, int]:
    try:
        return _rule_row(rule, digits)
    except AmountError as exc:  # e.g. fixed_fee = 0.001 in a two-decimal currency
        raise PricingError(f"rule {rule.name!r}: {exc}") from None


def _rule_row(rule: Rule, digits: int) -> dict[str, int]:
    def minor(value: Decimal | None) -> int:
        return OFF if value is None else to_minor_units(value, digits)

    def off(value: int | None) -> int:
        return OFF if value is None else value

    modulus, remainder = rounding_step(rule.rounding, digits)
    delta = rule.min_delta
    return {
        "strategy": Method[rule.strategy.upper()],
        "min_margin": rule.min_margin,
        "fixed_fee": minor(rule.fixed_fee),
        "max_markup": off(rule.max_markup),
        "rule_ceiling": minor(rule.ceiling),
        "max_change": off(rule.max_change),
        "approve_change": int(rule.max_change_action == "approve"),
        "round_mod": modulus,
        "round_rem": remainder,
        "min_delta_share": abs(delta.share) if delta else 0,
        "min_delta_amount": abs(minor(delta.amount)) if delta else 0,
        "cooldown": off(rule.cooldown),
        "stale_after": rule.stale_after,
        "no_competitors": NO_COMPETITORS.index(rule.no_competitors),
        "all_out_of_stock": ALL_OUT_OF_STOCK.index(rule.all_out_of_stock),
        "we_out_of_stock": WE_OUT_OF_STOCK.index(rule.we_out_of_stock),
        "raise_back": off(rule.raise_back),
        "markup": rule.min_margin if rule.markup is None else rule.markup,
        "beat_share": rule.beat_by.share,
        "beat_amount": _signed_minor(rule.beat_by.amount, digits),
        "rank": rule.rank,
        "adjust_share": rule.adjust.share,
        "adjust_amount": _signed_minor(rule.adjust.amount, digits),
        "include_oos": int(rule.include_out_of_stock),
    }


def _signed_minor(amount: Decimal, digits: int) -> int:
    return to_minor_units(amount, digits)


def assign_rules(products: pd.DataFrame, rules: list[Rule]) -> I64:
    """Index of the first matching rule per product row, ``-1`` when none matches.
    Each column's distinct values are found once and each is tested once per rule."""
    index = np.full(len(products), -1, dtype=np.int64)
    distinct: dict[str, tuple[I64, list[Any]]] = {}
    for i in reversed(range(len(rules))):
        index[_matches(products, rules[i], distinct)] = i
    return index


def _matches(
    products: pd.DataFrame, rule: Rule, distinct: dict[str, tuple[I64, list[Any]]]
) -> Bools:
    mask = np.ones(len(products), dtype=bool)
    match = rule.match
    for column, patterns in (
        ("sku", match.sku),
        ("category", match.category),
        ("brand", match.brand),
        ("tags", match.tag),
    ):
        if patterns is None:
            continue
        if column not in distinct:
            distinct[column] = (_tag_codes if column == "tags" else _codes)(products[column])
        codes, uniques = distinct[column]
        regex = re.compile(_regex(patterns))
        test = _any_tag if column == "tags" else _one_value
        hits = np.array([test(value, regex) for value in uniques] + [False], dtype=bool)
        mask &= hits[codes]  # code -1 (missing) takes the trailing False
    return mask


def _codes(values: pd.Series) -> tuple[I64, list[Any]]:
    """A code per row and the distinct values they index (-1: missing)."""
    codes, uniques = pd.factorize(values)
    return codes, list(uniques)


def _tag_codes(values: pd.Series) -> tuple[I64, list[Any]]:
    """Tag lists are not hashable: rows holding the same list object (as lists parsed
    once per distinct stored text are) share a code, and each object is tested once."""
    objects = np.ascontiguousarray(values.to_numpy(dtype=object))
    codes, _ = pd.factorize(object_ids(objects))
    first = np.empty(int(codes.max()) + 1 if len(codes) else 0, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)  # the first row of each code
    return codes, list(objects[first])


def object_ids(objects: npt.NDArray[np.object_]) -> I64:
    """The identity of each object of a contiguous object array, without a Python loop:
    such an array stores one object pointer per row, read here as integers (a copy, so
    nothing refers to the objects once ``objects`` is gone)."""
    if len(objects) == 0:
        return np.zeros(0, dtype=np.intp)
    words = (ctypes.c_ssize_t * len(objects)).from_address(objects.ctypes.data)
    return np.ctypeslib.as_array(words).copy()


def _one_value(value: Any, regex: re.Pattern[str]) -> bool:
    return regex.match(str(value)) is not None


def _any_tag(tags: Any, regex: re.Pattern[str]) -> bool:
    """A product's tags (a list, one tag, or a missing value) match when one does."""
    if not pd.api.types.is_list_like(tags):
        tags = [tags]
    return any(not pd.isna(tag) and regex.match(str(tag)) is not None for tag in tags)


def _regex(patterns: list[str]) -> str:
    return "(?i)(?:" + "|".join(fnmatch.translate(p) for p in patterns) + ")"
