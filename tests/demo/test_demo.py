"""End to end: ``repricer demo`` on the loopback shops and feeds, with the exact prices
the demo rules give (worked out by hand in the comments), then scheduler cycles."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from repricer.cli import app
from repricer.config import load_settings
from repricer.db import make_engine, session_scope
from repricer.db.models import JobRun, PriceChange, RepricingRun
from repricer.demo import run_demo
from repricer.pricing import reprice
from repricer.states import PUSHED

# Demo rules: beat the lowest in-stock competitor by 1%, floor = cost x 1.12, max change
# 20%, prices end in 9 roubles (nearest; never under the floor: then rounded up).
FIRST_PASS = {
    # lowest 1 349 (jsonld-shop; micro-shop 1 399, broken-shop 404) -1% = 1 335.51 -> 1 339
    "DEMO-001": ("1339.00", "12", "true"),
    # micro-shop 2 100 -1% = 2 079 < floor 2 000 x 1.12 = 2 240 -> held at the floor, ending 9 upwards: 2 249
    "DEMO-002": ("2249.00", "5", "true"),
    # we were at 1 989, far under plain-shop 2 290: raised back to 2 267.10 -> 2 269
    "DEMO-003": ("2269.00", "7", "true"),
    # only broken-shop lists it, and broken-shop is unhealthy: its 990 is ignored, 1 889 kept
    "DEMO-004": ("1889.00", "9", "true"),
    # js-shop (price rendered by JavaScript) 2 590 -1% = 2 564.10 -> 2 569
    "DEMO-005": ("2569.00", "4", "true"),
    # no supplier has it: kept, and the storefront must not offer it
    "DEMO-006": ("3289.00", "0", "false"),
    # cost 950 from beta (alpha's 900 is out of stock); lowest micro-shop 1 450 -1% = 1 435.50 -> 1 439
    "DEMO-007": ("1439.00", "6", "true"),
    # no competitor at all: kept
    "DEMO-008": ("989.00", "20", "true"),
}


def storefront(directory: Path) -> dict[str, tuple[str, str, str]]:
    with (directory / "storefront" / "prices.csv").open(encoding="utf-8", newline="") as fh:
        return {r["sku"]: (r["price"], r["stock"], r["available"]) for r in csv.DictReader(fh)}


def changes(directory: Path, run_id: int) -> dict[str, PriceChange]:
    engine = make_engine(load_settings(directory / "config.toml").database.url)
    try:
        with session_scope(engine) as session:
            rows = session.scalars(select(PriceChange).where(PriceChange.run_id == run_id))
            return {c.sku: c for c in rows}
    finally:
        engine.dispose()


@pytest.mark.slow
def test_demo_command_prices_the_demo_catalog_exactly(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--dir", str(directory)])
    assert result.exit_code == 0, result.output
    assert storefront(directory) == FIRST_PASS
    decided = changes(directory, 1)
    for sku in ("DEMO-001", "DEMO-002", "DEMO-003", "DEMO-005", "DEMO-007"):
        assert decided[sku].status == "confirmed", (
            sku,
            decided[sku].status,
            decided[sku].explanation,
        )
    for sku in ("DEMO-004", "DEMO-006", "DEMO-008"):  # unchanged ones are not stored
        if sku in decided:
            assert decided[sku].new_price in (None, decided[sku].old_price), sku
            assert decided[sku].status not in ("approved", *PUSHED), sku
    assert "floor" in decided["DEMO-002"].guards or "floor" in decided["DEMO-002"].explanation
    settings = load_settings(directory / "config.toml")
    engine = make_engine(settings.database.url)
    try:
        again = reprice(settings, engine).decisions.set_index("sku")  # a dry run shows all
    finally:
        engine.dispose()
    assert pd.isna(again.loc["DEMO-004", "reference_competitor"])
    assert (
        "no_competitors" in again.loc["DEMO-004", "flags"]
    )  # the unhealthy shop's price was not used
    html = directory / "reports" / "run-1.html"
    assert str(html) in result.output.replace("\n", "")
    assert "DEMO-002" in html.read_text(encoding="utf-8")
    assert load_workbook(directory / "reports" / "run-1.xlsx", read_only=True).sheetnames


@pytest.mark.slow
def test_demo_cycles_follow_the_market_under_the_scheduler(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    result = run_demo(directory, cycles=1, speed=120)
    shown = storefront(directory)
    # cycle 1: plain-shop's blender 2 290 -> 2 267 (-1%): -1% = 2 244.33 -> 2 249
    assert shown["DEMO-003"] == ("2249.00", "7", "true")
    # grinder: plain-shop 1 490 -> 1 445, micro-shop 1 450 -> 1 479: 1 445 -1% = 1 430.55 -> 1 429
    assert shown["DEMO-007"] == ("1429.00", "6", "true")
    # supplier alpha ran out of the hair dryer: no longer offered
    assert shown["DEMO-004"] == ("1889.00", "0", "false")
    assert shown["DEMO-001"] == FIRST_PASS["DEMO-001"]
    engine = make_engine(load_settings(directory / "config.toml").database.url)
    try:
        with session_scope(engine) as session:
            runs = session.scalars(select(RepricingRun.id)).all()
            jobs = {(r.job_id, r.status) for r in session.scalars(select(JobRun))}
    finally:
        engine.dispose()
    # the report shows the latest run that moved a price
    assert 1 < result.run_id <= max(runs)
    moved = {r["sku"]: r["new_price"] for r in result.rows if r["new_price"] != r["old_price"]}
    assert moved.get("DEMO-003", 224900) == 224900 and moved
    assert {("feeds:alpha", "ok"), ("crawl:plain-shop", "ok"), ("push", "ok")} <= jobs


def test_demo_refuses_a_folder_that_is_not_a_demo_workspace(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[database]\nurl = "sqlite:///repricer.db"\n')
    (tmp_path / "repricer.db").write_bytes(b"our real shop")
    result = CliRunner().invoke(app, ["demo", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "not a demo workspace" in result.output
    assert (tmp_path / "repricer.db").read_bytes() == b"our real shop"
