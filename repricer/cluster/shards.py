"""Split a crawl into shards: one per competitor, a competitor with more than
``shard_size`` active listings into SKU ranges of at most that many listings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, select

from repricer.db.engine import session_scope
from repricer.db.models import Competitor, CrawlShard, Listing, Product


@dataclass(frozen=True)
class ShardPlan:
    """Listings of ``competitor`` whose SKU is in ``sku_from``..``sku_to`` (inclusive;
    None: unbounded)."""

    competitor: str
    sku_from: str | None
    sku_to: str | None
    listings: int


def plan_shards(
    engine: Engine, competitors: Sequence[str], shard_size: int, skus: Sequence[str] = ()
) -> list[ShardPlan]:
    query = (
        select(Competitor.name, Product.sku)
        .join(Listing, Listing.competitor_id == Competitor.id)
        .join(Product, Product.id == Listing.product_id)
        .where(Listing.active.is_(True), Competitor.name.in_(list(competitors)))
    )
    if skus:
        query = query.where(Product.sku.in_(list(skus)))
    listed: dict[str, Counter[str]] = {name: Counter() for name in competitors}
    with session_scope(engine) as session:
        for name, sku in session.execute(query):
            listed[name][sku] += 1  # a SKU listed twice on one site stays in one shard
    plans: list[ShardPlan] = []
    for name, counts in listed.items():
        total = sum(counts.values())
        if total == 0:
            continue
        if total <= shard_size:
            plans.append(ShardPlan(name, None, None, total))
            continue
        chunk: list[str] = []
        size = 0
        for sku in sorted(counts):
            if chunk and size + counts[sku] > shard_size:
                plans.append(ShardPlan(name, chunk[0], chunk[-1], size))
                chunk, size = [], 0
            chunk.append(sku)
            size += counts[sku]
        plans.append(ShardPlan(name, chunk[0], chunk[-1], size))
    return plans


def create_shards(engine: Engine, run_id: int, plans: Sequence[ShardPlan]) -> list[int]:
    """Insert ``pending`` crawl_shards rows for a run; their ids in plan order."""
    with session_scope(engine) as session:
        rows = [
            CrawlShard(crawl_run_id=run_id, competitor=p.competitor, sku_from=p.sku_from,
                       sku_to=p.sku_to, listings=p.listings, status="pending")
            for p in plans
        ]  # fmt: skip
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]
