"""Re-check approved prices against the catalog and today's cost right before a push.

A feed sync or a catalog import may have happened since the decision, so a price that
was fine then can break a guard now. :func:`hold_reasons` is column arithmetic over the
whole batch of candidates and returns, per change, why it must be held (or ``None``):

- no new price, or a price of zero or less;
- below ``products.min_price``, below ``products.map_price``, above ``products.max_price``;
- below the current effective cost (cheapest in-stock supplier offer), or the cost is in
  another currency than the price and cannot be compared;
- below the rule floor (cost x (1 + min_margin) + fixed_fee of the rule the product matches
  now, see :mod:`repricer.storefront.floors`), when ``frame`` has a ``rule_floor`` column.
"""

from __future__ import annotations

import pandas as pd

from repricer.money import format_money

# (column compared, comparison, message) — new_price must NOT satisfy the comparison.
_BOUNDS = (
    ("min_price", "lt", "below min_price"),
    ("map_price", "lt", "below MAP"),
    ("max_price", "gt", "above max_price"),
    ("cost", "lt", "below the current cost"),
    ("rule_floor", "lt", "below the floor"),
)


def hold_reasons(frame: pd.DataFrame) -> pd.Series:
    """Per row of ``frame`` (columns new_price, currency, min_price, map_price,
    max_price, cost, cost_currency; money nullable Int64 minor units) the reason to hold
    it, or ``None``. The first broken guard in the order above is reported."""
    new = frame["new_price"].astype("Int64")
    reason = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    cost_currency = frame["cost_currency"].astype(object)
    comparable = cost_currency.isna() | (cost_currency == frame["currency"])
    other = (frame["cost"].notna() & ~comparable).astype(bool)
    reason[other] = "current cost is in another currency: " + cost_currency[other].astype(str)
    for column, op, text in reversed(_BOUNDS):
        if column not in frame:
            continue
        bound = frame[column].astype("Int64")
        if column == "cost":
            bound = bound.where(comparable)
        broken = ((new < bound) if op == "lt" else (new > bound)).fillna(False).astype(bool)
        rows = broken[broken].index  # only the (few) broken rows get a message
        reason[rows] = [
            f"{text} {format_money(int(bound[i]), str(frame.at[i, 'currency']))}"
            + (f" of rule {frame.at[i, 'floor_rule']!r}" if column == "rule_floor" else "")
            for i in rows
        ]
    reason[(new.isna() | (new.fillna(0) <= 0)).astype(bool)] = "no valid new price"
    return reason
