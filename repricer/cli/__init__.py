"""The ``repricer`` command line: thin commands over library functions.

This module is the only place that turns :class:`RepricerError` into exit code 1 and a
one-line message; usage errors exit 2 (Click's convention).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from repricer.cli import (
    catalog,
    crawl,
    db,
    demo,
    doctor,
    feeds,
    pricing,
    push,
    report,
    review,
    schedule,
    stock,
)
from repricer.cli._common import AppState, err_console
from repricer.exceptions import RepricerError


class _Group(TyperGroup):
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except RepricerError as exc:
            err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_Group,
    help="Competitor price monitoring and repricing for online shops.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None,
        "--config",
        "-c",
        help="Config file (default: $REPRICER_CONFIG, else ./config.toml).",
        envvar="REPRICER_CONFIG",
    ),
) -> None:
    ctx.obj = AppState(config_path=config)


for _module in (
    db, catalog, feeds, crawl, pricing, review, push, stock, report, schedule, demo, doctor
):  # fmt: skip
    _module.register(app)


def main() -> None:
    app()
