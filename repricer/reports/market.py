"""The market as a report sees it: per product, the lowest and median competitor price.

Uses the latest trustworthy observation per listing at the time of the run: status ok
with a price, not an anomaly or a mismatch, not from a crawl that found the site
unhealthy, an active listing, a competitor that is not our own store, in the product's
currency.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVarTuple

import pandas as pd
from sqlalchemy import Connection, Select, select

from repricer.db.models import (
    Competitor,
    CrawlSiteStats,
    Listing,
    Observation,
    PriceChange,
)
from repricer.db.trusted import site_health_join, trusted_conditions
from repricer.reports._frames import as_money, read_frame

Row = TypeVarTuple("Row")
MARKET_COLUMNS = ["product_id", "market_min", "market_median", "market_competitor", "competitors"]


def trusted_observations(query: Select[*Row]) -> Select[*Row]:
    """Add to a query joining Observation, Listing and Competitor the conditions that make
    an observation a trustworthy competitor price (the site-health join included)."""
    health = site_health_join(Observation, Listing, CrawlSiteStats)
    return query.outerjoin(CrawlSiteStats, health).where(
        *trusted_conditions(Observation, Competitor, CrawlSiteStats)
    )


def latest_observations(conn: Connection, run_id: int, until: datetime) -> pd.DataFrame:
    """One row per listing of the run's products: its latest ok observation up to ``until``."""
    query = (
        select(
            PriceChange.product_id,
            Observation.listing_id,
            Observation.observed_at,
            Observation.price,
            Competitor.name.label("competitor"),
        )
        .join(Listing, Listing.product_id == PriceChange.product_id)
        .join(Competitor, Competitor.id == Listing.competitor_id)
        .join(Observation, Observation.listing_id == Listing.id)
        .where(
            PriceChange.run_id == run_id,
            Listing.active.is_(True),
            Observation.observed_at <= until,
            (Observation.currency == PriceChange.currency) | Observation.currency.is_(None),
        )
        .order_by(Observation.listing_id, Observation.observed_at, Observation.id)
    )
    frame = read_frame(conn, trusted_observations(query))
    return frame.drop_duplicates("listing_id", keep="last")


def market_prices(conn: Connection, run_id: int, until: datetime) -> pd.DataFrame:
    """Per product of the run: market_min, market_median (Int64 minor units, the median
    rounded down), market_competitor (who is cheapest) and competitors (count)."""
    seen = latest_observations(conn, run_id, until)
    if seen.empty:
        return as_money(pd.DataFrame(columns=MARKET_COLUMNS), "market_min", "market_median")
    seen["price"] = seen["price"].astype("int64")
    grouped = seen.groupby("product_id")["price"]
    cheapest = seen.loc[grouped.idxmin(), ["product_id", "competitor"]]
    market = pd.DataFrame(
        {
            "market_min": grouped.min(),
            "market_median": grouped.median().floordiv(1).astype("int64"),
            "competitors": grouped.size(),
        }
    ).reset_index()
    market = market.merge(
        cheapest.rename(columns={"competitor": "market_competitor"}), on="product_id"
    )
    return as_money(market[MARKET_COLUMNS], "market_min", "market_median")
