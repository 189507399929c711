"""``repricer demo``: the whole product on loopback sites, from an empty folder to a report.

:func:`run_demo` starts the demo shops and feeds on 127.0.0.1, creates a fresh workspace
(config, demo rules, SQLite database), imports the catalog and listings, then runs feed
sync -> crawl -> reprice (applied) -> auto-approve -> push to the file storefront ->
HTML and XLSX report. With ``cycles`` it then runs the scheduler in compressed time
(``speed``), moving supplier and competitor prices before each cycle.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from repricer.config import Settings, load_settings
from repricer.db import make_engine, session_scope
from repricer.db.models import JobRun, PriceChange, Product, RepricingRun
from repricer.demo import files
from repricer.demo.market import Market
from repricer.demo.sites import DemoSites
from repricer.exceptions import RepricerError
from repricer.jobs import describe_crawl
from repricer.money import format_money
from repricer.pricing.stored_explanations import fill_explanations
from repricer.scheduler import as_utc
from repricer.states import PUSHED

Echo = Callable[[str], None]
# What a fresh demo run removes from its folder (only things the demo itself writes).
_OUTPUTS = ("repricer.db", "repricer.db-wal", "repricer.db-shm", "storefront", "reports")


@dataclass
class DemoResult:
    """What the demo produced; ``rows`` is one dict per product of the last run."""

    directory: Path
    run_id: int
    storefront: list[Path]
    reports: list[Path]
    rows: list[dict[str, Any]] = field(default_factory=list)
    cycles: int = 0


def run_demo(
    directory: Path, *, cycles: int = 0, speed: float = 60.0, echo: Echo = lambda _line: None
) -> DemoResult:
    """Run the demo in ``directory`` (created; earlier demo outputs there are replaced)."""
    market = Market()
    with DemoSites(market) as sites:
        settings = prepare_workspace(directory, sites, echo)
        engine = make_engine(settings.database.url)
        try:
            import_demo_data(settings, engine, directory, market, sites, echo)
            run_id = run_pipeline(settings, engine, echo)
            if cycles:
                run_id = run_cycles(settings, engine, market, cycles, speed, echo) or run_id
            reports = write_reports(engine, run_id, directory / "reports")
            return DemoResult(
                directory,
                run_id,
                sorted(settings.storefront.file.path.glob("*.*")),
                reports,
                decision_rows(engine, run_id),
                cycles,
            )
        finally:
            engine.dispose()


def prepare_workspace(directory: Path, sites: DemoSites, echo: Echo) -> Settings:
    """A fresh workspace: previous demo outputs removed, migrated DB, demo config and rules."""
    from repricer.workspace import init_workspace

    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "config.toml"
    if config.exists() and not files.is_demo_config(config):
        raise RepricerError(
            f"{config}: not a demo workspace (the demo replaces its database); choose another --dir"
        )
    for name in _OUTPUTS:
        target = directory / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    config = files.write_config(directory, sites)
    init_workspace(directory)
    echo(
        f"workspace {directory}: config {config.name}, rules {files.RULES_DIR}/, database repricer.db"
    )
    return load_settings(config)


def import_demo_data(
    settings: Settings,
    engine: Engine,
    directory: Path,
    market: Market,
    sites: DemoSites,
    echo: Echo,
) -> None:
    """Write and import catalog.csv and listings.csv; any rejected row is a bug in the demo."""
    from repricer.catalog import import_catalog, import_listings

    for kind, path, importer in (
        ("products", files.write_catalog(directory), import_catalog),
        ("listings", files.write_listings(directory, market, sites), import_listings),
    ):
        report = importer(settings, engine, path)
        if report.rejected:
            raise RepricerError(f"{path}: demo data rejected: {report.rejected[0]}")
        echo(f"imported {report.imported} {kind} from {path.name}")


def run_pipeline(settings: Settings, engine: Engine, echo: Echo) -> int:
    """One pass of every stage; returns the repricing run id."""
    from repricer.crawl import run_crawl
    from repricer.feeds import sync_feeds
    from repricer.storefront import push_changes

    for result in sync_feeds(settings, engine):
        echo(f"feed sync {result}")
    crawl = run_crawl(settings, timeout=settings.crawl.run_timeout.total_seconds())
    echo(describe_crawl(crawl))
    run_id = reprice_and_approve(settings, engine, echo)
    echo(f"push to {push_changes(settings, engine, run_id=run_id)}")
    return run_id


def reprice_and_approve(settings: Settings, engine: Engine, echo: Echo) -> int:
    from repricer.flow import apply_repricing

    applied = apply_repricing(settings, engine)
    echo(applied.describe())
    return applied.run_id


def run_cycles(
    settings: Settings, engine: Engine, market: Market, cycles: int, speed: float, echo: Echo
) -> int | None:
    """Run the scheduler for ``cycles`` feed/crawl intervals in compressed time; returns
    the last repricing run id (None if none completed)."""
    from repricer.scheduler import run_scheduler

    stop = threading.Event()
    thread = threading.Thread(
        target=run_scheduler,
        args=(settings,),
        kwargs={"stop_event": stop, "speed": speed, "engine": engine},
        daemon=True,
    )
    every = [s.every for s in settings.suppliers] + [c.every for c in settings.competitors]
    interval = max(every, default=timedelta(minutes=15))
    timeout = 3 * (interval + settings.scheduler.reprice_debounce).total_seconds() / speed + 300
    try:
        for cycle in range(1, cycles + 1):
            changes = market.advance()
            echo(f"cycle {cycle}/{cycles}: " + ("; ".join(changes) or "no market changes"))
            mark = datetime.now(UTC)
            if cycle == 1:
                thread.start()
            wait_for_cycle(engine, settings, mark, timeout)
            echo(f"cycle {cycle}: {pushed_since(engine, mark)}")
    finally:
        stop.set()
        if thread.is_alive():
            thread.join()
    return latest_run_id(engine)


def wait_for_cycle(engine: Engine, settings: Settings, since: datetime, timeout: float) -> None:
    """Block until every feed and crawl job ran after ``since`` and a push (or, without
    auto-push, a repricing) finished after all of them."""
    periodic = {f"feeds:{s.name}" for s in settings.suppliers} | {
        f"crawl:{c.name}" for c in settings.competitors
    }
    final = "push" if settings.storefront.auto_push else "reprice"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope(engine) as session:
            done = session.scalars(
                select(JobRun).where(JobRun.started_at >= since, JobRun.status != "running")
            ).all()
        finished = {r.job_id: as_utc(r.finished_at) if r.finished_at else since for r in done}
        if periodic <= set(finished):
            inputs_done = max(finished[j] for j in periodic)
            if any(r.job_id == final and as_utc(r.started_at) >= inputs_done for r in done):
                return
        time.sleep(0.2)
    raise RepricerError(f"demo cycle did not complete within {timedelta(seconds=int(timeout))}")


def latest_run_id(engine: Engine) -> int | None:
    """The latest applied run that changed a price, else the latest applied run."""
    with session_scope(engine) as session:
        changed = session.scalar(
            select(func.max(PriceChange.run_id)).where(
                PriceChange.new_price != PriceChange.old_price
            )
        )
        return changed or session.scalar(
            select(func.max(RepricingRun.id)).where(RepricingRun.status != "dry_run")
        )


def pushed_since(engine: Engine, since: datetime) -> str:
    """``2 price change(s) pushed: DEMO-003 2 249 ₽ -> 2 179 ₽, ...`` since ``since``."""
    with session_scope(engine) as session:
        rows = session.execute(
            select(
                PriceChange.sku, PriceChange.old_price, PriceChange.new_price, PriceChange.currency
            )
            .where(PriceChange.status.in_(PUSHED), PriceChange.decided_at >= since)
            .order_by(PriceChange.sku)
        ).all()
    moves = [
        f"{sku} {format_money(old, cur)} -> {format_money(new, cur)}" for sku, old, new, cur in rows
    ]
    return f"{len(moves)} price change(s) pushed" + (": " + ", ".join(moves) if moves else "")


def write_reports(engine: Engine, run_id: int, folder: Path) -> list[Path]:
    """The run's HTML and XLSX reports in ``folder``."""
    from repricer.reports import build_report, write_html, write_xlsx

    folder.mkdir(parents=True, exist_ok=True)
    report = build_report(engine, run_id)
    paths = [folder / f"run-{run_id}.html", folder / f"run-{run_id}.xlsx"]
    write_html(report, paths[0])
    write_xlsx(report, paths[1])
    return paths


def decision_rows(engine: Engine, run_id: int) -> list[dict[str, Any]]:
    """One row per product of ``run_id``: sku, title, old and new price, status, explanation."""
    with session_scope(engine) as session:
        rows = session.execute(
            select(PriceChange, Product.title, Product.price)
            .join(Product, Product.id == PriceChange.product_id)
            .where(PriceChange.run_id == run_id)
            .order_by(PriceChange.sku)
        ).all()
        found = [
            {
                "sku": change.sku,
                "title": title,
                "old_price": change.old_price,
                "new_price": change.new_price,
                "price_now": price,
                "status": change.status,
                "explanation": change.explanation,
                "run_id": change.run_id,
                "product_id": change.product_id,
            }
            for change, title, price in rows
        ]
        fill_explanations(session.connection(), found)
    for row in found:
        del row["run_id"], row["product_id"]
    return found
