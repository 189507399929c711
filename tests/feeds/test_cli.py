"""``repricer feeds sync`` and ``repricer feeds status`` through the Typer app."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from repricer.cli import app
from tests.feeds.conftest import FEEDS, supplier_toml

runner = CliRunner()


def test_sync_then_status(write_config: Callable[[str], Path], engine: object) -> None:
    config = write_config(
        supplier_toml("alpha", str(FEEDS / "offers-utf8.yml"))
        + supplier_toml("gamma", str(FEEDS / "price-cp1251.csv"), "csv")
    )
    result = runner.invoke(app, ["--config", str(config), "feeds", "sync"])
    assert result.exit_code == 0, result.output
    assert "alpha" in result.output and "gamma" in result.output and "ok" in result.output

    result = runner.invoke(
        app, ["--config", str(config), "feeds", "sync", "--supplier", "gamma", "--json"]
    )
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert (row["supplier"], row["status"], row["seen"], row["changed"], row["skipped"]) == (
        "gamma",
        "ok",
        3,
        0,
        3,
    )

    result = runner.invoke(app, ["--config", str(config), "feeds", "status", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["supplier"]: r for r in json.loads(result.stdout)}
    assert rows["alpha"]["status"] == "ok" and rows["alpha"]["offers"] == 4
    assert rows["alpha"]["due"] is False and rows["alpha"]["age_s"] >= 0

    result = runner.invoke(app, ["--config", str(config), "feeds", "status"])
    assert result.exit_code == 0 and "Supplier feeds" in result.output


def test_failed_sync_exits_1(
    write_config: Callable[[str], Path], engine: object, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.yml"
    empty.write_text("<yml_catalog><shop><offers/></shop></yml_catalog>")
    config = write_config(
        supplier_toml("alpha", str(FEEDS / "offers-utf8.yml")) + supplier_toml("broken", str(empty))
    )
    result = runner.invoke(app, ["--config", str(config), "feeds", "sync"])
    assert result.exit_code == 1
    assert "supplier 'broken': 1 sync(s) failed or rejected" in result.output
    assert "empty feed" in result.output

    result = runner.invoke(app, ["--config", str(config), "feeds", "status", "--json"])
    rows = {r["supplier"]: r for r in json.loads(result.stdout)}
    assert rows["broken"]["status"] == "rejected" and rows["broken"]["due"] is True


def test_unknown_supplier_and_never_synced(
    write_config: Callable[[str], Path], engine: object
) -> None:
    config = write_config(supplier_toml("alpha", str(FEEDS / "offers-utf8.yml")))
    result = runner.invoke(app, ["--config", str(config), "feeds", "sync", "-s", "nope"])
    assert result.exit_code == 1 and "'nope': not in the config" in result.output
    result = runner.invoke(app, ["--config", str(config), "feeds", "status", "--json"])
    assert json.loads(result.stdout)[0]["status"] == "never"
