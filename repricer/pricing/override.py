"""Bounds of a reviewer's price override, computed as the rule decision computed them.

A reviewer may replace the price a run proposed, but not step outside what the rules
allow: :func:`override_bounds` runs :func:`repricer.pricing.guards.floor_and_ceiling`
(the engine's own floor and ceiling: cost x (1 + min_margin) + fixed_fee, min_price,
MAP; max_price, max_markup, the rule ceiling) on the change's stored inputs with the
run's stored rules, and :func:`check_override` refuses a price under the floor or over
the ceiling with the bound and what it came from. Rounding, max change, min delta and
cooldown are the engine's preferences, not limits: a human decision overrides them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from repricer.exceptions import ReviewError
from repricer.money import format_money, minor_digits
from repricer.pricing.explain_text import share_text
from repricer.pricing.guards import NO_CEILING, floor_and_ceiling
from repricer.pricing.params import assign_rules, rule_params, rule_table
from repricer.pricing.rules import Rule, parse_rules
from repricer.pricing.run_inputs import load_run_inputs

BASIS = ("none", "cost", "min price", "MAP")


@dataclass(frozen=True)
class OverrideBounds:
    """The allowed window of one change, minor units of ``currency``. ``floor`` 0 and
    ``ceiling`` None mean no bound; ``basis`` says what set the floor."""

    currency: str
    floor: int
    basis: str
    ceiling: int | None
    cost: int | None
    rule: str | None
    min_margin: int = 0

    def describe_floor(self) -> str:
        text = format_money(self.floor, self.currency)
        if self.basis == "cost":
            margin = share_text(self.min_margin)
            return f"{text} (cost {format_money(self.cost, self.currency)} + {margin})"
        return f"{text} ({self.basis})"


def override_bounds(
    change: dict[str, Any], rules_texts: dict[str, str] | None, currency: str
) -> OverrideBounds:
    """Bounds for ``change`` (a price_changes row as a dict: sku, currency, cost, floor,
    ceiling, inputs) under the run's rule files ``rules_texts`` (name -> text). A run
    stored without its rules falls back to the floor and ceiling the run recorded."""
    rules = _rules(rules_texts)
    inputs = change.get("inputs") or {}
    if not rules or not inputs:
        return _recorded(change)
    product = pd.DataFrame([{"sku": change["sku"], **inputs}])
    for column in ("category", "brand"):
        product[column] = product.get(column, pd.Series([None]))
    if "tags" not in product or product["tags"].isna().all():
        product["tags"] = [[]]
    index = assign_rules(product, rules)
    table = rule_table(rules, [], minor_digits(currency))
    cols = rule_params(
        table,
        index,
        min_price=_one(inputs.get("min_price"), 0),
        map_price=_one(inputs.get("map_price"), 0),
        max_price=_one(inputs.get("max_price"), int(NO_CEILING)),
    )
    cost = inputs.get("cost")
    floor, basis, ceiling = floor_and_ceiling(_one(cost, 0), np.array([cost is not None]), cols)
    rule = rules[int(index[0])].name if index[0] >= 0 else None
    return OverrideBounds(
        currency=change["currency"],
        floor=int(floor[0]),
        basis=BASIS[int(basis[0])],
        ceiling=None if int(ceiling[0]) >= int(NO_CEILING) else int(ceiling[0]),
        cost=None if cost is None else int(cost),
        rule=rule,
        min_margin=int(table.min_margin[index[0]]),
    )


def check_override(bounds: OverrideBounds, price: int, *, label: str) -> None:
    """Raise ReviewError naming ``label`` and the bound when ``price`` is not allowed."""
    shown = format_money(price, bounds.currency)
    if price <= 0:
        raise ReviewError(f"{label}: the price must be positive (got {shown})")
    if price < bounds.floor:
        raise ReviewError(f"{label}: {shown} is below the floor {bounds.describe_floor()}")
    if bounds.ceiling is not None and price > bounds.ceiling:
        ceiling = format_money(bounds.ceiling, bounds.currency)
        raise ReviewError(f"{label}: {shown} is above the ceiling {ceiling}")


def _rules(texts: dict[str, str] | None) -> list[Rule]:
    rules: list[Rule] = []
    for name in sorted(texts or {}):
        rules.extend(parse_rules((texts or {})[name], Path(name)))
    return rules


def _one(value: Any, fill: int) -> Any:
    return np.array([fill if value is None else int(value)], dtype=np.int64)


def _recorded(change: dict[str, Any]) -> OverrideBounds:
    floor = change.get("floor") or 0
    return OverrideBounds(
        currency=change["currency"],
        floor=int(floor),
        basis="recorded floor" if floor else "none",
        ceiling=change.get("ceiling"),
        cost=change.get("cost"),
        rule=change.get("rule"),
    )


def product_inputs(conn: Connection, run_id: int, product_id: int) -> dict[str, Any]:
    """What run ``run_id`` knew of one product (cost, bounds, category, brand, tags),
    from the run's compact inputs; empty when the run stored none."""
    stored = load_run_inputs(conn, run_id)
    if stored is None:
        return {}
    products = stored[0]
    found = products[products["product_id"] == product_id]
    if found.empty:
        return {}
    row = found.iloc[0].to_dict()
    return {str(k): (None if _missing(v) else (int(v) if isinstance(v, np.integer) else v))
            for k, v in row.items()}  # fmt: skip


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list (tags) is never missing
        return False
