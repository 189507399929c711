"""CLI command: ``repricer demo``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from repricer.cli._common import console, print_table
from repricer.money import format_money
from repricer.redact import install_log_redaction


def demo(
    directory: Path = typer.Option(
        Path("demo"), "--dir", help="Workspace folder (created; earlier demo outputs replaced)."
    ),
    cycles: int = typer.Option(
        0, "--cycles", min=0, help="Scheduler cycles to run after the first pass."
    ),
    speed: float = typer.Option(
        60.0, "--speed", min=0.001, help="Time compression for --cycles (60: 15 min -> 15 s)."
    ),
) -> None:
    """Run the whole product on loopback demo shops and feeds: sync, crawl, reprice,
    approve, push to a file storefront, and write HTML and XLSX reports."""
    from repricer.demo import run_demo

    if cycles:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
        for noisy in ("apscheduler", "alembic", "httpx"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        install_log_redaction()
    result = run_demo(
        directory.resolve(),
        cycles=cycles,
        speed=speed,
        echo=lambda line: console.print(line, highlight=False, markup=False),
    )
    money: dict[str, Callable[[Any], str]] = {"old_price": _rub, "new_price": _rub}
    print_table(
        result.rows,
        ["sku", "title", "old_price", "new_price", "status"],
        title=f"Repricing run {result.run_id}",
        formatters=money,
    )
    for row in result.rows:
        console.print(f"{row['sku']}: {row['explanation']}", highlight=False, markup=False)
    for path in result.storefront:
        console.print(f"storefront file: {path}", highlight=False)
    for path in result.reports:
        console.print(f"report: {path}", highlight=False)


def _rub(value: Any) -> str:
    return format_money(value, "RUB") if isinstance(value, int) else ""


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("demo")(demo)
