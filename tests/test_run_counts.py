"""One run, the same counts everywhere: ``repricer reprice`` and its ``--json``, the run
report in HTML, XLSX and CSV, ``repricer report`` and the workspace's runs page."""

from __future__ import annotations

import asyncio
import csv
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import openpyxl
import pytest
from sqlalchemy import Engine
from starlette.applications import Starlette
from typer.testing import CliRunner

from repricer.cli import app
from repricer.config import load_settings
from repricer.reports import build_report, write_csv, write_xlsx
from repricer.reports.html import render_report
from repricer.run_counts import RunCounts, load_run_counts, run_counts
from repricer.web.app import create_app
from tests.pricing.conftest import Shop

runner = CliRunner()

RULES = """
[defaults]
min_margin = "10%"
rounding = "ends_in_9"
max_change = "20%"
max_change_action = "approve"
we_out_of_stock = "skip"
stale_after = "48h"

[[rule]]
name = "default"
strategy = "beat_lowest"
beat_by = "1%"
"""
# worked out by hand from the shop below
EXPECTED = RunCounts(products=5, up=1, down=2, unchanged=1, proposed=2, needs_approval=1, skipped=1)


@pytest.fixture
def config(engine: Engine, write_config: Callable[[str], Path], tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "default.toml").write_text(RULES, encoding="utf-8")
    shop = Shop(engine, now=datetime.now(UTC))  # the command prices at the current time
    shop.priced("UP-1", 50000, {"alpha": 110000}, price=100000)  # -> 1 089 ₽
    shop.priced("DOWN-1", 50000, {"alpha": 140000}, price=150000)  # -> 1 385,99 ₽ range
    shop.priced("WAIT-1", 50000, {"alpha": 90000}, price=150000)  # -40%: needs approval
    shop.priced("SAME-1", 50000, {}, price=120000)  # no competitor: keep
    gone = shop.product("GONE-1", price=130000)  # we are out of stock: skip
    shop.offer(gone, 50000, stock_qty=0)
    shop.observation(shop.listing(gone, "alpha"), 100000, availability="in_stock")
    return write_config(
        '[pricing]\nrules_dir = "rules"\nmax_changed_share = "100%"\nmax_median_change = "100%"\n'
    )


def _card_values(page: str) -> dict[str, str]:
    """Summary cards of the HTML report: label -> shown value."""
    found = re.findall(
        r'<div class="label">([^<]+)</div><div class="value[^"]*">([^<]*)</div>', page
    )
    return dict(found)


def test_one_run_reads_the_same_everywhere(engine: Engine, config: Path, tmp_path: Path) -> None:
    applied = runner.invoke(app, ["--config", str(config), "reprice", "--apply", "--json"])
    assert applied.exit_code == 0, applied.output
    payload = json.loads(applied.output.strip().splitlines()[-1])
    run_id = payload["run_id"]
    with engine.connect() as conn:
        counts = load_run_counts(conn, run_id)
    assert counts == EXPECTED
    assert run_counts(payload["summary"]) == counts

    report = build_report(engine, run_id)
    assert report.summary.counts == counts
    cards = _card_values(render_report(report))
    shown = (cards["Prices up"], cards["Prices down"], cards["Unchanged"])
    assert shown == (str(counts.up), str(counts.down), str(counts.unchanged))
    assert (cards["Needing approval"], cards["Skipped"]) == ("1", "1")

    sheet = openpyxl.load_workbook(write_xlsx(report, tmp_path / "run.xlsx"))["Summary"]
    values = {row[0].value: row[1].value for row in sheet.iter_rows(min_row=2)}
    assert values["Products in run"] == counts.products
    assert (values["Prices up"], values["Prices down"]) == (counts.up, counts.down)
    assert (values["Unchanged"], values["Skipped"]) == (counts.unchanged, counts.skipped)
    assert values["Needing approval"] == counts.needs_approval

    with write_csv(report, tmp_path / "run.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    changes = [float(r["change"]) for r in rows if r["change"]]
    assert sum(c > 0 for c in changes) == counts.up and sum(c < 0 for c in changes) == counts.down
    assert sum(r["status"] == "skipped" for r in rows) == counts.skipped
    # review moved the changes' statuses on (approved, queued); each is still one change
    assert sum(r["status"] != "skipped" for r in rows) == counts.changes

    written = runner.invoke(
        app,
        ["--config", str(config), "report", "--run", str(run_id), "-o", str(tmp_path / "r.html")],
    )
    assert written.exit_code == 0, written.output
    assert f"run {run_id} (applied): {counts.describe()}" in written.output

    page = asyncio.run(_get(create_app(load_settings(config), engine), "/runs"))
    assert page.status_code == 200
    assert f"<td>{counts.describe()}</td>" in page.text

    again = runner.invoke(app, ["--config", str(config), "reprice", "--apply"])
    assert again.exit_code == 0, again.output
    assert f"{EXPECTED.describe()};" in again.output  # same catalog, same decisions


async def _get(workspace: Starlette, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=workspace)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        return await client.get(path)


def test_reprice_json_money_is_minor_units_with_currency(config: Path) -> None:
    result = runner.invoke(app, ["--config", str(config), "reprice", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output.strip().splitlines()[-1])
    summary = payload["summary"]
    assert summary["currency"] == "RUB" and isinstance(summary["margin_impact"], int)
    changes = {c["sku"]: c for c in payload["changes"]}
    assert set(changes) == {"UP-1", "DOWN-1", "WAIT-1"}
    up = changes["UP-1"]
    assert (up["old_price"], up["new_price"], up["currency"]) == (100000, 108900, "RUB")
    assert all(isinstance(c["new_price"], int) and c["currency"] == "RUB" for c in changes.values())
    second = runner.invoke(app, ["--config", str(config), "reprice", "--json"])
    diff = json.loads(second.output.strip().splitlines()[-1])["diff"]
    assert diff == []  # the same decisions again

    human = runner.invoke(app, ["--config", str(config), "reprice"])
    assert human.exit_code == 0, human.output
    assert "1\u00a0089\u00a0₽" in human.output  # UP-1's new price, with its currency
    assert re.search(r"margin impact −?[\d\u00a0]+\u00a0₽ per unit", human.output)
