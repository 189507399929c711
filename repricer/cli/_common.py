"""What every command shares: the lazily loaded settings, engine, console and output.

All output goes through :class:`SafeConsole` (text) or :func:`print_json`: user data
(SKUs, titles, supplier names, messages) is never read as Rich markup, and every string
passes :func:`repricer.redact.redact` so no secret reaches the terminal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.text import Text
from sqlalchemy import Engine

from repricer.cli.tables import print_rows
from repricer.config import Settings, load_settings
from repricer.db.engine import make_engine
from repricer.db.ready import check_database
from repricer.redact import redact, redact_value


class SafeConsole(Console):
    """A Rich console whose ``print`` takes plain strings literally (never as markup)
    and redacted. Style with :func:`styled` or ``style=``, not with ``[red]`` tags."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        kwargs.pop("markup", None)
        safe = [Text(redact(o)) if isinstance(o, str) else o for o in objects]
        super().print(*safe, **kwargs)


def styled(*parts: str | tuple[str, str]) -> Text:
    """One line from plain parts and ``(text, style)`` parts, all taken literally:
    ``styled(("error:", "red"), " ", message)``."""
    return Text.assemble(
        *((redact(p[0]), p[1]) if isinstance(p, tuple) else redact(p) for p in parts)
    )


def print_json(payload: Any) -> None:
    """Print ``payload`` as one JSON document, every string in it redacted."""
    text = json.dumps(redact_value(payload), default=lambda o: redact(str(o)), ensure_ascii=False)
    typer.echo(text)


console = SafeConsole(soft_wrap=True)  # messages stay one line, whatever the width
err_console = SafeConsole(stderr=True, soft_wrap=True)


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
        """The database engine, checked on first use: a missing, unreachable or
        unmigrated database raises DatabaseError saying what to run."""
        if self._engine is None:
            engine = make_engine(self.settings.database.url, echo=self.settings.database.echo)
            try:
                check_database(engine)
            except BaseException:
                engine.dispose()
                raise
            self._engine = engine
        return self._engine

    def require_database(self) -> None:
        """For commands that open their own connections: check the database now."""
        assert self.engine is not None


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
        print_json([{c: r.get(c) for c in columns} for r in rows])
        return
    given = formatters or {}
    safe = {c: _redacting(given.get(c, _cell)) for c in columns}
    print_rows(console, rows, columns, title=title, formatters=safe)


def _redacting(formatter: Callable[[Any], str]) -> Callable[[Any], str]:
    return lambda value: redact(formatter(value))


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


JsonOption = typer.Option(False, "--json", help="Print JSON instead of a table.")
