"""The ``repricer`` command line: thin commands over library functions.

This module is the only place that turns :class:`RepricerError` into exit code 1 and a
one-line message; usage errors exit 2 (Click's convention).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from sqlalchemy.exc import SQLAlchemyError
from typer.core import TyperGroup

from repricer.cli import (
    catalog,
    crawl,
    db,
    demo,
    doctor,
    feeds,
    matching,
    pricing,
    push,
    report,
    review,
    schedule,
    serve,
    stock,
)
from repricer.cli._common import AppState, err_console, styled
from repricer.db.ready import describe_db_error
from repricer.exceptions import RepricerError


class _Group(TyperGroup):
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except RepricerError as exc:
            for line in str(exc).splitlines() or [""]:
                err_console.print(styled(("error:", "red"), " ", line), highlight=False)
            raise typer.Exit(1) from None
        except SQLAlchemyError as exc:  # the database failed mid-command: one line, exit 1
            message = f"database error: {describe_db_error(exc)}"
            err_console.print(styled(("error:", "red"), " ", message), highlight=False)
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
    db, catalog, matching, feeds, crawl, pricing, review, push, stock, report, schedule, demo,
    doctor, serve,
):  # fmt: skip
    _module.register(app)


def main() -> None:
    app()
