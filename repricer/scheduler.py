"""The scheduler: one process running feed syncs, crawls, repricing and pushes on time.

APScheduler 3.x with its SQLAlchemy job store in the app database (table
``apscheduler_jobs``). Periodic jobs have fixed ids and are replaced at every start, so the
store always mirrors the config; a job keeps its stored next run time across restarts
(clamped to one interval). Every job has ``max_instances=1``, ``coalesce`` and a misfire
grace time; crawls run in their own pool (``scheduler.crawl_workers``) so they never hold
up feed syncs. A feed sync that changed something, or a crawl, requests ``reprice`` after
``scheduler.reprice_debounce`` (each new request pushes it back); a repricing run requests
``push`` when ``storefront.auto_push`` is on (see :func:`repricer.jobs.default_jobs`).
A feed sync (full or stock-only) that changed something also requests ``stock-push``
after ``storefront.stock.debounce``, in real time whatever the speed.

``speed`` divides every interval, the debounce and the grace time (the grace time never
below 30 s): ``speed=60`` turns 15 minutes into 15 seconds (the demo and the tests use it).

Stopping (SIGTERM, SIGINT or ``stop_event``): no new job starts; running jobs finish,
and a running crawl child process is sent SIGTERM (Scrapy stops gracefully; its crawl run
is closed as ok, failed or aborted either way, never left running).
One scheduler acts per database: it holds the database's ``scheduler`` lease
(:mod:`repricer.lease`) while it runs. Another one started meanwhile waits as a standby
(logging who holds it) and takes over within ``database.lease_ttl`` (30 s) of the
holder's death, even a ``kill -9``; with ``standby=False`` it raises
:class:`~repricer.exceptions.LeaseHeldError` naming the holder instead. A scheduler that
loses its lease (stalled past the ttl) stops and raises
:class:`~repricer.exceptions.LeaseLostError`.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, func, inspect, select

from repricer.alerts import check_after_job
from repricer.config import Settings
from repricer.db import make_engine, session_scope
from repricer.db.models import JobRun
from repricer.exceptions import LeaseHeldError, LeaseLostError
from repricer.jobs import JobContext, JobSpec, close_stale_runs, default_jobs, record_job_run
from repricer.lease import SCHEDULER, Lease, LeaseHolder

log = logging.getLogger(__name__)

JOBSTORE_TABLE = "apscheduler_jobs"
MAX_WORKERS = 4  # feed syncs, repricing, push; crawls have their own pool
MIN_GRACE_S = 30.0
_active: _Runner | None = None  # the scheduler of this process (a job store needs a plain function)


def run_scheduler(
    settings: Settings,
    *,
    stop_event: threading.Event | None = None,
    speed: float = 1.0,
    jobs: Sequence[JobSpec] | None = None,
    engine: Engine | None = None,
    standby: bool = True,
) -> None:
    """Run the scheduler until ``stop_event`` is set (or SIGTERM/SIGINT in the main
    thread); returns after running jobs have finished. ``jobs`` replaces the jobs the
    config asks for (tests use their own). Holds the scheduler lease throughout; see
    the module docstring for ``standby`` and a lost lease."""
    global _active
    if speed <= 0:
        raise ValueError("speed must be positive")
    stop = stop_event or threading.Event()
    lost = threading.Event()
    own_engine = engine is None
    engine = engine or make_engine(settings.database.url)
    runner = _Runner(settings, engine, list(jobs or default_jobs(settings)), speed, stop)
    try:
        with _signals_set(stop), _scheduler_lease(settings, engine, stop, lost, standby) as held:
            if not held:
                return
            _active = runner
            try:
                runner.start()
                stop.wait()
            finally:
                runner.shutdown()
    finally:
        if _active is runner:
            _active = None
        if own_engine:
            engine.dispose()
    if lost.is_set():
        raise LeaseLostError(SCHEDULER)


@contextmanager
def _scheduler_lease(
    settings: Settings,
    engine: Engine,
    stop: threading.Event,
    lost: threading.Event,
    standby: bool,
) -> Iterator[bool]:
    """Hold the scheduler lease (yields True); yields False when stopped while waiting."""

    def on_wait(holder: LeaseHolder) -> None:
        log.warning(
            "standby: the scheduler lease is held by %s; taking over when it ends or lapses",
            holder.describe(),
        )

    def on_lost() -> None:
        lost.set()
        stop.set()

    lease = Lease(engine, SCHEDULER, ttl=settings.database.lease_ttl, on_lost=on_lost)
    try:
        lease.acquire(wait=None if standby else 0.0, on_wait=on_wait, stop=stop)
    except LeaseHeldError:
        if standby and stop.is_set():
            yield False
            return
        raise
    try:
        log.info("scheduler lease taken: this process acts for the database")
        yield True
    finally:
        lease.release()


def _execute_job(job_id: str) -> None:
    """What the job store refers to; dispatches to this process's scheduler."""
    runner = _active
    if runner is None:
        log.warning("job %s fired with no scheduler running; ignored", job_id)
        return
    runner.execute(job_id)


