"""CLI: ``repricer reprice`` (dry run by default; ``--apply`` records the run for review)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import typer

from repricer.cli._common import JsonOption, console, print_json, print_table, state, styled
from repricer.money import format_money
from repricer.run_counts import run_counts

if TYPE_CHECKING:
    from repricer.pricing import RepricingResult

TOP = 10
MONEY_COLUMNS = ("old_price", "new_price", "previous_price")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("reprice")(reprice_command)


def reprice_command(
    ctx: typer.Context,
    apply: bool = typer.Option(
        False, "--apply/--dry-run", help="Record the run for review and push (default: dry run)."
    ),
    sku: list[str] = typer.Option([], "--sku", help="Only this SKU (repeatable)."),
    rules: Path | None = typer.Option(
        None, "--rules", help="Rules folder (default: pricing.rules_dir)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Decide new prices for the catalog with the pricing rules and show what would change."""
    from repricer.flow import apply_repricing
    from repricer.pricing import reprice

    app_state = state(ctx)
    settings, engine, skus = app_state.settings, app_state.engine, sku or None
    approved: int | None = None
    if apply:
        applied = apply_repricing(settings, engine, skus=skus, rules_dir=rules)
        result, approved = applied.result, applied.approved
    else:
        result = reprice(settings, engine, skus=skus, rules_dir=rules)
    if as_json:
        print_json(reprice_payload(result, apply, approved, settings.pricing.currency))
        return
    _print_result(result, apply, approved, settings.pricing.currency)


def reprice_payload(
    result: RepricingResult, apply: bool, approved: int | None, currency: str
) -> dict[str, Any]:
    """What ``reprice --json`` prints. Money is integer minor units; every object that
    carries money carries its ISO ``currency`` too."""
    summary = result.summary
    return {
        "run_id": result.run_id,
        "applied": apply,
        "auto_approved": approved,
        "summary": {
            **run_counts(summary).as_dict(),
            "average_change_pct": summary["average_change_pct"],
            "margin_impact": summary["margin_impact"],
            "currency": currency,
            "breaker": summary.get("breaker"),
        },
        "changes": _records(_top_changes(result)),
        "previous_run_id": result.previous_run_id,
        "diff": _records(_with_currency(result.diff.head(TOP), result)),
    }


def _print_result(
    result: RepricingResult, apply: bool, approved: int | None, currency: str
) -> None:
    _print_summary(result.run_id, apply, result.summary, approved, currency)
    top = _top_changes(result)
    if top.empty:
        console.print("no price changes")
    else:
        columns = ["sku", "old_price", "new_price", "change_pct", "status", "explanation"]
        print_table(_money_text(_records(top)), columns, title="Top changes")
    if result.previous_run_id is None:
        console.print("no previous run to compare with")
        return
    console.print(
        f"vs run {result.previous_run_id}: {len(result.diff)} product(s) decided differently"
    )
    if len(result.diff):
        columns = ["sku", "previous_price", "new_price", "status"]
        diff = _with_currency(result.diff.head(TOP), result)
        print_table(_money_text(_records(diff)), columns)


def _money_text(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with their prices written out in the row's currency."""
    for row in rows:
        for name in MONEY_COLUMNS:
            if name in row:
                row[name] = format_money(row[name], row["currency"])
    return rows


def _with_currency(diff: pd.DataFrame, result: RepricingResult) -> pd.DataFrame:
    """The diff rows with each product's currency (from this run's decisions)."""
    decided = result.columns
    found = pd.Index(decided.sku).get_indexer(pd.Index(diff["sku"]))
    return diff.assign(currency=decided.currency[found] if len(diff) else [])


def _top_changes(result: RepricingResult) -> pd.DataFrame:
    """The largest price changes of the run, explained (only these are rendered)."""
    stored = result.stored
    changing = stored[stored["status"].isin(("proposed", "needs_approval"))].copy()
    delta = (changing["new_price"] - changing["old_price"]).astype("Float64")
    changing["change_pct"] = (delta / changing["old_price"].astype("Float64") * 100).round(1)
    order = delta.abs().fillna(float("inf")).sort_values(ascending=False).index
    columns = ["sku", "currency", "old_price", "new_price", "change_pct", "status"]
    return result.explained(changing.loc[order[:TOP]])[[*columns, "explanation"]]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    plain = frame.astype(object).where(frame.notna(), None)
    return [{str(k): v for k, v in row.items()} for row in plain.to_dict("records")]


def _print_summary(
    run_id: int, apply: bool, summary: dict[str, Any], approved: int | None, currency: str
) -> None:
    kind = "applied" if apply else "dry run"
    console.print(
        f"run {run_id} ({kind}): {run_counts(summary).describe()}; "
        f"average change {summary['average_change_pct']:+.2f}%, margin impact "
        f"{format_money(summary['margin_impact'], currency)} per unit"
    )
    if summary.get("breaker"):
        console.print(
            styled(
                ("circuit breaker:", "yellow"),
                f" {summary['breaker']}; the whole run needs approval",
            )
        )
    if approved is not None:
        console.print(f"{approved} change(s) auto-approved")
