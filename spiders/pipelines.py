"""``ObservationStorePipeline``: validate observation items, flag anomalies and GTIN
mismatches, store them in batches, and write per-competitor health for the run.

A batch is stored (one transaction) every ``BATCH_SIZE`` pages, or when a page arrives
``FLUSH_EVERY_S`` seconds or more after the last store, and whatever is left when the
spider closes. A crawl killed outright (SIGKILL, power loss) therefore loses at most
the pages of one batch; they are fetched again by the next run.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from repricer.config import Settings
from repricer.db.engine import session_scope
from repricer.db.models import Competitor, CrawlRun, CrawlSiteStats, Observation, utcnow
from repricer.matching.recheck import recheck_run
from spiders.items import AVAILABILITIES, STATUSES, ObservationItem
from spiders.shard import ShardClaim

log = logging.getLogger(__name__)
BATCH_SIZE = 200
FLUSH_EVERY_S = 5.0
_COLUMNS = (
    "listing_id", "status", "price", "old_price", "currency", "availability", "method",
    "http_status", "reason", "title", "gtin",
)  # fmt: skip


class ObservationStorePipeline:
    """Needs ``spider.repricer_settings``, ``spider.engine`` and ``spider.run_id``."""

    def __init__(
        self, settings: Settings, engine: Engine, run_id: int, shard: ShardClaim | None = None
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.run_id = run_id
        self.shard = shard
        self.lost = False
        self.on_lost: Callable[[], None] = lambda: None
        self.threshold = Decimal(settings.crawl.anomaly_threshold)
        self.pending: list[dict[str, Any]] = []
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        self.last_good: dict[int, tuple[int, str | None]] = {}
        self.flushed_at = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Any) -> ObservationStorePipeline:
        spider = crawler.spider
        pipeline = cls(
            spider.repricer_settings, spider.engine, spider.run_id, getattr(spider, "shard", None)
        )
        pipeline.on_lost = lambda: crawler.engine.close_spider(spider, "shard_reassigned")
        return pipeline

    def open_spider(self) -> None:
        self.last_good = load_last_good(self.engine)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ObservationItem) or self.lost:
            return item
        row = self.to_row(item)
        self.pending.append(row)
        counts = self.counts[item.competitor]
        counts[_bucket(row["status"])] += 1
        counts["anomaly"] += row["is_anomaly"]
        counts["mismatch"] += row["is_mismatch"]
        if len(self.pending) >= BATCH_SIZE or time.monotonic() - self.flushed_at >= FLUSH_EVERY_S:
            self.flush()
        return item

    def close_spider(self) -> None:
        self.flush()
        self.write_site_stats()
        moved = recheck_run(self.engine, self.run_id, self.settings.matching.drift_similarity)
        if moved:
            log.warning("%d listing(s) back to review: the page contradicts the match", len(moved))

    def to_row(self, item: ObservationItem) -> dict[str, Any]:
        """Validated DB row: unknown statuses become ``error``; a price only with ``ok``."""
        row = {k: getattr(item, k) for k in _COLUMNS}
        if row["status"] not in STATUSES:
            row.update(status="error", reason=f"invalid status {row['status']!r}")
        if row["status"] == "ok" and not (isinstance(item.price, int) and item.price > 0):
            row.update(status="no_price", reason=row["reason"] or "no valid price")
        if row["status"] != "ok":
            row.update(price=None, old_price=None)
        elif item.old_price is not None and item.old_price <= (item.price or 0):
            row["old_price"] = None
        if row["availability"] not in AVAILABILITIES:
            row["availability"] = "unknown"
        row.update(
            crawl_run_id=self.run_id,
            observed_at=utcnow(),
            title=(row["title"] or None) and row["title"][:500],
            gtin=row["gtin"] if row["gtin"] and len(row["gtin"]) <= 14 else None,
            is_anomaly=self.is_anomaly(item.listing_id, row["price"], row["currency"]),
            is_mismatch=is_mismatch(item.product_gtin, row["gtin"]),
        )
        return row

    def is_anomaly(self, listing_id: int, price: int | None, currency: str | None) -> bool:
        """Price moved more than the threshold from the listing's last ``ok`` price."""
        if price is None:
            return False
        last = self.last_good.get(listing_id)
        self.last_good[listing_id] = (price, currency)
        if last is None or last[1] != currency or last[0] <= 0:
            return False
        return abs(Decimal(price - last[0])) / Decimal(last[0]) > self.threshold

    def flush(self) -> None:
        self.flushed_at = time.monotonic()
        if not self.pending or self.lost:
            return
        with session_scope(self.engine) as session:
            if self.shard is not None and not self.shard.store(session, len(self.pending)):
                log.warning("shard %s was given to another job: stopping", self.shard.shard_id)
                self.lost, self.pending = True, []
                self.on_lost()
                return
            session.execute(insert(Observation), self.pending)
            session.execute(
                update(CrawlRun)
                .where(CrawlRun.id == self.run_id)
                .values(pages=CrawlRun.pages + len(self.pending))
            )
        self.pending = []

    def write_site_stats(self) -> None:
        """Add this process's counts to the run's per-competitor stats (the shards of a
        large competitor each add theirs) and judge the site on the totals."""
        if self.lost:
            return
        share = Decimal(self.settings.crawl.unhealthy_share)
        with session_scope(self.engine) as session:
            ids = dict(session.execute(select(Competitor.name, Competitor.id)).all())
            for name, c in self.counts.items():
                stats = session.execute(
                    select(CrawlSiteStats).where(
                        CrawlSiteStats.crawl_run_id == self.run_id,
                        CrawlSiteStats.competitor_id == ids[name],
                    )
                ).scalar_one_or_none()
                if stats is None:
                    stats = CrawlSiteStats(crawl_run_id=self.run_id, competitor_id=ids[name],
                                           ok=0, no_price=0, error=0, anomaly=0, mismatch=0)  # fmt: skip
                    session.add(stats)
                for key in ("ok", "no_price", "error", "anomaly", "mismatch"):
                    setattr(stats, key, getattr(stats, key) + c[key])
                total = stats.ok + stats.no_price + stats.error
                bad = stats.no_price + stats.error + stats.anomaly
                stats.healthy = total == 0 or Decimal(bad) / Decimal(total) <= share
                if not stats.healthy:
                    log.warning("competitor %s unhealthy in run %s: %s", name, self.run_id, dict(c))


def load_last_good(engine: Engine) -> dict[int, tuple[int, str | None]]:
    """listing id -> (price, currency) of its latest ``ok`` observation."""
    latest = (
        select(func.max(Observation.id).label("id"))
        .where(Observation.status == "ok")
        .group_by(Observation.listing_id)
        .subquery()
    )
    query = select(Observation.listing_id, Observation.price, Observation.currency).join(
        latest, latest.c.id == Observation.id
    )
    with session_scope(engine) as session:
        return {lid: (price, cur) for lid, price, cur in session.execute(query).all() if price}


def is_mismatch(product_gtin: str | None, page_gtin: str | None) -> bool:
    """Both GTINs known and different (leading zeros ignored: GTIN-13 == GTIN-14)."""
    if not product_gtin or not page_gtin:
        return False
    return product_gtin.lstrip("0") != page_gtin.lstrip("0")


def _bucket(status: str) -> str:
    return status if status in ("ok", "no_price") else "error"
