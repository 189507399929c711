"""``listings list``: every listing with the outcome of its last crawl.

Last status: ``ok``, ``not found``, ``blocked``, ``mismatch`` (the page's GTIN differs
from ours), ``anomaly`` (the price jumped past the anomaly threshold), ``no price``,
``redirect``, ``timeout``, ``error``, or ``not crawled`` (no observation yet). A
listing in review or rejected is shown with its match status so it is not mistaken for
one that feeds prices.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from repricer.db.engine import session_scope
from repricer.db.models import Competitor, Listing, Observation, Product

_LABELS = {"not_found": "not found", "no_price": "no price"}


def last_status(status: str | None, is_mismatch: bool, is_anomaly: bool) -> str:
    """The label for a listing's newest observation."""
    if status is None:
        return "not crawled"
    if is_mismatch:
        return "mismatch"
    if is_anomaly:
        return "anomaly"
    return _LABELS.get(status, status)


def list_listings(
    engine: Engine, *, problems: bool = False, competitor: str | None = None
) -> list[dict[str, Any]]:
    """Listings with their last status, by SKU; ``problems`` keeps those whose last
    status is not ``ok`` or whose match is not accepted."""
    newest = (
        select(Observation.listing_id, func.max(Observation.id).label("id"))
        .group_by(Observation.listing_id)
        .subquery()
    )
    query = (
        select(
            Product.sku,
            Competitor.name,
            Listing.url,
            Listing.status,
            Listing.status_reason,
            Observation.status,
            Observation.is_mismatch,
            Observation.is_anomaly,
            Observation.observed_at,
            Observation.reason,
        )
        .join(Product, Product.id == Listing.product_id)
        .join(Competitor, Competitor.id == Listing.competitor_id)
        .outerjoin(newest, newest.c.listing_id == Listing.id)
        .outerjoin(Observation, Observation.id == newest.c.id)
        .where(Listing.active.is_(True))
        .order_by(Product.sku, Competitor.name, Listing.url)
    )
    if competitor:
        query = query.where(Competitor.name == competitor)
    rows = []
    with session_scope(engine) as session:
        for sku, name, url, match, why, status, mismatch, anomaly, seen, reason in session.execute(
            query
        ):
            label = last_status(status, bool(mismatch), bool(anomaly))
            if problems and label == "ok" and match == "accepted":
                continue
            rows.append({"sku": sku, "competitor": name, "url": url, "last_status": label,
                         "match": match, "checked_at": seen, "reason": why or reason})  # fmt: skip
    return rows
