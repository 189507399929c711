"""Stock-only supplier sources, and the guards: a refused feed changes no storefront stock."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from repricer.cli import app
from repricer.config import Settings
from repricer.db.models import StockSync, SupplierOffer
from repricer.feeds import sync_feeds
from repricer.loopback import LoopbackServer, Request, Response
from repricer.stock import push_stock, sync_stock_feeds
from tests.storefront.fakes import FakeWooCommerce
from tests.storefront.seed import add_products

KEY, SECRET = "ck_feed_stock", "cs_feed_stock"
FULL = "sku;cost;stock\n" + "".join(f"S{i};100,00;5\n" for i in range(10))


class StockSource:
    """A stock file with an ETag; counts full and conditional (304) answers."""

    def __init__(self, server: LoopbackServer, body: str) -> None:
        self.body, self.version, self.full, self.not_modified = body, 1, 0, 0
        server.route("/stock.csv", self.handle)

    def publish(self, body: str) -> None:
        self.body, self.version = body, self.version + 1

    def handle(self, req: Request) -> Response:
        tag = f'"v{self.version}"'
        if req.headers.get("if-none-match") == tag:
            self.not_modified += 1
            return Response(304, b"", {"ETag": tag})
        self.full += 1
        return Response(200, self.body.encode("cp1251"), {"ETag": tag})


@pytest.fixture
def settings(settings_from, http_server, tmp_path, monkeypatch) -> Settings:
    (tmp_path / "full.csv").write_text(FULL, encoding="utf-8")
    monkeypatch.setenv("REPRICER_WOOCOMMERCE_KEY", KEY)
    monkeypatch.setenv("REPRICER_WOOCOMMERCE_SECRET", SECRET)
    return settings_from(
        f"""
        [[suppliers]]
        name = "acme"
        path = "full.csv"
        format = "csv"
        delimiter = ";"
        stock_url = "{http_server.url("/stock.csv")}"
        stock_every = "2m"
        max_missing_share = "30%"

        [storefront]
        kind = "woocommerce"
        [storefront.woocommerce]
        url = "{http_server.url("")}"
        """
    )


@pytest.fixture
def shop(http_server: LoopbackServer, engine: Engine) -> FakeWooCommerce:
    shop = FakeWooCommerce(http_server, KEY, SECRET)
    add_products(engine, [f"S{i}" for i in range(10)])
    for i in range(10):
        shop.add(100 + i, f"S{i}")
    return shop


def offers(engine: Engine) -> dict[str, tuple[int | None, bool]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(SupplierOffer.key, SupplierOffer.stock_qty, SupplierOffer.available)
        )
        return {key: (qty, avail) for key, qty, avail in rows}


def test_stock_source_updates_stock_only_and_polls_cheaply(
    settings, engine, http_server, shop
) -> None:
    StockSource(http_server, "sku;stock\nS1;0\n")
    [early] = sync_stock_feeds(settings, engine)
    assert early.status == "rejected" and "full feed must be synced first" in (early.error or "")
    [full] = sync_feeds(settings, engine)
    assert full.ok
    source = StockSource(http_server, "Артикул;Остаток\nS1;0\nS2;12\nS3;нет\nNEW;4\n;3\n")
    [result] = sync_stock_feeds(settings, engine)
    assert (result.status, result.seen, result.changed, result.stockouts) == ("ok", 4, 3, 2)
    assert (result.unknown, result.skipped) == (1, 1)
    stock = offers(engine)
    assert stock["S1"] == (0, False) and stock["S2"] == (12, True) and stock["S3"] == (0, False)
    assert stock["S4"] == (5, True) and "NEW" not in stock  # absent: kept; unknown: not added
    [again] = sync_stock_feeds(settings, engine)
    assert again.status == "not_modified" and (source.full, source.not_modified) == (1, 1)
    summary = push_stock(settings, engine)
    assert summary.stockouts == 2 and shop.items[101]["stock_status"] == "outofstock"
    with engine.connect() as conn:
        assert conn.execute(select(StockSync.etag).order_by(StockSync.id.desc())).scalar() == '"v1"'


def test_a_refused_stock_source_changes_nothing(settings, engine, http_server, shop) -> None:
    sync_feeds(settings, engine)
    push_stock(settings, engine)
    before = {i: dict(item) for i, item in shop.items.items()}
    source = StockSource(http_server, "sku;stock\n" + "".join(f"S{i};0\n" for i in range(5)))
    [result] = sync_stock_feeds(settings, engine)
    assert result.status == "rejected" and "5 of 10 available items" in (result.error or "")
    assert all(v == (5, True) for v in offers(engine).values())
    assert push_stock(settings, engine).candidates == 0 and shop.items == before
    source.publish("code;price\nX;1\n")
    [wrong] = sync_stock_feeds(settings, engine)
    assert wrong.status == "rejected" and "no column for sku" in (wrong.error or "")


def test_a_rejected_full_feed_leaves_storefront_stock_unchanged(
    settings, engine, shop, tmp_path
) -> None:
    sync_feeds(settings, engine)
    assert push_stock(settings, engine).pushed == 10
    before = {i: dict(item) for i, item in shop.items.items()}
    # 6 of 10 items vanish and the rest run out: above max_missing_share, so refused whole
    (tmp_path / "full.csv").write_text(
        "sku;cost;stock\nS0;100,00;0\nS1;100,00;0\nS2;100,00;0\nS3;100,00;0\n", encoding="utf-8"
    )
    [result] = sync_feeds(settings, engine)
    assert result.status == "rejected"
    summary = push_stock(settings, engine)
    assert summary.candidates == 0 and shop.items == before
    assert set(shop.stock_received.values()) == {1}


def test_cli(settings, engine, http_server, shop) -> None:
    sync_feeds(settings, engine)
    StockSource(http_server, "sku;stock\nS1;0\n")
    runner = CliRunner()
    config = str(settings.config_path)
    out = runner.invoke(app, ["--config", config, "stock", "sync", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)[0]["stockouts"] == 1
    out = runner.invoke(app, ["--config", config, "stock", "push", "--dry-run"])
    assert out.exit_code == 0 and "would push 10 (1 out of stock)" in out.output
    out = runner.invoke(app, ["--config", config, "stock", "push"])
    assert out.exit_code == 0 and "pushed 10 (1 out of stock)" in out.output, out.output
    out = runner.invoke(app, ["--config", config, "stock", "sync", "--supplier", "nobody"])
    assert out.exit_code == 1 and "has no stock_url/stock_path" in out.output


def offer_rows(engine: Engine) -> list[tuple[object, ...]]:
    """Every stored offer column that a stock sync could touch."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                SupplierOffer.key,
                SupplierOffer.stock_qty,
                SupplierOffer.available,
                SupplierOffer.cost,
                SupplierOffer.updated_at,
            ).order_by(SupplierOffer.key)
        )
        return [tuple(row) for row in rows]


