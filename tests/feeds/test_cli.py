"""``repricer feeds sync`` and ``repricer feeds status`` through the Typer app."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner

from repricer.cli import app
from repricer.db.engine import session_scope
from repricer.db.models import Product
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
        "unchanged",
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


def test_unmatched_key_hint_then_accept_changes_once(
    write_config: Callable[[str], Path], engine: Engine
) -> None:
    """Offer ids are not our SKUs: the sync says which key it tried, what the offers carry and
    which key would match; with that key the first sync is refused (every offer stored under
    the old key goes missing) until it is accepted once."""
    with session_scope(engine) as session:
        session.add_all(
            [Product(sku="BSH-1", title="Дрель"), Product(sku="MKT-2", title="Отвёртка")]
        )
    feed = str(FEEDS / "offers-utf8.yml")
    config = write_config(supplier_toml("alpha", feed))
    first = runner.invoke(app, ["--config", str(config), "feeds", "sync"])
    assert first.exit_code == 0, first.output
    hint = " ".join(first.output.split())
    assert 'none of 4 offer(s) matched a product by key = "sku" (offer id = our SKU)' in hint
    assert 'offer id "A-1"' in hint and 'vendorCode "BSH-1"' in hint and 'our SKU "' in hint
    assert 'key = "vendorCode" matches 2 of 4' in hint

    config.write_text(supplier_toml("alpha", feed, key="vendorCode"), encoding="utf-8")
    refused = runner.invoke(app, ["--config", str(config), "feeds", "sync"])
    assert refused.exit_code == 1
    text = " ".join(refused.output.split())
    assert "are missing from the feed" in text and "applying it would store 3 offer(s)" in text
    assert "(2 matching our products)" in text
    assert "repricer feeds sync --supplier alpha --accept-changes" in text

    usage = runner.invoke(app, ["--config", str(config), "feeds", "sync", "--accept-changes"])
    assert usage.exit_code == 2  # one feed at a time

    args = ["--config", str(config), "feeds", "sync", "--supplier", "alpha", "--accept-changes"]
    accepted = runner.invoke(app, [*args, "--json"])
    assert accepted.exit_code == 0, accepted.output
    (row,) = json.loads(accepted.stdout)
    assert (row["status"], row["seen"], row["unmapped"]) == ("ok", 3, 1)
    again = runner.invoke(app, ["--config", str(config), "feeds", "sync"])
    assert again.exit_code == 0, again.output  # accepted once; the next sync is ordinary
    assert "hint:" not in again.output
