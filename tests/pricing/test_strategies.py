"""Table-driven cases per strategy and behaviour (no guards in the way: margin 0, no
rounding, no max change)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.pricing.frames import obs, one

BASE = """
[defaults]
min_margin = 0
"""
MARKET = [obs("citilink", 134900), obs("dns", 140000), obs("ozon", 150000)]

# (id, rule lines, product overrides, observations, new_price, reference competitor, status)
STRATEGY_CASES: list[
    tuple[str, str, dict[str, Any], list[dict[str, Any]], int | None, str | None, str]
] = [
    (
        "beat-lowest-percent",
        'strategy = "beat_lowest"\nbeat_by = "1%"',
        {},
        MARKET,
        133551,
        "citilink",
        "proposed",
    ),
    (
        "beat-lowest-amount",
        'strategy = "beat_lowest"\nbeat_by = "50 RUB"',
        {},
        MARKET,
        129900,
        "citilink",
        "proposed",
    ),
    ("match-lowest", 'strategy = "match_lowest"', {}, MARKET, 134900, "citilink", "proposed"),
    ("match-median-odd", 'strategy = "match_median"', {}, MARKET, 140000, None, "proposed"),
    (
        "match-median-even",
        'strategy = "match_median"',
        {},
        [obs("a", 120000), obs("b", 130001)],
        125001,
        None,
        "proposed",
    ),
    (
        "match-average",
        'strategy = "match_average"',
        {},
        [obs("a", 100000), obs("b", 100001), obs("c", 100001)],
        100001,
        None,
        "proposed",
    ),
    (
        "position-2",
        'strategy = "position"\nrank = 2\nbeat_by = "1 RUB"',
        {},
        MARKET,
        139900,
        "dns",
        "proposed",
    ),
    (
        "position-beyond-market",
        'strategy = "position"\nrank = 5\nbeat_by = "1 RUB"',
        {},
        MARKET,
        149900,
        "ozon",
        "proposed",
    ),
    (
        "follow-minus-2pct",
        'strategy = "follow"\ncompetitor = "dns"\nadjust = "-2%"',
        {},
        MARKET,
        137200,
        "dns",
        "proposed",
    ),
    (
        "follow-plus-amount",
        'strategy = "follow"\ncompetitor = "dns"\nadjust = "+100 RUB"',
        {},
        MARKET,
        150000,
        "dns",
        "unchanged",
    ),
    ("cost-plus", 'strategy = "cost_plus"\nmarkup = "30%"', {}, MARKET, 130000, None, "proposed"),
    (
        "cost-plus-fee",
        'strategy = "cost_plus"\nmarkup = "30%"\nfixed_fee = "100 RUB"',
        {},
        MARKET,
        140000,
        None,
        "proposed",
    ),
    ("keep", 'strategy = "keep"', {}, MARKET, 150000, None, "unchanged"),
    (
        "subset",
        'strategy = "beat_lowest"\ncompetitors = ["dns"]',
        {},
        MARKET,
        138600,
        "dns",
        "proposed",
    ),
    (
        "out-of-stock-ignored",
        'strategy = "beat_lowest"',
        {},
        [obs("citilink", 120000, in_stock=False), obs("dns", 140000)],
        138600,
        "dns",
        "proposed",
    ),
    (
        "out-of-stock-included",
        'strategy = "beat_lowest"\ninclude_out_of_stock = true',
        {},
        [obs("citilink", 120000, in_stock=False), obs("dns", 140000)],
        118800,
        "citilink",
        "proposed",
    ),
    (
        "stale-ignored",
        'strategy = "match_lowest"\nstale_after = "2h"',
        {},
        [obs("citilink", 120000, hours=3), obs("dns", 140000, hours=1)],
        140000,
        "dns",
        "proposed",
    ),
    (
        "future-ignored",
        'strategy = "match_lowest"',
        {},
        [obs("citilink", 120000, hours=-1), obs("dns", 140000)],
        140000,
        "dns",
        "proposed",
    ),
    (
        "price-tie-by-name",
        'strategy = "match_lowest"',
        {},
        [obs("zeta", 120000), obs("alpha", 120000)],
        120000,
        "alpha",
        "proposed",
    ),
]


@pytest.mark.parametrize(
    ("rule", "values", "observations", "new_price", "competitor", "status"),
    [case[1:] for case in STRATEGY_CASES],
    ids=[case[0] for case in STRATEGY_CASES],
)
def test_strategy(
    rule: str,
    values: dict[str, Any],
    observations: list[dict[str, Any]],
    new_price: int,
    competitor: str | None,
    status: str,
) -> None:
    row = one(values, observations, BASE + '[[rule]]\nname = "r"\n' + rule)
    assert (row["new_price"], row["reference_competitor"], row["status"]) == (
        new_price,
        competitor,
        status,
    )
    assert row["flags"] == [] and row["rule"] == "r"


# (id, rule lines, product overrides, observations, new_price, status, flags)
BEHAVIOUR_CASES: list[
    tuple[str, str, dict[str, Any], list[dict[str, Any]], int | None, str, list[str]]
] = [
    (
        "no-competitors-keep",
        'no_competitors = "keep"',
        {},
        [],
        150000,
        "unchanged",
        ["no_competitors"],
    ),
    (
        "no-competitors-cost-plus",
        'no_competitors = "cost_plus"\nmarkup = "20%"',
        {},
        [],
        120000,
        "proposed",
        ["no_competitors"],
    ),
    (
        "all-out-ceiling",
        'all_out_of_stock = "ceiling"',
        {"max_price": 200000},
        [obs("a", 90000, in_stock=False)],
        200000,
        "proposed",
        ["all_out_of_stock"],
    ),
    (
        "all-out-ceiling-unknown",
        'all_out_of_stock = "ceiling"',
        {},
        [obs("a", 90000, in_stock=False)],
        150000,
        "unchanged",
        ["no_ceiling"],
    ),
    (
        "all-out-keep",
        'all_out_of_stock = "keep"',
        {},
        [obs("a", 90000, in_stock=False)],
        150000,
        "unchanged",
        ["all_out_of_stock"],
    ),
    (
        "all-out-cost-plus",
        'all_out_of_stock = "cost_plus"\nmarkup = "10%"',
        {},
        [obs("a", 90000, in_stock=False)],
        110000,
        "proposed",
        ["all_out_of_stock"],
    ),
    (
        "we-out-skip",
        'we_out_of_stock = "skip"',
        {"stock": 0},
        MARKET,
        150000,
        "skipped",
        ["we_out_of_stock"],
    ),
    (
        "we-out-keep",
        'we_out_of_stock = "keep"',
        {"stock": 0},
        MARKET,
        150000,
        "unchanged",
        ["we_out_of_stock"],
    ),
    (
        "we-out-by-supplier",
        'we_out_of_stock = "skip"',
        {"stock": None, "supplier_available": False},
        MARKET,
        150000,
        "skipped",
        ["we_out_of_stock"],
    ),
    (
        "stock-unknown-in-stock",
        "",
        {"stock": None, "supplier_available": None},
        MARKET,
        133551,
        "proposed",
        [],
    ),
    ("no-cost-keeps", "", {"cost": None}, MARKET, 150000, "unchanged", ["no_cost"]),
    (
        "no-price-skipped",
        'strategy = "keep"',
        {"price": None},
        MARKET,
        None,
        "skipped",
        ["no_price"],
    ),
    ("no-price-priced", "", {"price": None}, MARKET, 133551, "proposed", []),
    (
        "raise-back",
        'strategy = "keep"\nraise_back = "10%"',
        {"price": 110000},
        [obs("a", 150000)],
        149999,
        "proposed",
        ["raise_back"],
    ),
    (
        "raise-back-within-gap",
        'strategy = "keep"\nraise_back = "30%"',
        {"price": 110000},
        [obs("a", 150000)],
        110000,
        "unchanged",
        [],
    ),
    ("no-rule", 'match = { sku = "OTHER-*" }', {}, MARKET, 150000, "skipped", ["no_rule"]),
    ("other-currency", "", {"currency": "USD"}, MARKET, 150000, "skipped", ["currency"]),
]


@pytest.mark.parametrize(
    ("rule", "values", "observations", "new_price", "status", "flags"),
    [case[1:] for case in BEHAVIOUR_CASES],
    ids=[case[0] for case in BEHAVIOUR_CASES],
)
def test_behaviour(
    rule: str,
    values: dict[str, Any],
    observations: list[dict[str, Any]],
    new_price: int | None,
    status: str,
    flags: list[str],
) -> None:
    row = one(values, observations, BASE + '[[rule]]\nname = "r"\n' + rule)
    assert (row["new_price"], row["status"], row["flags"]) == (new_price, status, flags)


@pytest.mark.parametrize(
    ("values", "rule"),
    [
        ({"category": "Phones"}, "phones"),
        ({"brand": "ACME"}, "acme"),
        ({"tags": ["sale", "x"]}, "sale"),
        ({}, "rest"),
    ],
    ids=["category", "brand-case-insensitive", "tag", "fallback"],
)
def test_first_matching_rule_wins(values: dict[str, Any], rule: str) -> None:
    rules_text = (
        BASE
        + """
[[rule]]
name = "phones"
match = { category = "phone*" }
[[rule]]
name = "acme"
match = { brand = "acme", sku = "SKU-*" }
[[rule]]
name = "sale"
match = { tag = ["sale"] }
[[rule]]
name = "rest"
"""
    )
    assert one(values, MARKET, rules_text)["rule"] == rule
