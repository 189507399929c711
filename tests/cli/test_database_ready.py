"""Every command that uses the database, on a database that is missing, empty (never
migrated) or unreachable: exit 1 with one line saying what to run, never a traceback,
and a missing SQLite file is not created by accident."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import typer
from sqlalchemy import text
from typer.testing import CliRunner

from repricer.cli import app
from repricer.db import make_engine

runner = CliRunner()

# Arguments each command needs to get as far as the database.
NEEDS_DB: dict[str, list[str]] = {
    "crawl": [],
    "reprice": [],
    "push": [],
    "report": [],
    "history": ["SKU-1"],
    "catalog import": ["catalog.csv"],
    "catalog list": [],
    "listings import": ["listings.csv"],
    "feeds sync": [],
    "feeds status": [],
    "review list": [],
    "review approve": ["1"],
    "review reject": ["1"],
    "review expire": [],
    "storefront check": [],
    "stock push": [],
    "feeds held": [],
    "alerts check": [],
    "stock sync": [],
    "listings discover": [],
    "listings list": [],
    "listings review list": [],
    "listings review accept": ["1"],
    "listings review reject": ["1"],
    "schedule run": [],
    "schedule list": [],
    "db prune": [],
}
# Commands that create or migrate the database themselves, or need none.
OWN_DATABASE = {"init", "demo", "doctor", "serve", "db upgrade", "db downgrade", "db current"}


def _leaves(command: object, prefix: str = "") -> list[str]:
    subs = getattr(command, "commands", None)
    if not subs:
        return [prefix.strip()]
    return [leaf for name, sub in subs.items() for leaf in _leaves(sub, f"{prefix} {name}")]


def test_every_command_is_classified() -> None:
    leaves = set(_leaves(typer.main.get_command(app)))
    assert leaves == set(NEEDS_DB) | OWN_DATABASE, "classify the new command in this test"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _invoke(tmp_path: Path, url: str, command: str) -> tuple[int, str, BaseException | None]:
    for name in ("catalog.csv", "listings.csv"):
        (tmp_path / name).write_text("sku;title\nSKU-1;x\n", encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    args = ["--config", str(config), *command.split(), *NEEDS_DB[command]]
    result = runner.invoke(app, args)
    return result.exit_code, result.output, result.exception


def _check(code: int, output: str, exc: BaseException | None, expected: str) -> None:
    assert code == 1, output
    assert exc is None or isinstance(exc, SystemExit), repr(exc)
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) <= 2 and expected in lines[-1], output  # schedule run may say hello first


@pytest.mark.parametrize("command", sorted(NEEDS_DB))
def test_missing_sqlite_file(tmp_path: Path, command: str) -> None:
    db = tmp_path / "nowhere.db"
    _check(*_invoke(tmp_path, f"sqlite:///{db}", command), "run `repricer db upgrade`")
    assert not db.exists()


@pytest.mark.parametrize("command", sorted(NEEDS_DB))
def test_unmigrated_sqlite_database(tmp_path: Path, command: str) -> None:
    db = tmp_path / "empty.db"
    engine = make_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE something_else (x INTEGER)"))
    engine.dispose()
    _check(
        *_invoke(tmp_path, f"sqlite:///{db}", command), "no tables yet: run `repricer db upgrade`"
    )


@pytest.mark.parametrize("command", sorted(NEEDS_DB))
def test_unreachable_postgresql(tmp_path: Path, command: str) -> None:
    url = f"postgresql://nobody@127.0.0.1:{_closed_port()}/repricer"
    _check(*_invoke(tmp_path, url, command), "cannot reach the database")


def test_old_schema_revision(tmp_path: Path) -> None:
    from repricer.db.migrate import upgrade

    db = tmp_path / "old.db"
    upgrade(f"sqlite:///{db}", "0001")
    code, output, exc = _invoke(tmp_path, f"sqlite:///{db}", "review list")
    _check(code, output, exc, "is at schema revision 0001")
    assert "run `repricer db upgrade`" in output


def test_migrated_database_passes(tmp_path: Path) -> None:
    from repricer.db.migrate import upgrade

    db = tmp_path / "ok.db"
    upgrade(f"sqlite:///{db}")
    code, output, _ = _invoke(tmp_path, f"sqlite:///{db}", "review list")
    assert code == 0, output
