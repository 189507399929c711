"""User data in CLI output is text, never Rich markup (repricer.cli._common.SafeConsole)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner

from repricer.cli import app

runner = CliRunner()
SKU = "P-1[/x]"
TITLE = "Чайник [bold red]1,7 л[/] [link=http://evil.example]x[/link]"


def test_markup_in_user_data_prints_literally(
    engine: Engine, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    config = write_config("")
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(f"sku;title;price\n{SKU};{TITLE};1299\nBAD[/y];x;abc\n", encoding="utf-8")
    imported = runner.invoke(app, ["--config", str(config), "catalog", "import", str(catalog)])
    assert imported.exit_code == 1, imported.output  # the bad row is reported, not a crash
    assert "BAD[/y]" in imported.output

    listed = runner.invoke(
        app, ["--config", str(config), "catalog", "list"], env={"COLUMNS": "300"}
    )
    assert listed.exit_code == 0, listed.output
    assert SKU in listed.output and "[bold red]1,7 л[/]" in listed.output

    missing = runner.invoke(app, ["--config", str(config), "feeds", "sync", "-s", "[/x]"])
    assert missing.exit_code == 1
    assert "supplier '[/x]'" in missing.output
