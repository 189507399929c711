"""``repricer report`` (a run as HTML, XLSX or CSV) and ``repricer history SKU``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from repricer.cli._common import JsonOption, console, print_table, state
from repricer.money import format_money


class ReportFormat(StrEnum):
    html = "html"
    xlsx = "xlsx"
    csv = "csv"


class HistoryFormat(StrEnum):
    html = "html"
    csv = "csv"


def _run_id(value: str) -> int | None:
    if value == "latest":
        return None
    try:
        return int(value)
    except ValueError:
        raise typer.BadParameter(f"not a run id: {value!r} (use a number or 'latest')") from None


def report(
    ctx: typer.Context,
    run: str = typer.Option("latest", "--run", help="Repricing run id, or 'latest'."),
    fmt: ReportFormat = typer.Option(ReportFormat.html, "--format", "-f", help="Output format."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Output file (default: report-run<ID>.<format>)."
    ),
) -> None:
    """Write the report of a repricing run: HTML (charts, works offline), XLSX or CSV."""
    from repricer.reports import write_report

    built, path = write_report(state(ctx).engine, _run_id(run), fmt.value, out)
    console.print(
        f"run {built.run.id} ({built.run.status}): {built.summary.counts.describe()} -> {path}",
        highlight=False,
    )


def history(
    ctx: typer.Context,
    sku: str = typer.Argument(..., help="Our SKU."),
    fmt: HistoryFormat | None = typer.Option(
        None, "--format", "-f", help="Write a file (html chart page or csv) instead of a table."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Output file (default: history-<SKU>.<format>)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Price history of one SKU: our price, cost and every competitor over time."""
    from repricer.reports import price_history, write_history
    from repricer.reports._frames import records

    engine = state(ctx).engine
    if fmt is None and out is None:
        found = price_history(engine, sku)
        rows = [{**row, "currency": found.currency} for row in records(found.points)]
        if as_json:  # price in integer minor units beside its currency
            print_table(rows, ["at", "series", "kind", "price", "currency"], as_json=True)
            return
        for row in rows:
            row["price"] = format_money(row["price"], found.currency)
            row["at"] = f"{row['at']:%Y-%m-%d %H:%M}"
        print_table(rows, ["at", "series", "kind", "price"], title=f"{sku}: {len(rows)} points")
        return
    chosen = fmt.value if fmt else ("html" if out and out.suffix == ".html" else "csv")
    _, path = write_history(engine, sku, chosen, out)  # type: ignore[arg-type]
    console.print(f"{sku}: price history -> {path}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("report")(report)
    app.command("history")(history)
