"""Rules -> per-product parameter columns.

:func:`assign_rules` gives each product the index of the first rule whose ``match``
fits (or ``-1``); :func:`rule_table` turns the rules into small per-rule arrays that the
engine indexes with that column (``table.col("min_margin")[rule_idx]``), so strategies
and guards are whole-column arithmetic whatever the mix of rules. A loop runs over
rules, never over products. "Off" values are ``-1``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from repricer.exceptions import PricingError
from repricer.money import AmountError
from repricer.pricing.rule_values import rounding_step, to_minor_units
from repricer.pricing.rules import STRATEGIES, Rule

I64 = npt.NDArray[Any]  # int64 columns
Bools = npt.NDArray[Any]  # bool columns

NO_COMPETITORS = ("keep", "cost_plus")
ALL_OUT_OF_STOCK = ("keep", "cost_plus", "ceiling")
WE_OUT_OF_STOCK = ("skip", "keep")
OFF = -1


@dataclass(frozen=True)
class RuleTable:
    """Per-rule int64 columns (length rules + 1; the last row is "no rule") and the
    competitor filter ``allowed[rule, competitor]``."""

    columns: dict[str, I64]
    allowed: Bools
    competitors: list[str]

    def col(self, name: str) -> I64:
        return self.columns[name]


class RuleParams(Mapping[str, I64]):
    """Per-product parameter columns: ``table.col(name)[rule_idx]``, gathered on each
    access rather than all at once (a million products times ~25 parameters would
    hold 200 MB of int64 columns through a run), and per-product ``columns`` given as
    they are (the products' own min/MAP/max prices)."""

    def __init__(self, table: RuleTable, rule_idx: I64, columns: Mapping[str, I64]) -> None:
        self._table, self._rule_idx, self._columns = table, rule_idx, dict(columns)

    def __getitem__(self, name: str) -> I64:
        if name in self._columns:
            return self._columns[name]
        gathered: I64 = self._table.columns[name][self._rule_idx]
        return gathered

    def __iter__(self) -> Iterator[str]:
        return iter({**dict.fromkeys(self._table.columns), **self._columns})

    def __len__(self) -> int:
        return len(set(self._table.columns) | set(self._columns))


def rule_table(rules: list[Rule], competitors: list[str], digits: int) -> RuleTable:
    """Build the per-rule arrays; amounts become minor units of a currency with ``digits``."""
    rows = [_checked_row(rule, digits) for rule in rules]
    rows.append(_rule_row(Rule(name="(none)", strategy="keep"), digits))  # index -1: no rule
    columns = {key: np.array([row[key] for row in rows], dtype=np.int64) for key in rows[0]}
    allowed = np.zeros((len(rules) + 1, max(len(competitors), 1)), dtype=bool)
    for i, rule in enumerate(rules):
        names = [rule.competitor] if rule.strategy == "follow" else rule.competitors
        allowed[i, : len(competitors)] = [names is None or c in names for c in competitors]
    return RuleTable(columns, allowed, competitors)


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
        "strategy": STRATEGIES.index(rule.strategy),
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
    """Index of the first matching rule per product row, ``-1`` when none matches."""
    index = np.full(len(products), -1, dtype=np.int64)
    for i in reversed(range(len(rules))):
        index[_matches(products, rules[i])] = i
    return index


def _matches(products: pd.DataFrame, rule: Rule) -> Bools:
    mask = np.ones(len(products), dtype=bool)
    match = rule.match
    for column, patterns in (
        ("sku", match.sku),
        ("category", match.category),
        ("brand", match.brand),
    ):
        if patterns is not None:
            mask &= _match_values(
                products[column], patterns, lambda v, rx: rx.match(str(v)) is not None
            )
    if match.tag is not None:
        tags = products["tags"].reset_index(drop=True).explode()  # index: the product row
        hit = _match_values(tags, match.tag, lambda v, rx: rx.match(str(v)) is not None)
        tagged = np.zeros(len(products), dtype=bool)
        tagged[tags.index.to_numpy()[hit]] = True
        mask &= tagged
    return mask


def _match_values(
    values: pd.Series, patterns: list[str], test: Callable[[Any, re.Pattern[str]], bool]
) -> Bools:
    """Test each distinct value once and spread the answer by the factorized codes."""
    codes, uniques = pd.factorize(values)
    regex = re.compile(_regex(patterns))
    hits = np.array([test(value, regex) for value in uniques] + [False], dtype=bool)
    return hits[codes]  # code -1 (missing) takes the trailing False


def _regex(patterns: list[str]) -> str:
    return "(?i)(?:" + "|".join(fnmatch.translate(p) for p in patterns) + ")"
