"""``repricer init`` and ``repricer db …``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import typer

from repricer.cli._common import JsonOption, console, print_json, print_table, state
from repricer.db import migrate
from repricer.durations_percentages import parse_duration
from repricer.workspace import init_workspace

db_app = typer.Typer(
    help="Database schema (upgrade, downgrade, current revision) and retention (prune).",
    no_args_is_help=True,
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


def _duration(value: str | None) -> timedelta | None:
    if value is None:
        return None
    try:
        delta = parse_duration(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--older-than'") from None
    if delta < timedelta(hours=1):
        raise typer.BadParameter(
            f"{value!r} is under an hour; use e.g. 36h, 90d or 12w", param_hint="'--older-than'"
        )
    return delta


@db_app.command("prune")
def prune_command(
    ctx: typer.Context,
    older_than: str | None = typer.Option(
        None,
        "--older-than",
        help="Delete history older than this, e.g. 90d, 12w, 36h (default: retention.older_than).",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Count what would be deleted per table; delete nothing."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Delete old runs, finished changes, job and crawl runs; thin old observations to
    the latest per listing plus daily min/max/last (observation_daily)."""
    from repricer.retention import prune

    app_state = state(ctx)
    delta = _duration(older_than) or app_state.settings.retention.older_than
    result = prune(app_state.engine, delta, dry_run=dry_run)
    if as_json:
        print_json(
            {
                "cutoff": result.cutoff.isoformat(),
                "dry_run": result.dry_run,
                "deleted": result.deleted,
                "daily_rows": result.daily_rows,
            }
        )
        return
    rows = [{"table": table, "rows": count} for table, count in result.deleted.items()]
    rows.append({"table": "observation_daily (written)", "rows": result.daily_rows})
    title = "would delete (dry run)" if dry_run else "deleted"
    print_table(
        rows, ["table", "rows"], title=f"{title}: older than {result.cutoff:%Y-%m-%d %H:%M} UTC"
    )
    console.print(result.describe())


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(db_app, name="db")
