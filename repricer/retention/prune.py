"""``repricer db prune``: delete what is older than a cutoff and no longer live.

What goes, in one transaction (a dry run makes the same moves and rolls them back, so
its counts are exact):

- observations older than the cutoff, thinned as in :mod:`repricer.retention.observations`
  (the latest per listing stays; the rest become ``observation_daily`` rows);
- price changes of repricing runs started before the cutoff whose status is final and
  needs no more work (:data:`PRUNABLE`), with their push attempts; a change that is
  pending, approved, being pushed, failed (waiting for a retry) or a mismatch (shown as
  a push problem) stays, and so does its run. The newest run is never pruned;
- repricing runs started before the cutoff with no change left, with their stored inputs;
- finished job runs started before the cutoff, except the latest of each job;
- finished crawl runs started before the cutoff that no kept observation comes from
  (their site health still decides whether that observation is trusted), with their
  shards and site stats; the latest crawl run stays.

Supplier offers, products, listings, feed syncs, holds and leases are current state,
not history, and are never touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, and_, delete, func, select

from repricer.db.models import (
    CrawlRun,
    CrawlShard,
    CrawlSiteStats,
    JobRun,
    Observation,
    ObservationDaily,
    PriceChange,
    PushAttempt,
    RepricingRun,
    RepricingRunInputs,
    utcnow,
)
from repricer.retention.observations import thin_observations

# Final states nothing reads again (review, push, verification and health ignore them).
PRUNABLE = (
    "unchanged", "skipped", "rejected", "expired", "superseded", "held", "pushed", "confirmed",
)  # fmt: skip
TABLES = (
    "observations", "price_changes", "push_attempts", "repricing_runs",
    "repricing_run_inputs", "job_runs", "crawl_runs", "crawl_shards", "crawl_site_stats",
)  # fmt: skip
_FINISHED_CRAWL = ("ok", "failed", "aborted", "interrupted")

_obs = cast(Table, Observation.__table__)
_changes = cast(Table, PriceChange.__table__)
_attempts = cast(Table, PushAttempt.__table__)
_runs = cast(Table, RepricingRun.__table__)
_inputs = cast(Table, RepricingRunInputs.__table__)
_jobs = cast(Table, JobRun.__table__)
_crawls = cast(Table, CrawlRun.__table__)
_shards = cast(Table, CrawlShard.__table__)
_site_stats = cast(Table, CrawlSiteStats.__table__)
_daily = cast(Table, ObservationDaily.__table__)


@dataclass(frozen=True)
class PruneResult:
    """What a prune deleted (or, with ``dry_run``, would delete): rows per table in
    ``deleted`` (every table of :data:`TABLES`), and ``daily_rows`` observation_daily
    rows written (new days plus days merged)."""

    cutoff: datetime
    dry_run: bool
    deleted: dict[str, int] = field(default_factory=dict)
    daily_rows: int = 0

    @property
    def total(self) -> int:
        return sum(self.deleted.values())

    def describe(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        parts = ", ".join(f"{n} {t}" for t, n in self.deleted.items() if n)
        return f"{verb} {parts or 'nothing'} older than {self.cutoff:%Y-%m-%d %H:%M} UTC"


def prune(
    engine: Engine,
    older_than: timedelta,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
) -> PruneResult:
    """Delete history older than ``now - older_than`` that nothing live needs (see the
    module docstring), in one transaction; with ``dry_run`` roll it back after counting."""
    if older_than <= timedelta(0):
        raise ValueError("older_than must be positive")
    cutoff = (now or utcnow()) - older_than
    deleted: dict[str, int] = {}
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            deleted["observations"], daily = thin_observations(conn, cutoff)
            deleted.update(_prune_runs(conn, cutoff))
            deleted["job_runs"] = _prune_job_runs(conn, cutoff)
            deleted.update(_prune_crawl_runs(conn, cutoff))
        except BaseException:
            transaction.rollback()
            raise
        if dry_run:
            transaction.rollback()
        else:
            transaction.commit()
    return PruneResult(cutoff, dry_run, {t: deleted.get(t, 0) for t in TABLES}, daily)


def _count(conn: Connection, stmt: Any) -> int:
    return int(conn.execute(stmt).rowcount or 0)


def _prune_runs(conn: Connection, cutoff: datetime) -> dict[str, int]:
    newest = _newest(_runs)
    old_runs = select(_runs.c.id).where(_runs.c.started_at < cutoff, _runs.c.id != newest)
    doomed = select(_changes.c.id).where(
        _changes.c.run_id.in_(old_runs), _changes.c.status.in_(PRUNABLE)
    )
    counts = {
        "push_attempts": _count(
            conn, delete(_attempts).where(_attempts.c.price_change_id.in_(doomed))
        ),
        "price_changes": _count(conn, delete(_changes).where(_changes.c.id.in_(doomed))),
    }
    empty = old_runs.where(~select(_changes.c.id).where(_changes.c.run_id == _runs.c.id).exists())
    empty_ids = [row[0] for row in conn.execute(empty)]
    counts["repricing_run_inputs"] = _count_in(conn, _inputs, _inputs.c.run_id, empty_ids)
    counts["repricing_runs"] = _count_in(conn, _runs, _runs.c.id, empty_ids)
    return counts


def _newest(table: Table) -> Any:
    """SQL: the highest id of ``table`` (over an alias, so it never correlates)."""
    other = table.alias(f"newest_{table.name}")
    return select(func.max(other.c.id)).scalar_subquery()


def _count_in(conn: Connection, table: Table, column: Any, ids: list[int]) -> int:
    """Delete the rows whose ``column`` is in ``ids``, in chunks; returns how many."""
    total = 0
    for start in range(0, len(ids), 5000):
        total += _count(conn, delete(table).where(column.in_(ids[start : start + 5000])))
    return total


def _prune_job_runs(conn: Connection, cutoff: datetime) -> int:
    jobs = _jobs.alias("latest_jobs")  # an alias: a subquery of the table being deleted from
    latest = select(func.max(jobs.c.id)).group_by(jobs.c.job_id)
    return _count(
        conn,
        delete(_jobs).where(
            _jobs.c.started_at < cutoff,
            _jobs.c.status != "running",
            _jobs.c.id.not_in(latest),
        ),
    )


def _prune_crawl_runs(conn: Connection, cutoff: datetime) -> dict[str, int]:
    newest = _newest(_crawls)
    used = select(_obs.c.id).where(_obs.c.crawl_run_id == _crawls.c.id).exists()
    old = select(_crawls.c.id).where(
        and_(_crawls.c.started_at < cutoff, _crawls.c.status.in_(_FINISHED_CRAWL)),
        _crawls.c.id != newest,
        ~used,
    )
    ids = [row[0] for row in conn.execute(old)]
    return {
        "crawl_shards": _count_in(conn, _shards, _shards.c.crawl_run_id, ids),
        "crawl_site_stats": _count_in(conn, _site_stats, _site_stats.c.crawl_run_id, ids),
        "crawl_runs": _count_in(conn, _crawls, _crawls.c.id, ids),
    }
