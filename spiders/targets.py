"""Which pages a crawl visits: active listings of configured competitors, from the DB."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, select

from repricer.catalog import sync_competitors
from repricer.config import CompetitorSettings, Settings
from repricer.db.engine import session_scope
from repricer.db.models import Competitor, Listing, Product


@dataclass(frozen=True)
class Target:
    """One listing to fetch."""

    listing_id: int
    url: str
    sku: str
    product_gtin: str | None
    competitor: CompetitorSettings


def load_targets(
    settings: Settings, engine: Engine, competitors: Sequence[str] = (), skus: Sequence[str] = ()
) -> list[Target]:
    """Active listings of the named competitors (default: all configured), optionally
    only for ``skus``. Unknown competitor names raise ``ConfigError``."""
    wanted = [settings.competitor(n) for n in competitors] or list(settings.competitors)
    by_name = {c.name: c for c in wanted}
    query = (
        select(Listing.id, Listing.url, Product.sku, Product.gtin, Competitor.name)
        .join(Product, Product.id == Listing.product_id)
        .join(Competitor, Competitor.id == Listing.competitor_id)
        .where(
            Listing.active.is_(True),
            Listing.status != "rejected",
            Competitor.name.in_(list(by_name)),
        )
        .order_by(Listing.id)
    )
    if skus:
        query = query.where(Product.sku.in_(list(skus)))
    with session_scope(engine) as session:
        sync_competitors(settings, session)
        rows = session.execute(query).all()
    return [Target(i, url, sku, gtin, by_name[name]) for i, url, sku, gtin, name in rows]
