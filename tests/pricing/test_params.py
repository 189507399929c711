"""Rules -> per-product parameters: rule assignment by tags (lists grouped by object
identity), shared parameters kept as one value, and the method codes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from repricer.pricing.codes import Method
from repricer.pricing.params import assign_rules, rule_params, rule_table
from repricer.pricing.rules import STRATEGIES
from tests.pricing.frames import rules

RULES = rules(
    """
    [[rule]]
    name = "tagged"
    match = { tag = "sale*" }
    strategy = "match_lowest"
    min_margin = "5%"

    [[rule]]
    name = "rest"
    strategy = "keep"
    min_margin = "5%"
    """
)


def test_tags_match_by_content_whether_lists_are_shared_or_not() -> None:
    shared = ["new", "sale-1"]
    tags = [shared, None, shared, ["sale-2"], [], ["x", "SALE"], [None], "sale", np.nan, ("a",)]
    products = pd.DataFrame({"tags": pd.Series(tags, dtype=object)})
    for column in ("sku", "category", "brand"):
        products[column] = None
    got = assign_rules(products, RULES)
    assert got.tolist() == [0, 1, 0, 0, 1, 0, 1, 0, 1, 1]


def test_a_parameter_all_rules_in_use_share_is_one_value() -> None:
    table = rule_table(RULES, [], 2)
    zeros = np.zeros(3, dtype=np.int64)
    both = rule_params(
        table, np.array([0, 1, 0]), min_price=zeros, map_price=zeros, max_price=zeros
    )
    assert np.ndim(both.min_margin) == 0 and int(both.min_margin) == 50_000
    assert both.strategy.tolist() == [Method.MATCH_LOWEST, Method.KEEP, Method.MATCH_LOWEST]
    one = rule_params(table, np.array([1, 1, 1]), min_price=zeros, map_price=zeros, max_price=zeros)
    assert np.ndim(one.strategy) == 0 and int(one.strategy) == Method.KEEP


def test_method_codes_follow_the_strategies() -> None:
    names = [method.name.lower() for method in Method]
    assert names == [*STRATEGIES, "ceiling", "skip"]
