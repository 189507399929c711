"""Where the pipeline stands: supplier feeds, competitor sites and the storefront push.

Each function reads the database only (the web workspace's Health page and the alerts
use them), a handful of small aggregate queries whatever the catalog size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, or_, select

from repricer.config import Settings
from repricer.db.models import (
    Competitor,
    CrawlRun,
    CrawlSiteStats,
    FeedSync,
    Listing,
    Observation,
    PriceChange,
    Product,
    PushAttempt,
    StockSync,
    Supplier,
)
from repricer.db.trusted import site_health_join, trusted_conditions
from repricer.feeds.status import feed_status

PROBLEM_SYNCS = ("rejected", "failed")
LISTING_PROBLEMS = ("blocked", "not_found")
PUSH_PROBLEMS = ("failed", "mismatch")
SAMPLE = 20


def supplier_health(settings: Settings, engine: Engine) -> list[dict[str, Any]]:
    """One row per configured supplier and stock-only source (see
    :func:`repricer.feeds.status.feed_status`) plus its recent rejected or failed syncs (``problems``: started_at, status, error)."""
    rows = feed_status(settings, engine)
    with engine.connect() as conn:
        for row in rows:
            row["problems"] = _problem_syncs(conn, row["supplier"], row["kind"])
    return rows


def _problem_syncs(conn: Connection, supplier: str, kind: str) -> list[dict[str, Any]]:
    syncs = FeedSync if kind == "feed" else StockSync
    query = (
        select(syncs.started_at, syncs.status, syncs.error)
        .join(Supplier, Supplier.id == syncs.supplier_id)
        .where(Supplier.name == supplier, syncs.status.in_(PROBLEM_SYNCS))
        .order_by(syncs.id.desc())
        .limit(5)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def competitor_health(engine: Engine) -> list[dict[str, Any]]:
    """One row per competitor site: the latest crawl's counts and health, and how many
    listings' latest observation is blocked, not found or a product mismatch."""
    latest_run = (
        select(CrawlSiteStats.competitor_id, func.max(CrawlSiteStats.crawl_run_id).label("run"))
        .group_by(CrawlSiteStats.competitor_id)
        .subquery()
    )
    stats = (
        select(
            Competitor.id,
            Competitor.name,
            Competitor.domain,
            CrawlRun.started_at.label("crawled_at"),
            CrawlSiteStats.crawl_run_id,
            CrawlSiteStats.ok,
            CrawlSiteStats.no_price,
            CrawlSiteStats.error,
            CrawlSiteStats.anomaly,
            CrawlSiteStats.mismatch,
            CrawlSiteStats.healthy,
        )
        .outerjoin(latest_run, latest_run.c.competitor_id == Competitor.id)
        .outerjoin(
            CrawlSiteStats,
            and_(
                CrawlSiteStats.competitor_id == Competitor.id,
                CrawlSiteStats.crawl_run_id == latest_run.c.run,
            ),
        )
        .outerjoin(CrawlRun, CrawlRun.id == CrawlSiteStats.crawl_run_id)
        .where(Competitor.is_self.is_(False))
        .order_by(Competitor.name)
    )
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(stats).mappings()]
        counts = _listing_problems(conn)
    for row in rows:
        row.update(counts.get(row["id"], {}))
        for key in (*LISTING_PROBLEMS, "mismatched"):
            row.setdefault(key, 0)
    return rows


def _listing_problems(conn: Connection) -> dict[int, dict[str, int]]:
    latest = select(func.max(Observation.id)).group_by(Observation.listing_id)
    query = (
        select(
            Listing.competitor_id,
            func.count().filter(Observation.status == "blocked").label("blocked"),
            func.count().filter(Observation.status == "not_found").label("not_found"),
            func.count().filter(Observation.is_mismatch.is_(True)).label("mismatched"),
        )
        .join(Listing, Listing.id == Observation.listing_id)
        .where(Observation.id.in_(latest), Listing.active.is_(True))
        .group_by(Listing.competitor_id)
    )
    return {
        int(r.competitor_id): {k: int(v) for k, v in r._mapping.items() if k != "competitor_id"}
        for r in conn.execute(query)
    }


def storefront_health(engine: Engine) -> dict[str, Any]:
    """The last push attempt, counts of changes whose latest attempt failed or showed a
    different price on read-back, and a sample of those (sku, status, error, when)."""
    latest = select(func.max(PushAttempt.id)).group_by(PushAttempt.price_change_id)
    problems = (
        select(
            PriceChange.sku,
            PushAttempt.status,
            PushAttempt.error,
            PushAttempt.attempted_at,
            PushAttempt.price,
            PriceChange.currency,
        )
        .join(PriceChange, PriceChange.id == PushAttempt.price_change_id)
        .where(PushAttempt.id.in_(latest), PushAttempt.status.in_(PUSH_PROBLEMS))
        .order_by(PushAttempt.id.desc())
    )
    counts = (
        select(PushAttempt.status, func.count())
        .where(PushAttempt.id.in_(latest), PushAttempt.status.in_(PUSH_PROBLEMS))
        .group_by(PushAttempt.status)
    )
    with engine.connect() as conn:
        last: datetime | None = conn.execute(select(func.max(PushAttempt.attempted_at))).scalar()
        counted = {str(status): int(n) for status, n in conn.execute(counts)}
        found = [dict(r) for r in conn.execute(problems.limit(SAMPLE)).mappings()]
    return {
        "last_push": last,
        "failed": counted.get("failed", 0),
        "mismatch": counted.get("mismatch", 0),
        "problems": found,
    }


@dataclass(frozen=True)
class Undercut:
    """A competitor's latest trusted price under our floor (of the latest decision) or MAP."""

    competitor: str
    sku: str
    price: int
    currency: str
    bound: int
    bound_name: str  # "MAP" or "floor"


def undercut_rows(conn: Connection) -> list[Undercut]:
    """Every active listing whose latest trusted observation is below the product's MAP
    or the floor its latest price change recorded (same currency only)."""
    latest = (
        select(func.max(Observation.id))
        .where(Observation.status == "ok")
        .group_by(Observation.listing_id)
    )
    floor = (
        select(PriceChange.floor)
        .where(PriceChange.product_id == Product.id)
        .order_by(PriceChange.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(
            Competitor.name, Product.sku, Observation.price, Product.currency,
            Product.map_price, floor.label("floor"),
        )
        .select_from(Observation)
        .join(Listing, Listing.id == Observation.listing_id)
        .join(Product, Product.id == Listing.product_id)
        .join(Competitor, Competitor.id == Listing.competitor_id)
        .outerjoin(CrawlSiteStats, site_health_join(Observation, Listing, CrawlSiteStats))
        .where(
            *trusted_conditions(Observation, Competitor, CrawlSiteStats),
            Observation.id.in_(latest),
            Listing.active.is_(True),
            or_(Observation.currency.is_(None), Observation.currency == Product.currency),
            or_(Observation.price < Product.map_price, Observation.price < floor),
        )
        .order_by(Competitor.name, Product.sku)
    )  # fmt: skip
    found = []
    for name, sku, price, currency, map_price, floor_value in conn.execute(query):
        below_map = map_price is not None and price < map_price
        bound, label = (map_price, "MAP") if below_map else (floor_value, "floor")
        found.append(Undercut(name, sku, int(price), currency, int(bound), label))
    return found
