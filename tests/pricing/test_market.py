"""The market summary: the per-slot columns ordered by a sorting network (or np.sort
for wide groups) give exactly what one sort of all observations gives, whatever the
order the observations come in, their ties and their prices."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from repricer.pricing import market
from repricer.pricing._market_sorted import summarise_sorted
from repricer.pricing.market import (
    Market,
    Observed,
    _network,
    counting,
    summarise_market,
)
from repricer.pricing.params import rule_table
from tests.pricing.frames import rules

COMPETITORS = ["a", "b", "c", "d", "e", "f"]
RULES = rules(
    """
    [[rule]]
    name = "median"
    match = { category = "m" }
    strategy = "match_median"
    include_out_of_stock = true
    stale_after = "10h"

    [[rule]]
    name = "average"
    match = { category = "v" }
    strategy = "match_average"
    competitors = ["a", "c", "e"]

    [[rule]]
    name = "third"
    match = { category = "p" }
    strategy = "position"
    rank = 3

    [[rule]]
    name = "lowest"
    strategy = "beat_lowest"
    """
)
SECOND = 10**6  # ticks a second (microseconds)
NOW = 1_800_000_000 * SECOND


def _observed(
    rng: np.random.Generator, n: int, widest: int, top: int, full: bool = False
) -> Observed:
    """Grouped observations, 0..``widest`` per product (``full``: all ``widest``),
    prices from a few values (so that ties happen) up to ``top``, some stale, some in
    the future."""
    sizes = np.full(n, widest) if full else rng.integers(0, widest + 1, n)
    pos = np.repeat(np.arange(n, dtype=np.int32), sizes)
    m = len(pos)
    ages = rng.integers(-3600, 20 * 3600, m) * SECOND + rng.integers(0, SECOND, m)
    return Observed(
        pos=pos,
        comp=rng.integers(0, len(COMPETITORS), m).astype(np.int32),
        price=rng.choice(np.array([1, 500, 501, 999, top]), m),
        in_stock=rng.random(m) > 0.25,
        ticks=NOW - ages,
        now=NOW,
        per_second=SECOND,
    )


def _one_by_one(obs: Observed, rule_idx: np.ndarray, n: int) -> Market:
    """The summary product by product, in plain Python (the oracle)."""
    table = rule_table(RULES, COMPETITORS, 2)
    out: dict[str, list[int]] = {f.name: [] for f in dataclasses.fields(Market)}
    ages = (obs.now - obs.ticks) // obs.per_second
    for row in range(n):
        r = int(rule_idx[row])
        usable = [
            i
            for i in np.flatnonzero(obs.pos == row)
            if 0 <= ages[i] <= table.stale_after[r] and table.allowed[r, obs.comp[i]]
        ]
        counted = [i for i in usable if obs.in_stock[i] or table.include_oos[r]]
        ranked = sorted(counted, key=lambda i: (obs.price[i], obs.comp[i], ages[i]))

        def pick(k: int, ranked: list[int] = ranked) -> tuple[int, int, int]:
            if not ranked:
                return 0, -1, 0
            i = ranked[k]
            tied = [j for j in ranked if (obs.price[j], obs.comp[j]) == (obs.price[i], obs.comp[i])]
            return int(obs.price[i]), int(obs.comp[i]), int(min(ages[j] for j in tied))

        prices = [int(obs.price[i]) for i in ranked]
        c = len(prices)
        values = {
            "n_any": len(usable),
            "n_in": c,
            **dict(zip(("low_price", "low_comp", "low_age"), pick(0), strict=True)),
            **dict(
                zip(
                    ("kth_price", "kth_comp", "kth_age"),
                    pick(min(table.rank[r], c) - 1),
                    strict=True,
                )
            ),
            "median": (prices[(c - 1) // 2] + prices[c // 2] + 1) // 2
            if c and table.strategy[r] == 2
            else 0,
            "mean": (2 * sum(prices) + c) // (2 * c) if c and table.strategy[r] == 3 else 0,
        }
        for name, value in values.items():
            out[name].append(value)
    return Market(**{name: np.array(values) for name, values in out.items()})


def _assert_same(got: Market, want: Market) -> None:
    for field in dataclasses.fields(Market):
        np.testing.assert_array_equal(
            getattr(got, field.name), getattr(want, field.name), err_msg=field.name
        )


CASES = [
    pytest.param(400, 5, 10**6, False, False, id="network"),
    pytest.param(300, 8, 10**6, False, False, id="network-8-slots"),
    pytest.param(300, 5, 10**6, False, True, id="every-slot-filled"),
    pytest.param(200, 12, 10**6, False, False, id="wide-groups-np-sort"),
    pytest.param(300, 5, 10**6, True, False, id="shuffled-order"),
    pytest.param(300, 5, 2**60, False, False, id="prices-too-large-to-pack"),
]


@pytest.mark.parametrize(("n", "widest", "top", "shuffle", "full"), CASES)
@pytest.mark.parametrize("block", [1 << 16, 50], ids=["one-block", "many-blocks"])
def test_slot_summary_equals_one_sort(
    n: int,
    widest: int,
    top: int,
    shuffle: bool,
    full: bool,
    block: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(market, "_BLOCK", block)
    rng = np.random.default_rng(n + widest)
    obs = _observed(rng, n, widest, top, full)
    rule_idx = rng.integers(-1, len(RULES), n)
    table = rule_table(RULES, COMPETITORS, 2)
    want = _one_by_one(obs, rule_idx, n)
    _assert_same(summarise_sorted(obs, counting(rule_idx, table, obs), n), want)
    if shuffle:
        obs = obs.take(rng.permutation(len(obs)))
    got = summarise_market(obs, rule_idx, table)
    _assert_same(got, want)
    assert got.n_in.sum() > 0 and (got.median > 0).any() and (got.mean > 0).any()


def test_one_product_with_many_observations_among_few() -> None:
    """Groups too uneven for one column per slot: the summary sorts all observations."""
    rng = np.random.default_rng(5)
    obs = _observed(rng, 50, 1, 10**6)
    crowd = _observed(rng, 1, 200, 10**6)
    both = Observed(
        np.concatenate([obs.pos, crowd.pos + 50]),
        np.concatenate([obs.comp, crowd.comp]),
        np.concatenate([obs.price, crowd.price]),
        np.concatenate([obs.in_stock, crowd.in_stock]),
        np.concatenate([obs.ticks, crowd.ticks]),
        NOW,
        SECOND,
    )
    rule_idx = np.full(51, 3)
    table = rule_table(RULES, COMPETITORS, 2)
    _assert_same(summarise_market(both, rule_idx, table), _one_by_one(both, rule_idx, 51))


def test_a_tie_shows_the_newest_observation() -> None:
    """Two listings of one competitor at the same price: the newer one's age is shown,
    whichever slot it came in."""
    for first, second in ((3600, 60), (60, 3600)):
        obs = Observed(
            pos=np.zeros(3, dtype=np.int32),
            comp=np.array([1, 1, 0], dtype=np.int32),
            price=np.array([500, 500, 700]),
            in_stock=np.ones(3, dtype=bool),
            ticks=NOW - np.array([first, second, 10]) * SECOND,
            now=NOW,
            per_second=SECOND,
        )
        market = summarise_market(obs, np.array([3]), rule_table(RULES, COMPETITORS, 2))
        assert (market.low_price[0], market.low_comp[0], market.low_age[0]) == (500, 1, 60)


@pytest.mark.parametrize("width", range(1, 9))
def test_network_sorts_every_input(width: int) -> None:
    """A comparator network that sorts every 0/1 input sorts every input."""
    pairs = _network(width)
    for bits in itertools.product((0, 1), repeat=width):
        values = list(bits)
        for i, j in pairs:
            values[i], values[j] = min(values[i], values[j]), max(values[i], values[j])
        assert values == sorted(bits)


def test_observations_all_young_enough_need_no_age_test() -> None:
    rng = np.random.default_rng(9)
    obs = _observed(rng, 300, 5, 10**6)
    obs = dataclasses.replace(obs, ticks=NOW - rng.integers(0, 3600 * SECOND, len(obs)))
    rule_idx = rng.integers(-1, len(RULES), 300)
    table = rule_table(RULES, COMPETITORS, 2)
    assert counting(rule_idx, table, obs).fresh
    _assert_same(summarise_market(obs, rule_idx, table), _one_by_one(obs, rule_idx, 300))
