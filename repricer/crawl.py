"""Run a competitor crawl (a child process here, or shards on Scrapyd nodes) and record it.

``run_crawl`` creates the ``crawl_runs`` row, starts ``python -m scrapy crawl product``
in the config file's folder with ``REPRICER_CONFIG`` pointing at that file and
``SCRAPY_SETTINGS_MODULE`` naming the installed Scrapy project (no scrapy.cfg needed), waits
(with a timeout) and closes the row, so a crash or a hang is recorded too. A child
process per crawl lets a long-lived scheduler crawl again and again (a Twisted reactor
cannot be restarted in one process). Nothing here imports Scrapy. With ``[crawl]
backend = "scrapyd"`` the run is split into shards dispatched to Scrapyd nodes instead
(:mod:`repricer.cluster`).

The spider (``spiders/``) uses :func:`start_run`, :func:`finish_run` and
:func:`site_health` too, so a crawl started by hand with ``scrapy crawl product`` is
recorded the same way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select, update

from repricer.catalog import sync_competitors
from repricer.config import Settings
from repricer.crawl_outcome import pages_stored
from repricer.db.engine import make_engine, session_scope
from repricer.db.models import Competitor, CrawlRun, CrawlSiteStats, utcnow
from repricer.exceptions import CrawlError, LeaseHeldError
from repricer.lease import hold_lease
from repricer.redact import redact

# The Scrapy project ships as the ``spiders`` package; naming its settings module in the
# child's environment makes ``scrapy crawl`` work from any folder, installed or not.
SCRAPY_SETTINGS_MODULE = "spiders.settings"
_ERROR_TAIL = 2000
_STOP_GRACE_S = 15.0


@dataclass(frozen=True)
class SiteHealth:
    """Per-competitor counts of one run; ``healthy`` False makes pricing ignore it."""

    competitor: str
    ok: int
    no_price: int
    error: int
    anomaly: int
    mismatch: int
    healthy: bool

    @property
    def pages(self) -> int:
        return self.ok + self.no_price + self.error


@dataclass(frozen=True)
class CrawlResult:
    """Outcome of :func:`run_crawl`. status: ok | failed | aborted (timed out)."""

    run_id: int
    status: str
    pages: int
    duration_s: float
    sites: list[SiteHealth] = field(default_factory=list)
    error: str | None = None


def run_crawl(
    settings: Settings,
    *,
    competitors: list[str] | None = None,
    skus: list[str] | None = None,
    timeout: float | None = None,
    progress: Callable[[dict[str, int]], None] | None = None,
) -> CrawlResult:
    """Crawl the active listings of ``competitors`` (default: all), optionally only
    ``skus``; raises ``ConfigError`` for an unknown competitor name and ``CrawlError``
    when the settings have no config file or the crawl process cannot start.

    ``progress`` is called about once a second with the pages stored so far per competitor."""
    names = [settings.competitor(name).name for name in competitors or []]
    local = settings.crawl.backend == "local"
    if local and settings.config_path is None:
        raise CrawlError("the crawl needs a config file (load settings with load_settings)")
    engine = make_engine(settings.database.url)
    try:
        with session_scope(engine) as session:
            sync_competitors(settings, session)
        crawled = names or [c.name for c in settings.competitors]
        with competitor_leases(settings, engine, crawled):
            close_interrupted(engine, crawled)
            return _crawl(settings, engine, crawled, names, skus, timeout, progress)
    finally:
        engine.dispose()


@contextlib.contextmanager
def competitor_leases(settings: Settings, engine: Engine, names: list[str]) -> Iterator[None]:
    """Hold the lease ``crawl:<competitor>`` of each competitor crawled: one crawl per
    competitor and database at a time; raises CrawlError naming a crawl already running."""
    with contextlib.ExitStack() as stack:
        for name in sorted(set(names)):
            try:
                stack.enter_context(
                    hold_lease(engine, f"crawl:{name}", ttl=settings.database.lease_ttl)
                )
            except LeaseHeldError as exc:
                raise CrawlError(str(exc)) from None
        yield


def close_interrupted(engine: Engine, names: list[str]) -> int:
    """Close crawl runs left ``running`` for any of ``names`` as ``interrupted``: we hold
    those competitors' leases, so the process that ran them is gone. Returns how many."""
    with session_scope(engine) as session:
        stale = [
            run.id
            for run in session.scalars(select(CrawlRun).where(CrawlRun.status == "running"))
            if set(run.competitors or []) & set(names) or not run.competitors
        ]
        if stale:
            session.execute(
                update(CrawlRun)
                .where(CrawlRun.id.in_(stale), CrawlRun.status == "running")
                .values(
                    status="interrupted",
                    finished_at=utcnow(),
                    error="the crawl process ended during the run",
                )
            )
    return len(stale)


