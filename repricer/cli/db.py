"""``repricer init`` and ``repricer db …``."""

from __future__ import annotations

from pathlib import Path

import typer

from repricer.cli._common import console, state
from repricer.db import migrate
from repricer.workspace import init_workspace

db_app = typer.Typer(
    help="Database schema: upgrade, downgrade, current revision.", no_args_is_help=True
)


def init(
    directory: Path = typer.Argument(Path("."), help="Folder to set up (created if missing)."),
    force: bool = typer.Option(False, "--force", help="Overwrite config.toml and rule files."),
) -> None:
    """Create config.toml, rules/ and a migrated database in DIRECTORY."""
    result = init_workspace(directory, force=force)
    verb = "wrote" if result.config_written else "kept existing"
    console.print(f"{verb} {result.config}")
    for rule in result.rules:
        console.print(f"rules: {rule}")
    console.print(f"database {result.database_url} at revision {result.revision}")


@db_app.command("upgrade")
def upgrade(
    ctx: typer.Context,
    revision: str = typer.Argument("head", help="Target revision."),
) -> None:
    """Migrate the database up to REVISION (default: the latest)."""
    url = state(ctx).settings.database.url
    console.print(f"database at revision {migrate.upgrade(url, revision)}")


@db_app.command("downgrade")
def downgrade(
    ctx: typer.Context,
    revision: str = typer.Argument("-1", help="Target revision ('base' removes every table)."),
) -> None:
    """Migrate the database down to REVISION (default: one step)."""
    url = state(ctx).settings.database.url
    console.print(f"database at revision {migrate.downgrade(url, revision) or 'base (empty)'}")


@db_app.command("current")
def current(ctx: typer.Context) -> None:
    """Show the database's schema revision and the latest one."""
    url = state(ctx).settings.database.url
    console.print(
        f"current {migrate.current_revision(url) or 'none'}, head {migrate.head_revision(url)}"
    )


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(db_app, name="db")