REFUSED = [
    pytest.param(
        "sku;stock\nS1;7\nS2;12\nS3;4", ("stock.csv:4", "S3", "looks cut"), id="cut-last-line"
    ),
    pytest.param(
        'sku;stock\nS1;7\nS2;"12\nS3;4\n', ("stock.csv:4", "malformed CSV"), id="cut-open-quote"
    ),
    pytest.param("sku;stock\nS1;7\nS2\n", ("stock.csv:3", "looks cut"), id="cut-short-row"),
    pytest.param(
        "sku;stock\nS1;7\nS2;99999999999999999999\nS3;0\n",
        ("stock.csv: line 3", "sku S2", "above the limit"),
        id="count-beyond-bounds",
    ),
    pytest.param(
        "sku;stock\nS0;abc\nS1;1e9\nS2;0x10\nS3;DROP TABLE offers\n",
        ("empty stock source", "4 skipped"),
        id="garbage-only",
    ),
]


@pytest.mark.parametrize(("body", "named"), REFUSED)
def test_a_cut_or_hostile_stock_file_is_refused_and_changes_nothing(
    settings, engine, http_server, body, named
) -> None:
    [full] = sync_feeds(settings, engine)
    assert full.ok
    before = offer_rows(engine)
    http_server.route("/stock.csv", lambda _req: Response(200, body.encode("cp1251")))
    [result] = sync_stock_feeds(settings, engine)
    assert result.status == "rejected", result
    assert all(part in (result.error or "") for part in named), result.error
    assert offer_rows(engine) == before
    with engine.connect() as conn:
        last = select(StockSync.status, StockSync.etag).order_by(StockSync.id.desc())
        assert tuple(conn.execute(last).first() or ()) == ("rejected", None)


