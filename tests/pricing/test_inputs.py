from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from repricer.config import Settings
from repricer.pricing.inputs import (
    _positions,
    latest_per_listing,
    load_observations,
    load_products,
)
from tests.pricing.conftest import Shop
from tests.pricing.frames import NOW

WEEK = timedelta(days=7)


@pytest.fixture
def any_shop(any_engine: Engine) -> Shop:
    """A shop on SQLite (one joined query) and on PostgreSQL (plain reads joined in numpy)."""
    return Shop(any_engine)


def _observations(shop: Shop, settings: Settings) -> list[tuple[str, int]]:
    with shop.engine.connect() as conn:
        frame = load_observations(conn, settings, now=NOW, max_age=WEEK)
    return sorted(zip(frame["competitor"], frame["price"], strict=True))


def test_only_usable_latest_observation_per_listing(
    any_shop: Shop, pricing_settings: Settings
) -> None:
    shop = any_shop
    p = shop.product("A")
    listing = shop.listing(p, "citilink")
    shop.observation(listing, 100000, hours=5)
    shop.observation(listing, 101000, hours=2)  # latest usable
    shop.observation(listing, None, hours=1, status="no_price")  # not ok: the one before counts
    shop.observation(shop.listing(p, "anomalous"), 50000, is_anomaly=True)
    shop.observation(shop.listing(p, "mismatched"), 50000, is_mismatch=True)
    shop.observation(shop.listing(p, "stale"), 50000, hours=24 * 8)
    shop.observation(shop.listing(p, "future"), 50000, hours=-1)
    shop.observation(shop.listing(p, "dollars"), 50000, currency="USD")
    shop.observation(shop.listing(p, "unsure", confidence=0.5), 50000)
    shop.observation(shop.listing(p, "retired", active=False), 50000)
    shop.competitor("us", is_self=True)
    shop.observation(shop.listing(p, "us"), 50000)
    sick = shop.crawl("sick", healthy=False)
    shop.observation(shop.listing(p, "sick"), 50000, crawl_run_id=sick)
    fine = shop.crawl("fine", healthy=True)
    shop.observation(shop.listing(p, "fine"), 120000, crawl_run_id=fine, currency="RUB")
    assert _observations(shop, pricing_settings) == [("citilink", 101000), ("fine", 120000)]


def test_out_of_stock_observations_are_kept_and_marked(
    any_shop: Shop, pricing_settings: Settings
) -> None:
    shop = any_shop
    p = shop.product("A")
    shop.observation(shop.listing(p, "a"), 100000, availability="out_of_stock")
    shop.observation(shop.listing(p, "b"), 100000, availability="unknown")
    with shop.engine.connect() as conn:
        frame = load_observations(conn, pricing_settings, now=NOW, max_age=WEEK)
    assert frame.set_index("competitor")["in_stock"].to_dict() == {"a": False, "b": True}


@pytest.mark.parametrize(
    ("offers", "cost", "available"),
    [
        ([(90000, {"stock_qty": 0}), (95000, {"stock_qty": 2})], 95000, True),
        ([(90000, {"available": False})], 90000, False),
        ([(90000, {"currency": "USD"})], None, None),
        ([], None, None),
    ],
    ids=["cheapest-in-stock", "all-out", "other-currency", "no-offer"],
)
def test_products_with_effective_cost(
    shop: Shop,
    pricing_settings: Settings,
    offers: list[tuple[int, dict[str, object]]],
    cost: int | None,
    available: bool | None,
) -> None:
    p = shop.product("A", stock=None, map_price=120000, tags=["x"])
    for i, (offer_cost, values) in enumerate(offers):
        shop.offer(p, offer_cost, supplier=f"s{i}", **values)
    with shop.engine.connect() as conn:
        row = load_products(conn, "RUB").iloc[0]
    assert (None if pd.isna(row["cost"]) else int(row["cost"])) == cost
    got = row["supplier_available"]
    assert (None if pd.isna(got) else bool(got)) == available
    assert row["map_price"] == 120000 and row["tags"] == ["x"]


def test_sku_filter(shop: Shop) -> None:
    shop.product("A")
    shop.product("B")
    with shop.engine.connect() as conn:
        assert list(load_products(conn, "RUB", ["B"])["sku"]) == ["B"]


def test_only_accepted_listings_feed_pricing(shop: Shop, pricing_settings: Settings) -> None:
    p = shop.product("M")
    shop.observation(shop.listing(p, "matched"), 100000)  # imported: accepted by default
    shop.observation(shop.listing(p, "proposed", status="review", confidence=0.7), 90000)
    shop.observation(shop.listing(p, "refused", status="rejected"), 80000)
    assert _observations(shop, pricing_settings) == [("matched", 100000)]


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_observations_of_one_moment_take_the_last_stored(
    dialect: str, request: pytest.FixtureRequest, pricing_settings: Settings
) -> None:
    engine: Engine = request.getfixturevalue("engine" if dialect == "sqlite" else "pg_engine")
    shop = Shop(engine)
    p = shop.product("A")
    listing = shop.listing(p, "citilink")
    shop.observation(listing, 100000, hours=2)
    shop.observation(listing, 101000, hours=2)  # the same moment, stored after: it counts
    shop.observation(shop.listing(p, "dns"), 99000, hours=3)
    shop.observation(shop.listing(p, "dns", confidence=1.0), 98000, hours=4)
    assert _observations(shop, pricing_settings) == [
        ("citilink", 101000),
        ("dns", 98000),
        ("dns", 99000),
    ]


def _newest_by_sorting(listing: list[int], at: list[int]) -> set[int]:
    """The oracle: rows sorted by (listing, at, row number), the last of each listing."""
    frame = pd.DataFrame({"listing": listing, "at": at, "row": range(len(listing))})
    return set(frame.sort_values(["listing", "at", "row"]).groupby("listing")["row"].last())


@given(
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 3)), max_size=60),
    st.sampled_from([0, 10**12]),
)
def test_latest_per_listing_is_the_newest_row_of_each(
    rows: list[tuple[int, int]], offset: int
) -> None:
    listing = [key + offset for key, _ in rows]  # small ids, or ids far apart from 0
    at = [moment for _, moment in rows]
    ident = np.arange(len(rows), dtype=np.int64)  # stored in row order
    chosen = latest_per_listing(
        np.array(listing, dtype=np.int64), np.array(at, dtype=np.int64), ident
    )
    assert set(np.flatnonzero(chosen)) == _newest_by_sorting(listing, at)


@given(
    st.lists(st.integers(0, 50), unique=True),
    st.lists(st.integers(0, 60)),
    st.sampled_from([0, 10**12]),
)
def test_positions_find_each_key_or_minus_one(
    keys: list[int], wanted: list[int], shift: int
) -> None:
    """Small ids go through an array lookup, large ones (shifted) through a search:
    the same positions either way."""
    found = _positions(
        np.array([k + shift for k in keys], dtype=np.int64),
        np.array([w + shift for w in wanted], dtype=np.int64),
    )
    assert found.tolist() == [keys.index(w) if w in keys else -1 for w in wanted]
