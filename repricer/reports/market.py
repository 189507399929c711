"""The market as a report sees it: per product, the lowest and median competitor price.

Uses the latest trustworthy observation per listing at the time of the run: status ok
with a price, not an anomaly or a mismatch, not from a crawl that found the site
unhealthy, an active listing, a competitor that is not our own store, in the product's
currency. Where ``repricer db prune`` thinned old observations, a day's last price in
``observation_daily`` (folded from trusted observations only) stands in for them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVarTuple

import pandas as pd
from sqlalchemy import Connection, Executable, Select, select

from repricer.db.models import (
    Competitor,
    CrawlSiteStats,
    Listing,
    Observation,
    ObservationDaily,
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
    seen = read_frame(conn, trusted_observations(query))
    daily = read_frame(conn, _daily_last_prices(run_id, until))
    frames = [f for f in (daily, seen) if not f.empty]
    if not frames:
        return seen
    frame = pd.concat(frames, ignore_index=True)
    frame["observed_at"] = pd.to_datetime(frame["observed_at"], utc=True)
    frame = frame.sort_values(["listing_id", "observed_at"], kind="stable")
    return frame.drop_duplicates("listing_id", keep="last")


def _daily_last_prices(run_id: int, until: datetime) -> Executable:
    """The run's listings' folded days (see :mod:`repricer.retention`), as observations."""
    day = ObservationDaily
    return (
        select(
            PriceChange.product_id,
            day.listing_id,
            day.last_at.label("observed_at"),
            day.last_price.label("price"),
            Competitor.name.label("competitor"),
        )
        .join(Listing, Listing.product_id == PriceChange.product_id)
        .join(Competitor, Competitor.id == Listing.competitor_id)
        .join(day, day.listing_id == Listing.id)
        .where(
            PriceChange.run_id == run_id,
            Listing.active.is_(True),
            Competitor.is_self.is_(False),
            day.last_at <= until,
            (day.currency == PriceChange.currency) | day.currency.is_(None),
        )
    )


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
