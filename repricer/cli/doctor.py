"""CLI: ``repricer doctor`` — check this machine's part of the setup."""

from __future__ import annotations

from dataclasses import asdict

import typer

from repricer.cli._common import JsonOption, print_table, state
from repricer.cluster.doctor import check_dispatcher, check_node
from repricer.exceptions import RepricerError


def doctor(
    ctx: typer.Context,
    node: bool = typer.Option(
        False, "--node", help="Check what a Scrapyd node needs, on the node (no config file)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Check config, database and Scrapyd nodes (or, with --node, this node); exit 1 on a failure."""
    checks = check_node() if node else check_dispatcher(state(ctx).settings)
    print_table([asdict(c) for c in checks], ("check", "status", "detail"), as_json=as_json)
    failed = [c.check for c in checks if c.status == "fail"]
    if failed:
        raise RepricerError(f"{len(failed)} check(s) failed: {', '.join(failed)}")


def register(app: typer.Typer) -> None:
    """Add ``repricer doctor`` to the app."""
    app.command("doctor")(doctor)
