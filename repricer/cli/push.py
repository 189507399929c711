"""``repricer push`` and ``repricer storefront check``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from repricer.cli._common import JsonOption, console, err_console, print_table, state
from repricer.exceptions import StorefrontError
from repricer.money import format_money
from repricer.storefront import PushSummary, check_storefront, push_changes

storefront_app = typer.Typer(help="The storefront prices are pushed to.", no_args_is_help=True)


def push(
    ctx: typer.Context,
    run: int | None = typer.Option(None, "--run", help="Only changes of this repricing run."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what would be pushed and held; send and change nothing."
    ),
    wait: float = typer.Option(
        0.0,
        "--wait",
        min=0,
        help="If another push is running, wait up to this many seconds (default: exit 1).",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Push approved price changes to the storefront, then read the prices back."""
    app_state = state(ctx)
    with _progress(enabled=not as_json) as update:
        summary = push_changes(
            app_state.settings,
            app_state.engine,
            run_id=run,
            dry_run=dry_run,
            progress=update,
            wait=wait,
        )
    if as_json:
        print_table([summary.as_dict()], list(summary.as_dict()), as_json=True)
    else:
        _print_summary(summary)
    if summary.error:
        raise StorefrontError(f"push stopped: {summary.error}")


@storefront_app.command("check")
def check(ctx: typer.Context) -> None:
    """Test connectivity and credentials of the configured storefront."""
    app_state = state(ctx)
    console.print(f"ok: {check_storefront(app_state.settings, app_state.engine)}", highlight=False)


@contextmanager
def _progress(*, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    if not enabled:
        yield None
        return
    columns = (TextColumn("pushing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("push", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _print_summary(summary: PushSummary) -> None:
    console.print(str(summary), highlight=False)
    rows = [{"sku": sku, "result": "held", "reason": why} for sku, why in summary.holds]
    rows += [{"sku": sku, "result": "failed", "reason": why} for sku, why in summary.failures]
    rows += [
        {
            "sku": m.sku,
            "result": "mismatch",
            "reason": f"storefront shows {format_money(m.seen, m.currency)}, "
            f"pushed {format_money(m.pushed, m.currency)}",
        }
        for m in summary.mismatches
    ]
    if rows:
        print_table(rows, ["sku", "result", "reason"])


def register(app: typer.Typer) -> None:
    """Add ``push`` and the ``storefront`` sub-app."""
    app.command("push")(push)
    app.add_typer(storefront_app, name="storefront")
