"""The scheduled jobs: what each job id does, and the ``job_runs`` record around each run.

Job ids are fixed: ``feeds:<supplier>``, ``stock:<supplier>`` (a stock-only source),
``crawl:<competitor>``, ``reprice``, ``push``, ``stock-push``, ``review:expire`` and
``db:prune`` (retention, when ``retention.enabled``).
A job's work function returns a one-line detail, or raises to fail the run.
:func:`record_job_run` wraps every run so that it always ends as exactly one
``job_runs`` row with status ok, failed or aborted; nothing a job raises escapes it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine, update

from repricer.config import Settings
from repricer.db import session_scope
from repricer.db.models import JobRun, utcnow
from repricer.redact import redact

if TYPE_CHECKING:
    from repricer.crawl import CrawlResult

log = logging.getLogger(__name__)

REPRICE = "reprice"
PUSH = "push"
STOCK_PUSH = "stock-push"
STOCK_PUSH_WAIT_S = 120.0  # a stock push waits this long for a running price push
EXPIRE = "review:expire"
EXPIRE_EVERY = timedelta(hours=1)
PRUNE = "db:prune"


class JobFailed(Exception):
    """Raised by a job's work function when the work ran but did not succeed
    (a rejected feed, a failed crawl); the message becomes the run's detail."""


class NoNews(str):
    """A work function's detail meaning: done, and nothing changed, so the job's
    follow-up (``then``) is not requested (a feed that was not modified)."""

    __slots__ = ()


@dataclass(frozen=True)
class JobOutcome:
    """How a run ended: ok | failed | aborted, and its detail."""

    status: str
    detail: str

    @property
    def follow_up(self) -> bool:
        return self.status == "ok" and not isinstance(self.detail, NoNews)


@dataclass(frozen=True)
class JobContext:
    """What a work function gets: settings, engine and the scheduler's stop flag."""

    settings: Settings
    engine: Engine
    stopping: threading.Event


@dataclass(frozen=True)
class JobSpec:
    """One job. ``every`` None means it runs only when requested (reprice, push).

    ``then`` names the jobs a successful run requests next. A requested job with
    ``debounced`` runs ``scheduler.reprice_debounce`` after the last request (or
    ``debounce`` when set: a real-time window that the scheduler's speed does not
    compress); otherwise at once. ``executor`` "crawls" runs it in the crawl pool (``scheduler.crawl_workers``
    at once), so long crawls never hold up feed syncs and repricing.
    """

    id: str
    work: Callable[[JobContext], str]
    every: timedelta | None = None
    then: tuple[str, ...] = ()
    debounced: bool = True
    executor: str = "default"
    debounce: timedelta | None = None


def default_jobs(settings: Settings) -> list[JobSpec]:
    """The jobs the config asks for: a feed sync per supplier, a crawl per competitor
    (our own store included: its observations are history, not competitor prices),
    repricing, the push job, hourly expiry of stale approvals and the retention prune."""
    # Stock needs no approval: with auto_push, a feed that changed availability requests
    # a stock push right away (debounced by seconds), without waiting for the repricing.
    stock = settings.storefront.stock
    stock_push = (STOCK_PUSH,) if stock.mode != "off" and settings.storefront.auto_push else ()
    jobs = [
        JobSpec(f"feeds:{s.name}", _feed_work(s.name), s.every, then=(*stock_push, REPRICE))
        for s in settings.suppliers
    ]
    jobs += [
        JobSpec(f"stock:{s.name}", _stock_feed_work(s.name), s.stock_every, then=stock_push)
        for s in settings.suppliers
        if s.has_stock_source
    ]
    jobs += [
        JobSpec(f"crawl:{c.name}", _crawl_work(c.name), c.every, then=(REPRICE,), executor="crawls")
        for c in settings.competitors
    ]
    push = (PUSH,) if settings.storefront.auto_push else ()
    jobs.append(JobSpec(REPRICE, reprice_work, then=push))
    jobs.append(JobSpec(PUSH, push_work, debounced=False))
    if stock_push:
        jobs.append(JobSpec(STOCK_PUSH, stock_push_work, debounce=stock.debounce))
    jobs.append(JobSpec(EXPIRE, expire_work, EXPIRE_EVERY))
    if settings.retention.enabled:
        jobs.append(JobSpec(PRUNE, prune_work, settings.retention.every))
    return jobs


