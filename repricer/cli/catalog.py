"""``repricer catalog import|list`` and ``repricer listings import``."""

from __future__ import annotations

from pathlib import Path

import typer

from repricer.catalog import ImportReport, import_catalog, import_listings, list_products
from repricer.cli._common import JsonOption, console, err_console, print_table, state, styled
from repricer.exceptions import RowsRejectedError
from repricer.money import format_money

catalog_app = typer.Typer(help="Our products: import from CSV/XLSX, list.", no_args_is_help=True)
listings_app = typer.Typer(
    help="Competitor listings (our SKU <-> competitor URL).", no_args_is_help=True
)


@catalog_app.command("import")
def catalog_import(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ..., help="CSV or XLSX with a sku column (and title, price, stock, ...)."
    ),
) -> None:
    """Import or update products from FILE, upserting by SKU."""
    app_state = state(ctx)
    _report(import_catalog(app_state.settings, app_state.engine, file), "products")


@listings_app.command("import")
def listings_import(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV or XLSX with sku, competitor and url columns."),
) -> None:
    """Import competitor listings from FILE (competitors must be in config)."""
    app_state = state(ctx)
    _report(import_listings(app_state.settings, app_state.engine, file), "listings")


@catalog_app.command("list")
def catalog_list(
    ctx: typer.Context,
    search: str | None = typer.Option(
        None, "--search", "-s", help="Only SKUs/titles containing this."
    ),
    limit: int | None = typer.Option(
        None, "--limit", "-n", help="Show at most this many products."
    ),
    as_json: bool = JsonOption,
) -> None:
    """List products with their current price, stock and price bounds."""
    rows = list_products(state(ctx).engine, limit=limit, search=search)
    if as_json:
        print_table(rows, list(rows[0]) if rows else ["sku"], as_json=True)
        return
    for row in rows:
        for name in ("price", "map_price", "min_price", "max_price"):
            row[name] = format_money(row[name], row["currency"]) if row[name] else ""
    columns = ["sku", "title", "price", "stock", "min_price", "max_price", "map_price"]
    print_table(rows, columns, title=f"{len(rows)} products")


def _report(report: ImportReport, what: str) -> None:
    for warning in report.warnings:
        err_console.print(styled(("warning:", "yellow"), f" {report.path}: {warning}"))
    for error in report.rejected:
        err_console.print(styled(("rejected:", "red"), f" {report.path}: {error}"))
    console.print(
        f"{report.path}: imported {report.imported} {what}, rejected {len(report.rejected)}"
    )
    if report.rejected:
        raise RowsRejectedError(len(report.rejected), report.path)


def register(app: typer.Typer) -> None:
    app.add_typer(catalog_app, name="catalog")
    app.add_typer(listings_app, name="listings")
