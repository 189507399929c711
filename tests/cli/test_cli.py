"""The command line: exit codes, every command documented in --help and in the manual."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from repricer.cli import app

ROOT = Path(__file__).parents[2]
# The README and the hand-written docs pages; the generated CLI reference does not count
# (it lists every command by construction).
MANUAL = "\n".join(
    path.read_text(encoding="utf-8")
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    if path.parent.name != "reference"
)
runner = CliRunner()


def _commands(command: Any, prefix: str = "repricer") -> Iterator[tuple[str, Any]]:
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        path = f"{prefix} {name}"
        yield path, sub
        yield from _commands(sub, path)


COMMANDS = list(_commands(typer.main.get_command(app)))


def test_the_cli_has_the_documented_commands() -> None:
    names = {path for path, _ in COMMANDS}
    assert {
        "repricer init",
        "repricer db upgrade",
        "repricer catalog import",
        "repricer listings import",
        "repricer catalog list",
    } <= names


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_command_has_help_and_is_described_in_the_manual(path: str, command: Any) -> None:
    assert (command.help or command.short_help or "").strip(), f"{path} has no help text"
    result = runner.invoke(app, [*path.split()[1:], "--help"])
    assert result.exit_code == 0, result.output
    if not getattr(command, "commands", None):  # leaf commands are each described by hand
        assert f"`{path}" in MANUAL, f"{path} is described neither in README.md nor in docs/"


def test_usage_error_exits_2() -> None:
    assert runner.invoke(app, ["catalog", "import"]).exit_code == 2
    assert runner.invoke(app, ["no-such-command"]).exit_code == 2


def test_config_error_exits_1_with_one_line(write_config: Callable[[str], Path]) -> None:
    path = write_config("[pricing]\ncurrencyy = 1\n")
    result = runner.invoke(app, ["--config", str(path), "catalog", "list"])
    assert result.exit_code == 1
    assert f"{path}: pricing.currencyy: unknown key" in result.output


def test_init_then_import_then_list(tmp_path: Path) -> None:
    workdir = tmp_path / "shop"
    result = runner.invoke(app, ["init", str(workdir)])
    assert result.exit_code == 0, result.output
    assert (workdir / "config.toml").exists() and (workdir / "rules" / "default.toml").exists()
    config = ["--config", str(workdir / "config.toml")]
    sample = Path(__file__).parents[2] / "examples" / "catalog.csv"
    result = runner.invoke(app, [*config, "catalog", "import", str(sample)])
    assert result.exit_code == 0, result.output
    assert "imported 5 products, rejected 0" in result.output
    result = runner.invoke(app, [*config, "catalog", "list", "--json"])
    assert result.exit_code == 0
    assert '"sku": "KT-100"' in result.output
    assert runner.invoke(app, ["init", str(workdir)]).exit_code == 0  # running it twice is safe


def test_import_with_rejected_rows_exits_1(tmp_path: Path) -> None:
    runner.invoke(app, ["init", str(tmp_path)])
    bad = tmp_path / "bad.csv"
    bad.write_text("sku;price\nOK-1;100\nBAD-1;abc\n")
    result = runner.invoke(
        app, ["--config", str(tmp_path / "config.toml"), "catalog", "import", str(bad)]
    )
    assert result.exit_code == 1
    assert "line 3 (sku BAD-1): price 'abc' is not a number" in result.output
    assert "imported 1 products, rejected 1" in result.output
