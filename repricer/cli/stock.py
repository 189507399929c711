"""``repricer stock push`` and ``repricer stock sync``."""

from __future__ import annotations

import typer

from repricer.cli._common import JsonOption, console, print_table, state
from repricer.exceptions import FeedError, StorefrontError
from repricer.stock import StockSummary, push_stock, sync_stock_feeds
from repricer.stock.push import describe

stock_app = typer.Typer(
    help="Stock on the storefront: push what changed, sync stock-only supplier sources.",
    no_args_is_help=True,
)

SYNC_COLUMNS = ["supplier", "status", "seen", "changed", "stockouts", "unknown", "skipped", "error"]


@stock_app.command("push")
def stock_push(
    ctx: typer.Context,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Count what would be pushed; send and change nothing."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Push stock that changed since the last stock push (stock-outs first), then read it back."""
    app_state = state(ctx)
    summary = push_stock(app_state.settings, app_state.engine, dry_run=dry_run)
    if as_json:
        print_table([summary.as_dict()], list(summary.as_dict()), as_json=True)
    else:
        _print_summary(summary)
    if summary.error:
        raise StorefrontError(f"stock push stopped: {summary.error}")


@stock_app.command("sync")
def stock_sync(
    ctx: typer.Context,
    supplier: str | None = typer.Option(
        None, "--supplier", "-s", help="Sync only this supplier's stock source (default: all)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Fetch stock-only supplier sources (stock_url/stock_path) and update offer stock."""
    app_state = state(ctx)
    results = sync_stock_feeds(app_state.settings, app_state.engine, supplier)
    rows = [{c: getattr(r, c) for c in SYNC_COLUMNS} for r in results]
    print_table(rows, SYNC_COLUMNS, title="Stock sync", as_json=as_json)
    if not as_json:
        for result in results:
            for problem in result.row_errors:
                console.print(f"{result.supplier}: skipped {problem}", highlight=False)
    bad = [r.supplier for r in results if not r.ok]
    if bad:
        raise FeedError(f"{len(bad)} stock sync(s) failed or rejected", supplier=", ".join(bad))


def _print_summary(summary: StockSummary) -> None:
    console.print(str(summary), highlight=False)
    rows = [{"sku": sku, "result": "failed", "detail": why} for sku, why in summary.failures]
    rows += [
        {
            "sku": m.sku,
            "result": "mismatch",
            "detail": f"storefront shows {describe(m.seen)}, pushed {describe(m.pushed)}",
        }
        for m in summary.mismatches
    ]
    if rows:
        print_table(rows, ["sku", "result", "detail"])


def register(app: typer.Typer) -> None:
    """Add the ``stock`` sub-app."""
    app.add_typer(stock_app, name="stock")
