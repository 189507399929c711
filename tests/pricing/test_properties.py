"""Property tests over random catalogs, rules and observations: the guards always hold,
and the vectorised engine agrees with the per-product reference implementation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repricer.money import minor_digits
from repricer.pricing.rule_values import DEN, rounding_step
from repricer.pricing.rules import STRATEGIES, Rule
from tests.pricing.frames import NOW, product, run
from tests.pricing.reference import decide_one

COMPETITORS = ["a", "b", "c", "d"]
OFF = st.just("none")


def _percent(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda v: f"{v}%")


@st.composite
def rule_dicts(draw: st.DrawFn, name: str) -> dict[str, Any]:
    strategy = draw(st.sampled_from(STRATEGIES))
    values: dict[str, Any] = {
        "name": name,
        "strategy": strategy,
        "min_margin": draw(_percent(0, 40)),
        "fixed_fee": draw(st.integers(0, 300)),
        "max_markup": draw(OFF | _percent(30, 300)),
        "ceiling": draw(OFF | st.integers(100, 8000).map(lambda v: f"{v} RUB")),
        "max_change": draw(OFF | _percent(1, 40)),
        "max_change_action": draw(st.sampled_from(["clamp", "approve"])),
        "rounding": draw(
            st.sampled_from(["none", "whole", "ends_in_9", "ends_in_90", "ends_in_99", "step_10"])
        ),
        "min_delta": draw(OFF | st.sampled_from(["0.5%", "2%", "5 RUB"])),
        "cooldown": draw(OFF | st.sampled_from(["3h", "24h"])),
        "stale_after": draw(st.sampled_from(["2h", "24h", "48h"])),
        "no_competitors": draw(st.sampled_from(["keep", "cost_plus"])),
        "all_out_of_stock": draw(st.sampled_from(["ceiling", "keep", "cost_plus"])),
        "we_out_of_stock": draw(st.sampled_from(["skip", "keep"])),
        "raise_back": draw(OFF | _percent(2, 30)),
        "markup": draw(OFF | _percent(0, 100)),
        "beat_by": draw(st.sampled_from(["1%", "0%", "50 RUB", "3.5%"])),
        "rank": draw(st.integers(1, 4)),
        "adjust": draw(st.sampled_from([0, "-3%", "+100 RUB", "2%"])),
        "include_out_of_stock": draw(st.booleans()),
    }
    if strategy == "follow":
        values["competitor"] = draw(st.sampled_from(COMPETITORS))
    if draw(st.booleans()):
        values["competitors"] = draw(
            st.lists(st.sampled_from(COMPETITORS), min_size=1, max_size=3, unique=True)
        )
    return values


@st.composite
def rule_lists(draw: st.DrawFn) -> list[Rule]:
    first = draw(rule_dicts("first"))
    first["match"] = draw(
        st.sampled_from([{"category": "c1"}, {"sku": "SKU-1*"}, {"tag": "t"}, {"brand": "B*"}])
    )
    rules = [Rule(**first)]
    if draw(st.integers(0, 9)):  # usually a fallback rule; sometimes products match none
        rules.append(Rule(**draw(rule_dicts("rest"))))
    return rules


def _rare_none(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), values, values, values, values)


@st.composite
def catalogs(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Prices around one market level per product, so that every guard gets its turn."""
    products, observations = [], []
    for pid in range(1, draw(st.integers(1, 12)) + 1):
        level = draw(st.integers(500, 300_000))

        def near(low: int, high: int, level: int = level) -> st.SearchStrategy[int]:
            return st.integers(low, high).map(lambda pct: max(1, level * pct // 100))

        hours = draw(st.none() | st.floats(0, 48))
        products.append(
            product(
                pid,
                price=draw(_rare_none(near(80, 125))),
                cost=draw(_rare_none(near(50, 100))),
                stock=draw(st.sampled_from([None, 5, 5, 0])),
                supplier_available=draw(st.sampled_from([None, True, True, False])),
                map_price=draw(st.none() | st.none() | near(60, 100)),
                min_price=draw(st.none() | st.none() | near(60, 100)),
                max_price=draw(st.none() | st.none() | near(100, 200)),
                category=draw(st.sampled_from([None, "c1", "c2"])),
                brand=draw(st.sampled_from([None, "Bosch", "Acme"])),
                tags=draw(st.sampled_from([None, [], ["t"], ["x", "t"]])),
                currency=draw(st.sampled_from(["RUB"] * 15 + ["USD"])),
                last_change_at=None if hours is None else NOW - timedelta(hours=hours),
            )
        )
        for _ in range(draw(st.integers(0, 5))):
            observations.append(
                {
                    "product_id": pid,
                    "competitor": draw(st.sampled_from(COMPETITORS)),
                    "price": draw(near(85, 115)),
                    "in_stock": draw(st.sampled_from([True, True, True, False])),
                    "observed_at": NOW - timedelta(seconds=draw(st.integers(-3600, 60 * 3600))),
                }
            )
    return products, observations


def _opt(value: Any) -> Any:
    return None if pd.isna(value) else (value if isinstance(value, str) else int(value))


def _split(text: str) -> set[str]:
    return {part for part in text.split(",") if part}


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_lists(), catalogs())
def test_guards_hold_and_engine_matches_reference(
    rules: list[Rule], catalog: tuple[list[dict[str, Any]], list[dict[str, Any]]]
) -> None:
    products, observations = catalog
    decisions = run(products, observations, rules)
    by_rule = {r.name: r for r in rules}
    for p, row in zip(products, decisions.to_dict("records"), strict=True):
        expected = decide_one(
            p, [o for o in observations if o["product_id"] == p["product_id"]], rules, NOW, "RUB"
        )
        got = (
            _opt(row["new_price"]), _opt(row["floor"]), _opt(row["ceiling"]), row["status"],
            _opt(row["reference_price"]), _opt(row["reference_competitor"]), _opt(row["rule"]),
            _split(row["guards"]), _split(row["flags"]),
        )  # fmt: skip
        want = (
            expected.new_price, expected.floor, expected.ceiling, expected.status,
            expected.reference_price, expected.reference_competitor, expected.rule,
            set(expected.guards), set(expected.flags),
        )  # fmt: skip
        assert got == want, (row["explanation"], got, want)
        if row["status"] != "skipped":
            _check_invariants(p, row, by_rule[row["rule"]])


def _check_invariants(p: dict[str, Any], row: dict[str, Any], rule: Rule) -> None:
    new, old = int(row["new_price"]), p["price"]
    assert new >= 1
    if pd.notna(row["floor"]):
        assert new >= row["floor"]
    assert new >= (p["map_price"] or 0) and new >= (p["min_price"] or 0)
    if pd.notna(row["ceiling"]):
        assert new <= row["ceiling"]
    if old is not None and rule.max_change is not None and row["status"] != "needs_approval":
        assert abs(new - old) <= old * rule.max_change // DEN
    modulus, remainder = rounding_step(rule.rounding, minor_digits("RUB"))
    if new != old and "no_ending" not in row["flags"]:
        assert new % modulus == remainder
    if row["status"] == "unchanged":
        assert new == old
