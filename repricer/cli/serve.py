"""``repricer serve``: the web workspace; ``repricer alerts check``: evaluate and send alerts."""

from __future__ import annotations

import getpass

import typer

from repricer.cli._common import JsonOption, console, print_table, state

alerts_app = typer.Typer(help="Alerts: evaluate the conditions and send what is new.")


def serve_command(
    ctx: typer.Context,
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on (loopback by default)."
    ),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    hash_password: bool = typer.Option(
        False,
        "--hash-password",
        help="Prompt for a password, print its hash for REPRICER_WEB_PASSWORD_HASH, and exit.",
    ),
) -> None:
    """Serve the workspace: review queue, product history, health, runs and reports."""
    from repricer.web.security import hash_password as make_hash

    if hash_password:
        password = getpass.getpass("password: ")
        if not password or password != getpass.getpass("again: "):
            raise typer.BadParameter("the two passwords are empty or differ")
        typer.echo(make_hash(password))
        return
    from repricer.web import serve

    serve(
        state(ctx).settings,
        host=host,
        port=port,
        announce=lambda text: console.print(text, highlight=False),
    )


@alerts_app.command("check")
def check_command(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="Evaluate and show, send nothing."),
    as_json: bool = JsonOption,
) -> None:
    """Evaluate every alert condition now and send the new and cleared ones."""
    from repricer.alerts import check_alerts

    app_state = state(ctx)
    report = check_alerts(app_state.settings, app_state.engine, send=not dry_run)
    rows = [a.as_row() for a in report.active]
    print_table(
        rows,
        ["destination", "condition", "key", "raised_at", "notified", "message"],
        title=str(report),
        as_json=as_json,
    )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("serve")(serve_command)
    app.add_typer(alerts_app, name="alerts")
