"""``repricer review list|approve|reject|expire``: the approval queue of price changes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import typer

from repricer.cli._common import JsonOption, console, print_table, state
from repricer.durations_percentages import parse_fraction
from repricer.money import format_money

review_app = typer.Typer(
    help="Review price changes: list the approval queue, approve or reject them.",
    no_args_is_help=True,
)

LIST_COLUMNS = ["id", "run", "sku", "old", "new", "change", "status", "explanation"]


def _fraction(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return parse_fraction(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


RunOption = typer.Option(None, "--run", help="Only changes of this repricing run.")
CategoryOption = typer.Option(None, "--category", help="Only products of this category (any case).")
MaxChangeOption = typer.Option(
    None, "--max-change", help='Only changes within this share of the old price, e.g. "5%".'
)
ByOption = typer.Option(None, "--by", help="Who decides (default: the OS user name).")
IdsArgument = typer.Argument(None, help="Price change ids (see `repricer review list`).")


@review_app.command("list")
def list_command(
    ctx: typer.Context,
    run: int | None = RunOption,
    status: str | None = typer.Option(
        None, "--status", help="pending (default: proposed + needs_approval), all, or one status."
    ),
    category: str | None = CategoryOption,
    limit: int | None = typer.Option(None, "--limit", "-n", help="Show at most this many."),
    as_json: bool = JsonOption,
) -> None:
    """List price changes waiting for review (or any status with --status)."""
    from repricer.review import list_changes

    rows = list_changes(
        state(ctx).engine, run_id=run, status=status, category=category, limit=limit
    )
    if as_json:
        print_table(rows, list(rows[0]) if rows else ["id"], as_json=True)
        return
    for row in rows:
        row["run"] = row["run_id"]
        row["old"] = format_money(row["old_price"], row["currency"])
        row["new"] = format_money(row["new_price"], row["currency"])
        row["change"] = "" if row["change_pct"] is None else f"{row['change_pct']:+.1f}%"
    print_table(rows, LIST_COLUMNS, title=f"{len(rows)} price changes")


@review_app.command("approve")
def approve_command(
    ctx: typer.Context,
    ids: list[int] | None = IdsArgument,
    run: int | None = RunOption,
    category: str | None = CategoryOption,
    max_change: str | None = MaxChangeOption,
    by: str | None = ByOption,
) -> None:
    """Approve changes by ids, or every pending change matching --run/--category/--max-change."""
    from repricer.review import approve

    done = approve(state(ctx).engine, **_selection(ids, run, category, max_change), by=by)
    _done("approved", done)


@review_app.command("reject")
def reject_command(
    ctx: typer.Context,
    ids: list[int] | None = IdsArgument,
    run: int | None = RunOption,
    category: str | None = CategoryOption,
    max_change: str | None = MaxChangeOption,
    by: str | None = ByOption,
) -> None:
    """Reject changes (pending, or approved and not yet pushed); same selection as approve."""
    from repricer.review import reject

    done = reject(state(ctx).engine, **_selection(ids, run, category, max_change), by=by)
    _done("rejected", done)


@review_app.command("expire")
def expire_command(ctx: typer.Context) -> None:
    """Expire approvals older than [pricing.approval] expire_after (the next run decides again)."""
    from repricer.review import expire_approvals

    app_state = state(ctx)
    count = expire_approvals(app_state.settings, app_state.engine)
    console.print(f"expired {count} price change(s)")


def _selection(
    ids: list[int] | None, run: int | None, category: str | None, max_change: str | None
) -> dict[str, Any]:
    return {
        "ids": ids or [],
        "run_id": run,
        "category": category,
        "max_change": _fraction(max_change),
    }


def _done(what: str, ids: list[int]) -> None:
    if not ids:
        console.print(f"no pending price change matches; nothing {what}")
        return
    shown = ", ".join(str(i) for i in ids[:20]) + (" …" if len(ids) > 20 else "")
    console.print(f"{what} {len(ids)} price change(s): {shown}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.add_typer(review_app, name="review")
