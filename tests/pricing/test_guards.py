"""Table-driven cases per guard, in the documented order, plus the rounding helpers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from repricer.pricing.rounding import round_into
from tests.pricing.frames import NOW, obs, one

CHEAP = [obs("citilink", 110000)]  # beat_lowest 1% -> 108 900
MARKET = [obs("citilink", 134900)]  # beat_lowest 1% -> 133 551
COST = 100000  # the default cost, and the floor with no margin

# (id, rule lines, product overrides, observations, new, floor, ceiling, guards, status)
CASES: list[
    tuple[
        str,
        str,
        dict[str, Any],
        list[dict[str, Any]],
        int | None,
        int | None,
        int | None,
        list[str],
        str,
    ]
] = [
    ("floor-margin", 'min_margin = "12%"', {}, CHEAP, 112000, 112000, None, ["floor"], "proposed"),
    (
        "floor-margin-fee",
        'min_margin = "12%"\nfixed_fee = "50 RUB"',
        {},
        CHEAP,
        117000,
        117000,
        None,
        ["floor"],
        "proposed",
    ),
    (
        "floor-rounds-up",
        'min_margin = "12%"',
        {"cost": 99999},
        CHEAP,
        111999,
        111999,
        None,
        ["floor"],
        "proposed",
    ),
    (
        "floor-map",
        'min_margin = "12%"',
        {"map_price": 130000},
        CHEAP,
        130000,
        130000,
        None,
        ["floor"],
        "proposed",
    ),
    (
        "floor-min-price",
        "",
        {"min_price": 125000},
        CHEAP,
        125000,
        125000,
        None,
        ["floor"],
        "proposed",
    ),
    ("floor-ok", 'min_margin = "12%"', {}, MARKET, 133551, 112000, None, [], "proposed"),
    (
        "ceiling-max-price",
        'strategy = "match_lowest"',
        {"max_price": 200000},
        [obs("a", 300000)],
        200000,
        COST,
        200000,
        ["ceiling"],
        "proposed",
    ),
    (
        "ceiling-markup",
        'strategy = "match_lowest"\nmax_markup = "50%"',
        {},
        [obs("a", 300000)],
        150000,
        COST,
        150000,
        ["ceiling"],
        "unchanged",
    ),
    (
        "ceiling-rule",
        'strategy = "match_lowest"\nceiling = "1 600 RUB"',
        {},
        [obs("a", 300000)],
        160000,
        COST,
        160000,
        ["ceiling"],
        "proposed",
    ),
    (
        "floor-above-ceiling",
        "",
        {"min_price": 200000, "max_price": 150000},
        MARKET,
        150000,
        200000,
        150000,
        [],
        "skipped",
    ),
    (
        "max-change-clamp",
        'max_change = "10%"',
        {},
        MARKET,
        135000,
        COST,
        None,
        ["max_change"],
        "proposed",
    ),
    (
        "max-change-approve",
        'max_change = "10%"\nmax_change_action = "approve"',
        {},
        MARKET,
        133551,
        COST,
        None,
        [],
        "needs_approval",
    ),
    ("max-change-within", 'max_change = "15%"', {}, MARKET, 133551, COST, None, [], "proposed"),
    (
        "max-change-floor-wins",
        'min_margin = "20%"\nmax_change = "10%"',
        {"price": 100000},
        CHEAP,
        120000,
        120000,
        None,
        ["floor"],
        "needs_approval",
    ),
    (
        "ending-9",
        'rounding = "ends_in_9"',
        {},
        MARKET,
        133900,
        COST,
        None,
        ["rounding"],
        "proposed",
    ),
    (
        "ending-99",
        'rounding = "ends_in_99"',
        {},
        MARKET,
        133599,
        COST,
        None,
        ["rounding"],
        "proposed",
    ),
    (
        "ending-90",
        'rounding = "ends_in_90"',
        {},
        MARKET,
        133590,
        COST,
        None,
        ["rounding"],
        "proposed",
    ),
    ("whole", 'rounding = "whole"', {}, MARKET, 133600, COST, None, ["rounding"], "proposed"),
    ("step-10", 'rounding = "step_10"', {}, MARKET, 134000, COST, None, ["rounding"], "proposed"),
    (
        "ending-at-floor-rounds-up",
        'min_margin = "12%"\nrounding = "ends_in_9"',
        {},
        CHEAP,
        112900,
        112000,
        None,
        ["floor", "rounding"],
        "proposed",
    ),
    (
        "ending-at-ceiling-rounds-down",
        'rounding = "ends_in_9"',
        {"max_price": 133700},
        MARKET,
        132900,
        COST,
        133700,
        ["rounding"],
        "proposed",
    ),
    (
        "ending-inside-max-change",
        'rounding = "ends_in_9"\nmax_change = "10%"',
        {"price": 148000},
        [obs("citilink", 134000)],  # 1 326,60 -> max change 1 332 -> nearest 1 329 is under it
        133900,
        COST,
        None,
        ["max_change", "rounding"],
        "proposed",
    ),
    (
        "no-ending-fits",
        'min_margin = "12%"\nrounding = "ends_in_9"',
        {"max_price": 112500},
        CHEAP,
        112000,
        112000,
        112500,
        ["floor"],
        "proposed",
    ),
    (
        "min-delta-holds",
        'min_delta = "1%"',
        {"price": 134000},
        MARKET,
        134000,
        COST,
        None,
        ["min_delta"],
        "unchanged",
    ),
    (
        "min-delta-amount-passes",
        'min_delta = "1 RUB"',
        {"price": 134000},
        MARKET,
        133551,
        COST,
        None,
        [],
        "proposed",
    ),
    (
        "cooldown-holds",
        'cooldown = "24h"',
        {"last_change_at": NOW - timedelta(hours=1)},
        MARKET,
        150000,
        COST,
        None,
        ["cooldown"],
        "unchanged",
    ),
    (
        "cooldown-over",
        'cooldown = "24h"',
        {"last_change_at": NOW - timedelta(hours=30)},
        MARKET,
        133551,
        COST,
        None,
        [],
        "proposed",
    ),
    (
        "cooldown-never-keeps-under-floor",
        'cooldown = "24h"\nmin_margin = "12%"',
        {"price": 100000, "last_change_at": NOW - timedelta(hours=1)},
        CHEAP,
        112000,
        112000,
        None,
        ["floor"],
        "proposed",
    ),
]


@pytest.mark.parametrize(
    ("rule", "values", "observations", "new", "floor", "ceiling", "guards", "status"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_guard(
    rule: str,
    values: dict[str, Any],
    observations: list[dict[str, Any]],
    new: int | None,
    floor: int | None,
    ceiling: int | None,
    guards: list[str],
    status: str,
) -> None:
    row = one(values, observations, '[defaults]\nmin_margin = 0\n[[rule]]\nname = "r"\n' + rule)
    got = (row["new_price"], row["floor"], row["ceiling"], row["guards"], row["status"])
    assert got == (new, floor, ceiling, guards, status), row["explanation"]


def test_floor_above_ceiling_is_flagged() -> None:
    row = one({"min_price": 200000, "max_price": 150000}, MARKET, '[[rule]]\nname = "r"')
    assert row["flags"] == ["floor_above_ceiling"]
    assert "floor 2 000 ₽ above ceiling 1 500 ₽: no change" in row["explanation"].replace(
        "\u00a0", " "
    )


def test_no_ending_is_flagged() -> None:
    row = one(
        {"max_price": 112500},
        CHEAP,
        '[[rule]]\nname = "r"\nmin_margin = "12%"\nrounding = "ends_in_9"',
    )
    assert row["flags"] == ["no_ending"]


@pytest.mark.parametrize(
    ("price", "modulus", "remainder", "low", "high", "expected", "no_fit"),
    [
        (133551, 1000, 900, 0, 10**9, 133900, False),
        (133400, 1000, 900, 0, 10**9, 133900, False),  # half way goes up
        (133399, 1000, 900, 0, 10**9, 132900, False),
        (112000, 1000, 900, 112000, 10**9, 112900, False),  # never under the low end
        (133551, 1000, 900, 0, 133700, 132900, False),  # never over the high end
        (112000, 1000, 900, 112000, 112500, 112000, True),  # nothing fits
        (5, 1, 0, 0, 10, 5, False),  # no rounding
    ],
)
def test_round_into(
    price: int, modulus: int, remainder: int, low: int, high: int, expected: int, no_fit: bool
) -> None:
    def col(v: int) -> np.ndarray:
        return np.array([v], dtype=np.int64)

    rounded, flags = round_into(col(price), col(modulus), col(remainder), col(low), col(high))
    assert (int(rounded[0]), bool(flags[0])) == (expected, no_fit)


def _round_one(price: int, modulus: int, remainder: int, low: int, high: int) -> tuple[int, bool]:
    """The rule for one price, by search: the nearest fitting price (half way up),
    kept inside [low, high]; the price itself when none fits."""
    down = price - (price - remainder) % modulus
    up = down if down == price else down + modulus
    nearest = down if price - down < up - price else up
    if nearest < low:
        nearest = low + (remainder - low) % modulus
    if nearest > high:
        nearest = high - (high - remainder) % modulus
    if nearest < low or nearest > high:
        return price, True
    return nearest, False


@pytest.mark.parametrize("shared", [True, False], ids=["one-ending", "ending-per-row"])
def test_round_into_on_random_columns(shared: bool) -> None:
    rng = np.random.default_rng(3)
    n = 2000
    endings = np.array([(1, 0), (100, 0), (1000, 900), (100, 90), (100, 99), (1000, 0)])
    chosen = endings[rng.integers(0, len(endings), n)]
    modulus, remainder = chosen[:, 0], chosen[:, 1]
    if shared:
        modulus, remainder = np.int64(1000), np.int64(900)
    low = rng.integers(1, 50_000, n)
    high = low + rng.integers(0, 3000, n)
    price = low + (rng.random(n) * (high - low + 1)).astype(np.int64)
    rounded, no_fit = round_into(price, modulus, remainder, low, high)
    m = np.broadcast_to(modulus, (n,))
    r = np.broadcast_to(remainder, (n,))
    want = [_round_one(*map(int, v)) for v in zip(price, m, r, low, high, strict=True)]
    assert list(zip(rounded.tolist(), no_fit.tolist(), strict=True)) == want
    assert no_fit.any() and not no_fit.all()