def _crawl(
    settings: Settings,
    engine: Engine,
    crawled: list[str],
    names: list[str],
    skus: list[str] | None,
    timeout: float | None,
    progress: Callable[[dict[str, int]], None] | None,
) -> CrawlResult:
    run_id = start_run(engine, crawled)
    started = time.monotonic()
    poll = (lambda: progress(pages_stored(engine, run_id))) if progress else None
    try:
        if settings.crawl.backend == "local":
            status, error = _run_child(settings, run_id, names, skus or [], timeout, poll)
        else:
            status, error = _run_on_scrapyd(settings, engine, run_id, names, skus or [], timeout)
    except BaseException as exc:  # Ctrl-C, a failed start: the run must not stay "running"
        finish_run(engine, run_id, "aborted", error=f"crawl interrupted: {exc!r}")
        raise
    finish_run(engine, run_id, status, error=error)
    return CrawlResult(
        run_id=run_id,
        status=status,
        pages=_pages(engine, run_id),
        duration_s=round(time.monotonic() - started, 3),
        sites=site_health(engine, run_id),
        error=error,
    )


def crawl_command(run_id: int, competitors: list[str], skus: list[str]) -> list[str]:
    """The child process command line."""
    command = [sys.executable, "-m", "scrapy", "crawl", "product", "-a", f"run_id={run_id}"]
    if competitors:
        command += ["-a", "competitor=" + ",".join(competitors)]
    if skus:
        command += ["-a", "sku=" + ",".join(skus)]
    return command


def _run_child(
    settings: Settings,
    run_id: int,
    competitors: list[str],
    skus: list[str],
    timeout: float | None,
    poll: Callable[[], None] | None = None,
) -> tuple[str, str | None]:
    assert settings.config_path is not None
    config = Path(settings.config_path).resolve()
    env = dict(
        os.environ, REPRICER_CONFIG=str(config), SCRAPY_SETTINGS_MODULE=SCRAPY_SETTINGS_MODULE
    )
    limit = timeout if timeout is not None else settings.crawl.run_timeout.total_seconds()
    with tempfile.TemporaryFile() as log:
        try:
            child = subprocess.Popen(
                crawl_command(run_id, competitors, skus),
                cwd=config.parent,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,  # its own process group: Chromium goes with it
            )
        except OSError as exc:
            raise CrawlError(f"cannot start the crawl process: {exc}") from exc
        try:
            returncode = _wait(child, limit, poll)
        except subprocess.TimeoutExpired:
            _stop(child)
            return "aborted", f"crawl stopped after the {limit:g}s timeout"
        except BaseException:
            _stop(child)
            raise
        if returncode != 0:
            log.seek(0)
            tail = log.read().decode("utf-8", "replace")[-_ERROR_TAIL:]
            return "failed", f"crawl process exited with {returncode}: {tail.strip()}"
    return "ok", None


def _wait(child: subprocess.Popen[bytes], limit: float, poll: Callable[[], None] | None) -> int:
    """``child.wait(limit)``, calling ``poll`` about once a second meanwhile."""
    if poll is None:
        return child.wait(timeout=limit)
    deadline = time.monotonic() + limit
    while True:
        try:
            return child.wait(timeout=max(0.0, min(1.0, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            if time.monotonic() >= deadline:
                raise
            poll()


def _run_on_scrapyd(
    settings: Settings,
    engine: Engine,
    run_id: int,
    competitors: list[str],
    skus: list[str],
    timeout: float | None,
) -> tuple[str, str | None]:
    from repricer.cluster.dispatch import dispatch_crawl
    from repricer.cluster.shards import plan_shards

    names = competitors or [c.name for c in settings.competitors]
    limit = timeout if timeout is not None else settings.crawl.run_timeout.total_seconds()
    plans = plan_shards(engine, names, settings.crawl.shard_size, skus)
    return dispatch_crawl(settings, engine, run_id, plans, time.monotonic() + limit)


def _stop(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the crawl's process group (Scrapy closes cleanly), SIGKILL if it lingers."""
    for sig, grace in ((signal.SIGTERM, _STOP_GRACE_S), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, sig)
        try:
            child.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def start_run(engine: Engine, competitors: list[str]) -> int:
    """Insert a ``running`` crawl_runs row; returns its id."""
    with session_scope(engine) as session:
        run = CrawlRun(status="running", competitors=list(competitors))
        session.add(run)
        session.flush()
        return run.id


def finish_run(
    engine: Engine, run_id: int, status: str, *, error: str | None = None, pages: int | None = None
) -> None:
    """Close a run (``ok`` | ``failed`` | ``aborted``); a run already closed as failed
    or aborted keeps that status."""
    values: dict[str, object] = {"finished_at": utcnow(), "status": status}
    if error is not None:
        values["error"] = redact(error)
    if pages is not None:
        values["pages"] = pages
    with session_scope(engine) as session:
        run = session.get(CrawlRun, run_id)
        if run is None:
            raise CrawlError(f"no crawl run {run_id}")
        if run.status in ("failed", "aborted") and status == "ok":
            return
        session.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(**values))


def site_health(engine: Engine, run_id: int) -> list[SiteHealth]:
    """The per-competitor stats of a run, by competitor name."""
    query = (
        select(Competitor.name, CrawlSiteStats)
        .join(Competitor, Competitor.id == CrawlSiteStats.competitor_id)
        .where(CrawlSiteStats.crawl_run_id == run_id)
        .order_by(Competitor.name)
    )
    with session_scope(engine) as session:
        return [
            SiteHealth(name, s.ok, s.no_price, s.error, s.anomaly, s.mismatch, s.healthy)
            for name, s in session.execute(query).all()
        ]


def _pages(engine: Engine, run_id: int) -> int:
    with session_scope(engine) as session:
        run = session.get(CrawlRun, run_id)
        return run.pages if run is not None else 0
