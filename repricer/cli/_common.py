"""What every command shares: the lazily loaded settings, engine, console and output."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from sqlalchemy import Engine

from repricer.cli.tables import print_rows
from repricer.config import Settings, load_settings
from repricer.db.engine import make_engine

console = Console(soft_wrap=True)  # messages stay one line, whatever the width
err_console = Console(stderr=True, soft_wrap=True)


@dataclass
class AppState:
    """Carried in ``ctx.obj``; settings and engine are built on first use, so commands
    like ``init`` run without a config file."""

    config_path: Path | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_path)
        return self._settings

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database.url, echo=self.settings.database.echo)
        return self._engine


def state(ctx: typer.Context) -> AppState:
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState()
    return root.obj


def print_table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    *,
    title: str | None = None,
    as_json: bool = False,
    formatters: dict[str, Callable[[Any], str]] | None = None,
) -> None:
    """Print rows as a table fitted to the terminal (see :mod:`repricer.cli.tables`), or
    as a JSON array with ``--json`` (full values)."""
    if as_json:
        typer.echo(
            json.dumps(
                [{c: r.get(c) for c in columns} for r in rows], default=str, ensure_ascii=False
            )
        )
        return
    print_rows(console, rows, columns, title=title, formatters=formatters)


JsonOption = typer.Option(False, "--json", help="Print JSON instead of a table.")
