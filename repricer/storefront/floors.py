"""Today's floor of each candidate under the pricing rules, for the pre-push re-check.

The floor is the pricing engine's own (:func:`repricer.pricing.guards.floor_and_ceiling`):
``max(cost x (1 + min_margin) + fixed_fee, min_price, MAP)`` with the rule each product
matches now and its current effective cost. Without any rule file there is no margin to
apply and :func:`rule_floors` returns ``None`` (the push still checks min_price, MAP and
cost); invalid rule files raise :class:`RulesError` like ``reprice`` does.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from repricer.config import Settings
from repricer.money import minor_digits
from repricer.pricing.guards import NO_CEILING, floor_and_ceiling
from repricer.pricing.params import assign_rules, rule_params, rule_table
from repricer.pricing.rules import load_rules


def rule_floors(settings: Settings, frame: pd.DataFrame) -> pd.DataFrame | None:
    """Columns ``rule_floor`` (Int64 minor units; NA without a comparable cost) and
    ``floor_rule`` (the matching rule's name) for ``frame``'s rows (columns sku, category,
    brand, tags, cost, cost_currency, currency, min_price, map_price, max_price)."""
    rules_dir = settings.pricing.rules_dir
    if not rules_dir.is_dir() or not any(rules_dir.glob("*.toml")):
        return None
    rules = load_rules(rules_dir).rules
    products = frame.reset_index(drop=True)
    index = assign_rules(products, rules)
    table = rule_table(rules, [], minor_digits(settings.pricing.currency))
    cols = rule_params(
        table,
        index,
        min_price=_ints(products["min_price"], 0),
        map_price=_ints(products["map_price"], 0),
        max_price=_ints(products["max_price"], int(NO_CEILING)),
    )
    comparable = products["cost_currency"].astype(object) == products["currency"]
    has_cost = (products["cost"].notna() & comparable).to_numpy(dtype=bool)
    cost = _ints(products["cost"].where(has_cost), 0)
    floor, _basis, _ceiling = floor_and_ceiling(cost, has_cost, cols)
    names = np.array([r.name for r in rules] + [""], dtype=object)[index]
    result = pd.DataFrame(
        {
            "rule_floor": pd.array(np.where(has_cost, floor, 0), dtype="Int64"),
            "floor_rule": names,
        },
        index=frame.index,
    )
    result.loc[~has_cost, "rule_floor"] = pd.NA
    return result


def _ints(series: pd.Series, fill: int) -> npt.NDArray[np.int64]:
    return np.asarray(series.astype("Int64").fillna(fill).to_numpy(dtype=np.int64), dtype=np.int64)