def record_job_run(
    engine: Engine, job_id: str, work: Callable[[], str], stopping: threading.Event
) -> JobOutcome:
    """Run ``work`` inside a job_runs row; return how it ended (ok | failed | aborted).

    A run that starts after a stop was requested is recorded as aborted without running;
    a run that fails while the scheduler is stopping is recorded as aborted, not failed.
    """
    with session_scope(engine) as session:
        run = JobRun(job_id=job_id, status="running")
        session.add(run)
        session.flush()
        run_id = run.id
    if stopping.is_set():
        status, detail = "aborted", "not started: the scheduler is stopping"
    else:
        status, detail = _run_safely(job_id, work, stopping)
    with session_scope(engine) as session:
        session.execute(
            update(JobRun)
            .where(JobRun.id == run_id)
            .values(status=status, detail=redact(detail)[:2000], finished_at=utcnow())
        )
    log.log(
        logging.INFO if status == "ok" else logging.WARNING, "%s: %s: %s", job_id, status, detail
    )
    return JobOutcome(status, detail)


def _run_safely(job_id: str, work: Callable[[], str], stopping: threading.Event) -> tuple[str, str]:
    try:
        return "ok", work()
    except Exception as exc:  # a job must never take the scheduler down
        if not isinstance(exc, JobFailed):
            log.exception("job %s raised", job_id)
        detail = str(exc) if isinstance(exc, JobFailed) else f"{type(exc).__name__}: {exc}"
        return ("aborted" if stopping.is_set() else "failed"), detail


def close_stale_runs(engine: Engine) -> int:
    """Close job runs left ``running`` by a scheduler that died as ``interrupted``;
    returns how many. Called by the scheduler holding the scheduler lease, so no live
    scheduler owns them."""
    with session_scope(engine) as session:
        result = session.execute(
            update(JobRun)
            .where(JobRun.status == "running")
            .values(
                status="interrupted",
                finished_at=utcnow(),
                detail="the scheduler process ended during the run",
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _feed_work(supplier: str) -> Callable[[JobContext], str]:
    def work(ctx: JobContext) -> str:
        from repricer.feeds import sync_feeds

        results = sync_feeds(ctx.settings, ctx.engine, supplier)
        detail = "; ".join(str(r) for r in results)
        if not all(r.ok for r in results):
            raise JobFailed(detail)
        if not any(r.changed or r.missing for r in results):
            return NoNews(detail)
        return detail

    return work


def _stock_feed_work(supplier: str) -> Callable[[JobContext], str]:
    def work(ctx: JobContext) -> str:
        from repricer.stock import sync_stock_feeds

        results = sync_stock_feeds(ctx.settings, ctx.engine, supplier)
        detail = "; ".join(str(r) for r in results)
        if not all(r.ok for r in results):
            raise JobFailed(detail)
        if not any(r.changed for r in results):
            return NoNews(detail)
        return detail

    return work


def _crawl_work(competitor: str) -> Callable[[JobContext], str]:
    def work(ctx: JobContext) -> str:
        from repricer.crawl import run_crawl

        timeout = ctx.settings.crawl.run_timeout.total_seconds()
        result = run_crawl(ctx.settings, competitors=[competitor], timeout=timeout)
        detail = describe_crawl(result)
        if result.status != "ok":
            raise JobFailed(f"{detail}: {result.error or 'no reason given'}")
        return detail

    return work


def describe_crawl(result: CrawlResult) -> str:
    """``crawl run 7 ok: 12 page(s) in 2.7 s; unhealthy: broken-shop``."""
    detail = f"crawl run {result.run_id} {result.status}: {result.pages} page(s) in {result.duration_s:.1f} s"
    unhealthy = [s.competitor for s in result.sites if not s.healthy]
    if unhealthy:
        detail += f"; unhealthy: {', '.join(unhealthy)}"
    return detail


def reprice_work(ctx: JobContext) -> str:
    """Reprice and apply (stored, superseding and auto-approved in one transaction)."""
    from repricer.flow import apply_repricing

    return apply_repricing(ctx.settings, ctx.engine).describe()


def push_work(ctx: JobContext) -> str:
    """Push every approved, unconfirmed change to the storefront."""
    from repricer.storefront import push_changes

    summary = push_changes(ctx.settings, ctx.engine)
    if summary.error or summary.failed:
        raise JobFailed(f"{summary}: {summary.error or summary.failures[:3]}")
    return str(summary)


def stock_push_work(ctx: JobContext) -> str:
    """Push the stock that changed since the last stock push."""
    from repricer.stock import push_stock

    summary = push_stock(ctx.settings, ctx.engine, wait=STOCK_PUSH_WAIT_S)
    if summary.error or summary.failed:
        raise JobFailed(f"{summary}: {summary.error or summary.failures[:3]}")
    return str(summary)


def expire_work(ctx: JobContext) -> str:
    """Expire approvals older than ``pricing.approval.expire_after``."""
    from repricer.review import expire_approvals

    return f"{expire_approvals(ctx.settings, ctx.engine)} approval(s) expired"


def prune_work(ctx: JobContext) -> str:
    """Delete history older than ``retention.older_than`` (see :mod:`repricer.retention`)."""
    from repricer.retention import prune

    result = prune(ctx.engine, ctx.settings.retention.older_than)
    return result.describe() if result.total else NoNews(result.describe())
