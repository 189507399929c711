"""Explanations: one line per decision, numbers formatted exactly like format_money."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from repricer.durations_percentages import format_duration
from repricer.money import format_money
from repricer.pricing.explain_text import age_text, money_text
from tests.pricing.frames import NOW, obs, one

NBSP = "\u00a0"
MARKET = [obs("citilink", 134900, hours=2), obs("dns", 140000), obs("ozon", 150000, hours=30)]


@pytest.mark.parametrize(
    ("rule", "values", "expected"),
    [
        (
            'strategy = "beat_lowest"',
            {},
            "cheapest in-stock competitor citilink 1 349 ₽ (2 h ago) − 1% = 1 335,51 ₽; floor 1 000 ₽ (cost 1 000 ₽ + 0%) ok",
        ),
        (
            'strategy = "match_lowest"',
            {},
            "cheapest in-stock competitor citilink 1 349 ₽ (2 h ago); floor",
        ),
        ('strategy = "match_median"', {}, "median of 3 competitors: 1 400 ₽; floor"),
        ('strategy = "match_average"', {}, "average of 3 competitors: 1 416,33 ₽; floor"),
        (
            'strategy = "position"\nrank = 3\nbeat_by = "10 RUB"',
            {},
            "rank 3: competitor ozon 1 500 ₽ (30 h ago) − 10 ₽ = 1 490 ₽; floor",
        ),
        (
            'strategy = "follow"\ncompetitor = "dns"',
            {},
            "competitor dns 1 400 ₽ (60 min ago); floor",
        ),
        (
            'strategy = "follow"\ncompetitor = "dns"\nadjust = "+2%"',
            {},
            "competitor dns 1 400 ₽ (60 min ago) +2% = 1 428 ₽; floor",
        ),
        (
            'strategy = "cost_plus"\nmarkup = "30%"\nfixed_fee = "50 RUB"',
            {},
            "cost 1 000 ₽ + 30% + fee 50 ₽ = 1 350 ₽; floor 1 050 ₽ (cost 1 000 ₽ + 0% + fee 50 ₽) ok",
        ),
        ('strategy = "keep"', {}, "keep 1 500 ₽; floor"),
        ("", {"cost": None}, "no cost known: keep 1 500 ₽; no floor"),
        ("", {"stock": 0}, "we are out of stock: skipped"),
        (
            'min_margin = "20%"\nrounding = "ends_in_9"',
            {},
            "− 1% = 1 335,51 ₽ → ending 9: 1 339 ₽; floor 1 200 ₽ (cost 1 000 ₽ + 20%) ok",
        ),
        (
            'min_margin = "40%"\nrounding = "ends_in_9"',
            {},
            "= 1 335,51 ₽ → floor 1 400 ₽ → ending 9: 1 409 ₽; floor 1 400 ₽ (cost 1 000 ₽ + 40%) applied",
        ),
        ('max_change = "5%"', {}, "= 1 335,51 ₽ → max change 5%: 1 425 ₽; floor"),
        (
            'max_change = "5%"\nmax_change_action = "approve"',
            {},
            "= 1 335,51 ₽ (over max change 5%: needs approval); floor",
        ),
        ("", {"map_price": 140000}, "→ floor 1 400 ₽; floor 1 400 ₽ (MAP) applied"),
        (
            'cooldown = "6h"',
            {"last_change_at": NOW - timedelta(hours=1)},
            "= 1 335,51 ₽; cooldown: keep 1 500 ₽; floor",
        ),
    ],
    ids=[
        "beat",
        "match-lowest",
        "median",
        "average",
        "position",
        "follow",
        "follow-adjust",
        "cost-plus",
        "keep",
        "no-cost",
        "we-out",
        "ending",
        "floor-then-ending",
        "max-change",
        "approve",
        "map",
        "cooldown",
    ],
)
def test_explanation(rule: str, values: dict[str, Any], expected: str) -> None:
    text = one(values, MARKET, '[defaults]\nmin_margin = 0\n[[rule]]\nname = "r"\n' + rule)[
        "explanation"
    ]
    assert "\n" not in text
    assert expected in text.replace(NBSP, " "), text


@given(
    st.lists(st.integers(-(10**13), 10**13), min_size=1, max_size=50),
    st.sampled_from(["RUB", "USD", "JPY"]),
)
def test_money_text_is_format_money(values: list[int], currency: str) -> None:
    texts = money_text(np.array(values, dtype=np.int64), currency)
    assert list(texts) == [format_money(v, currency) for v in values]


@given(st.lists(st.integers(0, 900 * 86400), min_size=1, max_size=50))
def test_age_text_is_format_duration(seconds: list[int]) -> None:
    texts = age_text(np.array(seconds, dtype=np.int64))
    assert list(texts) == [f" ({format_duration(timedelta(seconds=s))} ago)" for s in seconds]
