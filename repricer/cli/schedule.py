"""CLI commands: ``repricer schedule run|list``."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import typer

from repricer.cli._common import JsonOption, console, print_table, state
from repricer.redact import install_log_redaction

schedule_app = typer.Typer(
    help="Run the scheduler (feeds, crawls, repricing, push) or list its jobs."
)


@schedule_app.command("run")
def run(
    ctx: typer.Context,
    speed: float = typer.Option(
        1.0, "--speed", min=0.001, help="Divide every interval by this (60: 15 min -> 15 s)."
    ),
    standby: bool = typer.Option(
        True,
        "--standby/--no-standby",
        help="If another scheduler runs on this database, wait to take over (default) "
        "or exit 1 naming it.",
    ),
) -> None:
    """Run the scheduler until SIGTERM or Ctrl-C; the running job finishes, then exit 0.
    One scheduler acts per database; another one started meanwhile is a standby."""
    from repricer.scheduler import run_scheduler

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("apscheduler", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    install_log_redaction()
    st = state(ctx)
    st.require_database()
    console.print(
        f"scheduler running on {st.settings.database.url} (Ctrl-C to stop)", highlight=False
    )
    run_scheduler(st.settings, speed=speed, standby=standby)


@schedule_app.command("list")
def list_(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """Show each job's interval, next run time and last result."""
    from repricer.scheduler import list_jobs

    st = state(ctx)
    rows = list_jobs(st.settings, st.engine)
    print_table(
        rows,
        ["job", "every", "next_run", "last_status", "last_finished", "last_detail"],
        title="Scheduled jobs",
        as_json=as_json,
        formatters={"next_run": _time, "last_finished": _time},
    )


def _time(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S %Z") if isinstance(value, datetime) else ""


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.add_typer(schedule_app, name="schedule")
