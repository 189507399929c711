"""Hostile and cut feeds: refused whole with the database exactly as before; big per-item
cost moves held for review; downloads bounded in time and size. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from repricer.cli import app
from repricer.config import Settings
from repricer.feeds import SyncResult, sync_feeds
from repricer.loopback import LoopbackServer, Response
from tests.feeds.conftest import stored_offers, supplier_toml
from tests.support.dbdump import dump_tables

MakeSettings = Callable[[str], Settings]
GOOD = "sku;cost;stock\nP-047;120.00;3\nP-048;310.00;4\nP-049;845.50;5\n"


def _sync(settings: Settings, engine: Engine) -> SyncResult:
    (result,) = sync_feeds(settings, engine, "acme")
    return result


@pytest.fixture
def feed(tmp_path: Path, settings_from: MakeSettings) -> tuple[Path, Settings]:
    path = tmp_path / "price.csv"
    path.write_text(GOOD, encoding="utf-8")
    return path, settings_from(supplier_toml("acme", str(path), "csv"))


HOSTILE = {
    "cut number, no final newline": (
        GOOD[:-6],
        "price.csv:4",
        "line break: the last record (P-049) looks cut",
    ),
    "cut inside a quote": (GOOD[:-15] + 'P-049;"845.50;5\n', "price.csv", "malformed CSV"),
    "cut before the last cells": (GOOD[:-13] + "\n", "price.csv:4", "the last row has 1 cells"),
    "foreign currency in the cell": (
        GOOD.replace("310.00", "12,50 EUR"),
        "line 3: sku P-048",
        "in EUR, the supplier's currency is RUB",
    ),
    "more decimals than kopecks": (
        GOOD.replace("310.00", "0.001"),
        "line 3: sku P-048",
        "ambiguous",
    ),
    "10.125 is not rounded": (GOOD.replace("310.00", "10.125"), "line 3: sku P-048", "ambiguous"),
    "a barcode in the cost column": (
        GOOD.replace("310.00", "4600000000000"),
        "line 3: sku P-048",
        "above the limit",
    ),
    "a number too big for any column": (
        GOOD.replace("310.00", "9" * 40),
        "line 3: sku P-048",
        "above the limit",
    ),
    "a stock count too big": (
        GOOD.replace(";4\n", ";99999999999999\n"),
        "line 3: sku P-048",
        "stock",
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE), ids=list(HOSTILE))
def test_cut_or_hostile_feed_leaves_the_database_as_before(
    case: str, feed: tuple[Path, Settings], any_engine: Engine
) -> None:
    path, settings = feed
    assert _sync(settings, any_engine).status == "ok"
    before = dump_tables(any_engine, skip=("feed_syncs",))
    text, where, why = HOSTILE[case]
    path.write_text(text, encoding="utf-8")

    result = _sync(settings, any_engine)

    assert result.status == "rejected", result
    assert where in (result.error or "") and why in (result.error or ""), result.error
    assert "price.csv" in (result.error or "")  # names the file
    assert dump_tables(any_engine, skip=("feed_syncs",)) == before


def test_cut_yml_is_rejected_whole(
    tmp_path: Path, settings_from: MakeSettings, engine: Engine
) -> None:
    path = tmp_path / "feed.yml"
    offers = "".join(
        f'<offer id="P-{i}"><price>{100 + i}.00</price><currencyId>RUB</currencyId></offer>'
        for i in range(5)
    )
    whole = f"<yml_catalog><shop><offers>{offers}</offers></shop></yml_catalog>\n"
    path.write_text(whole, encoding="utf-8")
    settings = settings_from(supplier_toml("acme", str(path)))
    assert _sync(settings, engine).status == "ok"
    before = dump_tables(engine, skip=("feed_syncs",))
    path.write_text(whole[: whole.index("<price>104") + 9], encoding="utf-8")
    result = _sync(settings, engine)
    assert result.status == "rejected" and "not well-formed" in (result.error or "")
    assert dump_tables(engine, skip=("feed_syncs",)) == before


def test_big_cost_moves_are_held_for_review_not_applied(
    feed: tuple[Path, Settings], any_engine: Engine, write_config: Callable[[str], Path]
) -> None:
    path, settings = feed
    filler = "".join(f"F-{i};100.00;1\n" for i in range(30))  # 2 of 33 move: under the guard
    path.write_text(GOOD + filler, encoding="utf-8")
    _sync(settings, any_engine)
    moved = GOOD.replace("845.50;5", "8.00;6").replace("120.00", "130.00")
    path.write_text(moved.replace("310.00", "700.00") + filler, encoding="utf-8")
    result = _sync(settings, any_engine)

    assert (result.status, result.held) == ("ok", 2), result
    offers = stored_offers(any_engine, "acme")
    assert (offers["P-049"]["cost"], offers["P-049"]["held_cost"]) == (84550, 800)
    assert offers["P-049"]["stock_qty"] == 6  # the rest of the row is applied
    assert (offers["P-048"]["cost"], offers["P-048"]["held_cost"]) == (31000, 70000)  # x2.26
    assert (offers["P-047"]["cost"], offers["P-047"]["held_cost"]) == (13000, None)
    assert any("P-049: cost 845,50" in w and "held for review" in w for w in result.warnings)

    config = write_config(supplier_toml("acme", str(path), "csv"))
    if any_engine.dialect.name != "sqlite":
        return  # the CLI reads the config's (SQLite) database
    runner = CliRunner()
    listed = runner.invoke(app, ["--config", str(config), "feeds", "held", "--json"])
    assert listed.exit_code == 0, listed.output
    held = {row["key"]: row for row in json.loads(listed.output)}
    assert set(held) == {"P-049", "P-048"}
    assert (held["P-048"]["cost"], held["P-048"]["held_cost"]) == (31000, 70000)
    assert held["P-048"]["currency"] == "RUB"  # JSON money: minor units and the currency
    shown = runner.invoke(app, ["--config", str(config), "feeds", "held"])
    assert "700\u00a0₽" in shown.output  # P-048's held cost, with its currency
    accepted = runner.invoke(
        app, ["--config", str(config), "feeds", "held", "-s", "acme", "--accept", "P-049"]
    )
    assert accepted.exit_code == 0 and "1 held cost(s) accepted" in accepted.output
    offers = stored_offers(any_engine, "acme")
    assert (offers["P-049"]["cost"], offers["P-049"]["held_cost"]) == (800, None)
    assert offers["P-048"]["held_cost"] == 70000

    path.write_text(GOOD.replace("310.00", "320.00") + filler, encoding="utf-8")  # in bound
    _sync(settings, any_engine)
    offers = stored_offers(any_engine, "acme")
    assert (offers["P-048"]["cost"], offers["P-048"]["held_cost"]) == (32000, None)


def test_negative_stock_is_out_of_stock(feed: tuple[Path, Settings], engine: Engine) -> None:
    path, settings = feed
    path.write_text(GOOD.replace(";5\n", ";-5\n"), encoding="utf-8")
    assert _sync(settings, engine).status == "ok"
    offer = stored_offers(engine, "acme")["P-049"]
    assert (offer["stock_qty"], offer["available"]) == (0, False)


@pytest.fixture
def hostile_server() -> Iterator[str]:
    """``/drip``: one byte every 0.2 s, forever; ``/flood``: 64 KiB chunks, forever."""
    stopping = threading.Event()

    def forever(chunk: bytes, pause: float) -> Iterator[bytes]:
        while not stopping.is_set():
            yield chunk
            stopping.wait(pause)

    with LoopbackServer() as server:
        headers = {"Content-Type": "text/csv"}
        server.route("/drip", lambda _r: Response(200, headers=headers, stream=forever(b"x", 0.2)))
        flood = b"x" * 65536
        server.route("/flood", lambda _r: Response(200, headers=headers, stream=forever(flood, 0)))
        yield server.url("")
        stopping.set()


@pytest.mark.parametrize(
    ("path", "why"),
    [("/drip", "longer than download_deadline"), ("/flood", "larger than max_download")],
)
def test_dripping_and_flooding_servers_are_cut_off(
    path: str,
    why: str,
    hostile_server: str,
    settings_from: MakeSettings,
    any_engine: Engine,
    tmp_path: Path,
) -> None:
    settings = settings_from(
        supplier_toml(
            "acme",
            hostile_server + path,
            "csv",
            timeout="1s",
            download_deadline="2s",
            max_download="1MB",
            retries=2,
        )
    )
    before = dump_tables(any_engine, skip=("feed_syncs", "suppliers"))
    started = time.monotonic()
    result = _sync(settings, any_engine)
    took = time.monotonic() - started
    assert result.status == "failed" and why in (result.error or ""), result
    assert took < 60, took  # 2 s deadline; generous for a loaded machine
    assert dump_tables(any_engine, skip=("feed_syncs", "suppliers")) == before