def test_garbage_counts_are_skipped_by_line_and_never_read_as_out_of_stock(
    settings, engine, http_server
) -> None:
    sync_feeds(settings, engine)
    body = "sku;stock\nS1;abc\nS2;0x10\nS3;3\nS4;нет\n"
    source = StockSource(http_server, body)
    [result] = sync_stock_feeds(settings, engine)
    assert (result.status, result.changed, result.skipped) == ("ok", 2, 2)
    assert result.row_errors == [
        "line 2: sku S1: stock 'abc' is not a count",
        "line 3: sku S2: stock '0x10' is not a count",
    ]
    stock = offers(engine)
    assert stock["S1"] == (5, True) and stock["S2"] == (5, True)  # kept, not zeroed
    assert stock["S3"] == (3, True) and stock["S4"] == (0, False)
    source.publish(body)
    out = CliRunner().invoke(app, ["--config", str(settings.config_path), "stock", "sync"])
    assert out.exit_code == 0 and "acme: skipped line 2: sku S1" in out.output, out.output


def test_a_stock_sync_left_running_by_a_dead_process_is_closed(
    settings, engine, http_server
) -> None:
    sync_feeds(settings, engine)
    StockSource(http_server, "sku;stock\nS1;3\n")
    with engine.begin() as conn:
        supplier_id = conn.execute(select(SupplierOffer.supplier_id)).scalars().first()
        conn.execute(StockSync.__table__.insert().values(supplier_id=supplier_id, status="running"))
    [result] = sync_stock_feeds(settings, engine)
    assert result.ok
    with engine.connect() as conn:
        statuses = conn.execute(select(StockSync.status).order_by(StockSync.id)).scalars().all()
    assert statuses == ["interrupted", "ok"]


def test_feeds_status_shows_the_stock_only_source_beside_the_full_feed(
    settings, engine, http_server
) -> None:
    config = ["--config", str(settings.config_path)]
    out = CliRunner().invoke(app, [*config, "feeds", "status", "--json"])
    assert out.exit_code == 0, out.output
    assert [(r["kind"], r["status"], r["due"]) for r in json.loads(out.output)] == [
        ("feed", "never", True),
        ("stock", "never", True),
    ]
    sync_feeds(settings, engine)
    StockSource(http_server, "sku;stock\nS1;0\nS2;abc\nNEW;3\n")
    sync_stock_feeds(settings, engine)
    out = CliRunner().invoke(app, [*config, "feeds", "status", "--json"])
    feed, stock = json.loads(out.output)
    assert (feed["supplier"], feed["kind"], feed["status"], feed["seen"]) == (
        "acme",
        "feed",
        "ok",
        10,
    )
    assert (stock["supplier"], stock["kind"], stock["status"]) == ("acme", "stock", "ok")
    assert (stock["seen"], stock["changed"], stock["skipped"], stock["unknown"]) == (2, 1, 1, 1)
    assert stock["due"] is False and stock["missing"] is None and stock["offers"] == 10
    out = CliRunner().invoke(app, [*config, "feeds", "status"])
    assert out.exit_code == 0 and "stock" in out.output and "kind" in out.output, out.output
