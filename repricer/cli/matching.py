"""``repricer listings discover|review|list``: find, review and watch competitor listings."""

from __future__ import annotations

from dataclasses import asdict

import typer

from repricer.cli._common import JsonOption, console, print_table, state
from repricer.cli.catalog import listings_app
from repricer.exceptions import RepricerError

review_app = typer.Typer(
    help="Review proposed matches: list, accept, reject.", no_args_is_help=True
)
STATUS_HELP = "review (default), accepted or rejected."
REVIEW_COLUMNS = ("id", "sku", "competitor", "score", "method", "evidence", "url")


def discover(
    ctx: typer.Context,
    competitor: list[str] = typer.Option(
        [], "--competitor", help="Only this competitor (repeatable; default: all)."
    ),
    limit: int | None = typer.Option(
        None, "--limit", "-n", min=1, help="At most this many product pages per competitor."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Find competitor product pages (sitemaps, search) and propose listings."""
    from repricer.matching.discovery import run_discovery

    app_state = state(ctx)
    for name in competitor:  # a typo is named before anything else is checked
        app_state.settings.competitor(name)
    app_state.require_database()
    results = run_discovery(app_state.settings, competitors=competitor or None, limit=limit)
    rows = [asdict(r) for r in results]
    print_table(rows, ["competitor", "candidates", "accepted", "review"], as_json=as_json,
                title="discovery")  # fmt: skip


@review_app.command("list")
def review_list(
    ctx: typer.Context,
    status: str = typer.Option("review", "--status", help=STATUS_HELP),
    competitor: str | None = typer.Option(None, "--competitor", help="Only this competitor."),
    sku: str | None = typer.Option(None, "--sku", help="Only this SKU."),
    min_score: float | None = typer.Option(None, "--min-score", help="Only scores >= this."),
    limit: int | None = typer.Option(None, "--limit", "-n", help="Show at most this many."),
    as_json: bool = JsonOption,
) -> None:
    """List proposed matches with their score and evidence."""
    from repricer.matching.proposals import list_proposals

    rows = list_proposals(state(ctx).engine, status=status, competitor=competitor, sku=sku,
                          min_score=min_score, limit=limit)  # fmt: skip
    columns = [*REVIEW_COLUMNS, "ours", "theirs", "reason"] if as_json else list(REVIEW_COLUMNS)
    print_table(rows, columns, as_json=as_json, title=f"{len(rows)} {status} listings",
                formatters={"evidence": "; ".join, "score": lambda s: f"{s:.2f}" if s else ""})  # fmt: skip


def _decide(ctx: typer.Context, ids: list[int], decision: str) -> None:
    from repricer.matching.proposals import decide_proposals

    moved = decide_proposals(state(ctx).engine, ids, decision)
    console.print(f"{decision} {len(moved)} listing(s)")
    missed = sorted(set(ids) - set(moved))
    if missed:
        raise RepricerError(f"not in review: listing id(s) {', '.join(map(str, missed))}")


@review_app.command("accept")
def review_accept(
    ctx: typer.Context, ids: list[int] = typer.Argument(..., help="Listing ids.")
) -> None:
    """Accept proposed matches: their prices feed repricing from now on."""
    _decide(ctx, ids, "accepted")


@review_app.command("reject")
def review_reject(
    ctx: typer.Context, ids: list[int] = typer.Argument(..., help="Listing ids.")
) -> None:
    """Reject proposed matches: they are never proposed again."""
    _decide(ctx, ids, "rejected")


def list_command(
    ctx: typer.Context,
    problems: bool = typer.Option(
        False, "--problems", help="Only listings whose last crawl was not ok or not accepted."
    ),
    competitor: str | None = typer.Option(None, "--competitor", help="Only this competitor."),
    as_json: bool = JsonOption,
) -> None:
    """List every listing with its last status (ok, not found, blocked, mismatch, anomaly)."""
    from repricer.matching.health import list_listings

    rows = list_listings(state(ctx).engine, problems=problems, competitor=competitor)
    columns = ["sku", "competitor", "last_status", "match", "checked_at", "reason", "url"]
    print_table(rows, columns, as_json=as_json, title=f"{len(rows)} listings")


def register(app: typer.Typer) -> None:
    """Add ``discover``, ``review`` and ``list`` to ``repricer listings``."""
    listings_app.command("discover")(discover)
    listings_app.command("list")(list_command)
    listings_app.add_typer(review_app, name="review")
