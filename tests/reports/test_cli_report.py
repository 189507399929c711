"""``repricer report`` and ``repricer history``: files written, exit codes, messages."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from repricer.cli import app

runner = CliRunner()


@pytest.fixture
def config(write_config: Callable[[str], Path], engine: Engine, scene: int) -> str:
    return str(write_config(""))


@pytest.mark.parametrize("fmt", ["html", "xlsx", "csv"])
def test_report_command_writes_each_format(
    config: str, scene: int, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / f"r.{fmt}"
    result = runner.invoke(
        app, ["--config", config, "report", "--run", "latest", "--format", fmt, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert f"run {scene} (applied): 20 products, 6 up, 9 down, 4 unchanged" in result.output
    assert out.stat().st_size > 1000
    if fmt == "xlsx":
        assert openpyxl.load_workbook(out).sheetnames == ["Summary", "Changes"]


def test_report_default_path_and_errors(
    config: str, scene: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["--config", config, "report", "--run", str(scene)]).exit_code == 0
    assert (tmp_path / f"report-run{scene}.html").exists()
    missing = runner.invoke(app, ["--config", config, "report", "--run", "999"])
    assert missing.exit_code == 1 and "repricing run 999: no such run" in missing.output
    assert runner.invoke(app, ["--config", config, "report", "--run", "last-week"]).exit_code == 2
    assert runner.invoke(app, ["--config", config, "report", "--format", "pdf"]).exit_code == 2


def test_history_command(config: str, tmp_path: Path) -> None:
    table = runner.invoke(app, ["--config", config, "history", "K-1", "--json"])
    assert table.exit_code == 0, table.output
    points = json.loads(table.output)
    assert {p["series"] for p in points} >= {"our price", "alpha-shop", "cost"}
    assert all(isinstance(p["price"], int) and p["currency"] == "RUB" for p in points)
    out = tmp_path / "k1.html"
    page = runner.invoke(
        app, ["--config", config, "history", "K-1", "--format", "html", "--out", str(out)]
    )
    assert page.exit_code == 0 and "<svg" in out.read_text(encoding="utf-8")
    unknown = runner.invoke(app, ["--config", config, "history", "NOPE"])
    assert unknown.exit_code == 1 and "SKU 'NOPE'" in unknown.output
