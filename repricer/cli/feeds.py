"""``repricer feeds sync``, ``repricer feeds status`` and ``repricer feeds held``."""

from __future__ import annotations

from typing import Any

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine

from repricer.cli._common import JsonOption, console, err_console, print_table, state, styled
from repricer.config import Settings
from repricer.exceptions import FeedError
from repricer.feeds import SyncResult, sync_feeds
from repricer.feeds.key_hint import unmatched_key_hint
from repricer.feeds.status import STATUS_COLUMNS, feed_status
from repricer.money import format_money

feeds_app = typer.Typer(
    help="Supplier feeds: sync cost and stock, show sync status.", no_args_is_help=True
)

SYNC_COLUMNS = [
    "supplier",
    "status",
    "seen",
    "changed",
    "missing",
    "skipped",
    "unmapped",
    "held",
    "duration_s",
    "error",
]


@feeds_app.command("sync")
def feeds_sync(
    ctx: typer.Context,
    supplier: str | None = typer.Option(
        None, "--supplier", "-s", help="Sync only this supplier (default: all)."
    ),
    accept_changes: bool = typer.Option(
        False,
        "--accept-changes",
        help="Apply the feed this once although the missing-items or cost-change guards "
        "refuse it (needs --supplier; the refusal says what would change).",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Fetch supplier feeds and update cost and stock; exit 1 if any sync failed or was rejected."""
    if accept_changes and supplier is None:
        raise typer.BadParameter("--accept-changes applies to one feed: add --supplier NAME")
    app_state = state(ctx)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TextColumn("{task.completed:,.0f} rows"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=as_json,
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(name: str, stage: str, count: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=None)
            bar.update(tasks[name], description=f"{name}: {stage}", completed=count)

        results = sync_feeds(
            app_state.settings,
            app_state.engine,
            supplier,
            progress,
            accept_changes=accept_changes,
        )
    rows = [_row(r) for r in results]
    # The table leaves out the error text: it is printed in full below, one line each.
    columns = SYNC_COLUMNS if as_json else SYNC_COLUMNS[:-1]
    print_table(rows, columns, title="Feed sync", as_json=as_json)
    if not as_json:
        _print_problems(results)
        _print_key_hints(app_state.settings, app_state.engine, results)
    bad = [r.supplier for r in results if not r.ok]
    if bad:
        raise FeedError(
            f"{len(bad)} sync(s) failed or rejected, see above", supplier=", ".join(bad)
        )


@feeds_app.command("status")
def feeds_status(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """Show each supplier's last sync: result, age, counts and stored offers."""
    app_state = state(ctx)
    rows = feed_status(app_state.settings, app_state.engine)
    print_table(
        rows,
        STATUS_COLUMNS,
        title="Supplier feeds",
        as_json=as_json,
        formatters={"age_s": _age, "due": lambda v: "yes" if v else ""},
    )


@feeds_app.command("held")
def feeds_held(
    ctx: typer.Context,
    supplier: str | None = typer.Option(None, "--supplier", "-s", help="Only this supplier."),
    accept: list[str] = typer.Option(
        [], "--accept", help="Apply the held cost of this key (repeatable; needs --supplier)."
    ),
    accept_all: bool = typer.Option(
        False, "--accept-all", help="Apply every held cost of --supplier."
    ),
    as_json: bool = JsonOption,
) -> None:
    """List supplier costs held for review (moved beyond hold_cost_ratio), or accept them."""
    from repricer.feeds.holds import accept_held, list_held

    app_state = state(ctx)
    if accept or accept_all:
        if supplier is None:
            raise FeedError("name the supplier with --supplier to accept held costs", supplier="?")
        app_state.settings.supplier(supplier)  # a ConfigError for an unknown name
        count = accept_held(app_state.engine, supplier, [] if accept_all else accept)
        console.print(f"{supplier}: {count} held cost(s) accepted")
        return
    rows: list[dict[str, Any]] = [
        {
            "supplier": h.supplier,
            "key": h.key,
            "currency": h.currency,
            "cost": h.cost,
            "held_cost": h.held_cost,
            "ratio": f"x{h.held_cost / h.cost:.2f}" if h.cost else "",
            "held_at": h.held_at,
        }
        for h in list_held(app_state.engine, supplier)
    ]
    if as_json:  # money as integer minor units beside its currency
        print_table(
            rows, ["supplier", "key", "currency", "cost", "held_cost", "held_at"], as_json=True
        )
        return
    for row in rows:
        row["cost"] = format_money(row["cost"], row["currency"])
        row["held_cost"] = format_money(row["held_cost"], row["currency"])
    columns = ["supplier", "key", "cost", "held_cost", "ratio", "held_at"]
    print_table(rows, columns, title="Costs held for review")


def _print_problems(results: list[SyncResult]) -> None:
    for result in results:
        for line in result.row_errors[:10]:
            err_console.print(styled((result.supplier, "yellow"), f" skipped {line}"))
        if result.skipped > 10:
            err_console.print(
                styled((result.supplier, "yellow"), f" ... {result.skipped} skipped in all")
            )
        for warning in result.warnings:
            if any(k in warning for k in ("repeated", "held for review", "--accept-changes")):
                err_console.print(styled((result.supplier, "yellow"), f" {warning}"))
        if not result.ok:
            err_console.print(styled((str(result), "red")))


def _print_key_hints(settings: Settings, engine: Engine, results: list[SyncResult]) -> None:
    """A feed none of whose offers found a product: which key was tried, which would match."""
    for result in results:
        if result.status == "ok" and result.seen and result.unmapped >= result.seen:
            hint = unmatched_key_hint(engine, settings.supplier(result.supplier))
            if hint is not None:
                err_console.print(styled(("hint:", "yellow"), f" {hint}"))


def _row(result: SyncResult) -> dict[str, Any]:
    return {c: getattr(result, c) for c in SYNC_COLUMNS}


def _age(seconds: Any) -> str:
    if seconds is None:
        return ""
    seconds = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def register(app: typer.Typer) -> None:
    """Add ``feeds sync``, ``feeds status`` and ``feeds held``."""
    app.add_typer(feeds_app, name="feeds")
