"""CLI: ``repricer crawl`` — fetch competitor pages and print per-site health."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from repricer.cli._common import JsonOption, err_console, print_table, state
from repricer.crawl import run_crawl
from repricer.crawl_outcome import failed_sites, listings_per_competitor
from repricer.exceptions import CrawlError

COLUMNS = ("competitor", "pages", "ok", "no_price", "error", "anomaly", "mismatch", "healthy")


def crawl(
    ctx: typer.Context,
    competitor: list[str] = typer.Option(
        [], "--competitor", help="Crawl only this competitor (repeatable)."
    ),
    sku: list[str] = typer.Option(
        [], "--sku", help="Crawl only listings of this SKU (repeatable)."
    ),
    timeout: float | None = typer.Option(
        None,
        "--timeout",
        help="Stop the crawl after this many seconds (default: crawl.run_timeout).",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Crawl competitor product pages of active listings; print per-site health. Exit 1 when
    the crawl failed or a competitor's pages all failed (the causes are named)."""
    app_state = state(ctx)
    for name in competitor:  # a typo is named before anything else is checked
        app_state.settings.competitor(name)
    app_state.require_database()
    names = competitor or [c.name for c in app_state.settings.competitors]
    expected = {} if sku else listings_per_competitor(app_state.engine, names)
    with _progress(expected, enabled=not as_json) as update:
        result = run_crawl(
            app_state.settings,
            competitors=competitor or None,
            skus=sku or None,
            timeout=timeout,
            progress=update,
        )
    rows = [{**asdict(site), "pages": site.pages} for site in result.sites]
    print_table(rows, COLUMNS, title=f"crawl run {result.run_id}: {result.status}", as_json=as_json)
    if result.status != "ok":
        raise CrawlError(f"crawl run {result.run_id} {result.status}: {result.error}")
    failed = failed_sites(app_state.engine, result.run_id)
    if failed:
        raise CrawlError(f"crawl run {result.run_id}: " + "; ".join(str(f) for f in failed))


@contextmanager
def _progress(
    expected: dict[str, int], *, enabled: bool
) -> Iterator[Callable[[dict[str, int]], None] | None]:
    """One bar per competitor (pages stored / active listings) on stderr."""
    if not enabled:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=err_console, transient=True) as bar:
        tasks = {name: bar.add_task(name, total=total or None) for name, total in expected.items()}

        def update(stored: dict[str, int]) -> None:
            for name, count in stored.items():
                if name not in tasks:
                    tasks[name] = bar.add_task(name, total=None)
                bar.update(tasks[name], completed=count)

        yield update


def register(app: typer.Typer) -> None:
    """Add ``repricer crawl`` to the app."""
    app.command("crawl")(crawl)
