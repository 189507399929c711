"""``repricer reprice``: dry run by default, --apply, --sku, --rules, --json, errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select
from typer.testing import CliRunner

from repricer.cli import app
from repricer.db import session_scope
from repricer.db.models import PriceChange, RepricingRun
from tests.pricing.conftest import RULES, Shop

runner = CliRunner()


def _config(write_config: Callable[[str], Path], tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "default.toml").write_text(RULES, encoding="utf-8")
    return write_config(
        '[pricing]\nrules_dir = "rules"\nmax_changed_share = "100%"\nmax_median_change = "100%"\n'
    )


def _shop(engine: Engine) -> None:
    shop = Shop(engine, now=datetime.now(UTC))  # the command prices at the current time
    shop.priced("A-1", 108000, {"citilink": 134900})
    shop.priced("B-2", 50000, {"dns": 90000})
    shop.priced("C-3", 50000, {}, price=149900)


def test_dry_run_summary_table_and_diff(
    engine: Engine, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    config = _config(write_config, tmp_path)
    _shop(engine)
    result = runner.invoke(app, ["--config", str(config), "reprice"])
    assert result.exit_code == 0, result.output
    assert "3 products, 0 up, 2 down, 1 unchanged, 0 need approval, 0 skipped" in result.output
    assert "Top changes" in result.output and "A-1" in result.output
    assert "no previous run to compare with" in result.output
    again = runner.invoke(app, ["--config", str(config), "reprice", "--sku", "A-1"])
    assert again.exit_code == 0, again.output
    assert "1 products" in again.output and "0 product(s) decided differently" in again.output
    rules = tmp_path / "rules" / "default.toml"
    rules.write_text(rules.read_text(encoding="utf-8").replace('"1%"', '"5%"'), encoding="utf-8")
    changed = runner.invoke(app, ["--config", str(config), "reprice"])
    assert "vs run 2: 3 product(s) decided differently" in changed.output  # run 2 had only A-1
    with session_scope(engine) as session:
        statuses = [r.status for r in session.scalars(select(RepricingRun))]
    assert statuses == ["dry_run"] * 3


def test_apply_json_auto_approves(
    engine: Engine, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    config = _config(write_config, tmp_path)
    _shop(engine)
    result = runner.invoke(app, ["--config", str(config), "reprice", "--apply", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output.strip().splitlines()[-1])
    assert payload["applied"] is True and payload["summary"]["down"] == 2
    assert {c["sku"] for c in payload["changes"]} == {"A-1", "B-2"}
    assert all(c["explanation"] for c in payload["changes"])  # rendered for the rows shown
    with session_scope(engine) as session:
        run = session.get(RepricingRun, payload["run_id"])
        assert run is not None and run.status == "applied"
        statuses = {c.sku: c.status for c in session.scalars(select(PriceChange))}
    assert "C-3" not in statuses  # unchanged: counted in the summary, not stored
    assert payload["auto_approved"] == sum(1 for s in statuses.values() if s == "approved")


def test_errors_exit_1_with_one_line(
    engine: Engine, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    config = _config(write_config, tmp_path)
    empty = runner.invoke(app, ["--config", str(config), "reprice"])
    assert empty.exit_code == 1 and "catalog is empty" in empty.output
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "r.toml").write_text('[[rule]]\nname = "x"\nstrategy = "cheapest"\n', encoding="utf-8")
    result = runner.invoke(app, ["--config", str(config), "reprice", "--rules", str(bad)])
    assert result.exit_code == 1
    assert "r.toml: rule 'x': strategy:" in result.output
    usage = runner.invoke(app, ["--config", str(config), "reprice", "--bogus"])
    assert usage.exit_code == 2