class _Runner:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        jobs: list[JobSpec],
        speed: float,
        stop: threading.Event,
    ) -> None:
        self.settings, self.engine, self.speed, self.stop = settings, engine, speed, stop
        self.jobs = {job.id: job for job in jobs}
        self.context = JobContext(settings, engine, stop)
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBSTORE_TABLE)},
            executors={
                "default": ThreadPoolExecutor(MAX_WORKERS),
                "crawls": ThreadPoolExecutor(settings.scheduler.crawl_workers),
            },
            job_defaults={
                "max_instances": 1,
                "coalesce": True,
                "misfire_grace_time": self.grace_seconds(),
            },
            timezone=settings.scheduler.timezone,
        )
        self.scheduler.add_listener(self._on_max_instances, EVENT_JOB_MAX_INSTANCES)

    def scaled(self, delta: timedelta) -> float:
        return max(delta.total_seconds() / self.speed, 0.05)

    def grace_seconds(self) -> int:
        # Compressed like every interval, but never under MIN_GRACE_S: starting a job
        # (a crawl process, a thread) takes real time that no speed factor shrinks.
        grace = self.settings.scheduler.misfire_grace.total_seconds()
        return int(max(self.scaled(self.settings.scheduler.misfire_grace), min(grace, MIN_GRACE_S)))

    def start(self) -> None:
        stale = close_stale_runs(self.engine)
        if stale:
            log.warning(
                "%d job run(s) left running by a dead scheduler closed as interrupted", stale
            )
        self.scheduler.start(paused=True)
        stored = {job.id: job.next_run_time for job in self.scheduler.get_jobs()}
        self.scheduler.remove_all_jobs()
        now = datetime.now(UTC)
        for spec in self.jobs.values():
            if spec.every is not None:
                self._add_periodic(spec, stored.get(spec.id), now)
        for job_id in set(stored) & set(self.jobs):
            if self.jobs[job_id].every is None:
                self.request(job_id)  # a repricing or push asked for before the last stop
        self.scheduler.resume()
        log.info("scheduler started: %s (speed %g)", ", ".join(sorted(self.jobs)), self.speed)

    def _add_periodic(self, spec: JobSpec, stored: datetime | None, now: datetime) -> None:
        assert spec.every is not None
        interval = timedelta(seconds=self.scaled(spec.every))
        first = now if stored is None else min(max(stored, now), now + interval)
        self.scheduler.add_job(
            _execute_job,
            IntervalTrigger(seconds=interval.total_seconds(), start_date=first),
            args=[spec.id],
            id=spec.id,
            name=spec.id,
            executor=spec.executor,
            next_run_time=first,
            replace_existing=True,
        )

    def request(self, job_id: str, *, retry: bool = False) -> None:
        """Run ``job_id`` once, after the debounce if it is debounced (or if this
        retries a request that found the job still running); a new request pushes a
        pending run back."""
        spec = self.jobs.get(job_id)
        if self.stop.is_set() or spec is None:
            return
        debounce = self.scaled(self.settings.scheduler.reprice_debounce)
        if spec.debounce is not None:
            debounce = spec.debounce.total_seconds()  # real time: not compressed by speed
        delay = debounce if spec.debounced else (max(debounce, 1.0) if retry else 0.0)
        self.scheduler.add_job(
            _execute_job,
            "date",
            run_date=datetime.now(UTC) + timedelta(seconds=delay),
            args=[job_id],
            id=job_id,
            name=job_id,
            executor=spec.executor,
            replace_existing=True,
        )

    def execute(self, job_id: str) -> None:
        spec = self.jobs.get(job_id)
        if spec is None:
            log.warning("job %s is not configured; ignored", job_id)
            return
        outcome = record_job_run(self.engine, job_id, lambda: spec.work(self.context), self.stop)
        check_after_job(self.settings, self.engine, job_id)  # alerts the job may have raised
        if outcome.follow_up:
            for follow in spec.then:
                self.request(follow)

    def _on_max_instances(self, event: JobExecutionEvent) -> None:
        # A requested job that fired while its previous run was still going must not be lost.
        if event.job_id in self.jobs and self.jobs[event.job_id].every is None:
            self.request(event.job_id, retry=True)
        else:
            log.info("%s: previous run still going; this run skipped", event.job_id)

    def shutdown(self) -> None:
        if not self.scheduler.running:
            return
        log.info("stopping: waiting for running jobs to finish")
        self.stop.set()  # runs not started yet are recorded as aborted, not run
        _forward_to_crawls(signal.SIGTERM)
        self.scheduler.shutdown(wait=True)
        log.info("scheduler stopped")


