"""A crawl shard as seen from the spider on a Scrapyd node.

The dispatcher (``repricer.cluster.dispatch``) names one job per shard on the
``crawl_shards`` row. The spider stores a batch of observations only in a transaction
that confirms the row still names its job (:meth:`ShardClaim.store`), and marks the shard
``ok`` only if it finished while still named (:meth:`ShardClaim.finish`). A job the
dispatcher gave up (its node went silent) therefore stores nothing more and stops.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Engine, select, update
from sqlalchemy.orm import Session

from repricer.db.engine import session_scope
from repricer.db.models import CrawlShard, Observation, utcnow
from spiders.targets import Target


@dataclass(frozen=True)
class ShardClaim:
    shard_id: int
    job_id: str

    def _mine(self) -> tuple[ColumnElement[bool], ...]:
        return (
            CrawlShard.id == self.shard_id,
            CrawlShard.job_id == self.job_id,
            CrawlShard.status == "running",
        )

    def store(self, session: Session, pages: int) -> bool:
        """Count ``pages`` on the shard inside the caller's transaction; False when the
        shard is no longer this job's (the caller must then store nothing)."""
        moved = session.execute(
            update(CrawlShard).where(*self._mine()).values(pages=CrawlShard.pages + pages)
        ).rowcount  # type: ignore[attr-defined]
        return bool(moved)

    def finish(self, engine: Engine, reason: str) -> None:
        """``ok`` when the spider finished; any other close reason is left for the
        dispatcher to retry, with the reason noted."""
        values: dict[str, object] = (
            {"status": "ok", "finished_at": utcnow(), "error": None}
            if reason == "finished"
            else {"error": f"spider closed: {reason}"}
        )
        with session_scope(engine) as session:
            session.execute(update(CrawlShard).where(*self._mine()).values(**values))


def shard_targets(
    engine: Engine,
    targets: Sequence[Target],
    run_id: int,
    sku_from: str | None,
    sku_to: str | None,
) -> list[Target]:
    """Targets in the shard's SKU range (compared as Python strings, as the dispatcher
    split them) that no earlier attempt of this run has observed yet."""
    with session_scope(engine) as session:
        seen = set(
            session.scalars(
                select(Observation.listing_id).where(Observation.crawl_run_id == run_id)
            )
        )
    return [
        t
        for t in targets
        if t.listing_id not in seen
        and (sku_from is None or t.sku >= sku_from)
        and (sku_to is None or t.sku <= sku_to)
    ]
