"""``repricer push`` and ``repricer storefront check`` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from repricer.cli import app
from repricer.loopback import LoopbackServer
from tests.storefront.fakes import FakeWooCommerce
from tests.storefront.seed import add_changes, add_products, add_run, statuses

runner = CliRunner()


@pytest.fixture
def file_config(write_config, tmp_path: Path) -> Path:
    return write_config(
        f'[storefront]\nkind = "file"\n[storefront.file]\npath = "{tmp_path / "shop"}"\n'
    )


def test_push_dry_run_then_push(engine: Engine, file_config: Path) -> None:
    add_products(engine, ["A", "B"], min_price=9000)
    add_changes(engine, add_run(engine), {"A": 12000, "B": 100})
    dry = runner.invoke(app, ["--config", str(file_config), "push", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would push 1, held 1" in dry.output and "below min_price" in dry.output
    assert set(statuses(engine).values()) == {"approved"}
    done = runner.invoke(app, ["--config", str(file_config), "push", "--json"])
    assert done.exit_code == 0, done.output
    [row] = json.loads(done.output)
    assert (row["pushed"], row["held"], row["confirmed"], row["mismatch"]) == (1, 1, 1, 0)


def test_push_unknown_run_is_one_line_error(engine: Engine, file_config: Path) -> None:
    result = runner.invoke(app, ["--config", str(file_config), "push", "--run", "42"])
    assert result.exit_code == 1 and "no repricing run with id 42" in result.output


def test_storefront_check(
    engine: Engine, file_config: Path, write_config, http_server: LoopbackServer, monkeypatch
) -> None:
    ok = runner.invoke(app, ["--config", str(file_config), "storefront", "check"])
    assert ok.exit_code == 0 and "is writable" in ok.output
    FakeWooCommerce(http_server, "ck_a", "cs_b")
    woo = write_config(
        f'[storefront]\nkind = "woocommerce"\nretries = 0\n[storefront.woocommerce]\nurl = "{http_server.url("")}"\n'
    )
    missing = runner.invoke(app, ["--config", str(woo), "storefront", "check"])
    assert missing.exit_code == 1 and "REPRICER_WOOCOMMERCE_KEY" in missing.output
    monkeypatch.setenv("REPRICER_WOOCOMMERCE_KEY", "ck_a")
    monkeypatch.setenv("REPRICER_WOOCOMMERCE_SECRET", "cs_wrong")
    bad = runner.invoke(app, ["--config", str(woo), "storefront", "check"])
    assert bad.exit_code == 1 and "HTTP 401" in bad.output and "cs_wrong" not in bad.output
    monkeypatch.setenv("REPRICER_WOOCOMMERCE_SECRET", "cs_b")
    good = runner.invoke(app, ["--config", str(woo), "storefront", "check"])
    assert good.exit_code == 0 and "credentials accepted" in good.output


def test_push_that_stops_exits_1(
    engine: Engine, write_config, http_server: LoopbackServer, monkeypatch
) -> None:
    FakeWooCommerce(http_server, "ck_a", "cs_b")
    add_products(engine, ["A"])
    add_changes(engine, add_run(engine), {"A": 12000})
    monkeypatch.setenv("REPRICER_WOOCOMMERCE_KEY", "ck_a")
    monkeypatch.setenv("REPRICER_WOOCOMMERCE_SECRET", "cs_nope")
    woo = write_config(
        f'[storefront]\nkind = "woocommerce"\n[storefront.woocommerce]\nurl = "{http_server.url("")}"\n'
    )
    result = runner.invoke(app, ["--config", str(woo), "push"])
    assert result.exit_code == 1 and "push stopped" in result.output and "HTTP 401" in result.output
    assert statuses(engine) == {"A": "failed"}  # retried by the next push
