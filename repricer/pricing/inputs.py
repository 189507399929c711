"""Load what a repricing run decides from: products with costs, and usable observations.

Products come with their effective supplier cost and availability
(:func:`repricer.feeds.effective.effective_costs`; a cost in another currency than the
pricing currency counts as unknown) and the time of their last approved or pushed price
change (for ``cooldown``). Observations are the latest usable one per listing: status
ok with a positive price, not after ``now`` and not older than ``max_age``, in the pricing
currency (or none given), from an active, accepted listing with confidence >=
``crawl.min_confidence``, not our own store (``is_self``), not an anomaly or mismatch,
and not from a (crawl run, competitor) marked unhealthy. Each rule then applies its own
``stale_after`` and competitor subset in the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import pandas as pd
from sqlalchemy import Connection, Select, Table, func, or_, select

from repricer.config import Settings
from repricer.db.models import (
    Competitor,
    CrawlSiteStats,
    Listing,
    Observation,
    PriceChange,
    Product,
)
from repricer.db.trusted import site_health_join, trusted_conditions
from repricer.feeds.effective import effective_costs

PRODUCT_COLUMNS = [
    "product_id", "sku", "category", "brand", "tags", "currency", "price", "stock",
    "map_price", "min_price", "max_price",
]  # fmt: skip
OBSERVATION_COLUMNS = ["product_id", "competitor", "price", "in_stock", "observed_at"]
_products = cast(Table, Product.__table__)
_obs = cast(Table, Observation.__table__)
_listings = cast(Table, Listing.__table__)
_competitors = cast(Table, Competitor.__table__)
_stats = cast(Table, CrawlSiteStats.__table__)
_changes = cast(Table, PriceChange.__table__)


@dataclass(frozen=True)
class Inputs:
    """The frames :func:`repricer.pricing.core.decide` takes."""

    products: pd.DataFrame
    observations: pd.DataFrame


def load_inputs(
    conn: Connection,
    settings: Settings,
    *,
    now: datetime,
    max_age: timedelta,
    skus: list[str] | None = None,
) -> Inputs:
    """Products (all, or those with the given SKUs) and their usable observations."""
    products = load_products(conn, settings.pricing.currency, skus)
    observations = load_observations(conn, settings, now=now, max_age=max_age)
    observations = observations[observations["product_id"].isin(products["product_id"])]
    return Inputs(products, observations.reset_index(drop=True))


def load_products(conn: Connection, currency: str, skus: list[str] | None = None) -> pd.DataFrame:
    """Product rows with cost, supplier_available and last_change_at columns."""
    stmt = select(
        _products.c.id.label("product_id"), *(_products.c[c] for c in PRODUCT_COLUMNS[1:])
    )
    if skus:
        stmt = stmt.where(_products.c.sku.in_(skus))
    products = _frame(conn, stmt.order_by(_products.c.id), PRODUCT_COLUMNS)
    for column in ("price", "stock", "map_price", "min_price", "max_price"):
        products[column] = products[column].astype("Int64")
    costs = effective_costs(conn)
    costs = costs[costs["currency"] == currency]
    costs = costs.rename(columns={"available": "supplier_available"})[
        ["product_id", "cost", "supplier_available"]
    ]
    products = products.merge(costs, on="product_id", how="left")
    products["cost"] = products["cost"].astype("Int64")
    products["supplier_available"] = products["supplier_available"].astype("boolean")
    return products.merge(_last_changes(conn), on="product_id", how="left")


def _last_changes(conn: Connection) -> pd.DataFrame:
    stmt = (
        select(_changes.c.product_id, func.max(_changes.c.decided_at).label("last_change_at"))
        .where(
            _changes.c.status.in_(("approved", "pushed")),
            _changes.c.new_price != _changes.c.old_price,
        )
        .group_by(_changes.c.product_id)
    )
    frame = _frame(conn, stmt, ["product_id", "last_change_at"])
    frame["last_change_at"] = pd.to_datetime(frame["last_change_at"], utc=True)
    return frame


def load_observations(
    conn: Connection, settings: Settings, *, now: datetime, max_age: timedelta
) -> pd.DataFrame:
    """The latest usable observation per listing (see the module docstring); the
    database picks it (a window function), so the load grows with listings, not history."""
    o, lst, comp, stats = _obs, _listings, _competitors, _stats
    newest_first = func.row_number().over(
        partition_by=o.c.listing_id, order_by=(o.c.observed_at.desc(), o.c.id.desc())
    )
    usable = (
        select(
            lst.c.product_id,
            comp.c.name.label("competitor"),
            o.c.price,
            o.c.availability,
            o.c.observed_at,
            newest_first.label("newest"),
        )
        .join(lst, lst.c.id == o.c.listing_id)
        .join(comp, comp.c.id == lst.c.competitor_id)
        .outerjoin(stats, site_health_join(o.c, lst.c, stats.c))
        .where(
            *trusted_conditions(o.c, comp.c, stats.c),
            o.c.observed_at <= now,
            o.c.observed_at >= now - max_age,
            or_(o.c.currency.is_(None), o.c.currency == settings.pricing.currency),
            lst.c.active.is_(True),
            lst.c.status == "accepted",
            lst.c.confidence >= settings.crawl.min_confidence,
        )
        .subquery()
    )
    columns = ["product_id", "competitor", "price", "availability", "observed_at"]
    stmt = select(*(usable.c[name] for name in columns)).where(usable.c.newest == 1)
    rows = _frame(conn, stmt, columns)
    rows["observed_at"] = pd.to_datetime(rows["observed_at"], utc=True)
    rows["in_stock"] = rows["availability"] != "out_of_stock"
    frame = rows[OBSERVATION_COLUMNS].sort_values(["product_id", "competitor"], kind="stable")
    types = {"product_id": "int64", "price": "int64", "in_stock": "bool"}
    return frame.astype(types).reset_index(drop=True)


def _frame(conn: Connection, stmt: Select[Any], columns: list[str]) -> pd.DataFrame:
    """A query's rows as a frame; plain tuples, which pandas reads much faster than Rows."""
    rows = list(map(tuple, conn.execute(stmt).all()))
    return pd.DataFrame.from_records(rows, columns=columns)
