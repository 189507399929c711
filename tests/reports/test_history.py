"""price_history: our price, cost, proposed and each competitor over time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from repricer.exceptions import NotFoundError
from repricer.reports import price_history
from tests.reports.factory import HOSTILE_TITLE, NOW


def series(engine: Engine, sku: str, **kw: object) -> dict[str, list[int]]:
    points = price_history(engine, sku, **kw).points  # type: ignore[arg-type]
    return {str(name): [int(p) for p in group["price"]] for name, group in points.groupby("series")}


def test_history_series(engine: Engine, scene: int) -> None:
    got = series(engine, "K-1")
    # 1 020 ₽ at the older run, 1 000 ₽ once pushed, 1 000 ₽ at this run, 1 000 ₽ now
    assert got["our price"] == [102000, 100000, 100000, 100000]
    assert got["proposed"] == [96900]
    assert got["cost"] == [70000, 70000, 70000]  # two runs and today's supplier offer
    assert len(got["alpha-shop"]) == len(got["beta-market"]) == 7
    assert "our-shop" not in got and min(got["alpha-shop"]) > 1  # own store and anomaly left out


def test_history_until_a_run_and_listings(engine: Engine, scene: int) -> None:
    history = price_history(engine, "K-1", run_id=scene, until=NOW - timedelta(days=2))
    assert history.points["at"].max() <= NOW - timedelta(days=2)
    assert "proposed" not in set(history.points["series"])  # decided after the cut
    listings = history.listings.set_index("competitor")
    assert set(listings.index) == {"alpha-shop", "beta-market"}
    assert listings.loc["alpha-shop", "title"] == HOSTILE_TITLE
    assert listings.loc["alpha-shop", "price"] == 97000


def test_unknown_sku(engine: Engine) -> None:
    with pytest.raises(NotFoundError, match="SKU 'NOPE'"):
        price_history(engine, "NOPE")
