"""CLI: ``repricer crawl`` — fetch competitor pages and print per-site health."""

from __future__ import annotations

from dataclasses import asdict

import typer

from repricer.cli._common import JsonOption, print_table, state
from repricer.crawl import run_crawl
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
    """Crawl competitor product pages of active listings; print per-site health."""
    app_state = state(ctx)
    for name in competitor:  # a typo is named before anything else is checked
        app_state.settings.competitor(name)
    app_state.require_database()
    result = run_crawl(
        app_state.settings, competitors=competitor or None, skus=sku or None, timeout=timeout
    )
    rows = [{**asdict(site), "pages": site.pages} for site in result.sites]
    print_table(rows, COLUMNS, title=f"crawl run {result.run_id}: {result.status}", as_json=as_json)
    if result.status != "ok":
        raise CrawlError(f"crawl run {result.run_id} {result.status}: {result.error}")


def register(app: typer.Typer) -> None:
    """Add ``repricer crawl`` to the app."""
    app.command("crawl")(crawl)
