"""Price history of one SKU: our price, cost and each competitor over time.

Sources: ``price_changes`` (our old price and the cost at every run, the new price once
pushed, the proposed price of the chosen run), ``supplier_offers`` (today's cheapest
available cost), ``observations`` (competitor prices trusted as in
:mod:`repricer.reports.market`), ``observation_daily`` (each day's last competitor price
where ``repricer db prune`` thinned the observations) and ``products.price`` (our price
now). A prune also removes old finished runs, so our own price and cost reach back only
as far as the runs kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, Executable, func, select

from repricer.db.models import (
    Competitor,
    Listing,
    Observation,
    ObservationDaily,
    PriceChange,
    Product,
    PushAttempt,
    SupplierOffer,
)
from repricer.exceptions import NotFoundError
from repricer.reports._frames import as_money, read_frame, utc_timestamp
from repricer.reports.market import trusted_observations
from repricer.states import PUSHED

POINT_COLUMNS = ["at", "series", "kind", "price"]
OUR_PRICE, PROPOSED, COST = "our price", "proposed", "cost"
NOT_PROPOSED = ("unchanged", "skipped", "rejected", "expired")


@dataclass(frozen=True)
class PriceHistory:
    """``points``: at (UTC), series (name), kind (ours|proposed|cost|competitor), price
    (Int64 minor units of ``currency``). ``listings``: competitor, url, active and the
    latest observation of each listing (status, price, availability, scraped title)."""

    sku: str
    title: str | None
    currency: str
    points: pd.DataFrame
    listings: pd.DataFrame


def price_history(
    engine: Engine, sku: str, *, run_id: int | None = None, until: datetime | None = None
) -> PriceHistory:
    """History of ``sku``; the proposed price shown is that of run ``run_id`` (None: the
    latest run). With ``until`` only points up to then (a run report's snapshot), else
    up to now, ending with our current price. Raises ``NotFoundError`` for an unknown SKU."""
    with engine.connect() as conn:
        product = conn.execute(select(Product).where(Product.sku == sku)).first()
        if product is None:
            raise NotFoundError(f"SKU {sku!r}: no such product")
        parts = [
            _our_prices(conn, product.id, None if until else product.price),
            _proposed(conn, product.id, run_id),
            _costs(conn, product.id),
            _competitor_prices(conn, product.id, product.currency),
        ]
        listings = _listings(conn, product.id)
    frames = [p for p in parts if not p.empty]
    points = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=POINT_COLUMNS)
    points = as_money(points[POINT_COLUMNS], "price")
    points["at"] = pd.to_datetime(points["at"], utc=True)  # naive values from SQLite are UTC
    if until is not None:
        points = points[points["at"] <= utc_timestamp(until)]
    points = points.sort_values(["series", "at"], kind="stable")
    return PriceHistory(
        sku, product.title, product.currency, points.reset_index(drop=True), listings
    )


def _points(frame: pd.DataFrame, series: str | pd.Series[Any], kind: str) -> pd.DataFrame:
    frame = frame.dropna(subset=["price"]).copy()
    frame["series"] = series if isinstance(series, str) else series.loc[frame.index]
    frame["kind"] = kind
    return frame[POINT_COLUMNS]


def _our_prices(conn: Connection, product_id: int, current: int | None) -> pd.DataFrame:
    pushed_at = (
        select(func.max(PushAttempt.attempted_at))
        .where(
            PushAttempt.price_change_id == PriceChange.id,
            PushAttempt.status.in_(("pushed", "confirmed")),
        )
        .scalar_subquery()
    )
    changes = read_frame(
        conn,
        select(
            PriceChange.decided_at,
            PriceChange.old_price,
            PriceChange.new_price,
            PriceChange.status,
            pushed_at.label("pushed_at"),
        ).where(PriceChange.product_id == product_id),
    )
    old = changes.rename(columns={"decided_at": "at", "old_price": "price"})
    pushed = changes[changes["status"].isin(PUSHED)]
    pushed = pd.DataFrame(
        {"at": pushed["pushed_at"].fillna(pushed["decided_at"]), "price": pushed["new_price"]}
    )
    now = pd.DataFrame({"at": [datetime.now(UTC)], "price": [current]})
    frames = [f for f in (old[["at", "price"]], pushed, now) if not f.empty]
    return _points(pd.concat(frames, ignore_index=True), OUR_PRICE, "ours")


def _proposed(conn: Connection, product_id: int, run_id: int | None) -> pd.DataFrame:
    query = select(
        PriceChange.decided_at.label("at"),
        PriceChange.new_price.label("price"),
        PriceChange.old_price,
        PriceChange.status,
    )
    query = (
        query.where(PriceChange.product_id == product_id)
        .order_by(PriceChange.run_id.desc())
        .limit(1)
    )
    if run_id is not None:
        query = query.where(PriceChange.run_id == run_id)
    frame = read_frame(conn, query)
    frame = frame[~frame["status"].isin(NOT_PROPOSED) & (frame["price"] != frame["old_price"])]
    return _points(frame, PROPOSED, "proposed")


def _costs(conn: Connection, product_id: int) -> pd.DataFrame:
    at_runs = read_frame(
        conn,
        select(PriceChange.decided_at.label("at"), PriceChange.cost.label("price")).where(
            PriceChange.product_id == product_id
        ),
    )
    offers = read_frame(
        conn,
        select(
            func.max(SupplierOffer.updated_at).label("at"),
            func.min(SupplierOffer.cost).label("price"),
        ).where(
            SupplierOffer.product_id == product_id,
            SupplierOffer.available.is_(True),
            SupplierOffer.cost.is_not(None),
        ),
    )
    frames = [f for f in (at_runs, offers.dropna()) if not f.empty]
    return (
        _points(pd.concat(frames, ignore_index=True), COST, "cost")
        if frames
        else pd.DataFrame(columns=POINT_COLUMNS)
    )


def _competitor_prices(conn: Connection, product_id: int, currency: str) -> pd.DataFrame:
    query = (
        select(
            Observation.observed_at.label("at"),
            Observation.price,
            Competitor.name.label("competitor"),
        )
        .join(Listing, Listing.id == Observation.listing_id)
        .join(Competitor, Competitor.id == Listing.competitor_id)
        .where(
            Listing.product_id == product_id,
            (Observation.currency == currency) | Observation.currency.is_(None),
        )
    )
    frame = read_frame(conn, trusted_observations(query))
    daily = read_frame(conn, _daily_prices(product_id, currency))
    frames = [f for f in (frame, daily) if not f.empty]
    if frames:
        frame = pd.concat(frames, ignore_index=True)
    return _points(frame, frame["competitor"], "competitor")


def _daily_prices(product_id: int, currency: str) -> Executable:
    """Each folded day's last price (observation_daily holds trusted prices only)."""
    day = ObservationDaily
    return (
        select(
            day.last_at.label("at"),
            day.last_price.label("price"),
            Competitor.name.label("competitor"),
        )
        .join(Listing, Listing.id == day.listing_id)
        .join(Competitor, Competitor.id == Listing.competitor_id)
        .where(
            Listing.product_id == product_id,
            Competitor.is_self.is_(False),
            (day.currency == currency) | day.currency.is_(None),
        )
    )


def _listings(conn: Connection, product_id: int) -> pd.DataFrame:
    latest = (
        select(func.max(Observation.id).label("id"))
        .join(Listing, Listing.id == Observation.listing_id)
        .where(Listing.product_id == product_id)
        .group_by(Observation.listing_id)
        .subquery()
    )
    query = (
        select(
            Competitor.name.label("competitor"),
            Listing.url,
            Listing.active,
            Observation.observed_at,
            Observation.status,
            Observation.price,
            Observation.availability,
            Observation.title,
        )
        .join(Competitor, Competitor.id == Listing.competitor_id)
        .outerjoin(
            Observation,
            (Observation.listing_id == Listing.id) & Observation.id.in_(select(latest.c.id)),
        )
        .where(Listing.product_id == product_id, Competitor.is_self.is_(False))
        .order_by(Competitor.name, Listing.id)
    )
    return as_money(read_frame(conn, query), "price")


def between(history: PriceHistory, start: datetime, end: datetime) -> PriceHistory:
    """``history`` with only the points in ``[start, end)`` (a chosen date range)."""
    at = history.points["at"]
    kept = history.points[(at >= utc_timestamp(start)) & (at < utc_timestamp(end))]
    return PriceHistory(
        history.sku, history.title, history.currency, kept.reset_index(drop=True), history.listings
    )