@contextmanager
def _signals_set(stop: threading.Event) -> Iterator[None]:
    """SIGTERM/SIGINT set ``stop`` (main thread only; elsewhere the caller stops us)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s; stopping after the current job", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _forward_to_crawls(signum: int) -> None:
    """Send ``signum`` to our child crawl processes (Linux /proc; elsewhere a no-op).

    Under systemd or a terminal's Ctrl-C the children get the signal anyway; this covers
    a plain ``kill <pid>`` of the scheduler.
    """
    me = str(os.getpid())
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if fields[1] == me and b"scrapy" in cmdline:
            with suppress(OSError):
                os.kill(int(stat.parent.name), signum)


def list_jobs(settings: Settings, engine: Engine) -> list[dict[str, Any]]:
    """One row per configured job: id, every, next_run (None when not scheduled, e.g. the
    scheduler never ran), and the last run's status, finish time and detail."""
    next_runs = _stored_next_runs(engine)
    last = _last_runs(engine)
    rows = []
    for spec in default_jobs(settings):
        run = last.get(spec.id)
        rows.append(
            {
                "job": spec.id,
                "every": _every(spec),
                "next_run": next_runs.get(spec.id),
                "last_status": run.status if run else None,
                "last_finished": as_utc(run.finished_at) if run and run.finished_at else None,
                "last_detail": run.detail if run else None,
            }
        )
    return rows


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they are UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _every(spec: JobSpec) -> str:
    if spec.every is None:
        return "on request"
    from repricer.durations_percentages import format_duration

    return format_duration(spec.every)


def _stored_next_runs(engine: Engine) -> dict[str, datetime]:
    if not inspect(engine).has_table(JOBSTORE_TABLE):
        return {}
    store = SQLAlchemyJobStore(engine=engine, tablename=JOBSTORE_TABLE)
    table = store.jobs_t
    with engine.connect() as conn:
        rows = conn.execute(select(table.c.id, table.c.next_run_time)).all()
    return {str(job_id): datetime.fromtimestamp(ts, UTC) for job_id, ts in rows if ts is not None}


def _last_runs(engine: Engine) -> dict[str, JobRun]:
    latest = select(func.max(JobRun.id)).group_by(JobRun.job_id)
    with session_scope(engine) as session:
        return {
            run.job_id: run for run in session.scalars(select(JobRun).where(JobRun.id.in_(latest)))
        }
